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

/// Output features per tile of [`fully_connected_pairs`]: two pairs of channels. When the
/// outputs rounded up to even leave two over, the last tile is one pair.
pub const FC_TILE: usize = 4;

/// Inputs per chunk of [`fully_connected_pairs`]'s reduction that are safe for any weights.
/// Its borrow fix-up recovers `S = Σ w_b·x` from `256·S` held in an i32, exact while `|S| <
/// 2^23`, which `Σ |w_b| ≤ 65535` over the chunk guarantees (`|x| ≤ 128`): 504 inputs (63
/// iterations of the `asm!` loop) of `|w| ≤ 128`.
pub const FC_CHUNK: usize = 504;

/// Inputs per chunk of [`fully_connected_pairs`]'s reduction for the `[out, in]` int8
/// `filter` (compile time): the longest of the row split into 1, 2, 3… equal chunks (rounded
/// up to a multiple of 8 inputs) over which every pair's `b` output has `Σ |w_b| ≤ 65535`;
/// at least [`FC_CHUNK`], or the whole row when shorter.
pub fn fc_pairs_chunk(filter: &[u8], in_features: usize, out_features: usize) -> usize {
    let fits = |len: usize| {
        (0..out_features / 2).all(|q| {
            let b = (2 * q + 1) * in_features;
            let row = filter.get(b..b + in_features).unwrap_or(&[]);
            row.chunks(len).all(|c| {
                c.iter()
                    .map(|&w| (w as i8 as i32).unsigned_abs())
                    .sum::<u32>()
                    <= 65535
            })
        })
    };
    let whole = in_features.next_multiple_of(8);
    if whole <= FC_CHUNK {
        return whole;
    }
    (1..=in_features)
        .map(|k| in_features.div_ceil(k).next_multiple_of(8))
        .find(|&len| len <= FC_CHUNK || fits(len))
        .map_or(FC_CHUNK, |len| len.max(FC_CHUNK))
}

/// Outputs of the tile of [`fully_connected_pairs`] that starts at output `oc` (a multiple
/// of [`FC_TILE`]): four, or two for a last pair (one or two outputs left).
#[inline(always)]
pub fn fc_tile_width(out_features: usize, oc: usize) -> usize {
    if out_features.saturating_sub(oc) > 2 {
        FC_TILE
    } else {
        2
    }
}

/// Words of [`fully_connected_pairs`]'s packed filter for `in_features` × `out_features`
/// weights: per output (rounded up to even) and group of 4 inputs, one word (as many bytes as
/// the int8 filter, both padded).
pub fn fc_pairs_words(in_features: usize, out_features: usize) -> usize {
    out_features.div_ceil(2) * 2 * in_features.div_ceil(4)
}

/// Whether [`fc_pair_word`] can pack `filter` (`[out, in]` int8): no input `i` of a pair of
/// outputs `(a, b)` has `w[b][i] = -128` with `w[a][i] < 0` (whose `256·w[b][i] + w[a][i]`
/// does not fit an i16). TFLite's symmetric weights (`-127..=127`) always fit.
pub fn fc_pairs_packable(filter: &[u8], in_features: usize, out_features: usize) -> bool {
    (0..out_features / 2).all(|q| {
        let (a, b) = (2 * q * in_features, (2 * q + 1) * in_features);
        match (filter.get(a..b), filter.get(b..b + in_features)) {
            (Some(wa), Some(wb)) => wa
                .iter()
                .zip(wb)
                .all(|(&va, &vb)| !(vb == 0x80 && (va as i8) < 0)),
            _ => false,
        }
    })
}

/// Word `k` of [`fully_connected_pairs`]'s packed filter, from the `[out, in]` int8 `filter`
/// (compile time; [`fc_pairs_packable`] must hold). The tile starting at output `oc` (width
/// `W`, [`fc_tile_width`]) owns words `oc·G..(oc + W)·G` (`G` groups of 4 inputs); its word
/// `g·W + j` serves input group `g` (inputs `4g..4g + 4`) and the pair of outputs `a =
/// oc + j/2·2`, `b = a + 1`: even inputs (`4g`, `4g + 2`) when `j` is even, odd ones when odd.
/// Each half holds one input `i` as the bytes `(w[a][i], w[b][i] − borrow)`, `borrow` = 1 when
/// `w[a][i] < 0`: read as one i16 (SMLAD) it is exactly `256·w[b][i] + w[a][i]`, and its low
/// byte alone (SXTB16) is `w[a][i]`. Weights past the filter's edges are 0.
pub fn fc_pair_word(filter: &[u8], in_features: usize, out_features: usize, k: usize) -> u32 {
    let groups = in_features.div_ceil(4).max(1);
    let oc = k / (FC_TILE * groups) * FC_TILE;
    let width = fc_tile_width(out_features, oc);
    let at = k - oc * groups;
    let (g, j) = (at / width, at % width);
    let a = oc + (j / 2) * 2;
    let weight = |o: usize, i: usize| -> i32 {
        if o < out_features && i < in_features {
            filter.get(o * in_features + i).copied().unwrap_or(0) as i8 as i32
        } else {
            0
        }
    };
    let half = |i: usize| -> u32 {
        let (wa, wb) = (weight(a, i), weight(a + 1, i));
        let high = wb - i32::from(wa < 0);
        (wa as u8 as u32) | ((high as u8 as u32) << 8)
    };
    let first = 4 * g + (j % 2);
    half(first) | (half(first + 2) << 16)
}

/// Int8 FULLY_CONNECTED with symmetric weights for Arm DSP cores, bit-exact with TFLM's
/// `FullyConnected`. Outputs go [`FC_TILE`] at a time (the last tile maybe 2,
/// [`fc_tile_width`]) as pairs `(a, b)`; each input word is loaded and widened (SXTB16) once
/// per tile and each packed weight word ([`fc_pair_word`]) serves both channels of its pair:
/// one SMLAD on the word as it is (`raw += Σ (256·w_b + w_a)·x`), one SXTB16 of its low bytes
/// and one SMLAD (`A += Σ w_a·x`), 3 instructions for 4 MACs where widening both channels'
/// weights would take 4. Then `B = (raw − A) >> 8`, per chunk of `chunk` inputs (a multiple
/// of 8, [`fc_pairs_chunk`]).
/// `packed` holds [`fc_pairs_words`] words, `bias` the folded bias (bias + input offset × Σ
/// weights) per output; `p` is the layer as a 1×1 convolution over its rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn fully_connected_pairs(
    p: &ConvFast,
    chunk: usize,
    input: &[i8],
    packed: &[u32],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let (inputs, outputs) = (s.in_c, s.out_c);
    let rows = s.batches * s.in_h * s.in_w;
    let groups = inputs.div_ceil(4);
    // Outputs rounded up to even: whole tiles of four, then maybe one pair.
    let padded = outputs.div_ceil(2) * 2;
    for r in 0..rows {
        let row = input.get(r * inputs..(r + 1) * inputs).unwrap_or(&[]);
        for oc in (0..padded / FC_TILE * FC_TILE).step_by(FC_TILE) {
            let w = packed.get(oc * groups..(oc + 4) * groups).unwrap_or(&[]);
            let mut acc = fc_bias(bias, oc);
            fc_tile::<4>(w, row, chunk, &mut acc);
            fc_put::<4>(p, multiplier, shift, output, r * outputs, oc, &acc);
        }
        if padded % FC_TILE != 0 {
            let oc = padded - 2;
            let w = packed.get(oc * groups..(oc + 2) * groups).unwrap_or(&[]);
            let mut acc = fc_bias(bias, oc);
            fc_tile::<2>(w, row, chunk, &mut acc);
            fc_put::<2>(p, multiplier, shift, output, r * outputs, oc, &acc);
        }
    }
}

/// Requantizes and stores the first `W` accumulators of the tile of [`fully_connected_pairs`]
/// at output `oc` of the row whose outputs start at `base` (those below `out_c`).
#[inline(always)]
pub fn fc_put<const W: usize>(
    p: &ConvFast,
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
    base: usize,
    oc: usize,
    acc: &[i32; 4],
) {
    for (j, &v) in acc.iter().enumerate().take(W) {
        if oc + j < p.shape.out_c {
            store(p, multiplier, shift, output, base + oc + j, oc + j, v);
        }
    }
}

/// The start values of the tile of [`fully_connected_pairs`] at output `oc`: `bias[oc..oc +
/// 4]`, 0 past its end.
#[inline(always)]
pub fn fc_bias(bias: &[i32], oc: usize) -> [i32; 4] {
    match bias.get(oc..oc + 4) {
        Some(&[a, b, c, d]) => [a, b, c, d],
        _ => core::array::from_fn(|j| bias.get(oc + j).copied().unwrap_or(0)),
    }
}

/// One tile of `W` (2 or 4) outputs of [`fully_connected_pairs`] over one row `x`: adds to
/// `acc` (`[a, b, a + 2, b + 2]`, the first `W` used) the dot products of the tile's packed
/// words `w` (`W` per input group) with `x`, `chunk` inputs (a multiple of 8) at a time
/// ([`fc_pairs_chunk`]). On Arm with the
/// DSP extension the chunk's whole pairs of groups run as one `asm!` loop ([`fc_tile_asm`]);
/// the rest (and everything elsewhere) as [`fc_groups_portable`].
#[inline(always)]
pub fn fc_tile<const W: usize>(w: &[u32], x: &[i8], chunk: usize, acc: &mut [i32; 4]) {
    let groups = x.len().div_ceil(4);
    let mut first = 0usize;
    while first < groups {
        let end = (first + (chunk / 4).max(2)).min(groups);
        // Per pair, `raw` (all of each half) and `A` (low bytes), both from `a`'s value.
        let mut sums = [acc[0], acc[0], acc[2], acc[2]];
        #[allow(unused_mut)]
        let mut done = first;
        #[cfg(target_arch = "arm")]
        {
            let asm_end = end.min(x.len() / 4).min(w.len() / W);
            let iterations = asm_end.saturating_sub(first) / 2;
            if iterations > 0 {
                fc_tile_asm::<W>(
                    w.as_ptr().wrapping_add(W * first),
                    x.as_ptr().wrapping_add(4 * first),
                    iterations,
                    &mut sums,
                );
                done += 2 * iterations;
            }
        }
        fc_groups_portable::<W>(w.get(W * done..W * end).unwrap_or(&[]), x, done, &mut sums);
        for q in 0..W / 2 {
            let (raw, a) = (sums[2 * q], sums[2 * q + 1]);
            acc[2 * q] = a;
            acc[2 * q + 1] = acc[2 * q + 1].wrapping_add(raw.wrapping_sub(a) >> 8);
        }
        first = end;
    }
}

/// [`fc_tile`] in portable Rust over the groups of `x` from group `first` (the last one
/// zero-padded) and their words in `w` (`W` per group): adds to `sums` (`[raw, A]` per pair).
#[inline(always)]
pub fn fc_groups_portable<const W: usize>(w: &[u32], x: &[i8], first: usize, sums: &mut [i32; 4]) {
    for (g, ws) in w.chunks_exact(W).enumerate() {
        let at = 4 * (first + g);
        if at >= x.len() {
            break;
        }
        let word = word_i8_tail(x, at);
        let (xe, xo) = (dsp::sxtb16(word), dsp::sxtb16_ror8(word));
        for (q, pair) in ws.chunks_exact(2).enumerate().take(2) {
            let (we, wo) = (pair[0], pair[1]);
            let (raw, a) = (2 * q, 2 * q + 1);
            sums[raw] = dsp::smlad(we, xe, sums[raw]);
            sums[a] = dsp::smlad(dsp::sxtb16(we), xe, sums[a]);
            sums[raw] = dsp::smlad(wo, xo, sums[raw]);
            sums[a] = dsp::smlad(dsp::sxtb16(wo), xo, sums[a]);
        }
    }
}

/// The `asm!` loop of [`fc_tile`]: `iterations` (≥ 1) times two input groups (8 bytes of `x`,
/// any alignment: LDR allows unaligned words on ARMv7-M/ARMv8-M Mainline) against their `2·W`
/// packed words at `w` (word-aligned). Per group the input word is widened once (SXTB16 even
/// and odd bytes), then per pair one LDRD of its two words, each one SMLAD as it is (`raw`),
/// one SXTB16 of its low bytes and one SMLAD (`A`): 17 instructions per group of a 4-wide
/// tile, 10 of a 2-wide one. The loop body holds two iterations (one compare and branch per
/// 16 inputs); an odd count enters it halfway. `sums` is `[raw, A]` per pair (the first two
/// only when `W` is 2). Reads memory only; SMLAD may set the sticky Q flag and the loop
/// compares, so flags are not declared preserved.
#[cfg(target_arch = "arm")]
#[inline(always)]
#[allow(unsafe_code)]
pub fn fc_tile_asm<const W: usize>(
    w: *const u32,
    x: *const i8,
    iterations: usize,
    sums: &mut [i32; 4],
) {
    // The input word of one group, loaded and widened: even bytes in {xe}, odd ones in {x}.
    macro_rules! fc_input {
        () => {
            concat!(
                "ldr {x}, [{px}], #4\n",
                "sxtb16 {xe}, {x}\n",
                "sxtb16 {x}, {x}, ror #8\n",
            )
        };
    }
    // One pair's two words of one group into its `raw` and `A` registers.
    macro_rules! fc_pair {
        ($raw:literal, $a:literal) => {
            concat!(
                "ldrd {w1}, {w2}, [{pw}], #8\n",
                "smlad {",
                $raw,
                "}, {w1}, {xe}, {",
                $raw,
                "}\n",
                "sxtb16 {w1}, {w1}\n",
                "smlad {",
                $a,
                "}, {w1}, {xe}, {",
                $a,
                "}\n",
                "smlad {",
                $raw,
                "}, {w2}, {x}, {",
                $raw,
                "}\n",
                "sxtb16 {w2}, {w2}\n",
                "smlad {",
                $a,
                "}, {w2}, {x}, {",
                $a,
                "}\n",
            )
        };
    }
    let end = x.wrapping_add(8 * iterations);
    // Enters the two-iteration body halfway when nonzero.
    let odd = iterations & 1;
    let [r0, a0, r1, a1] = sums;
    if W == FC_TILE {
        // SAFETY: the caller checked that `x` has `8 · iterations` readable bytes and `w`
        // `16 · iterations` aligned words; the loop stops when `x` reaches `end`, which it
        // meets after an even number of iterations from label 2 or an odd one from 3.
        unsafe {
            core::arch::asm!(
                "cmp {x}, #0",
                "bne 3f",
                "2:",
                fc_input!(),
                fc_pair!("r0", "a0"),
                fc_pair!("r1", "a1"),
                fc_input!(),
                fc_pair!("r0", "a0"),
                fc_pair!("r1", "a1"),
                "3:",
                fc_input!(),
                fc_pair!("r0", "a0"),
                fc_pair!("r1", "a1"),
                fc_input!(),
                fc_pair!("r0", "a0"),
                fc_pair!("r1", "a1"),
                "cmp {px}, {end}",
                "bne 2b",
                px = inout(reg) x => _,
                pw = inout(reg) w => _,
                end = in(reg) end,
                x = inout(reg) odd => _,
                xe = out(reg) _,
                w1 = out(reg) _,
                w2 = out(reg) _,
                r0 = inout(reg) *r0,
                a0 = inout(reg) *a0,
                r1 = inout(reg) *r1,
                a1 = inout(reg) *a1,
                options(nostack, readonly),
            )
        };
    } else {
        // SAFETY: as above, with `4 · iterations` words at `w`.
        unsafe {
            core::arch::asm!(
                "cmp {x}, #0",
                "bne 3f",
                "2:",
                fc_input!(),
                fc_pair!("r0", "a0"),
                fc_input!(),
                fc_pair!("r0", "a0"),
                "3:",
                fc_input!(),
                fc_pair!("r0", "a0"),
                fc_input!(),
                fc_pair!("r0", "a0"),
                "cmp {px}, {end}",
                "bne 2b",
                px = inout(reg) x => _,
                pw = inout(reg) w => _,
                end = in(reg) end,
                x = inout(reg) odd => _,
                xe = out(reg) _,
                w1 = out(reg) _,
                w2 = out(reg) _,
                r0 = inout(reg) *r0,
                a0 = inout(reg) *a0,
                options(nostack, readonly),
            )
        };
    }
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

    /// The layer as [`fully_connected_pairs`] takes it: a 1×1 convolution over `rows` rows.
    fn as_conv(rows: usize, inputs: usize, outputs: usize, zp: i32, out_zp: i32) -> ConvFast {
        ConvFast {
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
            output_offset: out_zp,
            per_channel: true,
            act_min: -128,
            act_max: 127,
            fast_requant: false,
        }
    }

    /// Weights of one case: random bytes (mode 0), the extremes -128, -127, 0 and 127 mixed
    /// (1), every weight of an output one extreme (2), or one value of magnitude 40-64 (3:
    /// chunks longer than [`FC_CHUNK`] whose `Σ |w_b|` is near [`fc_pairs_chunk`]'s bound).
    /// With inputs all one extreme, modes 2 and 3 make sums as large as the chunks allow.
    /// Packable ([`fc_pairs_packable`]) in modes 1-3.
    fn weights(st: &mut u64, mode: u64, inputs: usize, outputs: usize) -> Vec<u8> {
        let mut filter: Vec<u8> = match mode {
            0 => (0..outputs * inputs).map(|_| next(st) as u8).collect(),
            1 => (0..outputs * inputs)
                .map(|_| [0x80, 0x81, 0, 0x7f][(next(st) % 4) as usize])
                .collect(),
            2 => (0..outputs)
                .flat_map(|_| {
                    let v = [0x80u8, 0x81, 0x7f][(next(st) % 3) as usize];
                    core::iter::repeat_n(v, inputs)
                })
                .collect(),
            _ => (0..outputs)
                .flat_map(|_| {
                    let v = 40 + (next(st) % 25) as i8;
                    let v = if next(st) & 1 == 0 { -v } else { v };
                    core::iter::repeat_n(v as u8, inputs)
                })
                .collect(),
        };
        if mode != 0 {
            // The one combination the packing cannot hold: -128 for `b` where `a` < 0.
            for q in 0..outputs / 2 {
                for i in 0..inputs {
                    let (a, b) = (2 * q * inputs + i, (2 * q + 1) * inputs + i);
                    if filter[b] == 0x80 && (filter[a] as i8) < 0 {
                        filter[b] = 0x81;
                    }
                }
            }
        }
        filter
    }

    #[test]
    fn pairs_match_the_reference_kernel() {
        let mut st = 0x1234_5678_9abc_def1u64;
        let mut unpackable = 0;
        for case in 0..400 {
            let mode = next(&mut st) % 4;
            // One case in four has rows longer than FC_CHUNK (up to three chunks), and mode 3
            // always (one or two long chunks).
            let most = if case % 4 == 0 || mode == 3 {
                1300
            } else {
                140
            };
            let inputs = 1 + (next(&mut st) % most) as usize;
            let outputs = 1 + (next(&mut st) % 13) as usize;
            let rows = 1 + (next(&mut st) % 3) as usize;
            let zp = next(&mut st) as i8 as i32;
            let input: Vec<i8> = if mode >= 2 {
                let v = if next(&mut st) & 1 == 0 { -128 } else { 127 };
                vec![v; rows * inputs]
            } else if mode == 1 {
                (0..rows * inputs)
                    .map(|_| if next(&mut st) & 1 == 0 { -128 } else { 127 })
                    .collect()
            } else {
                (0..rows * inputs).map(|_| next(&mut st) as i8).collect()
            };
            let filter = weights(&mut st, mode, inputs, outputs);
            if !fc_pairs_packable(&filter, inputs, outputs) {
                assert_eq!(mode, 0, "case {case}: modes 1-3 are packable");
                unpackable += 1;
                continue;
            }
            let bias: Vec<i32> = (0..outputs).map(|_| (next(&mut st) as i32) >> 12).collect();
            let mult: Vec<i32> = (0..outputs)
                .map(|_| (1 << 30) + ((next(&mut st) as i32) >> 2).abs())
                .collect();
            // Large shifts when the sums are large, so that outputs do not all saturate.
            let base = if mode >= 2 { 16 } else { 6 };
            let shift: Vec<i32> = (0..outputs)
                .map(|_| -((next(&mut st) % 8) as i32 + base))
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
            let p = as_conv(rows, inputs, outputs, zp, fc.output_offset);
            let mut got = vec![0i8; rows * outputs];
            let chunk = fc_pairs_chunk(&filter, inputs, outputs);
            fully_connected_pairs(&p, chunk, &input, &packed, &folded, &mult, &shift, &mut got);
            assert_eq!(
                got, want,
                "case {case} (mode {mode}): {inputs} inputs, {outputs} outputs, {rows} rows"
            );
        }
        // Random bytes hold -128 often enough that some layers need the fallback.
        assert!(unpackable > 0);
    }

    #[test]
    fn chunks_are_as_long_as_the_weights_allow() {
        // One pair over 2000 inputs, `b`'s weights all `v`: one chunk while 2000·|v| ≤ 65535.
        let layer = |v: i8| -> Vec<u8> {
            let mut f = vec![0x7fu8; 2000];
            f.extend(core::iter::repeat_n(v as u8, 2000));
            f
        };
        assert_eq!(fc_pairs_chunk(&layer(-32), 2000, 2), 2000);
        assert_eq!(fc_pairs_chunk(&layer(33), 2000, 2), 1000);
        assert_eq!(fc_pairs_chunk(&layer(-128), 2000, 2), FC_CHUNK);
        // `a`'s weights and a lone output do not count.
        let mut f = vec![0x80u8; 3000];
        f[1000..2000].fill(1);
        assert_eq!(fc_pairs_chunk(&f, 1000, 3), 1000);
        // Short rows: one chunk, rounded up to whole iterations.
        assert_eq!(fc_pairs_chunk(&[0x80; 200], 100, 2), 104);
    }

    #[test]
    fn packed_halves_are_both_weights_exactly() {
        // Every (w_a, w_b) pair the packing holds, as the one pair of a 1-input layer.
        for wa in -128i32..=127 {
            for wb in -128i32..=127 {
                let filter = [wa as u8, wb as u8];
                let packable = fc_pairs_packable(&filter, 1, 2);
                assert_eq!(packable, !(wb == -128 && wa < 0), "({wa}, {wb})");
                if !packable {
                    continue;
                }
                let word = fc_pair_word(&filter, 1, 2, 0);
                assert_eq!(word as u16 as i16 as i32, 256 * wb + wa, "({wa}, {wb})");
                assert_eq!(dsp::sxtb16(word) as u16 as i16 as i32, wa, "({wa}, {wb})");
                assert_eq!(word >> 16, 0, "input 2 is past the edge");
            }
        }
    }

    #[test]
    fn tiles_cover_the_outputs_rounded_up_to_even() {
        for outputs in 1..=13usize {
            let mut oc = 0;
            let mut words = 0;
            while oc < outputs {
                let width = fc_tile_width(outputs, oc);
                words += width * 5;
                oc += width;
            }
            assert_eq!(oc, outputs.div_ceil(2) * 2, "{outputs} outputs");
            assert_eq!(words, fc_pairs_words(20, outputs), "{outputs} outputs");
        }
    }
}
