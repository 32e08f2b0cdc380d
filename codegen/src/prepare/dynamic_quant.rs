//! What `quantize_dynamic` writes, as onnxruntime runs it: `DynamicQuantizeMatMul` (MatMul
//! and Gemm; int8 weights per tensor or per output column) and the ConvInteger chain (uint8
//! weights with a zero point); float32 input and output, the input's quantization computed
//! at run time.

use super::common::{expect_symmetric, float_bias, Prepared};
use crate::ir::{DType, Tensor, TensorId};
use crate::layer::WeightsDynamic;
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Validates a DynamicQuantizeMatMul (input `rows × depth`, weights `depth × cols`) and
/// collects its weights, weight scales and bias.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let weights = cx.input(1, "weights")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::F32, "input")?;
    cx.expect_dtype(weights, DType::I8, "weights")?;
    cx.expect_dtype(output, DType::F32, "output")?;
    let [depth, cols] = weights.1.shape[..] else {
        return Err(cx.err("its weights must be a matrix"));
    };
    let in_shape = &input.1.shape;
    if in_shape.last() != Some(&depth) || depth == 0 || cols == 0 {
        return Err(cx.err(format!(
            "input {in_shape:?} does not match weights of {depth}×{cols}"
        )));
    }
    let rows = input.1.elements() / depth;
    if output.1.elements() != rows * cols {
        return Err(cx.err(format!("output {:?} is not {rows}×{cols}", output.1.shape)));
    }
    let wq = cx.weight_scales(weights, 1, cols)?;
    expect_symmetric(cx, weights.0, &wq.zero_points)?;
    let params = rt::DynamicMatMul { rows, depth, cols };
    let w = dynamic_weights(cx, weights, wq.scales.clone(), cols)?;
    let macs = (rows * depth * cols) as u64;
    Ok((
        Kernel::DynamicQuantizeMatMul(params, w),
        vec![input.0],
        macs,
    ))
}

/// Validates a DynamicQuantizeConv (NHWC float32 input and output, uint8 HWIO weights with a
/// per-tensor zero point, one group) and collects its constants.
pub fn conv(cx: &OpCx, o: &crate::ir::DynamicConvOptions) -> Prepared {
    let input = cx.input(0, "input")?;
    let weights = cx.input(1, "weights")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::F32, "input")?;
    cx.expect_dtype(weights, DType::U8, "weights")?;
    cx.expect_dtype(output, DType::F32, "output")?;
    let (&[batches, in_h, in_w, in_c], &[k_h, k_w, k_c, out_c], &[ob, out_h, out_w, oc]) = (
        &input.1.shape[..],
        &weights.1.shape[..],
        &output.1.shape[..],
    ) else {
        return Err(cx.err("input, weights and output must be 4-D"));
    };
    if k_c != in_c || oc != out_c || ob != batches {
        return Err(cx.err("input, weights and output shapes do not agree"));
    }
    let wq = cx.weight_scales(weights, 3, out_c)?;
    if !wq.is_per_tensor() {
        return Err(cx.err("its weights must be quantized per tensor"));
    }
    let shape = rt::ConvShape {
        batches,
        in_h,
        in_w,
        in_c,
        out_h,
        out_w,
        out_c,
        k_h,
        k_w,
        k_c,
        stride_h: o.strides[0],
        stride_w: o.strides[1],
        dilation_h: o.dilations[0],
        dilation_w: o.dilations[1],
        pad_top: o.pad_top_left[0],
        pad_left: o.pad_top_left[1],
        depth_multiplier: 1,
    };
    let params = rt::DynamicConv {
        shape,
        weight_zero_point: wq.zero_points[0] as i32,
    };
    let w = dynamic_weights(cx, weights, wq.scales.clone(), out_c)?;
    let macs = (batches * out_h * out_w * out_c * k_h * k_w * in_c) as u64;
    Ok((Kernel::DynamicQuantizeConv(params, w), vec![input.0], macs))
}

/// The constant weights (`weights`' bytes), their `scales` and the optional float32 bias
/// (input 2, `outputs` long; empty when absent) of a dynamically quantized layer.
fn dynamic_weights(
    cx: &OpCx,
    weights: (TensorId, &Tensor),
    scales: Vec<f32>,
    outputs: usize,
) -> Result<WeightsDynamic, ValidateError> {
    let filter = weights
        .1
        .data
        .clone()
        .ok_or_else(|| cx.err("its weights must be constant"))?;
    let bias = float_bias(cx, 2, outputs)?
        .map(|bytes| {
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .unwrap_or_default();
    Ok(WeightsDynamic {
        filter,
        scales,
        bias,
    })
}
