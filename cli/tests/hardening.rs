//! Regression tests of issue 8 for the `kiln` binary: options checked before the model, keyword
//! names, `--out` that is a file, a crate never left half-written, and hostile tensor names
//! that cannot split an error line or reach the terminal as escapes.

use std::path::Path;
use std::process::Output;

use kiln_fixtures::models;
use kiln_fixtures::writer::serialize;

#[allow(dead_code)] // each test file uses a part of the shared helpers
mod common;

use common::{expect_error, expect_success, kiln, root, scratch};

const TINY_KWS: &str = "fixtures/models/tiny_kws/model.tflite";
const SINE_MLP: &str = "fixtures/models/sine_mlp/model.tflite";

/// Names of the entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn build(model: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<std::ffi::OsString> =
        vec!["build".into(), model.into(), "--out".into(), out.into()];
    args.extend(extra.iter().map(Into::into));
    kiln(&args)
}

#[test]
fn out_naming_a_file_says_it_is_not_a_directory() {
    let dir = scratch("out-file");
    let file = dir.join("a-file");
    std::fs::write(&file, "keep").unwrap();
    let out = build(SINE_MLP, &file, &[]);
    expect_error(&out, &["is not a directory", &file.display().to_string()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
    assert_eq!(entries(&dir), ["a-file"]);
}

#[test]
fn a_failed_write_leaves_nothing_half_written() {
    // OUT/src is a file: src/lib.rs cannot be written. Nothing else may be written either.
    let dir = scratch("src-file");
    let out_dir = dir.join("crate");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(out_dir.join("src"), "in the way").unwrap();
    let out = build(TINY_KWS, &out_dir, &[]);
    expect_error(&out, &["is not a directory", "src"]);
    assert_eq!(entries(&out_dir), ["src"], "files were written");
    assert_eq!(entries(&dir), ["crate"], "a temporary directory was left");

    // A directory where a file of the crate goes.
    let out_dir = dir.join("crate2");
    std::fs::create_dir_all(out_dir.join("Cargo.toml")).unwrap();
    let out = build(TINY_KWS, &out_dir, &[]);
    expect_error(&out, &["Cargo.toml", "is a directory"]);
    assert_eq!(entries(&out_dir), ["Cargo.toml"]);
    assert_eq!(entries(&dir), ["crate", "crate2"]);
}

#[test]
fn a_fresh_crate_appears_whole_and_leaves_no_temporary_files() {
    let dir = scratch("fresh");
    let out_dir = dir.join("deeper/kws");
    expect_success(&build(TINY_KWS, &out_dir, &[]));
    assert_eq!(entries(&dir.join("deeper")), ["kws"]);
    assert_eq!(
        entries(&out_dir),
        ["Cargo.toml", "README.md", "data", "src"]
    );
}

#[test]
fn rebuilding_replaces_the_crate_and_keeps_other_files() {
    let dir = scratch("rebuild");
    let out_dir = dir.join("model");
    expect_success(&build(TINY_KWS, &out_dir, &[]));
    let old_bins = entries(&out_dir.join("data"));
    assert!(!old_bins.is_empty());
    std::fs::write(out_dir.join("keep.txt"), "mine").unwrap();
    std::fs::create_dir_all(out_dir.join("target")).unwrap();
    expect_success(&build(SINE_MLP, &out_dir, &[]));
    let cargo = std::fs::read_to_string(out_dir.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"sine_mlp\""), "{cargo}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("keep.txt")).unwrap(),
        "mine"
    );
    assert!(out_dir.join("target").is_dir());
    // Only the new crate's weights, and no temporary directory.
    let lib = std::fs::read_to_string(out_dir.join("src/lib.rs")).unwrap();
    for bin in entries(&out_dir.join("data")) {
        assert!(lib.contains(&bin), "stale {bin}");
    }
    assert!(
        entries(&out_dir).iter().all(|e| !e.contains("kiln-tmp")),
        "{:?}",
        entries(&out_dir)
    );
}

#[test]
fn options_are_checked_before_the_model() {
    let dir = scratch("options");
    let out_dir = dir.join("crate");
    // The model does not exist; the bad option is still what is reported.
    let out = build("no/such/model.tflite", &out_dir, &["--target", "z80"]);
    let line = expect_error(&out, &["--target", "unknown target 'z80'", "cortex-m4f"]);
    assert!(!line.contains("no/such/model.tflite"), "{line}");
    // A real model: not blamed for the option.
    let out = build(TINY_KWS, &out_dir, &["--target", "z80"]);
    let line = expect_error(&out, &["--target: unknown target 'z80'"]);
    assert!(!line.contains(TINY_KWS), "{line}");
    let out = build("no/such/model.tflite", &out_dir, &["--name", "fn"]);
    expect_error(&out, &["--name", "\"fn\"", "keyword"]);
    assert!(!out_dir.exists());
}

#[test]
fn keyword_names_are_rejected() {
    let dir = scratch("keywords");
    for name in [
        "fn", "self", "Self", "crate", "super", "std", "core", "alloc",
    ] {
        let out_dir = dir.join(name);
        let out = build(SINE_MLP, &out_dir, &["--name", name]);
        expect_error(&out, &["--name", &format!("{name:?}"), "keyword"]);
        assert!(!out_dir.exists(), "{name}");
    }
    // A model file named after a keyword gets a valid default name.
    let model = dir.join("fn.tflite");
    std::fs::copy(root().join(SINE_MLP), &model).unwrap();
    let out_dir = dir.join("out");
    expect_success(&build(model.to_str().unwrap(), &out_dir, &[]));
    let cargo = std::fs::read_to_string(out_dir.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"model_fn\""), "{cargo}");
    let readme = std::fs::read_to_string(out_dir.join("README.md")).unwrap();
    assert!(readme.contains("let mut model = model_fn::Model::new();"));
}

#[test]
fn hostile_tensor_names_cannot_split_or_colour_the_output() {
    let dir = scratch("hostile");
    let mut m = models::find("tiny_kws").unwrap().graph().model().clone();
    for (i, t) in m.tensors.iter_mut().enumerate() {
        t.name = format!("t{i}\nerror: fake\u{1b}[2J|`*/");
    }
    let good = dir.join("hostile.tflite");
    std::fs::write(&good, serialize(&m)).unwrap();
    // A validation error naming a tensor: FULLY_CONNECTED weights made non-constant (they
    // are then read before anything writes them).
    let fc = m.operators[4].inputs[1] as usize;
    m.tensors[fc].buffer = 0;
    let bad = dir.join("bad.tflite");
    std::fs::write(&bad, serialize(&m)).unwrap();
    let out = build(bad.to_str().unwrap(), &dir.join("crate"), &[]);
    let line = expect_error(
        &out,
        &["before any operator writes it", "\\nerror: fake\\u{1b}"],
    );
    assert!(!line.contains('\u{1b}'));

    // inspect prints the names escaped, and its tables keep their columns.
    let out = kiln(&["inspect", good.to_str().unwrap()]);
    expect_success(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\u{1b}') && !stdout.contains("\nerror: fake"));
    // The layer table has 7 columns, the plan table 5.
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with('|')).collect();
    assert!(rows.len() > 10, "{stdout}");
    for line in rows {
        let cells = line.matches('|').count();
        assert!(cells == 8 || cells == 6, "{line}");
    }
    expect_success(&build(good.to_str().unwrap(), &dir.join("crate"), &[]));
}
