//! Int16x8 kernels (16-bit activations, 8-bit weights) as TFLite's reference integer kernels
//! compute them: convolutions and fully connected layers with int64 (or int32) biases and
//! TFLite's 64-bit requantization, the table-interpolated LOGISTIC and TANH, ADD, SUB and
//! MUL, and the conversions from and to int16. Activations are symmetric (zero point 0).

use super::*;

/// TFLite's `MultiplyByQuantizedMultiplier` for a 64-bit accumulator: the multiplier rounded
/// to 16 bits, one rounding shift. `shift` must be in `-31..=7`.
#[inline(always)]
pub fn multiply_by_quantized_multiplier_i64(x: i64, multiplier: i32, shift: i32) -> i32 {
    let reduced = if multiplier < 0x7FFF_0000 {
        ((multiplier as i64) + (1 << 15)) >> 16
    } else {
        0x7FFF
    };
    let total = (15 - shift) & 63;
    let rounded = x
        .wrapping_mul(reduced)
        .wrapping_add(1i64 << ((total - 1) & 63));
    (rounded >> total) as i32
}

/// Per-layer constants of an int16x8 convolution, depthwise convolution or fully connected
/// layer (run as a 1×1 convolution).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvI16 {
    /// Geometry (`depth_multiplier` is used by the depthwise kernel only).
    pub shape: ConvShape,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound.
    pub act_max: i32,
    /// The model's bias is int64: accumulate in 64 bits and requantize with
    /// [`multiply_by_quantized_multiplier_i64`]; else (int32 bias) in 32 bits, as TFLite.
    pub wide: bool,
}

/// The requantized, clamped output of one accumulator.
#[inline(always)]
fn finish_i16(p: &ConvI16, acc: i64, multiplier: i32, shift: i32) -> i16 {
    let v = if p.wide {
        multiply_by_quantized_multiplier_i64(acc, multiplier, shift)
    } else {
        multiply_by_quantized_multiplier(acc as i32, multiplier, shift)
    };
    v.clamp(p.act_min, p.act_max) as i16
}

/// The accumulator of a sum of products: 64-bit, or wrapping 32-bit like TFLite's `int32_t`.
#[inline(always)]
fn accumulate_i16(p: &ConvI16, acc: i64, product: i32) -> i64 {
    if p.wide {
        acc + product as i64
    } else {
        (acc as i32).wrapping_add(product) as i64
    }
}

/// Int16x8 CONV_2D (TFLite `ConvPerChannel` for int16): `filter` is OHWI int8 bytes,
/// `bias` one per output channel (zeros without one), groups when the filter has fewer input
/// channels than the input.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn conv2d_i16(
    p: &ConvI16,
    input: &[i16],
    filter: &[u8],
    bias: &[i64],
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i16],
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
                    let mut acc = 0i64;
                    for (ky, kx, iy, ix) in window_taps(s, oy, ox) {
                        let at = ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + group * s.k_c;
                        let xs = input.get(at..at + s.k_c).unwrap_or(&[]);
                        let wat = ((oc * s.k_h + ky) * s.k_w + kx) * s.k_c;
                        let ws = filter.get(wat..wat + s.k_c).unwrap_or(&[]);
                        for (&x, &w) in xs.iter().zip(ws) {
                            acc = accumulate_i16(p, acc, (w as i8 as i32) * (x as i32));
                        }
                    }
                    acc = accumulate_bias_i16(p, acc, bias.get(oc).copied().unwrap_or(0));
                    let (m, sh) = channel_requant_i16(multiplier, shift, oc);
                    if let Some(o) = out.next() {
                        *o = finish_i16(p, acc, m, sh);
                    }
                }
            }
        }
    }
}

/// Int16x8 DEPTHWISE_CONV_2D (TFLite `DepthwiseConvPerChannel` for int16): `filter` is
/// `1HW(C·M)` int8 bytes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn depthwise_conv2d_i16(
    p: &ConvI16,
    input: &[i16],
    filter: &[u8],
    bias: &[i64],
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i16],
) {
    let s = &p.shape;
    let m = s.depth_multiplier.max(1);
    let mut out = output.iter_mut();
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            for ox in 0..s.out_w {
                for oc in 0..s.out_c {
                    let ic = oc / m;
                    let mut acc = 0i64;
                    for (ky, kx, iy, ix) in window_taps(s, oy, ox) {
                        let at = ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + ic;
                        let x = input.get(at).copied().unwrap_or(0) as i32;
                        let w = filter
                            .get((ky * s.k_w + kx) * s.out_c + oc)
                            .copied()
                            .unwrap_or(0) as i8 as i32;
                        acc = accumulate_i16(p, acc, w * x);
                    }
                    acc = accumulate_bias_i16(p, acc, bias.get(oc).copied().unwrap_or(0));
                    let (mm, sh) = channel_requant_i16(multiplier, shift, oc);
                    if let Some(o) = out.next() {
                        *o = finish_i16(p, acc, mm, sh);
                    }
                }
            }
        }
    }
}

/// The taps of output pixel `(oy, ox)`'s window that fall inside the image, as
/// `(ky, kx, iy, ix)` (TFLite skips the padding rather than reading zeros; onnxruntime's
/// padding holds the input zero point, which adds nothing once the zero point is subtracted).
#[inline(always)]
pub fn window_taps(
    s: &ConvShape,
    oy: usize,
    ox: usize,
) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
    let inside = |at: usize, before: usize, len: usize| at.checked_sub(before).filter(|&i| i < len);
    (0..s.k_h).flat_map(move |ky| {
        let iy = inside(oy * s.stride_h + ky * s.dilation_h, s.pad_top, s.in_h);
        (0..s.k_w).filter_map(move |kx| {
            let ix = inside(ox * s.stride_w + kx * s.dilation_w, s.pad_left, s.in_w);
            Some((ky, kx, iy?, ix?))
        })
    })
}

/// Adds the bias in the accumulator's width.
#[inline(always)]
fn accumulate_bias_i16(p: &ConvI16, acc: i64, bias: i64) -> i64 {
    if p.wide {
        acc.wrapping_add(bias)
    } else {
        (acc as i32).wrapping_add(bias as i32) as i64
    }
}

/// Channel `c`'s multiplier and shift (the only one when per-tensor).
#[inline(always)]
fn channel_requant_i16(multiplier: &[i32], shift: &[i32], c: usize) -> (i32, i32) {
    let pick = |v: &[i32]| {
        if v.len() == 1 {
            v.first().copied().unwrap_or(0)
        } else {
            v.get(c).copied().unwrap_or(0)
        }
    };
    (pick(multiplier), pick(shift))
}

/// Int16 LOGISTIC (`tanh` false) or TANH: TFLite's table interpolation with the input
/// scaling its Prepare chose.
#[inline(always)]
pub fn activation_i16(scale: &InputScale16, tanh: bool, input: &[i16], output: &mut [i16]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = if tanh {
            tanh_i16(x, *scale)
        } else {
            sigmoid_i16(x, *scale)
        };
    }
}

/// Int16 ADD (`subtract` false) or SUB, zipped or broadcast (TFLite's general-scale
/// `AddElementwise` / `SubElementwise` with a left shift of 15).
#[inline(always)]
pub fn add_sub_i16(
    p: &Add,
    bc: Option<&Broadcast>,
    subtract: bool,
    input1: &[i16],
    input2: &[i16],
    output: &mut [i16],
) {
    binary(bc, input1, input2, output, |a, b| {
        let v = add_sub_unclamped(p, a as i32, b as i32, subtract);
        v.max(p.act_min).min(p.act_max) as i16
    });
}

/// Int16 MUL, zipped or broadcast (TFLite `MulElementwise` / `BroadcastMul6DSlow` on int16).
#[inline(always)]
pub fn mul_i16(
    p: &Mul,
    bc: Option<&Broadcast>,
    input1: &[i16],
    input2: &[i16],
    output: &mut [i16],
) {
    binary(bc, input1, input2, output, |a, b| {
        let v = mul_unclamped(p, a as i32, b as i32);
        v.max(p.act_min).min(p.act_max) as i16
    });
}

/// Constants of int8 or int16 LEAKY_RELU (TFLM `CalculateOpDataLeakyRelu`).
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

/// One LEAKY_RELU element before the output type's saturation (TFLM `QuantizeLeakyRelu`):
/// the identity multiplier for inputs at or above the zero point, alpha's below.
#[inline(always)]
pub fn leaky_relu_unclamped(p: &LeakyRelu, x: i32) -> i32 {
    let input = x.wrapping_sub(p.input_zero_point);
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
    p.output_zero_point.wrapping_add(scaled)
}

/// Int16 LEAKY_RELU (TFLM `QuantizeLeakyRelu<int16_t>`).
#[inline(always)]
pub fn leaky_relu_i16(p: &LeakyRelu, input: &[i16], output: &mut [i16]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = clamp_i16(leaky_relu_unclamped(p, x as i32));
    }
}

/// Per-layer constants of int16 RELU (TFLM `CalculateReluOpData<int16_t>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReluI16 {
    /// `input_scale / output_scale` as a Q31 multiplier.
    pub multiplier: i32,
    /// Its shift (positive = left).
    pub shift: i32,
    /// Lower clamp bound (the output's zero).
    pub act_min: i32,
    /// Upper clamp bound.
    pub act_max: i32,
}

/// Int16 RELU (TFLM `ReluQuantized<int16_t>`; zero points are 0): each input rescaled to the
/// output, then clamped.
#[inline(always)]
pub fn relu_i16(p: &ReluI16, input: &[i16], output: &mut [i16]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let v = multiply_by_quantized_multiplier(x as i32, p.multiplier, p.shift);
        *o = v.max(p.act_min).min(p.act_max) as i16;
    }
}

/// The bounds of an int16 RELU6, in the input's quantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relu6I16 {
    /// The quantized 0.
    pub zero: i16,
    /// The quantized 6.
    pub six: i16,
}

/// Int16 RELU6 (TFLM `Relu6Quantized<int16_t>`: `x > six ? six : x < zero ? zero : x`, no
/// rescaling).
#[inline(always)]
pub fn relu6_i16(p: &Relu6I16, input: &[i16], output: &mut [i16]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let capped = if x > p.six { p.six } else { x };
        *o = if capped < p.zero { p.zero } else { capped };
    }
}

/// Per-layer constants of int16 ABS (zero points 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbsI16 {
    /// Whether the input and output scales differ (else `|x|` is copied).
    pub rescale: bool,
    /// `input_scale / output_scale` as a Q31 multiplier.
    pub multiplier: i32,
    /// Its shift (positive = left).
    pub shift: i32,
}

/// Int16 ABS (TFLM `AbsEvalQuantized<int16_t>`): `|x|`, rescaled when the scales differ,
/// saturated to int16 (so `|-32768|` is 32767).
#[inline(always)]
pub fn abs_i16(p: &AbsI16, input: &[i16], output: &mut [i16]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let magnitude = (x as i32).abs();
        let v = if p.rescale {
            multiply_by_quantized_multiplier(magnitude, p.multiplier, p.shift)
        } else {
            magnitude
        };
        *o = clamp_i16(v);
    }
}

/// Per-layer constants of int16 SOFTMAX (TFLM's int16 path; the two tables are passed beside
/// them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftmaxI16 {
    /// Number of rows (all dimensions but the last).
    pub rows: usize,
    /// Row length (the last dimension).
    pub depth: usize,
    /// `input_scale · beta / (10 / 65535)` as a Q31 multiplier: a difference from the row
    /// maximum onto `-65535..=0` for `-10..=0`.
    pub input_multiplier: i32,
    /// Its shift (positive = left).
    pub input_shift: i32,
}

/// TFLite's `lut_lookup_with_interpolation` for an int16 input: 512 entries over the input
/// range (and one more for the last slope), interpolated in Q0.7 steps.
#[inline(always)]
pub fn lut_lookup_i16(lut: &[i16], value: i16) -> i16 {
    let index = (256 + (value as i32 >> 7)) as usize;
    let offset = (value & 0x7f) as i32;
    let base = lut.get(index).copied().unwrap_or(0);
    let slope = lut.get(index + 1).copied().unwrap_or(0).wrapping_sub(base) as i32;
    (base as i32).wrapping_add((slope * offset + 64) >> 7) as i16
}

/// Int16 SOFTMAX (TFLite reference `SoftmaxInt16`): each difference from the row maximum
/// rescaled onto `exp_lut`'s range, the Q0.15 exponentials summed, the sum's reciprocal read
/// from `recip_lut` (`1 / (1 + x)`), each exponential scaled by it into Q0.15.
#[inline(always)]
pub fn softmax_i16(
    p: &SoftmaxI16,
    exp_lut: &[i16],
    recip_lut: &[i16],
    input: &[i16],
    output: &mut [i16],
) {
    let depth = p.depth.max(1);
    for (row_in, row_out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
        .take(p.rows)
    {
        let max = row_in.iter().copied().max().unwrap_or(i16::MIN) as i32;
        let mut sum_of_exps = 0i32;
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            let diff = x as i32 - max;
            let scaled = multiply_by_quantized_multiplier(diff, p.input_multiplier, p.input_shift);
            *o = lut_lookup_i16(exp_lut, clamp_i16(scaled.wrapping_add(32767)));
            sum_of_exps = sum_of_exps.wrapping_add(*o as i32);
        }
        let headroom_plus_one = (sum_of_exps as u32).leading_zeros() as i32;
        let shifted_sum = (((sum_of_exps as i64) << ((headroom_plus_one - 1) & 63))
            .wrapping_add(1 << 13)
            >> 14) as i32;
        let centred = shifted_sum.wrapping_sub((1 << 15) + (1 << 16));
        let reciprocal = lut_lookup_i16(recip_lut, clamp_i16(centred)) as i64;
        let right_shift = (31 - headroom_plus_one) & 63;
        let round = 1i64 << ((right_shift - 1) & 63);
        for o in row_out.iter_mut() {
            let scaled = ((*o as i64 * reciprocal + round) >> right_shift) as i32;
            *o = scaled.clamp(0, 32767) as i16;
        }
    }
}

/// QUANTIZE float32 → int16 (`round(x / scale) + zero_point`, saturated).
#[inline(always)]
pub fn quantize_f32_i16(p: &Quantize, input: &[f32], output: &mut [i16]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let q = (round_half_away(x / p.scale) as i32).saturating_add(p.zero_point);
        *o = clamp_i16(q);
    }
}

/// QUANTIZE between integer types (TFLite `Requantize`) into int16.
#[inline(always)]
pub fn requantize_to_i16<T: Copy + Into<i32>>(p: &Requantize, input: &[T], output: &mut [i16]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = clamp_i16(requantized_i16(p, x.into()));
    }
}

/// QUANTIZE int16 → int8 (TFLite `Requantize`).
#[inline(always)]
pub fn requantize_i16_to_i8(p: &Requantize, input: &[i16], output: &mut [i8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = clamp_i8(requantized_i16(p, x as i32), -128, 127);
    }
}

/// One requantized value before the output type's saturation.
#[inline(always)]
fn requantized_i16(p: &Requantize, x: i32) -> i32 {
    multiply_by_quantized_multiplier(x.wrapping_sub(p.input_zero_point), p.multiplier, p.shift)
        .wrapping_add(p.output_zero_point)
}

/// DEQUANTIZE int16 → float32 (computed in double, rounded once to float).
#[inline(always)]
pub fn dequantize_i16(p: &Dequantize, input: &[i16], output: &mut [f32]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = (p.scale as f64 * (x as i32 - p.zero_point) as f64) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_sub_and_mul_saturate_to_int16() {
        // Equal scales: both inputs halved, the sum doubled back (2^-15 undoes the shift).
        let add = Add {
            input1_offset: 0,
            input2_offset: 0,
            output_offset: 0,
            left_shift: 15,
            input1_multiplier: 1 << 30,
            input1_shift: 0,
            input2_multiplier: 1 << 30,
            input2_shift: 0,
            output_multiplier: 1 << 30,
            output_shift: -13,
            act_min: -32768,
            act_max: 32767,
        };
        let a = [30000i16, -30000, 5, -7];
        let b = [10000i16, -10000, 3, 2];
        let mut out = [0i16; 4];
        add_sub_i16(&add, None, false, &a, &b, &mut out);
        assert_eq!(out, [32767, -32768, 8, -5]);
        add_sub_i16(&add, None, true, &a, &b, &mut out);
        assert_eq!(out, [20000, -20000, 2, -9]);
        // A broadcast second input: [2, 2] - [1, 2].
        let bc = Broadcast {
            dims: [1, 1, 1, 1, 2, 2],
            strides1: [0, 0, 0, 0, 2, 1],
            strides2: [0, 0, 0, 0, 0, 1],
        };
        add_sub_i16(&add, Some(&bc), true, &a, &b[..2], &mut out);
        assert_eq!(out, [20000, -20000, -9995, 9993]);
        // x · y / 2 with a RELU.
        let mul = Mul {
            input1_offset: 0,
            input2_offset: 0,
            output_offset: 0,
            output_multiplier: 1 << 30,
            output_shift: 0,
            act_min: 0,
            act_max: 32767,
        };
        mul_i16(
            &mul,
            None,
            &[300, -300, 7, 200],
            &[300, 3, 3, 200],
            &mut out,
        );
        assert_eq!(out, [32767, 0, 11, 20000]);
    }

    #[test]
    fn softmax_of_equal_inputs_is_uniform() {
        // Linear stand-in tables are enough to follow the fixed point: equal inputs in a row
        // get equal outputs.
        let exp: [i16; 513] = core::array::from_fn(|i| (i as i32 * 64).min(32767) as i16);
        let recip: [i16; 513] = core::array::from_fn(|i| (32767 - i as i32 * 32).max(0) as i16);
        let p = SoftmaxI16 {
            rows: 2,
            depth: 4,
            input_multiplier: 1 << 30,
            input_shift: 1,
        };
        let input = [100i16, 100, 100, 100, -5, -5, -5, -5];
        let mut out = [0i16; 8];
        softmax_i16(&p, &exp, &recip, &input, &mut out);
        assert!(out.iter().all(|&q| q == out[0]), "{out:?}");
        // lut_lookup_i16 interpolates between entries 256 + (x >> 7) and the next one.
        assert_eq!(lut_lookup_i16(&exp, 0), 256 * 64);
        assert_eq!(lut_lookup_i16(&exp, 64), 256 * 64 + 32);
        assert_eq!(lut_lookup_i16(&exp, -128), 255 * 64);
    }

    #[test]
    fn wide_requantization_rounds_once_with_a_16_bit_multiplier() {
        // m = 0.75 · 2^31, shift 0: x · 0.75 rounded half up.
        let m = 3 << 29;
        assert_eq!(multiply_by_quantized_multiplier_i64(4, m, 0), 3);
        assert_eq!(multiply_by_quantized_multiplier_i64(2, m, 0), 2); // 1.5 → 2
        assert_eq!(multiply_by_quantized_multiplier_i64(-2, m, 0), -1); // -1.5 → -1
        assert_eq!(
            multiply_by_quantized_multiplier_i64(1 << 40, m, -20),
            3 << 18
        );
    }
}
