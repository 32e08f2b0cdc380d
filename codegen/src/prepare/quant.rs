//! Compile-time quantization math, replicating TFLite's `quantization_util` and `kernel_util`
//! (default build: double rounding) so generated code holds only integers.

use crate::ir::{Activation, Padding};

/// `frexp`: `x = m * 2^e` with `m` in `[0.5, 1)` for finite positive `x`.
pub fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let (x, bias) = if x.abs() < f64::MIN_POSITIVE {
        (x * 2f64.powi(54), -54) // subnormal: scale into the normal range first
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1022;
    let mantissa = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (mantissa, exp + bias)
}

/// TFLite `QuantizeMultiplier`: a real multiplier as `(q31 significand, shift)`.
///
/// Returns `None` for negative or non-finite multipliers.
pub fn quantize_multiplier(m: f64) -> Option<(i32, i32)> {
    if !m.is_finite() || m < 0.0 {
        return None;
    }
    if m == 0.0 {
        return Some((0, 0));
    }
    let (q, mut shift) = frexp(m);
    let mut q_fixed = (q * (1i64 << 31) as f64).round() as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        shift = 0;
        q_fixed = 0;
    }
    Some((q_fixed as i32, shift))
}

/// TFLite `QuantizeMultiplierSmallerThanOneExp`: requires `0 < m < 1`.
pub fn quantize_multiplier_smaller_than_one(m: f64) -> Option<(i32, i32)> {
    if !(m > 0.0 && m < 1.0) {
        return None;
    }
    quantize_multiplier(m).filter(|&(_, shift)| shift <= 0)
}

/// TFLite `QuantizeMultiplierGreaterThanOne`: requires `m > 1`.
pub fn quantize_multiplier_greater_than_one(m: f64) -> Option<(i32, i32)> {
    if m.partial_cmp(&1.0) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    quantize_multiplier(m).filter(|&(_, shift)| shift >= 0)
}

/// Rounds half away from zero (C's `roundf`) in f32.
fn round_f32(x: f32) -> f32 {
    x.round()
}

/// TFLite `CalculateActivationRangeQuantized` for an int8 output: the clamp bounds.
///
/// Returns `None` when a bound does not fit in i32 (TFLite's overflow check).
pub fn activation_range_i8(
    activation: Activation,
    scale: f32,
    zero_point: i32,
) -> Option<(i32, i32)> {
    activation_range(
        activation,
        scale,
        zero_point,
        i8::MIN as i32,
        i8::MAX as i32,
    )
}

/// TFLite `CalculateActivationRangeQuantized` for an output type whose range is
/// `qmin..=qmax`; `None` when a bound does not fit in i32.
pub fn activation_range(
    activation: Activation,
    scale: f32,
    zero_point: i32,
    qmin: i32,
    qmax: i32,
) -> Option<(i32, i32)> {
    let quantize = |f: f32| -> Option<i32> {
        let t = round_f32(f / scale);
        if t >= i32::MIN as f32 && t <= i32::MAX as f32 {
            Some(zero_point.wrapping_add(t as i32))
        } else {
            None
        }
    };
    Some(match activation {
        Activation::None => (qmin, qmax),
        Activation::Relu => (qmin.max(quantize(0.0)?), qmax),
        Activation::Relu6 => (qmin.max(quantize(0.0)?), qmax.min(quantize(6.0)?)),
        Activation::ReluN1To1 => (qmin.max(quantize(-1.0)?), qmax.min(quantize(1.0)?)),
    })
}

/// TFLite `ComputeOutSize`.
pub fn out_size(
    padding: Padding,
    in_size: usize,
    filter: usize,
    stride: usize,
    dilation: usize,
) -> usize {
    let effective = (filter - 1) * dilation + 1;
    match padding {
        Padding::Same => in_size.div_ceil(stride),
        Padding::Valid => (in_size + stride).saturating_sub(effective) / stride,
    }
}

/// TFLite `ComputePaddingWithOffset`: the padding before the input (the smaller half when
/// the total is odd — the classic SAME, stride 2, even size case pads 0 before, 1 after).
pub fn padding_before(
    in_size: usize,
    filter: usize,
    stride: usize,
    dilation: usize,
    out: usize,
) -> usize {
    let effective = ((filter - 1) * dilation + 1) as i64;
    let total = (out as i64 - 1) * stride as i64 + effective - in_size as i64;
    (total.max(0) / 2) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_matches_c() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(3.0), (0.75, 2));
        assert_eq!(frexp(1e-310).1, -1029);
        let (m, e) = frexp(1e-310);
        assert!((0.5..1.0).contains(&m));
        assert_eq!(m * 2f64.powi(e + 60) * 2f64.powi(-60), 1e-310);
    }

    #[test]
    fn quantize_multiplier_cases() {
        assert_eq!(quantize_multiplier(0.0), Some((0, 0)));
        assert_eq!(quantize_multiplier(0.5), Some((1 << 30, 0)));
        assert_eq!(quantize_multiplier(1.0), Some((1 << 30, 1)));
        assert_eq!(quantize_multiplier(0.25), Some((1 << 30, -1)));
        // Just below 1: the significand rounds up to 2^31 and is halved, shift + 1.
        assert_eq!(quantize_multiplier(1.0 - 1e-12), Some((1 << 30, 1)));
        // Tiny multipliers flush to zero.
        assert_eq!(quantize_multiplier(1e-12), Some((0, 0)));
        assert_eq!(quantize_multiplier(-1.0), None);
        let (q, s) = quantize_multiplier(0.0123).unwrap();
        assert!(((q as f64) * 2f64.powi(s - 31) - 0.0123).abs() < 1e-11);
    }

    #[test]
    fn activation_ranges() {
        assert_eq!(
            activation_range_i8(Activation::None, 0.1, 3),
            Some((-128, 127))
        );
        assert_eq!(
            activation_range_i8(Activation::Relu, 0.1, -128),
            Some((-128, 127))
        );
        assert_eq!(
            activation_range_i8(Activation::Relu, 0.1, -20),
            Some((-20, 127))
        );
        assert_eq!(
            activation_range_i8(Activation::Relu6, 6.0 / 255.0, -128),
            Some((-128, 127))
        );
        assert_eq!(
            activation_range_i8(Activation::Relu6, 0.1, 0),
            Some((0, 60))
        );
        assert_eq!(
            activation_range_i8(Activation::ReluN1To1, 0.01, 0),
            Some((-100, 100))
        );
    }

    #[test]
    fn same_padding_stride_two_even() {
        // 8 -> 4 with a 3-wide filter: total padding 1, so 0 before and 1 after.
        let out = out_size(Padding::Same, 8, 3, 2, 1);
        assert_eq!(out, 4);
        assert_eq!(padding_before(8, 3, 2, 1, out), 0);
        // Odd size: 7 -> 4, total 2, 1 before.
        assert_eq!(
            padding_before(7, 3, 2, 1, out_size(Padding::Same, 7, 3, 2, 1)),
            1
        );
        assert_eq!(out_size(Padding::Valid, 9, 3, 1, 2), 5);
        assert_eq!(padding_before(9, 3, 1, 2, 5), 0);
    }
}
