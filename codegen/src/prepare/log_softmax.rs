//! LOG_SOFTMAX over the last dimension (TFLM's `log_softmax.cc`). Float32: reference
//! `LogSoftmax`, `x - max - log(Σ exp(x - max))` summed in order. Int8: TFLM's fixed-point
//! `LogSoftmaxQuantized` with the output fixed at scale 16/256, zero point 127 (TFLM's
//! `Prepare` requires it) and beta 1; the scaling constants are SOFTMAX's
//! (`PreprocessLogSoftmaxScalingExp`) plus the inverse scaling, formed in double.

use super::common::Prepared;
use super::l2_normalization::rows_of;
use super::softmax::diff_scaling;
use crate::ir::DType;
use crate::prepare::quant::quantize_multiplier_smaller_than_one;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a LOG_SOFTMAX and computes its constants.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    let dtype = input.1.dtype;
    if !matches!(dtype, DType::I8 | DType::F32) {
        return Err(cx.err(format!(
            "input {} is {dtype}; TFLM's LOG_SOFTMAX supports only int8 and float32",
            cx.describe(input.0)
        )));
    }
    cx.expect_dtype(output, dtype, "output")?;
    let rows = rows_of(cx)?;
    if dtype == DType::F32 {
        return Ok((Kernel::LogSoftmaxF32(rows), vec![input.0], 0));
    }
    let (in_scale, _) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    if out_scale != 16.0 / 256.0 || out_zp != 127 {
        return Err(cx.err(format!(
            "int8 output must have scale 16/256 and zero point 127 (TFLM), has scale {out_scale} and zero point {out_zp}"
        )));
    }
    let (input_multiplier, input_left_shift, diff_min) = diff_scaling(cx, 1.0, in_scale)?;
    let reverse = (1i64 << (31 - input_left_shift)) as f64 / input_multiplier as f64;
    let (reverse_scaling_divisor, reverse_left_shift) =
        quantize_multiplier_smaller_than_one(reverse).ok_or_else(|| {
            cx.err(format!(
                "inverse input scaling {reverse} must be below 1 (input scale {in_scale})"
            ))
        })?;
    let params = rt::LogSoftmax {
        shape: rows,
        input_multiplier,
        input_left_shift,
        reverse_scaling_divisor,
        reverse_scaling_right_shift: -reverse_left_shift,
        diff_min,
    };
    Ok((Kernel::LogSoftmax(params), vec![input.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn int8_output_is_fixed() {
        let log_softmax = |out_scale: f32, out_zp: i64| {
            run(
                OpKind::LogSoftmax,
                "LOG_SOFTMAX",
                vec![int8(&[2, 8], 0.1, 3), int8(&[2, 8], out_scale, out_zp)],
                &[0],
                1,
            )
        };
        let Ok(Kernel::LogSoftmax(p)) = log_softmax(16.0 / 256.0, 127) else {
            panic!("no int8 LOG_SOFTMAX")
        };
        assert_eq!((p.shape.rows, p.shape.depth), (2, 8));
        assert!(
            p.diff_min < 0 && p.reverse_scaling_right_shift >= 0,
            "{p:?}"
        );
        let err = log_softmax(16.0 / 256.0, 0).unwrap_err();
        assert!(err.contains("16/256 and zero point 127"), "{err}");
    }
}
