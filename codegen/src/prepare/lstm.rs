//! UNIDIRECTIONAL_SEQUENCE_LSTM, int8 with int16 cell state, as TFLM's kernel prepares it
//! (`lstm_eval_common.cc`): every gate's fully connected parts requantized to Q3.12, the
//! products between gates to Q0.15 × Q0.15 → the cell state's and the hidden state's scales.
//! TFLM's kernel takes the standard Keras LSTM only: all four gates, no peepholes, no
//! projection, no layer normalization. The float32 LSTM ([`prepare_f32`]) takes the same
//! shapes with float32 weights, biases and states.

use super::common::Prepared;
use crate::ir::{DType, LstmActivation, LstmOptions};
use crate::layer::{LstmWeights, LstmWeightsF32};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// TFLite's input slots of the operator.
const INPUT: usize = 0;
const PEEPHOLES: [usize; 3] = [9, 10, 11];
const PROJECTION: [usize; 2] = [16, 17];
const HIDDEN_STATE: usize = 18;
const CELL_STATE: usize = 19;
const LAYER_NORMS: [usize; 4] = [20, 21, 22, 23];

/// The gates in kernel order (forget, input, cell, output): name, input weights, recurrent
/// weights and bias slots.
const GATES: [(&str, usize, usize, usize); 4] = [
    ("forget", 2, 6, 13),
    ("input", 1, 5, 12),
    ("cell", 3, 7, 14),
    ("output", 4, 8, 15),
];

/// Scale of a gate's input to its activation: Q3.12.
const GATE_INPUT_SCALE: f32 = 1.0 / 4096.0;
/// Scale of a gate's output: Q0.15.
const GATE_OUTPUT_SCALE: f32 = 1.0 / 32768.0;

/// Validates an int8 LSTM and computes its constants; its activation inputs are the input,
/// the hidden state and the cell state.
pub fn prepare(cx: &OpCx, o: &LstmOptions) -> Prepared {
    let input = cx.input(INPUT, "input")?;
    if input.1.dtype == DType::F32 {
        return prepare_f32(cx, o);
    }
    cx.expect_dtype(input, DType::I8, "input")?;
    let shape = shape_and_state(cx, o, DType::I8, DType::I16)?;
    let Shape {
        batches,
        time_steps,
        input_size,
        units,
        hidden,
        cell,
    } = shape;

    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (hidden_scale, hidden_zp) = cx.per_tensor(hidden, "hidden state")?;
    let (cell_scale, cell_zp) = cx.per_tensor(cell, "cell state")?;
    if cell_zp != 0 {
        return Err(cx.err(format!(
            "cell state {} has zero point {cell_zp}; it must be 0",
            cx.describe(cell.0)
        )));
    }

    let mut gates = Vec::with_capacity(4);
    let mut filter = Vec::with_capacity(4 * units * (input_size + units));
    let mut bias = Vec::with_capacity(8 * units);
    for (name, w_in, w_rec, b) in GATES {
        let (m_in, sum_in) =
            gate_weights(cx, w_in, name, units, input_size, in_scale, &mut filter)?;
        let (m_rec, sum_rec) =
            gate_weights(cx, w_rec, name, units, units, hidden_scale, &mut filter)?;
        let gate_bias = super::common::bias(cx, b, units)?
            .ok_or_else(|| cx.err(format!("missing {name} gate bias (input {b})")))?;
        // The input part's bias with the input offset folded in, then the recurrent part's.
        bias.extend(
            gate_bias
                .iter()
                .zip(&sum_in)
                .map(|(&b, &s)| b.wrapping_add(s.wrapping_mul(-in_zp))),
        );
        bias.extend(sum_rec.iter().map(|&s| s.wrapping_mul(-hidden_zp)));
        gates.push(rt::LstmGate {
            input_multiplier: m_in.0,
            input_shift: m_in.1,
            recurrent_multiplier: m_rec.0,
            recurrent_shift: m_rec.1,
        });
    }
    let gates: [rt::LstmGate; 4] = gates
        .try_into()
        .map_err(|_| cx.err("kiln bug: not four gates"))?;

    let product = |a: f32, b: f32, out: f32, what: &str| -> Result<rt::LstmMul, ValidateError> {
        let (multiplier, shift) = cx.multiplier(a as f64 * b as f64 / out as f64, what)?;
        Ok(rt::LstmMul { multiplier, shift })
    };
    let forget_mul = product(GATE_OUTPUT_SCALE, cell_scale, cell_scale, "forget × cell")?;
    let input_mul = product(
        GATE_OUTPUT_SCALE,
        GATE_OUTPUT_SCALE,
        cell_scale,
        "input × cell gate",
    )?;
    let hidden_mul = product(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, hidden_scale, "hidden")?;

    let params = rt::Lstm {
        batches,
        time_steps,
        input_size,
        units,
        time_major: o.time_major,
        gates,
        cell_gate_linear: o.cell_activation == LstmActivation::Identity,
        forget_mul,
        input_mul,
        hidden_mul,
        hidden_zero_point: hidden_zp,
        cell_clip: quantized_cell_clip(o.cell_clip, cell_scale),
        cell_tanh: cell_tanh_scale(cell_scale),
    };
    let macs = (batches * time_steps * 4 * units * (input_size + units)) as u64;
    Ok((
        Kernel::LstmI8(params, LstmWeights { filter, bias }),
        vec![input.0, hidden.0, cell.0],
        macs,
    ))
}

/// Validates a float32 LSTM: float32 weights `[units, columns]` and biases `[units]` per
/// gate, float32 hidden and cell state.
pub fn prepare_f32(cx: &OpCx, o: &LstmOptions) -> Prepared {
    let input = cx.input(INPUT, "input")?;
    let shape = shape_and_state(cx, o, DType::F32, DType::F32)?;
    let mut filter = Vec::with_capacity(4 * shape.units * (shape.input_size + shape.units));
    let mut bias = Vec::with_capacity(4 * shape.units);
    for (name, w_in, w_rec, b) in GATES {
        for (slot, columns, part) in [
            (w_in, shape.input_size, "input"),
            (w_rec, shape.units, "recurrent"),
        ] {
            let what = format!("{name} gate {part} weights");
            let w = cx.input(slot, &what)?;
            cx.expect_dtype(w, DType::F32, &what)?;
            cx.expect_const(w, &what)?;
            if w.1.shape != [shape.units, columns] {
                return Err(cx.err(format!(
                    "{what} {} have shape {:?}, expected {:?}",
                    cx.describe(w.0),
                    w.1.shape,
                    [shape.units, columns]
                )));
            }
            filter.extend(floats_of(w.1));
        }
        let what = format!("{name} gate bias");
        let b = cx.input(b, &what)?;
        cx.expect_dtype(b, DType::F32, &what)?;
        cx.expect_const(b, &what)?;
        if b.1.elements() != shape.units {
            return Err(cx.err(format!(
                "{what} {} has {} elements, expected {}",
                cx.describe(b.0),
                b.1.elements(),
                shape.units
            )));
        }
        bias.extend(floats_of(b.1));
    }
    let params = rt::LstmF32 {
        batches: shape.batches,
        time_steps: shape.time_steps,
        input_size: shape.input_size,
        units: shape.units,
        time_major: o.time_major,
        cell_gate_linear: o.cell_activation == LstmActivation::Identity,
        cell_clip: o.cell_clip,
    };
    let macs =
        (shape.batches * shape.time_steps * 4 * shape.units) * (shape.input_size + shape.units);
    Ok((
        Kernel::LstmF32(params, LstmWeightsF32 { filter, bias }),
        vec![input.0, shape.hidden.0, shape.cell.0],
        macs as u64,
    ))
}

/// A constant float32 tensor's values.
fn floats_of(t: &crate::ir::Tensor) -> Vec<f32> {
    t.data
        .as_deref()
        .unwrap_or(&[])
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// An LSTM's sizes and its two state tensors.
struct Shape<'a> {
    batches: usize,
    time_steps: usize,
    input_size: usize,
    units: usize,
    hidden: (crate::ir::TensorId, &'a crate::ir::Tensor),
    cell: (crate::ir::TensorId, &'a crate::ir::Tensor),
}

/// Checks what the int8 and float32 LSTMs share: no optional parts TFLM lacks, variable
/// states of the given types, an output of the input's type, and consistent shapes.
fn shape_and_state<'a>(
    cx: &'a OpCx,
    o: &LstmOptions,
    hidden_type: DType,
    cell_type: DType,
) -> Result<Shape<'a>, ValidateError> {
    let input = cx.input(INPUT, "input")?;
    for slot in PEEPHOLES.iter().chain(&PROJECTION).chain(&LAYER_NORMS) {
        if let Some((id, _)) = cx.optional_input(*slot) {
            return Err(cx.err(format!(
                "has {} at input {slot}; TFLM's LSTM takes no peepholes, projection or layer \
                 normalization",
                cx.describe(id)
            )));
        }
    }
    let hidden = cx.input(HIDDEN_STATE, "hidden state")?;
    let cell = cx.input(CELL_STATE, "cell state")?;
    for (state, what) in [(hidden, "hidden state"), (cell, "cell state")] {
        if !cx.graph.variables.contains(&state.0) {
            return Err(cx.err(format!(
                "{what} {} must be a variable tensor",
                cx.describe(state.0)
            )));
        }
    }
    cx.expect_dtype(hidden, hidden_type, "hidden state")?;
    cx.expect_dtype(cell, cell_type, "cell state")?;
    let output = cx.output()?;
    cx.expect_dtype(output, input.1.dtype, "output")?;
    cx.expect_rank(input, 3, "input")?;

    let (d0, d1, input_size) = (input.1.shape[0], input.1.shape[1], input.1.shape[2]);
    let (batches, time_steps) = if o.time_major { (d1, d0) } else { (d0, d1) };
    let units = match hidden.1.shape.as_slice() {
        [_, units] => *units,
        shape => {
            return Err(cx.err(format!(
                "hidden state {} must have rank 2, has shape {shape:?}",
                cx.describe(hidden.0)
            )))
        }
    };
    for state in [hidden, cell] {
        if state.1.elements() != batches * units {
            return Err(cx.err(format!(
                "{} has {} elements, expected {batches} sequences × {units} units",
                cx.describe(state.0),
                state.1.elements()
            )));
        }
    }
    if output.1.shape != [d0, d1, units] {
        return Err(cx.err(format!(
            "output {} has shape {:?}, expected {:?}",
            cx.describe(output.0),
            output.1.shape,
            [d0, d1, units]
        )));
    }
    if units == 0 || input_size == 0 {
        return Err(cx.err("has no units or no input features"));
    }
    Ok(Shape {
        batches,
        time_steps,
        input_size,
        units,
        hidden,
        cell,
    })
}

/// Checks one gate's weights at `slot` (`[units, columns]`, int8, per tensor, symmetric,
/// constant), appends them to `filter` and returns their Q3.12 requantization (TFLM's
/// `GetQuantizedConvolutionMultipler`: the product of scales in f32) and row sums.
#[allow(clippy::too_many_arguments)]
fn gate_weights(
    cx: &OpCx,
    slot: usize,
    gate: &str,
    units: usize,
    columns: usize,
    activation_scale: f32,
    filter: &mut Vec<u8>,
) -> Result<((i32, i32), Vec<i32>), ValidateError> {
    let what = format!("{gate} gate weights");
    let w = cx.input(slot, &what)?;
    cx.expect_dtype(w, DType::I8, &what)?;
    cx.expect_const(w, &what)?;
    if w.1.shape != [units, columns] {
        return Err(cx.err(format!(
            "{what} {} have shape {:?}, expected {:?}",
            cx.describe(w.0),
            w.1.shape,
            [units, columns]
        )));
    }
    let (scale, zp) = cx.per_tensor(w, &what)?;
    if zp != 0 {
        return Err(cx.err(format!(
            "{what} {} have zero point {zp}; TFLM's LSTM takes symmetric weights",
            cx.describe(w.0)
        )));
    }
    let data = w.1.data.clone().unwrap_or_default();
    let sums = data
        .chunks(columns)
        .map(|row| row.iter().map(|&v| v as i8 as i32).sum())
        .collect();
    filter.extend_from_slice(&data);
    let product = (activation_scale * scale) as f64;
    let m = cx.multiplier(product / GATE_INPUT_SCALE as f64, &what)?;
    Ok((m, sums))
}

/// TFLM's `quantized_cell_clip`: `cell_clip / scale` saturated to int16 and truncated (0: no
/// clipping).
fn quantized_cell_clip(cell_clip: f32, cell_scale: f32) -> i32 {
    if cell_clip > 0.0 {
        (cell_clip as f64 / cell_scale as f64).clamp(-32768.0, 32767.0) as i16 as i32
    } else {
        0
    }
}

/// How the cell state enters tanh: its scale is `2^p` and tanh wants Q3.12 · 3, so the input
/// is multiplied by `3 << (p + 12)`, or by 3 and shifted right when `p < -12` (TFLM's
/// `tanh_input_left_shift`).
fn cell_tanh_scale(cell_scale: f32) -> rt::InputScale16 {
    let power = (cell_scale as f64).log2().round() as i32;
    let left = 15 + power - 3;
    if left < 0 {
        rt::InputScale16 {
            multiplier: 3,
            shift: -left,
        }
    } else {
        rt::InputScale16 {
            multiplier: 3 << left.min(16),
            shift: 0,
        }
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn cell_state_scales_become_tanh_input_scales() {
        // 2^-12: Q3.12 already, ×3. 2^-11: one more integer bit, ×6. 2^-13: ×3, >> 1.
        let scale = |m, s| rt::InputScale16 {
            multiplier: m,
            shift: s,
        };
        assert_eq!(cell_tanh_scale(1.0 / 4096.0), scale(3, 0));
        assert_eq!(cell_tanh_scale(1.0 / 2048.0), scale(6, 0));
        assert_eq!(cell_tanh_scale(1.0 / 8192.0), scale(3, 1));
    }

    #[test]
    fn cell_clip_saturates_to_int16() {
        assert_eq!(quantized_cell_clip(10.0, 1.0 / 4096.0), 32767);
        assert_eq!(quantized_cell_clip(3.0, 1.0 / 4096.0), 12288);
        assert_eq!(quantized_cell_clip(0.0, 1.0 / 4096.0), 0);
    }
}
