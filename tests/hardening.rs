//! Regression tests of issue 8 (hardening): a tensor listed twice among the graph inputs or
//! outputs, hostile tensor names, sizes a 32-bit target cannot hold, keyword names, options
//! checked before the model, and the replay of every fuzz finding (`fuzz/regressions/`) and of
//! the fuzz seeds.
//!
//! The duplicated-output case is also a fixture (`fixtures/models/duplicate_outputs`), whose
//! TFLM goldens the golden test checks through generated code for every output.

use std::path::Path;
use std::process::Command;

use kiln_codegen::exercise;
use kiln_codegen::names::{shown, MAX_SHOWN_CHARS};
use kiln_codegen::plan::Location;
use kiln_codegen::{build_crate, compile, generate_crate, generate_module, Error};
use kiln_e2e::repo_root;
use kiln_fixtures::graph::{Conv, Graph};
use kiln_fixtures::models;
use kiln_fixtures::writer::{serialize, Activation, Model};

/// The writer-level model of fixture `name`.
fn fixture_model(name: &str) -> Model {
    models::find(name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .graph()
        .model()
        .clone()
}

/// The text of file `rel` of a generated crate.
fn file<'a>(krate: &'a kiln_codegen::GeneratedCrate, rel: &str) -> &'a str {
    let (_, bytes) = krate
        .files
        .iter()
        .find(|(p, _)| p == rel)
        .unwrap_or_else(|| panic!("no {rel}"));
    std::str::from_utf8(bytes).unwrap()
}

/// An error message is one line with no control character.
fn assert_clean_line(text: &str) {
    assert!(
        !text.chars().any(char::is_control),
        "control character in {text:?}"
    );
}

// ---- 1. a tensor listed twice among the graph inputs or outputs ---------------------------

#[test]
fn duplicated_output_shares_one_field_returned_twice() {
    let bytes = std::fs::read(repo_root().join("fixtures/models/duplicate_outputs/model.tflite"))
        .expect("the duplicate_outputs fixture");
    let c = compile(&bytes).unwrap();
    let outs = &c.graph.outputs;
    assert_eq!(outs.len(), 3);
    assert_eq!(outs[0], outs[2], "the fixture lists its last tensor twice");
    assert_ne!(outs[0], outs[1]);
    // The tensor lives in its first output field, which the layer writes.
    assert_eq!(c.plan.locations[outs[0]], Location::Output(0));
    assert_eq!(c.plan.locations[outs[1]], Location::Output(1));
    let krate = generate_crate(&bytes, "dup", "model.tflite").unwrap();
    let lib = file(&krate, "src/lib.rs");
    assert!(
        lib.contains("(&self.output0, &self.output1, &self.output0)"),
        "{lib}"
    );
    assert!(
        !lib.contains("output2: Output2"),
        "a field for the duplicate:\n{lib}"
    );
    assert!(lib.contains("pub type Output2 = [i8; 6];"), "{lib}");
    assert!(
        lib.contains("Output 2 is the same tensor as output 0"),
        "{lib}"
    );
}

#[test]
fn duplicated_output_is_supported_on_any_model() {
    // tiny_kws with its one output listed twice: two references to the same result.
    let mut m = fixture_model("tiny_kws");
    let out = m.outputs[0];
    m.outputs = vec![out, out];
    let bytes = serialize(&m);
    let c = compile(&bytes).unwrap();
    assert_eq!(c.plan.locations[out as usize], Location::Output(0));
    let krate = generate_crate(&bytes, "dup_kws", "model.tflite").unwrap();
    let lib = file(&krate, "src/lib.rs");
    assert!(lib.contains("(&self.output0, &self.output0)"), "{lib}");
    generate_module(&bytes, "dup_kws", "model.tflite", Some("cortex-m4f"), None).unwrap();
}

#[test]
fn duplicated_input_is_rejected_with_a_clear_error() {
    // ADD(a, b) with the graph inputs [a, b, a].
    let mut g = Graph::new("hardening_dup_input");
    let a = g.input_i8(&[1, 6], 0.05, 3);
    let b = g.input_i8(&[1, 6], 0.04, -7);
    let y = g.add(a, b, Activation::None);
    g.output(y);
    let mut m = g.model().clone();
    assert!(compile(&serialize(&m)).is_ok());
    let first = m.inputs[0];
    m.inputs.push(first);
    let err = compile(&serialize(&m)).unwrap_err();
    assert!(matches!(err, Error::Plan(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "graph inputs 0 and 2 are the same tensor {first} 'input'"
        )) && text.contains("distinct tensor"),
        "{text}"
    );
    assert!(generate_crate(&serialize(&m), "dup_in", "m.tflite").is_err());
}

// ---- 2. hostile names -----------------------------------------------------------------------

/// Names that once broke messages or generated text.
const HOSTILE: &[&str] = &[
    "a\nerror: impersonated",
    "\u{1b}[31mred\u{1b}[0m",
    "*/ fn evil() {} /*",
    "`code` | cell | \"quoted\" 'single'",
    "cr\rlf\r\n",
    "rtl\u{202e}txt.exe",
    "tab\there\0nul",
];

#[test]
fn hostile_names_never_break_messages() {
    for (i, name) in HOSTILE.iter().enumerate() {
        // A read error (a zero point beyond 32 bits) and a validation error
        // (non-constant FC weights), each naming the hostile tensor.
        let mut m = fixture_model("sine_mlp");
        let w = m.operators[0].inputs[1] as usize;
        m.tensors[w].name = name.to_string();
        let mut read = m.clone();
        read.tensors[w].quantization.as_mut().unwrap().zero_point = vec![1 << 40];
        let mut invalid = m.clone();
        invalid.tensors[w].buffer = 0;
        for (what, bytes) in [
            ("read", serialize(&read)),
            ("validate", serialize(&invalid)),
        ] {
            let err = compile(&bytes).unwrap_err();
            let text = err.to_string();
            assert_clean_line(&text);
            assert!(
                text.contains(&shown(name)),
                "{i} {what}: {text:?} does not show {:?}",
                shown(name)
            );
        }
    }
}

#[test]
fn long_names_show_their_tail() {
    // TensorFlow's fused names run to 230 characters.
    let long = format!(
        "{}model/conv2d_17/Conv2D;model/batch_normalization_17/FusedBatchNormV3;model/re_lu_17/Relu6",
        "model/sequential/".repeat(8)
    );
    assert!(long.len() > 200);
    let mut m = fixture_model("sine_mlp");
    let w = m.operators[0].inputs[1] as usize;
    m.tensors[w].name = long.clone();
    m.tensors[w].quantization.as_mut().unwrap().zero_point = vec![1 << 40];
    let text = compile(&serialize(&m)).unwrap_err().to_string();
    assert!(text.contains("…"), "{text}");
    assert!(text.contains("re_lu_17/Relu6'"), "{text}");
    assert!(
        text.len() < 110 + MAX_SHOWN_CHARS * 4,
        "{} bytes: {text}",
        text.len()
    );
}

#[test]
fn hostile_names_never_break_generated_text() {
    // Every tensor of tiny_kws gets a hostile name; the file name is hostile too.
    let mut m = fixture_model("tiny_kws");
    for (i, t) in m.tensors.iter_mut().enumerate() {
        t.name = format!("{}#{i}", HOSTILE[i % HOSTILE.len()]);
    }
    let bytes = serialize(&m);
    let source = "we`ird\" |name*/.tflite";
    let krate = build_crate(&bytes, "hostile", source, None).unwrap();
    for (path, contents) in &krate.files {
        if let Ok(text) = std::str::from_utf8(contents) {
            if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n') {
                panic!("{path} holds {c:?}");
            }
            if path.ends_with(".rs") && path != "src/rt.rs" {
                assert!(!text.contains("*/"), "{path} closes a comment");
                assert!(!text.contains("error: impersonated\n"), "{path}");
            }
        }
    }
    // Every row of the README's tables has as many cells as its header.
    let readme = file(&krate, "README.md");
    let mut cells = None;
    for line in readme.lines() {
        if line.starts_with('|') {
            let n = line.matches('|').count();
            if line.starts_with("| tensor") || line.starts_with("| #") {
                cells = Some(n);
            }
            assert_eq!(Some(n), cells, "broken table row: {line}");
        } else {
            cells = None;
        }
    }
    // The README example and Cargo.toml stay intact.
    assert!(readme.contains("let mut model = hostile::Model::new();"));
    let toml = file(&krate, "Cargo.toml");
    let description = toml
        .lines()
        .find(|l| l.starts_with("description = "))
        .unwrap();
    assert!(
        description.ends_with("generated by kiln\"")
            && description.matches('"').count() - description.matches("\\\"").count() == 2,
        "{description}"
    );
    // And the crate builds: the doc comments holding the names are valid Rust.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hardening-hostile");
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, contents) in &krate.files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
    }
    std::fs::write(dir.join("Cargo.toml"), {
        let mut t = toml.to_string();
        t.push_str("\n[workspace]\n");
        t
    })
    .unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["check", "--quiet", "--offline", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the crate does not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- 3. sizes the target cannot hold --------------------------------------------------------

/// x → SOFTMAX → SOFTMAX → SOFTMAX → out, every tensor `[1, n]` int8: the middle two are live
/// together (SOFTMAX does not run in place), so the arena is 2n bytes.
fn softmax_chain(n: i32) -> Vec<u8> {
    let mut g = Graph::new("hardening_sizes");
    let x = g.input_i8(&[1, 8], 0.05, 0);
    let y = g.softmax(x, 1.0);
    let y = g.softmax(y, 1.0);
    let y = g.softmax(y, 1.0);
    g.output(y);
    let mut m = g.model().clone();
    for t in &mut m.tensors {
        t.shape = vec![1, n];
    }
    serialize(&m)
}

#[test]
fn element_wise_layers_write_over_a_dying_input() {
    // x → RELU → RELU → RELU: each RELU (a table) overwrites the tensor before it, so the
    // two intermediate tensors share one buffer; the same chain of SOFTMAX needs two.
    let mut g = Graph::new("in_place_chain");
    let x = g.input_i8(&[1, 1000], 0.05, 0);
    let y = g.relu(x);
    let y = g.relu(y);
    let y = g.relu(y);
    g.output(y);
    let c = compile(&serialize(g.model())).unwrap();
    assert_eq!(c.plan.arena_bytes, 1000);
    assert_eq!(c.plan.in_place, vec![None, Some(0), None]);
    let c = compile(&softmax_chain(1000)).unwrap();
    assert_eq!(c.plan.arena_bytes, 2000);
    assert!(c.plan.in_place.iter().all(Option::is_none));
}

#[test]
fn huge_convolutions_stay_out_of_place() {
    // x → RELU → 1×1 CONV → RELU, the conv over 2^22 pixels: computing its in-place lead would walk every pixel, so the
    // planner leaves it out of place (and compiling stays fast); over 64 pixels it runs in place.
    let conv_chain = |side: i32| {
        let mut g = Graph::new("in_place_limit");
        let x = g.input_i8(&[1, 4, 4, 4], 0.05, 0);
        let y = g.relu(x);
        let y = g.conv2d(y, Conv::new(4, 1, 1));
        let y = g.relu(y);
        g.output(y);
        let mut m = g.model().clone();
        for t in &mut m.tensors {
            if t.shape == [1, 4, 4, 4] {
                t.shape = vec![1, side, side, 4];
            }
        }
        serialize(&m)
    };
    let start = std::time::Instant::now();
    let big = compile(&conv_chain(1 << 11)).unwrap();
    assert_eq!(big.plan.in_place, vec![None, None, None]);
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    let small = compile(&conv_chain(8)).unwrap();
    assert_eq!(small.plan.in_place, vec![None, Some(0), None]);
}

#[test]
fn arena_beyond_32_bits_is_a_clear_error() {
    // 2 × 1 GiB of arena: more than isize::MAX on a 32-bit target.
    let bytes = softmax_chain(1 << 30);
    let c = compile(&bytes).unwrap();
    assert_eq!(c.plan.arena_bytes, 1 << 31);
    for target in [None, Some("cortex-m4f"), Some("riscv32imc")] {
        let err = build_crate(&bytes, "big", "big.tflite", target)
            .err()
            .unwrap_or_else(|| panic!("{target:?}: a 2 GiB arena was accepted"));
        let Error::Size(e) = &err else {
            panic!("{target:?}: {err:?}");
        };
        assert_eq!((e.bytes, e.pointer_width), (1 << 31, 32));
        assert_eq!(
            err.to_string(),
            "the activation arena (ARENA_BYTES) needs 2147483648 bytes, more than a 32-bit \
             target can hold (isize::MAX, the largest object: 2147483647 bytes)"
        );
        let module = generate_module(&bytes, "big", "big.tflite", target, None);
        assert!(matches!(module, Err(Error::Size(_))), "{target:?}");
    }
    // On a 64-bit target the same model is fine.
    assert_eq!(kiln_codegen::limits::check(&c, 64), Ok(()));
    // A 2 GiB input alone is too large too (the tensor limit of the reader is 2^31 bytes).
    let bytes = softmax_chain(i32::MAX);
    let err = build_crate(&bytes, "big", "big.tflite", None)
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .starts_with("graph input 0 (tensor 0 'input_0') needs 2147483647 bytes")
            || err
                .to_string()
                .contains("more than a 32-bit target can hold"),
        "{err}"
    );
}

#[test]
fn sizes_within_32_bits_are_accepted() {
    // 2 × 128 MiB: fine.
    let bytes = softmax_chain(1 << 27);
    let krate = build_crate(&bytes, "fits", "fits.tflite", Some("cortex-m0plus")).unwrap();
    assert!(file(&krate, "src/lib.rs").contains("pub const ARENA_BYTES: usize = 268435456;"));
}

// ---- 5. names and options -------------------------------------------------------------------

#[test]
fn keywords_and_builtin_crates_are_not_names() {
    let bytes = std::fs::read(repo_root().join("fixtures/models/sine_mlp/model.tflite")).unwrap();
    for name in [
        "fn", "self", "Self", "crate", "super", "std", "core", "alloc", "type", "async", "gen",
    ] {
        let err = generate_crate(&bytes, name, "m.tflite").err().unwrap();
        assert!(matches!(err, Error::BadName(_)), "{name}: {err:?}");
        assert!(err.to_string().contains("keyword"), "{name}: {err}");
        let err = generate_module(&bytes, name, "m.tflite", None, None)
            .err()
            .unwrap();
        assert!(matches!(err, Error::BadName(_)), "{name}: {err:?}");
    }
    // Default names from such file stems are made valid.
    for (path, name) in [
        ("models/fn.tflite", "model_fn"),
        ("models/Self.tflite", "model_self"),
        ("std/model.tflite", "model_std"),
        ("models/kws.tflite", "kws"),
    ] {
        let got = kiln_codegen::default_name(Path::new(path));
        assert_eq!(got, name);
        assert!(generate_crate(&bytes, &got, "m.tflite").is_ok(), "{got}");
    }
}

#[test]
fn unknown_target_is_reported_before_the_model_is_read() {
    // Not a model at all: the target is still what is reported.
    for bytes in [
        &b"junk"[..],
        &std::fs::read(repo_root().join("fixtures/models/sine_mlp/model.tflite")).unwrap(),
    ] {
        let err = build_crate(bytes, "ok", "m.tflite", Some("z80"))
            .err()
            .unwrap();
        assert!(matches!(err, Error::UnknownTarget(_)), "{err:?}");
        let err = generate_module(bytes, "ok", "m.tflite", Some("z80"), None)
            .err()
            .unwrap();
        assert!(matches!(err, Error::UnknownTarget(_)), "{err:?}");
    }
    // A hostile target name cannot split the message.
    let err = kiln_codegen::lookup_target("x\nerror: y").err().unwrap();
    assert_clean_line(&err.to_string());
}

// ---- fuzz findings and seeds ----------------------------------------------------------------

/// Every file under `dir`, sorted.
fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    files
}

/// Each input through the reader alone and the whole pipeline (portable and for two cores),
/// as the fuzz targets run them: errors are fine, panics are not.
fn replay(files: &[std::path::PathBuf]) -> usize {
    let mut compiled = 0;
    for path in files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.display().to_string();
        let run = std::panic::catch_unwind(|| {
            let _ = exercise::reader(&bytes);
            let mut ok = false;
            for target in [None, Some("cortex-m4f"), Some("cortex-m0plus")] {
                ok |= exercise::pipeline(&bytes, target).is_ok_and(|e| e.compiled);
            }
            ok
        });
        match run {
            Ok(ok) => compiled += usize::from(ok),
            Err(_) => panic!("{name} panics (see the message above)"),
        }
    }
    compiled
}

#[test]
fn fuzz_regressions_replay_without_panic() {
    let files = files_in(&repo_root().join("fuzz/regressions"));
    replay(&files);
}

#[test]
fn fuzz_seeds_replay_and_compile() {
    let files = files_in(&repo_root().join("fuzz/seeds"));
    assert!(files.len() >= 10, "{} seeds", files.len());
    let compiled = replay(&files);
    // The seeds are valid fixtures: nearly all of them must get through the whole pipeline.
    assert!(compiled + 2 >= files.len(), "{compiled} of {}", files.len());
}

#[test]
fn the_sanitiser_is_used_for_hostile_seed_names() {
    // The pipeline's own checks (one-line messages, no control characters in generated text)
    // hold for a model whose every tensor has a hostile name.
    let mut m = fixture_model("tiny_kws");
    for (i, t) in m.tensors.iter_mut().enumerate() {
        t.name = format!("{}{i}", HOSTILE[i % HOSTILE.len()]);
    }
    let bytes = serialize(&m);
    assert!(
        exercise::pipeline(&bytes, Some("cortex-m4f"))
            .unwrap()
            .compiled
    );
    let mut wrong = m.clone();
    wrong.operators[4].inputs.swap(0, 1);
    assert!(exercise::pipeline(&serialize(&wrong), None).is_err());
}

#[test]
fn fuzz_seed_corpus_is_the_fixtures() {
    // The committed seeds are copies of fixture models, so they stay valid as the fixtures
    // change (regenerate with fuzz/seed.sh).
    for seed in files_in(&repo_root().join("fuzz/seeds")) {
        let name = seed.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture = repo_root()
            .join("fixtures/models")
            .join(&name)
            .join("model.tflite");
        assert_eq!(
            std::fs::read(&seed).unwrap(),
            std::fs::read(&fixture).unwrap_or_else(|e| panic!("{}: {e}", fixture.display())),
            "{name}: stale seed, run fuzz/seed.sh"
        );
    }
    // And every fixture is a seed.
    let fixtures = std::fs::read_dir(repo_root().join("fixtures/models")).unwrap();
    for dir in fixtures.flatten().filter(|e| e.path().is_dir()) {
        let name = dir.file_name().to_string_lossy().into_owned();
        let seed = repo_root()
            .join("fuzz/seeds")
            .join(format!("{name}.tflite"));
        assert!(
            seed.is_file(),
            "fixture {name} has no seed: run fuzz/seed.sh"
        );
    }
}
