//! `kiln`: compile a quantized .tflite model into a standalone `no_std` Rust crate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
        /// The .tflite model.
        model: PathBuf,
        /// Directory to write the crate into (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Crate name (default: the model file's stem).
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the layer table and the arena plan of MODEL.
    Inspect {
        /// The .tflite model.
        model: PathBuf,
    },
}

fn read_model(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn build(model: &Path, out: &Path, name: Option<String>) -> Result<(), String> {
    let bytes = read_model(model)?;
    let name = name.unwrap_or_else(|| kiln_codegen::default_name(model));
    let source_name = model
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("model.tflite");
    let krate = kiln_codegen::generate_crate(&bytes, &name, source_name)
        .map_err(|e| format!("{}: {e}", model.display()))?;
    for (rel, contents) in &krate.files {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let compiled = kiln_codegen::compile(&bytes).map_err(|e| e.to_string())?;
    println!(
        "wrote crate `{name}` to {}: {} layers, {} MACs, weights {} bytes, arena {} bytes",
        out.display(),
        compiled.layers.len(),
        compiled.macs(),
        compiled.weight_bytes(),
        compiled.plan.arena_bytes
    );
    Ok(())
}

fn inspect(model: &Path) -> Result<(), String> {
    let bytes = read_model(model)?;
    let compiled =
        kiln_codegen::compile(&bytes).map_err(|e| format!("{}: {e}", model.display()))?;
    println!("{}", model.display());
    println!("{}", compiled.layer_table());
    println!(
        "total: {} MACs, weights {} bytes\n",
        compiled.macs(),
        compiled.weight_bytes()
    );
    println!("{}", compiled.plan_table());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { model, out, name } => build(&model, &out, name),
        Command::Inspect { model } => inspect(&model),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
