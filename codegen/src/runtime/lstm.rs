//! Int8 UNIDIRECTIONAL_SEQUENCE_LSTM as TFLM computes it (its integer LSTM: int8 activations
//! and weights, int16 gates and cell state), one time step after another:
//!
//! - each gate is `act(FC(x) + FC(h))`: two fully connected parts with int32 accumulators,
//!   each requantized to Q3.12 int16 and saturated, added with saturation, then sigmoid (the
//!   cell gate: tanh, or nothing at all when the model's fused activation is not TANH, as
//!   TFLM does) to Q0.15;
//! - `c = sat(f·c) + sat(i·g)` (saturating, then clipped to `±cell_clip` when set), products
//!   requantized to the cell state's scale;
//! - `h = requant(tanh(c) · o) + hidden_zero_point`, int8; `h` is also the step's output row.
//!
//! The hidden and cell state are the caller's (the model's state, kept across calls).

use super::*;

/// Requantization of one gate's two fully connected parts to Q3.12.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LstmGate {
    /// Multiplier of the input part.
    pub input_multiplier: i32,
    /// Shift of the input part.
    pub input_shift: i32,
    /// Multiplier of the recurrent part.
    pub recurrent_multiplier: i32,
    /// Shift of the recurrent part.
    pub recurrent_shift: i32,
}

/// A requantizing int16 × int16 product (TFLite `MulElementwise` with zero input offsets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LstmMul {
    /// Q31 multiplier.
    pub multiplier: i32,
    /// Shift.
    pub shift: i32,
}

/// Per-layer constants of an int8 LSTM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lstm {
    /// Sequences in the batch.
    pub batches: usize,
    /// Time steps per sequence.
    pub time_steps: usize,
    /// Features of one input step.
    pub input_size: usize,
    /// Units: size of the hidden and cell state of one sequence.
    pub units: usize,
    /// Input and output are `[time, batch, features]` (else `[batch, time, features]`).
    pub time_major: bool,
    /// The forget, input, cell and output gates, in that order.
    pub gates: [LstmGate; 4],
    /// The cell gate is the gate's sum itself, not its tanh (TFLM for a fused activation
    /// other than TANH).
    pub cell_gate_linear: bool,
    /// Forget gate × cell state → cell state.
    pub forget_mul: LstmMul,
    /// Input gate × cell gate → cell state.
    pub input_mul: LstmMul,
    /// tanh(cell state) × output gate → hidden state.
    pub hidden_mul: LstmMul,
    /// Zero point of the hidden state (and the output).
    pub hidden_zero_point: i32,
    /// Bound of the cell state (0: no clipping).
    pub cell_clip: i32,
    /// How the cell state enters tanh (its scale is a power of two).
    pub cell_tanh: InputScale16,
}

/// Q3.12 gate inputs enter sigmoid and tanh this way (TFLite's power-of-two case, shift 0).
pub const LSTM_GATE_SCALE: InputScale16 = InputScale16 {
    multiplier: 3,
    shift: 0,
};

/// `bias + Σ w·x` of one row of `filter` (int8 bytes), requantized to Q3.12 and saturated.
#[inline(always)]
fn lstm_fc(row: &[u8], x: &[i8], bias: i32, multiplier: i32, shift: i32) -> i32 {
    let mut acc = bias;
    for (&w, &v) in row.iter().zip(x) {
        acc = acc.wrapping_add((w as i8 as i32).wrapping_mul(v as i32));
    }
    clamp_i16(multiply_by_quantized_multiplier(acc, multiplier, shift)) as i32
}

/// `sat16(requant(a · b))`.
#[inline(always)]
fn lstm_mul(a: i16, b: i16, m: LstmMul) -> i16 {
    clamp_i16(multiply_by_quantized_multiplier(
        (a as i32).wrapping_mul(b as i32),
        m.multiplier,
        m.shift,
    ))
}

/// Runs the whole sequence. `filter` holds per gate (forget, input, cell, output) its input
/// weights `[units, input_size]` then its recurrent weights `[units, units]`; `bias` per gate
/// its input part's bias (`bias + input_offset · Σ w`) then its recurrent part's
/// (`hidden_offset · Σ w`), `units` each. `gates` is scratch of `4 · units` int16.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn lstm_i8(
    p: &Lstm,
    input: &[i8],
    filter: &[u8],
    bias: &[i32],
    hidden: &mut [i8],
    cell: &mut [i16],
    gates: &mut [i16],
    output: &mut [i8],
) {
    let (n, units) = (p.input_size, p.units);
    let gate_weights = units * n + units * units;
    for b in 0..p.batches {
        for t in 0..p.time_steps {
            let row = if p.time_major {
                t * p.batches + b
            } else {
                b * p.time_steps + t
            };
            let x = input.get(row * n..(row + 1) * n).unwrap_or(&[]);
            let h = hidden.get(b * units..(b + 1) * units).unwrap_or(&[]);
            // All four gates from the previous hidden state.
            for (g, gate) in p.gates.iter().enumerate() {
                let weights = filter
                    .get(g * gate_weights..(g + 1) * gate_weights)
                    .unwrap_or(&[]);
                let (w_in, w_rec) = weights.split_at(weights.len().min(units * n));
                let biases = bias.get(2 * g * units..(2 * g + 2) * units).unwrap_or(&[]);
                let (b_in, b_rec) = biases.split_at(biases.len().min(units));
                let out = gates.get_mut(g * units..(g + 1) * units).unwrap_or(&mut []);
                for (j, o) in out.iter_mut().enumerate() {
                    let from_input = lstm_fc(
                        w_in.get(j * n..(j + 1) * n).unwrap_or(&[]),
                        x,
                        b_in.get(j).copied().unwrap_or(0),
                        gate.input_multiplier,
                        gate.input_shift,
                    );
                    let from_hidden = lstm_fc(
                        w_rec.get(j * units..(j + 1) * units).unwrap_or(&[]),
                        h,
                        b_rec.get(j).copied().unwrap_or(0),
                        gate.recurrent_multiplier,
                        gate.recurrent_shift,
                    );
                    let sum = clamp_i16(from_input + from_hidden);
                    *o = match (g, p.cell_gate_linear) {
                        (2, true) => sum,
                        (2, false) => tanh_i16(sum, LSTM_GATE_SCALE),
                        _ => sigmoid_i16(sum, LSTM_GATE_SCALE),
                    };
                }
            }
            // The cell and hidden state, element by element.
            let (f, rest) = gates.split_at(gates.len().min(units));
            let (i, rest) = rest.split_at(rest.len().min(units));
            let (g, o) = rest.split_at(rest.len().min(units));
            let c = cell.get_mut(b * units..(b + 1) * units).unwrap_or(&mut []);
            let h = hidden
                .get_mut(b * units..(b + 1) * units)
                .unwrap_or(&mut []);
            let out = output
                .get_mut(row * units..(row + 1) * units)
                .unwrap_or(&mut []);
            let lanes = c.iter_mut().zip(h.iter_mut()).zip(out);
            for ((((c, h), out), (&f, &i)), (&g, &o)) in
                lanes.zip(f.iter().zip(i)).zip(g.iter().zip(o))
            {
                let kept = lstm_mul(f, *c, p.forget_mul);
                let added = lstm_mul(i, g, p.input_mul);
                let mut next = clamp_i16(kept as i32 + added as i32);
                if p.cell_clip > 0 {
                    next = (next as i32).clamp(-p.cell_clip, p.cell_clip) as i16;
                }
                *c = next;
                let squashed = tanh_i16(next, p.cell_tanh);
                let v = multiply_by_quantized_multiplier(
                    (squashed as i32).wrapping_mul(o as i32),
                    p.hidden_mul.multiplier,
                    p.hidden_mul.shift,
                )
                .wrapping_add(p.hidden_zero_point);
                *h = v.clamp(-128, 127) as i8;
                *out = *h;
            }
        }
    }
}

/// Per-layer constants of a float32 LSTM (TFLM's float `LstmStep`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmF32 {
    /// Sequences in the batch.
    pub batches: usize,
    /// Time steps per sequence.
    pub time_steps: usize,
    /// Features of one input step.
    pub input_size: usize,
    /// Units: size of the hidden and cell state of one sequence.
    pub units: usize,
    /// Input and output are `[time, batch, features]` (else `[batch, time, features]`).
    pub time_major: bool,
    /// The cell gate is the gate's sum itself, not its tanh (TFLM for a fused activation
    /// other than TANH).
    pub cell_gate_linear: bool,
    /// Bound of the cell state (0: no clipping).
    pub cell_clip: f32,
}

/// TFLite's `ActivationFunctionWithMinMax` over the whole float range, as the LSTM's fully
/// connected parts and products apply it: only ±inf change (to ±`f32::MAX`).
#[inline(always)]
fn lstm_f32_bounds(x: f32) -> f32 {
    let x = if x < f32::MIN { f32::MIN } else { x };
    if f32::MAX < x {
        f32::MAX
    } else {
        x
    }
}

/// `Σ x·w` of one weight row, in order, plus `bias` (TFLite's float `FullyConnected`).
#[inline(always)]
fn lstm_f32_fc(row: &[f32], x: &[f32], bias: f32) -> f32 {
    let mut total = 0.0f32;
    for (&w, &v) in row.iter().zip(x) {
        total += v * w;
    }
    lstm_f32_bounds(total + bias)
}

/// Runs the whole float32 sequence as TFLM does, element for element: each gate is
/// `act((Σ x·w + bias) + (Σ h·r + 0))` (sigmoid: TFLite's float LOGISTIC; the cell gate tanh,
/// or nothing when the model's fused activation is not TANH); `c = f·c + i·g`, clipped to
/// `±cell_clip` when set; `h = tanh(c)·o`. `filter` holds per gate (forget, input, cell,
/// output) its input weights `[units, input_size]` then its recurrent weights `[units,
/// units]`; `bias` one row of `units` per gate. The step's output row holds the new hidden
/// state until every unit has read the old one.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn lstm_f32(
    p: &LstmF32,
    input: &[f32],
    filter: &[f32],
    bias: &[f32],
    hidden: &mut [f32],
    cell: &mut [f32],
    output: &mut [f32],
) {
    let (n, units) = (p.input_size, p.units);
    let gate_weights = units * n + units * units;
    for b in 0..p.batches {
        for t in 0..p.time_steps {
            let row = if p.time_major {
                t * p.batches + b
            } else {
                b * p.time_steps + t
            };
            let x = input.get(row * n..(row + 1) * n).unwrap_or(&[]);
            let h = hidden
                .get_mut(b * units..(b + 1) * units)
                .unwrap_or(&mut []);
            let c = cell.get_mut(b * units..(b + 1) * units).unwrap_or(&mut []);
            let out = output
                .get_mut(row * units..(row + 1) * units)
                .unwrap_or(&mut []);
            for (j, (c, out)) in c.iter_mut().zip(out.iter_mut()).enumerate() {
                let mut gate = [0.0f32; 4];
                for (g, value) in gate.iter_mut().enumerate() {
                    let weights = filter
                        .get(g * gate_weights..(g + 1) * gate_weights)
                        .unwrap_or(&[]);
                    let (w_in, w_rec) = weights.split_at(weights.len().min(units * n));
                    let from_input = lstm_f32_fc(
                        w_in.get(j * n..(j + 1) * n).unwrap_or(&[]),
                        x,
                        bias.get(g * units + j).copied().unwrap_or(0.0),
                    );
                    let from_hidden =
                        lstm_f32_fc(w_rec.get(j * units..(j + 1) * units).unwrap_or(&[]), h, 0.0);
                    let sum = from_input + from_hidden;
                    *value = match (g, p.cell_gate_linear) {
                        (2, true) => sum,
                        (2, false) => tanh_f32(sum),
                        _ => logistic_f32(sum),
                    };
                }
                let [f, i, g, o] = gate;
                let mut next = lstm_f32_bounds(f * *c) + lstm_f32_bounds(i * g);
                if p.cell_clip > 0.0 {
                    // std::max(std::min(clip, c), -clip), NaN included
                    let below = if next < p.cell_clip {
                        next
                    } else {
                        p.cell_clip
                    };
                    next = if below < -p.cell_clip {
                        -p.cell_clip
                    } else {
                        below
                    };
                }
                *c = next;
                *out = lstm_f32_bounds(tanh_f32(next) * o);
            }
            let new_hidden = output.get(row * units..(row + 1) * units).unwrap_or(&[]);
            for (h, &v) in h.iter_mut().zip(new_hidden) {
                *h = v;
            }
        }
    }
}
