//! REDUCE_MAX and REDUCE_MIN: int8 or float32 over any axes of an up to 6-D input (TFLM's
//! `PrepareMinMax`, `EvalMaxHelper`/`EvalMinHelper`, reference `ReduceGeneric`). For int8
//! TFLM requires the output quantized exactly like the input (it compares raw values and
//! does not rescale); kiln refuses any other quantization.

use super::common::Prepared;
use super::shapes::{reduction_axes, strides};
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Most input dimensions (kiln's kernel).
const MAX_RANK: usize = 6;

/// Validates a REDUCE_MAX (`maximum`) or REDUCE_MIN.
pub fn prepare(cx: &OpCx, keep_dims: bool, maximum: bool) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    let dtype = input.1.dtype;
    if !matches!(dtype, DType::I8 | DType::F32) {
        return Err(cx.err(format!(
            "input {} is {dtype}, but kiln supports only int8 and float32 here",
            cx.describe(input.0)
        )));
    }
    cx.expect_dtype(output, dtype, "output")?;
    if dtype == DType::I8 {
        let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
        let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
        if in_scale != out_scale || in_zp != out_zp {
            return Err(cx.err(format!(
                "input {} is quantized (scale {in_scale}, zero point {in_zp}), output {} (scale {out_scale}, zero point {out_zp}); TFLM's int8 {} requires them equal",
                cx.describe(input.0),
                cx.describe(output.0),
                cx.name
            )));
        }
    }
    let (axes, kept) = reduction_axes(cx, input, output, keep_dims, MAX_RANK)?;
    let params = reduce_params(&input.1.shape, axes, &kept);
    Ok((Kernel::Reduce { params, maximum }, vec![input.0], 0))
}

/// The walk of a reduction of `shape` over `axes`, keeping `kept`: the reduced axes in input
/// order, as TFLM's loop over the input visits them (which a float sum's rounding follows).
pub fn reduce_params(shape: &[usize], mut axes: Vec<usize>, kept: &[usize]) -> rt::Reduce {
    axes.sort_unstable();
    let in_strides = strides(shape);
    let mut params = rt::Reduce {
        kept_dims: [1; MAX_RANK],
        kept_strides: [0; MAX_RANK],
        reduced_dims: [1; MAX_RANK],
        reduced_strides: [0; MAX_RANK],
        reduced_count: axes.iter().map(|&k| shape[k]).product(),
    };
    for (slot, &k) in (MAX_RANK - kept.len()..).zip(kept) {
        params.kept_dims[slot] = shape[k];
        params.kept_strides[slot] = in_strides[k];
    }
    for (slot, &k) in (MAX_RANK - axes.len()..).zip(&axes) {
        params.reduced_dims[slot] = shape[k];
        params.reduced_strides[slot] = in_strides[k];
    }
    params
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn reduce_max_quantization_and_axes() {
        let reduce = |axes: &[i32], out: &[usize], out_zp: i64| {
            run(
                OpKind::ReduceMax { keep_dims: false },
                "REDUCE_MAX",
                vec![
                    int8(&[2, 3, 4], 0.1, 0),
                    const_i32(axes),
                    int8(out, 0.1, out_zp),
                ],
                &[0, 1],
                2,
            )
        };
        let Ok(Kernel::Reduce { params, maximum }) = reduce(&[-1, 0], &[3], 0) else {
            panic!("not a reduction")
        };
        assert!(maximum);
        assert_eq!(params.reduced_count, 8);
        assert_eq!(params.reduced_strides[4..], [12, 1]);
        let err = reduce(&[1], &[2, 4], 3).unwrap_err();
        assert!(err.contains("requires them equal"), "{err}");
        let err = reduce(&[3], &[2, 3], 0).unwrap_err();
        assert!(err.contains("out of range"), "{err}");
        let err = reduce(&[1], &[2, 3], 0).unwrap_err();
        assert!(err.contains("gives [2, 4]"), "{err}");
    }
}
