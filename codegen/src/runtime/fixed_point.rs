//! TFLite's fixed-point arithmetic (gemmlowp semantics, bit for bit): rounding multiplies,
//! power-of-two divides, requantization, and the exp / reciprocal helpers of softmax.

/// `round(a * b / 2^31)` with ties away from zero, saturating the one overflow case
/// (`i32::MIN * i32::MIN`), as gemmlowp's `SaturatingRoundingDoublingHighMul`.
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Division truncates toward zero, as in C++.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero (gemmlowp `RoundingDivideByPOT`).
/// `exponent` must be in `0..=31`.
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let mask = ((1i64 << (exponent & 31)) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> (exponent & 31)) + (remainder > threshold) as i32
}

/// TFLite's `MultiplyByQuantizedMultiplier` (double-rounding build): `x * m * 2^shift`.
/// `shift` must be in `-31..=30`.
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 { 0 } else { -shift };
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x.wrapping_mul(1 << (left & 31)), multiplier),
        right,
    )
}

/// [`multiply_by_quantized_multiplier`] in fewer instructions, for multipliers other than
/// `i32::MIN` (every multiplier `QuantizeMultiplier` produces): the nudge-and-truncate of
/// `SaturatingRoundingDoublingHighMul` equals `floor(x·m / 2^31 + 1/2)`, and
/// `RoundingDivideByPOT(p, e)` equals `(p + 2^(e-1) - [p < 0]) >> e`. Same double rounding,
/// same results.
#[inline(always)]
pub fn multiply_by_quantized_multiplier_fast(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 { 0 } else { -shift };
    let x = x.wrapping_mul(1 << (left & 31));
    let high = ((x as i64 * multiplier as i64 + (1 << 30)) >> 31) as i32;
    if right == 0 {
        high
    } else {
        let round = (1i64 << ((right - 1) & 31)) - (high < 0) as i64;
        ((high as i64 + round) >> (right & 31)) as i32
    }
}

/// [`multiply_by_quantized_multiplier`]`(x, multiplier, -right)` for `|x| < 2^30` and
/// `right` in `1..=31`, in a few instructions: `floor((x·m + 2^30) / 2^31)` is one SMMULR of
/// `2x` (`floor((2x·m + 2^31) / 2^32)`), and `RoundingDivideByPOT(h, r)` is
/// `(h + 2^(r-1) - [h < 0]) >> r`, which cannot overflow since `|h| ≤ |x|`. Same double
/// rounding, same results, for every accumulator the compiler proves this small.
#[inline(always)]
pub fn requantize_small(x: i32, multiplier: i32, right: i32) -> i32 {
    let high = rounded_high_mul(x << 1, multiplier);
    let right = right & 31;
    (high + (high >> 31) + ((1u32 << right) >> 1) as i32) >> right
}

/// The per-channel constant of [`requantize_small_offset`]: `2^(right-1) + offset·2^right`.
#[inline(always)]
pub fn small_offset_constant(right: i32, offset: i32) -> i32 {
    let right = right & 31;
    ((1u32 << right) >> 1) as i32 + (offset << right)
}

/// The per-channel constants `(c, post)` of [`requantize_small_offset`] for any right shift in
/// `1..=31`: `requantize_small_offset(x, m, right, c) + post` equals `requantize_small(x, m,
/// right) + offset` for `|x| < 2^30`, `m ≥ 0`, `|offset| ≤ 128`. Up to a shift of 22 the
/// offset goes into `c` and `post` is 0; beyond, `offset·2^right` would overflow, so `c` is
/// [`small_offset_constant`]`(right, 0)` (at most `2^30`, which keeps `|h + c| < 2^31`) and
/// the offset is added after the shift.
#[inline(always)]
pub fn small_offset_split(right: i32, offset: i32) -> (i32, i32) {
    if right <= 22 {
        (small_offset_constant(right, offset), 0)
    } else {
        (small_offset_constant(right, 0), offset)
    }
}

/// [`requantize_small`]`(x, m, right) + offset` in fewer instructions, for `|x| < 2^30`,
/// `right` in `1..=22`, `|offset| ≤ 128` and `m ≥ 0`, with `c` =
/// [`small_offset_constant`]`(right, offset)` computed once per channel:
/// - `offset` is added before the shift as `offset·2^right`, a multiple of `2^right`, so it
///   leaves the rounding alone;
/// - `h + c` is one SMMLAR (`c + floor((2x·m + 2^31) / 2^32)`), and `|h + c| < 2^31` since
///   `|h| ≤ |x| < 2^30` and `|c| < 2^30` for `right ≤ 22`;
/// - the rounding's `[h < 0]` becomes `[x < 0]`: with `m ≥ 0` they differ only when `h = 0`
///   and `x < 0`, where `(c - 1) >> right = c >> right = offset` for `right ≥ 1`.
#[inline(always)]
pub fn requantize_small_offset(x: i32, multiplier: i32, right: i32, c: i32) -> i32 {
    // No SMMLAR on RV32: the rounded high word plus `c` (the sum is below 2^31, see above).
    let biased = if cfg!(target_arch = "riscv32") {
        rounded_high_mul(x << 1, multiplier).wrapping_add(c)
    } else {
        ((((x << 1) as i64 * multiplier as i64) + ((c as i64) << 32) + (1i64 << 31)) >> 32) as i32
    };
    (biased + (x >> 31)) >> (right & 31)
}

/// `floor((a·b + 2^31) / 2^32)`: one SMMULR on Arm DSP cores. On RV32, where LLVM forms the
/// `+ 2^31` as a 64-bit add (an add and a carry), it is computed as the high word (MULH) plus
/// bit 31 of the low word (MUL, shift) instead ([`rounded_high_mul_by`]).
#[inline(always)]
pub fn rounded_high_mul(a: i32, b: i32) -> i32 {
    rounded_high_mul_by::<{ cfg!(target_arch = "riscv32") }>(a, b)
}

/// [`rounded_high_mul`] as a 64-bit sum (`CARRY` false) or as the high word plus the low
/// word's bit 31 (`CARRY` true: adding 2^31 carries into the high word exactly when that bit
/// is set). Equal results; the host tests compare the two.
#[inline(always)]
pub fn rounded_high_mul_by<const CARRY: bool>(a: i32, b: i32) -> i32 {
    if CARRY {
        let high = ((a as i64 * b as i64) >> 32) as i32;
        let carry = (a.wrapping_mul(b) as u32 >> 31) as i32;
        high.wrapping_add(carry)
    } else {
        ((a as i64 * b as i64 + (1i64 << 31)) >> 32) as i32
    }
}

/// gemmlowp `SaturatingRoundingMultiplyByPOT`: `x * 2^exponent`, saturating when
/// `exponent > 0`, rounding to nearest when `exponent < 0`.
#[inline(always)]
pub fn saturating_rounding_multiply_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent > 0 {
        let threshold = (1i32 << (31 - exponent)) - 1;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x << exponent
        }
    } else if exponent < 0 {
        rounding_divide_by_pot(x, -exponent)
    } else {
        x
    }
}

/// gemmlowp `RoundingHalfSum`: `(a + b) / 2` rounded to nearest, ties away from zero.
#[inline(always)]
pub fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// `exp(a)` for `a` in `[-1/4, 0)`, Q0.31 in and out (gemmlowp's Taylor expansion around -1/8).
pub fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1_895_147_668; // exp(-1/8)
    const ONE_THIRD: i32 = 715_827_883;
    let srdhm = saturating_rounding_doubling_high_mul;
    let x = a.wrapping_add(1 << 28); // a + 1/8
    let x2 = srdhm(x, x);
    let x3 = srdhm(x2, x);
    let x4 = srdhm(x2, x2);
    let x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
    let poly = saturating_rounding_multiply_by_pot(
        srdhm(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        -1,
    );
    CONSTANT_TERM.wrapping_add(srdhm(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp `exp_on_negative_values` for a `a <= 0` with `integer_bits` integer bits (0..=5
/// here); result in Q0.31.
pub fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    let fractional_bits = 31 - integer_bits;
    let one_quarter: i32 = 1 << ((fractional_bits - 2) & 31);
    let mask = one_quarter.wrapping_sub(1);
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, integer_bits),
    );
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // exp(-2^k) in Q0.31 for k = -2..=4, applied for each set bit of the remainder.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        if integer_bits > exponent && remainder & (1 << ((fractional_bits + exponent) & 31)) != 0 {
            result = saturating_rounding_doubling_high_mul(result, multiplier);
        }
    }
    if a == 0 {
        i32::MAX
    } else {
        result
    }
}

/// gemmlowp `exp_on_negative_values` for a Q5.26 input `a <= 0` (softmax); result in Q0.31.
#[inline(always)]
pub fn exp_on_negative_values_q5(a: i32) -> i32 {
    exp_on_negative_values(a, 5)
}

/// Newton-Raphson for `1 / (1 + a)`, `a` in Q0.31 within `[0, 1)`: the Q2.29 result shared by
/// gemmlowp's `one_over_one_plus_x_for_x_in_0_1` and `one_minus_x_over_one_plus_x_for_x_in_0_1`.
pub fn newton_one_over_one_plus_x_q2(a: i32) -> i32 {
    let srdhm = saturating_rounding_doubling_high_mul;
    let half_denominator = rounding_half_sum(a, i32::MAX);
    const C48_OVER_17: i32 = 1_515_870_810; // Q2.29
    const C_NEG_32_OVER_17: i32 = -1_010_580_540; // Q2.29
    const ONE_Q2: i32 = 1 << 29;
    let mut x = C48_OVER_17.wrapping_add(srdhm(half_denominator, C_NEG_32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = srdhm(half_denominator, x);
        let one_minus = ONE_Q2.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(saturating_rounding_multiply_by_pot(srdhm(x, one_minus), 2));
    }
    x
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1`: Q0.31 in, Q0.31 out.
pub fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    // ExactMulByPot<-1> only retypes Q2.29 as Q1.30 (same raw bits); Rescale<0> then
    // shifts left by one with saturation.
    saturating_rounding_multiply_by_pot(newton_one_over_one_plus_x_q2(a), 1)
}

/// TFLite's `GetReciprocal`: returns `1 / x` in Q0.31 scaled by `2^-num_bits_over_unit`,
/// for `x` with `x_integer_digits` integer bits.
pub fn get_reciprocal(x: i32, x_integer_digits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let num_bits_over_unit = x_integer_digits - headroom_plus_one;
    let shifted_sum_minus_one =
        ((x as u32).wrapping_shl(headroom_plus_one as u32)).wrapping_sub(1u32 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one),
        num_bits_over_unit,
    )
}

#[inline(always)]
pub fn clamp_i8(x: i32, min: i32, max: i32) -> i8 {
    let x = if x < min { min } else { x };
    let x = if x > max { max } else { x };
    x as i8
}

/// Requantizes one accumulator to int8.
#[inline(always)]
pub fn requantize(acc: i32, multiplier: i32, shift: i32, offset: i32, min: i32, max: i32) -> i8 {
    clamp_i8(
        multiply_by_quantized_multiplier(acc, multiplier, shift).wrapping_add(offset),
        min,
        max,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_fixtures::rng::Rng;

    #[test]
    fn rounded_high_mul_forms_equal_the_64_bit_rounding() {
        let mut rng = Rng::new(0x5eed);
        let edges = [
            i32::MIN,
            i32::MIN + 1,
            -1,
            0,
            1,
            i32::MAX,
            1 << 30,
            -(1 << 30),
        ];
        let mut pairs: Vec<(i32, i32)> = edges
            .iter()
            .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
            .collect();
        pairs.extend((0..200_000).map(|_| (rng.next_u64() as i32, rng.next_u64() as i32)));
        for (a, b) in pairs {
            let want = ((a as i64 * b as i64 + (1i64 << 31)) >> 32) as i32;
            assert_eq!(rounded_high_mul_by::<true>(a, b), want, "{a} * {b}");
            assert_eq!(rounded_high_mul_by::<false>(a, b), want, "{a} * {b}");
        }
    }

    #[test]
    fn srdhm_ties_negatives_and_saturation() {
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX),
            -i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(1 << 30, 1 << 30),
            1 << 29
        );
        // Ties: 1.5 -> 2 and 0.5 -> 1, but gemmlowp's negative nudge (1 - 2^30) followed by
        // truncation sends -1.5 -> -1 and -0.5 -> 0 (ties round up, not away from zero).
        assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        // Just past a negative tie rounds away.
        assert_eq!(saturating_rounding_doubling_high_mul(-3, (1 << 30) + 1), -2);
        assert_eq!(saturating_rounding_doubling_high_mul(0, i32::MIN), 0);
    }

    #[test]
    fn rounding_divide_by_pot_ties_and_extremes() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3); // 2.5 -> 3
        assert_eq!(rounding_divide_by_pot(-5, 1), -3); // -2.5 -> -3
        assert_eq!(rounding_divide_by_pot(7, 2), 2); // 1.75 -> 2
        assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5 -> -2
        assert_eq!(rounding_divide_by_pot(-5, 2), -1); // -1.25 -> -1
        assert_eq!(rounding_divide_by_pot(123, 0), 123);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 1), -(1 << 30));
    }

    #[test]
    fn multiply_by_quantized_multiplier_shifts() {
        // multiplier 0.5 (2^30), shift 0: 100 * 0.5 = 50.
        assert_eq!(multiply_by_quantized_multiplier(100, 1 << 30, 0), 50);
        // shift -1: 101 * 0.25 = 25.25, but TFLite rounds twice (101 * 0.5 = 50.5 -> 51, then
        // 51 / 2 = 25.5 -> 26): the double-rounding result is what TFLM computes.
        assert_eq!(multiply_by_quantized_multiplier(101, 1 << 30, -1), 26);
        assert_eq!(multiply_by_quantized_multiplier(102, 1 << 30, -1), 26);
        assert_eq!(multiply_by_quantized_multiplier(-102, 1 << 30, -1), -26);
        // shift +2: 10 * 0.5 * 4 = 20.
        assert_eq!(multiply_by_quantized_multiplier(10, 1 << 30, 2), 20);
        // shift -31 leaves only the sign of large values.
        assert_eq!(multiply_by_quantized_multiplier(i32::MAX, i32::MAX, -31), 1);
        assert_eq!(
            multiply_by_quantized_multiplier(i32::MIN, i32::MAX, -31),
            -1
        );
        assert_eq!(multiply_by_quantized_multiplier(0, i32::MAX, 30), 0);
    }

    #[test]
    fn saturating_pot() {
        assert_eq!(saturating_rounding_multiply_by_pot(1 << 26, 5), i32::MAX);
        assert_eq!(saturating_rounding_multiply_by_pot(-(1 << 26), 5), i32::MIN);
        assert_eq!(saturating_rounding_multiply_by_pot(3, 2), 12);
        assert_eq!(saturating_rounding_multiply_by_pot(6, -2), 2);
    }

    #[test]
    fn exp_matches_float_within_q31_precision() {
        for i in 0..2000 {
            let x = -(i as f64) * 0.0155; // down to about -31
            let raw = (x * (1u64 << 26) as f64) as i32;
            let got = exp_on_negative_values_q5(raw) as f64 / 2f64.powi(31);
            let want = (raw as f64 / (1u64 << 26) as f64).exp();
            assert!((got - want).abs() < 1e-6, "exp({x}) = {got}, want {want}");
        }
        assert_eq!(exp_on_negative_values_q5(0), i32::MAX);
    }

    #[test]
    fn reciprocal_matches_float() {
        for sum in [1 << 19, 3 << 19, (1 << 19) + 12345, 100 << 19, i32::MAX / 3] {
            let (scale, bits) = get_reciprocal(sum, 12);
            let got = scale as f64 / 2f64.powi(31) / 2f64.powi(bits);
            let want = 1.0 / (sum as f64 / 2f64.powi(19));
            assert!((got / want - 1.0).abs() < 1e-6, "1/{sum}: {got} vs {want}");
        }
    }

    #[test]
    fn fast_requantization_equals_reference() {
        let mut rng = Rng::new(0x1234_5678_9abc_def1);
        let specials = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            -3,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
            1 << 30,
            -(1 << 30),
        ];
        for shift in -31..=30 {
            for _ in 0..3000 {
                let m = if rng.index(8) == 0 {
                    [0, 1 << 30, i32::MAX][rng.index(3)]
                } else {
                    (1 << 30) + (rng.next_u64() as i32 & 0x3fff_ffff)
                };
                let x = if rng.index(4) == 0 {
                    specials[rng.index(specials.len())]
                } else {
                    rng.next_u64() as i32 >> rng.index(31)
                };
                assert_eq!(
                    multiply_by_quantized_multiplier_fast(x, m, shift),
                    multiply_by_quantized_multiplier(x, m, shift),
                    "x {x} m {m} shift {shift}"
                );
            }
        }
    }

    #[test]
    fn exp_in_q4_matches_float() {
        for i in 0..20_000 {
            let a = -(i * 6_700); // down to about -1.0 in Q4.27
            let got = exp_on_negative_values(a, 4) as f64 / 2f64.powi(31);
            let want = (a as f64 / 2f64.powi(27)).exp();
            assert!((got - want).abs() < 1e-6, "exp({a}) = {got}, want {want}");
        }
        assert_eq!(exp_on_negative_values(0, 4), i32::MAX);
        // Q4.27: exp(-1) and exp(-15.9)
        let got = exp_on_negative_values(-(1 << 27), 4) as f64 / 2f64.powi(31);
        assert!((got - (-1f64).exp()).abs() < 1e-6, "{got}");
        let tiny = exp_on_negative_values(-(159 << 27) / 10, 4) as f64 / 2f64.powi(31);
        assert!(tiny < 1e-6, "{tiny}");
    }

    #[test]
    fn small_requantization_with_offset_equals_reference() {
        let mut rng = Rng::new(0x5a11_0acc_0000_0002);
        for right in 1..=22 {
            for _ in 0..4000 {
                let m = match rng.index(8) {
                    0 => 0,
                    _ => (1 << 30) + (rng.next_u64() as i32 & 0x3fff_ffff),
                };
                let offset = rng.index(257) as i32 - 128;
                let x = match rng.index(4) {
                    0 => [0, 1, -1, (1 << 30) - 1, 1 - (1 << 30)][rng.index(5)],
                    _ => (rng.next_u64() as i32) >> (2 + rng.index(29)),
                };
                let c = small_offset_constant(right, offset);
                assert_eq!(
                    requantize_small_offset(x, m, right, c),
                    multiply_by_quantized_multiplier(x, m, -right) + offset,
                    "x {x} m {m} right {right} offset {offset}"
                );
            }
        }
    }

    #[test]
    fn split_small_requantization_equals_reference() {
        let mut rng = Rng::new(0x5a11_0acc_0000_0003);
        for right in 1..=31 {
            for _ in 0..4000 {
                let m = match rng.index(8) {
                    0 => 0,
                    _ => (1 << 30) + (rng.next_u64() as i32 & 0x3fff_ffff),
                };
                let offset = rng.index(257) as i32 - 128;
                let x = match rng.index(4) {
                    0 => [0, 1, -1, (1 << 30) - 1, 1 - (1 << 30)][rng.index(5)],
                    _ => (rng.next_u64() as i32) >> (2 + rng.index(29)),
                };
                let (c, post) = small_offset_split(right, offset);
                assert_eq!(
                    requantize_small_offset(x, m, right, c) + post,
                    multiply_by_quantized_multiplier(x, m, -right) + offset,
                    "x {x} m {m} right {right} offset {offset}"
                );
            }
        }
    }

    #[test]
    fn small_requantization_equals_reference() {
        let mut rng = Rng::new(0x5a11_0acc_0000_0001);
        for right in 1..=31 {
            for _ in 0..4000 {
                let m = (1 << 30) + (rng.next_u64() as i32 & 0x3fff_ffff);
                let x = match rng.index(4) {
                    0 => [0, 1, -1, (1 << 30) - 1, 1 - (1 << 30)][rng.index(5)],
                    _ => (rng.next_u64() as i32) >> (2 + rng.index(29)),
                };
                assert_eq!(
                    requantize_small(x, m, right),
                    multiply_by_quantized_multiplier(x, m, -right),
                    "x {x} m {m} right {right}"
                );
            }
        }
    }
}
