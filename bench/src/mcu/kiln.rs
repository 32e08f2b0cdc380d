//! kiln's row of the matrix: one model on one board. Generates the model's crate for the
//! board's kiln target (`models/<target>/<model>/`), builds it into the board's firmware, runs
//! it and classifies the outcome.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::board::{write_if_changed, BoardBench, File};
use super::tools::symbol_sizes;
use super::{LayerCount, Outcome, Row};
use crate::firmware::Variant;

/// Generates, builds, runs and checks the model `name` (folder `dir`) on `bench`'s board.
pub fn row(bench: &BoardBench, name: &str, dir: &Path) -> Row {
    let mut row = Row {
        model: name.to_string(),
        board: bench.board.to_string(),
        target: bench.target.to_string(),
        macs: None,
        arena: None,
        outcome: Outcome::NoFit(String::new()),
        build_secs: 0.0,
        run_secs: 0.0,
        layers: None,
    };
    row.outcome = match outcome(bench, name, dir, &mut row) {
        Ok(o) => o,
        Err((summary, details)) => Outcome::Failed {
            summary,
            details,
            measure: None,
        },
    };
    row
}

fn outcome(
    bench: &BoardBench,
    name: &str,
    dir: &Path,
    row: &mut Row,
) -> Result<Outcome, (String, String)> {
    let plain = |s: String| (s, String::new());
    let path = super::model_file(dir).ok_or_else(|| plain("no model file".to_string()))?;
    let source_name = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("model.tflite");
    let bytes = std::fs::read(&path).map_err(|e| plain(format!("cannot read model: {e}")))?;
    let compiled =
        kiln_codegen::compile(&bytes).map_err(|e| plain(format!("kiln cannot compile it: {e}")))?;
    row.macs = Some(compiled.macs());
    row.arena = Some(compiled.plan.arena_bytes);
    let (inputs, outputs) = io_elements(&compiled.graph);

    let options = kiln_codegen::BuildOptions {
        band_budget_per_mille: bench.opts.band_budget,
        ..Default::default()
    };
    let krate = match kiln_codegen::build_crate_with(
        &bytes,
        name,
        source_name,
        Some(bench.target),
        &options,
    ) {
        Ok(k) => {
            // Patch-based execution changes both (extra MACs, a smaller arena).
            row.macs = Some(k.compiled.macs());
            row.arena = Some(k.compiled.plan.arena_bytes);
            k
        }
        Err(kiln_codegen::Error::Fit(e)) => {
            let msg = e.to_string();
            let msg = msg.split_once(": ").map_or(msg.as_str(), |(_, m)| m.trim());
            return Ok(Outcome::NoFit(msg.to_string()));
        }
        Err(e) => return Err(plain(format!("kiln cannot generate the crate: {e}"))),
    };
    let crate_dir = bench.opts.work.join("models").join(bench.target).join(name);
    sync_dir(&crate_dir, &krate.files).map_err(plain)?;

    let rel = Path::new("../../models").join(bench.target).join(name);
    let variant = Variant::Kiln {
        path: &rel,
        inputs: &inputs,
        outputs: &outputs,
        layers: false,
    };
    let files = bench.files(name, dir, variant).map_err(plain)?;

    let t = Instant::now();
    let (elf, built) = bench
        .build(name, &files, &krate.files)
        .map_err(|e| ("build failed".to_string(), e))?;
    row.build_secs = if built {
        t.elapsed().as_secs_f64()
    } else {
        0.0
    };

    let t = Instant::now();
    let mut out = bench.run(&elf).map_err(plain)?;
    row.run_secs = t.elapsed().as_secs_f64();
    if let Some(m) = &mut out.measure {
        m.model_symbols = model_symbols(&elf, name);
    }
    if bench.opts.layers {
        row.layers = Some(layer_counts(bench, name, dir, &rel, &compiled, &krate));
    }
    match (&out.measure, out.status, out.golden.as_deref()) {
        (Some(m), 0, Some("ok")) => Ok(Outcome::Ok(m.clone())),
        (measure, _, golden) => Ok(Outcome::Failed {
            summary: match golden {
                Some(g) if g != "ok" => format!("golden: {g}"),
                _ => out.failure(bench.opts.timeout),
            },
            details: out.text.clone(),
            measure: measure.clone(),
        }),
    }
}

/// The Rust element types of the graph's inputs and of its outputs.
fn io_elements(g: &kiln_codegen::ir::Graph) -> (Vec<&'static str>, Vec<&'static str>) {
    let elems = |ts: &[usize]| ts.iter().map(|&t| g.tensors[t].dtype.rust_name()).collect();
    (elems(&g.inputs), elems(&g.outputs))
}

/// The `--layers` run: the same crate in a firmware with one counted region per layer that
/// runs; its golden is checked too.
fn layer_counts(
    bench: &BoardBench,
    name: &str,
    dir: &Path,
    rel: &Path,
    compiled: &kiln_codegen::Compiled,
    krate: &kiln_codegen::GeneratedCrate,
) -> Result<Vec<LayerCount>, String> {
    let (inputs, outputs) = io_elements(&compiled.graph);
    let variant = Variant::Kiln {
        path: rel,
        inputs: &inputs,
        outputs: &outputs,
        layers: true,
    };
    let files = bench.files(name, dir, variant)?;
    let (elf, _) = bench
        .build(&format!("{name}-layers"), &files, &krate.files)
        .map_err(|e| format!("layered build failed: {e}"))?;
    let out = bench.run(&elf)?;
    if out.status != 0 || out.golden.as_deref() != Some("ok") {
        return Err(format!(
            "layered run: {}",
            out.golden.as_ref().map_or_else(
                || out.failure(bench.opts.timeout),
                |g| format!("golden: {g}")
            )
        ));
    }
    let regions = out.measure.map(|m| m.regions).unwrap_or_default();
    let running: Vec<_> = compiled
        .layers
        .iter()
        .zip(&compiled.plan.runs)
        .filter(|(_, &runs)| runs)
        .map(|(l, _)| l)
        .collect();
    if regions.len() != running.len() {
        return Err(format!(
            "layered run: {} regions for {} layers",
            regions.len(),
            running.len()
        ));
    }
    Ok(running
        .iter()
        .zip(regions)
        .map(|(l, instructions)| LayerCount {
            index: l.index,
            op: l.op_name,
            macs: l.macs,
            instructions,
        })
        .collect())
}

/// Sizes of the model's symbols in `elf`: functions and read-only data whose demangled name is
/// in the generated crate `krate` (or is the firmware's `kiln_infer` wrapper, into which
/// `predict` may be inlined). `None` when `llvm-nm` is missing or fails.
fn model_symbols(elf: &Path, krate: &str) -> Option<(u64, u64)> {
    let prefix = format!("{}::", krate.replace('-', "_"));
    let ours = |name: &str| {
        name.starts_with(&prefix)
            || name.contains(&format!("<{prefix}"))
            || name.ends_with("::kiln_infer")
    };
    symbol_sizes(elf, ours, &["r", "R"])
}

/// Makes `dir` hold exactly `files` under `src/` and `data/` (stale data files removed),
/// rewriting only what changed.
fn sync_dir(dir: &Path, files: &[File]) -> Result<(), String> {
    let wanted: BTreeSet<PathBuf> = files.iter().map(|(rel, _)| dir.join(rel)).collect();
    for sub in ["src", "data"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            for e in entries.flatten() {
                if e.path().is_file() && !wanted.contains(&e.path()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
    for (rel, bytes) in files {
        write_if_changed(&dir.join(rel), bytes)?;
    }
    Ok(())
}
