//! `kiln-bench mcu`: for each (model, board), generate the model's crate for the board's kiln
//! target, build it into the measurement firmware with `../shared/tools/mcu/build.sh`, run it in
//! QEMU with `run.sh`, and collect instructions, sizes and the on-target golden check.
//!
//! Work directory (default `target/kiln-bench/`, reused between runs so builds are
//! incremental):
//! - `fw/<board>/`: one firmware crate per board (a copy of the template; `src/main.rs`,
//!   `Cargo.toml` and `golden/` are rewritten per model), so `core` and the runtime crates are
//!   compiled once per board; cargo's output is in `fw/<board>/target/<board>/`.
//! - `models/<kiln target>/<model>/`: the generated crates (files rewritten only when changed).
//! - `elf/<board>/<model>.{elf,key}`: built firmware and a hash of everything it was built from;
//!   an unchanged (model, board) is not rebuilt.
//!
//! This module holds the options, the report types and the matrix runner ([`run`]); the work
//! of one board's firmware crate is in `board`, kiln's row in `kiln`, the peer's in `peer`, the
//! tools it drives (build.sh, run.sh, llvm-nm) in `tools`, and the Markdown in `report`.

mod anchors;
mod board;
mod kernel_check;
mod kiln;
mod peer;
mod report;
mod tools;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use anchors::Anchors;
use board::BoardBench;
pub use kernel_check::KernelCheck;
pub use report::{layers_markdown, markdown};
use tools::Tools;

/// QEMU boards measured, in table order, with the kiln target (core or board profile) each one
/// is compiled for. `microbit` is the board profile (256 KiB flash, 16 KiB RAM): the fit check
/// applies.
pub const BOARDS: &[(&str, &str)] = &[
    ("mps2-an386", "cortex-m4f"),
    ("mps2-an500", "cortex-m7"),
    ("mps2-an505", "cortex-m33"),
    ("microbit", "microbit"),
    ("riscv32-virt", "riscv32imc"),
];

/// What to run.
pub struct Options {
    /// Model folder names under `<shared>/models`; empty = every int8 model there.
    pub models: Vec<String>,
    /// QEMU board names; empty = all of [`BOARDS`].
    pub boards: Vec<String>,
    /// Golden case tag: `in_<tag>.bin` / `out_<tag>.bin`.
    pub golden: String,
    /// The `shared/` folder (models and tools/mcu).
    pub shared: PathBuf,
    /// The model folders (`<shared>/models` unless asked otherwise).
    pub models_dir: PathBuf,
    /// Work directory.
    pub work: PathBuf,
    /// Boards built and run concurrently.
    pub jobs: usize,
    /// QEMU timeout per run, seconds.
    pub timeout: u64,
    /// Also build and run the unmodified template per board (harness baseline).
    pub baseline: bool,
    /// Ignore cached firmware: build everything again (cargo stays incremental).
    pub rebuild: bool,
    /// Also build each model with the peer microflow 0.1.3 into the same template and run it
    /// on the same board (`--peer microflow`).
    pub microflow: bool,
    /// Also count each layer (a second firmware with one region per layer; `--layers`).
    pub layers: bool,
    /// Also check the runtime's kernels against reference kernels on each board
    /// (`--kernels`; see `kernel_check`).
    pub kernels: bool,
    /// Patch-based execution's budget for kiln's crates (`--band-budget`), per mille.
    pub band_budget: Option<u32>,
}

/// Figures from one QEMU run.
#[derive(Clone, Debug, Default)]
pub struct Measure {
    /// Instructions inside the counted region.
    pub instructions: u64,
    /// Instructions of each counted region, in order (`--layers`: one per layer that runs).
    pub regions: Vec<u64>,
    /// Flash bytes of the whole firmware.
    pub flash: u64,
    /// `.data + .bss + .uninit` bytes.
    pub ram_static: u64,
    /// Stack high-water mark, bytes.
    pub stack_peak: u64,
    /// kiln firmware: the stack below the inference call at the peak, i.e. what `predict`
    /// needs (plus the harness's inlined call frames, a few dozen bytes).
    pub predict_stack: Option<u64>,
    /// kiln firmware: `size_of::<Model>()` (arena, kernel scratch, output).
    pub model_bytes: Option<u64>,
    /// Flash bytes of the model's own symbols (its crate's functions and `kiln_infer`; its
    /// weights and tables), from `llvm-nm`: (code, read-only data). `None` for the baseline.
    pub model_symbols: Option<(u64, u64)>,
}

/// The outcome of one (model, board).
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Built, ran, and the output matched the golden bytes on the target.
    Ok(Measure),
    /// The fit check rejected the model for the board (an expected result, not a failure).
    NoFit(String),
    /// Something failed: a one-line summary, and details (compiler errors, QEMU output).
    Failed {
        /// One line for the table.
        summary: String,
        /// Printed below the table (may be empty).
        details: String,
        /// The figures, when the run printed them (e.g. a golden mismatch).
        measure: Option<Measure>,
    },
}

/// One table row.
#[derive(Clone, Debug)]
pub struct Row {
    /// Model folder name.
    pub model: String,
    /// QEMU board name.
    pub board: String,
    /// kiln target the model was compiled for.
    pub target: String,
    /// Multiply-accumulates per inference, once kiln has compiled the model.
    pub macs: Option<u64>,
    /// Arena bytes, once kiln has compiled the model.
    pub arena: Option<usize>,
    /// What happened.
    pub outcome: Outcome,
    /// Seconds spent building (0 when the cached firmware was reused).
    pub build_secs: f64,
    /// Seconds spent running.
    pub run_secs: f64,
    /// `--layers`: (operator index, op name, MACs, instructions) per layer that runs, or why
    /// the layered run failed.
    pub layers: Option<Result<Vec<LayerCount>, String>>,
}

/// One layer's count in a `--layers` run.
#[derive(Clone, Debug)]
pub struct LayerCount {
    /// Operator index in the model.
    pub index: usize,
    /// Operator name, e.g. `CONV_2D`.
    pub op: &'static str,
    /// Multiply-accumulates.
    pub macs: u64,
    /// Instructions executed inside the layer's region.
    pub instructions: u64,
}

/// The harness baseline of one board (the template's own firmware).
#[derive(Clone, Debug)]
pub struct Baseline {
    /// QEMU board name.
    pub board: String,
    /// The template's figures, or why it failed.
    pub result: Result<Measure, String>,
}

/// The peer microflow on one (model, board), next to kiln's row.
#[derive(Clone, Debug)]
pub struct PeerRow {
    /// Model folder name.
    pub model: String,
    /// QEMU board name.
    pub board: String,
    /// kiln's figures for the same (model, board), when its row is `ok`.
    pub kiln: Option<Measure>,
    /// microflow's figures and its `golden:` line; or why it did not run (`unsupported: …` when
    /// its macro rejects the model), with details.
    pub result: Result<(Measure, String), (String, String)>,
}

/// Everything a run produced.
pub struct Report {
    /// kiln's rows, by model then board.
    pub rows: Vec<Row>,
    /// `--peer microflow`: one per (model, board), in the order of `rows`.
    pub peers: Vec<PeerRow>,
    /// The harness baselines, by board (empty with `--no-baseline`).
    pub baselines: Vec<Baseline>,
    /// `--kernels`: the on-target kernel checks, by board.
    pub kernel_checks: Vec<KernelCheck>,
    /// Models left out of the default set, with the reason.
    pub left_out: Vec<String>,
    /// TFLM's figures on the same boards.
    pub anchors: Anchors,
}

impl Report {
    /// True when every row is a golden match or a fit-check rejection, and every kernel
    /// check passed.
    pub fn all_ok(&self) -> bool {
        self.rows
            .iter()
            .all(|r| !matches!(r.outcome, Outcome::Failed { .. }))
            && self.kernel_checks.iter().all(|k| k.result.is_ok())
    }
}

/// The runs whose instructions exceed `max` times TFLM's on the same board (one line each).
pub fn over_budget(report: &Report, max: f64) -> Vec<String> {
    report
        .rows
        .iter()
        .filter_map(|r| {
            let Outcome::Ok(m) = &r.outcome else {
                return None;
            };
            let (tflm, kernels) = report.anchors.model(&r.model, &r.board)?;
            let ratio = m.instructions as f64 / tflm as f64;
            (ratio > max).then(|| {
                format!(
                    "{} on {}: {} instructions = {ratio:.3}x TFLM + {kernels}'s {tflm} (budget {max}x)",
                    r.model, r.board, m.instructions
                )
            })
        })
        .collect()
}

/// The kiln runs whose `predict` needed more stack than the `STACK_BYTES` kiln generated for
/// their target (one line each).
pub fn over_stack(report: &Report) -> Vec<String> {
    report
        .rows
        .iter()
        .filter_map(|r| {
            let Outcome::Ok(m) = &r.outcome else {
                return None;
            };
            let (used, bound) = (m.predict_stack?, stack_bytes(&r.target)? as u64);
            (used > bound).then(|| {
                format!(
                    "{} on {}: predict used {used} bytes of stack, more than STACK_BYTES = {bound}",
                    r.model, r.board
                )
            })
        })
        .collect()
}

/// The `STACK_BYTES` kiln generates for `target` (its core's measured bound).
pub fn stack_bytes(target: &str) -> Option<usize> {
    kiln_targets::lookup(target).map(|t| t.core().stack_bytes)
}

/// Runs the matrix: every (model, board) of `opts`, boards in parallel (`jobs`), each board's
/// models in sequence; kiln's row, then the peer's when asked.
pub fn run(opts: &Options) -> Result<Report, String> {
    let tools = Tools::find(&opts.shared)?;

    let models_dir = &opts.models_dir;
    let mut left_out = Vec::new();
    let models = if opts.models.is_empty() {
        // The shared folder's default set is its int8 models; another folder's is every model.
        let int8_only = opts.models_dir == opts.shared.join("models");
        default_models(models_dir, int8_only, &mut left_out)?
    } else {
        opts.models.clone()
    };
    let boards: Vec<(&str, &str)> = if opts.boards.is_empty() {
        BOARDS.to_vec()
    } else {
        opts.boards
            .iter()
            .map(|b| {
                BOARDS
                    .iter()
                    .find(|(name, _)| name == b)
                    .copied()
                    .ok_or_else(|| {
                        let names: Vec<&str> = BOARDS.iter().map(|(n, _)| *n).collect();
                        format!("unknown board '{b}' (boards: {})", names.join(", "))
                    })
            })
            .collect::<Result<_, _>>()?
    };
    for m in &models {
        if model_file(&models_dir.join(m)).is_none() {
            return Err(format!(
                "no model '{m}' in {} (expected {m}/model.tflite or {m}/model.onnx)",
                models_dir.display()
            ));
        }
    }

    // Boards run in parallel (each has its own firmware crate); models of a board in sequence.
    let queue = Mutex::new(boards.clone());
    let rows = Mutex::new(Vec::new());
    let peers = Mutex::new(Vec::new());
    let baselines = Mutex::new(Vec::new());
    let kernel_checks = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| loop {
                let next = queue.lock().unwrap().pop();
                let Some((board, target)) = next else { break };
                let bench = BoardBench {
                    opts,
                    tools: &tools,
                    board,
                    target,
                    fw: opts.work.join("fw").join(board),
                };
                if opts.baseline {
                    let result = bench.baseline();
                    baselines.lock().unwrap().push(Baseline {
                        board: board.to_string(),
                        result,
                    });
                }
                if opts.kernels {
                    let check = kernel_check::run(&bench);
                    kernel_checks.lock().unwrap().push(check);
                }
                // microflow's firmware crate is separate: its own Cargo.lock and target dir.
                let peer = BoardBench {
                    fw: opts.work.join("fw").join(format!("{board}-microflow")),
                    ..bench
                };
                for model in &models {
                    let row = kiln::row(&bench, model, &models_dir.join(model));
                    progress(&row);
                    if opts.microflow {
                        let p = peer::row(&peer, model, &models_dir.join(model), &row);
                        let what = match &p.result {
                            Ok((m, g)) => format!("golden {g}, {} instructions", m.instructions),
                            Err((summary, _)) => summary.clone(),
                        };
                        eprintln!("[{board}] {model} (microflow): {what}");
                        peers.lock().unwrap().push(p);
                    }
                    rows.lock().unwrap().push(row);
                }
            });
        }
    });

    let order = |b: &str| boards.iter().position(|(n, _)| *n == b);
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by_key(|r| (models.iter().position(|m| *m == r.model), order(&r.board)));
    let mut peers = peers.into_inner().unwrap();
    peers.sort_by_key(|r| (models.iter().position(|m| *m == r.model), order(&r.board)));
    let mut baselines = baselines.into_inner().unwrap();
    baselines.sort_by_key(|b| order(&b.board));
    let mut kernel_checks = kernel_checks.into_inner().unwrap();
    kernel_checks.sort_by_key(|k| order(&k.board));
    Ok(Report {
        rows,
        peers,
        baselines,
        kernel_checks,
        left_out,
        anchors: Anchors::load(&opts.shared),
    })
}

/// The model file of folder `dir`: `model.tflite`, else `model.onnx` (whose golden folder has
/// the same layout: raw little-endian `in_<k>.bin` and `out_<k>.bin`, float32 for a QDQ
/// model's float input and output).
pub fn model_file(dir: &Path) -> Option<PathBuf> {
    ["model.tflite", "model.onnx"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// Every model folder with a model file ([`model_file`]) and a `golden/` (with `int8_only`, those that have
/// an int8 tensor, or that kiln cannot even read: it then shows up as a failed row rather than
/// vanishing). Models with
/// an operator kiln does not support yet are left out, and the report says which op.
fn default_models(
    dir: &Path,
    int8_only: bool,
    left_out: &mut Vec<String>,
) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| model_file(&e.path()).is_some() && e.path().join("golden").is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut models = Vec::new();
    for name in names {
        let path = model_file(&dir.join(&name)).ok_or_else(|| format!("{name}: no model"))?;
        let bytes = std::fs::read(&path).map_err(|e| format!("{name}: {e}"))?;
        match kiln_codegen::read_model(&bytes) {
            Ok(g)
                if int8_only
                    && !g
                        .tensors
                        .iter()
                        .any(|t| t.dtype == kiln_codegen::ir::DType::I8) =>
            {
                left_out.push(format!("{name} (no int8 tensor)"));
            }
            // A model with an op kiln lacks is reported as left out, with the op; any other
            // read error still makes a failed row.
            Err(kiln_codegen::Error::Read(kiln_codegen::ReadError::UnsupportedOp {
                index,
                name: op,
                ..
            }))
            | Err(kiln_codegen::Error::ReadOnnx(
                kiln_codegen::front::onnx::ReadError::UnsupportedOp {
                    index, op_type: op, ..
                },
            )) => {
                left_out.push(format!("{name} (unsupported: operator {index} is {op})"));
            }
            _ => models.push(name),
        }
    }
    if models.is_empty() {
        return Err(format!("no int8 models in {}", dir.display()));
    }
    Ok(models)
}

fn progress(row: &Row) {
    let what = match &row.outcome {
        Outcome::Ok(m) => format!("golden ok, {} instructions", m.instructions),
        Outcome::NoFit(e) => format!("does not fit: {e}"),
        Outcome::Failed { summary, .. } => summary.clone(),
    };
    eprintln!(
        "[{}] {}: {what} (build {:.1} s, run {:.1} s)",
        row.board, row.model, row.build_secs, row.run_secs
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_board_maps_to_a_kiln_target() {
        for (board, target) in BOARDS {
            let t = kiln_targets::lookup(target).unwrap_or_else(|| panic!("{board} -> {target}"));
            // Only microbit is a board profile (fit-checked); the mps2/virt boards have 4 MiB
            // memories, so they are compiled for the bare core.
            assert_eq!(
                matches!(t, kiln_targets::Target::Board(_)),
                *board == "microbit",
                "{board}"
            );
        }
    }

    #[test]
    fn a_predict_stack_over_its_bound_fails_the_run() {
        let row = |stack: u64| Row {
            model: "m".into(),
            board: "mps2-an386".into(),
            target: "cortex-m4f".into(),
            macs: Some(1),
            arena: Some(1),
            outcome: Outcome::Ok(Measure {
                predict_stack: Some(stack),
                ..Measure::default()
            }),
            build_secs: 0.0,
            run_secs: 0.0,
            layers: None,
        };
        let bound = stack_bytes("cortex-m4f").unwrap() as u64;
        let report = |stack| Report {
            rows: vec![row(stack)],
            peers: vec![],
            baselines: vec![],
            kernel_checks: vec![],
            left_out: vec![],
            anchors: Anchors::parse(None, None),
        };
        assert!(over_stack(&report(bound)).is_empty());
        let over = over_stack(&report(bound + 1));
        assert_eq!(over.len(), 1);
        assert!(over[0].contains("more than STACK_BYTES"), "{}", over[0]);
    }
}
