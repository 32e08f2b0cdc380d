//! DEQUANTIZE: int8, uint8 or int16 → float32.

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a DEQUANTIZE and computes its constants.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    if !matches!(input.1.dtype, DType::I16 | DType::U8) {
        cx.expect_dtype(input, DType::I8, "input")?;
    }
    cx.expect_dtype(output, DType::F32, "output")?;
    if input.1.elements() != output.1.elements() {
        return Err(cx.err("input and output element counts differ"));
    }
    let (scale, zero_point) = cx.per_tensor(input, "input")?;
    let params = rt::Dequantize { scale, zero_point };
    let kernel = match input.1.dtype {
        DType::I16 => Kernel::DequantizeI16(params),
        DType::U8 => Kernel::DequantizeU8(params),
        _ => Kernel::Dequantize(params),
    };
    Ok((kernel, vec![input.0], 0))
}
