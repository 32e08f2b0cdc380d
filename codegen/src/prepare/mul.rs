//! MUL: int8 or int16 (zero points 0), numpy-style broadcasting, one requantization of the product (TFLM
//! `CalculateOpDataMul` + `MulElementwise` / `BroadcastMul6DSlow`).

use super::common::Prepared;
use super::int16::activation_range_i16;
use super::shapes::broadcast;
use crate::ir::{Activation, DType};
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a MUL and computes its constants.
pub fn prepare(cx: &OpCx, activation: Activation) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    let dtype = if a.1.dtype == DType::I16 {
        DType::I16
    } else {
        DType::I8
    };
    for (t, role) in [(a, "first input"), (b, "second input"), (output, "output")] {
        cx.expect_dtype(t, dtype, role)?;
    }
    let bc = broadcast(cx, a, b, output)?;
    let (a_scale, a_zp) = cx.per_tensor(a, "first input")?;
    let (b_scale, b_zp) = cx.per_tensor(b, "second input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let (act_min, act_max) = if dtype == DType::I16 {
        // TFLM's int16 MUL requires symmetric tensors.
        for (zp, t, role) in [
            (a_zp, a, "first input"),
            (b_zp, b, "second input"),
            (out_zp, output, "output"),
        ] {
            if zp != 0 {
                return Err(cx.err(format!(
                    "{role} {} has zero point {zp}; int16 MUL takes zero points 0 (as TFLM)",
                    cx.describe(t.0)
                )));
            }
        }
        activation_range_i16(cx, activation, out_scale)?
    } else {
        cx.activation_range(activation, out_scale, out_zp)?
    };
    let real = a_scale as f64 * b_scale as f64 / out_scale as f64;
    let (output_multiplier, output_shift) = cx.multiplier(real, "output")?;
    let params = rt::Mul {
        input1_offset: -a_zp,
        input2_offset: -b_zp,
        output_offset: out_zp,
        output_multiplier,
        output_shift,
        act_min,
        act_max,
    };
    let kernel = if dtype == DType::I16 {
        Kernel::MulI16(params, bc)
    } else {
        Kernel::Mul(params, bc)
    };
    Ok((kernel, vec![a.0, b.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn int16_mul_takes_zero_points_0() {
        let mul = |zero_point| {
            run(
                OpKind::Mul {
                    activation: crate::ir::Activation::None,
                },
                "MUL",
                vec![
                    int16(&[2, 3], 0.001, 0),
                    int16(&[1, 3], 0.002, zero_point),
                    int16(&[2, 3], 0.004, 0),
                ],
                &[0, 1],
                2,
            )
        };
        assert!(matches!(mul(0), Ok(Kernel::MulI16(_, Some(_)))));
        let err = mul(3).unwrap_err();
        assert!(err.contains("zero point 3"), "{err}");
    }
}
