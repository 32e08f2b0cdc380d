//! ADD: int8 or int16 (numpy-style broadcasting), TFLM's 20-bit (int16: 15-bit) left shift
//! and three rescale multipliers (float32 ADD is in `float_ops`).

use super::common::Prepared;
use super::shapes::broadcast;
use crate::ir::{Activation, DType, Tensor, TensorId};
use crate::prepare::quant::{activation_range, quantize_multiplier_smaller_than_one};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Validates an ADD and computes its constants.
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
    let params = rescaled_add(cx, [a, b, output], activation, dtype)?;
    if dtype == DType::I16 {
        return Ok((
            Kernel::AddSubI16 {
                params,
                bc,
                subtract: false,
            },
            vec![a.0, b.0],
            0,
        ));
    }
    let kernel = match bc {
        Some(bc) => Kernel::AddBroadcast(params, bc),
        None if output.1.elements() >= MIN_TABLED_ELEMENTS => match rt::AddTabled::of(&params) {
            Some(output) => Kernel::AddTabled(params, output),
            None => Kernel::Add(params),
        },
        None => Kernel::Add(params),
    };
    Ok((kernel, vec![a.0, b.0], 0))
}

/// The fewest elements for which an int8 ADD runs through per-input tables: the tables cost
/// 2 KB of flash (1 KB when both inputs share their quantization) and save about 45
/// instructions per element on a Cortex-M4 (three rounding multiplies become one), so a
/// small ADD keeps the table-free kernel.
pub const MIN_TABLED_ELEMENTS: usize = 256;

/// The constants of an int8 or int16 (`dtype`) ADD or SUB (TFLM `CalculateOpDataAdd` and
/// `CalculateOpDataSub`): both inputs shifted left (20 bits, 15 for int16), rescaled to twice
/// the larger input scale, the sum rescaled to the output; ratios formed in double.
pub fn rescaled_add(
    cx: &OpCx,
    [a, b, output]: [(TensorId, &Tensor); 3],
    activation: Activation,
    dtype: DType,
) -> Result<rt::Add, ValidateError> {
    let (a_scale, a_zp) = cx.per_tensor(a, "first input")?;
    let (b_scale, b_zp) = cx.per_tensor(b, "second input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let (left_shift, qmin, qmax) = if dtype == DType::I16 {
        (15, i16::MIN as i32, i16::MAX as i32)
    } else {
        (20, i8::MIN as i32, i8::MAX as i32)
    };
    let twice_max = 2.0 * a_scale.max(b_scale) as f64;
    let smaller_than_one = |m: f64, what: &str| {
        quantize_multiplier_smaller_than_one(m)
            .ok_or_else(|| cx.err(format!("{what} multiplier {m} must be in (0, 1)")))
    };
    let (m1, s1) = smaller_than_one(a_scale as f64 / twice_max, "first input")?;
    let (m2, s2) = smaller_than_one(b_scale as f64 / twice_max, "second input")?;
    let (mo, so) = smaller_than_one(
        twice_max / ((1i64 << left_shift) as f64 * out_scale as f64),
        "output",
    )?;
    let (act_min, act_max) = activation_range(activation, out_scale, out_zp, qmin, qmax)
        .ok_or_else(|| {
            cx.err(format!(
                "activation {activation:?} bound overflows int32 at scale {out_scale}"
            ))
        })?;
    Ok(rt::Add {
        input1_offset: -a_zp,
        input2_offset: -b_zp,
        output_offset: out_zp,
        left_shift,
        input1_multiplier: m1,
        input1_shift: s1,
        input2_multiplier: m2,
        input2_shift: s2,
        output_multiplier: mo,
        output_shift: so,
        act_min,
        act_max,
    })
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn add_with_different_input_shapes_is_rejected() {
        // input a [1,10] -> FC -> ADD(., b); b is then given shape [1,3], which no broadcasting
        // rule reconciles with [1,10].
        let mut g = FixtureGraph::new("errors_add");
        let a = g.input_i8(&[1, 10], 0.05, 3);
        let b = g.input_i8(&[1, 10], 0.04, -7);
        let x = g.fully_connected(a, Fc::new(10));
        let y = g.add(x, b, Activation::None);
        g.output(y);
        let mut m = g.model().clone();
        assert!(validate(&serialize(&m)).is_ok());
        let b = op_input(&m, 1, 1);
        m.tensors[b].shape = vec![1, 3];
        let msg = expect_invalid(&serialize(&m), 1, "ADD", &["[1, 10]", "[1, 3]"]);
        assert!(msg.contains("broadcast"), "{msg}");
    }

    #[test]
    fn int16_add_and_sub_shift_left_by_15() {
        let binary = |kind, name| {
            run(
                kind,
                name,
                vec![
                    int16(&[4], 0.001, 0),
                    int16(&[4], 0.003, 0),
                    int16(&[4], 0.002, 0),
                ],
                &[0, 1],
                2,
            )
        };
        let none = crate::ir::Activation::None;
        let add = binary(OpKind::Add { activation: none }, "ADD");
        let Ok(Kernel::AddSubI16 {
            params,
            bc: None,
            subtract: false,
        }) = add
        else {
            panic!("{add:?}");
        };
        assert_eq!((params.left_shift, params.act_max), (15, 32767));
        let sub = binary(OpKind::Sub { activation: none }, "SUB");
        assert!(matches!(sub, Ok(Kernel::AddSubI16 { subtract: true, .. })));
        // Both inputs of one type.
        let mixed = run(
            OpKind::Add { activation: none },
            "ADD",
            vec![
                int16(&[4], 0.001, 0),
                int8(&[4], 0.003, 0),
                int16(&[4], 0.002, 0),
            ],
            &[0, 1],
            2,
        );
        assert!(mixed.unwrap_err().contains("int8"));
    }
}
