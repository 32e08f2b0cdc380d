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

/// Most output pixels per block of the patch convolution ([`Tuning::conv_patch_row`]): 7
/// accumulators, the widened weight word and a pixel's pair of patch words fill the Cortex-M4's
/// 13 free registers (measured on mlperf_kws: 5 → 6.29 M, 6 → 5.99 M, 7 → 5.90 M, 8 → 6.43 M
/// instructions).
pub const PATCH_PIXELS: usize = 7;

/// Scratch the patch convolution may use, bytes: layers with long patches take fewer pixels
/// per block rather than more RAM.
pub const PATCH_SCRATCH_BYTES: usize = 4096;

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

    /// When `layer` runs as the patch convolution (`rt::conv2d_patches`: patches widened once
    /// into scratch, SMLAD over `PATCH_PIXELS` pixels per widened weight word), the length of
    /// its filter rows in bytes (the patch, rounded up to a multiple of 4). Arm DSP cores;
    /// CONV_2D with one group, and DEPTHWISE_CONV_2D over a single input channel.
    pub fn conv_patch_row(&self, layer: &Layer) -> Option<usize> {
        match (&layer.kernel, self.dot) {
            (Kernel::Conv2d(p, _), DotProduct::Dsp) if p.shape.k_c == p.shape.in_c => {
                Some((p.shape.k_h * p.shape.k_w * p.shape.k_c).div_ceil(4) * 4)
            }
            // A depthwise layer over one input channel is a convolution with `out_c` filters.
            (Kernel::DepthwiseConv2d(p, _), DotProduct::Dsp) if p.shape.in_c == 1 => {
                Some((p.shape.k_h * p.shape.k_w).div_ceil(4) * 4)
            }
            _ => None,
        }
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

    /// Output pixels per block of `layer`'s patch convolution: at most [`PATCH_PIXELS`], and
    /// at most what fits [`PATCH_SCRATCH_BYTES`]; among those, the block size that wastes least
    /// on the last, partial block (each block costs about `3 + 3.3·P` instructions per step:
    /// one widened weight word, then a patch pair and two SMLADs per pixel).
    pub fn patch_pixels(&self, layer: &Layer) -> usize {
        let (Some(row), Kernel::Conv2d(p, _) | Kernel::DepthwiseConv2d(p, _)) =
            (self.conv_patch_row(layer), &layer.kernel)
        else {
            return 0;
        };
        let most = (PATCH_SCRATCH_BYTES / (2 * row)).clamp(1, PATCH_PIXELS);
        let pixels = p.shape.batches * p.shape.out_h * p.shape.out_w;
        let cost = |n: usize| pixels.div_ceil(n) * (30 + 33 * n);
        (1..=most).rev().min_by_key(|&n| cost(n)).unwrap_or(1)
    }

    /// Scratch words `layer` needs (0 for most layers).
    pub fn scratch_words(&self, layer: &Layer) -> usize {
        self.conv_patch_row(layer)
            .map_or(0, |row| self.patch_pixels(layer) * row / 2)
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
}
