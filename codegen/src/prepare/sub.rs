//! SUB: int8 or int16, numpy-style broadcasting, ADD's scheme of a 20-bit (int16: 15-bit) left
//! shift and three rescale multipliers (TFLM `CalculateOpDataSub`). The ratios are formed in double: an
//! oracle run over all 65536 input pairs of one SUB matches double and not float division
//! (some TFLM versions divide in float).

use super::add::rescaled_add;
use super::common::Prepared;
use super::shapes::broadcast;
use crate::ir::{Activation, DType};
use crate::prepare::{Kernel, OpCx};

/// Validates a SUB and computes its constants.
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
        let kernel = Kernel::AddSubI16 {
            params,
            bc,
            subtract: true,
        };
        return Ok((kernel, vec![a.0, b.0], 0));
    }
    Ok((Kernel::Sub(params, bc), vec![a.0, b.0], 0))
}
