//! Keyword spotting from raw audio, end to end, all in generated code: TFLM's audio front-end
//! model (`audio_preprocessor_int8`: window, FFT, filter bank, noise reduction, PCAN, log)
//! turns 98 frames of 16 kHz PCM — one second of "yes", then one of "no" — into feature rows;
//! rows 0–48 and 49–97 are the two 49×40 feature maps `micro_speech` classifies. Both models go
//! through `kiln::include_model!`, the preprocessor as one `Model` fed the frames in order (its
//! noise estimate carries over from frame to frame).
//!
//! The feature maps must equal micro_speech's `in_real_pcm_yes.bin` / `in_real_pcm_no.bin`
//! (what TFLM's preprocessor produced from the same frames) and the scores its TFLM goldens
//! `out_real_pcm_yes.bin` / `out_real_pcm_no.bin`, byte for byte; the top classes are "yes"
//! and "no". Needs the real models: runs only with `KILN_REAL_MODELS=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use kiln_e2e::{repo_root, run, REAL_MODELS_ENV};

/// Frames in the preprocessor's stream; the first half is "yes", the second "no".
const FRAMES: usize = 98;
/// Feature rows per micro_speech input.
const ROWS: usize = 49;
/// micro_speech's classes, in output order.
const CLASSES: [&str; 4] = ["silence", "unknown", "yes", "no"];

fn models() -> PathBuf {
    repo_root().join("../shared/models")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn generated_front_end_and_classifier_spot_yes_and_no_like_tflm() {
    if std::env::var(REAL_MODELS_ENV).as_deref() != Ok("1") {
        eprintln!("skipped: set {REAL_MODELS_ENV}=1 to run with ../shared/models");
        return;
    }
    let stream = models().join("audio_preprocessor_int8/stream");
    for k in 0..FRAMES {
        assert!(
            stream.join(format!("in_{k}.bin")).is_file(),
            "no frame {k} in {}",
            stream.display()
        );
    }
    assert!(!stream.join(format!("in_{FRAMES}.bin")).exists());
    let model = |name: &str| {
        models()
            .join(name)
            .join("model.tflite")
            .canonicalize()
            .unwrap()
    };
    let (pre, micro) = (model("audio_preprocessor_int8"), model("micro_speech"));
    let stream = stream.canonicalize().unwrap();
    let main = format!(
        r#"kiln::include_model!({pre:?}, name = preprocessor);
kiln::include_model!({micro:?}, name = micro_speech);

fn main() {{
    let stream = std::path::Path::new({stream:?});
    let mut front_end = preprocessor::Model::new();
    let mut maps = [[0i8; {ROWS} * 40]; 2];
    for k in 0..{FRAMES} {{
        let bytes = std::fs::read(stream.join(format!("in_{{k}}.bin"))).unwrap();
        let pcm: preprocessor::Input =
            core::array::from_fn(|i| i16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]));
        let row = front_end.predict(&pcm);
        maps[k / {ROWS}][(k % {ROWS}) * 40..][..40].copy_from_slice(row);
    }}
    let mut classifier = micro_speech::Model::new();
    for map in &maps {{
        let scores = classifier.predict(map);
        let hex = |v: &[i8]| v.iter().map(|b| format!("{{:02x}}", *b as u8)).collect::<String>();
        println!("{{}} {{}} {{}}", hex(map), hex(scores), micro_speech::top_class(scores));
    }}
}}
"#
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kws_from_pcm");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    let macros = repo_root().join("macros");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"kws_from_pcm\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\nkiln = {{ path = {macros:?} }}\n\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::copy(repo_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let stdout = run(Command::new(cargo)
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .env("RUSTFLAGS", "-D warnings"))
    .unwrap_or_else(|e| panic!("{e}"));

    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "printed:\n{stdout}");
    let golden = models().join("micro_speech/golden");
    for (line, word) in lines.iter().zip(["yes", "no"]) {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 3, "bad line: {line}");
        assert_eq!(
            fields[0],
            hex(&read(&golden.join(format!("in_real_pcm_{word}.bin")))),
            "{word}: the preprocessor's feature map differs from TFLM's"
        );
        assert_eq!(
            fields[1],
            hex(&read(&golden.join(format!("out_real_pcm_{word}.bin")))),
            "{word}: micro_speech's scores differ from TFLM's"
        );
        assert_eq!(CLASSES[fields[2].parse::<usize>().unwrap()], word, "{line}");
    }
}
