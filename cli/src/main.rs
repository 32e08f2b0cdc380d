//! `kiln`: compile a quantized .tflite model into a standalone `no_std` Rust crate.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiln_codegen::Compiled;

mod write;

/// kiln: ahead-of-time compiler from quantized TFLite models to no_std Rust.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a standalone inference crate for MODEL.
    Build {
        /// The .tflite or .onnx model.
        model: PathBuf,
        /// Directory to write the crate into (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Crate name (default: the model file's stem).
        #[arg(long)]
        name: Option<String>,
        /// Board or core to tune for and check the model against (e.g. nrf52840,
        /// cortex-m4f); default: portable code, no fit check.
        #[arg(long)]
        target: Option<String>,
        /// Put the weights (filters, biases, requantization constants) in this link section,
        /// e.g. `.qspi_weights` for external flash your linker script maps; default: .rodata.
        #[arg(long, value_name = "SECTION")]
        weight_section: Option<String>,
        /// Put the lookup tables (activation tables) in this link section; default: .rodata.
        #[arg(long, value_name = "SECTION")]
        table_section: Option<String>,
        /// Patch-based execution: run the first convolutions band by band when that shrinks
        /// the arena for at most this many per mille more MACs (0: off); default: the
        /// target's setting (off), or 50 when the model does not fit its board otherwise.
        #[arg(long, value_name = "PER_MILLE", value_parser = clap::value_parser!(u32).range(0..=1000))]
        band_budget: Option<u32>,
    },
    /// Print the layer table and the arena plan of MODEL; optionally draw the plan as SVG
    /// and/or write everything as JSON.
    ///
    /// With `--svg -` or `--json -` the image or document goes to stdout instead of the
    /// tables (at most one of them can use stdout); with file names the tables are printed
    /// as usual.
    Inspect {
        /// The .tflite or .onnx model.
        model: PathBuf,
        /// Draw the arena over time into FILE ('-' for stdout): x = layer, y = arena offset,
        /// one rectangle per arena buffer (tooltip: tensor, shape, lifetime), the peak marked.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Write layers (op, inputs/outputs with shapes, dtypes, quantization and locations,
        /// MACs, weight bytes), arena buffers (tensor, name, offset, bytes, first and last
        /// layer) and arena_bytes as JSON into FILE ('-' for stdout).
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Show the plan with patch-based execution at this budget (per mille more MACs; see
        /// `build --band-budget`).
        #[arg(long, value_name = "PER_MILLE", value_parser = clap::value_parser!(u32).range(0..=1000))]
        band_budget: Option<u32>,
    },
}

fn read_model(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes the crate; returns the summary line for stdout.
fn build(
    model: &Path,
    out: &Path,
    name: Option<String>,
    target: Option<&str>,
    options: &kiln_codegen::BuildOptions,
) -> Result<String, String> {
    let placement = &options.placement;
    // The options first: a bad option is reported as the option's fault, whatever the model.
    let name = match name {
        Some(name) => {
            kiln_codegen::check_name(&name).map_err(|e| format!("--name: {e}"))?;
            name
        }
        None => kiln_codegen::default_name(model),
    };
    if let Some(target) = target {
        kiln_codegen::lookup_target(target).map_err(|e| format!("--target: {e}"))?;
    }
    placement
        .check()
        .map_err(|e| format!("--weight-section/--table-section: {e}"))?;
    write::check_out(out)?;
    let bytes = read_model(model)?;
    let source_name = model
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("model.tflite");
    let krate = kiln_codegen::build_crate_with(&bytes, &name, source_name, target, options)
        .map_err(|e| match e {
            kiln_codegen::Error::BadName(_) => format!("--name: {e}"),
            e => format!("{}: {e}", model.display()),
        })?;
    write::write_crate(out, &krate.files)?;
    let compiled = &krate.compiled;
    Ok(format!(
        "wrote crate `{name}` to {}: {} layers, {} MACs, weights {} bytes, arena {} bytes\n",
        out.display(),
        compiled.layers.len(),
        compiled.macs(),
        compiled.weight_bytes(),
        compiled.plan.arena_bytes
    ))
}

/// Writes the requested files; returns what goes to stdout.
fn inspect(
    model: &Path,
    svg: Option<PathBuf>,
    json: Option<PathBuf>,
    band_budget: u32,
) -> Result<String, String> {
    let stdout = Path::new("-");
    if svg.as_deref() == Some(stdout) && json.as_deref() == Some(stdout) {
        return Err("--svg - and --json - cannot both write to stdout".into());
    }
    let bytes = read_model(model)?;
    let compiled = kiln_codegen::compile(&bytes)
        .map_err(|e| format!("{}: {e}", model.display()))?
        .banded(band_budget);
    let name = kiln_codegen::default_name(model);
    let outputs = [
        (
            svg,
            "arena drawing",
            Compiled::arena_svg as fn(&Compiled, &str) -> String,
        ),
        (json, "JSON", Compiled::inspect_json),
    ];
    let (mut wrote, mut to_stdout) = (Vec::new(), None);
    for (path, what, render) in outputs {
        match path {
            Some(path) if path == stdout => to_stdout = Some(render(&compiled, &name)),
            Some(path) => {
                std::fs::write(&path, render(&compiled, &name))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                wrote.push(format!("wrote {what} to {}", path.display()));
            }
            None => {}
        }
    }
    if let Some(text) = to_stdout {
        return Ok(text);
    }
    let mut text = format!(
        "{}\n{}\ntotal: {} MACs, weights {} bytes\n\n{}\n",
        model.display(),
        compiled.layer_table(),
        compiled.macs(),
        compiled.weight_bytes(),
        compiled.plan_table()
    );
    for line in wrote {
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build {
            model,
            out,
            name,
            target,
            weight_section,
            table_section,
            band_budget,
        } => build(
            &model,
            &out,
            name,
            target.as_deref(),
            &kiln_codegen::BuildOptions {
                placement: kiln_codegen::Placement {
                    weights: weight_section,
                    tables: table_section,
                },
                band_budget_per_mille: band_budget,
            },
        ),
        Command::Inspect {
            model,
            svg,
            json,
            band_budget,
        } => inspect(&model, svg, json, band_budget.unwrap_or(0)),
    };
    match result {
        Ok(text) => {
            // A closed pipe (e.g. `kiln inspect … | head`) is not an error worth a panic.
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: cannot write to stdout: {e}");
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
