//! `SignalEnergy` (TFLM `signal/micro/kernels/energy.cc`): `re² + im²` of a range of bins of an
//! int16 spectrum ([`rt::signal_energy`]).

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a `SignalEnergy`; the bin range must lie inside input and output (TFLM does not
/// check it and would read and write out of bounds).
pub fn prepare(cx: &OpCx, start_index: i32, end_index: i32) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::I16, "input")?;
    cx.expect_dtype(output, DType::U32, "output")?;
    cx.expect_rank(input, 1, "input")?;
    cx.expect_rank(output, 1, "output")?;
    let bins = (input.1.elements() / 2).min(output.1.elements());
    let (start, end) = (start_index.max(0) as usize, end_index.max(0) as usize);
    if start_index < 0 || start_index > end_index || end > bins {
        return Err(cx.err(format!(
            "bins {start_index}..{end_index} do not lie in 0..{bins} (the input's complex \
             bins and the output's elements)"
        )));
    }
    Ok((
        Kernel::SignalEnergy(rt::SignalEnergy { start, end }),
        vec![input.0],
        2 * (end - start) as u64,
    ))
}
