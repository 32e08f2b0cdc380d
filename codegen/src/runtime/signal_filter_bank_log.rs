//! TFLM's `SignalFilterBankLog` (`signal/src/filter_bank_log.cc`, `log.cc`): the scaled
//! natural logarithm of each channel, shifted left by `input_correction_bits` first (uint32,
//! wrapping), 0 for values below 2, saturated to int16.
//!
//! The logarithm is TFLM's fixed-point `Log32`: log2 in Q16 from the most significant bit and
//! a 128-segment interpolation table, times `45426 / 2^16` (ln 2) rounded, times
//! `output_scale / 2^16` rounded (that product in uint32, as TFLM computes it).

use super::*;

/// TFLM's `kLogLut` (129 segment ends and padding).
const SIGNAL_LOG_LUT: [u16; 130] = [
    0, 224, 442, 654, 861, 1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797, 2944,
    3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714,
    4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507, 5533,
    5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633, 5626, 5615, 5602, 5586, 5568,
    5547, 5524, 5498, 5470, 5439, 5406, 5370, 5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944,
    4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341, 4264, 4184, 4103, 4020, 3935, 3848, 3759,
    3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768, 2659, 2549, 2437, 2323, 2207, 2090,
    1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094, 963, 830, 695, 559, 421, 282, 142, 0, 0,
];

/// Per-layer constants of `SignalFilterBankLog`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalLog {
    /// Left shift of each input (0..=31).
    pub input_correction_bits: u32,
    /// Scale of the logarithm (Q16).
    pub output_scale: u32,
}

/// TFLM's `Log2FractionPart32`: the Q16 fraction of log2(x), `log2x` its integer part.
#[inline(always)]
fn log2_fraction_part(x: u32, log2x: u32) -> u32 {
    let mut frac = (x as i64 - (1i64 << log2x)) as i32;
    if log2x < 16 {
        frac <<= 16 - log2x;
    } else {
        frac >>= log2x - 16;
    }
    let base_seg = (frac >> (16 - 7)) as u32;
    let c0 = SIGNAL_LOG_LUT.get(base_seg as usize).copied().unwrap_or(0) as i32;
    let c1 = SIGNAL_LOG_LUT
        .get(base_seg as usize + 1)
        .copied()
        .unwrap_or(0) as i32;
    let seg_base = (512 * base_seg) as i32;
    let rel_pos = ((c1 - c0) * (frac - seg_base)) >> 16;
    (frac + c0 + rel_pos) as u32
}

/// TFLM's `Log32` (x ≥ 2).
#[inline(always)]
fn log_32(x: u32, out_scale: u32) -> u32 {
    let integer = most_significant_bit_32(x) - 1;
    let fraction = log2_fraction_part(x, integer);
    let log2 = (integer << 16).wrapping_add(fraction);
    let round: u32 = 1 << 15;
    let loge = ((45426u64 * log2 as u64 + round as u64) >> 16) as u32;
    out_scale.wrapping_mul(loge).wrapping_add(round) >> 16
}

/// The scaled logarithms of the channels.
#[inline(always)]
pub fn signal_filter_bank_log(p: &SignalLog, input: &[u32], output: &mut [i16]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let scaled = x.wrapping_shl(p.input_correction_bits);
        *o = if scaled > 1 {
            log_32(scaled, p.output_scale).min(i16::MAX as u32) as i16
        } else {
            0
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logarithm_tracks_ln() {
        for x in [2u32, 3, 10, 1000, 65_536, 1 << 20, u32::MAX] {
            let got = log_32(x, 256) as f64 / 256.0;
            let want = (x as f64).ln();
            assert!((got - want).abs() < 0.01, "{x}: {got} vs {want}");
        }
        let p = SignalLog {
            input_correction_bits: 3,
            output_scale: 64,
        };
        let mut out = [9; 3];
        signal_filter_bank_log(&p, &[0, 1 << 20, u32::MAX >> 3], &mut out);
        assert_eq!(out[0], 0);
        assert_eq!(out[1] as u32, log_32(1 << 23, 64));
    }
}
