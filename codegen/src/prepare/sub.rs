//! SUB: int8, numpy-style broadcasting, ADD's scheme of a 20-bit left shift and three
//! rescale multipliers (TFLM `CalculateOpDataSub`). The ratios are formed in double: an
//! oracle run over all 65536 input pairs of one SUB matches double and not float division
//! (some TFLM versions divide in float).

use super::common::Prepared;
use super::shapes::broadcast;
use crate::ir::{Activation, DType};
use crate::prepare::quant::quantize_multiplier_smaller_than_one;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a SUB and computes its constants.
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
    const LEFT_SHIFT: i32 = 20;
    let twice_max = 2.0 * a_scale.max(b_scale) as f64;
    let real1 = a_scale as f64 / twice_max;
    let real2 = b_scale as f64 / twice_max;
    let real_out = twice_max / ((1i64 << LEFT_SHIFT) as f64 * out_scale as f64);
    let smaller_than_one = |m: f64, what: &str| {
        quantize_multiplier_smaller_than_one(m)
            .ok_or_else(|| cx.err(format!("{what} multiplier {m} must be in (0, 1)")))
    };
    let (m1, s1) = smaller_than_one(real1, "first input")?;
    let (m2, s2) = smaller_than_one(real2, "second input")?;
    let (mo, so) = smaller_than_one(real_out, "output")?;
    let (act_min, act_max) = cx.activation_range(activation, out_scale, out_zp)?;
    let params = rt::Add {
        input1_offset: -a_zp,
        input2_offset: -b_zp,
        output_offset: out_zp,
        left_shift: LEFT_SHIFT,
        input1_multiplier: m1,
        input1_shift: s1,
        input2_multiplier: m2,
        input2_shift: s2,
        output_multiplier: mo,
        output_shift: so,
        act_min,
        act_max,
    };
    Ok((Kernel::Sub(params, bc), vec![a.0, b.0], 0))
}
