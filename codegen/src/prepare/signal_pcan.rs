//! `SignalPCAN` (TFLM `signal/micro/kernels/pcan.cc`): per-channel gain control by the noise
//! estimate through a 125-entry int16 table ([`rt::signal_pcan`]).

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Entries of the gain table TFLM's `WideDynamicFunction` can read (`4·32 - 6 + 2`, plus 1).
const GAIN_LUT_LEN: usize = 125;

/// Validates a `SignalPCAN` (TFLM's `PcanPrepare`, plus the table length its lookup needs).
pub fn prepare(cx: &OpCx, snr_shift: i32) -> Prepared {
    let input = cx.input(0, "input")?;
    let noise = cx.input(1, "noise estimate")?;
    let lut = cx.input(2, "gain table")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::U32, "input")?;
    cx.expect_dtype(noise, DType::U32, "noise estimate")?;
    cx.expect_dtype(lut, DType::I16, "gain table")?;
    cx.expect_dtype(output, DType::U32, "output")?;
    for (t, role) in [
        (input, "input"),
        (noise, "noise estimate"),
        (lut, "gain table"),
        (output, "output"),
    ] {
        cx.expect_rank(t, 1, role)?;
    }
    let n = input.1.elements();
    if n == 0 || noise.1.elements() != n || output.1.elements() != n {
        return Err(cx.err(format!(
            "input, noise estimate and output must have the same (non-zero) length; have {n}, \
             {} and {}",
            noise.1.elements(),
            output.1.elements()
        )));
    }
    if lut.1.elements() < GAIN_LUT_LEN {
        return Err(cx.err(format!(
            "gain table {} has {} entries; TFLM's lookup reads {GAIN_LUT_LEN}",
            cx.describe(lut.0),
            lut.1.elements()
        )));
    }
    if !(0..=63).contains(&snr_shift) {
        return Err(cx.err(format!("snr_shift {snr_shift} is outside 0..=63")));
    }
    Ok((
        Kernel::SignalPcan(rt::SignalPcan {
            snr_shift: snr_shift as u32,
        }),
        vec![input.0, noise.0, lut.0],
        n as u64,
    ))
}
