//! Snapshots of the code kiln generates for small fixtures (an MLP, a CNN and an LSTM; for the CNN
//! also the runtime items it gets), so that
//! every change to the emitted code is reviewed as a diff of `tests/snapshots/*.snap`.
//!
//! After an intended change to the emitter, regenerate the snapshots and review the diff:
//!
//! ```sh
//! INSTA_UPDATE=always cargo test -p kiln-e2e --test snapshots
//! git diff tests/snapshots/
//! ```
//!
//! (`cargo insta review` works too, where cargo-insta is installed.) Without `INSTA_UPDATE`
//! a difference fails the test; outside CI it also leaves the new version beside the old one
//! as `*.snap.new`. With `CI=true` nothing is written, and a missing snapshot fails too.

use std::fmt::Write as _;
use std::path::PathBuf;

use kiln_codegen::{EmitOptions, WeightStorage};

fn model(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/models")
        .join(name)
        .join("model.tflite");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The generated crate root of fixture `name` (prettyplease-formatted), its runtime and its
/// data files.
fn source(name: &str, weights: WeightStorage) -> kiln_codegen::EmittedSource {
    let compiled = kiln_codegen::compile(&model(name)).unwrap();
    let opts = EmitOptions {
        weights,
        source_name: "model.tflite".to_string(),
        target: None,
        placement: Default::default(),
    };
    compiled.emit_source(&opts).unwrap()
}

/// Snapshots live in `tests/snapshots/NAME.snap` (no module prefix, no expression header).
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

/// 64-bit FNV-1a, to show in a snapshot that data bytes changed without storing them.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn sine_mlp_inline_weights() {
    let src = source("sine_mlp", WeightStorage::Inline);
    assert!(
        src.data_files.is_empty(),
        "inline weights need no data files"
    );
    snapshot!("sine_mlp_lib_rs", src.lib);
}

#[test]
fn tiny_kws_weight_files() {
    let src = source("tiny_kws", WeightStorage::Files);
    snapshot!("tiny_kws_lib_rs", src.lib);
    snapshot!("tiny_kws_rt_rs", src.runtime);
    let mut listing = String::new();
    for (file, bytes) in &src.data_files {
        let _ = writeln!(
            listing,
            "data/{file}: {} bytes, fnv1a {:016x}",
            bytes.len(),
            fnv1a(bytes)
        );
    }
    snapshot!("tiny_kws_data_files", listing);
}

#[test]
fn tiny_kws_readme() {
    let krate =
        kiln_codegen::generate_crate(&model("tiny_kws"), "tiny_kws", "model.tflite").unwrap();
    let (_, readme) = krate
        .files
        .iter()
        .find(|(path, _)| path == "README.md")
        .expect("the crate has a README.md");
    snapshot!(
        "tiny_kws_readme_md",
        String::from_utf8(readme.clone()).unwrap()
    );
}

#[test]
fn lstm_state_and_reset() {
    // A stateful model: its `State` (the LSTM's hidden and cell state), `reset`, and the
    // layer that updates the state in place.
    let src = source("lstm_sequence", WeightStorage::Files);
    snapshot!("lstm_sequence_lib_rs", src.lib);
}
