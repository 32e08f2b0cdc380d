//! Helpers the `kiln` binary's test files share: where to run it, a scratch directory per
//! test, and what a success and a failure must look like.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace root; the binary runs there, so model paths are relative to it.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh, empty scratch directory for one test (one tree per test file).
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("kiln-cli-{}", env!("CARGO_CRATE_NAME")))
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `kiln args..` in the workspace root.
pub fn kiln<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null())
        .output()
        .expect("cannot run kiln")
}

/// Lossy UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A successful run: exit 0 and nothing on stderr. Returns stdout.
pub fn expect_success(out: &Output) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(stderr.is_empty(), "stderr:\n{stderr}");
    stdout
}

/// A failed run: exit 1, nothing on stdout, and stderr is exactly one printable line
/// `error: ...` containing every needle and no trace of a panic. Returns that line.
pub fn expect_error(out: &Output, needles: &[&str]) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let context = format!(
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr:?}",
        out.status
    );
    assert_eq!(out.status.code(), Some(1), "{context}");
    assert!(stdout.is_empty(), "{context}");
    for bad in ["panicked", "RUST_BACKTRACE", "backtrace"] {
        assert!(!stderr.contains(bad), "{bad:?} in stderr: {context}");
    }
    assert!(stderr.ends_with('\n'), "{context}");
    let line = stderr.trim_end_matches('\n');
    assert!(!line.contains('\n'), "more than one line: {context}");
    assert!(line.starts_with("error: "), "{context}");
    assert!(line.len() > "error: ".len() + 10, "{context}");
    assert!(
        !line.chars().any(char::is_control),
        "a control character: {context}"
    );
    for needle in needles {
        assert!(line.contains(needle), "{needle:?} not in: {line}");
    }
    line.to_string()
}
