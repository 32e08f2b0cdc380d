//! ADD, MUL and DIV on int32 tensors without quantization (TFLM's reference `Add`, `Mul`,
//! `Div` templates on `int32_t`, numpy-style broadcasting): `a + b` and `a * b` wrap as the
//! C++ kernels do on two's complement machines; `a / b` truncates towards zero. The result is
//! clamped to the activation range TFLM computes for int32 (`CalculateActivationRange`), except
//! for ADD, whose int32 kernel always uses the whole int32 range.

use super::common::Prepared;
use super::shapes::broadcast;
use crate::ir::{Activation, DType};
use crate::layer::IntOp;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates an int32 ADD, MUL or DIV (the caller saw an int32 output).
pub fn prepare(cx: &OpCx, op: IntOp, activation: Activation) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    for (t, role) in [(a, "first input"), (b, "second input"), (output, "output")] {
        cx.expect_dtype(t, DType::I32, role)?;
        if t.1.quant.is_some() {
            return Err(cx.err(format!(
                "{role} {} is quantized; TFLM's int32 {} takes unquantized tensors only",
                cx.describe(t.0),
                cx.name
            )));
        }
    }
    // BroadcastAdd4DSlow / BroadcastMul4DSlow handle 4 dimensions, BroadcastDivSlow 5.
    let max_rank = if op == IntOp::Div { 5 } else { 4 };
    let rank =
        a.1.shape
            .len()
            .max(b.1.shape.len())
            .max(output.1.shape.len());
    if rank > max_rank {
        return Err(cx.err(format!(
            "has rank-{rank} tensors; TFLM's int32 {} supports at most {max_rank} dimensions",
            cx.name
        )));
    }
    let bc = broadcast(cx, a, b, output)?;
    let (act_min, act_max) = match (op, activation) {
        (IntOp::Add, _) | (_, Activation::None) => (i32::MIN, i32::MAX),
        (_, Activation::Relu) => (0, i32::MAX),
        (_, Activation::ReluN1To1) => (-1, 1),
        (_, Activation::Relu6) => (0, 6),
    };
    Ok((
        Kernel::IntArith {
            op,
            clamp: rt::IntClamp { act_min, act_max },
            broadcast: bc,
        },
        vec![a.0, b.0],
        0,
    ))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;
    use crate::ir::Activation;
    use crate::layer::IntOp;
    use crate::runtime::IntClamp;

    fn int_op(kind: OpKind, name: &'static str, b: &[usize]) -> Result<Kernel, String> {
        run(
            kind,
            name,
            vec![
                typed(DType::I32, &[40]),
                const_typed(DType::I32, b, &[3]),
                typed(DType::I32, &[40]),
            ],
            &[0, 1],
            2,
        )
    }

    #[test]
    fn int32_arithmetic_clamps_as_tflm() {
        let div = int_op(
            OpKind::Div {
                activation: Activation::Relu6,
            },
            "DIV",
            &[],
        );
        assert!(
            matches!(
                div,
                Ok(Kernel::IntArith {
                    op: IntOp::Div,
                    clamp: IntClamp {
                        act_min: 0,
                        act_max: 6
                    },
                    broadcast: Some(_)
                })
            ),
            "{div:?}"
        );
        // int32 ADD ignores its fused activation.
        let add = int_op(
            OpKind::Add {
                activation: Activation::Relu,
            },
            "ADD",
            &[1],
        );
        assert!(
            matches!(
                add,
                Ok(Kernel::IntArith {
                    op: IntOp::Add,
                    clamp: IntClamp {
                        act_min: i32::MIN,
                        act_max: i32::MAX
                    },
                    ..
                })
            ),
            "{add:?}"
        );
        let err = int_op(
            OpKind::Mul {
                activation: Activation::None,
            },
            "MUL",
            &[2],
        )
        .unwrap_err();
        assert!(err.contains("do not broadcast"), "{err}");
    }
}
