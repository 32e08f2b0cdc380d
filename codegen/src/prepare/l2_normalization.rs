//! L2_NORMALIZATION over the last dimension: int8 or float32, at most 4-D, no fused
//! activation (TFLM's `l2norm.cc`). Int8 works in TFLite's integer inverse square root and
//! writes Q0.7 (scale 1/128, zero point 0) whatever the output tensor's quantization says, as
//! TFLM does (its `Prepare` does not look at it); float32 divides by `max(sqrt(Σx²), 1e-6)`.

use super::common::Prepared;
use crate::ir::{Activation, DType};
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's `Prepare`: `NumDimensions(input) <= 4`.
const MAX_RANK: usize = 4;

/// Validates an L2_NORMALIZATION.
pub fn prepare(cx: &OpCx, activation: Activation) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    let dtype = input.1.dtype;
    if !matches!(dtype, DType::I8 | DType::F32) {
        return Err(cx.err(format!(
            "input {} is {dtype}; TFLM's L2_NORMALIZATION supports only int8 and float32",
            cx.describe(input.0)
        )));
    }
    cx.expect_dtype(output, dtype, "output")?;
    if input.1.shape.len() > MAX_RANK {
        return Err(cx.err(format!(
            "input {} has rank {}; TFLM supports at most {MAX_RANK}",
            cx.describe(input.0),
            input.1.shape.len()
        )));
    }
    if activation != Activation::None {
        return Err(cx.err(format!(
            "fused activation {activation:?}; TFLM's L2_NORMALIZATION supports only none"
        )));
    }
    let rows = rows_of(cx)?;
    if dtype == DType::F32 {
        return Ok((Kernel::L2NormalizationF32(rows), vec![input.0], 0));
    }
    let (_, input_zero_point) = cx.per_tensor(input, "input")?;
    Ok((
        Kernel::L2Normalization {
            rows,
            input_zero_point,
        },
        vec![input.0],
        0,
    ))
}

/// The rows of an op over the last dimension, input and output shapes equal.
pub fn rows_of(cx: &OpCx) -> Result<rt::Rows, crate::prepare::ValidateError> {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    if input.1.shape != output.1.shape {
        return Err(cx.err(format!(
            "input {} {:?} and output {} {:?} differ in shape",
            cx.describe(input.0),
            input.1.shape,
            cx.describe(output.0),
            output.1.shape
        )));
    }
    let depth = *input.1.shape.last().unwrap_or(&1);
    Ok(rt::Rows {
        rows: input.1.elements() / depth.max(1),
        depth,
    })
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;
    use crate::ir::Activation;

    #[test]
    fn l2_normalization_rules() {
        let l2 = |activation: Activation, input: Tensor, output: Tensor| {
            run(
                OpKind::L2Normalization { activation },
                "L2_NORMALIZATION",
                vec![input, output],
                &[0],
                1,
            )
        };
        // Any output quantization: TFLM writes Q0.7.
        let ok = l2(
            Activation::None,
            int8(&[2, 5], 0.1, 3),
            int8(&[2, 5], 0.3, 9),
        );
        assert!(
            matches!(
                ok,
                Ok(Kernel::L2Normalization {
                    rows: crate::runtime::Rows { rows: 2, depth: 5 },
                    input_zero_point: 3
                })
            ),
            "{ok:?}"
        );
        let err = l2(
            Activation::Relu,
            int8(&[2, 5], 0.1, 3),
            int8(&[2, 5], 0.3, 9),
        )
        .unwrap_err();
        assert!(err.contains("supports only none"), "{err}");
        let err = l2(
            Activation::None,
            int8(&[1, 1, 1, 2, 5], 0.1, 3),
            int8(&[1, 1, 1, 2, 5], 0.3, 9),
        )
        .unwrap_err();
        assert!(err.contains("at most 4"), "{err}");
    }
}
