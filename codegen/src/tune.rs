//! Per-core tuning: the choices that depend on the core the code will run on, made once from
//! its resolved profile (`targets/`) and read by the back-end and the fit estimate.
//!
//! Today: which dot-product flavour the convolution kernels use, and which small layers become
//! straight-line code. Tile sizes and kernel variants per core belong here too.

use kiln_targets::{Core, KernelStyle};

use crate::layer::{Kernel, Layer};

/// How the int8 convolution kernels form dot products (a runtime `Dot` flavour).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DotProduct {
    /// One multiply-accumulate at a time: portable code and cores without SIMD.
    Scalar,
    /// SMLAD on sign-extended byte pairs: Arm cores with the DSP extension.
    Dsp,
}

impl DotProduct {
    /// The runtime type implementing it (`rt::Scalar`, `rt::Dsp`).
    pub fn runtime_type(self) -> &'static str {
        match self {
            DotProduct::Scalar => "Scalar",
            DotProduct::Dsp => "Dsp",
        }
    }
}

/// Output pixels per block of the patch convolution on DSP cores ([`Tuning::conv_patch_row`]):
/// the width of `rt::patch_dot_tile`'s `asm!` loop, whose five accumulators, two widened
/// weight halves, a pixel's pair of patch words and three pointers use all 12 registers
/// `asm!` may name in Thumb code.
pub const PATCH_PIXELS: usize = crate::runtime::TILE_PIXELS;

/// Most output pixels per block of the scalar patch convolution (accumulators in registers on
/// a Cortex-M0+ or RV32IMC).
pub const PATCH_PIXELS_SCALAR: usize = 4;

/// The register tile of the scalar patch convolution on a core: (output channels, most output
/// pixels). RV32IMC has 31 registers: 4 channels × 2 pixels keep 8 accumulators, 4 weights
/// and 2 patch bytes in registers, 6 loads per 8 MACs. Thumb cores without DSP (and portable
/// code) take one channel × [`PATCH_PIXELS_SCALAR`] pixels: a Cortex-M0+'s MULS overwrites an
/// operand and it has 7 free low registers.
pub fn scalar_tile(core: Option<&kiln_targets::Core>) -> (usize, usize) {
    match core {
        Some(c) if c.rust_target.starts_with("riscv32") => (4, 2),
        _ => (1, PATCH_PIXELS_SCALAR),
    }
}

/// Scratch the patch convolution may use, bytes: layers with long patches take fewer pixels
/// per block rather than more RAM.
pub const PATCH_SCRATCH_BYTES: usize = 6144;

/// Most bytes of [`Tuning::conv_tile6`]'s block of widened patches (six pixels, two bytes
/// per patch byte): a little over [`PATCH_SCRATCH_BYTES`], so that a 3×3 convolution over
/// 64 channels (576-byte patches, 6,912 bytes) takes it.
pub const TILE6_SCRATCH_BYTES: usize = 7 * 1024;

/// Scratch the ring of `rt::depthwise_conv2d_rows` may use, bytes: larger rings run in
/// chunks of channels ([`Tuning::depthwise_rows_chunk`]) rather than take more RAM.
pub const DEPTHWISE_RING_BYTES: usize = 6144;

/// Bytes of the ring of `rt::depthwise_conv2d_ring` for a layer of shape `s`.
pub fn depthwise_ring_bytes(s: &crate::runtime::ConvShape) -> usize {
    3 * s.out_c * crate::runtime::depthwise_ring_width(s.out_w, s.stride_w)
}

/// The narrowest output row `rt::depthwise_conv2d_rows` takes at a horizontal stride of 2:
/// below it the per-row and per-channel set-up outweighs the pairs of pixels, and
/// `rt::depthwise_conv2d_wide` needs fewer instructions (measured on the Cortex-M4: 3 columns
/// 6.38 instructions/MAC against 5.78, 6 columns 4.47 against 5.33). Three columns that
/// requantize fast take the single pass of `rt::depthwise_conv2d_rows6` instead.
pub const DEPTHWISE_ROWS_MIN_S2_WIDTH: usize = 4;

/// Words of `rt::depthwise_conv2d_rows`'s scratch for a layer of shape `s` run in chunks of
/// `chunk` channels: its ring, three padded input rows, per channel of a chunk the row's
/// columns as i16 pairs; then one output row's accumulators.
pub fn depthwise_ring_words(s: &crate::runtime::ConvShape, chunk: usize) -> usize {
    (3 * chunk + 2) * crate::runtime::depthwise_rows_width(s.out_w, s.stride_w)
}

/// Whether a 3×3 depthwise layer's rows can go from multiply-accumulate to byte in one pass
/// (`rt::depthwise_conv2d_rows6`): rows of three to six pixels at a horizontal stride of 1
/// (two or three pairs) or of three at a stride of 2, requantized fast (every right shift
/// at most 22, so the offset goes before the shift) over the whole int8 range (saturation
/// is one SSAT), as mlperf_kws's and the 6×6×128, 6×6→3×3×128 and 3×3×256 layers of the
/// MobileNets.
fn rows_fused(layer: &Layer) -> bool {
    match &layer.kernel {
        Kernel::DepthwiseConv2d(p, w) => {
            let s = &p.shape;
            ((s.stride_w == 1 && (3..=6).contains(&s.out_w)) || (s.stride_w == 2 && s.out_w == 3))
                && p.fast_requant
                && w.shifts.iter().all(|&sh| (-22..=0).contains(&sh))
                && p.act_min == -128
                && p.act_max == 127
        }
        _ => false,
    }
}

/// The tuning of one model for one core (or for no particular core: portable code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// The core tuned for (`None`: portable code).
    pub core: Option<&'static Core>,
    /// The dot-product flavour of the convolution kernels.
    pub dot: DotProduct,
}

impl Tuning {
    /// Portable code: scalar dot products, nothing unrolled.
    pub fn portable() -> Tuning {
        Tuning {
            core: None,
            dot: DotProduct::Scalar,
        }
    }

    /// Code tuned for `core`.
    pub fn for_core(core: &'static Core) -> Tuning {
        Tuning {
            core: Some(core),
            dot: if core.kernels == KernelStyle::ArmDsp {
                DotProduct::Dsp
            } else {
                DotProduct::Scalar
            },
        }
    }

    /// Tuned for `core` when there is one, else portable.
    pub fn for_optional_core(core: Option<&'static Core>) -> Tuning {
        core.map_or_else(Tuning::portable, Tuning::for_core)
    }

    /// The runtime's fused multiply-add flavour (`rt::ArmVfma` on Arm cores with an FPU, all
    /// of which kiln knows have VFMA; else `rt::SoftFma`).
    pub fn fused_mul_add(&self) -> &'static str {
        match self.core {
            Some(c) if c.fpu != kiln_targets::Fpu::None && c.rust_target.starts_with("thumb") => {
                "ArmVfma"
            }
            _ => "SoftFma",
        }
    }

    /// When `layer` runs as a patch convolution, the length of its filter rows in bytes (the
    /// patch, rounded up to a multiple of 4): CONV_2D with one group, and DEPTHWISE_CONV_2D
    /// over a single input channel (a convolution with `out_c` filters). On Arm DSP cores
    /// `rt::conv2d_patches` (patches widened once into scratch, SMLAD over several pixels per
    /// widened weight word), elsewhere `rt::conv2d_patches_scalar` (patches as bytes, each
    /// weight loaded once per several pixels).
    pub fn conv_patch_row(&self, layer: &Layer) -> Option<usize> {
        let patch = match &layer.kernel {
            Kernel::Conv2d(p, _) if p.shape.k_c == p.shape.in_c => {
                p.shape.k_h * p.shape.k_w * p.shape.k_c
            }
            Kernel::DepthwiseConv2d(p, _) if p.shape.in_c == 1 && !self.single(&p.shape) => {
                p.shape.k_h * p.shape.k_w
            }
            _ => return None,
        };
        Some(patch.div_ceil(4) * 4)
    }

    /// Whether a DEPTHWISE_CONV_2D runs as `rt::depthwise_conv2d_wide` (weights widened to
    /// i16 pairs at compile time, twice the flash of its filter): Arm DSP cores, depth
    /// multiplier 1.
    pub fn depthwise_wide(&self, layer: &Layer) -> bool {
        self.conv_patch_row(layer).is_none()
            && matches!(
                (&layer.kernel, self.dot),
                (Kernel::DepthwiseConv2d(p, _), DotProduct::Dsp) if p.shape.depth_multiplier == 1
            )
    }

    /// Whether a DEPTHWISE_CONV_2D runs as `rt::depthwise_conv2d_scalar` (four channels per
    /// interior window, loads at constant offsets): a core without SIMD, depth multiplier 1,
    /// not a patch convolution.
    pub fn depthwise_scalar(&self, layer: &Layer) -> bool {
        self.core.is_some()
            && self.dot == DotProduct::Scalar
            && self.conv_patch_row(layer).is_none()
            && matches!(&layer.kernel, Kernel::DepthwiseConv2d(p, _) if p.shape.depth_multiplier == 1)
    }

    /// Whether a DEPTHWISE_CONV_2D runs as `rt::depthwise_conv2d_ring` (three padded input
    /// rows per channel copied into a byte ring, no border pixels, a 3×3 window sliding with
    /// its weights in registers): RV32 cores (31 registers; the Cortex-M0's eight low ones
    /// keep `rt::depthwise_conv2d_scalar`), layers of [`Tuning::depthwise_scalar`] with a 3×3
    /// window and no dilation, whose ring fits [`DEPTHWISE_RING_BYTES`].
    pub fn depthwise_ring(&self, layer: &Layer) -> bool {
        match &layer.kernel {
            Kernel::DepthwiseConv2d(p, _)
                if self.depthwise_scalar(layer)
                    && self
                        .core
                        .is_some_and(|c| c.rust_target.starts_with("riscv32")) =>
            {
                let s = &p.shape;
                s.k_h == 3
                    && s.k_w == 3
                    && s.dilation_h == 1
                    && s.dilation_w == 1
                    && depthwise_ring_bytes(s) <= DEPTHWISE_RING_BYTES
            }
            _ => false,
        }
    }

    /// Whether a DEPTHWISE_CONV_2D runs as `rt::depthwise_conv2d_single` (one input channel,
    /// the window widened once per pixel into five registers, four SMLAD and one SMLABB per
    /// output channel; requantized fast over the whole int8 range, the pixels whose windows
    /// lie inside the input run in one `asm!` loop, 12 instructions per channel): Arm DSP
    /// cores, a 3×3 window over one input channel, no dilation. On the Cortex-M4 it took
    /// person_detect's first layer from 3.81 to 1.68 instructions per MAC.
    pub fn depthwise_single(&self, layer: &Layer) -> bool {
        matches!(&layer.kernel, Kernel::DepthwiseConv2d(p, _) if self.single(&p.shape))
    }

    /// The geometry of [`Tuning::depthwise_single`], on a DSP core.
    fn single(&self, s: &crate::runtime::ConvShape) -> bool {
        self.dot == DotProduct::Dsp
            && s.in_c == 1
            && s.k_h == 3
            && s.k_w == 3
            && s.dilation_h == 1
            && s.dilation_w == 1
    }

    /// Whether a DEPTHWISE_CONV_2D runs as `rt::depthwise_conv2d_rows` (a ring of three input
    /// rows widened to i16 in scratch, two filter taps per SMLAD, no border pixels): layers
    /// of [`Tuning::depthwise_wide`] with a 3×3 window, no dilation and a horizontal stride of
    /// 1, or 2 over at least [`DEPTHWISE_ROWS_MIN_S2_WIDTH`] output columns. A ring larger
    /// than [`DEPTHWISE_RING_BYTES`] runs in chunks of channels
    /// ([`Tuning::depthwise_rows_chunk`]), each over every output row; a layer that writes
    /// over its input (`in_place`, the planner's choice) does not, as its lead only keeps
    /// each output row behind the input rows when the row is written once for all channels.
    pub fn depthwise_rows(&self, layer: &Layer, in_place: bool) -> bool {
        match &layer.kernel {
            Kernel::DepthwiseConv2d(p, _) if self.depthwise_wide(layer) => {
                let s = &p.shape;
                let chunk = self.depthwise_rows_chunk(s);
                s.k_h == 3
                    && s.k_w == 3
                    && s.dilation_h == 1
                    && s.dilation_w == 1
                    && (s.stride_w == 1
                        || (s.stride_w == 2
                            && (s.out_w >= DEPTHWISE_ROWS_MIN_S2_WIDTH || rows_fused(layer))))
                    && chunk > 0
                    && (chunk == s.out_c || !in_place)
            }
            _ => false,
        }
    }

    /// Channels per chunk of a [`Tuning::depthwise_rows`] layer of shape `s`: all of them
    /// when their ring fits [`DEPTHWISE_RING_BYTES`], else the fewest equal chunks (multiples
    /// of four channels) whose ring fits (`rt::depthwise_ring_chunk`; the kernel derives the
    /// same or larger chunks from the scratch it gets).
    pub fn depthwise_rows_chunk(&self, s: &crate::runtime::ConvShape) -> usize {
        let ring_w = crate::runtime::depthwise_rows_width(s.out_w, s.stride_w);
        crate::runtime::depthwise_ring_chunk(s.out_c, 3 * ring_w, DEPTHWISE_RING_BYTES / 4)
    }

    /// Whether a [`Tuning::depthwise_rows`] layer runs as `rt::depthwise_conv2d_rows6` (each
    /// output row from multiply-accumulate to byte for all channels in one `asm!` loop on
    /// the Cortex-M4 family): see [`rows_fused`]. On the Cortex-M4 it took mlperf_kws's
    /// 25×5×64 layers from 154 to 110 instructions per output row and channel.
    pub fn depthwise_rows6(&self, layer: &Layer, in_place: bool) -> bool {
        self.depthwise_rows(layer, in_place) && rows_fused(layer)
    }

    /// Whether a [`Tuning::depthwise_rows`] layer that is not [`Tuning::depthwise_rows6`] runs
    /// as `rt::depthwise_conv2d_rows_out` (each output row from multiply-accumulate to byte
    /// for all channels, four pixels per `asm!` pass, on the Cortex-M4 family): rows of an
    /// even number of pixels, requantized fast (every right shift at most 22) over the whole
    /// int8 range, a channel's ring under 4096 bytes (an immediate step), as the 48×48, 24×24
    /// and 12×12 layers of the MobileNets at both strides, whose whole ring fits (no chunks
    /// of channels).
    pub fn depthwise_rows_out(&self, layer: &Layer, in_place: bool) -> bool {
        match (&layer.kernel, self.depthwise_rows(layer, in_place)) {
            (Kernel::DepthwiseConv2d(p, w), true) => {
                let s = &p.shape;
                !self.depthwise_rows6(layer, in_place)
                    && self.depthwise_rows_chunk(s) == s.out_c
                    && s.out_w >= 2
                    && s.out_w.is_multiple_of(2)
                    && 12 * crate::runtime::depthwise_rows_width(s.out_w, s.stride_w) < 4096
                    && p.fast_requant
                    && w.shifts.iter().all(|&sh| (-22..=0).contains(&sh))
                    && p.act_min == -128
                    && p.act_max == 127
            }
            _ => false,
        }
    }

    /// Output pixels per block of `layer`'s patch convolution: at most [`PATCH_PIXELS`] (DSP)
    /// or [`PATCH_PIXELS_SCALAR`], and at most what fits [`PATCH_SCRATCH_BYTES`]; among those,
    /// the block size that wastes least on the last, partial block (each block costs about
    /// `3 + 3.3·P` instructions per step on the DSP path).
    pub fn patch_pixels(&self, layer: &Layer) -> usize {
        let (Some(row), Kernel::Conv2d(p, _) | Kernel::DepthwiseConv2d(p, _)) =
            (self.conv_patch_row(layer), &layer.kernel)
        else {
            return 0;
        };
        let (bytes_per_pixel, most) = match self.dot {
            DotProduct::Dsp => (2 * row, PATCH_PIXELS),
            DotProduct::Scalar => (row, scalar_tile(self.core).1),
        };
        let most = (PATCH_SCRATCH_BYTES / bytes_per_pixel).clamp(1, most);
        let pixels = p.shape.batches * p.shape.out_h * p.shape.out_w;
        if self.patch_thumb1(layer) {
            // The `asm!` loop's width.
            return crate::runtime::THUMB1_PIXELS;
        }
        if self.dot == DotProduct::Dsp && most == PATCH_PIXELS && pixels >= PATCH_PIXELS {
            // The `asm!` tile's width: other widths take the portable loop.
            return PATCH_PIXELS;
        }
        let cost = |n: usize| pixels.div_ceil(n) * (30 + 33 * n);
        (1..=most).rev().min_by_key(|&n| cost(n)).unwrap_or(1)
    }

    /// Whether `layer` runs as `rt::conv2d_pointwise` (its per-channel constants in one
    /// table, the requantization folded): Arm DSP cores, a CONV_2D that
    /// `rt::pointwise_fits` (given its requantization `shifts`) over at least one block of
    /// the `asm!` tile's pixels.
    pub fn conv_pointwise(&self, layer: &Layer, shifts: &[i32]) -> bool {
        match &layer.kernel {
            Kernel::Conv2d(p, _) => {
                self.dot == DotProduct::Dsp
                    && self.patch_pixels(layer) == PATCH_PIXELS
                    && self.patch_channels(layer) == 1
                    && crate::runtime::pointwise_fits(p, shifts)
            }
            _ => false,
        }
    }

    /// Whether `layer` runs as `rt::conv2d_pointwise_small` (few input channels, any
    /// stride: one table per layer, one `asm!` loop from input to output bytes): Arm DSP
    /// cores, a CONV_2D that `rt::pointwise_small_fits` (given its requantization `shifts`)
    /// where the patch kernels would take the `asm!` tile.
    pub fn conv_pointwise_small(&self, layer: &Layer, shifts: &[i32]) -> bool {
        match &layer.kernel {
            Kernel::Conv2d(p, _) => {
                self.dot == DotProduct::Dsp
                    && self.patch_pixels(layer) == PATCH_PIXELS
                    && self.patch_channels(layer) == 1
                    && crate::runtime::pointwise_small_fits(p, shifts)
            }
            _ => false,
        }
    }

    /// Whether `layer` runs as `rt::conv2d_tile6` (six pixels per block, the requantization
    /// in its `asm!` loop): Arm DSP cores, a CONV_2D that `rt::tile6_fits` (given its
    /// requantization `shifts`) over at least one block of pixels, whose block of widened
    /// patches fits [`TILE6_SCRATCH_BYTES`], unless it runs as `rt::conv2d_pointwise_small`
    /// (few input channels).
    pub fn conv_tile6(&self, layer: &Layer, shifts: &[i32]) -> bool {
        match &layer.kernel {
            Kernel::Conv2d(p, _) => {
                let row = crate::runtime::tile6_row(&p.shape);
                let pixels = p.shape.batches * p.shape.out_h * p.shape.out_w;
                self.dot == DotProduct::Dsp
                    && self.conv_patch_row(layer) == Some(row)
                    && pixels >= crate::runtime::TILE6_PIXELS
                    && crate::runtime::TILE6_PIXELS * 2 * row <= TILE6_SCRATCH_BYTES
                    && !self.conv_pointwise_small(layer, shifts)
                    && crate::runtime::tile6_fits(p, shifts)
            }
            _ => false,
        }
    }

    /// Whether `layer`'s patch convolution runs as `rt::conv2d_patches_thumb1` (the
    /// Cortex-M0+'s `asm!` loop over patch bytes offset by 128): Thumb-1 cores (ARMv6-M).
    pub fn patch_thumb1(&self, layer: &Layer) -> bool {
        self.dot == DotProduct::Scalar
            && self
                .core
                .is_some_and(|c| c.rust_target.starts_with("thumbv6m"))
            && self.conv_patch_row(layer).is_some()
    }

    /// Whether `layer`'s scalar patch convolution reduces two patch positions per loop pass
    /// (`rt::conv2d_patches_scalar`'s `PAIRS`): on RV32IMC, for layers of at least 64 output
    /// channels over patches of 40 to 64 bytes. A rule read off measurements, not derived:
    /// mlperf_kws's convolutions (40- and 64-byte patches, 64 channels) went 4.29 → 4.11 and
    /// 3.77 → 3.61 instructions/MAC with pairs, mlperf_ic's 144- to 288-byte ones the other
    /// way (3.51 → 3.82) and so did its 32-byte one (4.05 → 4.51).
    pub fn patch_pairs(&self, layer: &Layer) -> bool {
        let riscv = self
            .core
            .is_some_and(|c| c.rust_target.starts_with("riscv32"));
        match &layer.kernel {
            Kernel::Conv2d(p, _) if riscv && self.conv_patch_row(layer).is_some() => {
                let s = &p.shape;
                s.out_c >= 64 && (40..=64).contains(&(s.k_h * s.k_w * s.k_c))
            }
            _ => false,
        }
    }

    /// Output channels per register tile of `layer`'s scalar patch convolution (its filter is
    /// laid out in tiles of that many channels, `rt::patch_tile_index`); 1 elsewhere.
    pub fn patch_channels(&self, layer: &Layer) -> usize {
        match (self.dot, &layer.kernel) {
            (DotProduct::Scalar, Kernel::Conv2d(p, _) | Kernel::DepthwiseConv2d(p, _))
                if self.conv_patch_row(layer).is_some() =>
            {
                scalar_tile(self.core).0.min(p.shape.out_c).max(1)
            }
            _ => 1,
        }
    }

    /// Scratch `layer` needs, in elements of [`Tuning::scratch_type`] (0 for most layers);
    /// `in_place`: it writes over its input (the planner's choice).
    pub fn scratch_len(&self, layer: &Layer, in_place: bool) -> usize {
        if let (true, Kernel::DepthwiseConv2d(p, _)) = (self.depthwise_ring(layer), &layer.kernel) {
            return depthwise_ring_bytes(&p.shape);
        }
        if let (true, Kernel::DepthwiseConv2d(p, _)) =
            (self.depthwise_rows(layer, in_place), &layer.kernel)
        {
            return depthwise_ring_words(&p.shape, self.depthwise_rows_chunk(&p.shape));
        }
        if let (true, Kernel::DepthwiseConv2d(p, _)) = (self.depthwise_wide(layer), &layer.kernel) {
            // A border pixel's window, one word per tap and group of four channels.
            return p.shape.k_h * p.shape.k_w * p.shape.out_c.div_ceil(4);
        }
        if let Kernel::Conv2d(p, w) = &layer.kernel {
            if self.conv_pointwise_small(layer, &w.shifts) {
                // A block's widened input and the `asm!` loop's seven words.
                return crate::runtime::TILE_PIXELS * p.shape.in_c / 2 + 7;
            }
            if self.conv_tile6(layer, &w.shifts) {
                return crate::runtime::tile6_scratch(
                    crate::runtime::tile6_row(&p.shape),
                    p.shape.out_c,
                );
            }
        }
        self.conv_patch_row(layer).map_or(0, |row| match self.dot {
            DotProduct::Dsp => self.patch_pixels(layer) * row / 2,
            DotProduct::Scalar => self.patch_pixels(layer) * row,
        })
    }

    /// The element type of the kernel scratch: widened pairs (`u32`) on DSP cores, bytes
    /// (`i8`) elsewhere.
    pub fn scratch_type(&self) -> &'static str {
        match self.dot {
            DotProduct::Dsp => "u32",
            DotProduct::Scalar => "i8",
        }
    }

    /// Whether a FULLY_CONNECTED runs as `rt::fully_connected_pairs` (weights packed at
    /// compile time so that one word serves a pair of outputs, four outputs per tile): Arm
    /// DSP cores, symmetric weights that the packing holds (`rt::fc_pairs_packable`: not a
    /// -128 paired with a negative weight; such layers run as 1×1 convolutions), at least 8
    /// inputs (one iteration of its `asm!` loop).
    pub fn fc_pairs(&self, layer: &Layer) -> bool {
        matches!(
            (&layer.kernel, self.dot),
            (Kernel::FullyConnected(p, w), DotProduct::Dsp)
                if p.weights_offset == 0
                    && p.in_features >= 8
                    && crate::runtime::fc_pairs_packable(&w.filter, p.in_features, p.out_features)
        )
    }

    /// Whether `layer` is emitted as straight-line code (weights as immediates, zero weights
    /// skipped) instead of a loop: a small FULLY_CONNECTED with symmetric weights and one row,
    /// whose non-zero weights (~3 instructions each unrolled) cost less than all its MACs in
    /// the loop on this core.
    pub fn unrolls(&self, layer: &Layer) -> bool {
        let Some(core) = self.core else {
            return false;
        };
        let Kernel::FullyConnected(p, w) = &layer.kernel else {
            return false;
        };
        let nonzero = w.filter.iter().filter(|&&v| v != 0).count() as u64;
        p.weights_offset == 0
            && p.batches == 1
            && layer.macs <= core.unroll_max_macs
            && nonzero * 30 < layer.macs * core.loop_mac_cost_x10 as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsp_cores_get_smlad_and_others_scalar() {
        let core = |name| kiln_targets::lookup(name).unwrap().core();
        assert_eq!(Tuning::for_core(core("cortex-m4f")).dot, DotProduct::Dsp);
        assert_eq!(Tuning::for_core(core("cortex-m33")).dot, DotProduct::Dsp);
        assert_eq!(
            Tuning::for_core(core("cortex-m0plus")).dot,
            DotProduct::Scalar
        );
        assert_eq!(Tuning::for_core(core("riscv32imc")).dot, DotProduct::Scalar);
        assert_eq!(Tuning::portable().dot, DotProduct::Scalar);
    }

    /// A 16 → 2 FULLY_CONNECTED layer whose filter is `filter`.
    fn fc_layer(filter: Vec<u8>) -> Layer {
        let p = crate::runtime::FullyConnected {
            batches: 1,
            in_features: 16,
            out_features: 2,
            input_offset: 0,
            weights_offset: 0,
            output_offset: 0,
            per_channel: false,
            act_min: -128,
            act_max: 127,
        };
        let w = crate::layer::Weights {
            filter,
            bias: None,
            folded_bias: vec![0, 0],
            multipliers: vec![1 << 30],
            shifts: vec![-1],
            fast_requant: false,
        };
        Layer {
            index: 0,
            op_name: "FULLY_CONNECTED",
            kernel: Kernel::FullyConnected(p, w),
            inputs: vec![],
            output: 0,
            macs: 32,
            band: None,
            part: None,
            state: vec![],
        }
    }

    #[test]
    fn fc_pairs_only_takes_weights_its_packing_holds() {
        let m4 = Tuning::for_core(kiln_targets::lookup("cortex-m4f").unwrap().core());
        let mut filter = vec![0x80u8; 16];
        filter.extend([0x7fu8; 16]);
        assert!(m4.fc_pairs(&fc_layer(filter.clone())));
        assert!(!Tuning::portable().fc_pairs(&fc_layer(filter.clone())));
        // -128 for output 1 beside a negative weight of output 0: a 1×1 convolution instead.
        filter[16 + 5] = 0x80;
        assert!(!m4.fc_pairs(&fc_layer(filter)));
    }
}
