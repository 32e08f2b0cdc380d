//! `kiln-bench mcu --kernels`: kiln's runtime kernels checked on the target. One firmware per
//! board holds the runtime (`kiln_codegen::runtime::SOURCES`, as the generated crates get it,
//! untrimmed) and `kiln_codegen::kernel_checks`, whose randomized convolutions run the fast
//! kernels of the board's core (on Arm DSP cores the `asm!` ones) against TFLite's reference
//! loops in QEMU and print `kernels: ok, N comparisons` or the first mismatch (exit status 1).
//! The same check runs on the host in `cargo test`; here the `asm!` is real.

use kiln_codegen::{kernel_checks, runtime};
use kiln_targets::KernelStyle;

use super::board::{BoardBench, File};
use super::Measure;

/// Source of `kiln_fixtures::rng` (no_std-clean), compiled into the firmware.
const RNG_SOURCE: &str = include_str!("../../../fixtures/src/rng.rs");

/// Random cases per run: a few hundred compare each fast kernel on every kind of window.
pub const CASES: usize = 300;

/// One board's on-target kernel check.
#[derive(Clone, Debug)]
pub struct KernelCheck {
    /// QEMU board name.
    pub board: String,
    /// Which kernels ran: `Dsp` (Arm DSP cores: portable and `asm!` kernels) or `Portable`.
    pub kernels: &'static str,
    /// Comparisons that passed and the run's figures (instructions: the whole check), or why
    /// it failed (a mismatch names the kernel, the case and its shape).
    pub result: Result<(u64, Measure), String>,
}

/// Builds and runs the check for `bench`'s board.
pub fn run(bench: &BoardBench) -> KernelCheck {
    let dsp =
        kiln_targets::lookup(bench.target).is_some_and(|t| t.core().kernels == KernelStyle::ArmDsp);
    let kernels = if dsp { "Dsp" } else { "Portable" };
    let result = (|| {
        let files = files(bench, kernels)?;
        let (elf, _) = bench.build("kernel-check", &files, &[])?;
        let out = bench.run(&elf)?;
        let line = out
            .text
            .lines()
            .find_map(|l| l.strip_prefix("kernels:"))
            .map(|l| l.trim().to_string());
        match (out.status, line, out.measure.clone()) {
            (0, Some(line), Some(m)) => {
                let compared = line
                    .strip_prefix("ok, ")
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("unexpected line 'kernels: {line}'"))?;
                Ok((compared, m))
            }
            (_, Some(line), _) => Err(line),
            (_, None, _) => Err(format!(
                "{}:\n{}",
                out.failure(bench.opts.timeout),
                out.text
            )),
        }
    })();
    let what = match &result {
        Ok((n, m)) => format!("ok, {n} comparisons, {} instructions", m.instructions),
        Err(e) => format!("FAILED: {}", e.lines().next().unwrap_or("")),
    };
    eprintln!("[{}] kernel check ({kernels}): {what}", bench.board);
    KernelCheck {
        board: bench.board.to_string(),
        kernels,
        result,
    }
}

/// The firmware crate's own files: `Cargo.toml` (the template's), the runtime under
/// `src/runtime/`, the checks as `src/kernel_checks.rs`, and `src/main.rs`.
fn files(bench: &BoardBench, kernels: &str) -> Result<Vec<File>, String> {
    let toml = crate::firmware::baseline_cargo_toml(&bench.tools.template_toml()?);
    let mut files: Vec<File> = vec![
        ("Cargo.toml".to_string(), toml.into_bytes()),
        ("src/main.rs".to_string(), main_rs(kernels).into_bytes()),
        (
            "src/kernel_checks.rs".to_string(),
            kernel_checks::SOURCE.as_bytes().to_vec(),
        ),
        // The project's one PRNG (SplitMix64), seeded as the host test.
        ("src/rng.rs".to_string(), RNG_SOURCE.as_bytes().to_vec()),
        (
            "src/runtime/mod.rs".to_string(),
            runtime::MOD_SOURCE.as_bytes().to_vec(),
        ),
    ];
    for (name, text) in runtime::SOURCES {
        files.push((format!("src/runtime/{name}"), text.as_bytes().to_vec()));
    }
    Ok(files)
}

/// The check's `main.rs`: the fixtures' generator (`rng.rs`, seeded as the host test)
/// feeds `kernel_checks::conv_kernels` inside one counted region.
fn main_rs(kernels: &str) -> String {
    format!(
        r#"//! kiln's runtime kernels against reference kernels, on the target (kiln-bench).
#![no_std]
#![no_main]
// The whole runtime is compiled; the check uses part of it.
#![allow(dead_code, unused_imports)]

mod bench;
mod kernel_checks;
mod rng;
mod runtime;

#[cfg(target_arch = "arm")]
use cortex_m_semihosting::{{debug, hprintln}};
#[cfg(target_arch = "riscv32")]
use riscv_semihosting::{{debug, hprintln}};

#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {{
    bench::stack_paint();
    let mut rng = rng::Rng::new(core::hint::black_box(0x9e37_79b9_7f4a_7c15));
    let mut random = || rng.next_u64();
    let mut result = Ok(0);
    bench::region(|| {{
        result = kernel_checks::conv_kernels(&mut random, {CASES}, kernel_checks::Kernels::{kernels});
    }});
    hprintln!("stack_peak_bytes: {{}}", bench::stack_peak());
    match result {{
        Ok(n) => {{
            hprintln!("kernels: ok, {{}} comparisons", n);
            debug::exit(debug::EXIT_SUCCESS);
        }}
        Err(m) => {{
            hprintln!("kernels: MISMATCH in case {{}}: {{}}, {{:?}}", m.case, m.kernel, m.shape);
            debug::exit(debug::EXIT_FAILURE);
        }}
    }}
    loop {{}}
}}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {{
    hprintln!("kernels: panic: {{}}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {{}}
}}

#[cfg(target_arch = "arm")]
#[cortex_m_rt::exception]
unsafe fn HardFault(ef: &cortex_m_rt::ExceptionFrame) -> ! {{
    hprintln!("kernels: hardfault: {{:?}}", ef);
    debug::exit(debug::EXIT_FAILURE);
    loop {{}}
}}

#[cfg(target_arch = "riscv32")]
#[export_name = "ExceptionHandler"]
fn exception(tf: &riscv_rt::TrapFrame) -> ! {{
    hprintln!("kernels: exception: {{:?}}", tf);
    debug::exit(debug::EXIT_FAILURE);
    loop {{}}
}}
"#
    )
}
