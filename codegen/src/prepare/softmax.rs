//! SOFTMAX: int8 in, int8 out (scale 1/256, zero point -128), TFLM's fixed-point exp.

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::quant::quantize_multiplier_greater_than_one;
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Integer bits of the scaled input difference (gemmlowp Q5.26).
const SCALED_DIFF_INTEGER_BITS: i32 = 5;

/// Validates a SOFTMAX and computes its constants (TFLM `CalculateSoftmaxParams`).
pub fn prepare(cx: &OpCx, beta: f32) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    let dtype = if input.1.dtype == DType::F32 {
        DType::F32
    } else {
        DType::I8
    };
    cx.expect_dtype(input, dtype, "input")?;
    cx.expect_dtype(output, dtype, "output")?;
    if input.1.shape != output.1.shape {
        return Err(cx.err("input and output shapes differ"));
    }
    let depth = *input.1.shape.last().unwrap_or(&1);
    let rows = input.1.elements() / depth.max(1);
    if dtype == DType::F32 {
        let params = rt::SoftmaxF32 { rows, depth, beta };
        return Ok((Kernel::SoftmaxF32(params), vec![input.0], 0));
    }
    let (in_scale, _) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    if out_zp != -128 || out_scale != 1.0 / 256.0 {
        return Err(cx.err(format!(
            "int8 output must have scale 1/256 and zero point -128, has scale {out_scale} and zero point {out_zp}"
        )));
    }
    if !(beta.is_finite() && beta > 0.0) {
        return Err(cx.err(format!("beta {beta} must be positive")));
    }
    let (input_multiplier, input_left_shift, diff_min) = diff_scaling(cx, beta, in_scale)?;
    let params = rt::Softmax {
        rows,
        depth,
        input_multiplier,
        input_left_shift,
        diff_min,
    };
    Ok((Kernel::Softmax(params), vec![input.0], 0))
}

/// TFLite's `PreprocessSoftmaxScaling` and `CalculateInputRadius` (SOFTMAX, LOG_SOFTMAX):
/// `beta * input_scale` as a Q5.26 multiplier (capped below 2^31) with its left shift, and
/// `diff_min`, below which a difference from the row maximum contributes nothing.
pub(crate) fn diff_scaling(
    cx: &OpCx,
    beta: f32,
    in_scale: f32,
) -> Result<(i32, i32, i32), ValidateError> {
    let real = (beta as f64 * in_scale as f64 * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64)
        .min((1i64 << 31) as f64 - 1.0);
    let (input_multiplier, input_left_shift) = quantize_multiplier_greater_than_one(real)
        .ok_or_else(|| {
            cx.err(format!(
                "beta × input scale = {} is too small",
                beta * in_scale
            ))
        })?;
    let max_input_rescaled = ((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) as f64
        * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64
        / (1i64 << input_left_shift) as f64;
    let diff_min = -(max_input_rescaled.floor() as i32);
    Ok((input_multiplier, input_left_shift, diff_min))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn softmax_output_scale_must_be_one_over_256() {
        let mut m = tiny_kws();
        let out = op_output(&m, 5);
        m.tensors[out].quantization = Some(Quantization::per_tensor(1.0 / 128.0, -128));
        let msg = expect_invalid(
            &serialize(&m),
            5,
            "SOFTMAX",
            &["scale 1/256 and zero point -128", "has scale 0.0078125"],
        );
        assert!(msg.contains("zero point -128"), "{msg}");
    }

    #[test]
    fn softmax_output_zero_point_must_be_minus_128() {
        let mut m = tiny_kws();
        let out = op_output(&m, 5);
        m.tensors[out].quantization = Some(Quantization::per_tensor(1.0 / 256.0, 0));
        expect_invalid(
            &serialize(&m),
            5,
            "SOFTMAX",
            &["scale 1/256 and zero point -128", "and zero point 0"],
        );
    }
}
