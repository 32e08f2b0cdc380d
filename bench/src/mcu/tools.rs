//! The tools of `../shared/tools/mcu` that the bench drives: `build.sh` (and the compiler
//! errors it prints), `run.sh` (and the figures it prints), and `llvm-nm` for symbol sizes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::Measure;

/// Paths of the measurement tools and the facts every cache key includes.
pub struct Tools {
    /// `<shared>/tools/mcu`.
    pub dir: PathBuf,
    /// The firmware template, `<shared>/tools/mcu/template`.
    pub template: PathBuf,
    /// `rustc -vV` of the compiler build.sh uses, plus build.sh itself.
    pub fingerprint: String,
}

impl Tools {
    /// Finds the tools under `shared` and fingerprints the compiler build.sh uses; the error
    /// says what is missing.
    pub fn find(shared: &Path) -> Result<Tools, String> {
        let tools_dir = shared.join("tools/mcu");
        for f in ["build.sh", "run.sh", "size.sh", "template/Cargo.toml"] {
            if !tools_dir.join(f).is_file() {
                return Err(format!(
                    "{} is missing: kiln-bench needs ../shared/tools/mcu next to the repository",
                    tools_dir.join(f).display()
                ));
            }
        }
        let rustc = Command::new("/usr/bin/rustc")
            .arg("-vV")
            .output()
            .map_err(|e| {
                format!("cannot run /usr/bin/rustc ({e}): run ../shared/tools/mcu/setup.sh first")
            })?;
        let build_sh = std::fs::read(tools_dir.join("build.sh")).map_err(|e| e.to_string())?;
        Ok(Tools {
            template: tools_dir.join("template"),
            fingerprint: format!(
                "{}\n{}",
                String::from_utf8_lossy(&rustc.stdout),
                String::from_utf8_lossy(&build_sh)
            ),
            dir: tools_dir,
        })
    }

    /// The template's `Cargo.toml`.
    pub fn template_toml(&self) -> Result<String, String> {
        read_string(&self.template.join("Cargo.toml"))
    }

    /// Builds the firmware crate `dir` for `board` with build.sh: the ELF it prints, or the
    /// compiler's errors.
    pub fn build(&self, board: &str, dir: &Path) -> Result<PathBuf, String> {
        let out = script(self.dir.join("build.sh"))
            .arg(board)
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run build.sh: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let elf = stdout.lines().last().unwrap_or("").trim();
        if !out.status.success() || elf.is_empty() {
            return Err(build_errors(&out));
        }
        Ok(PathBuf::from(elf))
    }

    /// Runs `elf` on `board` in QEMU with run.sh (`timeout` seconds at most).
    pub fn run(&self, board: &str, elf: &Path, timeout: u64) -> Result<RunOut, String> {
        let out = script(self.dir.join("run.sh"))
            .arg(board)
            .arg(elf)
            .env("MCU_TIMEOUT", timeout.to_string())
            .output()
            .map_err(|e| format!("cannot run run.sh: {e}"))?;
        Ok(RunOut::parse(&out))
    }
}

/// The contents of `path`, or an error naming it.
pub fn read_string(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A shell script of the tools, with the environment of `cargo run` (rustup's toolchain, build
/// flags, target dir) removed so build.sh's own cargo and rustc are not redirected.
fn script(path: PathBuf) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(path);
    for var in [
        "RUSTUP_TOOLCHAIN",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The compiler's error messages from a failed build.sh (cargo's rendered diagnostics are on
/// stderr), without the `Compiling …` progress lines.
fn build_errors(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("Compiling ")
                || t.starts_with("Downloaded ")
                || t.starts_with("Downloading ")
                || t.starts_with("Updating ")
                || t.starts_with("Locking ")
                || t.starts_with("Adding ")
                || t.starts_with("Blocking "))
        })
        .collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("error") || l.starts_with("warning"))
        .unwrap_or(0);
    let mut s = lines[start..].join("\n");
    if s.len() > 20_000 {
        let mut cut = 20_000;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n[… cut]");
    }
    format!("{}\n(build.sh exit status {})", s.trim_end(), out.status)
}

/// Parsed output of run.sh.
pub struct RunOut {
    /// run.sh's exit status (-1 when killed by a signal).
    pub status: i32,
    /// The figures, when run.sh printed all of them.
    pub measure: Option<Measure>,
    /// The firmware's `golden:` line, without the prefix.
    pub golden: Option<String>,
    /// Everything run.sh printed (stdout, then stderr).
    pub text: String,
}

impl RunOut {
    /// Parses run.sh's output: `instructions:`, `flash_bytes:`, `ram_static_bytes:`,
    /// `stack_peak_bytes:` and the firmware's `golden:` line.
    pub fn parse(out: &Output) -> RunOut {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let value = |key: &str| -> Option<u64> {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        };
        let regions = text
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("region ")?;
                rest.split_once(':')?.1.trim().parse().ok()
            })
            .collect();
        let measure = (|| {
            Some(Measure {
                regions,
                instructions: value("instructions:")?,
                flash: value("flash_bytes:")?,
                ram_static: value("ram_static_bytes:")?,
                stack_peak: value("stack_peak_bytes:")?,
                predict_stack: value("predict_stack_bytes:"),
                model_bytes: value("model_bytes:"),
                model_symbols: None,
            })
        })();
        let golden = text
            .lines()
            .find_map(|l| l.strip_prefix("golden:"))
            .map(|g| g.trim().to_string());
        RunOut {
            status: out.status.code().unwrap_or(-1),
            measure,
            golden,
            text,
        }
    }

    /// What a failed run's exit status means (run.sh: 124 = timeout, 134 = QEMU abort).
    pub fn failure(&self, timeout: u64) -> String {
        match self.status {
            124 => format!("QEMU timed out after {timeout} s"),
            134 => "QEMU aborted (core lockup: stack overflow?)".to_string(),
            s => format!("run failed (exit {s})"),
        }
    }
}

/// Flash bytes of the symbols of `elf` whose demangled name `ours` accepts: (code, data), code
/// being `t`/`T` symbols and data those of the `llvm-nm` kinds in `data_kinds`. `None` when
/// `llvm-nm` is missing or fails.
pub fn symbol_sizes(
    elf: &Path,
    ours: impl Fn(&str) -> bool,
    data_kinds: &[&str],
) -> Option<(u64, u64)> {
    let nm = newest_llvm_tool("llvm-nm")?;
    let out = Command::new(nm)
        .args(["-S", "--size-sort", "--radix=d", "--demangle"])
        .arg(elf)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let (mut code, mut data) = (0, 0);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = line.splitn(4, ' ');
        let (Some(_), Some(size), Some(kind), Some(name)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let Ok(size) = size.parse::<u64>() else {
            continue;
        };
        if !ours(name) {
            continue;
        }
        if kind == "t" || kind == "T" {
            code += size;
        } else if data_kinds.contains(&kind) {
            data += size;
        }
    }
    Some((code, data))
}

/// `/usr/bin/<name>-<N>` with the highest N (Debian's versioned LLVM tools, as size.sh uses).
fn newest_llvm_tool(name: &str) -> Option<PathBuf> {
    let prefix = format!("{name}-");
    std::fs::read_dir("/usr/bin")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().to_string();
            let version: u32 = file.strip_prefix(&prefix)?.parse().ok()?;
            Some((version, e.path()))
        })
        .max()
        .map(|(_, path)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn run_output_is_parsed() {
        let text =
            "stack_peak_bytes: 700\ngolden: ok\nregion 0: 10\nregions: 1\ninstructions: 10\n\
                    total_instructions: 99\nflash_bytes: 1234\nram_static_bytes: 16\n";
        let out = Output {
            status: exit_status(0),
            stdout: text.as_bytes().to_vec(),
            stderr: Vec::new(),
        };
        let r = RunOut::parse(&out);
        assert_eq!(r.golden.as_deref(), Some("ok"));
        let m = r.measure.unwrap();
        assert_eq!(
            (m.instructions, m.flash, m.ram_static, m.stack_peak),
            (10, 1234, 16, 700)
        );
    }

    #[cfg(unix)]
    #[test]
    fn build_errors_keep_the_compiler_messages() {
        let stderr = "   Compiling core v0.0.0\n   Compiling mlperf_kws v0.1.0\n\
                      error[E0425]: cannot find value `x`\n --> src/lib.rs:1:1\n\n\
                      error: could not compile `mlperf_kws`\n";
        let out = Output {
            status: exit_status(101),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        };
        let e = build_errors(&out);
        assert!(
            e.starts_with("error[E0425]: cannot find value `x`\n --> src/lib.rs:1:1"),
            "{e}"
        );
        assert!(!e.contains("Compiling"), "{e}");
        assert!(e.contains("could not compile `mlperf_kws`"), "{e}");
    }

    #[cfg(unix)]
    fn exit_status(code: i32) -> std::process::ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        std::process::ExitStatus::from_raw(code << 8)
    }
}
