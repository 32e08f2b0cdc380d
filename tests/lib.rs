//! Support code for kiln's end-to-end tests: find models with goldens, generate their crates
//! into one cargo workspace with a runner, build it once, and run the goldens through the
//! generated code.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment switch that makes the tests use `../shared/models` (CI always sets it).
pub const REAL_MODELS_ENV: &str = "KILN_REAL_MODELS";

/// Real models kiln cannot compile yet, each with the operator its error must name. The golden
/// test leaves them out of the golden runs and asserts this error instead, so none is skipped
/// silently; a model moves out of this list when its issue lands.
pub const EXPECTED_UNSUPPORTED: &[(&str, &str)] = &[];

/// Names of [`EXPECTED_UNSUPPORTED`], to pass as `skip` to [`real_models`].
pub fn expected_unsupported_names() -> Vec<&'static str> {
    EXPECTED_UNSUPPORTED.iter().map(|(name, _)| *name).collect()
}

/// A model with a golden folder.
#[derive(Clone, Debug)]
pub struct Case {
    /// Crate-safe name, e.g. `mlperf_kws` or `fx_conv_same_s2_even`.
    pub name: String,
    /// The model file (`.tflite` or `.onnx`).
    pub model: PathBuf,
    /// Folder with `in_*.bin` / `out_*.bin`.
    pub golden: PathBuf,
    /// Core or board the code is generated for (`None`: portable code).
    pub target: Option<String>,
    /// Patch-based execution's budget, per mille (`None`: the target's default).
    pub band_budget: Option<u32>,
}

impl Case {
    /// The same model generated for `target`, named `<name>_<target>`.
    pub fn for_target(&self, target: &str) -> Case {
        Case {
            name: format!("{}_{}", self.name, target.replace('-', "_")),
            target: Some(target.to_string()),
            ..self.clone()
        }
    }

    /// The same model with its first layers run band by band (patch-based execution) at
    /// `budget` per mille of extra MACs, named `<name>_banded`.
    pub fn banded(&self, budget: u32) -> Case {
        Case {
            name: format!("{}_banded", self.name),
            band_budget: Some(budget),
            ..self.clone()
        }
    }
}

/// The repository root (parent of this package).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Models under `dir/<name>/{model.tflite or model.onnx, golden/}`, named `prefix + name`.
pub fn cases_in(dir: &Path, prefix: &str, skip: &[&str]) -> Vec<Case> {
    let mut cases = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return cases;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if skip.contains(&name.as_str()) {
            continue;
        }
        let model = ["model.tflite", "model.onnx"]
            .map(|f| path.join(f))
            .into_iter()
            .find(|m| m.is_file())
            .unwrap_or_else(|| path.join("model.tflite"));
        let golden = path.join("golden");
        if model.is_file() && golden.is_dir() {
            cases.push(Case {
                name: format!("{prefix}{name}"),
                model,
                golden,
                target: None,
                band_budget: None,
            });
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The real models when `KILN_REAL_MODELS=1` (panics if set but `../shared/models` is missing),
/// else `None`.
pub fn real_models(skip: &[&str]) -> Option<Vec<Case>> {
    match std::env::var(REAL_MODELS_ENV).as_deref() {
        Ok("1") => {
            let dir = repo_root().join("../shared/models");
            assert!(
                dir.join("MANIFEST.md").is_file(),
                "{REAL_MODELS_ENV}=1 but {} has no models",
                dir.display()
            );
            let cases = cases_in(&dir, "", skip);
            assert!(
                !cases.is_empty(),
                "no real models found in {}",
                dir.display()
            );
            Some(cases)
        }
        _ => None,
    }
}

/// The committed fixtures (`fixtures/models`).
pub fn fixture_cases(skip: &[&str]) -> Vec<Case> {
    cases_in(&repo_root().join("fixtures/models"), "fx_", skip)
}

/// Golden input/output files of a case: (tag, inputs, outputs) per case tag, where a model
/// with several inputs has `in_<tag>_<k>.bin`.
pub fn golden_sets(
    case: &Case,
    n_in: usize,
    n_out: usize,
) -> Vec<(String, Vec<PathBuf>, Vec<PathBuf>)> {
    let mut tags: Vec<String> = std::fs::read_dir(&case.golden)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let f = e.file_name().to_string_lossy().to_string();
            let stem = f.strip_prefix("in_")?.strip_suffix(".bin")?.to_string();
            if n_in == 1 {
                Some(stem)
            } else {
                stem.strip_suffix("_0").map(str::to_string)
            }
        })
        .collect();
    tags.sort();
    let files = |prefix: &str, tag: &str, n: usize| -> Vec<PathBuf> {
        if n == 1 {
            vec![case.golden.join(format!("{prefix}_{tag}.bin"))]
        } else {
            (0..n)
                .map(|k| case.golden.join(format!("{prefix}_{tag}_{k}.bin")))
                .collect()
        }
    };
    tags.into_iter()
        .map(|t| (t.clone(), files("in", &t, n_in), files("out", &t, n_out)))
        .collect()
}

/// The steps of a stateful model's stream (`stream/in_<k>.bin`, `stream/out_<k>.bin` beside
/// its golden folder), in order of `k`; empty when it has none.
pub fn stream_steps(case: &Case) -> Vec<(PathBuf, PathBuf)> {
    let Some(dir) = case.golden.parent().map(|p| p.join("stream")) else {
        return Vec::new();
    };
    let mut steps: Vec<(usize, PathBuf, PathBuf)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let f = e.file_name().to_string_lossy().to_string();
            let k: usize = f.strip_prefix("in_")?.strip_suffix(".bin")?.parse().ok()?;
            Some((k, e.path(), dir.join(format!("out_{k}.bin"))))
        })
        .collect();
    steps.sort();
    steps.into_iter().map(|(_, i, o)| (i, o)).collect()
}

/// The result of running every golden through generated code.
pub struct GoldenRun {
    /// One line per golden case, from the crates `kiln build` writes: `PASS name tag` or
    /// `FAIL name tag: ...`.
    pub lines: Vec<String>,
    /// The same, from the modules `kiln::include_model!` expands to (`macro_runner`).
    pub macro_lines: Vec<String>,
    /// Names of models whose crate failed to generate, with the error.
    pub generate_errors: Vec<String>,
}

/// Runs `cmd` to completion: its stdout, or an error with the command, its status, stdout
/// and stderr.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{}\n{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Generates a crate per case into `work/models/`, a runner crate that feeds every golden
/// input through them, and a `macro_runner` crate that does the same through one
/// `kiln::include_model!("<absolute model path>", name = <case>)` per case (the macro crate
/// in `macros/`, not the generated crates); builds both runners with one cargo invocation and
/// runs each.
/// With `cross_target`, also links every generated crate into one `no_std` firmware binary
/// for that target whose panic handler is an undefined symbol: proof that `predict` has no
/// panicking path.
pub fn run_goldens(
    work: &Path,
    cases: &[Case],
    cross_target: Option<&str>,
) -> Result<GoldenRun, String> {
    // One run at a time per work dir: a second `cargo test` of this checkout (another
    // terminal) would otherwise delete the generated crates while this one builds them.
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    let lock = std::fs::File::create(work.join(".lock")).map_err(|e| e.to_string())?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", work.display()))?;
    let models_dir = work.join("models");
    let _ = std::fs::remove_dir_all(&models_dir);
    std::fs::create_dir_all(work.join("runner/src")).map_err(|e| e.to_string())?;
    let mut generate_errors = Vec::new();
    let mut deps = String::new();
    let mut members = vec![
        "\"runner\"".to_string(),
        "\"macro_runner\"".to_string(),
        "\"firmware\"".to_string(),
    ];
    let mut calls = Vec::new();
    let mut macro_includes = String::new();
    let mut macro_calls = Vec::new();
    let mut firmware_calls = String::new();
    // Every case also runs as a `SharedModel` on one arena per element type, shared by all
    // cases and filled with junk first: what one model leaves there must not matter to the next.
    let mut shared_lens: std::collections::BTreeMap<&'static str, usize> = Default::default();
    for case in cases {
        let bytes =
            std::fs::read(&case.model).map_err(|e| format!("{}: {e}", case.model.display()))?;
        if let Err(e) = kiln_codegen::compile(&bytes) {
            generate_errors.push(format!("{}: {e}", case.name));
            continue;
        }
        let options = kiln_codegen::BuildOptions {
            band_budget_per_mille: case.band_budget,
            ..Default::default()
        };
        let source_name = case.model.file_name().and_then(|f| f.to_str());
        let krate = kiln_codegen::build_crate_with(
            &bytes,
            &case.name,
            source_name.unwrap_or("model.tflite"),
            case.target.as_deref(),
            &options,
        )
        .map_err(|e| format!("{}: {e}", case.name))?;
        if case.band_budget.is_some_and(|b| b > 0) && krate.compiled.banding.is_none() {
            generate_errors.push(format!("{}: no patch-based execution", case.name));
        }
        let compiled = &krate.compiled;
        let dir = models_dir.join(&case.name);
        for (rel, contents) in &krate.files {
            let path = dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).map_err(|e| e.to_string())?;
            std::fs::write(&path, contents).map_err(|e| e.to_string())?;
        }
        members.push(format!("\"models/{}\"", case.name));
        let model_path = case
            .model
            .canonicalize()
            .map_err(|e| format!("{}: {e}", case.model.display()))?;
        let mut target = case
            .target
            .as_ref()
            .map(|t| format!(", target = {t:?}"))
            .unwrap_or_default();
        if let Some(budget) = case.band_budget {
            write!(target, ", band_budget = {budget}").unwrap();
        }
        // The macro emits what `kiln build` emits (one code path in kiln-codegen), so it is
        // checked on the portable cases only, to keep the suite fast.
        let through_macro = case.target.is_none();
        if through_macro {
            writeln!(
                macro_includes,
                "kiln::include_model!({:?}, name = {}{target});",
                model_path.to_str().ok_or("model path is not UTF-8")?,
                case.name
            )
            .unwrap();
        }
        writeln!(
            deps,
            "{} = {{ path = \"../models/{}\" }}",
            case.name, case.name
        )
        .unwrap();

        let g = &compiled.graph;
        let (n_in, n_out) = (g.inputs.len(), g.outputs.len());
        let mut pool_args = String::new();
        let mut firmware_pools = String::new();
        for pool in &compiled.plan.pools {
            let ty = pool.dtype.rust_name();
            let len = pool.bytes / pool.dtype.size();
            let longest = shared_lens.entry(ty).or_default();
            *longest = (*longest).max(len);
            write!(pool_args, "&mut *shared.a_{ty}, ").unwrap();
            write!(firmware_pools, "&mut black_box([{}; {len}]), ", zero_of(ty)).unwrap();
        }
        let zero_inputs: Vec<String> = g
            .inputs
            .iter()
            .map(|&t| {
                let t = &g.tensors[t];
                format!(
                    "&black_box([{}; {}])",
                    zero_of(t.dtype.rust_name()),
                    t.elements()
                )
            })
            .collect();
        // The firmware is built for a Cortex-M4F: portable and M4-tuned code go in.
        if matches!(case.target.as_deref(), None | Some("cortex-m4f")) {
            writeln!(
                firmware_calls,
                "    {{\n        let mut model = {}::Model::new();\n        black_box(model.predict({}));\n    }}",
                case.name,
                zero_inputs.join(", ")
            )
            .unwrap();
            writeln!(
                firmware_calls,
                "    {{\n        let mut model = {}::SharedModel::new();\n        black_box(model.predict({firmware_pools}{}));\n    }}",
                case.name,
                zero_inputs.join(", ")
            )
            .unwrap();
        }
        for (tag, ins, outs) in golden_sets(case, n_in, n_out) {
            let decls: Vec<String> = ins
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let ty = if n_in == 1 {
                        "Input".to_string()
                    } else {
                        format!("Input{k}")
                    };
                    format!("let in{k}: {}::{ty} = decode(&read({:?}));", case.name, p)
                })
                .collect();
            let args: Vec<String> = (0..n_in).map(|k| format!("&in{k}")).collect();
            let compare_as = |how: &str| -> Vec<String> {
                outs.iter()
                    .enumerate()
                    .map(|(k, p)| {
                        let got = if n_out == 1 {
                            "got".to_string()
                        } else {
                            format!("got.{k}")
                        };
                        format!(
                            "compare(&mut fails, {:?}, &encode({got}), &read({:?}));",
                            format!("{} {tag} out{k}{how}", case.name),
                            p
                        )
                    })
                    .collect()
            };
            let compare = compare_as("");
            let compare_shared = compare_as(" (SharedModel)");
            // The generated helpers: the input back from its real values, and the top class.
            let mut helpers = Vec::new();
            let label = format!("{} {tag}", case.name);
            let int8_quantized = |t: usize| {
                let t = &g.tensors[t];
                t.dtype == kiln_codegen::ir::DType::I8
                    && t.quant.as_ref().is_some_and(|q| q.is_per_tensor())
            };
            if n_in == 1 && int8_quantized(g.inputs[0]) {
                helpers.push(format!(
                    "let real = in0.map(|q| ({name}::INPUT_SCALE as f64 * (q as i32 - {name}::INPUT_ZERO_POINT) as f64) as f32);\n        \
                     compare(&mut fails, {label:?}, &encode(&{name}::quantize_input(&real)), &encode(&in0));",
                    name = case.name,
                    label = format!("{} {tag} quantize_input", case.name),
                ));
            }
            // `top_class` exists for int8 and float32 outputs (not for ARG_MAX's indices).
            let scores = |t: usize| {
                let t = &g.tensors[t];
                t.elements() > 1
                    && matches!(
                        t.dtype,
                        kiln_codegen::ir::DType::I8 | kiln_codegen::ir::DType::F32
                    )
            };
            if n_out == 1 && scores(g.outputs[0]) {
                helpers.push(format!(
                    "let top = {name}::top_class(got);\n        \
                     if got.iter().enumerate().any(|(i, v)| v > &got[top] || (v == &got[top] && i < top)) {{ fails.push(format!(\"{label}: top_class {{top}}\")); }}",
                    name = case.name,
                ));
            }
            if n_out == 1 && int8_quantized(g.outputs[0]) {
                helpers.push(format!(
                    "let real = {name}::dequantize_output(got);\n        \
                     if real.iter().zip(got.iter()).any(|(r, &q)| *r != ({name}::OUTPUT_SCALE as f64 * (q as i32 - {name}::OUTPUT_ZERO_POINT) as f64) as f32) {{ fails.push(format!(\"{label}: dequantize_output\")); }}",
                    name = case.name,
                ));
            }
            // One function per golden set: rustc and LLVM handle many small functions (spread
            // over codegen units) far faster than one huge `main`.
            let call = format!(
                "#[inline(never)]\n#[allow(unused_variables)]\nfn check_{{}}(shared: &mut Shared) {{\n        let mut model = Box::new({name}::Model::new());\n        {decls}\n        let got = model.predict({args});\n        let mut fails = Vec::new();\n        {compare}\n        {helpers}\n        \
                 let mut shared_model = Box::new({name}::SharedModel::new());\n        let got = shared_model.predict({pool_args}{args});\n        {compare_shared}\n        \
                 report({label:?}, fails);\n}}\n",
                name = case.name,
                decls = decls.join("\n        "),
                args = args.join(", "),
                compare = compare.join("\n        "),
                compare_shared = compare_shared.join("\n        "),
                helpers = helpers.join("\n        "),
                label = format!("{} {tag}", case.name),
            );
            calls.push(call.clone());
            if through_macro {
                macro_calls.push(call);
            }
        }
        // A stateful model's stream: its inputs in order through one model, the state carried
        // from call to call; then `reset()` and the first input again, which must give the
        // first output again. Both as a `Model` and as a `SharedModel`.
        let steps = stream_steps(case);
        if n_in == 1 && n_out == 1 && !steps.is_empty() {
            let label = format!("{} stream", case.name);
            let list = |files: Vec<&PathBuf>| {
                files
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let ins = list(steps.iter().map(|(i, _)| i).collect());
            let outs = list(steps.iter().map(|(_, o)| o).collect());
            let call = format!(
                "#[inline(never)]\n#[allow(unused_variables)]\nfn check_{{}}(shared: &mut Shared) {{\n        \
                 const INS: &[&str] = &[{ins}];\n        const OUTS: &[&str] = &[{outs}];\n        \
                 let mut model = Box::new({name}::Model::new());\n        \
                 let mut shared_model = Box::new({name}::SharedModel::new());\n        \
                 let mut fails = Vec::new();\n        \
                 for (k, (i, o)) in INS.iter().zip(OUTS).enumerate() {{\n            \
                 let input: {name}::Input = decode(&read(i));\n            \
                 compare(&mut fails, &format!(\"{label} step {{k}}\"), &encode(model.predict(&input)), &read(o));\n            \
                 compare(&mut fails, &format!(\"{label} step {{k}} (SharedModel)\"), &encode(shared_model.predict({pool_args}&input)), &read(o));\n        \
                 }}\n        \
                 model.reset();\n        shared_model.reset();\n        \
                 let input: {name}::Input = decode(&read(INS[0]));\n        \
                 compare(&mut fails, \"{label} after reset\", &encode(model.predict(&input)), &read(OUTS[0]));\n        \
                 compare(&mut fails, \"{label} after reset (SharedModel)\", &encode(shared_model.predict({pool_args}&input)), &read(OUTS[0]));\n        \
                 report({label:?}, fails);\n}}\n",
                name = case.name,
            );
            calls.push(call.clone());
            if through_macro {
                macro_calls.push(call);
            }
        }
    }
    let workspace = format!(
        "[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n[profile.release]\nopt-level = 3\ndebug = false\nincremental = true\ncodegen-units = 16\n\n\
         [profile.firmware]\ninherits = \"release\"\npanic = \"abort\"\nlto = \"fat\"\ncodegen-units = 1\nincremental = false\n",
        members.join(", ")
    );
    std::fs::create_dir_all(work.join("firmware/src")).map_err(|e| e.to_string())?;
    let firmware_toml = format!(
        "[package]\nname = \"firmware\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{deps}"
    );
    std::fs::write(work.join("firmware/Cargo.toml"), firmware_toml).map_err(|e| e.to_string())?;
    let firmware = format!("{FIRMWARE_PRELUDE}\n#[no_mangle]\npub extern \"C\" fn _start() -> ! {{\n{firmware_calls}    loop {{}}\n}}\n");
    std::fs::write(work.join("firmware/src/main.rs"), firmware).map_err(|e| e.to_string())?;
    std::fs::write(work.join("Cargo.toml"), workspace).map_err(|e| e.to_string())?;
    let runner_toml = format!(
        "[package]\nname = \"runner\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{deps}"
    );
    std::fs::write(work.join("runner/Cargo.toml"), runner_toml).map_err(|e| e.to_string())?;
    let main = runner_main(&shared_lens, &calls, "");
    std::fs::write(work.join("runner/src/main.rs"), main).map_err(|e| e.to_string())?;

    // The macro runner: the same comparisons, over modules expanded by `include_model!`.
    std::fs::create_dir_all(work.join("macro_runner/src")).map_err(|e| e.to_string())?;
    let macro_runner_toml = format!(
        "[package]\nname = \"macro_runner\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nkiln = {{ path = {:?} }}\n",
        repo_root()
            .join("macros")
            .to_str()
            .ok_or("repository path is not UTF-8")?
    );
    std::fs::write(work.join("macro_runner/Cargo.toml"), macro_runner_toml)
        .map_err(|e| e.to_string())?;
    let macro_main = runner_main(&shared_lens, &macro_calls, &macro_includes);
    std::fs::write(work.join("macro_runner/src/main.rs"), macro_main).map_err(|e| e.to_string())?;
    // The macro's dependencies (syn, quote, ..) at the versions kiln's own lockfile pins, so
    // this workspace resolves from what building kiln already fetched.
    std::fs::copy(repo_root().join("Cargo.lock"), work.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy kiln's Cargo.lock: {e}"))?;

    let target_dir = work.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Both runners in one cargo invocation, then each binary on its own. Warnings are errors:
    // a generated crate (or module) must build clean, with no dead runtime code.
    run(Command::new(&cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "runner",
            "-p",
            "macro_runner",
            "--manifest-path",
        ])
        .arg(work.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", "-D warnings"))?;
    let exe = |name: &str| {
        target_dir
            .join("release")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    };
    let stdout = run(&mut Command::new(exe("runner")))?;
    let macro_stdout = run(&mut Command::new(exe("macro_runner")))?;
    if let Some(target) = cross_target {
        // One no_std binary calling every model's predict, fat LTO: its panic handler calls
        // an undefined symbol, so linking fails if any panicking path survives optimisation.
        run(Command::new(&cargo)
            .args([
                "build",
                "--quiet",
                "--profile",
                "firmware",
                "-p",
                "firmware",
                "--target",
                target,
                "--manifest-path",
            ])
            .arg(work.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .env("RUSTFLAGS", "-D warnings"))?;
    }
    Ok(GoldenRun {
        lines: stdout.lines().map(str::to_string).collect(),
        macro_lines: macro_stdout.lines().map(str::to_string).collect(),
        generate_errors,
    })
}

/// A runner's `main.rs`: the prelude, `items` (the macro runner's `include_model!`s), the
/// shared arenas (one per element type, `lens` long, filled with junk), one function per golden
/// set (`checks`, each with a `{}` for its number) and `main` calling them in order.
fn runner_main(
    lens: &std::collections::BTreeMap<&'static str, usize>,
    checks: &[String],
    items: &str,
) -> String {
    let mut fields = String::new();
    let mut inits = String::new();
    for (ty, len) in lens {
        let junk = match *ty {
            "f32" => "f32::NAN",
            "bool" => "true",
            _ => "0x5A",
        };
        writeln!(fields, "    a_{ty}: Box<[{ty}; {len}]>,").unwrap();
        writeln!(
            inits,
            "        a_{ty}: vec![{junk}; {len}].into_boxed_slice().try_into().unwrap(),"
        )
        .unwrap();
    }
    let mut functions = String::new();
    let mut calls = String::new();
    for (k, check) in checks.iter().enumerate() {
        functions.push_str(&check.replacen("{}", &k.to_string(), 1));
        writeln!(calls, "    check_{k}(&mut shared);").unwrap();
    }
    format!(
        "{RUNNER_PRELUDE}\n{items}\n/// Arenas every `SharedModel` runs on, one after the other.\n\
         struct Shared {{\n{fields}}}\n\n{functions}\n\
         fn main() {{\n    let mut shared = Shared {{\n{inits}    }};\n{calls}}}\n"
    )
}

/// A zero of the Rust element type `ty`, as a literal.
fn zero_of(ty: &str) -> String {
    match ty {
        "bool" => "false".to_string(),
        _ => format!("0 as {ty}"),
    }
}

/// The firmware binary's prelude: `no_std`, and a panic handler that cannot link.
const FIRMWARE_PRELUDE: &str = r#"
#![no_std]
#![no_main]
use core::hint::black_box;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    extern "C" {
        /// Deliberately undefined: referenced only if generated code can panic.
        fn kiln_generated_code_has_a_panicking_path() -> !;
    }
    unsafe { kiln_generated_code_has_a_panicking_path() }
}
"#;

/// Helpers compiled into the runner: decode/encode tensors, compare bytes, report.
const RUNNER_PRELUDE: &str = r#"
trait Elem: Copy + Default {
    const SIZE: usize;
    fn from_le(b: &[u8]) -> Self;
    fn to_le(self, out: &mut Vec<u8>);
}
impl Elem for i8 {
    const SIZE: usize = 1;
    fn from_le(b: &[u8]) -> Self { b[0] as i8 }
    fn to_le(self, out: &mut Vec<u8>) { out.push(self as u8) }
}
impl Elem for u8 {
    const SIZE: usize = 1;
    fn from_le(b: &[u8]) -> Self { b[0] }
    fn to_le(self, out: &mut Vec<u8>) { out.push(self) }
}
impl Elem for i16 {
    const SIZE: usize = 2;
    fn from_le(b: &[u8]) -> Self { i16::from_le_bytes([b[0], b[1]]) }
    fn to_le(self, out: &mut Vec<u8>) { out.extend(self.to_le_bytes()) }
}
impl Elem for i32 {
    const SIZE: usize = 4;
    fn from_le(b: &[u8]) -> Self { i32::from_le_bytes([b[0], b[1], b[2], b[3]]) }
    fn to_le(self, out: &mut Vec<u8>) { out.extend(self.to_le_bytes()) }
}
impl Elem for bool {
    const SIZE: usize = 1;
    fn from_le(b: &[u8]) -> Self { b[0] != 0 }
    fn to_le(self, out: &mut Vec<u8>) { out.push(self as u8) }
}
impl Elem for f32 {
    const SIZE: usize = 4;
    fn from_le(b: &[u8]) -> Self { f32::from_le_bytes([b[0], b[1], b[2], b[3]]) }
    fn to_le(self, out: &mut Vec<u8>) { out.extend(self.to_le_bytes()) }
}
fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
fn decode<T: Elem, const N: usize>(bytes: &[u8]) -> [T; N] {
    assert_eq!(bytes.len(), N * T::SIZE, "golden input has the wrong size");
    let mut out = [T::default(); N];
    for (o, c) in out.iter_mut().zip(bytes.chunks_exact(T::SIZE)) {
        *o = T::from_le(c);
    }
    out
}
fn encode<T: Elem, const N: usize>(values: &[T; N]) -> Vec<u8> {
    let mut out = Vec::with_capacity(N * T::SIZE);
    for v in values {
        v.to_le(&mut out);
    }
    out
}
fn compare(fails: &mut Vec<String>, what: &str, got: &[u8], want: &[u8]) {
    if got.len() != want.len() {
        fails.push(format!("{what}: {} bytes, golden has {}", got.len(), want.len()));
        return;
    }
    let diffs: Vec<usize> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
    if let Some(&i) = diffs.first() {
        fails.push(format!(
            "{what}: {} of {} bytes differ; first at byte {i}: got {} want {}",
            diffs.len(), got.len(), got[i], want[i]
        ));
    }
}
fn report(label: &str, fails: Vec<String>) {
    if fails.is_empty() {
        println!("PASS {label}");
    } else {
        println!("FAIL {label}: {}", fails.join("; "));
    }
}
"#;
