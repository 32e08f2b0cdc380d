//! The peer microflow 0.1.3 on one (model, board) (`--peer microflow`): the same firmware
//! template with microflow's `#[model]` in its own crate (`fw/<board>-microflow`), built and
//! run with the same tools and cache, next to kiln's row.

use std::path::Path;

use super::board::BoardBench;
use super::tools::symbol_sizes;
use super::{Measure, Outcome, PeerRow, Row};
use crate::firmware::Variant;

/// Builds the model `name` (folder `dir`) with microflow 0.1.3 into `bench`'s firmware crate
/// (`bench.fw` is `fw/<board>-microflow`) and runs it; `kiln` is kiln's row.
pub fn row(bench: &BoardBench, name: &str, dir: &Path, kiln: &Row) -> PeerRow {
    PeerRow {
        model: name.to_string(),
        board: bench.board.to_string(),
        kiln: match &kiln.outcome {
            Outcome::Ok(m) => Some(m.clone()),
            _ => None,
        },
        result: result(bench, name, dir),
    }
}

fn result(
    bench: &BoardBench,
    name: &str,
    dir: &Path,
) -> Result<(Measure, String), (String, String)> {
    let plain = |s: String| (s, String::new());
    let model = dir.join("model.tflite");
    let bytes = std::fs::read(&model).map_err(|e| plain(format!("cannot read model: {e}")))?;
    let g =
        kiln_codegen::front::tflite::read(&bytes).map_err(|e| plain(format!("unreadable: {e}")))?;
    let io = crate::microflow::support(&g).map_err(|e| plain(format!("unsupported: {e}")))?;
    let model = model.canonicalize().unwrap_or(model);
    let variant = Variant::Microflow {
        io: &io,
        model: &model,
    };
    let files = bench.files(name, dir, variant).map_err(plain)?;
    let model_files = vec![("model.tflite".to_string(), bytes)];
    let (elf, _) = bench
        .build(&format!("microflow-{name}"), &files, &model_files)
        .map_err(|e| ("build failed".to_string(), e))?;
    let out = bench.run(&elf).map_err(plain)?;
    match (&out.measure, out.status, &out.golden) {
        (Some(m), 0, Some(g)) => {
            let mut m = m.clone();
            m.model_symbols = microflow_symbols(&elf);
            Ok((m, g.clone()))
        }
        _ => Err((out.failure(bench.opts.timeout), out.text.clone())),
    }
}

/// Sizes of microflow's symbols in `elf` (its runtime crate, nalgebra, the macro-generated
/// `MicroflowModel` impl and the `microflow_infer` wrapper): (code, read-only data).
fn microflow_symbols(elf: &Path) -> Option<(u64, u64)> {
    let ours = |name: &str| {
        [
            "microflow::",
            "nalgebra::",
            "simba::",
            "MicroflowModel",
            "microflow_infer",
        ]
        .iter()
        .any(|p| name.contains(p))
    };
    symbol_sizes(elf, ours, &["r", "R", "d", "D"])
}
