//! One board's firmware crate: the template's files plus the files of one model, built
//! through the ELF cache (`elf/<board>/<name>.{elf,key}`) and run in QEMU; and the template's
//! own firmware, the harness baseline.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::report::first_line;
use super::tools::{read_string, RunOut, Tools};
use super::{Measure, Options};
use crate::firmware::{self, Firmware, Variant};

/// A file to write: path relative to the crate, and contents.
pub type File = (String, Vec<u8>);

/// The work for one board, in one firmware crate.
pub struct BoardBench<'a> {
    /// What to run.
    pub opts: &'a Options,
    /// The measurement tools.
    pub tools: &'a Tools,
    /// QEMU board name.
    pub board: &'a str,
    /// kiln target (core or board profile) the board's models are compiled for.
    pub target: &'a str,
    /// The firmware crate's folder (`fw/<board>` or, for a peer, `fw/<board>-<peer>`).
    pub fw: PathBuf,
}

impl BoardBench<'_> {
    /// Builds and runs the unmodified template (its own main.rs and 64x64 kernel).
    pub fn baseline(&self) -> Result<Measure, String> {
        let t = Instant::now();
        let result = self.baseline_inner();
        let what = match &result {
            Ok(m) => format!("flash {} bytes", m.flash),
            Err(e) => format!("FAILED: {}", first_line(e)),
        };
        eprintln!(
            "[{}] template baseline: {what} ({:.1} s)",
            self.board,
            t.elapsed().as_secs_f64()
        );
        result
    }

    fn baseline_inner(&self) -> Result<Measure, String> {
        let toml = firmware::baseline_cargo_toml(&self.tools.template_toml()?);
        let main = read_string(&self.tools.template.join("src/main.rs"))?;
        let files = vec![
            ("Cargo.toml".to_string(), toml.into_bytes()),
            ("src/main.rs".to_string(), main.into_bytes()),
        ];
        let (elf, _) = self.build("template-baseline", &files, &[])?;
        let out = self.run(&elf)?;
        match (out.measure, out.status) {
            (Some(m), 0) => Ok(m),
            (_, status) => Err(format!(
                "template run failed (exit {status}):\n{}",
                out.text
            )),
        }
    }

    /// The per-model files of the firmware crate for the model `name` (folder `dir`) as
    /// `variant`: `Cargo.toml`, `src/main.rs`, and the golden case `--golden TAG` as
    /// `golden/in.bin` and `golden/out.bin`.
    pub fn files(&self, name: &str, dir: &Path, variant: Variant) -> Result<Vec<File>, String> {
        let golden = dir.join("golden");
        let tag = &self.opts.golden;
        // A model with several inputs (outputs) has one golden file each, `in_<tag>_<k>.bin`;
        // the firmware reads them one after the other from one file.
        let (n_in, n_out) = match &variant {
            Variant::Kiln {
                inputs, outputs, ..
            } => (inputs.len(), outputs.len()),
            Variant::Microflow { .. } => (1, 1),
        };
        let read = |prefix: &str, n: usize| -> Result<Vec<u8>, String> {
            let mut bytes = Vec::new();
            for k in 0..n {
                let file = if n == 1 {
                    format!("{prefix}_{tag}.bin")
                } else {
                    format!("{prefix}_{tag}_{k}.bin")
                };
                bytes.extend(
                    std::fs::read(golden.join(&file)).map_err(|e| format!("golden {file}: {e}"))?,
                );
            }
            Ok(bytes)
        };
        let input = read("in", n_in)?;
        let output = read("out", n_out)?;
        let template_toml = self.tools.template_toml()?;
        let fw = Firmware {
            model: name,
            tag,
            board: self.board,
            variant,
        };
        Ok(vec![
            (
                "Cargo.toml".to_string(),
                fw.cargo_toml(&template_toml).into_bytes(),
            ),
            ("src/main.rs".to_string(), fw.main_rs().into_bytes()),
            ("golden/in.bin".to_string(), input),
            ("golden/out.bin".to_string(), output),
        ])
    }

    /// Writes the firmware crate (template files + `files`), builds it with build.sh unless the
    /// cached ELF for `key_name` was built from the same inputs (`model_files`: what the build
    /// reads from outside the crate). Returns the ELF path and whether it was built now.
    pub fn build(
        &self,
        key_name: &str,
        files: &[File],
        model_files: &[File],
    ) -> Result<(PathBuf, bool), String> {
        let mut hasher = DefaultHasher::new();
        self.tools.fingerprint.hash(&mut hasher);
        self.board.hash(&mut hasher);
        for rel in firmware::TEMPLATE_FILES.iter().chain(&["src/kernel.rs"]) {
            let bytes = std::fs::read(self.tools.template.join(rel))
                .map_err(|e| format!("template {rel}: {e}"))?;
            // Cargo.lock is only seeded: cargo adds the model's path dependency to it.
            let path = self.fw.join(rel);
            if *rel != "Cargo.lock" || !path.exists() {
                write_if_changed(&path, &bytes)?;
            }
            (rel, bytes).hash(&mut hasher);
        }
        for (rel, bytes) in files {
            write_if_changed(&self.fw.join(rel), bytes)?;
        }
        files.hash(&mut hasher);
        model_files.hash(&mut hasher);
        let key = format!("{:016x}\n", hasher.finish());

        let cache = self.opts.work.join("elf").join(self.board);
        let (cached_elf, cached_key) = (
            cache.join(format!("{key_name}.elf")),
            cache.join(format!("{key_name}.key")),
        );
        if !self.opts.rebuild
            && cached_elf.is_file()
            && std::fs::read_to_string(&cached_key).ok().as_deref() == Some(key.as_str())
        {
            return Ok((cached_elf, false));
        }

        let elf = self.tools.build(self.board, &self.fw)?;
        std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
        std::fs::copy(&elf, &cached_elf).map_err(|e| format!("{}: {e}", elf.display()))?;
        std::fs::write(&cached_key, key).map_err(|e| e.to_string())?;
        Ok((cached_elf, true))
    }

    /// Runs `elf` on this board with the `--timeout`.
    pub fn run(&self, elf: &Path) -> Result<RunOut, String> {
        self.tools.run(self.board, elf, self.opts.timeout)
    }
}

/// Writes `bytes` to `path` unless it already holds them (keeps mtimes, so cargo does not
/// rebuild unchanged crates). Creates parent folders; replaces read-only files.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let _ = std::fs::remove_file(path);
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}
