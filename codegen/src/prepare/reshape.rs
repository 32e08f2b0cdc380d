//! RESHAPE: same bytes, new shape (taken from the output tensor); no computation.

use super::common::Prepared;
use crate::prepare::{Kernel, OpCx};

/// Validates a RESHAPE: same element type and element count.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    if input.1.dtype != output.1.dtype || input.1.elements() != output.1.elements() {
        return Err(cx.err(format!(
            "input {} ({} {:?}) and output {} ({} {:?}) differ in type or element count",
            cx.describe(input.0),
            input.1.dtype,
            input.1.shape,
            cx.describe(output.0),
            output.1.dtype,
            output.1.shape
        )));
    }
    Ok((Kernel::Reshape, vec![input.0], 0))
}
