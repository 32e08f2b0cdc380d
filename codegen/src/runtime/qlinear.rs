//! onnxruntime's quantized arithmetic (QLinearConv, QGemm, QuantizeLinear): int32
//! accumulators requantized in float32 (`acc as f32 * scale`, clamped, rounded half to even,
//! plus the zero point), as MLAS's `MlasRequantizeOutput` and `MlasQuantizeLinear` compute it.

use super::*;

/// Per-layer constants of an int8 convolution or fully connected layer with float
/// requantization (a fully connected layer is a 1×1 convolution over its rows).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvQLinear {
    /// Geometry (padding taps are skipped: they hold the input zero point).
    pub shape: ConvShape,
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
}

/// `x` rounded to the nearest integer, ties to even, for `|x| < 2^22` (SSE's `cvtps2dq` in
/// its default rounding mode): adding and subtracting `1.5 · 2^23` leaves the rounded value.
#[inline(always)]
pub fn round_half_even_small(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC) - MAGIC
}

/// MLAS `MlasRequantizeOutput` for int8: `acc as f32 * scale`, clamped to the output range
/// less the zero point, rounded half to even, plus the zero point.
#[inline(always)]
pub fn requantize_float_i8(acc: i32, scale: f32, zero_point: i32) -> i8 {
    let low = (-128 - zero_point) as f32;
    let high = (127 - zero_point) as f32;
    let v = (acc as f32 * scale).max(low).min(high);
    (round_half_even_small(v) as i32 + zero_point).clamp(-128, 127) as i8
}

/// onnxruntime's QLinearConv / QGemm on int8 (NHWC input, OHWI `filter` bytes, symmetric
/// weights): `bias + Σ (x - input_zero_point) · w` per output, requantized by channel
/// `c`'s `scales[c]` (`input_scale · weight_scale[c] / output_scale`; one entry when
/// per-tensor). Groups when the filter has fewer input channels than the input.
#[inline(always)]
pub fn conv2d_qlinear(
    p: &ConvQLinear,
    input: &[i8],
    filter: &[u8],
    bias: &[i32],
    scales: &[f32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let groups = s.in_c / s.k_c.max(1);
    let per_group = s.out_c / groups.max(1);
    let mut out = output.iter_mut();
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            for ox in 0..s.out_w {
                for oc in 0..s.out_c {
                    let group = oc / per_group.max(1);
                    let mut acc = bias.get(oc).copied().unwrap_or(0);
                    for (ky, kx, iy, ix) in window_taps(s, oy, ox) {
                        let at = ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + group * s.k_c;
                        let xs = input.get(at..at + s.k_c).unwrap_or(&[]);
                        let wat = ((oc * s.k_h + ky) * s.k_w + kx) * s.k_c;
                        let ws = filter.get(wat..wat + s.k_c).unwrap_or(&[]);
                        for (&x, &w) in xs.iter().zip(ws) {
                            let product = (x as i32 - p.input_zero_point) * (w as i8 as i32);
                            acc = acc.wrapping_add(product);
                        }
                    }
                    let scale = if scales.len() == 1 {
                        scales.first()
                    } else {
                        scales.get(oc)
                    };
                    if let Some(o) = out.next() {
                        let scale = scale.copied().unwrap_or(0.0);
                        *o = requantize_float_i8(acc, scale, p.output_zero_point);
                    }
                }
            }
        }
    }
}

/// [`conv2d_qlinear`] for one group (`k_c == in_c`), on the TFLite kernels' integer
/// accumulation: blocks of 2 output pixels × 4 output channels through [`conv_block`] (dot
/// products by `D`), the input zero point folded into `folded_bias` (`bias[c] −
/// input_zero_point · Σ filter[c]`; padded taps add it back), so the int32 accumulators are
/// the same; then onnxruntime's float32 requantization.
#[inline(always)]
pub fn conv2d_qlinear_fast<D: Dot>(
    p: &ConvQLinear,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    scales: &[f32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let block = ConvFast {
        shape: *s,
        input_zero_point: p.input_zero_point,
        output_offset: p.output_zero_point,
        per_channel: scales.len() > 1,
        act_min: -128,
        act_max: 127,
        fast_requant: false,
    };
    let scale_of = |oc: usize| {
        let q = if scales.len() == 1 { 0 } else { oc };
        scales.get(q).copied().unwrap_or(0.0)
    };
    let mut put = |index: usize, oc: usize, acc: i32| {
        if let Some(o) = output.get_mut(index) {
            *o = requantize_float_i8(acc, scale_of(oc), p.output_zero_point);
        }
    };
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
                let base = (out_row + ox) * s.out_c;
                let mut oc = 0;
                while oc < s.out_c {
                    let quad = oc + 4 <= s.out_c;
                    match (pair, quad) {
                        (true, true) => {
                            let acc = conv_block::<D, 2, 4>(
                                &block,
                                input,
                                filter,
                                folded_bias,
                                row_base,
                                y0,
                                [xa, xb],
                                0,
                                oc,
                            );
                            for (pi, accp) in acc.iter().enumerate() {
                                for (o, &a) in accp.iter().enumerate() {
                                    put(base + pi * s.out_c + oc + o, oc + o, a);
                                }
                            }
                        }
                        (true, false) => {
                            let acc = conv_block::<D, 2, 1>(
                                &block,
                                input,
                                filter,
                                folded_bias,
                                row_base,
                                y0,
                                [xa, xb],
                                0,
                                oc,
                            );
                            put(base + oc, oc, acc[0][0]);
                            put(base + s.out_c + oc, oc, acc[1][0]);
                        }
                        (false, true) => {
                            let acc = conv_block::<D, 1, 4>(
                                &block,
                                input,
                                filter,
                                folded_bias,
                                row_base,
                                y0,
                                [xa],
                                0,
                                oc,
                            );
                            for (o, &a) in acc[0].iter().enumerate() {
                                put(base + oc + o, oc + o, a);
                            }
                        }
                        (false, false) => {
                            let acc = conv_block::<D, 1, 1>(
                                &block,
                                input,
                                filter,
                                folded_bias,
                                row_base,
                                y0,
                                [xa],
                                0,
                                oc,
                            );
                            put(base + oc, oc, acc[0][0]);
                        }
                    }
                    oc += if quad { 4 } else { 1 };
                }
                ox += if pair { 2 } else { 1 };
            }
        }
    }
}

/// [`conv2d_qlinear`] for a depthwise convolution (one input channel per group, as many
/// output channels as input ones, a multiple of 4): `filter_hwc` is the filter channels-last
/// (`[k_h, k_w, channels]`, TFLite's depthwise layout). Four channels at a time take
/// `bias + Σ w·(x − input_zero_point)` over the taps inside the input ([`mac4`]), then
/// onnxruntime's float32 requantization.
#[inline(always)]
pub fn depthwise_conv2d_qlinear<D: Dot>(
    p: &ConvQLinear,
    input: &[i8],
    filter_hwc: &[u8],
    bias: &[i32],
    scales: &[f32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let c_n = s.out_c;
    let scale_of = |c: usize| {
        let q = if scales.len() == 1 { 0 } else { c };
        scales.get(q).copied().unwrap_or(0.0)
    };
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            for ox in 0..s.out_w {
                let out_at = ((b * s.out_h + oy) * s.out_w + ox) * c_n;
                let mut c = 0;
                while c + 4 <= c_n {
                    let mut acc = [0i32; 4];
                    for (j, a) in acc.iter_mut().enumerate() {
                        *a = bias.get(c + j).copied().unwrap_or(0);
                    }
                    for (ky, kx, iy, ix) in window_taps(s, oy, ox) {
                        let x = word_i8(input, ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + c);
                        let w = word_u8(filter_hwc, (ky * s.k_w + kx) * c_n + c);
                        mac4::<D, true>(&mut acc, x, w, -p.input_zero_point);
                    }
                    for (j, &a) in acc.iter().enumerate() {
                        if let Some(o) = output.get_mut(out_at + c + j) {
                            *o = requantize_float_i8(a, scale_of(c + j), p.output_zero_point);
                        }
                    }
                    c += 4;
                }
            }
        }
    }
}

/// onnxruntime's QuantizeLinear float32 → int8 (MLAS `MlasQuantizeLinear`): `x / scale`,
/// clamped to the int8 range less the zero point, rounded half to even, plus the zero point.
#[inline(always)]
pub fn quantize_linear_f32(p: &Quantize, input: &[f32], output: &mut [i8]) {
    let low = (-128 - p.zero_point) as f32;
    let high = (127 - p.zero_point) as f32;
    for (o, &x) in output.iter_mut().zip(input) {
        // `max` then `min`, as `maxps`/`minps` with the bound second: NaN becomes `low`.
        let v = (x / p.scale).max(low).min(high);
        *o = (round_half_even_small(v) as i32 + p.zero_point).clamp(-128, 127) as i8;
    }
}

/// Per-layer constants of onnxruntime's QLinearAdd on int8 (equal shapes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddQLinear {
    /// `scale_a / scale_c`.
    pub a_ratio: f32,
    /// `scale_b / scale_c`.
    pub b_ratio: f32,
    /// `zero_point_c - (a_ratio · zero_point_a + b_ratio · zero_point_b)`, of the zero points
    /// the kernel runs with: uint8 (kiln's plus 128), or int8 when `signed`.
    pub offset: f32,
    /// MLAS's int8 kernel (an int8 QOperator node): values as they are, saturated to int8.
    /// Else its uint8 kernel (values plus 128).
    pub signed: bool,
}

/// An integer result of one of MLAS's quantized kernels saturated to its range as kiln's int8:
/// `[-128, 127]` for the int8 kernel (`signed`), else `[0, 255]` less 128.
#[inline(always)]
pub fn saturate_mlas(v: i32, signed: bool) -> i8 {
    if signed {
        v.clamp(-128, 127) as i8
    } else {
        (v.clamp(0, 255) - 128) as i8
    }
}

/// `a · b + c` rounded once to f32 (a fused multiply-add, as `vfmadd` computes it), for `a · b`
/// exact in f64 (any two f32): the f64 sum is rounded to odd (its error from `TwoSum`), which
/// makes the final rounding to f32 correct.
/// (On Arm, a model tuned for an FPU core names it only in [`ArmVfma`]'s portable twin.)
#[inline(always)]
#[cfg_attr(target_arch = "arm", allow(dead_code))]
pub fn fused_mul_add_f32(a: f32, b: f32, c: f32) -> f32 {
    let product = a as f64 * b as f64;
    let addend = c as f64;
    let sum = product + addend;
    let back = sum - product;
    let error = (product - (sum - back)) + (addend - back);
    let bits = sum.to_bits();
    let odd = if error != 0.0 && bits & 1 == 0 {
        // One ulp toward the error: up in magnitude when the error has the sum's sign.
        if (error > 0.0) == (sum > 0.0) {
            f64::from_bits(bits + 1)
        } else {
            f64::from_bits(bits - 1)
        }
    } else {
        sum
    };
    odd as f32
}

/// How `a · b + c` is rounded once to f32 (onnxruntime's `vfmadd`): [`SoftFma`] anywhere,
/// [`ArmVfma`] on Arm cores with a single-precision FPU of FPv4 or later.
pub trait FusedMulAdd {
    /// `a · b + c`, rounded once.
    fn fma(a: f32, b: f32, c: f32) -> f32;
}

/// [`fused_mul_add_f32`]: f64 arithmetic (in software on a core without a double FPU).
pub struct SoftFma;

impl FusedMulAdd for SoftFma {
    #[inline(always)]
    fn fma(a: f32, b: f32, c: f32) -> f32 {
        fused_mul_add_f32(a, b, c)
    }
}

/// VFMA.F32 (FPv4 and later: Cortex-M4F, M7, M33 with FPU), one instruction; elsewhere its
/// portable twin [`fused_mul_add_f32`], which the host tests compare it with.
pub struct ArmVfma;

#[allow(unsafe_code)]
impl FusedMulAdd for ArmVfma {
    #[inline(always)]
    fn fma(a: f32, b: f32, c: f32) -> f32 {
        #[cfg(target_arch = "arm")]
        {
            let d: u32;
            // SAFETY: FPU register moves and VFMA (`s2 += s0 · s1`, rounded once), chosen by
            // the generator only for cores whose FPU has it. The operands go through general
            // registers into named, clobbered `s` registers: the `sreg` class would need the
            // `vfp2` target feature, which is not stable Rust.
            unsafe {
                core::arch::asm!(
                    "vmov s0, {a}",
                    "vmov s1, {b}",
                    "vmov s2, {c}",
                    "vfma.f32 s2, s0, s1",
                    "vmov {d}, s2",
                    a = in(reg) a.to_bits(),
                    b = in(reg) b.to_bits(),
                    c = in(reg) c.to_bits(),
                    d = lateout(reg) d,
                    out("s0") _,
                    out("s1") _,
                    out("s2") _,
                    options(nomem, nostack)
                )
            };
            f32::from_bits(d)
        }
        #[cfg(not(target_arch = "arm"))]
        {
            fused_mul_add_f32(a, b, c)
        }
    }
}

/// onnxruntime's QLinearAdd (MLAS `MlasQLinearAdd`, its AVX2 kernel) on uint8 values: kiln's
/// int8 values plus 128 (onnxruntime on x86-64 runs int8 QDQ models in uint8, its
/// `QDQS8ToU8Transformer`; a uint8 model's values are kiln's plus 128 already), or on the int8
/// values as they are when `signed`: `a · a_ratio + (b · b_ratio + offset)` with fused
/// multiply-adds, rounded half to even, saturated (uint8 less 128, or int8).
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` has a panicking path
pub fn add_qlinear<F: FusedMulAdd>(p: &AddQLinear, a: &[i8], b: &[i8], output: &mut [i8]) {
    let lift = if p.signed { 0 } else { 128 };
    let low = (lift - 128) as f32;
    for ((o, &x), &y) in output.iter_mut().zip(a).zip(b) {
        let partial = F::fma((y as i32 + lift) as f32, p.b_ratio, p.offset);
        let v = F::fma((x as i32 + lift) as f32, p.a_ratio, partial);
        *o = saturate_mlas(
            round_half_even_small(v.max(low).min(low + 255.0)) as i32,
            p.signed,
        );
    }
}

/// Per-layer constants of onnxruntime's QLinearAveragePool / QLinearGlobalAveragePool on int8
/// NHWC (windows count only the cells inside the image).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AvgPoolQLinear {
    /// Batches.
    pub batches: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Channels.
    pub channels: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Window height.
    pub filter_h: usize,
    /// Window width.
    pub filter_w: usize,
    /// Stride along height.
    pub stride_h: usize,
    /// Stride along width.
    pub stride_w: usize,
    /// Padding rows before the first.
    pub pad_top: usize,
    /// Padding columns before the first.
    pub pad_left: usize,
    /// Input scale.
    pub input_scale: f32,
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output scale.
    pub output_scale: f32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// The window is the whole unpadded image: onnxruntime then takes MLAS's global average
    /// (an int32 sum requantized by `global_scale`) instead of the float32 average.
    pub global: bool,
    /// `input_scale / (output_scale · window cells)` in float32 (global only).
    pub global_scale: f32,
    /// MLAS's int8 kernel (an int8 QOperator node): the int8 zero point added before the
    /// rounding, saturated to int8 (not uint8).
    pub signed: bool,
}

/// onnxruntime's QLinearAveragePool on int8 NHWC. Global windows: MLAS
/// `MlasQLinearGlobalAveragePool`, `(Σ x - zero_point · cells) as f32 · global_scale`,
/// requantized as [`requantize_float_i8`]. Others: each input dequantized in float32
/// (`scale · (x - zero_point)`), summed row by row, divided by the cells inside the image,
/// quantized as `round_half_even(avg / output_scale + zero_point)` in uint8 (onnxruntime on
/// x86-64 runs int8 QDQ models in uint8: the zero point is kiln's plus 128), saturated.
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` has a panicking path
pub fn avg_pool_qlinear(p: &AvgPoolQLinear, input: &[i8], output: &mut [i8]) {
    let mut out = output.iter_mut();
    for b in 0..p.batches {
        for oy in 0..p.out_h {
            let y0 = (oy * p.stride_h).saturating_sub(p.pad_top);
            let y1 = (oy * p.stride_h + p.filter_h)
                .saturating_sub(p.pad_top)
                .min(p.in_h);
            for ox in 0..p.out_w {
                let x0 = (ox * p.stride_w).saturating_sub(p.pad_left);
                let x1 = (ox * p.stride_w + p.filter_w)
                    .saturating_sub(p.pad_left)
                    .min(p.in_w);
                let cells = (y1.saturating_sub(y0) * x1.saturating_sub(x0)) as i32;
                for c in 0..p.channels {
                    let at = |y: usize, x: usize| ((b * p.in_h + y) * p.in_w + x) * p.channels + c;
                    let value = if p.global {
                        let mut acc = 0i32;
                        for y in y0..y1 {
                            for x in x0..x1 {
                                acc += input.get(at(y, x)).map_or(0, |&v| v as i32);
                            }
                        }
                        let acc = acc.wrapping_sub(p.input_zero_point.wrapping_mul(cells));
                        requantize_float_i8(acc, p.global_scale, p.output_zero_point)
                    } else {
                        // In uint8, as onnxruntime on x86-64 runs int8 QDQ models: the zero
                        // point added before rounding is kiln's plus 128 (unless `signed`).
                        let lift = if p.signed { 0 } else { 128 };
                        let mut sum = 0.0f32;
                        for y in y0..y1 {
                            for x in x0..x1 {
                                let q = input.get(at(y, x)).map_or(0, |&v| v as i32);
                                sum += p.input_scale * (q - p.input_zero_point) as f32;
                            }
                        }
                        let average = sum / cells as f32;
                        let v = average / p.output_scale + (p.output_zero_point + lift) as f32;
                        // nearbyintf, then the uint8 (or int8) bounds.
                        let v = v.max(-1_000_000.0).min(1_000_000.0);
                        saturate_mlas(round_half_even_small(v) as i32, p.signed)
                    };
                    if let Some(o) = out.next() {
                        *o = value;
                    }
                }
            }
        }
    }
}

/// Per-layer constants of onnxruntime's QLinearAdd with broadcasting (its `BroadcastLooper`
/// walks spans of the innermost axis; a span of one input against one value of the other
/// takes MLAS's scalar path).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddQLinearBroadcast {
    /// The ratios and offset of [`add_qlinear`].
    pub ratios: AddQLinear,
    /// Which input is one value per span: 0 neither, 1 the first, 2 the second.
    pub scalar_input: u8,
}

/// One element of onnxruntime's QLinearAdd on kiln's int8 values (uint8 less 128, or as they
/// are when `signed`): the per-span value's fused multiply-add with the offset first, then
/// the other input's (a scalar first input swaps the inputs); with no scalar, as
/// [`add_qlinear`].
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` has a panicking path
pub fn add_qlinear_one(p: &AddQLinearBroadcast, x: i8, y: i8) -> i8 {
    let q = &p.ratios;
    let lift = if q.signed { 0 } else { 128 };
    let (a, b) = ((x as i32 + lift) as f32, (y as i32 + lift) as f32);
    let v = if p.scalar_input == 1 {
        fused_mul_add_f32(b, q.b_ratio, fused_mul_add_f32(a, q.a_ratio, q.offset))
    } else {
        fused_mul_add_f32(a, q.a_ratio, fused_mul_add_f32(b, q.b_ratio, q.offset))
    };
    let low = (lift - 128) as f32;
    saturate_mlas(
        round_half_even_small(v.max(low).min(low + 255.0)) as i32,
        q.signed,
    )
}

/// onnxruntime's QLinearAdd of two broadcast int8 inputs ([`add_qlinear_one`] per element).
#[inline(always)]
pub fn add_qlinear_broadcast(
    p: &AddQLinearBroadcast,
    bc: &Broadcast,
    input1: &[i8],
    input2: &[i8],
    output: &mut [i8],
) {
    binary(Some(bc), input1, input2, output, |x, y| {
        add_qlinear_one(p, x, y)
    });
}

/// Per-layer constants of onnxruntime's QLinearMul on int8.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MulQLinear {
    /// First input zero point.
    pub a_zero_point: i32,
    /// Second input zero point.
    pub b_zero_point: i32,
    /// `scale_a · scale_b / scale_c` in float32, left to right.
    pub ratio: f32,
    /// The output zero point as onnxruntime adds it, in float32: uint8 (kiln's plus 128), or
    /// int8 when `signed`.
    pub output_zero_point: f32,
    /// MLAS's int8 kernel (an int8 QOperator node): saturated to int8, not uint8.
    pub signed: bool,
}

/// onnxruntime's QLinearMul (MLAS `MlasQLinearMul`, its SSE2 kernel, in uint8 as onnxruntime
/// on x86-64 runs int8 QDQ models): the int32 product of the inputs less their zero points,
/// `as f32 · ratio + zero point` (a multiply, then an add), rounded half to even, saturated to
/// int16 then uint8, minus 128 (int8 when `signed`); numpy broadcasting when `bc` is given.
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` has a panicking path
pub fn mul_qlinear(
    p: &MulQLinear,
    bc: Option<&Broadcast>,
    input1: &[i8],
    input2: &[i8],
    output: &mut [i8],
) {
    binary(bc, input1, input2, output, |x, y| {
        let product = (x as i32 - p.a_zero_point) * (y as i32 - p.b_zero_point);
        let v = product as f32 * p.ratio + p.output_zero_point;
        // `cvtps2dq` gives i32::MIN out of range (and for NaN), which saturates to 0.
        let rounded = if v.abs() < 2_147_483_648.0 {
            round_half_even_small(v.max(-1_000_000.0).min(1_000_000.0)) as i32
        } else {
            i32::MIN
        };
        saturate_mlas(rounded, p.signed)
    });
}

/// Per-layer constants of onnxruntime's QLinearSoftmax on int8 rows (in uint8, as onnxruntime
/// on x86-64 runs int8 QDQ models).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftmaxQLinear {
    /// Rows.
    pub rows: usize,
    /// Elements per row (the last axis).
    pub depth: usize,
    /// `floor(1 / output_scale)` in float32.
    pub inverse_scale: f32,
    /// The output zero point in uint8 (kiln's plus 128), or int8 when `signed`.
    pub output_zero_point: i32,
    /// onnxruntime's int8 `QlinearSoftmaxCPU` (an int8 QOperator node): the sum plus the int8
    /// zero point is stored as its low byte, or as -1 above 255 (it wraps past 127).
    pub signed: bool,
}

/// onnxruntime's QLinearSoftmax (its uint8 `QlinearSoftmaxCPU`): per row, the float32
/// `exp_table` entry of `x - max + 255` for each element, summed in order; each output
/// `round_half_even(entry · inverse_scale / sum) + zero point`, at most 255, minus 128 (when
/// `signed`, the int8 kernel's wrapping store of the same value).
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` has a panicking path
pub fn softmax_qlinear(p: &SoftmaxQLinear, exp_table: &[f32], input: &[i8], output: &mut [i8]) {
    let depth = p.depth.max(1);
    for (row, out) in input
        .chunks(depth)
        .zip(output.chunks_mut(depth))
        .take(p.rows)
    {
        let top = row.iter().copied().max().unwrap_or(0) as i32;
        let entry = |x: i8| {
            let at = (x as i32 - top + 255).clamp(0, 255) as usize;
            exp_table.get(at).copied().unwrap_or(0.0)
        };
        let mut sum = 0.0f32;
        for &x in row {
            sum += entry(x);
        }
        for (o, &x) in out.iter_mut().zip(row) {
            let v = (entry(x) * p.inverse_scale) / sum;
            let v = v.max(-1_000_000.0).min(1_000_000.0);
            let q = round_half_even_small(v) as i32 + p.output_zero_point;
            *o = match (p.signed, q > 255) {
                (true, true) => -1,
                (true, false) => q as i8,
                (false, _) => (q.clamp(0, 255) - 128) as i8,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_rounds_the_scaled_product_half_to_even_in_uint8() {
        let p = MulQLinear {
            a_zero_point: 1,
            b_zero_point: -2,
            ratio: 0.25,
            output_zero_point: 130.0,
            signed: false,
        };
        let mut out = [0i8; 3];
        // (3-1)·(3+2) = 10 → 2.5 + 130 = 132.5 → 132 → 4; (1-1) → 130 → 2; huge → 255 → 127.
        mul_qlinear(&p, None, &[3, 1, 127], &[3, 5, 127], &mut out);
        assert_eq!(out, [4, 2, 127]);
    }

    #[test]
    fn broadcast_add_puts_the_scalar_into_the_offset() {
        let add = AddQLinear {
            a_ratio: 0.5,
            b_ratio: 0.25,
            offset: 1.0,
            signed: false,
        };
        let mut p = AddQLinearBroadcast {
            ratios: add,
            scalar_input: 2,
        };
        // a = 0 + 128, b = 4 + 128: 128·0.5 + 132·0.25 + 1 = 98 → -30.
        assert_eq!(add_qlinear_one(&p, 0, 4), -30);
        p.scalar_input = 0;
        assert_eq!(add_qlinear_one(&p, 0, 4), -30);
    }

    #[test]
    fn fused_mul_add_rounds_once() {
        // (1 + 2^-12)² = 1 + 2^-11 + 2^-24: rounded alone (a tie, to even) it loses 2^-24.
        let a = 1.0 + 1.0 / 4096.0;
        let c = -(1.0 + 1.0 / 2048.0);
        assert_eq!(fused_mul_add_f32(a, a, c), 1.0 / 16_777_216.0);
        assert_eq!(a * a + c, 0.0);
        // 2^-24 (1 + 2^-18) (1 - 2^-18) + (1 + 2^-23) = 1 + 2^-23 + 2^-24 - 2^-60: its f64
        // rounding is the f32 tie 1 + 2^-23 + 2^-24 (which goes to even, 1 + 2^-22); the
        // error term puts it below, at 1 + 2^-23.
        let a = (1.0 + 1.0 / 262_144.0) / 16_777_216.0;
        let b = 1.0 - 1.0 / 262_144.0;
        let c = 1.0 + f32::EPSILON;
        assert_eq!(
            ((a as f64 * b as f64) + c as f64) as f32,
            1.0 + 2.0 * f32::EPSILON
        );
        assert_eq!(fused_mul_add_f32(a, b, c), 1.0 + f32::EPSILON);
        assert_eq!(fused_mul_add_f32(3.0, 0.25, -0.75), 0.0);
        assert_eq!(fused_mul_add_f32(-2.0, 1.5, 1.0), -2.0);
    }

    #[test]
    fn the_fast_convolution_matches_the_plain_one() {
        // Odd widths and channel counts (partial blocks), padding on every side, strides,
        // per-channel and per-tensor scales, both dot-product flavours.
        let mut seed = 12345u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as i32
        };
        for (in_hw, k, stride, pad, in_c, out_c) in [
            (5, 3, 1, 1, 3, 6),
            (7, 3, 2, 1, 8, 5),
            (6, 1, 1, 0, 16, 9),
            (4, 2, 2, 0, 5, 4),
        ] {
            let out_hw = (in_hw + 2 * pad - k) / stride + 1;
            let shape = ConvShape {
                batches: 1,
                in_h: in_hw,
                in_w: in_hw,
                in_c,
                out_h: out_hw,
                out_w: out_hw,
                out_c,
                k_h: k,
                k_w: k,
                k_c: in_c,
                stride_h: stride,
                stride_w: stride,
                dilation_h: 1,
                dilation_w: 1,
                pad_top: pad,
                pad_left: pad,
                depth_multiplier: 1,
            };
            let p = ConvQLinear {
                shape,
                input_zero_point: next() % 50,
                output_zero_point: next() % 20,
            };
            let input: Vec<i8> = (0..in_hw * in_hw * in_c).map(|_| next() as i8).collect();
            let filter: Vec<u8> = (0..out_c * k * k * in_c).map(|_| next() as u8).collect();
            let bias: Vec<i32> = (0..out_c).map(|_| next() % 4000 - 2000).collect();
            let folded: Vec<i32> = bias
                .iter()
                .zip(filter.chunks(k * k * in_c))
                .map(|(&b, w)| {
                    let sum: i32 = w.iter().map(|&v| v as i8 as i32).sum();
                    b - sum * p.input_zero_point
                })
                .collect();
            for scales in [
                vec![0.0041f32],
                (0..out_c).map(|c| 0.001 * (c + 1) as f32).collect(),
            ] {
                let n = out_hw * out_hw * out_c;
                let mut want = vec![0i8; n];
                conv2d_qlinear(&p, &input, &filter, &bias, &scales, &mut want);
                let mut scalar = vec![0i8; n];
                conv2d_qlinear_fast::<Scalar>(&p, &input, &filter, &folded, &scales, &mut scalar);
                let mut dsp = vec![0i8; n];
                conv2d_qlinear_fast::<Dsp>(&p, &input, &filter, &folded, &scales, &mut dsp);
                assert_eq!(scalar, want, "{shape:?}");
                assert_eq!(dsp, want, "{shape:?}");
                assert!(
                    want.iter().any(|&v| v != want[0]),
                    "a constant output proves little"
                );
            }
        }
    }

    #[test]
    fn the_depthwise_convolution_matches_the_plain_one() {
        let mut seed = 777u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as i32
        };
        for (in_hw, k, stride, pad, c_n) in [(5, 3, 1, 1, 8), (7, 3, 2, 1, 4), (6, 2, 2, 0, 12)] {
            let out_hw = (in_hw + 2 * pad - k) / stride + 1;
            let shape = ConvShape {
                batches: 1,
                in_h: in_hw,
                in_w: in_hw,
                in_c: c_n,
                out_h: out_hw,
                out_w: out_hw,
                out_c: c_n,
                k_h: k,
                k_w: k,
                k_c: 1,
                stride_h: stride,
                stride_w: stride,
                dilation_h: 1,
                dilation_w: 1,
                pad_top: pad,
                pad_left: pad,
                depth_multiplier: 1,
            };
            let p = ConvQLinear {
                shape,
                input_zero_point: next() % 50,
                output_zero_point: next() % 20,
            };
            let input: Vec<i8> = (0..in_hw * in_hw * c_n).map(|_| next() as i8).collect();
            let filter: Vec<u8> = (0..c_n * k * k).map(|_| next() as u8).collect();
            let hwc: Vec<u8> = (0..k * k)
                .flat_map(|t| (0..c_n).map(move |c| (t, c)))
                .map(|(t, c)| filter[c * k * k + t])
                .collect();
            let bias: Vec<i32> = (0..c_n).map(|_| next() % 4000 - 2000).collect();
            let scales: Vec<f32> = (0..c_n).map(|c| 0.002 * (c + 1) as f32).collect();
            let n = out_hw * out_hw * c_n;
            let mut want = vec![0i8; n];
            conv2d_qlinear(&p, &input, &filter, &bias, &scales, &mut want);
            let mut scalar = vec![0i8; n];
            depthwise_conv2d_qlinear::<Scalar>(&p, &input, &hwc, &bias, &scales, &mut scalar);
            let mut dsp = vec![0i8; n];
            depthwise_conv2d_qlinear::<Dsp>(&p, &input, &hwc, &bias, &scales, &mut dsp);
            assert_eq!(scalar, want, "{shape:?}");
            assert_eq!(dsp, want, "{shape:?}");
            assert!(
                want.iter().any(|&v| v != want[0]),
                "a constant output proves little"
            );
        }
    }

    #[test]
    fn average_pool_global_and_windowed() {
        let mut p = AvgPoolQLinear {
            batches: 1,
            in_h: 2,
            in_w: 2,
            channels: 1,
            out_h: 1,
            out_w: 1,
            filter_h: 2,
            filter_w: 2,
            stride_h: 1,
            stride_w: 1,
            pad_top: 0,
            pad_left: 0,
            input_scale: 0.5,
            input_zero_point: 1,
            output_scale: 0.25,
            output_zero_point: -2,
            global: true,
            global_scale: 0.5,
            signed: false,
        };
        let mut out = [0i8; 1];
        // Σx = 10, minus 4 · 1 = 6; 6 · 0.5 = 3; -2 -> 1.
        avg_pool_qlinear(&p, &[1, 2, 3, 4], &mut out);
        assert_eq!(out, [1]);
        // Float path: 0.5 · (0 + 1 + 2 + 3) / 4 = 0.75; 0.75 / 0.25 - 2 = 1.
        p.global = false;
        avg_pool_qlinear(&p, &[1, 2, 3, 4], &mut out);
        assert_eq!(out, [1]);
        // The int8 kernel adds the zero point as it is: 0.5 · (2 - 1) / 0.25 + 1 = 3 (the uint8
        // one: 131 - 128); it saturates to int8: 0.5 · (-128 - 1) / 0.25 - 2 → -128.
        p.signed = true;
        p.output_zero_point = 1;
        avg_pool_qlinear(&p, &[2; 4], &mut out);
        assert_eq!(out, [3]);
        p.output_zero_point = -2;
        avg_pool_qlinear(&p, &[-128; 4], &mut out);
        assert_eq!(out, [-128]);
    }

    #[test]
    fn signed_add_and_mul_saturate_to_int8_without_the_uint8_shift() {
        let mut add = AddQLinear {
            a_ratio: 0.5,
            b_ratio: 0.25,
            offset: -40.0,
            signed: true,
        };
        let mut out = [0i8; 3];
        // 3·0.5 + 2·0.25 - 40 = -38; -128·0.75 - 40 = -136 → -128; 127·0.75 - 40 = 55.25 → 55.
        add_qlinear::<SoftFma>(&add, &[3, -128, 127], &[2, -128, 127], &mut out);
        assert_eq!(out, [-38, -128, 55]);
        let mut p = AddQLinearBroadcast {
            ratios: add,
            scalar_input: 0,
        };
        assert_eq!(add_qlinear_one(&p, -128, -128), -128);
        // Offset 60: 62; -36; 155.25 → 127.
        add.offset = 60.0;
        add_qlinear::<SoftFma>(&add, &[3, -128, 127], &[2, -128, 127], &mut out);
        assert_eq!(out, [62, -36, 127]);
        p.ratios = add;
        assert_eq!(add_qlinear_one(&p, 127, 127), 127);
        let mul = MulQLinear {
            a_zero_point: 1,
            b_zero_point: -2,
            ratio: 0.25,
            output_zero_point: 2.0,
            signed: true,
        };
        // (3-1)·(3+2)·0.25 + 2 = 4.5 → 4; (-128-1)·(127+2)·0.25 → -128; 127·… → 127.
        mul_qlinear(&mul, None, &[3, -128, 127], &[3, 127, 127], &mut out);
        assert_eq!(out, [4, -128, 127]);
    }

    /// Near ties seen in onnxruntime 1.20.1 (x86-64) on int8 QLinearAdd, where the order of
    /// the fused multiply-adds decides the result (the constants are its ratios and offset).
    #[test]
    fn signed_add_orders_its_fused_multiply_adds_as_mlas() {
        let equal = AddQLinear {
            a_ratio: f32::from_bits(0x3f50_d58d),
            b_ratio: f32::from_bits(0x3f93_081d),
            offset: f32::from_bits(0xc242_e51a),
            signed: true,
        };
        // The second input's product joins the offset first: -100 (the other order, -101).
        let mut out = [0i8; 1];
        add_qlinear::<SoftFma>(&equal, &[-86], &[16], &mut out);
        assert_eq!(out, [-100]);
        let mut p = AddQLinearBroadcast {
            ratios: equal,
            scalar_input: 0,
        };
        assert_eq!(add_qlinear_one(&p, -86, 16), -100);
        // A scalar second input joins the offset by a fused multiply-add: 35 (unfused, 36).
        p.ratios = AddQLinear {
            a_ratio: f32::from_bits(0x3fb5_1e33),
            b_ratio: f32::from_bits(0x3eb8_33a7),
            offset: f32::from_bits(0x4285_1f07),
            signed: true,
        };
        p.scalar_input = 2;
        assert_eq!(add_qlinear_one(&p, 5, -106), 35);
        // A scalar first input: the same with the inputs swapped.
        let q = p.ratios;
        p.ratios.a_ratio = q.b_ratio;
        p.ratios.b_ratio = q.a_ratio;
        p.scalar_input = 1;
        assert_eq!(add_qlinear_one(&p, -106, 5), 35);
    }

    /// A near tie seen in onnxruntime 1.20.1 (x86-64) on uint8 QLinearAdd: its uint8 kernel
    /// orders the multiply-adds as the int8 one (139 and 80 give 92; the other order, 91).
    #[test]
    fn unsigned_add_orders_its_fused_multiply_adds_as_mlas() {
        let add = AddQLinear {
            a_ratio: f32::from_bits(0x40b0_e448),
            b_ratio: f32::from_bits(0x40db_180c),
            offset: f32::from_bits(0xc499_1377),
            signed: false,
        };
        let mut out = [0i8; 1];
        // uint8 139, 80 and 92 as kiln's int8 (less 128).
        add_qlinear::<SoftFma>(&add, &[11], &[-48], &mut out);
        assert_eq!(out, [-36]);
        let p = AddQLinearBroadcast {
            ratios: add,
            scalar_input: 0,
        };
        assert_eq!(add_qlinear_one(&p, 11, -48), -36);
    }

    #[test]
    fn signed_softmax_wraps_past_127_as_onnxruntime_stores_it() {
        let p = SoftmaxQLinear {
            rows: 1,
            depth: 2,
            inverse_scale: 256.0,
            output_zero_point: -128,
            signed: true,
        };
        // Equal entries: 256 · 1 / 2 = 128 - 128 = 0 each; one dominant entry: 256 - 128 = 128,
        // stored as -128; the other 0 - 128 = -128.
        let mut table = [0.0f32; 256];
        table[255] = 1.0;
        let mut out = [0i8; 2];
        softmax_qlinear(&p, &table, &[5, 5], &mut out);
        assert_eq!(out, [0, 0]);
        softmax_qlinear(&p, &table, &[5, -100], &mut out);
        assert_eq!(out, [-128, -128]);
        let p = SoftmaxQLinear {
            output_zero_point: 0,
            ..p
        };
        // 256 + 0 > 255: -1.
        softmax_qlinear(&p, &table, &[5, -100], &mut out);
        assert_eq!(out, [-1, 0]);
    }

    #[test]
    fn rounding_is_half_to_even() {
        for (x, r) in [
            (0.5, 0.0),
            (1.5, 2.0),
            (2.5, 2.0),
            (-0.5, -0.0),
            (-1.5, -2.0),
            (-2.5, -2.0),
            (2.4999998, 2.0),
            (127.5, 128.0),
            (-128.5, -128.0),
        ] {
            assert_eq!(round_half_even_small(x), r, "{x}");
        }
    }

    #[test]
    fn requantization_clamps_before_rounding() {
        assert_eq!(requantize_float_i8(5, 0.5, 0), 2); // 2.5 -> 2
        assert_eq!(requantize_float_i8(7, 0.5, 0), 4); // 3.5 -> 4
        assert_eq!(requantize_float_i8(7, 0.5, -128), -124);
        assert_eq!(requantize_float_i8(1_000_000, 0.5, 10), 127);
        assert_eq!(requantize_float_i8(-1_000_000, 0.5, 10), -128);
    }

    #[test]
    fn quantize_linear_rounds_ties_to_even() {
        let p = Quantize {
            scale: 0.5,
            zero_point: 1,
        };
        let mut out = [0i8; 5];
        quantize_linear_f32(&p, &[0.25, 0.75, -0.25, 1000.0, f32::NAN], &mut out);
        assert_eq!(out, [1, 3, 1, 127, -128]);
    }

    #[test]
    fn conv_subtracts_the_input_zero_point_and_skips_padding() {
        // 1×3×1 input, 1×3 filter with padding 1 on the left: the first output sees the
        // padding (skipped), x0 and x1.
        let shape = ConvShape {
            batches: 1,
            in_h: 1,
            in_w: 3,
            in_c: 1,
            out_h: 1,
            out_w: 1,
            out_c: 1,
            k_h: 1,
            k_w: 3,
            k_c: 1,
            stride_h: 1,
            stride_w: 1,
            dilation_h: 1,
            dilation_w: 1,
            pad_top: 0,
            pad_left: 1,
            depth_multiplier: 1,
        };
        let p = ConvQLinear {
            shape,
            input_zero_point: 2,
            output_zero_point: -3,
        };
        let mut out = [0i8; 1];
        // (5-2)*1 + (7-2)*2 + bias 4 = 17; 17 * 0.25 = 4.25 -> 4; -3 -> 1.
        conv2d_qlinear(&p, &[5, 7, 9], &[9, 1, 2], &[4], &[0.25], &mut out);
        assert_eq!(out, [1]);
    }
}
