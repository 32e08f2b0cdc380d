//! Int8 SVDF with an int16 activation state, as TFLM's full-integer SVDF computes it: a
//! rank-decomposed 1-D convolution over time whose memory is the state.
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
