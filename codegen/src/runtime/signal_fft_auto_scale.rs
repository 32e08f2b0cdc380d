//! TFLM's `SignalFftAutoScale` (`signal/src/fft_auto_scale.cc`): shifts a frame left by as many
//! bits as its largest magnitude leaves free in int16, and reports the shift (a second output,
//! which `SignalFilterBankSquareRoot` undoes).
//!
//! The largest magnitude is TFLM's `MaxAbs16`, kept exactly: it tracks an int16 maximum, so an
//! input of -32768 turns it into -32768 (`-value` truncated), after which any later value
//! larger than that replaces it; a negative maximum reads as 32 significant bits, i.e. no
//! shift. The scaled values are `x · 2^shift` truncated to int16.

use super::*;

/// TFLM's `MaxAbs16`, with its int16 wrap-around.
#[inline(always)]
fn max_abs_16(input: &[i16]) -> i16 {
    let mut max: i16 = 0;
    for &value in input {
        if value > max {
            max = value;
        } else if -(value as i32) > max as i32 {
            max = (-(value as i32)) as i16;
        }
    }
    max
}

/// The left shift TFLM's `FftAutoScale` picks for `input`.
#[inline(always)]
pub fn signal_fft_auto_scale_bits(input: &[i16]) -> i32 {
    let max = max_abs_16(input);
    let bits = 16 - most_significant_bit_32(max as i32 as u32) as i32 - 1;
    bits.max(0)
}

/// The scaled frame.
#[inline(always)]
pub fn signal_fft_auto_scale(input: &[i16], output: &mut [i16]) {
    let bits = signal_fft_auto_scale_bits(input);
    for (o, &x) in output.iter_mut().zip(input) {
        *o = (x as i32).wrapping_mul(1 << bits) as i16;
    }
}

/// The shift, as the operator's second (int32 scalar) output.
#[inline(always)]
pub fn signal_fft_auto_scale_shift(input: &[i16], output: &mut [i32]) {
    if let Some(o) = output.first_mut() {
        *o = signal_fft_auto_scale_bits(input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_the_top_bit() {
        let mut out = [0; 3];
        signal_fft_auto_scale(&[1, -3, 2], &mut out);
        assert_eq!(signal_fft_auto_scale_bits(&[1, -3, 2]), 13);
        assert_eq!(out, [1 << 13, -3 << 13, 2 << 13]);
        assert_eq!(signal_fft_auto_scale_bits(&[0, 0]), 0);
        assert_eq!(signal_fft_auto_scale_bits(&[16384]), 0);
        let mut shift = [7];
        signal_fft_auto_scale_shift(&[0x10], &mut shift);
        assert_eq!(shift, [10]);
    }

    #[test]
    fn minus_32768_is_tflm_s_wrapped_maximum() {
        // -(-32768) truncates to -32768; 5 > -32768 then replaces it: shift 12.
        assert_eq!(max_abs_16(&[-32768, 5]), 5);
        assert_eq!(signal_fft_auto_scale_bits(&[-32768, 5]), 12);
        // Alone it stays negative: 32 bits, no shift.
        assert_eq!(signal_fft_auto_scale_bits(&[-32768]), 0);
    }
}
