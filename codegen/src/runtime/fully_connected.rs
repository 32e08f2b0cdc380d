//! Int8 FULLY_CONNECTED with a weight offset (asymmetric weights, TFLite's reference kernel);
//! symmetric layers run as 1×1 convolutions ([`conv2d_fast`]), or on Arm DSP cores as
//! [`fully_connected_pairs`] (weights packed by pairs of outputs at compile time).

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

/// Output features per tile of [`fully_connected_pairs`]: two pairs of channels.
pub const FC_TILE: usize = 4;

/// Words of [`fully_connected_pairs`]'s packed filter for `in_features` × `out_features`
/// weights: per tile of [`FC_TILE`] outputs, per group of 4 inputs, 4 words (as many bytes as
/// the int8 filter, both padded to multiples of 4).
pub fn fc_pairs_words(in_features: usize, out_features: usize) -> usize {
    out_features.div_ceil(FC_TILE) * in_features.div_ceil(4) * 4
}

/// Word `k` of [`fully_connected_pairs`]'s packed filter, from the `[out, in]` int8 `filter`
/// (compile time). Word `(t·G + g)·4 + j` serves tile `t`, input group `g` (inputs `4g..4g+4`):
/// pair `j / 2` (channels `a = 4t + j/2·2` and `b = a + 1`), even inputs (`4g`, `4g + 2`) when
/// `j` is even, odd ones (`4g + 1`, `4g + 3`) when odd. Each half holds one input `i` as the
/// bytes `(w[a][i] + 128, w[b][i])`: read as one i16 by SMLAD it is `w[a][i] + 128 +
/// 256·w[b][i]`, and its top byte alone (SXTB16 of the word rotated by 8) is `w[b][i]`.
/// Weights past the filter's edges are 0.
pub fn fc_pair_word(filter: &[u8], in_features: usize, out_features: usize, k: usize) -> u32 {
    let groups = in_features.div_ceil(4);
    let (tile, g, j) = (k / 4 / groups.max(1), (k / 4) % groups.max(1), k % 4);
    let a = tile * FC_TILE + (j / 2) * 2;
    let weight = |o: usize, i: usize| -> u8 {
        if o < out_features && i < in_features {
            filter.get(o * in_features + i).copied().unwrap_or(0)
        } else {
            0
        }
    };
    let half =
        |i: usize| -> u32 { ((weight(a, i) ^ 0x80) as u32) | ((weight(a + 1, i) as u32) << 8) };
    let first = 4 * g + (j % 2);
    half(first) | (half(first + 2) << 16)
}

/// Entry `k` of [`fully_connected_pairs`]'s start values, from the folded bias (bias + input
/// offset × Σ weights) per output (compile time): per pair `(a, b)`, `bias[a] + 256·bias[b]`
/// (wrapping) then `bias[b]`, so that `a`'s accumulator less `256·` b's starts at `bias[a]`. Channels past `out_features` count as 0.
pub fn fc_pair_bias(folded_bias: &[i32], out_features: usize, k: usize) -> i32 {
    let b = |o: usize| {
        if o < out_features {
            folded_bias.get(o).copied().unwrap_or(0)
        } else {
            0
        }
    };
    if k.is_multiple_of(2) {
        b(k).wrapping_add(b(k + 1).wrapping_mul(256))
    } else {
        b(k)
    }
}

/// Int8 FULLY_CONNECTED with symmetric weights for Arm DSP cores, bit-exact with TFLM's
/// `FullyConnected`. Outputs go [`FC_TILE`] at a time as two pairs `(a, b)`; each input word
/// is loaded and widened (SXTB16) once per tile and each packed weight word
/// ([`fc_pair_word`]) serves both channels of its pair: one SMLAD on the word as it is
/// (`Σ (w_a + 128 + 256·w_b)·x`), one SXTB16 of its top bytes and one SMLAD (`Σ w_b·x`), 3
/// instructions for 4 MACs where widening both channels' weights would take 4. The row's
/// `Σ x` (taken once, in the first tile) removes the `128`s: `acc_a − 256·acc_b − 128·Σx`.
/// `packed` holds [`fc_pairs_words`] words, `start` per tile its four [`fc_pair_bias`]
/// values; `p` is the layer as a 1×1 convolution over its rows.
#[inline(always)]
pub fn fully_connected_pairs(
    p: &ConvFast,
    input: &[i8],
    packed: &[u32],
    start: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let (inputs, outputs) = (s.in_c, s.out_c);
    let rows = s.batches * s.in_h * s.in_w;
    let words = 4 * inputs.div_ceil(4);
    for r in 0..rows {
        let row = input.get(r * inputs..(r + 1) * inputs).unwrap_or(&[]);
        let mut sum = 0i32;
        for (t, (w, st)) in packed
            .chunks_exact(words.max(4))
            .zip(start.chunks_exact(FC_TILE))
            .enumerate()
        {
            let mut acc = [st[0], st[1], st[2], st[3]];
            let tile_sum = fc_tile(w, row, &mut acc, t == 0);
            if t == 0 {
                sum = tile_sum;
            }
            let fix = sum.wrapping_mul(128);
            let values = [
                acc[0]
                    .wrapping_sub(acc[1].wrapping_mul(256))
                    .wrapping_sub(fix),
                acc[1],
                acc[2]
                    .wrapping_sub(acc[3].wrapping_mul(256))
                    .wrapping_sub(fix),
                acc[3],
            ];
            for (j, &v) in values.iter().enumerate() {
                let oc = t * FC_TILE + j;
                if oc < outputs {
                    store(p, multiplier, shift, output, r * outputs + oc, oc, v);
                }
            }
        }
    }
}

/// One tile of [`fully_connected_pairs`] over one row `x`: the four accumulators over every
/// input group (`w`: the tile's packed words, 4 per group), and `Σ x` when `sum` (else 0).
/// On Arm with the DSP extension the whole pairs of groups run as one `asm!` loop
/// ([`fc_tile_asm`]); the rest (and everything elsewhere) as
/// [`fc_groups_portable`].
#[inline(always)]
pub fn fc_tile(w: &[u32], x: &[i8], acc: &mut [i32; 4], sum: bool) -> i32 {
    #[allow(unused_mut)]
    let mut done = 0usize;
    #[allow(unused_mut)]
    let mut total = 0i32;
    #[cfg(target_arch = "arm")]
    {
        // Iterations (8 inputs each) per call with the sum: its 16-bit lanes gain at most
        // 4·128 per iteration, so 63 keep them inside i16.
        const SUM_CHUNK: usize = 63;
        let iterations = (x.len() / 8).min(w.len() / 8);
        if sum {
            while done < iterations {
                let n = (iterations - done).min(SUM_CHUNK);
                let lanes = fc_tile_asm::<true>(
                    w.as_ptr().wrapping_add(8 * done),
                    x.as_ptr().wrapping_add(8 * done),
                    n,
                    acc,
                );
                total = total
                    .wrapping_add(lanes as i16 as i32)
                    .wrapping_add((lanes >> 16) as i16 as i32);
                done += n;
            }
        } else if iterations > 0 {
            fc_tile_asm::<false>(w.as_ptr(), x.as_ptr(), iterations, acc);
            done = iterations;
        }
    }
    let rest = fc_groups_portable(
        w.get(8 * done..).unwrap_or(&[]),
        x.get(8 * done..).unwrap_or(&[]),
        acc,
    );
    if sum {
        total.wrapping_add(rest)
    } else {
        0
    }
}

/// [`fc_tile`] in portable Rust over the groups of `x` (the last one zero-padded) and their
/// words in `w`; returns `Σ x`.
#[inline(always)]
pub fn fc_groups_portable(w: &[u32], x: &[i8], acc: &mut [i32; 4]) -> i32 {
    let mut total = 0i32;
    for (g, ws) in w.chunks_exact(4).enumerate() {
        let at = 4 * g;
        if at >= x.len() {
            break;
        }
        let word = word_i8_tail(x, at);
        let (xe, xo) = (dsp::sxtb16(word), dsp::sxtb16_ror8(word));
        for (q, pair) in ws.chunks_exact(2).enumerate() {
            let (we, wo) = (pair[0], pair[1]);
            let (ra, rb) = (2 * q, 2 * q + 1);
            acc[ra] = dsp::smlad(we, xe, acc[ra]);
            acc[rb] = dsp::smlad(dsp::sxtb16_ror8(we), xe, acc[rb]);
            acc[ra] = dsp::smlad(wo, xo, acc[ra]);
            acc[rb] = dsp::smlad(dsp::sxtb16_ror8(wo), xo, acc[rb]);
        }
        for k in 0..4 {
            total = total.wrapping_add((word >> (8 * k)) as u8 as i8 as i32);
        }
    }
    total
}

/// The `asm!` loop of [`fc_tile`]: `iterations` (≥ 1) times two input groups (8 bytes of `x`,
/// any alignment: LDR allows unaligned words on ARMv7-M/ARMv8-M Mainline) against their 8
/// packed words at `w` (word-aligned), 17 instructions per group: the input word widened once
/// (SXTB16 even and odd bytes), then per pair two LDRD-loaded words, each one SMLAD as it is,
/// one SXTB16 of its top bytes and one SMLAD. With `SUM` each input word's bytes are also
/// added (SXTAB16, 2 more per group) into 16-bit lanes, returned as one word (each lane
/// gains at most 512 per iteration: callers keep `iterations` ≤ 63); else
/// returns 0. Reads memory only; SMLAD may set the sticky Q flag and the loop compares, so
/// flags are not declared preserved.
#[cfg(target_arch = "arm")]
#[inline(always)]
#[allow(unsafe_code)]
pub fn fc_tile_asm<const SUM: bool>(
    w: *const u32,
    x: *const i8,
    iterations: usize,
    acc: &mut [i32; 4],
) -> u32 {
    // One group; `$sum` goes between the input word's load and its widening.
    macro_rules! fc_group {
        ($sum:literal) => {
            concat!(
                "ldr {x}, [{px}], #4\n",
                $sum,
                "sxtb16 {xe}, {x}\n",
                "sxtb16 {x}, {x}, ror #8\n",
                "ldrd {w1}, {w2}, [{pw}], #8\n",
                "smlad {r0}, {w1}, {xe}, {r0}\n",
                "sxtb16 {w1}, {w1}, ror #8\n",
                "smlad {b0}, {w1}, {xe}, {b0}\n",
                "smlad {r0}, {w2}, {x}, {r0}\n",
                "sxtb16 {w2}, {w2}, ror #8\n",
                "smlad {b0}, {w2}, {x}, {b0}\n",
                "ldrd {w1}, {w2}, [{pw}], #8\n",
                "smlad {r1}, {w1}, {xe}, {r1}\n",
                "sxtb16 {w1}, {w1}, ror #8\n",
                "smlad {b1}, {w1}, {xe}, {b1}\n",
                "smlad {r1}, {w2}, {x}, {r1}\n",
                "sxtb16 {w2}, {w2}, ror #8\n",
                "smlad {b1}, {w2}, {x}, {b1}\n",
            )
        };
    }
    let end = x.wrapping_add(8 * iterations);
    let mut lanes = 0u32;
    let [r0, b0, r1, b1] = acc;
    if SUM {
        // SAFETY: the caller checked that `x` has `8 · iterations` readable bytes and `w`
        // `8 · iterations` aligned words; the loop stops when `x` reaches `end`.
        unsafe {
            core::arch::asm!(
                "2:",
                fc_group!("sxtab16 {s}, {s}, {x}\nsxtab16 {s}, {s}, {x}, ror #8\n"),
                fc_group!("sxtab16 {s}, {s}, {x}\nsxtab16 {s}, {s}, {x}, ror #8\n"),
                "cmp {px}, {end}",
                "bne 2b",
                px = inout(reg) x => _,
                pw = inout(reg) w => _,
                end = in(reg) end,
                s = inout(reg) lanes,
                x = out(reg) _,
                xe = out(reg) _,
                w1 = out(reg) _,
                w2 = out(reg) _,
                r0 = inout(reg) *r0,
                b0 = inout(reg) *b0,
                r1 = inout(reg) *r1,
                b1 = inout(reg) *b1,
                options(nostack, readonly),
            )
        };
    } else {
        // SAFETY: as above.
        unsafe {
            core::arch::asm!(
                "2:",
                fc_group!(""),
                fc_group!(""),
                "cmp {px}, {end}",
                "bne 2b",
                px = inout(reg) x => _,
                pw = inout(reg) w => _,
                end = in(reg) end,
                x = out(reg) _,
                xe = out(reg) _,
                w1 = out(reg) _,
                w2 = out(reg) _,
                r0 = inout(reg) *r0,
                b0 = inout(reg) *b0,
                r1 = inout(reg) *r1,
                b1 = inout(reg) *b1,
                options(nostack, readonly),
            )
        };
    }
    lanes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift) for the test's data.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn pairs_match_the_reference_kernel() {
        let mut st = 0x1234_5678_9abc_def1u64;
        for case in 0..300 {
            let inputs = 1 + (next(&mut st) % 140) as usize;
            let outputs = 1 + (next(&mut st) % 13) as usize;
            let rows = 1 + (next(&mut st) % 3) as usize;
            let zp = next(&mut st) as i8 as i32;
            // Extreme inputs and weights in some cases (all -128 or 127 saturate nothing
            // but stress the packing's 16-bit halves).
            let extreme = case % 5 == 0;
            let byte = |st: &mut u64| -> u8 {
                let v = next(st) as u8;
                if extreme {
                    if v & 1 == 0 {
                        0x80
                    } else {
                        0x7f
                    }
                } else {
                    v
                }
            };
            let input: Vec<i8> = (0..rows * inputs).map(|_| byte(&mut st) as i8).collect();
            let filter: Vec<u8> = (0..outputs * inputs).map(|_| byte(&mut st)).collect();
            let bias: Vec<i32> = (0..outputs).map(|_| (next(&mut st) as i32) >> 12).collect();
            let mult: Vec<i32> = (0..outputs)
                .map(|_| (1 << 30) + ((next(&mut st) as i32) >> 2).abs())
                .collect();
            let shift: Vec<i32> = (0..outputs)
                .map(|_| -((next(&mut st) % 8) as i32 + 6))
                .collect();
            let fc = FullyConnected {
                batches: rows,
                in_features: inputs,
                out_features: outputs,
                input_offset: -zp,
                weights_offset: 0,
                output_offset: next(&mut st) as i8 as i32,
                per_channel: true,
                act_min: -128,
                act_max: 127,
            };
            let mut want = vec![0i8; rows * outputs];
            fully_connected(&fc, &input, &filter, Some(&bias), &mult, &shift, &mut want);
            let folded: Vec<i32> = (0..outputs)
                .map(|o| {
                    let sw: i32 = (0..inputs)
                        .map(|i| filter[o * inputs + i] as i8 as i32)
                        .sum();
                    bias[o].wrapping_add(sw.wrapping_mul(-zp))
                })
                .collect();
            let packed: Vec<u32> = (0..fc_pairs_words(inputs, outputs))
                .map(|k| fc_pair_word(&filter, inputs, outputs, k))
                .collect();
            let start: Vec<i32> = (0..outputs.div_ceil(FC_TILE) * FC_TILE)
                .map(|k| fc_pair_bias(&folded, outputs, k))
                .collect();
            let p = ConvFast {
                shape: ConvShape {
                    batches: 1,
                    in_h: 1,
                    in_w: rows,
                    in_c: inputs,
                    out_h: 1,
                    out_w: rows,
                    out_c: outputs,
                    k_h: 1,
                    k_w: 1,
                    k_c: inputs,
                    stride_h: 1,
                    stride_w: 1,
                    dilation_h: 1,
                    dilation_w: 1,
                    pad_top: 0,
                    pad_left: 0,
                    depth_multiplier: 1,
                },
                input_zero_point: zp,
                output_offset: fc.output_offset,
                per_channel: true,
                act_min: -128,
                act_max: 127,
                fast_requant: false,
            };
            let mut got = vec![0i8; rows * outputs];
            fully_connected_pairs(&p, &input, &packed, &start, &mult, &shift, &mut got);
            assert_eq!(
                got, want,
                "case {case}: {inputs} inputs, {outputs} outputs, {rows} rows"
            );
        }
    }
}
