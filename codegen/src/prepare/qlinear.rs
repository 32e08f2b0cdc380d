//! The int8 convolutions and fully connected layers of a graph that follows onnxruntime's
//! arithmetic ([`crate::ir::Arithmetic::Onnxruntime`]): QLinearConv and QGemm, whose int32
//! accumulators are requantized by a float32 scale per output channel, and QLinearAdd.

use super::common::{expect_symmetric, Prepared};
use crate::ir::{Activation, DType, Pool2dOptions, Tensor, TensorId};
use crate::layer::WeightsQLinear;
use crate::prepare::quant::{out_size, padding_before};
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates an int8 CONV_2D or FULLY_CONNECTED (`shape`: a 1×1 convolution over its rows)
/// and computes its constants as onnxruntime does: the scale of channel `c` is
/// `input_scale · weight_scale[c] / output_scale`, multiplied then divided in float32
/// (onnxruntime's `ComputeOutputScale`).
pub fn conv(
    cx: &OpCx,
    [input, filter, output]: [(TensorId, &Tensor); 3],
    shape: rt::ConvShape,
    activation: Activation,
    macs: u64,
) -> Prepared {
    cx.expect_dtype(input, DType::I8, "input")?;
    cx.expect_dtype(filter, DType::I8, "filter")?;
    cx.expect_dtype(output, DType::I8, "output")?;
    if activation != Activation::None {
        return Err(cx.err(format!(
            "fused activation {activation:?}: onnxruntime's quantized operators clamp by the \
             output range only"
        )));
    }
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let wq = cx.weight_scales(filter, 0, shape.out_c)?;
    expect_symmetric(cx, filter.0, &wq.zero_points)?;
    let bias = super::common::bias(cx, 2, shape.out_c)?.unwrap_or_else(|| vec![0; shape.out_c]);
    let scales = wq
        .scales
        .iter()
        .map(|&w| in_scale * w / out_scale)
        .collect();
    let params = rt::ConvQLinear {
        shape,
        input_zero_point: in_zp,
        output_zero_point: out_zp,
    };
    let filter_bytes = filter.1.data.clone().unwrap_or_default();
    let per_channel = filter_bytes.len() / shape.out_c.max(1);
    let folded_bias = bias
        .iter()
        .zip(filter_bytes.chunks(per_channel.max(1)))
        .map(|(&b, w)| {
            let sum = w.iter().fold(0i32, |t, &v| t.wrapping_add(v as i8 as i32));
            b.wrapping_sub(sum.wrapping_mul(in_zp))
        })
        .collect();
    let weights = WeightsQLinear {
        filter: filter_bytes,
        bias,
        folded_bias,
        scales,
    };
    Ok((Kernel::ConvQLinear(params, weights), vec![input.0], macs))
}

/// Validates an int8 ADD of equal shapes and computes onnxruntime's QLinearAdd constants
/// (MLAS: the ratios divided and the offset multiplied and added in float32, of the uint8
/// zero points onnxruntime runs QDQ groups with on x86-64, or of the int8 ones for an int8
/// QOperator node, see [`crate::ir::MLAS_SIGNED_OPS`]).
pub fn add(cx: &OpCx, activation: Activation) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    for (t, role) in [(a, "first input"), (b, "second input"), (output, "output")] {
        cx.expect_dtype(t, DType::I8, role)?;
    }
    if activation != Activation::None {
        return Err(cx.err(format!("fused activation {activation:?} is not supported")));
    }
    let (a_scale, a_zp) = cx.per_tensor(a, "first input")?;
    let (b_scale, b_zp) = cx.per_tensor(b, "second input")?;
    let (c_scale, c_zp) = cx.per_tensor(output, "output")?;
    let a_ratio = a_scale / c_scale;
    let b_ratio = b_scale / c_scale;
    // The uint8 zero points, or the int8 ones for MLAS's int8 kernel (see `rt::add_qlinear`).
    let signed = crate::ir::MLAS_SIGNED_OPS.contains(&cx.name);
    let lift = if signed { 0 } else { 128 };
    let [a_zp, b_zp, c_zp] = [a_zp, b_zp, c_zp].map(|z| (z + lift) as f32);
    let params = rt::AddQLinear {
        a_ratio,
        b_ratio,
        offset: c_zp - a_ratio.mul_add(a_zp, b_ratio * b_zp),
        signed,
    };
    if a.1.shape != b.1.shape || a.1.shape != output.1.shape {
        return super::qlinear_elementwise::add_broadcast(cx, params, activation);
    }
    let elements = output.1.elements() as u64;
    Ok((Kernel::AddQLinear(params), vec![a.0, b.0], elements))
}

/// Validates an int8 AVERAGE_POOL_2D and computes onnxruntime's QLinearAveragePool constants
/// (a window that is the whole unpadded image runs as QLinearGlobalAveragePool, as
/// onnxruntime's own fallback does).
pub fn avg_pool(cx: &OpCx, o: &Pool2dOptions) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::I8, "input")?;
    cx.expect_dtype(output, DType::I8, "output")?;
    cx.expect_rank(input, 4, "input")?;
    cx.expect_rank(output, 4, "output")?;
    if o.activation != Activation::None || o.filter_h == 0 || o.filter_w == 0 {
        return Err(cx.err("expected a non-empty window without fused activation"));
    }
    let i = &input.1.shape;
    let (batches, in_h, in_w, channels) = (i[0], i[1], i[2], i[3]);
    let out_h = out_size(o.padding, in_h, o.filter_h, o.stride_h, 1);
    let out_w = out_size(o.padding, in_w, o.filter_w, o.stride_w, 1);
    if output.1.shape != [batches, out_h, out_w, channels] {
        return Err(cx.err(format!(
            "output {} has shape {:?}, but the window gives {:?}",
            cx.describe(output.0),
            output.1.shape,
            [batches, out_h, out_w, channels]
        )));
    }
    let pad_top = padding_before(in_h, o.filter_h, o.stride_h, 1, out_h);
    let pad_left = padding_before(in_w, o.filter_w, o.stride_w, 1, out_w);
    // Every window must hold a cell of the image (else onnxruntime divides by zero).
    if pad_top >= o.filter_h || pad_left >= o.filter_w {
        return Err(cx.err("a window lies wholly in the padding"));
    }
    let (input_scale, input_zero_point) = cx.per_tensor(input, "input")?;
    let (output_scale, output_zero_point) = cx.per_tensor(output, "output")?;
    let global = (o.filter_h, o.filter_w, out_h, out_w) == (in_h, in_w, 1, 1);
    let cells = (o.filter_h * o.filter_w) as f32;
    let params = rt::AvgPoolQLinear {
        batches,
        in_h,
        in_w,
        channels,
        out_h,
        out_w,
        filter_h: o.filter_h,
        filter_w: o.filter_w,
        stride_h: o.stride_h,
        stride_w: o.stride_w,
        pad_top,
        pad_left,
        input_scale,
        input_zero_point,
        output_scale,
        output_zero_point,
        global,
        global_scale: input_scale / (output_scale * cells),
        signed: crate::ir::MLAS_SIGNED_OPS.contains(&cx.name),
    };
    Ok((Kernel::AvgPoolQLinear(params), vec![input.0], 0))
}
