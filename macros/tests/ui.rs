//! UI tests of `kiln::include_model!` (trybuild): every error path is a compile error pointing
//! at the path literal or at the bad option, with the message in `ui/*.stderr`; and a fixture
//! compiles and predicts its golden output (`ui/pass_tiny_kws.rs`).
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test -p kiln --test ui`.
//!
//! # Where the model paths of the UI tests resolve
//!
//! The macro joins a relative path to `CARGO_MANIFEST_DIR`. trybuild compiles `ui/*.rs` as
//! binaries of a package it generates in `<target dir>/tests/trybuild/kiln/`, so that is the
//! `CARGO_MANIFEST_DIR` the macro sees, not `macros/`. A path literal cannot be assembled
//! from `env!("CARGO_MANIFEST_DIR")` (a proc macro receives `concat!(..)` unexpanded), and
//! `"../../../../fixtures/.."` reaches the repository only while the target dir is
//! `<repo>/target` (not with `CARGO_TARGET_DIR` elsewhere). So this test first stages the files
//! the UI tests name into that package directory, found the way trybuild finds it (`cargo
//! metadata`'s `target_directory`):
//!
//! - `data/*`: copies of the committed `ui/data/*` (a text file, random bytes);
//! - `fixtures/<name>/model.tflite`: copies of the fixtures the tests include;
//! - `generated/*.tflite`: models built here with `kiln_fixtures` (truncated, invalid);
//! - `keyword/fn.tflite`: a copy of tiny_kws whose stem is a Rust keyword.
//!
//! `include_bytes!` in the UI tests (the goldens) is relative to the source file, which trybuild
//! compiles in place, so those paths point into the repository directly.
//!
//! The missing-file test names an absolute path (`/nonexistent/...`): the macro's message shows
//! the path it tried, which for a relative path includes the staging directory above and would
//! make the snapshot depend on where the target dir is.

use std::path::{Path, PathBuf};
use std::process::Command;

use kiln_fixtures::graph::{Fc, Graph};
use kiln_fixtures::writer::{serialize, Quantization};

/// The fixtures the UI tests include.
const FIXTURES: &[&str] = &["tiny_kws", "unsupported_op", "image_stem"];

#[test]
fn ui() {
    stage(&trybuild_package_dir());
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/err_*.rs");
}

/// `<target dir>/tests/trybuild/kiln`: the package trybuild generates for this crate.
fn trybuild_package_dir() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cannot run cargo metadata");
    assert!(out.status.success(), "cargo metadata failed");
    let json = String::from_utf8(out.stdout).expect("cargo metadata printed non-UTF-8");
    let target = json_string_field(&json, "target_directory")
        .expect("no target_directory in cargo metadata's output");
    Path::new(&target)
        .join("tests/trybuild")
        .join(env!("CARGO_PKG_NAME"))
}

/// The value of the first `"key":"..."` in `json` (with `\\` and `\"` unescaped).
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let pattern = format!("\"{key}\":\"");
    let rest = &json[json.find(&pattern)? + pattern.len()..];
    let mut value = String::new();
    let mut chars = rest.chars();
    loop {
        match chars.next()? {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
}

/// Writes every model file the UI tests name into `dir` (see the module docs).
fn stage(dir: &Path) {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let write = |rel: &str, bytes: &[u8]| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    };
    let read =
        |path: &Path| std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));

    let data = manifest_dir.join("tests/ui/data");
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        write(&format!("data/{name}"), &read(&entry.path()));
    }
    for name in FIXTURES {
        let model = manifest_dir
            .join("../fixtures/models")
            .join(name)
            .join("model.tflite");
        write(&format!("fixtures/{name}/model.tflite"), &read(&model));
    }

    // A model whose file stem is a keyword (`pass_keyword_stem.rs`).
    let kws = manifest_dir.join("../fixtures/models/tiny_kws/model.tflite");
    write("keyword/fn.tflite", &read(&kws));

    let (good, bad) = softmax_models();
    // The unmodified model must compile, or the validation test would test nothing else.
    if let Err(e) = kiln_codegen::compile(&good) {
        panic!("the valid softmax model does not compile: {e}");
    }
    assert!(
        matches!(
            kiln_codegen::compile(&bad),
            Err(kiln_codegen::Error::Validate(_))
        ),
        "the bad softmax model is not a validation error"
    );
    write("generated/softmax_bad_scale.tflite", &bad);
    // Half of a valid model: the identifier is intact, the flatbuffer is cut.
    write("generated/truncated.tflite", &good[..good.len() / 2]);
}

/// A small FULLY_CONNECTED + SOFTMAX model, and the same with the softmax output scale 1/128
/// (TFLM requires 1/256 with zero point -128 for an int8 softmax: a validation error).
fn softmax_models() -> (Vec<u8>, Vec<u8>) {
    let mut g = Graph::new("ui_softmax");
    let x = g.input_i8(&[1, 8], 0.05, 3);
    let y = g.fully_connected(x, Fc::new(4));
    let y = g.softmax(y, 1.0);
    g.output(y);
    let mut m = g.model().clone();
    let good = serialize(&m);
    let out = m.operators.last().unwrap().outputs[0] as usize;
    m.tensors[out].quantization = Some(Quantization::per_tensor(1.0 / 128.0, -128));
    (good, serialize(&m))
}
