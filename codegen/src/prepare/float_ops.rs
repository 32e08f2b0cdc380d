//! The float32 forms of ADD, SUB, MUL, SQUARED_DIFFERENCE, RELU, RELU6, LEAKY_RELU and
//! HARD_SWISH (TFLM's reference float kernels): no constants beyond the fused activation's
//! float bounds (`CalculateActivationRange`) and the broadcast. The int8 and int16 forms'
//! files send float32 operators here.

use super::common::{float_activation_range, Prepared};
use super::shapes::broadcast;
use crate::ir::{Activation, DType};
use crate::layer::{FloatActivation, FloatArith};
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Whether the operator's first input is float32 (it then takes its float form here).
pub fn is_f32(cx: &OpCx) -> bool {
    cx.input(0, "input")
        .is_ok_and(|(_, t)| t.dtype == DType::F32)
}

/// The two float32 inputs, the float32 output and their broadcast.
fn binary_inputs(cx: &OpCx) -> Result<(Vec<usize>, Option<rt::Broadcast>), super::ValidateError> {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    for (t, role) in [(a, "first input"), (b, "second input"), (output, "output")] {
        cx.expect_dtype(t, DType::F32, role)?;
    }
    let bc = broadcast(cx, a, b, output)?;
    Ok((vec![a.0, b.0], bc))
}

/// Float32 ADD, SUB or MUL: the operation, clamped to the fused activation's bounds.
pub fn arith(cx: &OpCx, op: FloatArith, activation: Activation) -> Prepared {
    let (inputs, broadcast) = binary_inputs(cx)?;
    let (min, max) = float_activation_range(activation);
    let clamp = rt::ClampF32 { min, max };
    Ok((
        Kernel::ArithF32 {
            op,
            clamp,
            broadcast,
        },
        inputs,
        0,
    ))
}

/// Float32 SQUARED_DIFFERENCE (no activation).
pub fn squared_difference(cx: &OpCx) -> Prepared {
    let (inputs, broadcast) = binary_inputs(cx)?;
    Ok((Kernel::SquaredDifferenceF32(broadcast), inputs, 0))
}

/// The float32 input and output of a one-input operator, of the same size.
fn unary_input(cx: &OpCx) -> Result<Vec<usize>, super::ValidateError> {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::F32, "input")?;
    cx.expect_dtype(output, DType::F32, "output")?;
    if input.1.elements() != output.1.elements() {
        return Err(cx.err(format!(
            "input {} {:?} and output {} {:?} differ in size",
            cx.describe(input.0),
            input.1.shape,
            cx.describe(output.0),
            output.1.shape
        )));
    }
    Ok(vec![input.0])
}

/// Float32 RELU, RELU6 or HARD_SWISH.
pub fn activation(cx: &OpCx, f: FloatActivation) -> Prepared {
    Ok((Kernel::ActivationF32(f), unary_input(cx)?, 0))
}

/// Float32 LEAKY_RELU with slope `alpha`.
pub fn leaky_relu(cx: &OpCx, alpha: f32) -> Prepared {
    Ok((
        Kernel::LeakyReluF32(rt::LeakyReluF32 { alpha }),
        unary_input(cx)?,
        0,
    ))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;
    use crate::ir::Activation;
    use crate::layer::FloatArith;

    fn float(shape: &[usize]) -> Tensor {
        let mut t = int8(shape, 1.0, 0);
        t.dtype = DType::F32;
        t.quant = None;
        t
    }

    #[test]
    fn float_arithmetic_broadcasts_and_clamps() {
        let mul = run(
            OpKind::Mul {
                activation: Activation::Relu6,
            },
            "MUL",
            vec![float(&[2, 3]), float(&[3]), float(&[2, 3])],
            &[0, 1],
            2,
        );
        let Ok(Kernel::ArithF32 {
            op: FloatArith::Mul,
            clamp,
            broadcast: Some(_),
        }) = mul
        else {
            panic!("{mul:?}")
        };
        assert_eq!((clamp.min, clamp.max), (0.0, 6.0));
        // Mixed types are refused.
        let err = run(
            OpKind::Sub {
                activation: Activation::None,
            },
            "SUB",
            vec![float(&[3]), int8(&[3], 0.1, 0), float(&[3])],
            &[0, 1],
            2,
        )
        .unwrap_err();
        assert!(err.contains("second input"), "{err}");
    }
}
