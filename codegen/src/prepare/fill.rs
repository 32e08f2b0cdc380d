//! FILL (int8, float32, int32: the scalar input 1 everywhere; TFLM `fill.cc`, which needs
//! constant dims) and ZEROS_LIKE (int8, float32, int32: raw zeros, not the zero point; TFLM
//! `zeros_like.cc`).

use super::common::Prepared;
use super::movement::expect_shape;
use super::shapes::const_i32;
use super::shapes::expect_same_dtype;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// The element types FILL and ZEROS_LIKE write here.
const TYPES: [DType; 3] = [DType::I8, DType::F32, DType::I32];

/// Validates a FILL: constant int32 dims (input 0, TFLM refuses others) equal to the output
/// shape, a scalar value (input 1) of the output's type, constant or computed.
pub fn fill(cx: &OpCx) -> Prepared {
    let value = cx.input(1, "value")?;
    let output = cx.output()?;
    expect_same_dtype(cx, value, output, &TYPES)?;
    if !value.1.shape.is_empty() {
        return Err(cx.err(format!(
            "value {} must be a scalar, has shape {:?}",
            cx.describe(value.0),
            value.1.shape
        )));
    }
    let (dims_id, dims_t, dims) = const_i32(cx, 0, "dims")?;
    if dims_t.shape.len() != 1 {
        return Err(cx.err(format!("dims {} must be a vector", cx.describe(dims_id))));
    }
    let wanted: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
    expect_shape(cx, output, &wanted, "the dims input")?;
    Ok((Kernel::Fill, vec![value.0], 0))
}

/// Validates a ZEROS_LIKE: output shaped and typed like the input, which is not read.
pub fn zeros_like(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, input, output, &TYPES)?;
    expect_shape(cx, output, &input.1.shape, "ZEROS_LIKE")?;
    Ok((Kernel::Zeros, vec![], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn fill_and_zeros_like_rules() {
        // A value computed at run time (a graph input here).
        let value = float(&[]);
        let fill = |dims: &[i32], value: Tensor, out: Tensor| {
            run(
                OpKind::Fill,
                "FILL",
                vec![const_i32(dims), value, out],
                &[0, 1],
                2,
            )
        };
        assert_eq!(
            fill(&[2, 3], value.clone(), float(&[2, 3])),
            Ok(Kernel::Fill)
        );
        assert!(fill(&[2, 3], value.clone(), float(&[3, 2]))
            .unwrap_err()
            .contains("gives [2, 3]"));
        assert!(fill(&[2, 3], float(&[1]), float(&[2, 3]))
            .unwrap_err()
            .contains("scalar"));
        let dims_computed = run(
            OpKind::Fill,
            "FILL",
            vec![int32(&[2]), float(&[]), float(&[2, 3])],
            &[0, 1],
            2,
        );
        assert!(dims_computed.unwrap_err().contains("constant"));
        let zeros = run(
            OpKind::ZerosLike,
            "ZEROS_LIKE",
            vec![int32(&[4]), int32(&[4])],
            &[0],
            1,
        );
        assert_eq!(zeros, Ok(Kernel::Zeros));
    }
}
