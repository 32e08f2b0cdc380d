//! TFLM's int8 reference element-wise functions (LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU,
//! HARD_SWISH), evaluated at compile time over all 256 inputs into the table that
//! [`crate::runtime::lookup`] reads. Compile-time only: none of this reaches generated code.

use crate::runtime::*;

/// The table of `f` over all int8 inputs (entry `x as u8` is `f(x)`; as bytes for
/// [`lookup`]).
pub fn table_of(f: impl Fn(i8) -> i8) -> [i8; 256] {
    let mut table = [0i8; 256];
    for (i, t) in table.iter_mut().enumerate() {
        *t = f(i as u8 as i8);
    }
    table
}

/// gemmlowp `one_minus_x_over_one_plus_x_for_x_in_0_1`: Q0.31 in and out.
fn one_minus_x_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    // Rescale<0>(x - 1) from Q2.29: a saturating left shift by two.
    saturating_rounding_multiply_by_pot(newton_one_over_one_plus_x_q2(a).wrapping_sub(1 << 29), 2)
}

/// gemmlowp `logistic` of a Q4.27 value; result in Q0.31.
pub fn logistic_q4(a: i32) -> i32 {
    let abs = if a > 0 { a } else { a.wrapping_neg() };
    let if_positive =
        one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(abs.wrapping_neg(), 4));
    if a == 0 {
        1 << 30
    } else if a > 0 {
        if_positive
    } else {
        i32::MAX.wrapping_sub(if_positive)
    }
}

/// gemmlowp `tanh` of a Q4.27 value; result in Q0.31.
pub fn tanh_q4(a: i32) -> i32 {
    let negative = a < 0;
    let n = if negative { a } else { a.wrapping_neg() };
    // neg_tanh_on_negative_values: ExactMulByPot<1> reads the same raw bits as Q5.26.
    let t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, 5));
    if a == 0 {
        0
    } else if negative {
        t.wrapping_neg()
    } else {
        t
    }
}

/// Constants of int8 LOGISTIC and TANH: the input rescaled to Q4.27, saturating outside
/// `±range_radius` (TFLM `CalculateArithmeticOpData`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sigmoidal {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Inputs (minus the zero point) at or beyond this magnitude saturate.
    pub input_range_radius: i32,
    /// `input_scale * 2^27` as a Q31 multiplier.
    pub input_multiplier: i32,
    /// Its shift (positive = left).
    pub input_left_shift: i32,
}

/// Int8 LOGISTIC of one element (TFLM `reference_integer_ops::Logistic`, output scale 1/256
/// and zero point -128).
pub fn logistic_i8(p: &Sigmoidal, x: i8) -> i8 {
    let input = x as i32 - p.input_zero_point;
    if input <= -p.input_range_radius {
        i8::MIN
    } else if input >= p.input_range_radius {
        i8::MAX
    } else {
        let q4 = multiply_by_quantized_multiplier(input, p.input_multiplier, p.input_left_shift);
        let q23 = rounding_divide_by_pot(logistic_q4(q4), 31 - 8);
        clamp_i8(q23.wrapping_add(-128), -128, 127)
    }
}

/// Int8 TANH of one element (TFLM `reference_integer_ops::Tanh`: output in Q0.7, whatever
/// the output tensor's quantization says).
pub fn tanh_i8(p: &Sigmoidal, x: i8) -> i8 {
    let input = x as i32 - p.input_zero_point;
    if input <= -p.input_range_radius {
        i8::MIN
    } else if input >= p.input_range_radius {
        i8::MAX
    } else {
        let q4 = multiply_by_quantized_multiplier(input, p.input_multiplier, p.input_left_shift);
        clamp_i8(rounding_divide_by_pot(tanh_q4(q4), 31 - 7), -128, 127)
    }
}

/// Constants of int8 RELU (TFLM `CalculateReluOpData`: requantize, then clamp at the
/// output's zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relu {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// `input_scale / output_scale` as a Q31 multiplier.
    pub multiplier: i32,
    /// Its shift.
    pub shift: i32,
    /// Lower clamp bound.
    pub act_min: i32,
    /// Upper clamp bound.
    pub act_max: i32,
}

/// Int8 RELU of one element (TFLM `ReluQuantized`).
pub fn relu_i8(p: &Relu, x: i8) -> i8 {
    let v = multiply_by_quantized_multiplier(x as i32 - p.input_zero_point, p.multiplier, p.shift)
        .wrapping_add(p.output_zero_point);
    clamp_i8(v, p.act_min, p.act_max)
}

/// Int8 LEAKY_RELU of one element (TFLM `QuantizeLeakyRelu`).
pub fn leaky_relu_i8(p: &LeakyRelu, x: i8) -> i8 {
    clamp_i8(leaky_relu_unclamped(p, x as i32), -128, 127)
}

/// gemmlowp `SaturatingRoundingDoublingHighMul` on int16.
fn srdhm_i16(a: i16, b: i16) -> i16 {
    if a == i16::MIN && b == i16::MIN {
        return i16::MAX;
    }
    let ab = a as i32 * b as i32;
    let nudge = if ab >= 0 { 1 << 14 } else { 1 - (1 << 14) };
    ((ab + nudge) / (1 << 15)) as i16
}

/// TFLite's `SaturatingDoublingHighMul` on int16 (truncating instead of rounding).
fn sdhm_i16(a: i16, b: i16) -> i16 {
    if a == i16::MIN && b == i16::MIN {
        return i16::MAX;
    }
    ((a as i32 * b as i32) / (1 << 15)) as i16
}

/// gemmlowp `RoundingDivideByPOT` on int16 (`exponent` in `0..=31`), with C++'s integer
/// promotions and narrowing.
fn rounding_divide_by_pot_i16(x: i16, exponent: i32) -> i16 {
    let mask = ((1i64 << (exponent & 31)) - 1) as i16;
    let remainder = x & mask;
    let threshold = (mask >> 1).wrapping_add((x < 0) as i16);
    (((x as i32) >> (exponent & 31)) as i16).wrapping_add((remainder > threshold) as i16)
}

/// TFLite's `SaturatingLeftShift` on int16.
fn saturating_left_shift_i16(value: i16, amount: i32) -> i16 {
    let v = (value as i64).wrapping_mul(1i64 << (amount & 31));
    v.clamp(i16::MIN as i64, i16::MAX as i64) as i16
}

/// Constants of int8 HARD_SWISH (TFLM `HardSwishPrepare`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HardSwish {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// `input_scale / 128 / output_scale` as a Q15 multiplier.
    pub output_multiplier: i16,
    /// Its exponent (`<= 0`).
    pub output_exponent: i32,
    /// `input_scale / 128 / (3 / 32768)` as a Q15 multiplier.
    pub reluish_multiplier: i16,
    /// Its exponent.
    pub reluish_exponent: i32,
}

/// Int8 HARD_SWISH of one element (TFLite reference `HardSwish`, int16 fixed point).
pub fn hard_swish_i8(p: &HardSwish, x: i8) -> i8 {
    let input_value = (x as i32 - p.input_zero_point) as i16;
    let hires = (input_value as i32 * (1 << 7)) as i16;
    let preshift_output = srdhm_i16(hires, p.output_multiplier);
    let mut reluish = hires;
    if p.reluish_exponent > 0 {
        reluish = saturating_left_shift_i16(reluish, p.reluish_exponent - 1);
    }
    reluish = srdhm_i16(reluish, p.reluish_multiplier);
    if p.reluish_exponent > 0 {
        reluish = saturating_left_shift_i16(reluish, 1);
    }
    if p.reluish_exponent < 0 {
        reluish = rounding_divide_by_pot_i16(reluish, -p.reluish_exponent);
    }
    reluish = ((reluish as i32 + (1 << 15)) >> 1) as i16;
    let preshift_output_value = sdhm_i16(reluish, preshift_output);
    let output = rounding_divide_by_pot_i16(preshift_output_value, -p.output_exponent);
    let output = (output as i32).wrapping_add(p.output_zero_point) as i16;
    output.clamp(i8::MIN as i16, i8::MAX as i16) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_and_tanh_follow_the_float_functions() {
        for i in -2000..=2000 {
            let raw = i * (1 << 18); // Q4.27, about -15.6..15.6
            let x = raw as f64 / 2f64.powi(27);
            let s = logistic_q4(raw) as f64 / 2f64.powi(31);
            assert!(
                (s - 1.0 / (1.0 + (-x).exp())).abs() < 2e-7,
                "logistic({x}) = {s}"
            );
            let t = tanh_q4(raw) as f64 / 2f64.powi(31);
            assert!((t - x.tanh()).abs() < 2e-7, "tanh({x}) = {t}");
        }
        assert_eq!(logistic_q4(0), 1 << 30);
        assert_eq!(tanh_q4(0), 0);
        assert_eq!(tanh_q4(-(1 << 27)), tanh_q4(1 << 27).wrapping_neg());
    }

    /// Constants as TFLM's Prepare derives them for `scale`, zero point `zp`.
    fn sigmoidal(scale: f64, zp: i32) -> Sigmoidal {
        let real = scale * 2f64.powi(27);
        let shift = real.log2().floor() as i32 + 1;
        let q = real / 2f64.powi(shift);
        Sigmoidal {
            input_zero_point: zp,
            input_range_radius: (15.0 * 2f64.powi(27) / 2f64.powi(shift)).floor() as i32,
            input_multiplier: (q * 2f64.powi(31)).round() as i32,
            input_left_shift: shift,
        }
    }

    #[test]
    fn int8_logistic_and_tanh_are_within_one_step() {
        for (scale, zp) in [(0.06, 5), (0.5, -20), (1.0 / 16.0, 0), (0.011, 100)] {
            let p = sigmoidal(scale, zp);
            let (mut last_s, mut last_t) = (i8::MIN, i8::MIN);
            for x in i8::MIN..=i8::MAX {
                let real = scale * (x as i32 - zp) as f64;
                let s = logistic_i8(&p, x);
                let want = (256.0 / (1.0 + (-real).exp()) - 128.0)
                    .round()
                    .clamp(-128.0, 127.0);
                assert!(
                    (s as f64 - want).abs() <= 1.0,
                    "logistic {scale} {x}: {s} vs {want}"
                );
                let t = tanh_i8(&p, x);
                let want = (128.0 * real.tanh()).round().clamp(-128.0, 127.0);
                assert!(
                    (t as f64 - want).abs() <= 1.0,
                    "tanh {scale} {x}: {t} vs {want}"
                );
                assert!(s >= last_s && t >= last_t, "not monotonic at {x}");
                (last_s, last_t) = (s, t);
            }
        }
        // zero input: logistic 1/2 (0 in Q0.8 minus 128 ... = 0), tanh 0
        let p = sigmoidal(0.1, 7);
        assert_eq!(logistic_i8(&p, 7), 0);
        assert_eq!(tanh_i8(&p, 7), 0);
        // beyond the radius: saturated
        assert_eq!((logistic_i8(&p, -128), logistic_i8(&p, 127)), (-128, 127));
    }

    #[test]
    fn int16_helpers_match_the_int32_ones() {
        for x in (i16::MIN..=i16::MAX).step_by(7) {
            for e in 0..15 {
                assert_eq!(
                    rounding_divide_by_pot_i16(x, e) as i32,
                    rounding_divide_by_pot(x as i32, e),
                    "{x} >> {e}"
                );
            }
            let exact = x as f64 * 12_345.0 / 32_768.0;
            assert!((srdhm_i16(x, 12_345) as f64 - exact).abs() <= 0.5, "{x}");
            assert!((sdhm_i16(x, 12_345) as f64 - exact).abs() < 1.0, "{x}");
        }
        assert_eq!(srdhm_i16(i16::MIN, i16::MIN), i16::MAX);
        assert_eq!(sdhm_i16(-3, 1 << 14), -1); // -1.5 truncates toward zero
        assert_eq!(srdhm_i16(-3, 1 << 14), -1); // -1.5: gemmlowp's nudge rounds up
        assert_eq!(srdhm_i16(3, 1 << 14), 2);
        assert_eq!(saturating_left_shift_i16(20_000, 1), i16::MAX);
        assert_eq!(saturating_left_shift_i16(-20_000, 2), i16::MIN);
        assert_eq!(saturating_left_shift_i16(-3, 3), -24);
    }

    #[test]
    fn hard_swish_is_close_to_the_float_function() {
        // input scale 0.04, zero point 0, output scale 0.03, zero point -20 (constants as TFLM's
        // Prepare: Q15 multipliers of (0.04 / 128) / 0.03 and (0.04 / 128) / (3 / 32768))
        let p = HardSwish {
            input_zero_point: 0,
            output_zero_point: -20,
            output_multiplier: 21_845, // 0.6667 * 2^15, exponent -6: 0.0104
            output_exponent: -6,
            reluish_multiplier: 27_962, // 0.8533 * 2^15, exponent 2: 3.413
            reluish_exponent: 2,
        };
        for x in i8::MIN..=i8::MAX {
            let v = 0.04 * x as f64;
            let want = (v * (v + 3.0).clamp(0.0, 6.0) / 6.0 / 0.03 - 20.0).round();
            let got = hard_swish_i8(&p, x) as f64;
            assert!(
                (got - want.clamp(-128.0, 127.0)).abs() <= 1.0,
                "{x}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn leaky_relu_negates_after_rescaling() {
        let p = LeakyRelu {
            input_zero_point: 10,
            output_zero_point: -5,
            alpha_multiplier: 1 << 30, // 0.5
            alpha_shift: 0,
            alpha_negative: true,
            identity_multiplier: 1 << 30, // 1.0
            identity_shift: 1,
        };
        assert_eq!(leaky_relu_i8(&p, 30), 15); // 20 * 1 - 5
                                               // -3 * 0.5 = -1.5 rounds up to -1 (gemmlowp's tie rule), negated: 1
        assert_eq!(leaky_relu_i8(&p, 7), -5 + 1);
        assert_eq!(leaky_relu_i8(&p, -128), -5 + 69); // -138 * -0.5
        let relu = Relu {
            input_zero_point: 10,
            output_zero_point: -100,
            multiplier: 1 << 30,
            shift: 0,
            act_min: -100,
            act_max: 127,
        };
        assert_eq!(relu_i8(&relu, 0), -100);
        assert_eq!(relu_i8(&relu, 30), -90);
        let table = table_of(|x| relu_i8(&relu, x)).map(|v| v as u8);
        let mut out = [0i8; 3];
        lookup(&table, &[0, 30, 127], &mut out);
        assert_eq!(out, [-100, -90, -41]); // 117 * 0.5 = 58.5 -> 59
    }
}
