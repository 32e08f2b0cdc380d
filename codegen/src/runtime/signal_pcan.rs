//! TFLM's `SignalPCAN` (`signal/src/pcan_argc_fixed.cc`): per-channel automatic gain control.
//! Each channel's gain comes from its noise estimate (input 1) through TFLM's piecewise
//! quadratic `WideDynamicFunction` over a 125-entry int16 table (input 2); then
//! `snr = (x · gain) >> snr_shift` (uint64 product, uint32 result, the int16 gain converted to
//! uint32 as C does) and the output is `PcanShrink(snr)`: `snr² >> 20` below `2 << 12`, else
//! `(snr >> 6) - 64` (12 SNR bits in, 6 output bits out).

use super::*;

/// Per-layer constants of `SignalPCAN`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalPcan {
    /// Right shift of the signal-gain product (0..=63).
    pub snr_shift: u32,
}

/// TFLM's `WideDynamicFunction`.
#[inline(always)]
fn wide_dynamic_function(x: u32, lut: &[i16]) -> i16 {
    let at = |i: usize| lut.get(i).copied().unwrap_or(0);
    if x <= 2 {
        return at(x as usize);
    }
    let interval = most_significant_bit_32(x);
    let base = (4 * interval - 6) as usize;
    let frac = if interval < 11 {
        x << (11 - interval)
    } else {
        x >> (interval - 11)
    } & 0x3FF;
    let frac = frac as i32;
    let mut result = (at(base + 2) as i32 * frac) >> 5;
    result = result.wrapping_add(((at(base + 1) as i32 as u32) << 5) as i32);
    result = result.wrapping_mul(frac);
    result = result.wrapping_add(1 << 14) >> 15;
    result = result.wrapping_add(at(base) as i32);
    result as i16
}

/// TFLM's `PcanShrink` with 12 SNR bits and 6 output bits.
#[inline(always)]
fn pcan_shrink(x: u32) -> u32 {
    if x < 2 << 12 {
        (x * x) >> (2 + 2 * 12 - 6)
    } else {
        (x >> (12 - 6)) - (1 << 6)
    }
}

/// The gain-controlled channels.
#[inline(always)]
pub fn signal_pcan(
    p: &SignalPcan,
    input: &[u32],
    noise_estimate: &[u32],
    gain_lut: &[i16],
    output: &mut [u32],
) {
    for ((o, &x), &noise) in output.iter_mut().zip(input).zip(noise_estimate) {
        let gain = wide_dynamic_function(noise, gain_lut) as i32 as u32;
        let snr = ((x as u64 * gain as u64) >> p.snr_shift) as u32;
        *o = pcan_shrink(snr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_noise_reads_the_table_directly() {
        let lut: [i16; 125] = core::array::from_fn(|i| i as i16 * 3);
        assert_eq!(wide_dynamic_function(2, &lut), 6);
        // x = 3: interval 2, segment from 2, frac = (3 << 9) & 0x3FF = 512.
        let (c0, c1, c2) = (6i32, 9, 12);
        let r = (((c2 * 512) >> 5) + (c1 << 5)) * 512;
        assert_eq!(
            wide_dynamic_function(3, &lut) as i32,
            ((r + (1 << 14)) >> 15) + c0
        );
    }

    #[test]
    fn shrink_is_quadratic_then_linear() {
        assert_eq!(pcan_shrink(4096), 16);
        assert_eq!(pcan_shrink(8191), (8191 * 8191) >> 20);
        assert_eq!(pcan_shrink(8192), 64);
        let mut out = [0];
        signal_pcan(
            &SignalPcan { snr_shift: 6 },
            &[1 << 10],
            &[0],
            &[1 << 8; 125],
            &mut out,
        );
        assert_eq!(out, [pcan_shrink(1 << 12)]);
    }
}
