//! `SignalFftAutoScale` (TFLM `signal/micro/kernels/fft_auto_scale_kernel.cc`): two outputs,
//! the scaled int16 frame and the int32 shift, each its own layer (both compute the shift from
//! the same input; [`rt::signal_fft_auto_scale`]).

use super::split::Parts;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// Validates a `SignalFftAutoScale`: one layer for the frame, one for the shift.
pub fn prepare(cx: &OpCx) -> Parts {
    let input = cx.input(0, "input")?;
    let [frame, shift] = cx.op.outputs[..] else {
        return Err(cx.err(format!(
            "expects 2 outputs (the frame and its shift), has {}",
            cx.op.outputs.len()
        )));
    };
    let frame = (frame, &cx.graph.tensors[frame]);
    let shift = (shift, &cx.graph.tensors[shift]);
    cx.expect_dtype(input, DType::I16, "input")?;
    cx.expect_dtype(frame, DType::I16, "output")?;
    cx.expect_dtype(shift, DType::I32, "shift output")?;
    cx.expect_rank(input, 1, "input")?;
    cx.expect_rank(frame, 1, "output")?;
    cx.expect_rank(shift, 0, "shift output")?;
    if frame.1.elements() != input.1.elements() {
        return Err(cx.err(format!(
            "output {} must have the input's {} elements",
            cx.describe(frame.0),
            input.1.elements()
        )));
    }
    Ok(vec![
        (
            frame.0,
            Kernel::SignalFftAutoScale { shift: false },
            vec![input.0],
        ),
        (
            shift.0,
            Kernel::SignalFftAutoScale { shift: true },
            vec![input.0],
        ),
    ])
}
