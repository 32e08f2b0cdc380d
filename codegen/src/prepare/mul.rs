//! MUL: int8, numpy-style broadcasting, one requantization of the product (TFLM
//! `CalculateOpDataMul` + `MulElementwise` / `BroadcastMul6DSlow`).

use super::common::Prepared;
use super::shapes::broadcast;
use crate::ir::{Activation, DType};
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a MUL and computes its constants.
pub fn prepare(cx: &OpCx, activation: Activation) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    for (t, role) in [(a, "first input"), (b, "second input"), (output, "output")] {
        cx.expect_dtype(t, DType::I8, role)?;
    }
    let bc = broadcast(cx, a, b, output)?;
    let (a_scale, a_zp) = cx.per_tensor(a, "first input")?;
    let (b_scale, b_zp) = cx.per_tensor(b, "second input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let (act_min, act_max) = cx.activation_range(activation, out_scale, out_zp)?;
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
    Ok((Kernel::Mul(params, bc), vec![a.0, b.0], 0))
}
