//! The int8 convolutions and fully connected layers of a graph that follows onnxruntime's
//! arithmetic ([`crate::ir::Arithmetic::Onnxruntime`]): QLinearConv and QGemm, whose int32
//! accumulators are requantized by a float32 scale per output channel, and QLinearAdd.

use super::common::{expect_symmetric, Prepared};
use crate::ir::{Activation, DType, Tensor, TensorId};
use crate::layer::WeightsQLinear;
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
    let weights = WeightsQLinear {
        filter: filter.1.data.clone().unwrap_or_default(),
        bias,
        scales,
    };
    Ok((Kernel::ConvQLinear(params, weights), vec![input.0], macs))
}

/// Validates an int8 ADD of equal shapes and computes onnxruntime's QLinearAdd constants
/// (MLAS: the ratios divided and the offset multiplied and added in float32).
pub fn add(cx: &OpCx, activation: Activation) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    for (t, role) in [(a, "first input"), (b, "second input"), (output, "output")] {
        cx.expect_dtype(t, DType::I8, role)?;
    }
    if a.1.shape != b.1.shape || a.1.shape != output.1.shape {
        return Err(cx.err(format!(
            "shapes {:?} + {:?} -> {:?}: kiln adds equal shapes only in onnxruntime's arithmetic",
            a.1.shape, b.1.shape, output.1.shape
        )));
    }
    if activation != Activation::None {
        return Err(cx.err(format!("fused activation {activation:?} is not supported")));
    }
    let (a_scale, a_zp) = cx.per_tensor(a, "first input")?;
    let (b_scale, b_zp) = cx.per_tensor(b, "second input")?;
    let (c_scale, c_zp) = cx.per_tensor(output, "output")?;
    let a_ratio = a_scale / c_scale;
    let b_ratio = b_scale / c_scale;
    let params = rt::AddQLinear {
        a_ratio,
        b_ratio,
        offset: c_zp as f32 - (a_ratio * a_zp as f32 + b_ratio * b_zp as f32),
    };
    let elements = output.1.elements() as u64;
    Ok((Kernel::AddQLinear(params), vec![a.0, b.0], elements))
}
