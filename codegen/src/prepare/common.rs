//! Constant computations several operators share: biases, per-channel requantization
//! multipliers, the constants of int8 and float32 convolutions, folded biases.

use crate::ir::Activation;
use crate::ir::{DType, TensorId};
use crate::prepare::{FloatWeights, Kernel, OpCx, ValidateError, Weights};
use crate::runtime as rt;

/// What every op's `prepare` returns: kernel, activation inputs, MACs.
pub type Prepared = Result<(Kernel, Vec<TensorId>, u64), ValidateError>;

/// The optional bias at `slot`, checked: constant, `dtype`, `channels` elements.
fn checked_bias<'g>(
    cx: &OpCx<'g>,
    slot: usize,
    channels: usize,
    dtype: DType,
) -> Result<Option<&'g crate::ir::Tensor>, ValidateError> {
    let Some((id, t)) = cx.optional_input(slot) else {
        return Ok(None);
    };
    cx.expect_dtype((id, t), dtype, "bias")?;
    cx.expect_const((id, t), "bias")?;
    if t.elements() != channels {
        return Err(cx.err(format!(
            "bias {} has {} elements, expected {channels}",
            cx.describe(id),
            t.elements()
        )));
    }
    Ok(Some(t))
}

/// Reads and checks an optional int32 bias of `channels` entries.
pub(crate) fn bias(
    cx: &OpCx,
    slot: usize,
    channels: usize,
) -> Result<Option<Vec<i32>>, ValidateError> {
    Ok(checked_bias(cx, slot, channels, DType::I32)?.map(|t| t.data_i32()))
}

/// Per-output-channel multipliers and shifts from `input_scale * weight_scale[c] / output_scale`
/// computed in f64, as TFLM's `PopulateConvolutionQuantizationParams`.
pub(crate) fn per_channel_multipliers(
    cx: &OpCx,
    input_scale: f32,
    weight_scales: &[f32],
    output_scale: f32,
    channels: usize,
) -> Result<(Vec<i32>, Vec<i32>), ValidateError> {
    let mut multipliers = Vec::with_capacity(channels);
    let mut shifts = Vec::with_capacity(channels);
    for c in 0..channels {
        let ws = if weight_scales.len() == 1 {
            weight_scales[0]
        } else {
            weight_scales[c]
        };
        let effective = input_scale as f64 * ws as f64 / output_scale as f64;
        let (m, s) = cx.multiplier(effective, &format!("channel {c} output"))?;
        multipliers.push(m);
        shifts.push(s);
    }
    Ok((multipliers, shifts))
}

/// Requires symmetric weights (all zero points 0), which TFLM's int8 kernels assume.
pub(crate) fn expect_symmetric(
    cx: &OpCx,
    id: TensorId,
    zero_points: &[i64],
) -> Result<(), ValidateError> {
    if zero_points.iter().any(|&z| z != 0) {
        return Err(cx.err(format!(
            "weights {} have a non-zero zero point; TFLM's int8 kernels need symmetric weights",
            cx.describe(id)
        )));
    }
    Ok(())
}

/// TFLite `CalculateActivationRange` for float outputs: the clamp bounds.
pub(crate) fn float_activation_range(activation: Activation) -> (f32, f32) {
    match activation {
        Activation::None => (f32::MIN, f32::MAX),
        Activation::Relu => (0.0, f32::MAX),
        Activation::Relu6 => (0.0, 6.0),
        Activation::ReluN1To1 => (-1.0, 1.0),
    }
}

/// Reads and checks an optional float32 bias of `channels` entries (as f32 bytes).
pub(crate) fn float_bias(
    cx: &OpCx,
    slot: usize,
    channels: usize,
) -> Result<Option<Vec<u8>>, ValidateError> {
    Ok(checked_bias(cx, slot, channels, DType::F32)?.and_then(|t| t.data.clone()))
}

/// A FULLY_CONNECTED of `rows` rows as a 1×1 convolution over them.
pub(crate) fn fc_conv_shape(rows: usize, in_features: usize, out_features: usize) -> rt::ConvShape {
    rt::ConvShape {
        batches: 1,
        in_h: 1,
        in_w: rows,
        in_c: in_features,
        out_h: 1,
        out_w: rows,
        out_c: out_features,
        k_h: 1,
        k_w: 1,
        k_c: in_features,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        pad_top: 0,
        pad_left: 0,
        depth_multiplier: 1,
    }
}

/// The compile-time constants of a float32 convolution (CONV_2D, DEPTHWISE_CONV_2D).
pub(crate) fn float_conv(
    cx: &OpCx,
    shape: rt::ConvShape,
    activation: Activation,
    filter: &crate::ir::Tensor,
) -> Result<(rt::ConvF32, FloatWeights), ValidateError> {
    let (act_min, act_max) = float_activation_range(activation);
    let params = rt::ConvF32 {
        shape,
        act_min,
        act_max,
    };
    let w = FloatWeights {
        filter: filter.data.clone().unwrap_or_default(),
        bias: float_bias(cx, 2, shape.out_c)?,
    };
    Ok((params, w))
}

/// The compile-time constants of an int8 convolution (CONV_2D, DEPTHWISE_CONV_2D): per-channel
/// requantization along the filter's `axis`, folded bias (`channel_of(i)` is the output
/// channel of filter byte `i`), clamp bounds.
pub(crate) fn quantized_conv(
    cx: &OpCx,
    [input, filter, output]: [(TensorId, &crate::ir::Tensor); 3],
    shape: rt::ConvShape,
    activation: Activation,
    axis: usize,
    channel_of: impl Fn(usize) -> usize,
) -> Result<(rt::ConvFast, Weights), ValidateError> {
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let wq = cx.weight_scales(filter, axis, shape.out_c)?;
    expect_symmetric(cx, filter.0, &wq.zero_points)?;
    let bias = bias(cx, 2, shape.out_c)?;
    let mult = per_channel_multipliers(cx, in_scale, &wq.scales, out_scale, shape.out_c)?;
    let (act_min, act_max) = cx.activation_range(activation, out_scale, out_zp)?;
    let data = filter.1.data.clone().unwrap_or_default();
    let w = weights(data, bias, mult, shape.out_c, -in_zp, channel_of);
    let params = rt::ConvFast {
        shape,
        input_zero_point: in_zp,
        output_offset: out_zp,
        per_channel: true,
        act_min,
        act_max,
        fast_requant: w.fast_requant,
    };
    Ok((params, w))
}

/// The constants `(bias, multiplier, shift)` of a channel whose weights are all zero, whose
/// accumulator is therefore always `bias`: an equivalent small bias under the multiplier
/// 2^30 (one half) and a right shift of 1, which requantize `4v` to exactly `v`
/// (`SaturatingRoundingDoublingHighMul(4v, 2^30) = 2v`, `RoundingDivideByPOT(2v, 1) = v`),
/// `v` being what the original constants give, limited to ±512: any output offset and clamp
/// within int8 turn every `v` beyond that into the same byte.
fn constant_channel(bias: i32, multiplier: i32, shift: i32) -> (i32, i32, i32) {
    let v = rt::multiply_by_quantized_multiplier(bias, multiplier, shift).clamp(-512, 512);
    (4 * v, 1 << 30, -1)
}

/// Builds the [`Weights`] of a layer. `channel_of(i)` is the output channel of filter byte
/// `i`; the folded bias adds `input_offset · Σ filter` per channel to the bias.
pub(crate) fn weights(
    filter: Vec<u8>,
    bias: Option<Vec<i32>>,
    (multipliers, shifts): (Vec<i32>, Vec<i32>),
    channels: usize,
    input_offset: i32,
    channel_of: impl Fn(usize) -> usize,
) -> Weights {
    let mut bias = bias;
    let mut folded_bias = bias.clone().unwrap_or_else(|| vec![0; channels]);
    // Σ|w| per channel, for the accumulator bound below.
    let mut abs_sum = vec![0i64; channels];
    for (i, &w) in filter.iter().enumerate() {
        let c = channel_of(i);
        if let Some(b) = folded_bias.get_mut(c) {
            *b = b.wrapping_add((w as i8 as i32).wrapping_mul(input_offset));
        }
        if let Some(a) = abs_sum.get_mut(c) {
            *a += (w as i8 as i64).abs();
        }
    }
    // A channel whose weights are all zero outputs one value whatever the input; a large bias
    // there (trained-away channels carry ±2^30) would keep the layer off the short path.
    let (mut multipliers, mut shifts) = (multipliers, shifts);
    if multipliers.len() == channels && shifts.len() == channels {
        for c in (0..channels).filter(|&c| abs_sum[c] == 0) {
            let (b, m, s) = constant_channel(folded_bias[c], multipliers[c], shifts[c]);
            folded_bias[c] = b;
            if let Some(plain) = bias.as_mut().and_then(|p| p.get_mut(c)) {
                *plain = b;
            }
            (multipliers[c], shifts[c]) = (m, s);
        }
    }
    // The largest accumulator any input can produce: from the folded bias with inputs in
    // -128..=127, or (depthwise border pixels) from the plain bias with offset inputs up to 255.
    let bound = (0..channels)
        .map(|c| {
            let folded = folded_bias[c] as i64;
            let plain = bias.as_ref().map_or(0, |b| b[c]) as i64;
            (folded.abs() + 128 * abs_sum[c]).max(plain.abs() + 255 * abs_sum[c])
        })
        .max()
        .unwrap_or(0);
    // A channel whose multiplier is 0 requantizes every accumulator to 0 whatever its shift
    // (in TFLM's arithmetic and in every kernel's): give it a right shift of 1, which the
    // short path takes.
    let shifts: Vec<i32> = shifts
        .iter()
        .enumerate()
        .map(|(c, &s)| match multipliers.get(c) {
            Some(0) => -1,
            _ => s,
        })
        .collect();
    // The short path (`rt::requantize_small_offset`) needs |acc| < 2^30 and right shifts of
    // 1..=31 (`rt::small_offset_split`).
    let fast_requant = bound < 1 << 30 && shifts.iter().all(|&s| (-31..0).contains(&s));
    Weights {
        filter,
        bias,
        folded_bias,
        multipliers,
        shifts,
        fast_requant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TFLM's output byte of a channel: requantize, add the offset, clamp.
    fn out_byte(acc: i32, m: i32, s: i32, offset: i32, (lo, hi): (i32, i32)) -> i32 {
        rt::multiply_by_quantized_multiplier(acc, m, s)
            .wrapping_add(offset)
            .clamp(lo, hi)
    }

    #[test]
    fn constant_channels_keep_their_output_and_take_the_short_path() {
        let mut seed = 0x9e37_79b9u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for _ in 0..2000 {
            let bias = match next() % 4 {
                0 => (next() as i32) >> (next() % 31),
                1 => 1 << 30,
                2 => -(1 << 30) - (next() % 256) as i32,
                _ => (next() % 2048) as i32 - 1024,
            };
            let m = (1 << 30) + (next() >> 2) as i32;
            let s = -((next() % 32) as i32) + (next() % 3 == 0) as i32 * 2;
            let (b, m2, s2) = constant_channel(bias, m, s);
            let offset = (next() % 256) as i32 - 128;
            for range in [(-128, 127), (offset.max(-128), 127), (-128, 0)] {
                assert_eq!(
                    out_byte(b, m2, s2, offset, range),
                    out_byte(bias, m, s, offset, range),
                    "bias {bias} m {m} s {s} offset {offset}"
                );
            }
        }
        // A layer of two channels, the second all zero with a bias of 2^30.
        let w = weights(
            vec![1, 2, 0, 0],
            Some(vec![5, 1 << 30]),
            (vec![1 << 30, 1 << 30], vec![-3, -30]),
            2,
            128,
            |i| i / 2,
        );
        assert!(w.fast_requant);
        // 2^30 · 2^-1 · 2^-30 = 1/2, rounded away from zero.
        assert_eq!(w.folded_bias[1], 4);
        assert_eq!(w.bias, Some(vec![5, 4]));
        assert_eq!((w.multipliers[1], w.shifts[1]), (1 << 30, -1));
    }
}
