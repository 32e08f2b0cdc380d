//! kiln runtime: TFLite's fixed-point arithmetic and the portable int8 kernels.
//!
//! This file is compiled and unit-tested as part of `kiln-codegen`, and its source is copied
//! verbatim into every generated crate as `src/rt.rs`. It must therefore stay `no_std`,
//! allocation-free, dependency-free and free of `unsafe` and of panicking paths: all slice
//! accesses go through `get`/`get_mut`/`zip`, so an out-of-range access (which the compiler's
//! validation rules out) is skipped rather than a panic.
//!
//! Every kernel takes a parameter struct whose values are compile-time constants in the
//! generated code, so each call is specialised to its layer by constant propagation.
#![allow(dead_code)]

// ---------------------------------------------------------------------------------------------
// Fixed-point primitives (gemmlowp / TFLite semantics, bit for bit)
// ---------------------------------------------------------------------------------------------

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
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// `exp(a)` for `a` in `[-1/4, 0)`, Q0.31 in and out (gemmlowp's Taylor expansion around -1/8).
fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1_895_147_668; // exp(-1/8)
    const ONE_THIRD: i32 = 715_827_883;
    let mul = saturating_rounding_doubling_high_mul;
    let x = a.wrapping_add(1 << 28); // a + 1/8
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
    let poly = saturating_rounding_multiply_by_pot(
        mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        -1,
    );
    CONSTANT_TERM.wrapping_add(mul(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp `exp_on_negative_values` for a Q5.26 input `a <= 0` (softmax); result in Q0.31.
#[inline(always)]
pub fn exp_on_negative_values_q5(a: i32) -> i32 {
    exp_on_negative_values(a, 5)
}

/// Newton-Raphson for `1 / (1 + a)`, `a` in Q0.31 within `[0, 1)`: the Q2.29 result shared by
/// gemmlowp's `one_over_one_plus_x_for_x_in_0_1` and `one_minus_x_over_one_plus_x_for_x_in_0_1`.
fn newton_one_over_one_plus_x_q2(a: i32) -> i32 {
    let mul = saturating_rounding_doubling_high_mul;
    let half_denominator = rounding_half_sum(a, i32::MAX);
    const C48_OVER_17: i32 = 1_515_870_810; // Q2.29
    const C_NEG_32_OVER_17: i32 = -1_010_580_540; // Q2.29
    const ONE_Q2: i32 = 1 << 29;
    let mut x = C48_OVER_17.wrapping_add(mul(half_denominator, C_NEG_32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus = ONE_Q2.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(saturating_rounding_multiply_by_pot(mul(x, one_minus), 2));
    }
    x
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1`: Q0.31 in, Q0.31 out.
fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
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
fn clamp_i8(x: i32, min: i32, max: i32) -> i8 {
    let x = if x < min { min } else { x };
    let x = if x > max { max } else { x };
    x as i8
}

// ---------------------------------------------------------------------------------------------
// Arena views
// ---------------------------------------------------------------------------------------------

/// A tensor's elements in an arena: `offset..offset + len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// First element.
    pub offset: usize,
    /// Number of elements.
    pub len: usize,
}

/// The parts of an arena around an op's output region, for reading its inputs.
pub struct Rest<'a, T> {
    before: &'a [T],
    after: &'a [T],
    after_start: usize,
}

impl<'a, T> Rest<'a, T> {
    /// A view of a whole arena (for inputs from an arena the op does not write).
    #[inline(always)]
    pub fn whole(arena: &'a [T]) -> Self {
        Rest {
            before: &[],
            after: arena,
            after_start: 0,
        }
    }

    /// The elements of `region` (empty if it overlaps the output region, which the memory
    /// plan rules out).
    #[inline(always)]
    pub fn get(&self, region: Region) -> &'a [T] {
        let Region { offset, len } = region;
        let end = offset.wrapping_add(len);
        if end <= self.before.len() {
            self.before.get(offset..end).unwrap_or(&[])
        } else if offset >= self.after_start {
            self.after
                .get(offset - self.after_start..end - self.after_start)
                .unwrap_or(&[])
        } else {
            &[]
        }
    }
}

/// Splits an arena into the output `region` and the rest.
#[inline(always)]
pub fn carve<T>(arena: &mut [T], region: Region) -> (&mut [T], Rest<'_, T>) {
    let Region { offset, len } = region;
    let (before, tail) = match arena.split_at_mut_checked(offset) {
        Some(parts) => parts,
        None => (&mut [][..], &mut [][..]),
    };
    let (out, after) = match tail.split_at_mut_checked(len) {
        Some(parts) => parts,
        None => (&mut [][..], &mut [][..]),
    };
    let rest = Rest {
        before,
        after,
        after_start: offset.wrapping_add(len),
    };
    (out, rest)
}

/// Copies `input` into `output` (RESHAPE into a graph output).
#[inline(always)]
pub fn copy<T: Copy>(input: &[T], output: &mut [T]) {
    for (o, i) in output.iter_mut().zip(input) {
        *o = *i;
    }
}

// ---------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------

/// Geometry of a CONV_2D or DEPTHWISE_CONV_2D layer (NHWC activations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Batch size.
    pub batches: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Output channels.
    pub out_c: usize,
    /// Filter height.
    pub k_h: usize,
    /// Filter width.
    pub k_w: usize,
    /// Input channels per filter (CONV_2D: `in_c / groups`; depthwise: 1).
    pub k_c: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Vertical dilation.
    pub dilation_h: usize,
    /// Horizontal dilation.
    pub dilation_w: usize,
    /// Rows of implicit zero padding above the input.
    pub pad_top: usize,
    /// Columns of implicit zero padding left of the input.
    pub pad_left: usize,
    /// Depthwise channel multiplier (1 for CONV_2D).
    pub depth_multiplier: usize,
}

/// Per-layer constants of int8 CONV_2D and DEPTHWISE_CONV_2D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    /// Geometry.
    pub shape: ConvShape,
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

/// Requantizes one accumulator to int8.
#[inline(always)]
fn requantize(acc: i32, multiplier: i32, shift: i32, offset: i32, min: i32, max: i32) -> i8 {
    clamp_i8(
        multiply_by_quantized_multiplier(acc, multiplier, shift).wrapping_add(offset),
        min,
        max,
    )
}

/// The input row/column where a window starts, and the first filter tap inside the input.
#[inline(always)]
fn window_start(out: usize, stride: usize, pad: usize) -> isize {
    (out * stride) as isize - pad as isize
}

/// Reference kernel, kept as the oracle of the fast kernels' randomized tests (generated
/// code uses the fast kernels).
#[cfg(test)]
/// Int8 CONV_2D with per-channel requantization (TFLite `ConvPerChannel`).
/// `filter` is OHWI int8 stored as bytes.
#[inline(always)]
pub fn conv2d(
    p: &Conv,
    input: &[i8],
    filter: &[u8],
    bias: Option<&[i32]>,
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let groups = s.in_c / s.k_c;
    let out_c_per_group = s.out_c / groups;
    let mut out_index = 0usize;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            for ox in 0..s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                for oc in 0..s.out_c {
                    let group = oc / out_c_per_group;
                    let mut acc = 0i32;
                    for ky in 0..s.k_h {
                        let iy = y0 + (ky * s.dilation_h) as isize;
                        if iy < 0 || iy >= s.in_h as isize {
                            continue;
                        }
                        for kx in 0..s.k_w {
                            let ix = x0 + (kx * s.dilation_w) as isize;
                            if ix < 0 || ix >= s.in_w as isize {
                                continue;
                            }
                            let in_base = ((b * s.in_h + iy as usize) * s.in_w + ix as usize)
                                * s.in_c
                                + group * s.k_c;
                            let f_base = ((oc * s.k_h + ky) * s.k_w + kx) * s.k_c;
                            let xs = input.get(in_base..in_base + s.k_c).unwrap_or(&[]);
                            let ws = filter.get(f_base..f_base + s.k_c).unwrap_or(&[]);
                            for (&x, &w) in xs.iter().zip(ws) {
                                acc = acc.wrapping_add(
                                    (w as i8 as i32)
                                        .wrapping_mul((x as i32).wrapping_add(p.input_offset)),
                                );
                            }
                        }
                    }
                    if let Some(bias) = bias {
                        acc = acc.wrapping_add(bias.get(oc).copied().unwrap_or(0));
                    }
                    let m = multiplier.get(oc).copied().unwrap_or(0);
                    let s = shift.get(oc).copied().unwrap_or(0);
                    if let Some(o) = output.get_mut(out_index) {
                        *o = requantize(acc, m, s, p.output_offset, p.act_min, p.act_max);
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Reference kernel, kept as the oracle of the fast kernels' randomized tests (generated
/// code uses the fast kernels).
#[cfg(test)]
/// Int8 DEPTHWISE_CONV_2D with per-channel requantization (TFLite
/// `DepthwiseConvPerChannel`). `filter` is 1HW(C*M) int8 stored as bytes.
#[inline(always)]
pub fn depthwise_conv2d(
    p: &Conv,
    input: &[i8],
    filter: &[u8],
    bias: Option<&[i32]>,
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let mut out_index = 0usize;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            for ox in 0..s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                for ic in 0..s.in_c {
                    for m in 0..s.depth_multiplier {
                        let oc = ic * s.depth_multiplier + m;
                        let mut acc = 0i32;
                        for ky in 0..s.k_h {
                            let iy = y0 + (ky * s.dilation_h) as isize;
                            if iy < 0 || iy >= s.in_h as isize {
                                continue;
                            }
                            for kx in 0..s.k_w {
                                let ix = x0 + (kx * s.dilation_w) as isize;
                                if ix < 0 || ix >= s.in_w as isize {
                                    continue;
                                }
                                let i = ((b * s.in_h + iy as usize) * s.in_w + ix as usize)
                                    * s.in_c
                                    + ic;
                                let f = (ky * s.k_w + kx) * s.out_c + oc;
                                let x = input.get(i).copied().unwrap_or(0) as i32;
                                let w = filter.get(f).copied().unwrap_or(0) as i8 as i32;
                                acc = acc
                                    .wrapping_add(w.wrapping_mul(x.wrapping_add(p.input_offset)));
                            }
                        }
                        if let Some(bias) = bias {
                            acc = acc.wrapping_add(bias.get(oc).copied().unwrap_or(0));
                        }
                        let mm = multiplier.get(oc).copied().unwrap_or(0);
                        let s = shift.get(oc).copied().unwrap_or(0);
                        if let Some(o) = output.get_mut(out_index) {
                            *o = requantize(acc, mm, s, p.output_offset, p.act_min, p.act_max);
                        }
                        out_index += 1;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fast int8 convolution: the input offset folded into the bias, register-blocked dot products
// ---------------------------------------------------------------------------------------------
//
// acc = bias + Σ w·(x + input_offset) = folded_bias + Σ w·x, with
// folded_bias = bias + input_offset·Σw computed at compile time. A filter tap that falls in the
// padding contributes w·zero_point (= -w·input_offset), which cancels its share of the fold, so
// the result is exactly TFLM's (in wrapping i32 arithmetic, as TFLM's accumulators behave).

/// How a kernel forms int8 dot products: [`Scalar`] multiply-accumulates, or [`Dsp`] pairs.
pub trait Dot {
    /// `acc[p][o] += Σ_c x[p][c]·w[o][c]` over the common length of the slices.
    fn block<const P: usize, const O: usize>(acc: &mut [[i32; O]; P], x: [&[i8]; P], w: [&[u8]; O]);

    /// `acc[j] += w_j·(x_j + offset)` for the four bytes `j` of `x` and `w` (the offset is
    /// added only when `OFFSET`).
    fn mac4<const OFFSET: bool>(acc: &mut [i32; 4], x: u32, w: u32, offset: i32);
}

/// One multiply-accumulate per instruction pair: for cores without SIMD.
pub struct Scalar;

impl Dot for Scalar {
    #[inline(always)]
    fn mac4<const OFFSET: bool>(acc: &mut [i32; 4], x: u32, w: u32, offset: i32) {
        for (j, a) in acc.iter_mut().enumerate() {
            let xv = (x >> (8 * j)) as u8 as i8 as i32;
            let wv = (w >> (8 * j)) as u8 as i8 as i32;
            let xv = if OFFSET { xv + offset } else { xv };
            *a = a.wrapping_add(wv.wrapping_mul(xv));
        }
    }

    #[inline(always)]
    fn block<const P: usize, const O: usize>(
        acc: &mut [[i32; O]; P],
        x: [&[i8]; P],
        w: [&[u8]; O],
    ) {
        let n = common_len(&x, &w);
        for c in 0..n {
            let mut wv = [0i32; O];
            for (v, row) in wv.iter_mut().zip(w) {
                *v = row.get(c).copied().unwrap_or(0) as i8 as i32;
            }
            for (accp, xp) in acc.iter_mut().zip(x) {
                let xv = xp.get(c).copied().unwrap_or(0) as i32;
                for (a, &wo) in accp.iter_mut().zip(&wv) {
                    *a = a.wrapping_add(xv.wrapping_mul(wo));
                }
            }
        }
    }
}

/// Two multiply-accumulates per SMLAD on sign-extended byte pairs (SXTB16): Arm DSP cores.
/// On other architectures the same arithmetic runs in portable Rust (for host tests).
pub struct Dsp;

impl Dot for Dsp {
    #[inline(always)]
    fn mac4<const OFFSET: bool>(acc: &mut [i32; 4], x: u32, w: u32, offset: i32) {
        // Even bytes (0, 2) and odd bytes (1, 3) as i16 pairs; the offset added to both
        // halves at once (x + offset fits i16); then SMLABB / SMLATT per half.
        let (mut xe, mut xo) = (dsp::sxtb16(x), dsp::sxtb16_ror8(x));
        if OFFSET {
            let pair = (offset as u32 & 0xffff) | ((offset as u32) << 16);
            xe = dsp::sadd16(xe, pair);
            xo = dsp::sadd16(xo, pair);
        }
        let (we, wo) = (dsp::sxtb16(w), dsp::sxtb16_ror8(w));
        let lo = |a: u32| a as i16 as i32;
        let hi = |a: u32| (a >> 16) as i16 as i32;
        acc[0] = acc[0].wrapping_add(lo(xe) * lo(we));
        acc[1] = acc[1].wrapping_add(lo(xo) * lo(wo));
        acc[2] = acc[2].wrapping_add(hi(xe) * hi(we));
        acc[3] = acc[3].wrapping_add(hi(xo) * hi(wo));
    }

    #[inline(always)]
    fn block<const P: usize, const O: usize>(
        acc: &mut [[i32; O]; P],
        x: [&[i8]; P],
        w: [&[u8]; O],
    ) {
        let n = common_len(&x, &w);
        let words = n / 4;
        for k in 0..words {
            // Bytes [b0 b1 b2 b3] -> (b0, b2) and (b1, b3) as i16 pairs; x and w alike, so the
            // pairs line up and two SMLADs give b0·c0 + b1·c1 + b2·c2 + b3·c3.
            let mut xe = [0u32; P];
            let mut xo = [0u32; P];
            for ((e, o), xp) in xe.iter_mut().zip(xo.iter_mut()).zip(x) {
                let v = word_i8(xp, k * 4);
                *e = dsp::sxtb16(v);
                *o = dsp::sxtb16_ror8(v);
            }
            for (o, row) in w.iter().enumerate() {
                let v = word_u8(row, k * 4);
                let (we, wo) = (dsp::sxtb16(v), dsp::sxtb16_ror8(v));
                for p in 0..P {
                    let a = acc[p][o];
                    acc[p][o] = dsp::smlad(xo[p], wo, dsp::smlad(xe[p], we, a));
                }
            }
        }
        for c in words * 4..n {
            for (o, row) in w.iter().enumerate() {
                let wv = row.get(c).copied().unwrap_or(0) as i8 as i32;
                for p in 0..P {
                    let xv = x[p].get(c).copied().unwrap_or(0) as i32;
                    acc[p][o] = acc[p][o].wrapping_add(xv.wrapping_mul(wv));
                }
            }
        }
    }
}

/// The length all slices share (they are equal in generated code).
#[inline(always)]
fn common_len<const P: usize, const O: usize>(x: &[&[i8]; P], w: &[&[u8]; O]) -> usize {
    let n = x.iter().map(|s| s.len()).min().unwrap_or(0);
    w.iter().map(|s| s.len()).fold(n, usize::min)
}

/// Four bytes at `at` as a little-endian word (0 past the end).
#[inline(always)]
fn word_u8(s: &[u8], at: usize) -> u32 {
    match s.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Four i8 at `at` as a little-endian word (0 past the end).
#[inline(always)]
fn word_i8(s: &[i8], at: usize) -> u32 {
    match s.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8]),
        _ => 0,
    }
}

/// The Arm DSP instructions the [`Dsp`] kernels use.
///
/// On Arm they are one instruction each, through `asm!` (their intrinsics are not stable
/// Rust): the only `unsafe` in generated code. Each block reads and writes registers only;
/// SMLAD may set the sticky Q flag, so flags are not declared preserved. Elsewhere the same
/// arithmetic in portable Rust, so the kernels are tested bit for bit on the host.
#[allow(unsafe_code)]
pub mod dsp {
    /// SXTB16: bytes 0 and 2 of `x`, sign-extended into two i16 halves.
    #[inline(always)]
    pub fn sxtb16(x: u32) -> u32 {
        #[cfg(target_arch = "arm")]
        {
            let r: u32;
            // SAFETY: register-only instruction of the Arm DSP extension.
            unsafe {
                core::arch::asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            let lo = x as u8 as i8 as i16 as u16 as u32;
            let hi = (x >> 16) as u8 as i8 as i16 as u16 as u32;
            lo | (hi << 16)
        }
    }

    /// SXTB16 with ROR #8: bytes 1 and 3 of `x`, sign-extended into two i16 halves.
    #[inline(always)]
    pub fn sxtb16_ror8(x: u32) -> u32 {
        #[cfg(target_arch = "arm")]
        {
            let r: u32;
            // SAFETY: register-only instruction of the Arm DSP extension.
            unsafe {
                core::arch::asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            sxtb16(x.rotate_right(8))
        }
    }

    /// SADD16: `a + b` on each signed 16-bit half, wrapping per half.
    #[inline(always)]
    pub fn sadd16(a: u32, b: u32) -> u32 {
        #[cfg(target_arch = "arm")]
        {
            let r: u32;
            // SAFETY: register-only instruction of the Arm DSP extension (sets only GE flags).
            unsafe {
                core::arch::asm!("sadd16 {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            let lo = (a as u16).wrapping_add(b as u16) as u32;
            let hi = ((a >> 16) as u16).wrapping_add((b >> 16) as u16) as u32;
            lo | (hi << 16)
        }
    }

    /// SMLAD: `acc + a.lo·b.lo + a.hi·b.hi` on signed 16-bit halves, wrapping.
    #[inline(always)]
    pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        #[cfg(target_arch = "arm")]
        {
            let r: i32;
            // SAFETY: register-only instruction of the Arm DSP extension (sets only the Q flag).
            unsafe {
                core::arch::asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            let lo = (a as i16 as i32) * (b as i16 as i32);
            let hi = ((a >> 16) as i16 as i32) * ((b >> 16) as i16 as i32);
            acc.wrapping_add(lo).wrapping_add(hi)
        }
    }
}

/// Per-layer constants of the fast int8 CONV_2D / FULLY_CONNECTED kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvFast {
    /// Geometry (a FULLY_CONNECTED is a 1×1 convolution over its rows).
    pub shape: ConvShape,
    /// The input zero point: the value of padded taps.
    pub input_zero_point: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// True when multipliers/shifts hold one entry per output channel.
    pub per_channel: bool,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

/// Requantization constants and output of one block.
struct Store<'a> {
    p: &'a ConvFast,
    multiplier: &'a [i32],
    shift: &'a [i32],
}

impl Store<'_> {
    #[inline(always)]
    fn put(&self, output: &mut [i8], index: usize, oc: usize, acc: i32) {
        let q = if self.p.per_channel { oc } else { 0 };
        let m = self.multiplier.get(q).copied().unwrap_or(0);
        let s = self.shift.get(q).copied().unwrap_or(0);
        if let Some(o) = output.get_mut(index) {
            let v =
                multiply_by_quantized_multiplier_fast(acc, m, s).wrapping_add(self.p.output_offset);
            *o = clamp_i8(v, self.p.act_min, self.p.act_max);
        }
    }
}

/// Requantizes `acc` of output channel `channel` and writes it to `output[index]` (used by
/// the unrolled small layers).
#[inline(always)]
pub fn store(
    p: &ConvFast,
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
    index: usize,
    channel: usize,
    acc: i32,
) {
    Store {
        p,
        multiplier,
        shift,
    }
    .put(output, index, channel, acc);
}

/// One block of `P` output pixels (`xs`: their window origins) × `O` output channels from
/// `oc`, accumulated over every filter tap.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn conv_block<D: Dot, const P: usize, const O: usize>(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    row_base: usize,
    y0: isize,
    x0: [isize; P],
    in_ch: usize,
    oc: usize,
) -> [[i32; O]; P] {
    let s = &p.shape;
    let mut acc = [[0i32; O]; P];
    for accp in acc.iter_mut() {
        for (o, a) in accp.iter_mut().enumerate() {
            *a = folded_bias.get(oc + o).copied().unwrap_or(0);
        }
    }
    // With one group and no horizontal dilation, a filter row's taps are contiguous in both
    // the input and the filter: take the whole row as one dot product when it is inside.
    let row_len = s.k_w * s.k_c;
    let rows_contiguous = s.dilation_w == 1 && s.k_c == s.in_c;
    for ky in 0..s.k_h {
        let iy = y0 + (ky * s.dilation_h) as isize;
        let y_inside = iy >= 0 && iy < s.in_h as isize;
        if rows_contiguous
            && y_inside
            && x0
                .iter()
                .all(|&x| x >= 0 && x + s.k_w as isize <= s.in_w as isize)
        {
            let mut w: [&[u8]; O] = [&[]; O];
            for (o, wo) in w.iter_mut().enumerate() {
                let at = ((oc + o) * s.k_h + ky) * row_len;
                *wo = filter.get(at..at + row_len).unwrap_or(&[]);
            }
            let mut x: [&[i8]; P] = [&[]; P];
            for (xp, &x0p) in x.iter_mut().zip(&x0) {
                let at = ((row_base + iy as usize) * s.in_w + x0p as usize) * s.in_c;
                *xp = input.get(at..at + row_len).unwrap_or(&[]);
            }
            D::block::<P, O>(&mut acc, x, w);
            continue;
        }
        for kx in 0..s.k_w {
            let mut w: [&[u8]; O] = [&[]; O];
            for (o, wo) in w.iter_mut().enumerate() {
                let at = (((oc + o) * s.k_h + ky) * s.k_w + kx) * s.k_c;
                *wo = filter.get(at..at + s.k_c).unwrap_or(&[]);
            }
            let mut x: [&[i8]; P] = [&[]; P];
            let mut inside = [y_inside; P];
            for ((xp, ins), &x0p) in x.iter_mut().zip(inside.iter_mut()).zip(&x0) {
                let ix = x0p + (kx * s.dilation_w) as isize;
                *ins = *ins && ix >= 0 && ix < s.in_w as isize;
                if *ins {
                    let at = ((row_base + iy as usize) * s.in_w + ix as usize) * s.in_c + in_ch;
                    *xp = input.get(at..at + s.k_c).unwrap_or(&[]);
                }
            }
            if inside.iter().all(|&i| i) {
                D::block::<P, O>(&mut acc, x, w);
            } else {
                // Padded taps read the zero point; pixels inside take the dot product alone.
                for (pi, accp) in acc.iter_mut().enumerate() {
                    if inside[pi] {
                        let mut one = [*accp];
                        D::block::<1, O>(&mut one, [x[pi]], w);
                        *accp = one[0];
                    } else {
                        for (a, wo) in accp.iter_mut().zip(w) {
                            let sum = wo.iter().fold(0i32, |t, &v| t.wrapping_add(v as i8 as i32));
                            *a = a.wrapping_add(sum.wrapping_mul(p.input_zero_point));
                        }
                    }
                }
            }
        }
    }
    acc
}

/// Int8 CONV_2D (and FULLY_CONNECTED as a 1×1 convolution), bit-exact with TFLM's
/// `ConvPerChannel`: blocks of 2 output pixels × 4 output channels, offsets folded into
/// `folded_bias`, dot products by `D`.
#[inline(always)]
pub fn conv2d_fast<D: Dot>(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let store = Store {
        p,
        multiplier,
        shift,
    };
    let groups = s.in_c / s.k_c;
    let oc_per_group = s.out_c / groups;
    for b in 0..s.batches {
        let row_base = b * s.in_h;
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            let out_row = (b * s.out_h + oy) * s.out_w;
            let mut ox = 0;
            while ox < s.out_w {
                let pair = ox + 1 < s.out_w;
                let xa = window_start(ox, s.stride_w, s.pad_left);
                let xb = window_start(ox + 1, s.stride_w, s.pad_left);
                for g in 0..groups {
                    let in_ch = g * s.k_c;
                    let end = (g + 1) * oc_per_group;
                    let mut oc = g * oc_per_group;
                    while oc < end {
                        let quad = oc + 4 <= end;
                        let base = (out_row + ox) * s.out_c + oc;
                        match (pair, quad) {
                            (true, true) => {
                                let acc = conv_block::<D, 2, 4>(
                                    p,
                                    input,
                                    filter,
                                    folded_bias,
                                    row_base,
                                    y0,
                                    [xa, xb],
                                    in_ch,
                                    oc,
                                );
                                for (pi, accp) in acc.iter().enumerate() {
                                    for (o, &a) in accp.iter().enumerate() {
                                        store.put(output, base + pi * s.out_c + o, oc + o, a);
                                    }
                                }
                            }
                            (true, false) => {
                                let acc = conv_block::<D, 2, 1>(
                                    p,
                                    input,
                                    filter,
                                    folded_bias,
                                    row_base,
                                    y0,
                                    [xa, xb],
                                    in_ch,
                                    oc,
                                );
                                store.put(output, base, oc, acc[0][0]);
                                store.put(output, base + s.out_c, oc, acc[1][0]);
                            }
                            (false, true) => {
                                let acc = conv_block::<D, 1, 4>(
                                    p,
                                    input,
                                    filter,
                                    folded_bias,
                                    row_base,
                                    y0,
                                    [xa],
                                    in_ch,
                                    oc,
                                );
                                for (o, &a) in acc[0].iter().enumerate() {
                                    store.put(output, base + o, oc + o, a);
                                }
                            }
                            (false, false) => {
                                let acc = conv_block::<D, 1, 1>(
                                    p,
                                    input,
                                    filter,
                                    folded_bias,
                                    row_base,
                                    y0,
                                    [xa],
                                    in_ch,
                                    oc,
                                );
                                store.put(output, base, oc, acc[0][0]);
                            }
                        }
                        oc += if quad { 4 } else { 1 };
                    }
                }
                ox += if pair { 2 } else { 1 };
            }
        }
    }
}

/// The filter taps `k` in `0..taps` whose input position `origin + k·dilation` is inside
/// `0..size`, as a range.
#[inline(always)]
fn tap_range(origin: isize, dilation: usize, taps: usize, size: usize) -> (usize, usize) {
    let d = dilation as isize;
    let first = if origin < 0 {
        ((-origin + d - 1) / d) as usize
    } else {
        0
    };
    let limit = size as isize - origin; // positions < limit are inside
    let last = if limit <= 0 {
        0
    } else {
        ((limit + d - 1) / d) as usize
    };
    (first.min(taps), last.min(taps).max(first.min(taps)))
}

/// Four channels' multiply-accumulates of one depthwise tap: `acc[j] += w[j]·(x[j] + offset)`
/// for the bytes `j` of the words `x` and `w` (`offset` 0 where it is folded into the bias).
#[inline(always)]
fn mac4<D: Dot, const OFFSET: bool>(acc: &mut [i32; 4], x: u32, w: u32, offset: i32) {
    D::mac4::<OFFSET>(acc, x, w, offset)
}

/// Int8 DEPTHWISE_CONV_2D, bit-exact with TFLM's `DepthwiseConvPerChannel`. Pixels whose
/// window is inside the input start from `folded_bias` and accumulate `Σ w·x`; border pixels
/// start from `bias`, visit only the taps inside and add the input offset. Channels go four
/// at a time when the depth multiplier is 1 or a multiple of 4.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_fast<D: Dot>(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let store = Store {
        p,
        multiplier,
        shift,
    };
    let dm = s.depth_multiplier;
    let offset = -p.input_zero_point;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            let (ky0, ky1) = tap_range(y0, s.dilation_h, s.k_h, s.in_h);
            for ox in 0..s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                let (kx0, kx1) = tap_range(x0, s.dilation_w, s.k_w, s.in_w);
                let full = ky0 == 0 && ky1 == s.k_h && kx0 == 0 && kx1 == s.k_w;
                let base = ((b * s.out_h + oy) * s.out_w + ox) * s.out_c;
                // Input index of tap (ky, kx), channel 0.
                let at = |ky: usize, kx: usize| {
                    let iy = (y0 + (ky * s.dilation_h) as isize) as usize;
                    let ix = (x0 + (kx * s.dilation_w) as isize) as usize;
                    ((b * s.in_h + iy) * s.in_w + ix) * s.in_c
                };
                let mut oc = 0;
                // Four consecutive output channels read four consecutive input channels
                // (multiplier 1) or one input channel (multiplier a multiple of 4).
                let x_word = |at: usize, oc: usize| {
                    if dm == 1 {
                        word_i8(input, at + oc)
                    } else {
                        (input.get(at + oc / dm).copied().unwrap_or(0) as u8 as u32) * 0x0101_0101
                    }
                };
                if dm == 1 || dm & 3 == 0 {
                    while oc + 4 <= s.out_c {
                        let start = if full { folded_bias } else { bias };
                        let mut acc = [0i32; 4];
                        for (j, a) in acc.iter_mut().enumerate() {
                            *a = start.get(oc + j).copied().unwrap_or(0);
                        }
                        if full {
                            // Constant trip counts: the window unrolls, addresses are
                            // constant offsets from the window's origin.
                            let origin = at(0, 0);
                            for ky in 0..s.k_h {
                                for kx in 0..s.k_w {
                                    let tap =
                                        (ky * s.dilation_h * s.in_w + kx * s.dilation_w) * s.in_c;
                                    let x = x_word(origin + tap, oc);
                                    let w = word_u8(filter, (ky * s.k_w + kx) * s.out_c + oc);
                                    mac4::<D, false>(&mut acc, x, w, 0);
                                }
                            }
                        } else {
                            for ky in ky0..ky1 {
                                for kx in kx0..kx1 {
                                    let x = x_word(at(ky, kx), oc);
                                    let w = word_u8(filter, (ky * s.k_w + kx) * s.out_c + oc);
                                    mac4::<D, true>(&mut acc, x, w, offset);
                                }
                            }
                        }
                        for (j, &a) in acc.iter().enumerate() {
                            store.put(output, base + oc + j, oc + j, a);
                        }
                        oc += 4;
                    }
                }
                // Remaining channels (all of them when the depth multiplier is not 1).
                while oc < s.out_c {
                    let ic = oc / dm;
                    let mut acc = bias.get(oc).copied().unwrap_or(0);
                    for ky in ky0..ky1 {
                        for kx in kx0..kx1 {
                            let x = input.get(at(ky, kx) + ic).copied().unwrap_or(0) as i32;
                            let w = filter
                                .get((ky * s.k_w + kx) * s.out_c + oc)
                                .copied()
                                .unwrap_or(0);
                            acc = acc.wrapping_add(
                                (w as i8 as i32).wrapping_mul(x.wrapping_add(offset)),
                            );
                        }
                    }
                    store.put(output, base + oc, oc, acc);
                    oc += 1;
                }
            }
        }
    }
}

/// Per-layer constants of FULLY_CONNECTED.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FullyConnected {
    /// Rows of the input (all dimensions but the last of the output).
    pub batches: usize,
    /// Input features per row.
    pub in_features: usize,
    /// Output features per row.
    pub out_features: usize,
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `-weights_zero_point` (0 for symmetric weights).
    pub weights_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// True when `multiplier`/`shift` hold one entry per output feature.
    pub per_channel: bool,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

/// Int8 FULLY_CONNECTED (TFLite `FullyConnected` / `FullyConnectedPerChannel`).
/// `filter` is `[out_features, in_features]` int8 stored as bytes.
#[inline(always)]
pub fn fully_connected(
    p: &FullyConnected,
    input: &[i8],
    filter: &[u8],
    bias: Option<&[i32]>,
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let mut out_index = 0usize;
    for b in 0..p.batches {
        let row = input
            .get(b * p.in_features..(b + 1) * p.in_features)
            .unwrap_or(&[]);
        for oc in 0..p.out_features {
            let ws = filter
                .get(oc * p.in_features..(oc + 1) * p.in_features)
                .unwrap_or(&[]);
            let mut acc = 0i32;
            for (&x, &w) in row.iter().zip(ws) {
                acc = acc.wrapping_add(
                    (w as i8 as i32)
                        .wrapping_add(p.weights_offset)
                        .wrapping_mul((x as i32).wrapping_add(p.input_offset)),
                );
            }
            if let Some(bias) = bias {
                acc = acc.wrapping_add(bias.get(oc).copied().unwrap_or(0));
            }
            let q = if p.per_channel { oc } else { 0 };
            let m = multiplier.get(q).copied().unwrap_or(0);
            let s = shift.get(q).copied().unwrap_or(0);
            if let Some(o) = output.get_mut(out_index) {
                *o = requantize(acc, m, s, p.output_offset, p.act_min, p.act_max);
            }
            out_index += 1;
        }
    }
}

/// Per-layer constants of AVERAGE_POOL_2D and MAX_POOL_2D; `A` is the type of the clamp
/// bounds (`i32` for int8 layers, `f32` for float layers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool<A = i32> {
    /// Batch size.
    pub batches: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Channels (input = output).
    pub channels: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Window height.
    pub filter_h: usize,
    /// Window width.
    pub filter_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Rows of padding above the input (padded cells are excluded from the window).
    pub pad_top: usize,
    /// Columns of padding left of the input.
    pub pad_left: usize,
    /// Lower clamp bound (fused activation).
    pub act_min: A,
    /// Upper clamp bound (fused activation).
    pub act_max: A,
}

/// The part of a pooling window that lies inside the input: `(start, end)` per axis.
#[inline(always)]
fn pool_window(
    out: usize,
    stride: usize,
    pad: usize,
    filter: usize,
    size: usize,
) -> (usize, usize) {
    let origin = window_start(out, stride, pad);
    let start = if origin < 0 { (-origin) as usize } else { 0 };
    let limit = size as isize - origin;
    let end = if limit < filter as isize {
        limit.max(0) as usize
    } else {
        filter
    };
    (start, end)
}

/// Int8 AVERAGE_POOL_2D (TFLite reference: windows clipped to the input, rounded division).
#[inline(always)]
pub fn average_pool(p: &Pool, input: &[i8], output: &mut [i8]) {
    let mut out_index = 0usize;
    for b in 0..p.batches {
        for oy in 0..p.out_h {
            let (ys, ye) = pool_window(oy, p.stride_h, p.pad_top, p.filter_h, p.in_h);
            let y0 = window_start(oy, p.stride_h, p.pad_top);
            for ox in 0..p.out_w {
                let (xs, xe) = pool_window(ox, p.stride_w, p.pad_left, p.filter_w, p.in_w);
                let x0 = window_start(ox, p.stride_w, p.pad_left);
                let count = ((ye.saturating_sub(ys)) * (xe.saturating_sub(xs))) as i32;
                for c in 0..p.channels {
                    let mut acc = 0i32;
                    for fy in ys..ye {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in xs..xe {
                            let ix = (x0 + fx as isize) as usize;
                            let i = ((b * p.in_h + iy) * p.in_w + ix) * p.channels + c;
                            acc = acc.wrapping_add(input.get(i).copied().unwrap_or(0) as i32);
                        }
                    }
                    let avg = if count == 0 {
                        0
                    } else if acc > 0 {
                        (acc + count / 2) / count
                    } else {
                        (acc - count / 2) / count
                    };
                    if let Some(o) = output.get_mut(out_index) {
                        *o = clamp_i8(avg, p.act_min, p.act_max);
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Int8 MAX_POOL_2D (TFLite reference).
#[inline(always)]
pub fn max_pool(p: &Pool, input: &[i8], output: &mut [i8]) {
    let mut out_index = 0usize;
    for b in 0..p.batches {
        for oy in 0..p.out_h {
            let (ys, ye) = pool_window(oy, p.stride_h, p.pad_top, p.filter_h, p.in_h);
            let y0 = window_start(oy, p.stride_h, p.pad_top);
            for ox in 0..p.out_w {
                let (xs, xe) = pool_window(ox, p.stride_w, p.pad_left, p.filter_w, p.in_w);
                let x0 = window_start(ox, p.stride_w, p.pad_left);
                for c in 0..p.channels {
                    let mut max = i8::MIN as i32;
                    for fy in ys..ye {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in xs..xe {
                            let ix = (x0 + fx as isize) as usize;
                            let i = ((b * p.in_h + iy) * p.in_w + ix) * p.channels + c;
                            let v = input.get(i).copied().unwrap_or(i8::MIN) as i32;
                            if v > max {
                                max = v;
                            }
                        }
                    }
                    if let Some(o) = output.get_mut(out_index) {
                        *o = clamp_i8(max, p.act_min, p.act_max);
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Per-layer constants of int8 ADD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Add {
    /// `-input1_zero_point`.
    pub input1_offset: i32,
    /// `-input2_zero_point`.
    pub input2_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Both inputs are shifted left by this before rescaling (20 for int8).
    pub left_shift: i32,
    /// Input 1 rescale multiplier (Q0.31, < 1).
    pub input1_multiplier: i32,
    /// Input 1 rescale shift (<= 0).
    pub input1_shift: i32,
    /// Input 2 rescale multiplier.
    pub input2_multiplier: i32,
    /// Input 2 rescale shift.
    pub input2_shift: i32,
    /// Output rescale multiplier.
    pub output_multiplier: i32,
    /// Output rescale shift.
    pub output_shift: i32,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

/// Int8 element-wise ADD of equally shaped tensors (TFLite `AddElementwise`).
#[inline(always)]
pub fn add(p: &Add, input1: &[i8], input2: &[i8], output: &mut [i8]) {
    for ((o, &a), &b) in output.iter_mut().zip(input1).zip(input2) {
        let a = (a as i32 + p.input1_offset).wrapping_mul(1 << p.left_shift);
        let b = (b as i32 + p.input2_offset).wrapping_mul(1 << p.left_shift);
        let a = multiply_by_quantized_multiplier(a, p.input1_multiplier, p.input1_shift);
        let b = multiply_by_quantized_multiplier(b, p.input2_multiplier, p.input2_shift);
        let sum = multiply_by_quantized_multiplier(
            a.wrapping_add(b),
            p.output_multiplier,
            p.output_shift,
        )
        .wrapping_add(p.output_offset);
        *o = clamp_i8(sum, p.act_min, p.act_max);
    }
}

/// Per-layer constants of int8 SOFTMAX (output scale 1/256, zero point -128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Softmax {
    /// Number of rows (all dimensions but the last).
    pub rows: usize,
    /// Row length (the last dimension).
    pub depth: usize,
    /// `beta * input_scale` as a Q0.31 multiplier (with `input_left_shift`).
    pub input_multiplier: i32,
    /// Left shift applied with `input_multiplier`.
    pub input_left_shift: i32,
    /// Differences from the row maximum below this contribute zero.
    pub diff_min: i32,
}

/// Int8 SOFTMAX in fixed point (TFLite reference `Softmax` for int8 in and out).
#[inline(always)]
pub fn softmax(p: &Softmax, input: &[i8], output: &mut [i8]) {
    const ACCUMULATION_INTEGER_BITS: i32 = 12;
    let rescaled = |diff: i32| {
        exp_on_negative_values_q5(saturating_rounding_doubling_high_mul(
            diff.wrapping_mul(1 << p.input_left_shift),
            p.input_multiplier,
        ))
    };
    for (row_in, row_out) in input
        .chunks_exact(p.depth)
        .zip(output.chunks_exact_mut(p.depth))
        .take(p.rows)
    {
        let max = row_in.iter().copied().max().unwrap_or(0) as i32;
        let mut sum_of_exps = 0i32;
        for &x in row_in {
            let diff = x as i32 - max;
            if diff >= p.diff_min {
                sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(
                    rescaled(diff),
                    ACCUMULATION_INTEGER_BITS,
                ));
            }
        }
        let (shifted_scale, num_bits_over_unit) =
            get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            let diff = x as i32 - max;
            *o = if diff >= p.diff_min {
                let exp = rescaled(diff);
                let unsat = rounding_divide_by_pot(
                    saturating_rounding_doubling_high_mul(shifted_scale, exp),
                    num_bits_over_unit + 31 - 8,
                );
                clamp_i8(unsat - 128, -128, 127)
            } else {
                i8::MIN
            };
        }
    }
}

/// Per-layer constants of QUANTIZE from float32.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantize {
    /// Output scale.
    pub scale: f32,
    /// Output zero point.
    pub zero_point: i32,
}

/// Rounds half away from zero, as C's `roundf` (`f32::round` needs `std`).
#[inline(always)]
fn round_half_away(x: f32) -> f32 {
    if !(-8_388_608.0..8_388_608.0).contains(&x) {
        return x; // integral already (or NaN)
    }
    let t = x as i32 as f32; // truncation toward zero
    let diff = x - t;
    if diff >= 0.5 {
        t + 1.0
    } else if diff <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// QUANTIZE float32 → int8 (TFLite `AffineQuantize`: `round(x / scale) + zero_point`).
#[inline(always)]
pub fn quantize_f32(p: &Quantize, input: &[f32], output: &mut [i8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let q = (round_half_away(x / p.scale) as i32).saturating_add(p.zero_point);
        *o = clamp_i8(q, -128, 127);
    }
}

/// Per-layer constants of QUANTIZE int8 → int8 (requantization).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requantize {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// `input_scale / output_scale` as a quantized multiplier.
    pub multiplier: i32,
    /// Its shift.
    pub shift: i32,
}

/// QUANTIZE int8 → int8 (TFLite `Requantize`).
#[inline(always)]
pub fn requantize_i8(p: &Requantize, input: &[i8], output: &mut [i8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let v =
            multiply_by_quantized_multiplier(x as i32 - p.input_zero_point, p.multiplier, p.shift)
                .wrapping_add(p.output_zero_point);
        *o = clamp_i8(v, -128, 127);
    }
}

/// Per-layer constants of DEQUANTIZE.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dequantize {
    /// Input scale.
    pub scale: f32,
    /// Input zero point.
    pub zero_point: i32,
}

/// DEQUANTIZE int8 → float32 (TFLite: computed in double, rounded once to float).
#[inline(always)]
pub fn dequantize_i8(p: &Dequantize, input: &[i8], output: &mut [f32]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = (p.scale as f64 * (x as i32 - p.zero_point) as f64) as f32;
    }
}

// ---------------------------------------------------------------------------------------------
// Float32 kernels (TFLite reference float kernels: same loop and accumulation order)
// ---------------------------------------------------------------------------------------------

/// Reads little-endian f32 number `index` from `bytes` (0.0 past the end).
#[inline(always)]
pub fn f32_at(bytes: &[u8], index: usize) -> f32 {
    match bytes.get(index * 4..index * 4 + 4) {
        Some(&[a, b, c, d]) => f32::from_le_bytes([a, b, c, d]),
        _ => 0.0,
    }
}

/// TFLite `ActivationFunctionWithMinMax` for floats: `min(max(x, lo), hi)`.
#[inline(always)]
fn clamp_f32(x: f32, lo: f32, hi: f32) -> f32 {
    let x = if x < lo { lo } else { x };
    if x > hi {
        hi
    } else {
        x
    }
}

/// Per-layer constants of float32 CONV_2D and DEPTHWISE_CONV_2D.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvF32 {
    /// Geometry.
    pub shape: ConvShape,
    /// Lower clamp bound (fused activation).
    pub act_min: f32,
    /// Upper clamp bound (fused activation).
    pub act_max: f32,
}

/// Float32 CONV_2D (TFLite reference `Conv`). `filter` (OHWI) and `bias` are f32 bytes.
#[inline(always)]
pub fn conv2d_f32(
    p: &ConvF32,
    input: &[f32],
    filter: &[u8],
    bias: Option<&[u8]>,
    output: &mut [f32],
) {
    let s = &p.shape;
    let groups = s.in_c / s.k_c;
    let out_c_per_group = s.out_c / groups;
    let mut out_index = 0usize;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            for ox in 0..s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                for oc in 0..s.out_c {
                    let group = oc / out_c_per_group;
                    let mut total = 0.0f32;
                    for ky in 0..s.k_h {
                        let iy = y0 + (ky * s.dilation_h) as isize;
                        if iy < 0 || iy >= s.in_h as isize {
                            continue;
                        }
                        for kx in 0..s.k_w {
                            let ix = x0 + (kx * s.dilation_w) as isize;
                            if ix < 0 || ix >= s.in_w as isize {
                                continue;
                            }
                            let in_base = ((b * s.in_h + iy as usize) * s.in_w + ix as usize)
                                * s.in_c
                                + group * s.k_c;
                            let f_base = ((oc * s.k_h + ky) * s.k_w + kx) * s.k_c;
                            let xs = input.get(in_base..in_base + s.k_c).unwrap_or(&[]);
                            for (c, &x) in xs.iter().enumerate() {
                                total += x * f32_at(filter, f_base + c);
                            }
                        }
                    }
                    let bias = bias.map_or(0.0, |b| f32_at(b, oc));
                    if let Some(o) = output.get_mut(out_index) {
                        *o = clamp_f32(total + bias, p.act_min, p.act_max);
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Float32 DEPTHWISE_CONV_2D (TFLite reference `DepthwiseConv`). `filter` (1HW(C*M)) and
/// `bias` are f32 bytes.
#[inline(always)]
pub fn depthwise_conv2d_f32(
    p: &ConvF32,
    input: &[f32],
    filter: &[u8],
    bias: Option<&[u8]>,
    output: &mut [f32],
) {
    let s = &p.shape;
    let mut out_index = 0usize;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            for ox in 0..s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                for ic in 0..s.in_c {
                    for m in 0..s.depth_multiplier {
                        let oc = ic * s.depth_multiplier + m;
                        let mut total = 0.0f32;
                        for ky in 0..s.k_h {
                            let iy = y0 + (ky * s.dilation_h) as isize;
                            if iy < 0 || iy >= s.in_h as isize {
                                continue;
                            }
                            for kx in 0..s.k_w {
                                let ix = x0 + (kx * s.dilation_w) as isize;
                                if ix < 0 || ix >= s.in_w as isize {
                                    continue;
                                }
                                let i = ((b * s.in_h + iy as usize) * s.in_w + ix as usize)
                                    * s.in_c
                                    + ic;
                                let x = input.get(i).copied().unwrap_or(0.0);
                                total += x * f32_at(filter, (ky * s.k_w + kx) * s.out_c + oc);
                            }
                        }
                        let bias = bias.map_or(0.0, |b| f32_at(b, oc));
                        if let Some(o) = output.get_mut(out_index) {
                            *o = clamp_f32(total + bias, p.act_min, p.act_max);
                        }
                        out_index += 1;
                    }
                }
            }
        }
    }
}

/// Per-layer constants of float32 FULLY_CONNECTED.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FullyConnectedF32 {
    /// Rows of the input.
    pub batches: usize,
    /// Input features per row.
    pub in_features: usize,
    /// Output features per row.
    pub out_features: usize,
    /// Lower clamp bound (fused activation).
    pub act_min: f32,
    /// Upper clamp bound (fused activation).
    pub act_max: f32,
}

/// Float32 FULLY_CONNECTED (TFLite reference). `filter` (`[out, in]`) and `bias` are f32 bytes.
#[inline(always)]
pub fn fully_connected_f32(
    p: &FullyConnectedF32,
    input: &[f32],
    filter: &[u8],
    bias: Option<&[u8]>,
    output: &mut [f32],
) {
    let mut out_index = 0usize;
    for b in 0..p.batches {
        let row = input
            .get(b * p.in_features..(b + 1) * p.in_features)
            .unwrap_or(&[]);
        for oc in 0..p.out_features {
            let mut total = 0.0f32;
            for (d, &x) in row.iter().enumerate() {
                total += x * f32_at(filter, oc * p.in_features + d);
            }
            let bias = bias.map_or(0.0, |b| f32_at(b, oc));
            if let Some(o) = output.get_mut(out_index) {
                *o = clamp_f32(total + bias, p.act_min, p.act_max);
            }
            out_index += 1;
        }
    }
}

/// Float32 pooling: `average` picks AVERAGE_POOL_2D (sum / count) over MAX_POOL_2D.
#[inline(always)]
pub fn pool_f32(p: &Pool<f32>, average: bool, input: &[f32], output: &mut [f32]) {
    let w = p;
    let mut out_index = 0usize;
    for b in 0..w.batches {
        for oy in 0..w.out_h {
            let (ys, ye) = pool_window(oy, w.stride_h, w.pad_top, w.filter_h, w.in_h);
            let y0 = window_start(oy, w.stride_h, w.pad_top);
            for ox in 0..w.out_w {
                let (xs, xe) = pool_window(ox, w.stride_w, w.pad_left, w.filter_w, w.in_w);
                let x0 = window_start(ox, w.stride_w, w.pad_left);
                for c in 0..w.channels {
                    let mut total = 0.0f32;
                    let mut max = f32::MIN;
                    let mut count = 0usize;
                    for fy in ys..ye {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in xs..xe {
                            let ix = (x0 + fx as isize) as usize;
                            let i = ((b * w.in_h + iy) * w.in_w + ix) * w.channels + c;
                            let v = input.get(i).copied().unwrap_or(0.0);
                            total += v;
                            if v > max {
                                max = v;
                            }
                            count += 1;
                        }
                    }
                    let v = if average { total / count as f32 } else { max };
                    if let Some(o) = output.get_mut(out_index) {
                        *o = clamp_f32(v, p.act_min, p.act_max);
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Per-layer constants of float32 ADD.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddF32 {
    /// Lower clamp bound (fused activation).
    pub act_min: f32,
    /// Upper clamp bound (fused activation).
    pub act_max: f32,
}

/// Float32 element-wise ADD of equally shaped tensors.
#[inline(always)]
pub fn add_f32(p: &AddF32, input1: &[f32], input2: &[f32], output: &mut [f32]) {
    for ((o, &a), &b) in output.iter_mut().zip(input1).zip(input2) {
        *o = clamp_f32(a + b, p.act_min, p.act_max);
    }
}

/// Per-layer constants of float32 SOFTMAX.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftmaxF32 {
    /// Number of rows (all dimensions but the last).
    pub rows: usize,
    /// Row length (the last dimension).
    pub depth: usize,
    /// Input multiplier.
    pub beta: f32,
}

/// `e^x` for f32, accurate to well under one f32 ulp: computed in f64 as `2^k * e^r` with
/// `|r| <= ln2/2` and a degree-13 Taylor polynomial, then rounded once (no libm needed).
pub fn exp_f32(x: f32) -> f32 {
    if x.is_nan() {
        return x; // NaN
    }
    if x > 88.8 {
        return f32::INFINITY;
    }
    if x < -104.0 {
        return 0.0;
    }
    let x = x as f64;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let k_f = x * core::f64::consts::LOG2_E;
    let k = if k_f >= 0.0 {
        (k_f + 0.5) as i64
    } else {
        (k_f - 0.5) as i64
    };
    let r = (x - k as f64 * LN2_HI) - k as f64 * LN2_LO;
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    for n in 1..=13 {
        term *= r / n as f64;
        sum += term;
    }
    // 2^k as f64 (k in -151..=128 here, within the normal f64 range).
    let scale = f64::from_bits(((k + 1023) as u64) << 52);
    (sum * scale) as f32
}

/// Float32 SOFTMAX (TFLite reference: `exp((x - max) * beta)`, summed in order, divided).
#[inline(always)]
pub fn softmax_f32(p: &SoftmaxF32, input: &[f32], output: &mut [f32]) {
    for (row_in, row_out) in input
        .chunks_exact(p.depth)
        .zip(output.chunks_exact_mut(p.depth))
        .take(p.rows)
    {
        let mut max = f32::MIN;
        for &x in row_in {
            if x > max {
                max = x;
            }
        }
        let mut sum = 0.0f32;
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            let e = exp_f32((x - max) * p.beta);
            *o = e;
            sum += e;
        }
        for o in row_out.iter_mut() {
            *o /= sum;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Int8 element-wise binary ops with broadcasting: MUL, SUB (and ADD with broadcasting)
// ---------------------------------------------------------------------------------------------

/// Numpy-style broadcasting of two inputs to an output of up to 6 dimensions (leading
/// dimensions of size 1 pad lower ranks). Strides are in elements; 0 along a broadcast axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Broadcast {
    /// Output dimensions, outermost first.
    pub dims: [usize; 6],
    /// Element strides of the first input along each output axis.
    pub strides1: [usize; 6],
    /// Element strides of the second input along each output axis.
    pub strides2: [usize; 6],
}

/// Advances a row-major multi-index over `dims` by one element.
#[inline(always)]
fn next_index<const N: usize>(index: &mut [usize; N], dims: &[usize; N]) {
    for (i, &d) in index.iter_mut().zip(dims.iter()).rev() {
        *i += 1;
        if *i < d {
            return;
        }
        *i = 0;
    }
}

/// `sum(index[k] * strides[k])`.
#[inline(always)]
fn offset_of<const N: usize>(index: &[usize; N], strides: &[usize; N]) -> usize {
    let mut offset = 0usize;
    for (&i, &s) in index.iter().zip(strides.iter()) {
        offset = offset.wrapping_add(i.wrapping_mul(s));
    }
    offset
}

/// Applies `f` to each pair of elements: zipped when `bc` is `None` (equal shapes), else
/// broadcast (TFLite `BroadcastBinaryOpSimple`; the per-element math is the same either way).
#[inline(always)]
fn binary_i8(
    bc: Option<&Broadcast>,
    input1: &[i8],
    input2: &[i8],
    output: &mut [i8],
    f: impl Fn(i32, i32) -> i8,
) {
    match bc {
        None => {
            for ((o, &a), &b) in output.iter_mut().zip(input1).zip(input2) {
                *o = f(a as i32, b as i32);
            }
        }
        Some(bc) => {
            let mut index = [0usize; 6];
            for o in output.iter_mut() {
                let a = input1.get(offset_of(&index, &bc.strides1)).copied();
                let b = input2.get(offset_of(&index, &bc.strides2)).copied();
                if let (Some(a), Some(b)) = (a, b) {
                    *o = f(a as i32, b as i32);
                }
                next_index(&mut index, &bc.dims);
            }
        }
    }
}

/// Per-layer constants of int8 MUL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mul {
    /// `-input1_zero_point`.
    pub input1_offset: i32,
    /// `-input2_zero_point`.
    pub input2_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// `input1_scale * input2_scale / output_scale` as a Q31 multiplier.
    pub output_multiplier: i32,
    /// Its shift (positive = left).
    pub output_shift: i32,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

/// One int8 MUL element (TFLite `MulElementwise`).
#[inline(always)]
fn mul_one(p: &Mul, a: i32, b: i32) -> i8 {
    let product = a
        .wrapping_add(p.input1_offset)
        .wrapping_mul(b.wrapping_add(p.input2_offset));
    let v = multiply_by_quantized_multiplier(product, p.output_multiplier, p.output_shift)
        .wrapping_add(p.output_offset);
    clamp_i8(v, p.act_min, p.act_max)
}

/// Int8 MUL (TFLite reference `Mul` / `BroadcastMul6DSlow`).
#[inline(always)]
pub fn mul(p: &Mul, bc: Option<&Broadcast>, input1: &[i8], input2: &[i8], output: &mut [i8]) {
    binary_i8(bc, input1, input2, output, |a, b| mul_one(p, a, b));
}

/// One int8 ADD (`sign` = 1) or SUB (`sign` = -1) element: both inputs shifted left by
/// `left_shift`, rescaled to a common scale, added or subtracted, rescaled to the output.
#[inline(always)]
fn add_sub_one(p: &Add, a: i32, b: i32, subtract: bool) -> i8 {
    let a = a
        .wrapping_add(p.input1_offset)
        .wrapping_mul(1 << (p.left_shift & 31));
    let b = b
        .wrapping_add(p.input2_offset)
        .wrapping_mul(1 << (p.left_shift & 31));
    let a = multiply_by_quantized_multiplier(a, p.input1_multiplier, p.input1_shift);
    let b = multiply_by_quantized_multiplier(b, p.input2_multiplier, p.input2_shift);
    let raw = if subtract {
        a.wrapping_sub(b)
    } else {
        a.wrapping_add(b)
    };
    let v = multiply_by_quantized_multiplier(raw, p.output_multiplier, p.output_shift)
        .wrapping_add(p.output_offset);
    clamp_i8(v, p.act_min, p.act_max)
}

/// Int8 SUB, first input minus second (TFLite reference `Sub` / `BroadcastQuantSubSlow`);
/// the constants have the layout of ADD's.
#[inline(always)]
pub fn sub(p: &Add, bc: Option<&Broadcast>, input1: &[i8], input2: &[i8], output: &mut [i8]) {
    binary_i8(bc, input1, input2, output, |a, b| {
        add_sub_one(p, a, b, true)
    });
}

/// Int8 ADD of broadcast shapes (TFLite `BroadcastAdd6DSlow`; same math as [`add`]).
#[inline(always)]
pub fn add_broadcast(p: &Add, bc: &Broadcast, input1: &[i8], input2: &[i8], output: &mut [i8]) {
    binary_i8(Some(bc), input1, input2, output, |a, b| {
        add_sub_one(p, a, b, false)
    });
}

// ---------------------------------------------------------------------------------------------
// Int8 element-wise unary ops: evaluated at compile time over all 256 inputs into a table
// ---------------------------------------------------------------------------------------------

/// An int8 → int8 element-wise op as a table of output bytes indexed by the input byte
/// (`x as u8`).
#[inline(always)]
pub fn lookup(table: &[u8; 256], input: &[i8], output: &mut [i8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = table.get(x as u8 as usize).copied().unwrap_or(0) as i8;
    }
}

/// The table of `f` over all int8 inputs (entry `x as u8` is `f(x)`; as bytes for
/// [`lookup`]).
pub fn table_of(f: impl Fn(i8) -> i8) -> [i8; 256] {
    let mut table = [0i8; 256];
    for (i, t) in table.iter_mut().enumerate() {
        *t = f(i as u8 as i8);
    }
    table
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

/// Constants of int8 LEAKY_RELU (TFLM `CalculateOpDataLeakyRelu`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeakyRelu {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// `|alpha| * input_scale / output_scale` as a Q31 multiplier.
    pub alpha_multiplier: i32,
    /// Its shift.
    pub alpha_shift: i32,
    /// Whether alpha is negative (the alpha branch is negated).
    pub alpha_negative: bool,
    /// `input_scale / output_scale` as a Q31 multiplier.
    pub identity_multiplier: i32,
    /// Its shift.
    pub identity_shift: i32,
}

/// Int8 LEAKY_RELU of one element (TFLM `QuantizeLeakyRelu`).
pub fn leaky_relu_i8(p: &LeakyRelu, x: i8) -> i8 {
    let input = x as i32 - p.input_zero_point;
    let scaled = if input >= 0 {
        multiply_by_quantized_multiplier(input, p.identity_multiplier, p.identity_shift)
    } else {
        let v = multiply_by_quantized_multiplier(input, p.alpha_multiplier, p.alpha_shift);
        if p.alpha_negative {
            v.wrapping_neg()
        } else {
            v
        }
    };
    clamp_i8(p.output_zero_point.wrapping_add(scaled), -128, 127)
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

// ---------------------------------------------------------------------------------------------
// MEAN
// ---------------------------------------------------------------------------------------------

/// Per-layer constants of int8 MEAN: each output element sums the input over the reduced
/// axes, the kept axes select the element (up to 6 of each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mean {
    /// Sizes of the kept axes (1-padded).
    pub outer_dims: [usize; 6],
    /// Input element strides of the kept axes.
    pub outer_strides: [usize; 6],
    /// Sizes of the reduced axes (1-padded).
    pub inner_dims: [usize; 6],
    /// Input element strides of the reduced axes.
    pub inner_strides: [usize; 6],
    /// Elements per reduction.
    pub count: i32,
    /// Input zero point.
    pub input_zero_point: i32,
    /// `input_scale / output_scale / count` as a Q31 multiplier.
    pub multiplier: i32,
    /// Its shift.
    pub shift: i32,
    /// Output zero point.
    pub output_zero_point: i32,
}

/// Int8 MEAN (TFLM `QuantizedMeanOrSum`: int32 sum, zero point removed, one requantization).
#[inline(always)]
pub fn mean(p: &Mean, input: &[i8], output: &mut [i8]) {
    let mut outer = [0usize; 6];
    for o in output.iter_mut() {
        let base = offset_of(&outer, &p.outer_strides);
        let mut sum = 0i32;
        let mut inner = [0usize; 6];
        for _ in 0..p.count.max(0) {
            let i = base.wrapping_add(offset_of(&inner, &p.inner_strides));
            sum = sum.wrapping_add(input.get(i).copied().unwrap_or(0) as i32);
            next_index(&mut inner, &p.inner_dims);
        }
        let shifted = (sum as i64 - p.input_zero_point as i64 * p.count as i64) as i32;
        let v = multiply_by_quantized_multiplier(shifted, p.multiplier, p.shift)
            .wrapping_add(p.output_zero_point);
        *o = clamp_i8(v, -128, 127);
        next_index(&mut outer, &p.outer_dims);
    }
}

// ---------------------------------------------------------------------------------------------
// Data movement: PAD, CONCATENATION, STRIDED_SLICE, TRANSPOSE
// ---------------------------------------------------------------------------------------------

/// Per-layer constants of PAD/PADV2 (up to 5 dimensions, 1-padded in front).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pad {
    /// Output dimensions.
    pub out_dims: [usize; 5],
    /// Padding before the input along each axis.
    pub before: [usize; 5],
    /// Input dimensions.
    pub in_dims: [usize; 5],
    /// The value written into the padding.
    pub value: i8,
}

/// PAD: copies the input into the middle of the output, fills the rest with `value`
/// (TFLite reference `PadImpl`).
#[inline(always)]
pub fn pad<T: Copy>(p: &Pad, value: T, input: &[T], output: &mut [T]) {
    let mut index = [0usize; 5];
    let mut next = input.iter();
    for o in output.iter_mut() {
        let inside = index
            .iter()
            .zip(&p.before)
            .zip(&p.in_dims)
            .all(|((&i, &b), &n)| i >= b && i - b < n);
        *o = if inside {
            next.next().copied().unwrap_or(value)
        } else {
            value
        };
        next_index(&mut index, &p.out_dims);
    }
}

/// One input's part of a CONCATENATION: `outer` blocks of `copy` elements, the k-th going
/// to `k * out_stride + offset` in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcatPart {
    /// Product of the dimensions before the axis.
    pub outer: usize,
    /// This input's elements per block (its axis size times the inner size).
    pub copy: usize,
    /// The output's elements per block.
    pub out_stride: usize,
    /// Where this input's block starts within an output block.
    pub offset: usize,
}

/// Copies one input of a CONCATENATION into place (TFLite reference `Concatenation`: a raw
/// copy, whatever the inputs' quantization).
#[inline(always)]
pub fn concat_part<T: Copy>(p: &ConcatPart, input: &[T], output: &mut [T]) {
    for (k, block) in input.chunks_exact(p.copy.max(1)).take(p.outer).enumerate() {
        let start = k.wrapping_mul(p.out_stride).wrapping_add(p.offset);
        if let Some(dst) = output.get_mut(start..start.wrapping_add(block.len())) {
            copy(block, dst);
        }
    }
}

/// A gather with an affine index, for STRIDED_SLICE and TRANSPOSE: output element
/// `(i0, .., i5)` (row-major over `dims`) is input element `base + sum(ik * strides[k])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gather {
    /// Output dimensions (1-padded in front).
    pub dims: [usize; 6],
    /// Input element step along each output axis (negative for reversed slices).
    pub strides: [isize; 6],
    /// Input element of output element 0.
    pub base: isize,
}

/// STRIDED_SLICE / TRANSPOSE (TFLite reference `StridedSlice`, `Transpose`).
#[inline(always)]
pub fn gather<T: Copy>(p: &Gather, input: &[T], output: &mut [T]) {
    let mut index = [0usize; 6];
    for o in output.iter_mut() {
        let mut at = p.base;
        for (&i, &s) in index.iter().zip(&p.strides) {
            at = at.wrapping_add((i as isize).wrapping_mul(s));
        }
        if let Some(&v) = usize::try_from(at).ok().and_then(|at| input.get(at)) {
            *o = v;
        }
        next_index(&mut index, &p.dims);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn round_half_away_matches_c_roundf() {
        for (x, r) in [
            (0.5f32, 1.0f32),
            (-0.5, -1.0),
            (1.5, 2.0),
            (2.5, 3.0),
            (-2.5, -3.0),
            (0.49999997, 0.0),
            (1e9, 1e9),
            (-3.2, -3.0),
        ] {
            assert_eq!(round_half_away(x), r, "{x}");
        }
    }

    #[test]
    fn exp_f32_is_within_half_an_ulp_of_f64_exp() {
        let mut x = -103.9f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            let got = exp_f32(x) as f64;
            let ulp = (want as f32).abs() as f64 * f32::EPSILON as f64;
            assert!(
                (got - want).abs() <= ulp * 0.5 + 1e-45,
                "exp({x}) = {got}, want {want}"
            );
            x += 0.0371;
        }
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-200.0), 0.0);
    }

    /// xorshift64* for test data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn i8s(&mut self, n: usize) -> [i8; 4096] {
            let mut v = [0i8; 4096];
            for x in v.iter_mut().take(n) {
                *x = self.next() as i8;
            }
            v
        }
    }

    #[test]
    fn fast_kernels_match_reference_kernels() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..300 {
            let depthwise = case % 3 == 0;
            let in_c = 1 + rng.below(9);
            let dm = if depthwise {
                [1, 2, 3, 4, 8][rng.below(5)]
            } else {
                1
            };
            let groups = if !depthwise && in_c.is_multiple_of(2) && rng.below(4) == 0 {
                2
            } else {
                1
            };
            let k_c = if depthwise { 1 } else { in_c / groups };
            let out_c = if depthwise {
                in_c * dm
            } else {
                groups * (1 + rng.below(7))
            };
            let (k_h, k_w) = (1 + rng.below(3), 1 + rng.below(3));
            let (stride_h, stride_w) = (1 + rng.below(2), 1 + rng.below(2));
            let (dilation_h, dilation_w) = (1 + rng.below(2), 1 + rng.below(2));
            let (in_h, in_w) = (1 + rng.below(6), 1 + rng.below(7));
            let (pad_top, pad_left) = (rng.below(2), rng.below(2));
            let eff_h = (k_h - 1) * dilation_h + 1;
            let eff_w = (k_w - 1) * dilation_w + 1;
            if in_h + 2 * pad_top < eff_h || in_w + 2 * pad_left < eff_w {
                continue;
            }
            let out_h = (in_h + 2 * pad_top - eff_h) / stride_h + 1;
            let out_w = (in_w + 2 * pad_left - eff_w) / stride_w + 1;
            let shape = ConvShape {
                batches: 1 + rng.below(2),
                in_h,
                in_w,
                in_c,
                out_h,
                out_w,
                out_c,
                k_h,
                k_w,
                k_c,
                stride_h,
                stride_w,
                dilation_h,
                dilation_w,
                pad_top,
                pad_left,
                depth_multiplier: dm,
            };
            let zp = rng.next() as i8 as i32;
            let conv = Conv {
                shape,
                input_offset: -zp,
                output_offset: rng.next() as i8 as i32,
                act_min: -128,
                act_max: 127,
            };
            let fast = ConvFast {
                shape,
                input_zero_point: zp,
                output_offset: conv.output_offset,
                per_channel: true,
                act_min: -128,
                act_max: 127,
            };
            let input = rng.i8s(shape.batches * in_h * in_w * in_c);
            let input = &input[..shape.batches * in_h * in_w * in_c];
            let filter_len = if depthwise {
                k_h * k_w * out_c
            } else {
                out_c * k_h * k_w * k_c
            };
            let filter_i8 = rng.i8s(filter_len);
            let filter: [u8; 4096] = filter_i8.map(|v| v as u8);
            let filter = &filter[..filter_len];
            let bias: [i32; 128] = core::array::from_fn(|_| (rng.next() as i32) >> 12);
            let bias = &bias[..out_c];
            let mult: [i32; 128] =
                core::array::from_fn(|_| (1 << 30) + (rng.next() as i32 >> 2).abs());
            let shift: [i32; 128] = core::array::from_fn(|_| -((rng.below(8) + 4) as i32));
            let mut folded = [0i32; 128];
            for (i, &w) in filter.iter().enumerate() {
                let oc = if depthwise {
                    i % out_c
                } else {
                    i / (k_h * k_w * k_c)
                };
                folded[oc] = folded[oc].wrapping_add((w as i8 as i32) * -zp);
            }
            for (f, b) in folded.iter_mut().zip(bias) {
                *f = f.wrapping_add(*b);
            }
            let n_out = shape.batches * out_h * out_w * out_c;
            let (mut want, mut scalar, mut dsp) = ([0i8; 4096], [0i8; 4096], [0i8; 4096]);
            let (m, sh) = (&mult[..out_c], &shift[..out_c]);
            if depthwise {
                depthwise_conv2d(&conv, input, filter, Some(bias), m, sh, &mut want[..n_out]);
                depthwise_conv2d_fast::<Scalar>(
                    &fast,
                    input,
                    filter,
                    &folded[..out_c],
                    bias,
                    m,
                    sh,
                    &mut scalar[..n_out],
                );
                depthwise_conv2d_fast::<Dsp>(
                    &fast,
                    input,
                    filter,
                    &folded[..out_c],
                    bias,
                    m,
                    sh,
                    &mut dsp[..n_out],
                );
            } else {
                conv2d(&conv, input, filter, Some(bias), m, sh, &mut want[..n_out]);
                conv2d_fast::<Scalar>(
                    &fast,
                    input,
                    filter,
                    &folded[..out_c],
                    m,
                    sh,
                    &mut scalar[..n_out],
                );
                conv2d_fast::<Dsp>(
                    &fast,
                    input,
                    filter,
                    &folded[..out_c],
                    m,
                    sh,
                    &mut dsp[..n_out],
                );
            }
            assert_eq!(
                &scalar[..n_out],
                &want[..n_out],
                "case {case}: scalar, {shape:?}"
            );
            assert_eq!(&dsp[..n_out], &want[..n_out], "case {case}: dsp, {shape:?}");
        }
    }

    #[test]
    fn dsp_emulation_matches_instruction_semantics() {
        // Bytes 01 7f ff 80 (little-endian): even bytes (01, ff), odd bytes (7f, 80).
        assert_eq!(dsp::sxtb16(0x80ff_7f01), 0xffff_0001);
        assert_eq!(dsp::sxtb16_ror8(0x80ff_7f01), 0xff80_007f);
        // (-1)·(-1) + (-1)·(-1) + 5 = 7; 127·(-128) = -16256.
        assert_eq!(dsp::smlad(0xffff_ffff, 0xffff_ffff, 5), 7);
        assert_eq!(dsp::smlad(0x007f_0000, 0xff80_0000, 0), -16256);
        assert_eq!(
            dsp::smlad(0x8000_8000, 0x8000_8000, i32::MAX),
            i32::MAX.wrapping_add(1 << 31)
        );
    }

    #[test]
    fn fast_requantization_equals_reference() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
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
                let m = if rng.below(8) == 0 {
                    [0, 1 << 30, i32::MAX][rng.below(3)]
                } else {
                    (1 << 30) + (rng.next() as i32 & 0x3fff_ffff)
                };
                let x = if rng.below(4) == 0 {
                    specials[rng.below(specials.len())]
                } else {
                    rng.next() as i32 >> rng.below(31)
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
    fn carve_gives_disjoint_views() {
        let r = |offset, len| Region { offset, len };
        let mut arena = [0i8, 1, 2, 3, 4, 5, 6, 7];
        let (out, rest) = carve(&mut arena, r(2, 3));
        assert_eq!(rest.get(r(0, 2)), &[0, 1]);
        assert_eq!(rest.get(r(5, 3)), &[5, 6, 7]);
        assert_eq!(rest.get(r(1, 2)), &[] as &[i8]); // overlaps the output
        out.copy_from_slice(&[9, 9, 9]);
        assert_eq!(Rest::whole(&arena).get(r(1, 3)), &[1, 9, 9]);
        let (_, rest) = carve(&mut arena, r(100, 3)); // out of range: empty, no panic
        assert_eq!(rest.get(r(0, 1)), &[] as &[i8]);
    }
}

#[cfg(test)]
mod int8_ops_tests {
    use super::*;

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

    fn unit_add() -> Add {
        Add {
            input1_offset: 0,
            input2_offset: 0,
            output_offset: 0,
            left_shift: 20,
            input1_multiplier: 1 << 30, // 0.5
            input1_shift: 0,
            input2_multiplier: 1 << 30,
            input2_shift: 0,
            output_multiplier: 1 << 30, // 0.5 * 2^-18 undoes the 2^20 * 0.5 above
            output_shift: -18,
            act_min: -128,
            act_max: 127,
        }
    }

    #[test]
    fn binary_ops_broadcast() {
        // [2, 3] op [1, 3]: the second input repeats over rows
        let bc = Broadcast {
            dims: [1, 1, 1, 1, 2, 3],
            strides1: [0, 0, 0, 0, 3, 1],
            strides2: [0, 0, 0, 0, 0, 1],
        };
        let a = [10i8, 20, 30, 40, 50, 60];
        let b = [1i8, 2, 3];
        let mut out = [0i8; 6];
        sub(&unit_add(), Some(&bc), &a, &b, &mut out);
        assert_eq!(out, [9, 18, 27, 39, 48, 57]);
        add_broadcast(&unit_add(), &bc, &a, &b, &mut out);
        assert_eq!(out, [11, 22, 33, 41, 52, 63]);
        let mut same = [0i8; 6];
        add(&unit_add(), &a, &[1, 2, 3, 1, 2, 3], &mut same);
        assert_eq!(same, out);
        let m = Mul {
            input1_offset: 0,
            input2_offset: -1,
            output_offset: 3,
            output_multiplier: 1 << 30, // 0.5
            output_shift: 0,
            act_min: -128,
            act_max: 30,
        };
        mul(&m, Some(&bc), &a, &b, &mut out);
        // (a * (b - 1)) / 2 + 3, clamped at 30
        assert_eq!(out, [3, 13, 30, 3, 28, 30]);
        mul(&m, None, &a[..3], &b, &mut out[..3]);
        assert_eq!(&out[..3], &[3, 13, 30]);
    }

    #[test]
    fn mean_rounds_with_the_folded_multiplier() {
        // [2, 2] mean over the last axis, scales equal: multiplier 1 = 2^30 * 2^1, count 2
        // folds into shift 0
        let p = Mean {
            outer_dims: [1, 1, 1, 1, 1, 2],
            outer_strides: [0, 0, 0, 0, 0, 2],
            inner_dims: [1, 1, 1, 1, 1, 2],
            inner_strides: [0, 0, 0, 0, 0, 1],
            count: 2,
            input_zero_point: 1,
            multiplier: 1 << 30,
            shift: 0,
            output_zero_point: 1,
        };
        let mut out = [0i8; 2];
        mean(&p, &[4, 7, -4, -7], &mut out);
        // (4 + 7 - 2) / 2 = 4.5 -> 5, + 1; (-4 - 7 - 2) / 2 = -6.5 -> -6 (ties up), + 1
        assert_eq!(out, [6, -5]);
    }

    #[test]
    fn data_movement() {
        // PAD [2, 2] by one row before and one column after, value 9
        let p = Pad {
            out_dims: [1, 1, 1, 3, 3],
            before: [0, 0, 0, 1, 0],
            in_dims: [1, 1, 1, 2, 2],
            value: 9,
        };
        let mut out = [0i8; 9];
        pad(&p, p.value, &[1, 2, 3, 4], &mut out);
        assert_eq!(out, [9, 9, 9, 1, 2, 9, 3, 4, 9]);
        // TRANSPOSE [2, 3] -> [3, 2]
        let t = Gather {
            dims: [1, 1, 1, 1, 3, 2],
            strides: [0, 0, 0, 0, 1, 3],
            base: 0,
        };
        let mut out = [0i8; 6];
        gather(&t, &[1, 2, 3, 4, 5, 6], &mut out);
        assert_eq!(out, [1, 4, 2, 5, 3, 6]);
        // reversed slice of a row: [5, 3, 1] from [0..6)
        let s = Gather {
            dims: [1, 1, 1, 1, 1, 3],
            strides: [0, 0, 0, 0, 0, -2],
            base: 5,
        };
        let mut out = [0i8; 3];
        gather(&s, &[0, 1, 2, 3, 4, 5], &mut out);
        assert_eq!(out, [5, 3, 1]);
        // CONCATENATION of [2, 1] and [2, 2] along axis 1
        let mut out = [0i8; 6];
        let first = ConcatPart {
            outer: 2,
            copy: 1,
            out_stride: 3,
            offset: 0,
        };
        let second = ConcatPart {
            outer: 2,
            copy: 2,
            out_stride: 3,
            offset: 1,
        };
        concat_part(&first, &[1, 2], &mut out);
        concat_part(&second, &[3, 4, 5, 6], &mut out);
        assert_eq!(out, [1, 3, 4, 2, 5, 6]);
        // out-of-range regions are skipped, not a panic
        concat_part(&second, &[3, 4, 5, 6], &mut out[..2]);
        gather(&s, &[0, 1], &mut out);
    }
}
