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

/// gemmlowp `exp_on_negative_values` for a Q5.26 input `a <= 0`; result in Q0.31.
pub fn exp_on_negative_values_q5(a: i32) -> i32 {
    const INTEGER_BITS: i32 = 5;
    const FRACTIONAL_BITS: i32 = 31 - INTEGER_BITS;
    const ONE_QUARTER: i32 = 1 << (FRACTIONAL_BITS - 2);
    const MASK: i32 = ONE_QUARTER - 1;
    let a_mod_quarter_minus_one_quarter = (a & MASK).wrapping_sub(ONE_QUARTER);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, INTEGER_BITS),
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
        if remainder & (1 << (FRACTIONAL_BITS + exponent)) != 0 {
            result = saturating_rounding_doubling_high_mul(result, multiplier);
        }
    }
    if a == 0 {
        i32::MAX
    } else {
        result
    }
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1`: Q0.31 in, Q0.31 out (Newton-Raphson).
fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
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
    // ExactMulByPot<-1> only retypes Q2.29 as Q1.30 (same raw bits); Rescale<0> then
    // shifts left by one with saturation.
    saturating_rounding_multiply_by_pot(x, 1)
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

/// A tensor's bytes in the arena: `offset..offset + len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// First byte.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
}

/// The parts of the arena around an op's output region, for reading its inputs.
pub struct Rest<'a> {
    before: &'a [i8],
    after: &'a [i8],
    after_start: usize,
}

impl<'a> Rest<'a> {
    /// A view of the whole arena (for ops that write a graph output).
    #[inline(always)]
    pub fn whole(arena: &'a [i8]) -> Self {
        Rest {
            before: &[],
            after: arena,
            after_start: 0,
        }
    }

    /// The bytes of `region` (empty if it overlaps the output region, which the memory plan
    /// rules out).
    #[inline(always)]
    pub fn get(&self, region: Region) -> &'a [i8] {
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

/// Splits the arena into the output `region` and the rest.
#[inline(always)]
pub fn carve(arena: &mut [i8], region: Region) -> (&mut [i8], Rest<'_>) {
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

/// Per-layer constants of AVERAGE_POOL_2D and MAX_POOL_2D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool {
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
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
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
