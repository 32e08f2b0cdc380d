//! `SignalWindow` (TFLM `signal/micro/kernels/window.cc`): int16 frames times an int16
//! window, shifted right and saturated ([`rt::signal_window`]).

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a `SignalWindow` (TFLM's `WindowPrepare` checks, plus the shapes its loop
/// assumes).
pub fn prepare(cx: &OpCx, shift: i32) -> Prepared {
    let input = cx.input(0, "input")?;
    let window = cx.input(1, "window")?;
    let output = cx.output()?;
    for (t, role) in [(input, "input"), (window, "window"), (output, "output")] {
        cx.expect_dtype(t, DType::I16, role)?;
    }
    cx.expect_rank(window, 1, "window")?;
    if input.1.shape.is_empty() || input.1.shape.len() != output.1.shape.len() {
        return Err(cx.err(format!(
            "input {} and output {} must have the same rank, at least 1",
            cx.describe(input.0),
            cx.describe(output.0)
        )));
    }
    let (n, w) = (input.1.elements(), window.1.elements());
    if w == 0 || !n.is_multiple_of(w) || output.1.elements() != n {
        return Err(cx.err(format!(
            "input {} ({n} elements) must be whole frames of the {w}-element window, and the \
             output {} as long",
            cx.describe(input.0),
            cx.describe(output.0)
        )));
    }
    if !(0..=31).contains(&shift) {
        return Err(cx.err(format!("shift {shift} is outside 0..=31")));
    }
    Ok((
        Kernel::SignalWindow(rt::SignalWindow {
            shift: shift as u32,
        }),
        vec![input.0, window.0],
        n as u64,
    ))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;
    use crate::ir::SignalOp;

    fn window(frames: &[usize], w: usize, shift: i32) -> Result<Kernel, String> {
        run(
            OpKind::Signal(SignalOp::Window { shift }),
            "SignalWindow",
            vec![
                typed(DType::I16, frames),
                const_typed(DType::I16, &[w], &vec![1; w]),
                typed(DType::I16, frames),
            ],
            &[0, 1],
            2,
        )
    }

    #[test]
    fn window_needs_whole_frames_and_a_sane_shift() {
        assert!(window(&[2, 8], 8, 12).is_ok());
        let err = window(&[1, 10], 8, 12).unwrap_err();
        assert!(err.contains("whole frames"), "{err}");
        let err = window(&[1, 8], 8, 32).unwrap_err();
        assert!(err.contains("shift 32"), "{err}");
    }
}
