//! The whole pipeline on arbitrary bytes, for the fuzz targets (`fuzz/`) and for the replay of
//! their findings (`fuzz/regressions/`, run by `cargo test`).
//!
//! [`pipeline`] runs everything a user can reach from a model file: read, validate, plan,
//! inspect (tables, JSON, SVG), the module `include_model!` expands to, and the crate
//! `kiln build` writes (portable, or for `target`). It panics only on a kiln bug: a panic
//! inside, or an error message that is not one clean line.

use crate::Error;

/// What [`pipeline`] produced, for the caller to look at (and so that nothing is optimised
/// away).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exercised {
    /// Whether the model compiled.
    pub compiled: bool,
    /// Bytes of text and data generated.
    pub bytes: usize,
}

/// Runs the whole pipeline on `bytes` (see the module docs); `Err` is the error kiln reports
/// for the model.
pub fn pipeline(bytes: &[u8], target: Option<&str>) -> Result<Exercised, Error> {
    let result = run(bytes, target);
    if let Err(e) = &result {
        check_message(e);
    }
    result
}

/// The reader alone (what the `tflite_reader` fuzz target runs).
pub fn reader(bytes: &[u8]) -> Result<usize, Error> {
    let graph = crate::front::tflite::read(bytes).map_err(|e| {
        let e = Error::Read(e);
        check_message(&e);
        e
    })?;
    Ok(graph.tensors.len() + graph.ops.len())
}

/// The ONNX reader alone (what the `onnx_reader` fuzz target runs).
pub fn onnx_reader(bytes: &[u8]) -> Result<usize, Error> {
    let graph = crate::front::onnx::read(bytes).map_err(|e| {
        let e = Error::ReadOnnx(e);
        check_message(&e);
        e
    })?;
    Ok(graph.tensors.len() + graph.ops.len())
}

fn run(bytes: &[u8], target: Option<&str>) -> Result<Exercised, Error> {
    let compiled = crate::compile(bytes)?;
    let mut out = Exercised {
        compiled: true,
        bytes: 0,
    };
    out.bytes += compiled.layer_table().len() + compiled.plan_table().len();
    out.bytes += compiled.inspect_json("fuzz").len() + compiled.arena_svg("fuzz").len();
    // Patch-based execution at the largest budget: every stage and band count it can try.
    let banded = compiled.clone().banded(1000);
    out.bytes += banded.layer_table().len() + banded.plan_table().len();
    if banded.banding.is_some() {
        let options = crate::BuildOptions {
            band_budget_per_mille: Some(1000),
            ..Default::default()
        };
        let krate = crate::build_crate_with(bytes, "fuzz", "fuzz.tflite", target, &options)?;
        out.bytes += krate.files.iter().map(|(_, f)| f.len()).sum::<usize>();
    }
    let module = crate::generate_module(bytes, "fuzz", "fuzz.tflite", target, None)?;
    out.bytes += module.to_string().len();
    let krate = crate::build_crate(bytes, "fuzz", "fuzz.tflite", target)?;
    out.bytes += krate.files.iter().map(|(_, f)| f.len()).sum::<usize>();
    for (path, contents) in &krate.files {
        if path.ends_with(".rs") || path.ends_with(".md") || path.ends_with(".toml") {
            check_text(path, contents);
        }
    }
    Ok(out)
}

/// An error is one line of printable text (a model-derived name cannot split it or colour
/// the terminal).
fn check_message(e: &Error) {
    let text = e.to_string();
    assert!(
        !text.chars().any(char::is_control),
        "error message with a control character: {text:?}"
    );
}

/// Generated text: UTF-8, and no control character other than newline (a bare CR or an
/// escape in a doc comment breaks rustc, and a terminal showing the file).
fn check_text(path: &str, contents: &[u8]) {
    let text = std::str::from_utf8(contents)
        .unwrap_or_else(|e| panic!("generated {path} is not UTF-8: {e}"));
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n') {
        panic!("generated {path} holds control character {c:?}");
    }
}
