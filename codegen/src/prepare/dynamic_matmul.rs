//! onnxruntime's `DynamicQuantizeMatMul` (what `quantize_dynamic` writes for MatMul and
//! Gemm): float32 input and output, int8 weights quantized per tensor or per output column,
//! the input's quantization computed at run time.

use super::common::{expect_symmetric, float_bias, Prepared};
use crate::ir::DType;
use crate::layer::WeightsDynamic;
use crate::prepare::{Kernel, OpCx};
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
    let filter = weights
        .1
        .data
        .clone()
        .ok_or_else(|| cx.err("its weights must be constant"))?;
    let bias = float_bias(cx, 2, cols)?
        .map(|bytes| {
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .unwrap_or_default();
    let params = rt::DynamicMatMul { rows, depth, cols };
    let w = WeightsDynamic {
        filter,
        scales: wq.scales.clone(),
        bias,
    };
    let macs = (rows * depth * cols) as u64;
    Ok((
        Kernel::DynamicQuantizeMatMul(params, w),
        vec![input.0],
        macs,
    ))
}
