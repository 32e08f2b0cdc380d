//! `SignalFilterBankSpectralSubtraction` (TFLM
//! `signal/micro/kernels/filter_bank_spectral_subtraction.cc`): a stateful operator with two
//! outputs. Part 0 updates the running noise estimate (the layer's state, zeroed by TFLM's
//! `Prepare` and `Reset`) and writes the subtracted channels
//! ([`rt::signal_spectral_subtraction`]); part 1 copies the estimate out.

use super::StatefulParts;
use crate::ir::{DType, SpectralSubtractionOptions};
use crate::layer::LayerState;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// The state field of the noise estimate.
const NOISE_ESTIMATE: &str = "noise_estimate";

/// Validates the operator: its two layers, and the state of each.
pub fn prepare(cx: &OpCx, o: &SpectralSubtractionOptions) -> StatefulParts {
    let input = cx.input(0, "input")?;
    let [out, noise] = cx.op.outputs[..] else {
        return Err(cx.err(format!(
            "expects 2 outputs (the channels and the noise estimate), has {}",
            cx.op.outputs.len()
        )));
    };
    let out = (out, &cx.graph.tensors[out]);
    let noise = (noise, &cx.graph.tensors[noise]);
    for (t, role) in [(input, "input"), (out, "output"), (noise, "noise estimate")] {
        cx.expect_dtype(t, DType::U32, role)?;
        cx.expect_rank(t, 1, role)?;
    }
    let channels = usize::try_from(o.num_channels)
        .ok()
        .filter(|&c| c == input.1.elements() && c == out.1.elements() && c == noise.1.elements());
    let Some(channels) = channels else {
        return Err(cx.err(format!(
            "num_channels {} must equal the lengths of input, output and noise estimate \
             ({}, {}, {})",
            o.num_channels,
            input.1.elements(),
            out.1.elements(),
            noise.1.elements()
        )));
    };
    if !(0..=31).contains(&o.smoothing_bits) || !(0..=63).contains(&o.spectral_subtraction_bits) {
        return Err(cx.err(format!(
            "smoothing_bits {} must be in 0..=31 and spectral_subtraction_bits {} in 0..=63",
            o.smoothing_bits, o.spectral_subtraction_bits
        )));
    }
    // TFLM stores the int options in uint32 fields.
    let params = rt::SpectralSubtraction {
        smoothing: o.smoothing as u32,
        one_minus_smoothing: o.one_minus_smoothing as u32,
        alternate_smoothing: o.alternate_smoothing as u32,
        alternate_one_minus_smoothing: o.alternate_one_minus_smoothing as u32,
        min_signal_remaining: o.min_signal_remaining as u32,
        smoothing_bits: o.smoothing_bits as u32,
        spectral_subtraction_bits: o.spectral_subtraction_bits as u32,
        clamping: o.clamping,
    };
    let state = |writes| LayerState {
        name: NOISE_ESTIMATE,
        dtype: DType::U32,
        len: channels,
        initial: 0,
        writes,
    };
    Ok(vec![
        (
            out.0,
            Kernel::SignalSpectralSubtraction(params),
            vec![input.0],
            vec![state(true)],
        ),
        (
            noise.0,
            Kernel::SignalNoiseEstimate,
            Vec::new(),
            vec![state(false)],
        ),
    ])
}
