//! kiln-bench: kiln's benchmarks.
//!
//! `kiln-bench mcu` builds every int8 model of `../shared/models` into measurement firmware for
//! five QEMU boards (`../shared/tools/mcu`), runs it, checks the output against the TFLM golden
//! on the target, and prints instructions per inference, flash and RAM as a Markdown table.
//! `kiln-bench mcu --check-only` is CI's on-target check: mlperf_kws on mps2-an386 only.

mod firmware;
mod mcu;
mod microflow;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kiln-bench", about = "kiln's benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build every (model, board) into firmware, run it in QEMU, check the golden on the
    /// target and print instructions, flash and RAM. Exits non-zero if any build, run or golden
    /// check fails ("does not fit" is a result, not a failure).
    Mcu {
        /// Comma-separated model names (folders of <shared>/models); default: every int8 model.
        #[arg(long, value_delimiter = ',')]
        models: Vec<String>,
        /// Comma-separated boards; default: mps2-an386,mps2-an500,mps2-an505,microbit,riscv32-virt.
        #[arg(long, value_delimiter = ',')]
        boards: Vec<String>,
        /// CI check: only mlperf_kws on mps2-an386, no baseline, and the kernel check
        /// (--kernels) there; exits non-zero unless the golden matches on the target and the
        /// kernels agree with the reference kernels.
        #[arg(long, conflicts_with_all = ["models", "boards"])]
        check_only: bool,
        /// Golden case: uses golden/in_<TAG>.bin and golden/out_<TAG>.bin.
        #[arg(long, default_value = "0")]
        golden: String,
        /// Boards built and run at the same time (each board's models run in sequence).
        #[arg(long, short = 'j', default_value_t = default_jobs())]
        jobs: usize,
        /// QEMU timeout per run, seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Skip building and running the unmodified template (the harness baseline).
        #[arg(long)]
        no_baseline: bool,
        /// Rebuild firmware even when the cached ELF was built from the same inputs.
        #[arg(long)]
        rebuild: bool,
        /// The shared folder with models/ and tools/mcu/ [default: ../shared beside the repository]
        #[arg(long)]
        shared: Option<PathBuf>,
        /// Where the model folders are (each with model.tflite or model.onnx, and golden/) [default:
        /// <shared>/models]; e.g. fixtures/converter/models for the converter-made fixtures.
        #[arg(long, conflicts_with = "check_only")]
        models_dir: Option<PathBuf>,
        /// Work directory [default: target/kiln-bench in the repository]
        #[arg(long)]
        work: Option<PathBuf>,
        /// Also build every model with a peer into the same template and run it on the same
        /// board: `microflow` (0.1.3, on the models its `#[model]` macro accepts). Prints a
        /// second table, kiln vs peer; peer failures do not change the exit status.
        #[arg(long, value_parser = ["microflow"], conflicts_with = "check_only")]
        peer: Option<String>,
        /// Fail unless every run with a TFLM anchor (`<shared>/anchors/`) executes at most this
        /// many times TFLM's instructions (a regression guard; CI sets it with --check-only).
        #[arg(long)]
        max_tflm_ratio: Option<f64>,
        /// Also count every layer (a second firmware per model with one counted region per
        /// layer) and print per-layer tables beside TFLM + CMSIS-NN's (Cortex-M4 anchors).
        #[arg(long)]
        layers: bool,
        /// Also check kiln's runtime kernels on each board: random convolutions through the
        /// fast kernels (on Arm DSP cores the `asm!` ones) against reference kernels, in QEMU.
        /// Implied by --check-only.
        #[arg(long)]
        kernels: bool,
        /// Patch-based execution's budget for kiln's crates (per mille more MACs; see `kiln
        /// build --band-budget`), to measure what running the first layers band by band costs
        /// and saves; default: the target's setting.
        #[arg(long, value_name = "PER_MILLE")]
        band_budget: Option<u32>,
    },
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The repository root: the parent of this package.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf()
}

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    match command {
        Cmd::Mcu {
            models,
            boards,
            check_only,
            golden,
            jobs,
            timeout,
            no_baseline,
            rebuild,
            shared,
            models_dir,
            work,
            peer,
            layers,
            kernels,
            max_tflm_ratio,
            band_budget,
        } => {
            let (models, boards) = if check_only {
                (
                    vec!["mlperf_kws".to_string()],
                    vec!["mps2-an386".to_string()],
                )
            } else {
                (models, boards)
            };
            let opts = mcu::Options {
                models,
                boards,
                golden,
                models_dir: models_dir.unwrap_or_else(|| {
                    shared
                        .clone()
                        .unwrap_or_else(|| repo_root().join("../shared"))
                        .join("models")
                }),
                shared: shared.unwrap_or_else(|| repo_root().join("../shared")),
                work: work.unwrap_or_else(|| repo_root().join("target/kiln-bench")),
                jobs,
                timeout,
                baseline: !no_baseline && !check_only,
                rebuild,
                microflow: peer.as_deref() == Some("microflow"),
                layers,
                kernels: kernels || check_only,
                band_budget,
            };
            let start = Instant::now();
            let report = match mcu::run(&opts) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            print!("{}", mcu::markdown(&report));
            if layers {
                print!("{}", mcu::layers_markdown(&report));
            }
            println!(
                "\n{} (model, board) runs in {:.1} s.",
                report.rows.len(),
                start.elapsed().as_secs_f64()
            );
            if let Some(max) = max_tflm_ratio {
                let over = mcu::over_budget(&report, max);
                if !over.is_empty() {
                    for o in &over {
                        eprintln!("error: {o}");
                    }
                    return ExitCode::FAILURE;
                }
                eprintln!("every run with a TFLM anchor is within {max}x its instructions");
            }
            let over = mcu::over_stack(&report);
            if !over.is_empty() {
                for o in &over {
                    eprintln!("error: {o}");
                }
                return ExitCode::FAILURE;
            }
            if report.all_ok() {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: some builds, runs or golden checks failed (see above)");
                ExitCode::FAILURE
            }
        }
    }
}
