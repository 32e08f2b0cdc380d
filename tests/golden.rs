//! Golden tests through generated code: every model (fixtures always, the real models in
//! `../shared/models` when `KILN_REAL_MODELS=1`) is compiled to a crate, the crates are built
//! in one cargo invocation (host, and `thumbv7em-none-eabihf`), and every golden input must
//! give the golden output byte for byte: through the generated crates (what `kiln build`
//! writes) and through the modules `kiln::include_model!` expands to. The fixtures include
//! `fixtures/converter/models`, made by the real TFLite converter (`cv_` cases), and
//! `fixtures/onnx/models`, quantized ONNX models with onnxruntime's goldens (`onnx_` cases).

use kiln_e2e::{
    cases_in, expected_unsupported_names, fixture_cases, real_models, repo_root, run_goldens, Case,
    EXPECTED_UNSUPPORTED, REAL_MODELS_ENV,
};
/// Cores the fixtures are also generated for.
const TUNED_FOR: &[&str] = &["cortex-m4f", "cortex-m0plus"];
/// Fixtures that exist to exercise errors, not goldens.
const ERROR_FIXTURES: &[&str] = &["unsupported_op"];
/// Models also run with patch-based execution (their first layers band by band), at the band
/// budget (per mille of extra MACs) given: the fixtures made for it at a budget that cuts them
/// into many bands, the real image models at what a user would allow.
const BANDED: &[(&str, u32)] = &[
    ("fx_image_stem", 1000),
    ("fx_image_stem_valid", 1000),
    ("person_detect", 60),
    ("mlperf_vww", 60),
];

#[test]
fn generated_crates_match_tflm_goldens() {
    let mut cases = fixture_cases(ERROR_FIXTURES);
    assert!(!cases.is_empty(), "no fixtures found under fixtures/models");
    // Models from the real TFLite converter (fixtures/converter/make.sh).
    let converter = cases_in(&repo_root().join("fixtures/converter/models"), "cv_", &[]);
    assert!(
        !converter.is_empty(),
        "no models under fixtures/converter/models"
    );
    cases.extend(converter);
    // Quantized ONNX models, goldens from onnxruntime (fixtures/onnx/make.sh).
    let onnx = cases_in(&repo_root().join("fixtures/onnx/models"), "onnx_", &[]);
    assert!(!onnx.is_empty(), "no models under fixtures/onnx/models");
    cases.extend(onnx);
    // The same fixtures tuned for a DSP core (SMLAD kernels, run here through their portable
    // twins) and for a scalar core (unrolled small layers).
    // (M0+-tuned code differs from portable code only in unrolled FULLY_CONNECTED layers.)
    let has_fc = |c: &Case| {
        let bytes = std::fs::read(&c.model).unwrap_or_default();
        kiln_codegen::compile(&bytes)
            .is_ok_and(|m| m.layers.iter().any(|l| l.op_name == "FULLY_CONNECTED"))
    };
    let tuned: Vec<Case> = TUNED_FOR
        .iter()
        .flat_map(|t| {
            cases
                .iter()
                .filter(move |c| *t != "cortex-m0plus" || has_fc(c))
                .map(move |c| c.for_target(t))
        })
        .collect();
    cases.extend(tuned);
    let banded = |cases: &[Case]| -> Vec<Case> {
        BANDED
            .iter()
            .filter_map(|&(name, budget)| {
                let case = cases.iter().find(|c| c.name == name)?;
                Some([
                    case.banded(budget),
                    case.for_target("cortex-m4f").banded(budget),
                ])
            })
            .flatten()
            .collect()
    };
    let banded_fixtures = banded(&cases);
    assert_eq!(banded_fixtures.len(), 4, "the banded fixtures are missing");
    cases.extend(banded_fixtures);
    match real_models(&expected_unsupported_names()) {
        Some(real) => {
            let dsp: Vec<Case> = real
                .iter()
                .filter(|c| c.name != "magic_wand")
                .map(|c| c.for_target("cortex-m4f"))
                .collect();
            cases.extend(banded(&real));
            cases.extend(real);
            cases.extend(dsp);
        }
        None => eprintln!("note: real models not tested; set {REAL_MODELS_ENV}=1 (CI does)"),
    }
    // KILN_ONLY=a,b keeps the cases whose names contain one of the parts: for working on a
    // few operators. CI never sets it.
    if let Ok(only) = std::env::var("KILN_ONLY") {
        let parts: Vec<&str> = only.split(',').filter(|p| !p.is_empty()).collect();
        cases.retain(|c| parts.iter().any(|p| c.name.contains(p)));
        assert!(!cases.is_empty(), "KILN_ONLY={only} matches no case");
        eprintln!("note: KILN_ONLY={only}: {} cases", cases.len());
    }
    let work = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("golden");
    let cross =
        std::env::var("KILN_CROSS_TARGET").unwrap_or_else(|_| "thumbv7em-none-eabihf".into());
    let cross = (cross != "none").then_some(cross.as_str());
    let run = run_goldens(&work, &cases, cross).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        run.generate_errors.is_empty(),
        "generation failed:\n{}",
        run.generate_errors.join("\n")
    );
    let passes = check_lines("crates (kiln build)", &run.lines, &cases);
    let portable: Vec<Case> = cases
        .iter()
        .filter(|c| c.target.is_none())
        .cloned()
        .collect();
    let macro_passes = check_lines(
        "modules (kiln::include_model!)",
        &run.macro_lines,
        &portable,
    );
    let portable_passes = run
        .lines
        .iter()
        .filter(|l| {
            portable
                .iter()
                .any(|c| l.split(' ').nth(1) == Some(c.name.as_str()))
        })
        .count();
    assert_eq!(
        portable_passes, macro_passes,
        "the two runners ran different numbers of golden cases"
    );
    eprintln!(
        "{passes} golden cases bit-exact over {} generated models (portable and tuned); {macro_passes} of them also through include_model!",
        cases.len()
    );
}

/// Checks one runner's output: every line `PASS`, and every model with at least one golden
/// case. Returns the number of cases.
fn check_lines(runner: &str, lines: &[String], cases: &[Case]) -> usize {
    let fails: Vec<&str> = lines
        .iter()
        .filter(|l| !l.starts_with("PASS "))
        .map(String::as_str)
        .collect();
    assert!(
        fails.is_empty(),
        "{runner}: {} golden cases differ:\n{}",
        fails.len(),
        fails.join("\n")
    );
    // Every model must have contributed at least one golden case.
    for case in cases {
        assert!(
            lines
                .iter()
                .any(|l| l.split(' ').nth(1) == Some(case.name.as_str())),
            "{runner}: {} has no golden cases",
            case.name
        );
    }
    lines.len()
}

/// `"head": N` from an oracle `describe.json` (TFLM's planned activations + scratch bytes).
fn tflm_head_bytes(describe_json: &str) -> Option<usize> {
    let rest = &describe_json[describe_json.find("\"head\"")? + 6..];
    let digits: String = rest
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// Real models whose arena is larger than TFLM's head, and why. The test checks that each is
/// still larger, so an entry cannot outlive its reason.
const ARENA_OVER_TFLM: &[(&str, &str)] = &[(
    "audio_preprocessor_int8",
    "kiln's arena is one typed array per element type (safe Rust cannot view one buffer as \
     several types), so this model's int16, int32, uint32 and uint64 tensors cannot share \
     bytes as they do in TFLM's byte arena",
)];

#[test]
fn arena_is_no_larger_than_tflm_head() {
    let mut cases = fixture_cases(ERROR_FIXTURES);
    cases.extend(real_models(&expected_unsupported_names()).unwrap_or_default());
    let mut checked = 0;
    for case in &cases {
        let describe = case.model.with_file_name("describe.json");
        let json = std::fs::read_to_string(&describe)
            .unwrap_or_else(|e| panic!("{}: {e}", describe.display()));
        let head = tflm_head_bytes(&json)
            .unwrap_or_else(|| panic!("no head bytes in {}", describe.display()));
        let bytes = std::fs::read(&case.model).unwrap();
        let compiled =
            kiln_codegen::compile(&bytes).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let arena = compiled.plan.arena_bytes;
        eprintln!(
            "{:<28} kiln arena {arena:>7}  TFLM head {head:>7}",
            case.name
        );
        match ARENA_OVER_TFLM.iter().find(|(name, _)| *name == case.name) {
            Some((_, why)) => {
                eprintln!("  (larger than TFLM's: {why})");
                assert!(
                    arena > head,
                    "{}: arena {arena} <= TFLM head {head}: remove it from ARENA_OVER_TFLM",
                    case.name
                );
            }
            None => assert!(
                arena <= head,
                "{}: arena {arena} > TFLM head {head}",
                case.name
            ),
        }
        checked += 1;
    }
    assert!(checked > 0);
}

/// Every model folder in `../shared/models` is a golden case and compiles, or is listed in
/// `EXPECTED_UNSUPPORTED` and fails with a clear error that names its first unsupported
/// operator, its index and the supported list (never a panic, never silently skipped). Today
/// the list is empty: all of them compile.
#[test]
fn every_real_model_is_a_case_and_compiles_or_names_its_op() {
    let Some(all) = real_models(&[]) else {
        eprintln!("note: real models not tested; set {REAL_MODELS_ENV}=1 (CI does)");
        return;
    };
    // Every model folder is a case (none dropped for lacking a golden folder), and every case
    // compiles or is listed below with the operator it must be refused for.
    let dir = repo_root().join("../shared/models");
    let folders: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("model.tflite").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    for folder in &folders {
        assert!(
            all.iter().any(|c| &c.name == folder),
            "{folder} has a model.tflite but is not a golden case (no golden/ folder?)"
        );
    }
    for case in &all {
        let listed = EXPECTED_UNSUPPORTED.iter().any(|(n, _)| *n == case.name);
        let compiles = kiln_codegen::compile(&std::fs::read(&case.model).unwrap()).is_ok();
        assert!(
            listed || compiles,
            "{} does not compile and is not in EXPECTED_UNSUPPORTED",
            case.name
        );
    }
    for (name, op) in EXPECTED_UNSUPPORTED {
        let case = all.iter().find(|c| c.name == *name).unwrap_or_else(|| {
            panic!(
                "{name} is listed as expected-unsupported but is not in {}",
                repo_root().join("../shared/models").display()
            )
        });
        let bytes = std::fs::read(&case.model).unwrap();
        let err = match kiln_codegen::compile(&bytes) {
            Ok(_) => panic!("{name} compiles now: move it out of EXPECTED_UNSUPPORTED"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(&format!("is {op}, which kiln does not support"))
                && err.contains("operator ")
                && err.contains("supported: "),
            "{name}: unexpected error: {err}"
        );
    }
}
