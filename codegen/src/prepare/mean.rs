//! MEAN: int8 or int16 over any axes of an up to 6-D input (TFLM `EvalIntegerMean`; the oracle
//! reduces 3 and 4 axes and 6-D inputs too, so kiln does not keep older TFLM limits), and
//! SUM: int8 or int16 the same way without the division by the count (TFLM `EvalSumHelper`,
//! `QuantizedMeanOrSum` with `compute_sum`), float32 summed in input order from 0 (reference
//! `ReduceGeneric`). Float32 MEAN sums the same way, then divides by the count as a float
//! (reference `Mean`).
//!
//! The pinned TFLM runs `QuantizedMeanOrSum` for every int8 MEAN — also when input and
//! output are quantized alike (older versions used a truncating integer mean there; the
//! `mean_hw_keep_dims` fixture shows the oracle rounds): the int32 sum minus
//! `count * input_zero_point`, times `input_scale / output_scale` with `1 / count` folded
//! into the multiplier.

use super::common::Prepared;
use super::reduce_min_max::reduce_params;
use super::shapes::{expect_same_dtype, reduction_axes, strides};
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Most input dimensions (kiln's kernel; TFLM's `RuntimeShape` small size).
const MAX_RANK: usize = 6;

/// Validates a MEAN and computes its constants.
pub fn prepare(cx: &OpCx, keep_dims: bool) -> Prepared {
    let input = cx.input(0, "input")?;
    if input.1.dtype == DType::F32 {
        let params = float_reduction(cx, keep_dims)?;
        return Ok((Kernel::MeanF32(params), vec![input.0], 0));
    }
    let params = quantized_mean_or_sum(cx, keep_dims, false)?;
    let kernel = if input.1.dtype == DType::I16 {
        Kernel::MeanI16(params)
    } else {
        Kernel::Mean(params)
    };
    Ok((kernel, vec![input.0], 0))
}

/// Validates a SUM and computes its constants.
pub fn sum(cx: &OpCx, keep_dims: bool) -> Prepared {
    let input = cx.input(0, "input")?;
    if input.1.dtype == DType::F32 {
        let params = float_reduction(cx, keep_dims)?;
        return Ok((Kernel::SumF32(params), vec![input.0], 0));
    }
    let params = quantized_mean_or_sum(cx, keep_dims, true)?;
    let kernel = if input.1.dtype == DType::I16 {
        Kernel::MeanI16(params)
    } else {
        Kernel::Sum(params)
    };
    Ok((kernel, vec![input.0], 0))
}

/// The walk of a float32 MEAN or SUM: which input elements each output sums.
fn float_reduction(cx: &OpCx, keep_dims: bool) -> Result<rt::Reduce, ValidateError> {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(output, DType::F32, "output")?;
    let (axes, kept) = reduction_axes(cx, input, output, keep_dims, MAX_RANK)?;
    Ok(reduce_params(&input.1.shape, axes, &kept))
}

/// TFLM's `QuantizedMeanOrSum` constants: the sum's walk, zero points, and
/// `input_scale / output_scale` (divided by the count for a mean).
fn quantized_mean_or_sum(cx: &OpCx, keep_dims: bool, sum: bool) -> Result<rt::Mean, ValidateError> {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, input, output, &[DType::I8, DType::I16])?;
    let (axes, kept) = reduction_axes(cx, input, output, keep_dims, MAX_RANK)?;
    let shape = &input.1.shape;
    let count: usize = axes.iter().map(|&k| shape[k]).product();
    if count == 0 || count > i32::MAX as usize {
        return Err(cx.err(format!("reduces {count} elements per output")));
    }
    let in_strides = strides(shape);
    let mut outer_dims = [1; MAX_RANK];
    let mut outer_strides = [0; MAX_RANK];
    for (slot, &k) in (MAX_RANK - kept.len()..).zip(&kept) {
        outer_dims[slot] = shape[k];
        outer_strides[slot] = in_strides[k];
    }
    let mut inner_dims = [1; MAX_RANK];
    let mut inner_strides = [0; MAX_RANK];
    for (slot, &k) in (MAX_RANK - axes.len()..).zip(&axes) {
        inner_dims[slot] = shape[k];
        inner_strides[slot] = in_strides[k];
    }

    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let (multiplier, shift) = cx.multiplier(in_scale as f64 / out_scale as f64, "output")?;
    // For a mean, QuantizedMeanOrSum folds 1 / count into the multiplier: shift =
    // floor(log2(count)), clamped to keep `output_shift - shift >= -31`.
    let log2 = 63 - (count as u64).leading_zeros() as i32;
    let (multiplier, s) = if sum {
        (multiplier, 0)
    } else {
        let s = log2.min(32).min(31 + shift);
        ((((multiplier as i64) << s) / count as i64) as i32, s)
    };
    let shift = shift - s;
    if !(-31..=30).contains(&shift) {
        return Err(cx.err(format!("mean multiplier shift {shift} is out of range")));
    }
    let params = rt::Mean {
        outer_dims,
        outer_strides,
        inner_dims,
        inner_strides,
        count: count as i32,
        input_zero_point: in_zp,
        multiplier,
        shift,
        output_zero_point: out_zp,
    };
    Ok(params)
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn mean_axes_and_output_shape() {
        let mean = |axes: &[i32], out: &[usize]| {
            run(
                OpKind::Mean { keep_dims: false },
                "MEAN",
                vec![int8(&[2, 3, 4], 0.1, 0), const_i32(axes), int8(out, 0.1, 0)],
                &[0, 1],
                2,
            )
        };
        assert!(mean(&[1, -1], &[2]).is_ok());
        assert!(mean(&[1, 1], &[2, 4]).is_ok()); // duplicates dropped
        let err = mean(&[3], &[2, 3]).unwrap_err();
        assert!(err.contains("out of range"), "{err}");
        // the output shape is not checked beyond its size (TFLM writes the same bytes)
        assert!(mean(&[0], &[4, 3]).is_ok());
        let err = mean(&[0], &[3, 5]).unwrap_err();
        assert!(err.contains("gives [3, 4]"), "{err}");
    }
}
