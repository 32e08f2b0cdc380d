//! PRELU: int8 or float32, `alpha` (input 1, usually a constant per channel) broadcast to the
//! input, up to 4-D (TFLM's `prelu.cc`, `CalculatePreluParams`, reference
//! `BroadcastPrelu4DSlow`). Int8 rescales non-negative inputs by `input_scale / output_scale`
//! and negative ones, times alpha, by `input_scale * alpha_scale / output_scale`, both
//! formed in double.

use super::common::Prepared;
use super::shapes::broadcast;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's PRELU kernels walk 4-D shapes.
const MAX_RANK: usize = 4;

/// Validates a PRELU and computes its constants.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let alpha = cx.input(1, "alpha")?;
    let output = cx.output()?;
    let dtype = input.1.dtype;
    if !matches!(dtype, DType::I8 | DType::F32) {
        return Err(cx.err(format!(
            "input {} is {dtype}, but kiln supports only int8 and float32 here",
            cx.describe(input.0)
        )));
    }
    cx.expect_dtype(alpha, dtype, "alpha")?;
    cx.expect_dtype(output, dtype, "output")?;
    let rank = input.1.shape.len().max(alpha.1.shape.len());
    if rank > MAX_RANK {
        return Err(cx.err(format!(
            "has rank-{rank} tensors; TFLM's PRELU supports at most {MAX_RANK} dimensions"
        )));
    }
    let bc = broadcast(cx, input, alpha, output)?;
    let inputs = vec![input.0, alpha.0];
    if dtype == DType::F32 {
        return Ok((Kernel::PreluF32(bc), inputs, 0));
    }
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (alpha_scale, alpha_zp) = cx.per_tensor(alpha, "alpha")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let (multiplier_1, shift_1) = cx.multiplier(in_scale as f64 / out_scale as f64, "output")?;
    let (multiplier_2, shift_2) = cx.multiplier(
        in_scale as f64 * alpha_scale as f64 / out_scale as f64,
        "alpha",
    )?;
    let params = rt::Prelu {
        input_offset: -in_zp,
        alpha_offset: -alpha_zp,
        output_offset: out_zp,
        multiplier_1,
        shift_1,
        multiplier_2,
        shift_2,
    };
    Ok((Kernel::Prelu(params, bc), inputs, 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn prelu_types_ranks_and_constants() {
        let prelu = |input: Tensor, alpha: Tensor, out: Tensor| {
            run(OpKind::Prelu, "PRELU", vec![input, alpha, out], &[0, 1], 2)
        };
        let Ok(Kernel::Prelu(p, Some(bc))) = prelu(
            int8(&[1, 2, 3], 0.5, 3),
            int8(&[3], 0.25, -1),
            int8(&[1, 2, 3], 0.5, 0),
        ) else {
            panic!("no int8 PRELU")
        };
        assert_eq!(
            (p.input_offset, p.alpha_offset, p.output_offset),
            (-3, 1, 0)
        );
        // 0.5 / 0.5 = 2^0 · 0.5 ·2, 0.5 · 0.25 / 0.5 = 0.25
        assert_eq!((p.multiplier_1, p.shift_1), (1 << 30, 1));
        assert_eq!((p.multiplier_2, p.shift_2), (1 << 30, -1));
        assert_eq!(bc.strides2, [0, 0, 0, 0, 0, 1]);
        let err = prelu(
            int8(&[1, 1, 2, 2, 3], 0.5, 0),
            int8(&[3], 0.25, 0),
            int8(&[1, 1, 2, 2, 3], 0.5, 0),
        )
        .unwrap_err();
        assert!(err.contains("at most 4"), "{err}");
        let mut alpha = int8(&[3], 0.25, 0);
        alpha.dtype = DType::F32;
        alpha.quant = None;
        let err = prelu(int8(&[2, 3], 0.5, 0), alpha, int8(&[2, 3], 0.5, 0)).unwrap_err();
        assert!(err.contains("alpha"), "{err}");
    }
}
