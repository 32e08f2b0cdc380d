//! `include_model!` tracks the model file: a crate that includes a model is rebuilt when the
//! file changes (the expansion holds `include_bytes!("<absolute path>")` for cargo's dep-info),
//! and not rebuilt when nothing changed.
//!
//! Builds a small binary crate under `CARGO_TARGET_TMPDIR` (its own target dir, kept between
//! runs: the first run compiles the macro's dependencies, later runs take a few seconds).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

const APP: &str = "kiln_rebuild_app";

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/models")
        .join(name)
        .join("model.tflite");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct App {
    dir: PathBuf,
}

impl App {
    /// Writes the crate (once) with the model file `model.tflite` holding `model`.
    fn new(model: &[u8]) -> App {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rebuild");
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let macros_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = format!(
            "[package]\nname = \"{APP}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nkiln = {{ path = {:?} }}\n\n[workspace]\n",
            macros_dir.to_str().expect("UTF-8 path")
        );
        let main = "kiln::include_model!(\"model.tflite\", name = model);\n\n\
                    fn main() {\n    println!(\"{:?}\", model::INPUT_SHAPE);\n}\n";
        // Rewritten only when different, so that the crate's own sources stay unchanged.
        write_if_changed(&dir.join("Cargo.toml"), manifest.as_bytes());
        write_if_changed(&dir.join("src/main.rs"), main.as_bytes());
        // The macro's dependencies at the versions kiln's lockfile pins (already fetched).
        let lock = std::fs::read(macros_dir.join("../Cargo.lock")).unwrap();
        write_if_changed(&dir.join("Cargo.lock"), &lock);
        write_if_changed(&dir.join("model.tflite"), model);
        App { dir }
    }

    fn cargo(&self, args: &[&str]) -> String {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(args)
            .arg("--manifest-path")
            .arg(self.dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(self.dir.join("target"))
            .env_remove("RUSTFLAGS")
            .output()
            .expect("cannot run cargo");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "cargo {args:?} failed:\n{stderr}");
        stderr + &String::from_utf8_lossy(&out.stdout)
    }

    /// `cargo build -v`: whether the app crate was compiled (else it must be reported fresh).
    fn build(&self) -> bool {
        let log = self.cargo(&["build", "-v"]);
        let compiled = log.contains(&format!("Compiling {APP} "));
        let fresh = log.contains(&format!("Fresh {APP} "));
        assert!(
            compiled != fresh,
            "cannot tell if {APP} was rebuilt:\n{log}"
        );
        compiled
    }

    /// Runs the built binary: it prints the model's input shape.
    fn run(&self) -> String {
        let exe = self
            .dir
            .join("target/debug")
            .join(format!("{APP}{}", std::env::consts::EXE_SUFFIX));
        let out = Command::new(&exe).output().expect("cannot run the app");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn model(&self) -> PathBuf {
        self.dir.join("model.tflite")
    }
}

fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn editing_or_touching_the_model_file_rebuilds_the_crate() {
    let (tiny_kws, sine_mlp) = (fixture("tiny_kws"), fixture("sine_mlp"));
    let app = App::new(&tiny_kws);
    app.build();
    assert_eq!(app.run(), "[1, 16, 10, 1]");
    assert!(!app.build(), "rebuilt although nothing changed");

    // Another model in the same file: rebuilt, and the binary uses the new model.
    std::fs::write(app.model(), &sine_mlp).unwrap();
    assert!(app.build(), "not rebuilt after the model file changed");
    assert_eq!(app.run(), "[1, 1]");
    assert!(!app.build(), "rebuilt twice after one change");

    // Same bytes, newer modification time (`touch`): rebuilt too.
    std::fs::File::options()
        .append(true)
        .open(app.model())
        .unwrap()
        .set_modified(SystemTime::now())
        .unwrap();
    assert!(app.build(), "not rebuilt after touching the model file");

    // Back to the first model for the next run.
    std::fs::write(app.model(), &tiny_kws).unwrap();
    assert!(app.build());
    assert_eq!(app.run(), "[1, 16, 10, 1]");
}
