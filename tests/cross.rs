//! Cross-compilation: crates generated for each core profile build for that core's Rust
//! target (Cortex-M0+/thumbv6m, Cortex-M4F/thumbv7em with the DSP kernels, Cortex-M33/
//! thumbv8m.main with the DSP kernels, RV32IMC), in one cargo invocation per target.
//! Needs the targets installed (`rustup target add …`, as `.ci/run` does).

use std::process::Command;

use kiln_e2e::{expected_unsupported_names, fixture_cases, real_models};

/// (kiln core, Rust target, rustflags) checked. The DSP extension is optional in ARMv8-M,
/// so Cortex-M33 code needs `-C target-cpu=cortex-m33` (the generated docs say so).
const TARGETS: &[(&str, &str, &str)] = &[
    ("cortex-m0plus", "thumbv6m-none-eabi", ""),
    ("cortex-m4f", "thumbv7em-none-eabihf", ""),
    (
        "cortex-m33",
        "thumbv8m.main-none-eabihf",
        "-C target-cpu=cortex-m33",
    ),
    ("riscv32imc", "riscv32imc-unknown-none-elf", ""),
];

#[test]
fn generated_crates_build_for_every_core() {
    let mut cases = fixture_cases(&["unsupported_op"]);
    cases.retain(|c| {
        ["fx_tiny_kws", "fx_sine_mlp", "fx_ad_mini", "fx_dw_mult2"].contains(&c.name.as_str())
    });
    if let Some(real) = real_models(&expected_unsupported_names()) {
        cases.extend(
            real.into_iter()
                .filter(|c| c.name == "mlperf_kws" || c.name == "magic_wand"),
        );
    }
    assert!(cases.len() >= 4, "fixtures missing");
    let work = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cross");

    let mut failures = Vec::new();
    for (core, rust_target, rustflags) in TARGETS {
        // One workspace per core, its crates inside it.
        let ws = work.join(core);
        let _ = std::fs::remove_dir_all(&ws);
        let mut members = Vec::new();
        for case in &cases {
            let bytes = std::fs::read(&case.model).unwrap();
            let name = format!("{}_{}", case.name, core.replace('-', "_"));
            let krate = kiln_codegen::build_crate(&bytes, &name, "model.tflite", Some(core))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let dir = ws.join(&name);
            for (rel, contents) in &krate.files {
                let path = dir.join(rel);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, contents).unwrap();
            }
            members.push(format!("\"{name}\""));
        }
        // Weights and tables in link sections of their own (what a QSPI-flash build does).
        if let Some(case) = cases.iter().find(|c| c.name == "fx_tiny_kws") {
            let bytes = std::fs::read(&case.model).unwrap();
            let name = format!("placed_{}", core.replace('-', "_"));
            let placement = kiln_codegen::Placement {
                weights: Some(".kiln_weights".into()),
                tables: Some(".kiln_tables".into()),
            };
            let krate = kiln_codegen::build_crate_with(
                &bytes,
                &name,
                "model.tflite",
                Some(core),
                &kiln_codegen::BuildOptions {
                    placement,
                    ..Default::default()
                },
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            let lib = &krate
                .files
                .iter()
                .find(|(p, _)| p == "src/lib.rs")
                .unwrap()
                .1;
            assert!(
                String::from_utf8_lossy(lib)
                    .contains("#[unsafe(link_section = \".kiln_weights\")]"),
                "{name}: no link section on the weights"
            );
            let dir = ws.join(&name);
            for (rel, contents) in &krate.files {
                let path = dir.join(rel);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, contents).unwrap();
            }
            members.push(format!("\"{name}\""));
        }
        let root = format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
            members.join(", ")
        );
        std::fs::write(ws.join("Cargo.toml"), root).unwrap();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--workspace",
                "--target",
                rust_target,
                "--manifest-path",
            ])
            .arg(ws.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(work.join("target").join(core))
            .env("RUSTFLAGS", rustflags)
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{core} ({rust_target}):\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "generated crates failed to build (is the target installed? `rustup target add …`):\n{}",
        failures.join("\n")
    );
}
