//! kiln's runtime: TFLite's fixed-point arithmetic and the int8 and float32 kernels that
//! generated code calls. The ground floor of kiln: it imports nothing else of kiln.
//!
//! Each file is one family of kernels, with its unit tests beside it, and is compiled and
//! tested here as part of `kiln-codegen`. Generated crates get the items their layers use,
//! copied from these files by the back-end, so everything here must stay
//! `no_std`, allocation-free, dependency-free and free of `unsafe` (outside [`dsp`]) and of
//! panicking paths: slice accesses go through `get`/`get_mut`/`zip`, so an out-of-range access
//! (which the compiler's validation rules out) is skipped rather than a panic. Item names are
//! unique across the files, which are flattened into one `rt` module in generated code; a file
//! sees its siblings through `use super::*`.
//!
//! Every kernel takes a parameter struct whose values are compile-time constants in the
//! generated code, so each call is specialised to its layer by constant propagation.

mod activation;
mod activation_i16;
mod add_tabled;
mod arena;
mod arith;
mod conv;
mod depthwise_ring;
mod dot;
mod dynamic;
mod elementwise;
mod fixed_point;
mod float;
mod float_arith;
mod fully_connected;
mod int16;
mod logic;
mod lstm;
mod math;
mod matmul;
mod movement;
mod pool;
mod qlinear;
mod quantize;
mod resize;
mod scan;
mod signal_bits;
mod signal_energy;
mod signal_fft_auto_scale;
mod signal_filter_bank;
mod signal_filter_bank_log;
mod signal_filter_bank_square_root;
mod signal_pcan;
mod signal_rfft;
mod signal_spectral_subtraction;
mod signal_window;
mod svdf;
mod tile6;
mod trig;

pub use activation::*;
pub use activation_i16::*;
pub use add_tabled::*;
pub use arena::*;
pub use arith::*;
pub use conv::*;
pub use depthwise_ring::*;
pub use dot::*;
pub use dynamic::*;
pub use elementwise::*;
pub use fixed_point::*;
pub use float::*;
pub use float_arith::*;
pub use fully_connected::*;
pub use int16::*;
pub use logic::*;
pub use lstm::*;
pub use math::*;
pub use matmul::*;
pub use movement::*;
pub use pool::*;
pub use qlinear::*;
pub use quantize::*;
pub use resize::*;
pub use scan::*;
pub use signal_bits::*;
pub use signal_energy::*;
pub use signal_fft_auto_scale::*;
pub use signal_filter_bank::*;
pub use signal_filter_bank_log::*;
pub use signal_filter_bank_square_root::*;
pub use signal_pcan::*;
pub use signal_rfft::*;
pub use signal_spectral_subtraction::*;
pub use signal_window::*;
pub use svdf::*;
pub use tile6::*;
pub use trig::*;

/// This file's source (the runtime's root module), for firmware that compiles the whole runtime
/// (`kiln-bench mcu --kernels`).
pub const MOD_SOURCE: &str = include_str!("mod.rs");

/// The runtime's source files, `(file name, source)`, as generated crates copy from them.
pub const SOURCES: &[(&str, &str)] = &[
    ("activation.rs", include_str!("activation.rs")),
    ("activation_i16.rs", include_str!("activation_i16.rs")),
    ("add_tabled.rs", include_str!("add_tabled.rs")),
    ("arena.rs", include_str!("arena.rs")),
    ("arith.rs", include_str!("arith.rs")),
    ("conv.rs", include_str!("conv.rs")),
    ("depthwise_ring.rs", include_str!("depthwise_ring.rs")),
    ("dot.rs", include_str!("dot.rs")),
    ("elementwise.rs", include_str!("elementwise.rs")),
    ("fixed_point.rs", include_str!("fixed_point.rs")),
    ("float.rs", include_str!("float.rs")),
    ("float_arith.rs", include_str!("float_arith.rs")),
    ("fully_connected.rs", include_str!("fully_connected.rs")),
    ("int16.rs", include_str!("int16.rs")),
    ("lstm.rs", include_str!("lstm.rs")),
    ("logic.rs", include_str!("logic.rs")),
    ("math.rs", include_str!("math.rs")),
    ("matmul.rs", include_str!("matmul.rs")),
    ("movement.rs", include_str!("movement.rs")),
    ("pool.rs", include_str!("pool.rs")),
    ("qlinear.rs", include_str!("qlinear.rs")),
    ("dynamic.rs", include_str!("dynamic.rs")),
    ("quantize.rs", include_str!("quantize.rs")),
    ("signal_bits.rs", include_str!("signal_bits.rs")),
    ("signal_energy.rs", include_str!("signal_energy.rs")),
    (
        "signal_fft_auto_scale.rs",
        include_str!("signal_fft_auto_scale.rs"),
    ),
    (
        "signal_filter_bank.rs",
        include_str!("signal_filter_bank.rs"),
    ),
    (
        "signal_filter_bank_log.rs",
        include_str!("signal_filter_bank_log.rs"),
    ),
    (
        "signal_filter_bank_square_root.rs",
        include_str!("signal_filter_bank_square_root.rs"),
    ),
    ("signal_pcan.rs", include_str!("signal_pcan.rs")),
    ("signal_rfft.rs", include_str!("signal_rfft.rs")),
    (
        "signal_spectral_subtraction.rs",
        include_str!("signal_spectral_subtraction.rs"),
    ),
    ("signal_window.rs", include_str!("signal_window.rs")),
    ("svdf.rs", include_str!("svdf.rs")),
    ("tile6.rs", include_str!("tile6.rs")),
    ("trig.rs", include_str!("trig.rs")),
    ("resize.rs", include_str!("resize.rs")),
    ("scan.rs", include_str!("scan.rs")),
];
