//! `SignalFilterBankSquareRoot` (TFLM `signal/micro/kernels/filter_bank_square_root.cc`):
//! integer square roots of uint64 channels, shifted right by a runtime int32 scalar
//! ([`rt::signal_filter_bank_square_root`]).

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// Validates a `SignalFilterBankSquareRoot` (TFLM's `FilterBankSquareRootPrepare`).
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let scale = cx.input(1, "scale bits")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::U64, "input")?;
    cx.expect_dtype(scale, DType::I32, "scale bits")?;
    cx.expect_dtype(output, DType::U32, "output")?;
    cx.expect_rank(input, 1, "input")?;
    cx.expect_rank(scale, 0, "scale bits")?;
    cx.expect_rank(output, 1, "output")?;
    if output.1.elements() != input.1.elements() {
        return Err(cx.err(format!(
            "output {} must have the input's {} elements",
            cx.describe(output.0),
            input.1.elements()
        )));
    }
    Ok((
        Kernel::SignalFilterBankSquareRoot,
        vec![input.0, scale.0],
        0,
    ))
}
