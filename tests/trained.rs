//! From training to firmware (`docs/training/README.md`): the classifier that
//! `docs/training/make.sh` trained in Keras and quantized to int8 with TensorFlow's converter,
//! committed in `fixtures/trained/`, compiles with kiln and
//! - gives its TFLM goldens byte for byte (seeded random inputs and real test-set samples),
//!   portable and tuned for a Cortex-M4F and for the nRF52840 board, through `kiln build`'s
//!   crates and `kiln::include_model!`, and links into a `no_std` firmware with no panicking path;
//! - classifies every real golden sample as its label, through the API the recipe shows:
//!   `quantize_input` from the real signal, `predict`, `top_class`.
//!
//! CI installs no TensorFlow: it reads the committed model, goldens and `samples.txt`.

use std::path::{Path, PathBuf};
use std::process::Command;

use kiln_e2e::{cases_in, repo_root, run, run_goldens, Case};

/// The folder `docs/training/make.sh` writes, under `fixtures/trained/`.
const MODEL: &str = "waveforms";
/// Its classes, in output order (`CLASSES` in `docs/training/train.py`).
const CLASSES: &[&str] = &["sine", "square", "triangle", "sawtooth"];
/// Golden inputs `oracle.py --golden` draws at random (`in_0.bin` ..), beside the real ones.
const RANDOM_GOLDENS: usize = 4;

fn model_dir() -> PathBuf {
    repo_root().join("fixtures/trained").join(MODEL)
}

/// A test-set sample of `samples.txt`: golden `in_<tag>.bin` is `values` quantized.
struct Sample {
    tag: String,
    label: usize,
    values: Vec<f32>,
}

fn samples() -> Vec<Sample> {
    let path = model_dir().join("samples.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let samples: Vec<Sample> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let mut fields = line.split_whitespace();
            let mut next = || {
                fields
                    .next()
                    .unwrap_or_else(|| panic!("short line: {line}"))
            };
            let tag = next().to_string();
            let label: usize = next().parse().unwrap();
            assert_eq!(
                CLASSES.get(label),
                Some(&next()),
                "{tag}: label and class differ"
            );
            let values = fields.map(|v| v.parse().unwrap()).collect();
            Sample { tag, label, values }
        })
        .collect();
    // Every class is there, each sample has a golden pair.
    for (label, class) in CLASSES.iter().enumerate() {
        assert!(
            samples.iter().any(|s| s.label == label),
            "no sample of class {class}"
        );
    }
    for s in &samples {
        assert_eq!(s.values.len(), 64, "{}: not 64 values", s.tag);
        for file in [format!("in_{}.bin", s.tag), format!("out_{}.bin", s.tag)] {
            assert!(
                model_dir().join("golden").join(&file).is_file(),
                "no golden {file}"
            );
        }
    }
    samples
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Index of the largest int8 score, the first of equals (what `top_class` returns).
fn argmax(scores: &[i8]) -> usize {
    (0..scores.len())
        .max_by(|&a, &b| scores[a].cmp(&scores[b]).then(b.cmp(&a)))
        .unwrap()
}

/// Shared by both tests' cargo builds, so the kiln macro's dependencies build once.
fn work() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("trained")
}

#[test]
fn trained_model_matches_tflm_goldens() {
    let found = cases_in(&repo_root().join("fixtures/trained"), "trained_", &[]);
    let case = found
        .iter()
        .find(|c| c.name == format!("trained_{MODEL}"))
        .unwrap_or_else(|| panic!("no model with goldens in {}", model_dir().display()))
        .clone();
    let cases: Vec<Case> = vec![
        case.for_target("cortex-m4f"),
        case.for_target("nrf52840"),
        case,
    ];
    let cross =
        std::env::var("KILN_CROSS_TARGET").unwrap_or_else(|_| "thumbv7em-none-eabihf".into());
    let cross = (cross != "none").then_some(cross.as_str());
    let run = run_goldens(&work().join("goldens"), &cases, cross).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        run.generate_errors.is_empty(),
        "generation failed:\n{}",
        run.generate_errors.join("\n")
    );

    // Every golden pair, real and random, through every case: one PASS line each.
    let samples = samples();
    let mut tags: Vec<String> = (0..RANDOM_GOLDENS).map(|s| s.to_string()).collect();
    tags.extend(samples.iter().map(|s| s.tag.clone()));
    let check = |runner: &str, lines: &[String], cases: &[&Case]| {
        let fails: Vec<&String> = lines.iter().filter(|l| !l.starts_with("PASS ")).collect();
        assert!(
            fails.is_empty(),
            "{runner}: golden cases differ:\n{fails:#?}"
        );
        for case in cases {
            for tag in &tags {
                let want = format!("PASS {} {tag}", case.name);
                assert!(lines.contains(&want), "{runner}: no `{want}` in {lines:#?}");
            }
        }
        assert_eq!(
            lines.len(),
            cases.len() * tags.len(),
            "{runner}: {lines:#?}"
        );
    };
    check("kiln build", &run.lines, &cases.iter().collect::<Vec<_>>());
    let portable: Vec<&Case> = cases.iter().filter(|c| c.target.is_none()).collect();
    check("include_model!", &run.macro_lines, &portable);

    // The outputs those runs matched are the TFLM goldens: each real sample's golden puts it
    // in its labelled class (so the generated code does too; the next test asks it directly).
    for s in &samples {
        let out = read(&model_dir().join(format!("golden/out_{}.bin", s.tag)));
        assert_eq!(out.len(), CLASSES.len(), "{}: output size", s.tag);
        let scores: Vec<i8> = out.iter().map(|&b| b as i8).collect();
        assert_eq!(
            argmax(&scores),
            s.label,
            "{}: TFLM golden {scores:?} is not class {}",
            s.tag,
            CLASSES[s.label]
        );
    }
}

/// The recipe's firmware code, on the host: `include_model!`, then for each sample
/// `quantize_input(&signal)`, `predict`, `top_class`. The quantized input must equal the golden
/// input byte for byte and the class must be the sample's label.
#[test]
fn recipe_code_classifies_the_test_samples() {
    let samples = samples();
    let dir = work().join("recipe");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let model = model_dir().join("model.tflite").canonicalize().unwrap();
    let macros = repo_root().join("macros");
    let mut calls = String::new();
    for s in &samples {
        let values: Vec<String> = s.values.iter().map(|v| format!("{v:?}")).collect();
        calls.push_str(&format!(
            "    classify(&mut model, {:?}, &[{}]);\n",
            s.tag,
            values.join(", ")
        ));
    }
    let main = format!(
        r#"kiln::include_model!({model:?}, name = waveforms);

fn classify(model: &mut waveforms::Model, tag: &str, signal: &[f32; 64]) {{
    let input: waveforms::Input = waveforms::quantize_input(signal);
    let class = waveforms::top_class(model.predict(&input));
    let bytes: Vec<String> = input.iter().map(|q| format!("{{:02x}}", *q as u8)).collect();
    println!("{{tag}} {{class}} {{}}", bytes.join(""));
}}

fn main() {{
    let mut model = waveforms::Model::new();
{calls}}}
"#
    );
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"recipe\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nkiln = {{ path = {macros:?} }}\n\n[workspace]\n"
        ),
    )
    .unwrap();
    // The macro's dependencies at the versions kiln's own lockfile pins.
    std::fs::copy(repo_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let stdout = run(Command::new(cargo)
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(work().join("recipe-target"))
        .env("RUSTFLAGS", "-D warnings"))
    .unwrap_or_else(|e| panic!("{e}"));

    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), samples.len(), "recipe printed:\n{stdout}");
    for (s, line) in samples.iter().zip(&lines) {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 3, "bad line: {line}");
        assert_eq!(fields[0], s.tag);
        let golden = read(&model_dir().join(format!("golden/in_{}.bin", s.tag)));
        let golden_hex: String = golden.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            fields[2], golden_hex,
            "{}: quantize_input differs from the golden input",
            s.tag
        );
        assert_eq!(
            fields[1],
            s.label.to_string(),
            "{}: top_class is {}, the sample is class {} ({})",
            s.tag,
            fields[1],
            s.label,
            CLASSES[s.label]
        );
    }
}
