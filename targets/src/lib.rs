//! Core and board profiles for kiln, as plain data.
//!
//! A *core* says what the instruction set offers (DSP SIMD, FPU, hardware divide) and how
//! kiln tunes code for it; a *board* is a core plus flash and RAM sizes. `kiln build --target`
//! and `include_model!(…, target = "…")` accept either name; [`lookup`] resolves it.
//! Adding a board is one entry in [`BOARDS`].

/// Floating-point unit of a core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fpu {
    /// No FPU: float math is emulated in software.
    None,
    /// Single precision (f32) in hardware.
    Single,
    /// Single and double precision in hardware.
    Double,
}

/// The kernel family kiln emits for a core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelStyle {
    /// Portable Rust loops, for any target.
    Portable,
    /// Register-blocked scalar kernels for cores without SIMD (Cortex-M0+, RV32IMC).
    Scalar,
    /// Arm DSP extension: SMLAD dot products on sign-extended pairs (Cortex-M4/M7/M33).
    ArmDsp,
}

/// A CPU core profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Core {
    /// Name used on the command line, e.g. `cortex-m4f`.
    pub name: &'static str,
    /// Other accepted names, e.g. `cortex-m4`.
    pub aliases: &'static [&'static str],
    /// Rust target triple.
    pub rust_target: &'static str,
    /// LLVM `-C target-cpu`.
    pub target_cpu: &'static str,
    /// Pointer width in bits (`usize`): generated sizes are checked against it.
    pub pointer_width: u32,
    /// Arm DSP extension (SMLAD, SXTB16, QADD…).
    pub dsp: bool,
    /// Floating-point unit.
    pub fpu: Fpu,
    /// Hardware integer divide.
    pub hw_divide: bool,
    /// The kernels kiln emits for it.
    pub kernels: KernelStyle,
    /// Layers with at most this many MACs are emitted as straight-line code with weights as
    /// immediate constants (zero weights skipped) instead of loops.
    pub unroll_max_macs: u64,
    /// Instructions per multiply-accumulate of the loop kernels, ×10 (measured in QEMU). A
    /// small layer is unrolled only when its non-zero weights, at about 3 instructions each
    /// straight-line, cost less than its MACs in the loop.
    pub loop_mac_cost_x10: u32,
    /// Rough code size of an emitted convolution layer (CONV_2D, DEPTHWISE_CONV_2D), bytes,
    /// for the flash fit estimate (their kernels are specialised and unrolled per layer).
    pub code_bytes_per_conv_layer: usize,
    /// Rough code size of any other emitted layer, bytes.
    pub code_bytes_per_layer: usize,
    /// Rough fixed code size of the runtime, bytes (for the flash fit estimate).
    pub code_bytes_base: usize,
    /// Stack that `Model::predict` needs on this core, at most, bytes: a bound measured by
    /// `kiln-bench mcu` (QEMU, every int8 model of `../shared/models`, harness frames included),
    /// which fails when a model needs more. Generated as `STACK_BYTES`; the fit check counts it.
    /// Measured 2026-12-02: at most 252 bytes on the Cortex-M4/M7/M33 (DSP kernels), 892 on
    /// the Cortex-M0 (mlperf_kws; the Cortex-M3 shares its scalar kernels and gets its bound),
    /// 1,068 on RV32IMC (mlperf_vww).
    pub stack_bytes: usize,
    /// Patch-based execution: the first convolutions of an image model run band by band, so
    /// the largest activation never exists whole, when that shrinks the arena and recomputes
    /// at most this many per mille of the model's MACs (rows shared by adjacent bands). 0: off,
    /// the default on every core (it costs instructions: +1.7% on person_detect and +5.7% on
    /// mlperf_vww on the Cortex-M4 for about half the arena). A board model that does not fit
    /// its RAM is retried with patch-based execution before the fit check fails, and
    /// `band_budget` (macro) / `--band-budget` (CLI) override this.
    pub band_budget_per_mille: u32,
}

/// A board: a core plus its memories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    /// Name used on the command line, e.g. `nrf52840`.
    pub name: &'static str,
    /// What it is, for messages and tables.
    pub description: &'static str,
    /// Its core.
    pub core: &'static Core,
    /// Flash available to the program, bytes.
    pub flash_bytes: usize,
    /// RAM available to the program, bytes.
    pub ram_bytes: usize,
}

/// Arm Cortex-M0+ (ARMv6-M): no DSP, no FPU, no divide.
pub const CORTEX_M0PLUS: Core = Core {
    name: "cortex-m0plus",
    aliases: &["cortex-m0", "m0", "m0+"],
    rust_target: "thumbv6m-none-eabi",
    target_cpu: "cortex-m0plus",
    pointer_width: 32,
    dsp: false,
    fpu: Fpu::None,
    hw_divide: false,
    kernels: KernelStyle::Scalar,
    unroll_max_macs: 2048,
    loop_mac_cost_x10: 50,
    code_bytes_per_conv_layer: 3500,
    code_bytes_per_layer: 500,
    code_bytes_base: 3072,
    stack_bytes: 1280,
    band_budget_per_mille: 0,
};

/// Arm Cortex-M3 (ARMv7-M): hardware divide, no DSP, no FPU.
pub const CORTEX_M3: Core = Core {
    name: "cortex-m3",
    aliases: &["m3"],
    rust_target: "thumbv7m-none-eabi",
    target_cpu: "cortex-m3",
    pointer_width: 32,
    dsp: false,
    fpu: Fpu::None,
    hw_divide: true,
    kernels: KernelStyle::Scalar,
    unroll_max_macs: 2048,
    loop_mac_cost_x10: 40,
    code_bytes_per_conv_layer: 3500,
    code_bytes_per_layer: 500,
    code_bytes_base: 3072,
    stack_bytes: 1280,
    band_budget_per_mille: 0,
};

/// Arm Cortex-M4F (ARMv7E-M): DSP extension, single-precision FPU.
pub const CORTEX_M4F: Core = Core {
    name: "cortex-m4f",
    aliases: &["cortex-m4", "m4", "m4f"],
    rust_target: "thumbv7em-none-eabihf",
    target_cpu: "cortex-m4",
    pointer_width: 32,
    dsp: true,
    fpu: Fpu::Single,
    hw_divide: true,
    kernels: KernelStyle::ArmDsp,
    unroll_max_macs: 2048,
    loop_mac_cost_x10: 15,
    code_bytes_per_conv_layer: 3500,
    code_bytes_per_layer: 500,
    code_bytes_base: 3072,
    stack_bytes: 512,
    band_budget_per_mille: 0,
};

/// Arm Cortex-M7 (ARMv7E-M): DSP extension, double-precision FPU, dual issue.
pub const CORTEX_M7: Core = Core {
    name: "cortex-m7",
    aliases: &["m7"],
    rust_target: "thumbv7em-none-eabihf",
    target_cpu: "cortex-m7",
    pointer_width: 32,
    dsp: true,
    fpu: Fpu::Double,
    hw_divide: true,
    kernels: KernelStyle::ArmDsp,
    unroll_max_macs: 2048,
    loop_mac_cost_x10: 15,
    code_bytes_per_conv_layer: 3500,
    code_bytes_per_layer: 500,
    code_bytes_base: 3072,
    stack_bytes: 512,
    band_budget_per_mille: 0,
};

/// Arm Cortex-M33 (ARMv8-M Mainline) with the DSP extension and FPU.
pub const CORTEX_M33: Core = Core {
    name: "cortex-m33",
    aliases: &["m33"],
    rust_target: "thumbv8m.main-none-eabihf",
    target_cpu: "cortex-m33",
    pointer_width: 32,
    dsp: true,
    fpu: Fpu::Single,
    hw_divide: true,
    kernels: KernelStyle::ArmDsp,
    unroll_max_macs: 2048,
    loop_mac_cost_x10: 15,
    code_bytes_per_conv_layer: 3500,
    code_bytes_per_layer: 500,
    code_bytes_base: 3072,
    stack_bytes: 512,
    band_budget_per_mille: 0,
};

/// RISC-V RV32IMC (ESP32-C3 class): multiply/divide, compressed, no SIMD, no FPU.
pub const RISCV32IMC: Core = Core {
    name: "riscv32imc",
    aliases: &["rv32imc", "esp32c3-core"],
    rust_target: "riscv32imc-unknown-none-elf",
    target_cpu: "generic-rv32",
    pointer_width: 32,
    dsp: false,
    fpu: Fpu::None,
    hw_divide: true,
    kernels: KernelStyle::Scalar,
    unroll_max_macs: 2048,
    loop_mac_cost_x10: 50,
    code_bytes_per_conv_layer: 3500,
    code_bytes_per_layer: 500,
    code_bytes_base: 3072,
    stack_bytes: 1536,
    band_budget_per_mille: 0,
};

/// All core profiles.
pub const CORES: &[&Core] = &[
    &CORTEX_M0PLUS,
    &CORTEX_M3,
    &CORTEX_M4F,
    &CORTEX_M7,
    &CORTEX_M33,
    &RISCV32IMC,
];

/// All board profiles. Sizes are the part's total on-chip flash and SRAM (rp2040 and esp32c3:
/// the common 2 MiB / 4 MiB external flash of their reference boards).
pub const BOARDS: &[Board] = &[
    Board {
        name: "nrf52840",
        description: "Nordic nRF52840 (Cortex-M4F, 64 MHz)",
        core: &CORTEX_M4F,
        flash_bytes: 1024 * 1024,
        ram_bytes: 256 * 1024,
    },
    Board {
        name: "stm32f746",
        description: "ST STM32F746 (Cortex-M7, 216 MHz)",
        core: &CORTEX_M7,
        flash_bytes: 1024 * 1024,
        ram_bytes: 320 * 1024,
    },
    Board {
        name: "stm32l4r5",
        description: "ST STM32L4R5 (Cortex-M4F, 120 MHz)",
        core: &CORTEX_M4F,
        flash_bytes: 2048 * 1024,
        ram_bytes: 640 * 1024,
    },
    Board {
        name: "rp2040",
        description: "Raspberry Pi RP2040 (dual Cortex-M0+, 133 MHz, 2 MiB QSPI flash on the Pico)",
        core: &CORTEX_M0PLUS,
        flash_bytes: 2048 * 1024,
        ram_bytes: 264 * 1024,
    },
    Board {
        name: "esp32c3",
        description: "Espressif ESP32-C3 (RV32IMC, 160 MHz, 4 MiB flash)",
        core: &RISCV32IMC,
        flash_bytes: 4096 * 1024,
        ram_bytes: 400 * 1024,
    },
    Board {
        name: "lpc55s69",
        description: "NXP LPC55S69 (Cortex-M33, 150 MHz)",
        core: &CORTEX_M33,
        flash_bytes: 640 * 1024,
        ram_bytes: 320 * 1024,
    },
    Board {
        name: "microbit",
        description: "BBC micro:bit v1 / nRF51822 (Cortex-M0, 16 MHz), as QEMU emulates it",
        core: &CORTEX_M0PLUS,
        flash_bytes: 256 * 1024,
        ram_bytes: 16 * 1024,
    },
];

/// What a `--target` name resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A board: core plus memory limits (the fit check applies).
    Board(&'static Board),
    /// A bare core: tuning only, no memory limits.
    Core(&'static Core),
}

impl Target {
    /// The core to tune for.
    pub fn core(&self) -> &'static Core {
        match self {
            Target::Board(b) => b.core,
            Target::Core(c) => c,
        }
    }

    /// The name it was looked up by (board or core name).
    pub fn name(&self) -> &'static str {
        match self {
            Target::Board(b) => b.name,
            Target::Core(c) => c.name,
        }
    }
}

/// Resolves a board or core name (case-insensitive, aliases accepted).
pub fn lookup(name: &str) -> Option<Target> {
    let name = name.to_ascii_lowercase();
    if let Some(b) = BOARDS.iter().find(|b| b.name == name) {
        return Some(Target::Board(b));
    }
    CORES
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name.as_str()))
        .map(|c| Target::Core(c))
}

/// All accepted names, boards first, for error messages.
pub fn names() -> Vec<&'static str> {
    BOARDS
        .iter()
        .map(|b| b.name)
        .chain(CORES.iter().map(|c| c.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve() {
        assert_eq!(lookup("nrf52840").unwrap().core().name, "cortex-m4f");
        assert_eq!(lookup("Cortex-M4").unwrap().core().name, "cortex-m4f");
        assert!(matches!(lookup("m0+"), Some(Target::Core(c)) if c.name == "cortex-m0plus"));
        assert!(lookup("z80").is_none());
    }

    #[test]
    fn every_name_is_unique_and_dsp_matches_kernels() {
        let mut all: Vec<&str> = names();
        all.extend(CORES.iter().flat_map(|c| c.aliases.iter().copied()));
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "duplicate target name");
        for c in CORES {
            assert_eq!(c.dsp, c.kernels == KernelStyle::ArmDsp, "{}", c.name);
            // The pointer width agrees with the Rust target triple.
            let bits = if c.rust_target.starts_with("thumb") || c.rust_target.starts_with("riscv32")
            {
                32
            } else {
                64
            };
            assert_eq!(c.pointer_width, bits, "{}", c.name);
        }
        for b in BOARDS {
            assert!(b.flash_bytes > 0 && b.ram_bytes > 0, "{}", b.name);
        }
    }
}
