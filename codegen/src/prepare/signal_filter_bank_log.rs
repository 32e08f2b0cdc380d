//! `SignalFilterBankLog` (TFLM `signal/micro/kernels/filter_bank_log.cc`): scaled fixed-point
//! natural logarithms of uint32 channels into int16 ([`rt::signal_filter_bank_log`]).

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a `SignalFilterBankLog` (TFLM's `FilterBankLogPrepare`).
pub fn prepare(cx: &OpCx, input_correction_bits: i32, output_scale: i32) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::U32, "input")?;
    cx.expect_dtype(output, DType::I16, "output")?;
    cx.expect_rank(input, 1, "input")?;
    cx.expect_rank(output, 1, "output")?;
    if output.1.elements() != input.1.elements() {
        return Err(cx.err(format!(
            "output {} must have the input's {} elements",
            cx.describe(output.0),
            input.1.elements()
        )));
    }
    if !(0..=31).contains(&input_correction_bits) {
        return Err(cx.err(format!(
            "input_correction_bits {input_correction_bits} is outside 0..=31"
        )));
    }
    Ok((
        Kernel::SignalFilterBankLog(rt::SignalLog {
            input_correction_bits: input_correction_bits as u32,
            // TFLM passes the int option on as uint32.
            output_scale: output_scale as u32,
        }),
        vec![input.0],
        input.1.elements() as u64,
    ))
}
