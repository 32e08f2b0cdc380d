//! Int8 PRELU, DIV, L2_NORMALIZATION and LOG_SOFTMAX (TFLM's reference integer kernels),
//! and TFLite's integer inverse square root and logarithm they (and RSQRT's tables) use.

use super::*;

/// Per-layer constants of int8 PRELU (TFLM `CalculatePreluParams`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prelu {
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `-alpha_zero_point`.
    pub alpha_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// `input_scale / output_scale` as a Q31 multiplier (non-negative inputs).
    pub multiplier_1: i32,
    /// Its shift.
    pub shift_1: i32,
    /// `input_scale * alpha_scale / output_scale` as a Q31 multiplier (negative inputs).
    pub multiplier_2: i32,
    /// Its shift.
    pub shift_2: i32,
}

/// Int8 PRELU (TFLM reference `BroadcastPrelu4DSlow`): non-negative inputs rescaled, negative
/// ones multiplied by alpha and rescaled.
#[inline(always)]
pub fn prelu(p: &Prelu, bc: Option<&Broadcast>, input: &[i8], alpha: &[i8], output: &mut [i8]) {
    binary_i8(bc, input, alpha, output, |x, a| {
        let x = p.input_offset.wrapping_add(x);
        let v = if x >= 0 {
            multiply_by_quantized_multiplier(x, p.multiplier_1, p.shift_1)
        } else {
            let a = p.alpha_offset.wrapping_add(a);
            multiply_by_quantized_multiplier(x.wrapping_mul(a), p.multiplier_2, p.shift_2)
        };
        clamp_i8(v.wrapping_add(p.output_offset), -128, 127)
    });
}

/// Per-layer constants of int8 DIV (TFLM `CalculateOpDataDiv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Div {
    /// `-input1_zero_point`.
    pub input1_offset: i32,
    /// `-input2_zero_point`.
    pub input2_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// `input1_scale / (input2_scale * output_scale)` as a Q31 multiplier.
    pub output_multiplier: i32,
    /// Its shift.
    pub output_shift: i32,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

/// Leading bits equal to the sign bit, not counting it (TFLite `CountLeadingSignBits`).
#[inline(always)]
pub fn count_leading_sign_bits(x: i32) -> i32 {
    if x >= 0 {
        (x as u32).leading_zeros() as i32 - 1
    } else {
        (!x as u32).leading_zeros() as i32 - 1
    }
}

/// Int8 DIV (TFLM reference `DivElementwise` / `BroadcastDivSlowQuantized`): the divisor's
/// reciprocal in fixed point, the dividend normalised by its headroom. A zero divisor (which
/// TFLM only checks in debug builds) gives what the same arithmetic gives.
#[inline(always)]
pub fn div_i8(p: &Div, bc: Option<&Broadcast>, input1: &[i8], input2: &[i8], output: &mut [i8]) {
    binary_i8(bc, input1, input2, output, |a, b| {
        let mut a = p.input1_offset.wrapping_add(a);
        let mut b = p.input2_offset.wrapping_add(b);
        if b < 0 {
            a = a.wrapping_neg();
            b = b.wrapping_neg();
        }
        let (inverse, recip_shift) = get_reciprocal(b, 31);
        let headroom = count_leading_sign_bits(a);
        let unscaled = saturating_rounding_doubling_high_mul(
            a.wrapping_mul(1i32.wrapping_shl(headroom as u32)),
            inverse,
        );
        let total_shift = p.output_shift - recip_shift - headroom;
        let v = rounding_divide_by_pot(
            saturating_rounding_doubling_high_mul(unscaled, p.output_multiplier),
            -total_shift,
        );
        clamp_i8(p.output_offset.wrapping_add(v), p.act_min, p.act_max)
    });
}

/// TFLite `GetInvSqrtQuantizedMultiplierExp(input, kReverseShift = -1)`: `1 / sqrt(input)`
/// as a Q31 multiplier and a shift (`<= 0` but for tiny inputs), by five Newton steps in
/// gemmlowp fixed point.
pub fn inv_sqrt_multiplier(input: i32) -> (i32, i32) {
    if input <= 1 {
        return (i32::MAX, 0);
    }
    let mut input = input;
    let mut shift = 11;
    while input >= (1 << 29) {
        input /= 4;
        shift += 1;
    }
    let max_left_shift_bits = (input as u32).leading_zeros() as i32 - 1;
    let left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
    shift -= left_shift_bit_pairs;
    input <<= 2 * left_shift_bit_pairs;
    // Q3.28 fixed point: products of two Q3 values are Q6, of three Q9.
    let half_input = rounding_divide_by_pot(input >> 1, 1);
    const HALF_THREE: i32 = (1 << 28) + (1 << 27);
    let srdhm = saturating_rounding_doubling_high_mul;
    let mut x: i32 = 1 << 28; // one
    for _ in 0..5 {
        let x3 = saturating_rounding_multiply_by_pot(srdhm(srdhm(x, x), x), 6);
        let diff = srdhm(HALF_THREE, x).wrapping_sub(srdhm(half_input, x3));
        x = saturating_rounding_multiply_by_pot(diff, 3);
    }
    const HALF_SQRT_2: i32 = 1_518_500_250;
    let mut inv_sqrt = srdhm(x, HALF_SQRT_2);
    if shift < 0 {
        inv_sqrt <<= (-shift) & 31;
        shift = 0;
    }
    (inv_sqrt, -shift)
}

/// Int8 L2_NORMALIZATION (TFLM `reference_integer_ops::L2Normalization`): output in Q0.7
/// (scale 1/128, zero point 0) whatever the output tensor says.
#[inline(always)]
pub fn l2_normalization(p: &Rows, input_zero_point: i32, input: &[i8], output: &mut [i8]) {
    for (row_in, row_out) in row_pairs(p, input, output) {
        let mut acc = 0i32;
        for &x in row_in {
            let v = x as i32 - input_zero_point;
            acc = acc.wrapping_add(v * v);
        }
        let (multiplier, shift) = inv_sqrt_multiplier(acc);
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            let v = x as i32 - input_zero_point;
            *o = clamp_i8(
                multiply_by_quantized_multiplier(v, multiplier, shift + 7),
                -128,
                127,
            );
        }
    }
}

/// Per-layer constants of int8 LOG_SOFTMAX (output scale 16/256, zero point 127; TFLM's
/// `CalculateOpData` in `log_softmax.cc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogSoftmax {
    /// The rows it runs over (the last dimension).
    pub shape: Rows,
    /// `input_scale` as a Q5.26 multiplier (with `input_left_shift`).
    pub input_multiplier: i32,
    /// Left shift applied with `input_multiplier`.
    pub input_left_shift: i32,
    /// The inverse of the input scaling, as a multiplier below one.
    pub reverse_scaling_divisor: i32,
    /// Its right shift.
    pub reverse_scaling_right_shift: i32,
    /// Differences from the row maximum below this contribute zero.
    pub diff_min: i32,
}

/// TFLite `log_x_for_x_greater_than_or_equal_to_1<5>` of a Q12.19 value: `ln(x)` in Q5.26.
pub fn log_q12_to_q5(input: i32) -> i32 {
    /// Integer bits of the input and of the accumulator (`OutputIntegerBits + 1`).
    const INPUT_BITS: i32 = 12;
    const ACCUM_BITS: i32 = 6;
    const LOG_2: i32 = 1_488_522_236;
    const SQRT_SQRT_HALF: i32 = 1_805_811_301;
    const SQRT_HALF: i32 = 1_518_500_250;
    const ONE_QUARTER: i32 = 536_870_912;
    const ALPHA_N: i32 = 117_049_297;
    const ALPHA_D: i32 = 127_690_142;
    const ALPHA_I: i32 = 1_057_819_769;
    const ALPHA_F: i32 = 638_450_708;
    let srdhm = saturating_rounding_doubling_high_mul;
    let pot = saturating_rounding_multiply_by_pot;
    let shifted_quarter = pot(ONE_QUARTER, -ACCUM_BITS);
    // Reinterpreted as Q0.31: the shifts are worked out here.
    let z_a = input;
    let z_a_headroom_plus_1 = (z_a as u32).leading_zeros() as i32;
    let r_a_tmp = pot(z_a, z_a_headroom_plus_1 - 1);
    let r_a_raw = pot(srdhm(r_a_tmp, SQRT_HALF), 1);
    let z_a_pow_2_adj = i32::saturating_add(
        pot(INPUT_BITS - z_a_headroom_plus_1, 31 - ACCUM_BITS),
        shifted_quarter,
    );
    // z_b is z_a premultiplied by sqrt(1/2).
    let z_b = srdhm(z_a, SQRT_HALF);
    let z_b_headroom = (z_b as u32).leading_zeros() as i32 - 1;
    let r_b_raw = pot(z_a, z_b_headroom);
    let z_b_pow_2_adj =
        pot(INPUT_BITS - z_b_headroom, 31 - ACCUM_BITS).saturating_sub(shifted_quarter);
    let r = r_a_raw.min(r_b_raw);
    let z_pow_2_adj = z_a_pow_2_adj.max(z_b_pow_2_adj);
    let p = rounding_half_sum(r, SQRT_SQRT_HALF);
    let q = r.wrapping_sub(SQRT_SQRT_HALF);
    let q = q.wrapping_add(q);
    let common_sq = srdhm(q, q);
    let num = srdhm(q, r).wrapping_add(srdhm(srdhm(q, common_sq), ALPHA_N));
    let denom_minus_one = srdhm(
        p,
        ALPHA_I
            .wrapping_add(q)
            .wrapping_add(srdhm(ALPHA_D, common_sq)),
    )
    .wrapping_add(srdhm(ALPHA_F, q));
    let recip_denom = one_over_one_plus_x_for_x_in_0_1(denom_minus_one);
    let num_scaled = pot(num, -ACCUM_BITS);
    let sum = srdhm(z_pow_2_adj, LOG_2).wrapping_add(srdhm(num_scaled, recip_denom));
    // Rescale from Q6 to Q5.
    pot(sum, 1)
}

/// Int8 LOG_SOFTMAX in fixed point (TFLM reference `LogSoftmaxQuantized`).
#[inline(always)]
pub fn log_softmax(p: &LogSoftmax, input: &[i8], output: &mut [i8]) {
    /// Integer bits of the scaled differences (Q5.26) and of the sum of exps (Q12.19).
    const ACCUMULATION_INTEGER_BITS: i32 = 12;
    const OUTPUT_SHIFT: i32 = 31 - 5 - 4;
    let scaled =
        |diff: i32| multiply_by_quantized_multiplier(diff, p.input_multiplier, p.input_left_shift);
    for (row_in, row_out) in row_pairs(&p.shape, input, output) {
        let max = row_in.iter().copied().max().unwrap_or(i8::MIN) as i32;
        let mut sum_of_exps = 0i32;
        for &x in row_in {
            let diff = x as i32 - max;
            if diff >= p.diff_min {
                sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(
                    exp_on_negative_values_q5(scaled(diff)),
                    ACCUMULATION_INTEGER_BITS,
                ));
            }
        }
        let log_sum = log_q12_to_q5(sum_of_exps);
        let adjusted_diff_min = (p.diff_min - 1).max(multiply_by_quantized_multiplier(
            log_sum.wrapping_add(i32::MIN),
            p.reverse_scaling_divisor,
            -p.reverse_scaling_right_shift,
        ));
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            let diff = x as i32 - max;
            *o = if diff > adjusted_diff_min {
                let v = rounding_divide_by_pot(scaled(diff).wrapping_sub(log_sum), OUTPUT_SHIFT);
                clamp_i8(v.wrapping_add(127), -128, 127)
            } else {
                i8::MIN
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_square_root_is_close() {
        for n in [2, 3, 4, 100, 255 * 255, 1 << 20, 123_456_789, i32::MAX] {
            let (m, s) = inv_sqrt_multiplier(n);
            let got = m as f64 / (1u64 << 31) as f64 * 2f64.powi(s);
            let want = 1.0 / (n as f64).sqrt();
            // Five Newton steps from 1, as TFLite: close, not exact.
            assert!((got / want - 1.0).abs() < 2e-5, "{n}: {got} vs {want}");
        }
        assert_eq!(inv_sqrt_multiplier(1), (i32::MAX, 0));
    }

    #[test]
    fn log_of_q12_values() {
        for x in [1.0f64, 1.5, 2.0, 3.7, 100.0, 4000.0] {
            let raw = (x * (1u64 << 19) as f64) as i32;
            let got = log_q12_to_q5(raw) as f64 / (1u64 << 26) as f64;
            assert!((got - x.ln()).abs() < 1e-6, "ln({x}) = {got}");
        }
    }

    #[test]
    fn prelu_div_l2() {
        let p = Prelu {
            input_offset: 0,
            alpha_offset: 0,
            output_offset: 0,
            multiplier_1: 1 << 30,
            shift_1: 1,
            multiplier_2: 1 << 30,
            shift_2: -2,
        };
        let mut out = [0i8; 3];
        // x, or x · alpha / 8
        prelu(&p, None, &[5, -8, -16], &[3, 3, -2], &mut out);
        assert_eq!(out, [5, -3, 4]);
        let d = Div {
            input1_offset: 0,
            input2_offset: 0,
            output_offset: 0,
            output_multiplier: 1 << 30,
            output_shift: 1,
            act_min: -128,
            act_max: 127,
        };
        // 7 / -2: the reciprocal of 2 is a hair below 1/2, so -3.5 rounds to -3.
        div_i8(&d, None, &[100, -100, 7], &[4, 4, -2], &mut out);
        assert_eq!(out, [25, -25, -3]);
        let rows = Rows { rows: 1, depth: 3 };
        l2_normalization(&rows, 0, &[3, 4, 0], &mut out);
        // 3/5, 4/5 in Q0.7
        assert_eq!(out, [77, 102, 0]);
        assert_eq!(count_leading_sign_bits(0), 31);
        assert_eq!(count_leading_sign_bits(-1), 31);
        assert_eq!(count_leading_sign_bits(1), 30);
        assert_eq!(count_leading_sign_bits(-128), 24);
    }
}
