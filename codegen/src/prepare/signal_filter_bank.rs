//! `SignalFilterBank` (TFLM `signal/micro/kernels/filter_bank.cc`): uint32 energies into
//! uint64 channels through five constant int16 tables ([`rt::signal_filter_bank`]).

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// The tables, in input order after the energies.
const TABLES: [&str; 5] = [
    "weights",
    "unweights",
    "channel frequency starts",
    "channel weight starts",
    "channel widths",
];

/// Validates a `SignalFilterBank`. TFLM checks types and ranks; kiln also checks, at compile
/// time, that every channel of the constant tables reads inside the energies and the weights
/// (TFLM would read out of bounds).
pub fn prepare(cx: &OpCx, num_channels: i32) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::U32, "input")?;
    cx.expect_dtype(output, DType::U64, "output")?;
    cx.expect_rank(input, 1, "input")?;
    cx.expect_rank(output, 1, "output")?;
    let mut tables = Vec::with_capacity(TABLES.len());
    let mut inputs = vec![input.0];
    for (k, role) in TABLES.iter().enumerate() {
        let t = cx.input(k + 1, role)?;
        cx.expect_dtype(t, DType::I16, role)?;
        cx.expect_rank(t, 1, role)?;
        cx.expect_const(t, role)?;
        tables.push(t.1.data_i16());
        inputs.push(t.0);
    }
    let channels = usize::try_from(num_channels)
        .map_err(|_| cx.err(format!("num_channels {num_channels} is negative")))?;
    if output.1.elements() > channels {
        return Err(cx.err(format!(
            "output {} has {} elements, more than num_channels {channels}",
            cx.describe(output.0),
            output.1.elements()
        )));
    }
    let [weights, unweights, freq_starts, weight_starts, widths] = &tables[..] else {
        return Err(cx.err("kiln bug: filter bank tables"));
    };
    let mut macs = 0u64;
    for i in 0..=channels {
        let (Some(&f), Some(&w), Some(&width)) =
            (freq_starts.get(i), weight_starts.get(i), widths.get(i))
        else {
            return Err(cx.err(format!(
                "the channel tables need {} entries (num_channels + 1)",
                channels + 1
            )));
        };
        let width = width.max(0) as usize;
        let in_range = |start: i16, len: usize| start >= 0 && start as usize + width <= len;
        if !in_range(f, input.1.elements())
            || !in_range(w, weights.len())
            || !in_range(w, unweights.len())
        {
            return Err(cx.err(format!(
                "channel {i} reads energies {f}..{f}+{width} and weights {w}..{w}+{width}, \
                 outside the {} energies or {} weights",
                input.1.elements(),
                weights.len().min(unweights.len())
            )));
        }
        macs += 2 * width as u64;
    }
    Ok((Kernel::SignalFilterBank, inputs, macs))
}
