//! The bool-valued and bool-consuming ops: the comparisons (EQUAL, NOT_EQUAL, LESS,
//! LESS_EQUAL, GREATER, GREATER_EQUAL), SELECT_V2, LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT
//! (TFLM's `comparisons.cc`, `select.cc`, `logical.cc`, `elementwise.cc`).
//!
//! Comparisons take int8 (each input rescaled to a common scale as TFLM's
//! `ComparisonsPrepare` does: offset, shifted left by 8, times its scale as a multiplier below
//! one), float32, or bool for EQUAL and NOT_EQUAL; they write bool. SELECT_V2 picks raw int8
//! or float32 values by a bool condition; all three inputs broadcast.

use super::abs_neg::same_type_and_size;
use super::common::Prepared;
use super::shapes::{broadcast, broadcast_dims, broadcast_strides, pad_front, MAX_BROADCAST_RANK};
use crate::ir::{Comparison, DType, Tensor, TensorId};
use crate::prepare::quant::quantize_multiplier_smaller_than_one;
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Validates a comparison and computes its constants.
pub fn compare(cx: &OpCx, op: Comparison) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    let dtype = a.1.dtype;
    let equality = matches!(op, Comparison::Equal | Comparison::NotEqual);
    if !(matches!(dtype, DType::I8 | DType::F32) || (equality && dtype == DType::Bool)) {
        return Err(cx.err(format!(
            "first input {} is {dtype}, but kiln supports only int8 and float32 here{}",
            cx.describe(a.0),
            if equality { " (and bool)" } else { "" }
        )));
    }
    cx.expect_dtype(b, dtype, "second input")?;
    cx.expect_dtype(output, DType::Bool, "output")?;
    let bc = broadcast(cx, a, b, output)?;
    let params = if dtype == DType::I8 {
        const LEFT_SHIFT: i32 = 8;
        let (a_scale, a_zp) = cx.per_tensor(a, "first input")?;
        let (b_scale, b_zp) = cx.per_tensor(b, "second input")?;
        let (m1, s1) = scale_multiplier(cx, a_scale, "first input")?;
        let (m2, s2) = scale_multiplier(cx, b_scale, "second input")?;
        Some(rt::CompareI8 {
            left_shift: LEFT_SHIFT,
            input1_offset: -a_zp,
            input1_multiplier: m1,
            input1_shift: s1,
            input2_offset: -b_zp,
            input2_multiplier: m2,
            input2_shift: s2,
        })
    } else {
        None
    };
    Ok((
        Kernel::Compare {
            op,
            params,
            broadcast: bc,
        },
        vec![a.0, b.0],
        0,
    ))
}

/// TFLite `QuantizeMultiplierSmallerThanOneExp` of an input scale (in double).
fn scale_multiplier(cx: &OpCx, scale: f32, what: &str) -> Result<(i32, i32), ValidateError> {
    quantize_multiplier_smaller_than_one(scale as f64).ok_or_else(|| {
        cx.err(format!(
            "{what} scale {scale} must be below 1 (TFLM's comparison rescaling)"
        ))
    })
}

/// Validates a SELECT_V2.
pub fn select(cx: &OpCx) -> Prepared {
    let condition = cx.input(0, "condition")?;
    let x = cx.input(1, "x")?;
    let y = cx.input(2, "y")?;
    let output = cx.output()?;
    cx.expect_dtype(condition, DType::Bool, "condition")?;
    let dtype = x.1.dtype;
    if !matches!(dtype, DType::I8 | DType::F32) {
        return Err(cx.err(format!(
            "x {} is {dtype}, but kiln supports only int8 and float32 here",
            cx.describe(x.0)
        )));
    }
    cx.expect_dtype(y, dtype, "y")?;
    cx.expect_dtype(output, dtype, "output")?;
    let bc = broadcast3(cx, [condition, x, y], output)?;
    Ok((Kernel::Select(bc), vec![condition.0, x.0, y.0], 0))
}

/// Broadcasting of three inputs to the output: `None` when all shapes are equal.
fn broadcast3(
    cx: &OpCx,
    inputs: [(TensorId, &Tensor); 3],
    (out_id, out): (TensorId, &Tensor),
) -> Result<Option<rt::Broadcast3>, ValidateError> {
    let rank = inputs
        .iter()
        .map(|(_, t)| t.shape.len())
        .chain([out.shape.len()])
        .max()
        .unwrap_or(0);
    let padded: Vec<Vec<usize>> = inputs
        .iter()
        .map(|(_, t)| pad_front(&t.shape, rank))
        .collect();
    let mut dims = vec![1; rank];
    for (k, d) in dims.iter_mut().enumerate() {
        for (shape, (id, t)) in padded.iter().zip(&inputs) {
            match (*d, shape[k]) {
                (_, 1) => {}
                (1, n) => *d = n,
                (m, n) if m == n => {}
                (m, n) => {
                    return Err(cx.err(format!(
                        "input {} {:?} does not broadcast with the others (axis {k}: {n} vs {m})",
                        cx.describe(*id),
                        t.shape
                    )))
                }
            }
        }
    }
    if pad_front(&out.shape, rank) != dims {
        return Err(cx.err(format!(
            "output {} has shape {:?}, but the inputs broadcast to {dims:?}",
            cx.describe(out_id),
            out.shape
        )));
    }
    if padded.iter().all(|s| *s == dims) {
        return Ok(None);
    }
    if rank > MAX_BROADCAST_RANK {
        return Err(cx.err(format!(
            "broadcasting over {rank} dimensions; kiln supports at most {MAX_BROADCAST_RANK}"
        )));
    }
    Ok(Some(rt::Broadcast3 {
        dims: broadcast_dims(&dims),
        strides_condition: broadcast_strides(&padded[0]),
        strides_x: broadcast_strides(&padded[1]),
        strides_y: broadcast_strides(&padded[2]),
    }))
}

/// Validates a LOGICAL_AND (`and`) or LOGICAL_OR.
pub fn logical(cx: &OpCx, and: bool) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    for (t, role) in [(a, "first input"), (b, "second input"), (output, "output")] {
        cx.expect_dtype(t, DType::Bool, role)?;
    }
    let bc = broadcast(cx, a, b, output)?;
    Ok((Kernel::Logical { and, broadcast: bc }, vec![a.0, b.0], 0))
}

/// Validates a LOGICAL_NOT.
pub fn logical_not(cx: &OpCx) -> Prepared {
    let (input, _) = same_type_and_size(cx)?;
    cx.expect_dtype(input, DType::Bool, "input")?;
    Ok((Kernel::LogicalNot, vec![input.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;
    use crate::ir::Comparison;

    fn boolean(shape: &[usize]) -> Tensor {
        Tensor {
            name: String::new(),
            shape: shape.to_vec(),
            dtype: DType::Bool,
            quant: None,
            data: None,
        }
    }

    #[test]
    fn comparison_rules() {
        let less = |a: Tensor, b: Tensor, out: Tensor| {
            run(
                OpKind::Compare(Comparison::Less),
                "LESS",
                vec![a, b, out],
                &[0, 1],
                2,
            )
        };
        let Ok(Kernel::Compare {
            params: Some(p),
            broadcast: Some(_),
            ..
        }) = less(
            int8(&[2, 3], 0.5, 4),
            int8(&[3], 0.25, -2),
            boolean(&[2, 3]),
        )
        else {
            panic!("no int8 LESS")
        };
        assert_eq!((p.left_shift, p.input1_offset, p.input2_offset), (8, -4, 2));
        assert_eq!((p.input1_multiplier, p.input1_shift), (1 << 30, 0));
        assert_eq!((p.input2_multiplier, p.input2_shift), (1 << 30, -1));
        let err = less(int8(&[3], 0.5, 0), int8(&[3], 0.5, 0), int8(&[3], 0.5, 0)).unwrap_err();
        assert!(err.contains("only bool"), "{err}");
        let err = less(boolean(&[3]), boolean(&[3]), boolean(&[3])).unwrap_err();
        assert!(err.contains("only int8 and float32"), "{err}");
        let equal = run(
            OpKind::Compare(Comparison::Equal),
            "EQUAL",
            vec![boolean(&[3]), boolean(&[3]), boolean(&[3])],
            &[0, 1],
            2,
        );
        assert!(
            matches!(equal, Ok(Kernel::Compare { params: None, .. })),
            "{equal:?}"
        );
    }

    #[test]
    fn select_broadcasts_three_inputs() {
        let select = |c: &[usize], x: &[usize], y: &[usize], out: &[usize]| {
            run(
                OpKind::SelectV2,
                "SELECT_V2",
                vec![
                    boolean(c),
                    int8(x, 0.1, 0),
                    int8(y, 0.1, 0),
                    int8(out, 0.1, 0),
                ],
                &[0, 1, 2],
                3,
            )
        };
        assert!(matches!(
            select(&[2, 3], &[2, 3], &[2, 3], &[2, 3]),
            Ok(Kernel::Select(None))
        ));
        let Ok(Kernel::Select(Some(bc))) = select(&[2, 1], &[3], &[1], &[2, 3]) else {
            panic!("no broadcast")
        };
        assert_eq!(bc.dims, [1, 1, 1, 1, 2, 3]);
        assert_eq!(bc.strides_condition, [0, 0, 0, 0, 1, 0]);
        assert_eq!(bc.strides_x, [0, 0, 0, 0, 0, 1]);
        assert_eq!(bc.strides_y, [0; 6]);
        let err = select(&[2, 2], &[3], &[1], &[2, 3]).unwrap_err();
        assert!(err.contains("does not broadcast"), "{err}");
        let err = select(&[2, 1], &[3], &[1], &[3, 3]).unwrap_err();
        assert!(err.contains("broadcast to [2, 3]"), "{err}");
    }
}
