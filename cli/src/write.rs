//! Writing a generated crate so that a failure never leaves a half-written crate behind.
//!
//! Everything that can be checked is checked first (OUT is a directory or can be created; no
//! file of the crate collides with a directory, or a directory with a file). The files are
//! then written into a temporary directory, and only when all of them are written do they
//! move into place:
//! - a new OUT is the temporary directory renamed (one atomic step);
//! - in an existing OUT each file is renamed over the old one (each replacement atomic), and
//!   then weights (`data/*.bin`) left from an earlier build are removed. Other files in OUT
//!   (a `target/` folder, a lockfile, a `.git`) are kept.

use std::path::{Path, PathBuf};

/// Writes `files` (relative path, contents) as the crate in `out`.
pub fn write_crate(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    check_out(out)?;
    if out.is_dir() {
        check_collisions(out, files)?;
        let tmp = out.join(format!(".kiln-tmp-{}", std::process::id()));
        let result = write_all(&tmp, files).and_then(|()| move_into(&tmp, out, files));
        let _ = std::fs::remove_dir_all(&tmp);
        result
    } else {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        let stem = out
            .file_name()
            .map_or("crate".into(), |s| s.to_string_lossy().into_owned());
        let tmp = parent.join(format!(".{stem}.kiln-tmp-{}", std::process::id()));
        let result = write_all(&tmp, files).and_then(|()| {
            std::fs::rename(&tmp, out).map_err(|e| format!("cannot create {}: {e}", out.display()))
        });
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }
}

/// OUT must be a directory, or not exist with its nearest existing ancestor a directory
/// (checked before the model is compiled, and again before writing).
pub fn check_out(out: &Path) -> Result<(), String> {
    let mut at = Some(out);
    while let Some(p) = at {
        if p.as_os_str().is_empty() {
            break;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) if p == out => {
                return Err(format!(
                    "cannot create the crate in {}: it exists and is not a directory",
                    out.display()
                ))
            }
            Ok(_) => {
                return Err(format!(
                    "cannot create {}: {} is not a directory",
                    out.display(),
                    p.display()
                ))
            }
            Err(_) => at = p.parent(),
        }
    }
    Ok(())
}

/// In an existing OUT: every folder on a file's path must be a folder (or missing), and no
/// file may be a folder already.
fn check_collisions(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    for (rel, _) in files {
        let path = out.join(rel);
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == out {
                break;
            }
            if d.exists() && !d.is_dir() {
                return Err(format!(
                    "cannot write {}: {} is not a directory",
                    path.display(),
                    d.display()
                ));
            }
            dir = d.parent();
        }
        if path.is_dir() {
            return Err(format!(
                "cannot write {}: it is a directory",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Writes every file under `dir` (created fresh).
fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    for (rel, contents) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Moves the written files from `tmp` over those in `out`, then removes weights of an earlier
/// build that the new crate does not have.
fn move_into(tmp: &Path, out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    for (rel, _) in files {
        let to = out.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::rename(tmp.join(rel), &to)
            .map_err(|e| format!("cannot write {}: {e}", to.display()))?;
    }
    let data = out.join("data");
    if let Ok(entries) = std::fs::read_dir(&data) {
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = format!("data/{}", entry.file_name().to_string_lossy());
            let stale = path.extension().is_some_and(|e| e == "bin")
                && !files.iter().any(|(f, _)| *f == rel);
            if stale {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}
