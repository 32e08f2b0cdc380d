//! Int8 FULLY_CONNECTED with a weight offset (asymmetric weights, TFLite's reference kernel);
//! symmetric layers run as 1×1 convolutions ([`conv2d_fast`]).

use super::*;

/// Per-layer constants of FULLY_CONNECTED.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FullyConnected {
    /// Rows of the input (all dimensions but the last of the output).
    pub batches: usize,
    /// Input features per row.
    pub in_features: usize,
    /// Output features per row.
    pub out_features: usize,
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `-weights_zero_point` (0 for symmetric weights).
    pub weights_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// True when `multiplier`/`shift` hold one entry per output feature.
    pub per_channel: bool,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

/// Int8 FULLY_CONNECTED (TFLite `FullyConnected` / `FullyConnectedPerChannel`).
/// `filter` is `[out_features, in_features]` int8 stored as bytes.
#[inline(always)]
pub fn fully_connected(
    p: &FullyConnected,
    input: &[i8],
    filter: &[u8],
    bias: Option<&[i32]>,
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let mut out_index = 0usize;
    for b in 0..p.batches {
        let row = input
            .get(b * p.in_features..(b + 1) * p.in_features)
            .unwrap_or(&[]);
        for oc in 0..p.out_features {
            let ws = filter
                .get(oc * p.in_features..(oc + 1) * p.in_features)
                .unwrap_or(&[]);
            let mut acc = 0i32;
            for (&x, &w) in row.iter().zip(ws) {
                acc = acc.wrapping_add(
                    (w as i8 as i32)
                        .wrapping_add(p.weights_offset)
                        .wrapping_mul((x as i32).wrapping_add(p.input_offset)),
                );
            }
            if let Some(bias) = bias {
                acc = acc.wrapping_add(bias.get(oc).copied().unwrap_or(0));
            }
            let q = if p.per_channel { oc } else { 0 };
            let m = multiplier.get(q).copied().unwrap_or(0);
            let s = shift.get(q).copied().unwrap_or(0);
            if let Some(o) = output.get_mut(out_index) {
                *o = requantize(acc, m, s, p.output_offset, p.act_min, p.act_max);
            }
            out_index += 1;
        }
    }
}
