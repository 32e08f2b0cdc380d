//! Int8 SVDF with an int16 activation state, as TFLM's full-integer SVDF computes it (and the
//! float32 SVDF, [`svdf_f32`]): a rank-decomposed 1-D convolution over time whose memory is
//! the state.
//!
//! Each call, per sequence in the batch:
//! 1. the state (`filters` rows of `memory` values) moves one step back in time (the oldest
//!    value of each row drops out);
//! 2. each filter's feature value, `Σ w_feature · (x - input_zero_point)` requantized to the
//!    state's scale, plus the state's zero point, saturated to int16, becomes its row's
//!    newest value;
//! 3. each unit's output is `bias + Σ` over its `rank` filters `Σ w_time · (state - zero point)`,
//!    requantized to the output and saturated to int8. TFLM's integer SVDF applies no fused
//!    activation.

use super::*;

/// Per-layer constants of an int8 SVDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Svdf {
    /// Sequences in the batch.
    pub batches: usize,
    /// Features of one input row.
    pub input_size: usize,
    /// Filters (`units · rank`).
    pub filters: usize,
    /// Filters per unit.
    pub rank: usize,
    /// Time steps each filter remembers.
    pub memory: usize,
    /// Zero point of the input.
    pub input_zero_point: i32,
    /// Zero point of the state.
    pub state_zero_point: i32,
    /// Zero point of the output.
    pub output_zero_point: i32,
    /// Feature value → state: multiplier and shift.
    pub feature_multiplier: i32,
    /// Feature value → state: shift.
    pub feature_shift: i32,
    /// Time sum → output: multiplier.
    pub output_multiplier: i32,
    /// Time sum → output: shift.
    pub output_shift: i32,
}

/// One SVDF call. `feature` is `[filters, input_size]` int8 bytes, `time` `[filters, memory]`,
/// `bias` one per unit (zeros when the model has none), `state` `[batches, filters, memory]`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn svdf_i8(
    p: &Svdf,
    input: &[i8],
    feature: &[u8],
    time: &[i16],
    bias: &[i32],
    state: &mut [i16],
    output: &mut [i8],
) {
    // 1. Everything one step back (the first value of each row moves into the previous
    // row's last slot, which step 2 overwrites).
    if !state.is_empty() {
        state.copy_within(1.., 0);
    }
    let (n, m) = (p.input_size, p.memory);
    let units = p.filters / p.rank.max(1);
    for b in 0..p.batches {
        let x = input.get(b * n..(b + 1) * n).unwrap_or(&[]);
        let rows = state
            .get_mut(b * p.filters * m..(b + 1) * p.filters * m)
            .unwrap_or(&mut []);
        // 2. The newest value of each filter's row.
        for (f, row) in rows.chunks_exact_mut(m.max(1)).enumerate() {
            let w = feature.get(f * n..(f + 1) * n).unwrap_or(&[]);
            let mut acc = 0i32;
            for (&w, &v) in w.iter().zip(x) {
                acc = acc.wrapping_add(
                    (w as i8 as i32).wrapping_mul((v as i32).wrapping_sub(p.input_zero_point)),
                );
            }
            let scaled =
                multiply_by_quantized_multiplier(acc, p.feature_multiplier, p.feature_shift)
                    .wrapping_add(p.state_zero_point);
            if let Some(last) = row.last_mut() {
                *last = clamp_i16(scaled);
            }
        }
        // 3. Each unit: its filters' rows against their time weights.
        let out = output
            .get_mut(b * units..(b + 1) * units)
            .unwrap_or(&mut []);
        for (u, o) in out.iter_mut().enumerate() {
            let mut acc = bias.get(u).copied().unwrap_or(0);
            for f in u * p.rank..(u + 1) * p.rank {
                let row = rows.get(f * m..(f + 1) * m).unwrap_or(&[]);
                let w = time.get(f * m..(f + 1) * m).unwrap_or(&[]);
                for (&w, &s) in w.iter().zip(row) {
                    acc = acc.wrapping_add(
                        (w as i32).wrapping_mul((s as i32).wrapping_sub(p.state_zero_point)),
                    );
                }
            }
            let v = multiply_by_quantized_multiplier(acc, p.output_multiplier, p.output_shift)
                .wrapping_add(p.output_zero_point);
            *o = v.clamp(-128, 127) as i8;
        }
    }
}

/// Per-layer constants of a float32 SVDF.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SvdfF32 {
    /// Sequences in the batch.
    pub batches: usize,
    /// Features of one input row.
    pub input_size: usize,
    /// Filters (`units · rank`).
    pub filters: usize,
    /// Filters per unit.
    pub rank: usize,
    /// Time steps each filter remembers.
    pub memory: usize,
    /// Whether a fused activation clamps the outputs.
    pub clamp: bool,
    /// Its lower bound.
    pub act_min: f32,
    /// Its upper bound.
    pub act_max: f32,
}

/// One float32 SVDF call (TFLM `EvalFloatSvdfReference`). `feature` is `[filters,
/// input_size]`, `time` `[filters, memory]`, `bias` one per unit (zeros when the model has
/// none: TFLM then starts each output at 0), `state` `[batches, filters, memory]`. Each filter's
/// memory moves one step back and takes `Σ feature · x` as its newest value; each unit's output
/// is its bias plus, filter by filter, `Σ time · state`, each sum from 0 in memory order; the
/// activation is TFLite's `ActivationValFloat` (`max(lo, min(x, hi))`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn svdf_f32(
    p: &SvdfF32,
    input: &[f32],
    feature: &[f32],
    time: &[f32],
    bias: &[f32],
    state: &mut [f32],
    output: &mut [f32],
) {
    // The whole state one step back, as TFLM shifts it (each row's first value moves into the
    // previous row's last slot, which the newest value then overwrites).
    if !state.is_empty() {
        state.copy_within(1.., 0);
    }
    let span = p.filters * p.memory;
    let units = p.filters / p.rank.max(1);
    for b in 0..p.batches {
        let row = input
            .get(b * p.input_size..(b + 1) * p.input_size)
            .unwrap_or(&[]);
        let Some(memory) = state.get_mut(b * span..(b + 1) * span) else {
            continue;
        };
        for f in 0..p.filters {
            let weights = feature
                .get(f * p.input_size..(f + 1) * p.input_size)
                .unwrap_or(&[]);
            let mut dot = 0.0f32;
            for (&w, &x) in weights.iter().zip(row) {
                dot += w * x;
            }
            if let Some(newest) = memory.get_mut(f * p.memory + p.memory - 1) {
                *newest = dot;
            }
        }
        let Some(out_row) = output.get_mut(b * units..(b + 1) * units) else {
            continue;
        };
        for (i, o) in out_row.iter_mut().enumerate() {
            let mut total = bias.get(i).copied().unwrap_or(0.0);
            for f in i * p.rank..(i + 1) * p.rank {
                let steps = f * p.memory..(f + 1) * p.memory;
                let mut sum = 0.0f32;
                for (&w, &v) in time
                    .get(steps.clone())
                    .unwrap_or(&[])
                    .iter()
                    .zip(memory.get(steps).unwrap_or(&[]))
                {
                    sum += w * v;
                }
                total += sum;
            }
            *o = if p.clamp {
                let capped = if total < p.act_max { total } else { p.act_max };
                if p.act_min > capped {
                    p.act_min
                } else {
                    capped
                }
            } else {
                total
            };
        }
    }
}
