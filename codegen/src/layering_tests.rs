//! The modules import one way: the runtime and the IR at the bottom, then the stages in data
//! flow order, the driver (`lib.rs`) on top. A module may use only modules of a lower rank (or
//! its own); this test reads every source file and fails on an import that runs upwards.

use std::path::{Path, PathBuf};

/// Rank of each top-level module: a module may import only modules of a strictly lower rank.
const RANKS: &[(&str, u32)] = &[
    ("runtime", 0),
    ("ir", 0),
    ("names", 0),
    ("layer", 1),
    ("kernel_checks", 1),
    ("front", 2),
    ("prepare", 3),
    ("fold", 4),
    ("plan", 4),
    ("bands", 5),
    ("compiled", 6),
    ("tune", 7),
    ("fit", 8),
    ("limits", 8),
    ("back", 9),
    ("inspect", 9),
];

fn rank(module: &str) -> Option<u32> {
    RANKS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_run_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs");
        let Some(own) = rank(module) else {
            continue; // lib.rs (the driver) and this test
        };
        checked += 1;
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue; // doc links may point anywhere
            }
            for (at, _) in line.match_indices("crate::") {
                let used: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let ok = used == module || rank(&used).is_some_and(|r| r < own);
                if !ok {
                    problems.push(format!(
                        "{}:{}: {module} uses crate::{used}",
                        rel.display(),
                        n + 1
                    ));
                }
            }
            if module == "runtime" && (line.contains("std::") || line.contains("alloc::")) {
                let in_tests = text[..text.lines().take(n).map(|l| l.len() + 1).sum::<usize>()]
                    .contains("#[cfg(test)]");
                if !in_tests {
                    problems.push(format!(
                        "{}:{}: the runtime is no_std",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} files checked");
    assert!(
        problems.is_empty(),
        "imports against the layering:\n{}",
        problems.join("\n")
    );
}
