//! Int8 1×1 CONV_2D with 64, 128 or 256 input channels on Arm DSP cores: blocks of
//! [`WIDE_PIXELS`] pixels widened once, then every output channel through one `asm!` loop
//! that keeps the six accumulators, a widened weight word and four input words in registers
//! (`dsp::pointwise_wide6`), requantizes them in registers and stores the bytes.

use super::*;

/// Output pixels per block of [`conv2d_pointwise_wide`].
pub const WIDE_PIXELS: usize = 6;

/// Words of [`conv2d_pointwise_wide`]'s table per output channel ([`pointwise_wide_channel`]).
pub const WIDE_CHANNEL_WORDS: usize = 4;

/// Words after the widened block that `dsp::pointwise_wide6` reads and updates: the next
/// channel's table entry, the next channel's first output byte, the distance between pixels'
/// bytes (`out_c`), the filter's end and its start.
pub const WIDE_STATE_WORDS: usize = 5;

/// The constants of output channel `oc` in a [`conv2d_pointwise_wide`] table: its folded bias
/// doubled, its multiplier, [`small_offset_constant`]`(right, output_offset)` and the right
/// shift `right = -shift`.
pub fn pointwise_wide_channel(
    folded_bias: i32,
    multiplier: i32,
    shift: i32,
    offset: i32,
) -> [i32; 4] {
    [
        folded_bias.wrapping_mul(2),
        multiplier,
        small_offset_constant(-shift, offset),
        -shift,
    ]
}

/// Whether [`conv2d_pointwise_wide`] can run a layer: what [`pointwise_fits`] accepts, with
/// 64, 128 or 256 input channels (the `asm!` loop ends a filter row when the weight pointer
/// reaches a multiple of the row's length) and an activation that clamps to the whole int8
/// range (the loop saturates with SSAT alone).
pub fn pointwise_wide_fits(p: &ConvFast, shifts: &[i32]) -> bool {
    pointwise_fits(p, shifts)
        && matches!(p.shape.in_c, 64 | 128 | 256)
        && p.act_min == -128
        && p.act_max == 127
}

/// Scratch words of [`conv2d_pointwise_wide`]: a block's widened input, the loop's state and
/// a block's output bytes (where a last, partial block is computed before its pixels are
/// copied out).
pub const fn pointwise_wide_scratch(in_c: usize, out_c: usize) -> usize {
    WIDE_PIXELS * in_c / 2 + WIDE_STATE_WORDS + (WIDE_PIXELS * out_c).div_ceil(4)
}

/// Int8 1×1 CONV_2D for the layers [`pointwise_wide_fits`] accepts. Per block of
/// [`WIDE_PIXELS`] pixels the input is widened once into `scratch` (group of four channels
/// `g` of pixel `k`, even and odd bytes as i16 pairs, at words `(6g + k)·2` and `+1`), then
/// every output channel's `filter` row (`in_c` int8 weights) is reduced over the six pixels:
/// on Arm in `dsp::pointwise_wide6`, whose accumulators never leave registers, when `filter`
/// starts at a multiple of `in_c` bytes (the emitter aligns it); elsewhere, or unaligned, in
/// [`pointwise_wide_portable`]. Each accumulator `a` becomes `2a + table bias`, the `2x` of
/// [`requantize_small_offset`], then one SMMLAR with the channel's constant, the sign
/// correction, the shift and SSAT. `table` holds [`pointwise_wide_channel`] per output
/// channel; `scratch` [`pointwise_wide_scratch`] words.
#[inline(always)]
pub fn conv2d_pointwise_wide(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    table: &[i32],
    scratch: &mut [u32],
    output: &mut [i8],
) {
    conv2d_pointwise_wide_io(p, filter, table, scratch, Apart { input, output });
}

/// [`conv2d_pointwise_wide`] over one buffer, as [`conv2d_pointwise_in_place`]: the input at
/// byte `input_at`, the output from byte 0.
#[inline(always)]
pub fn conv2d_pointwise_wide_in_place(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    filter: &[u8],
    table: &[i32],
    scratch: &mut [u32],
) {
    conv2d_pointwise_wide_io(p, filter, table, scratch, Shared { data, input_at });
}

/// The loop of [`conv2d_pointwise_wide`] and [`conv2d_pointwise_wide_in_place`]: whole
/// blocks store straight into the output; a last block of fewer pixels is computed whole
/// into the scratch's output bytes and its pixels copied out.
#[inline(always)]
fn conv2d_pointwise_wide_io<IO: ConvIo>(
    p: &ConvFast,
    filter: &[u8],
    table: &[i32],
    scratch: &mut [u32],
    mut io: IO,
) {
    const P: usize = WIDE_PIXELS;
    let s = &p.shape;
    let (in_c, out_c) = (s.in_c, s.out_c);
    let pixels = s.batches * s.out_h * s.out_w;
    let (Some(filter), Some(table)) = (
        filter.get(..out_c * in_c),
        table.get(..out_c * WIDE_CHANNEL_WORDS),
    ) else {
        return;
    };
    let words = P * in_c / 2;
    let Some((block, temp)) = scratch.split_at_mut_checked(words + WIDE_STATE_WORDS) else {
        return;
    };
    let Some(temp) = temp.get_mut(..(P * out_c).div_ceil(4)) else {
        return;
    };
    let aligned = in_c > 0 && (filter.as_ptr() as usize).is_multiple_of(in_c);
    for b in 0..pixels.div_ceil(P) {
        let (first, count) = patch_block::<P>(b, pixels);
        widen_pointwise::<P, false>(io.input(), first, count, in_c, block);
        let at = first * out_c;
        let Some(out) = io.output().get_mut(at..at + count * out_c) else {
            return;
        };
        if aligned && count == P && pointwise_wide_block(in_c, filter, table, block, out) {
            continue;
        }
        if aligned {
            // The whole block into `temp` (at least `6·out_c` bytes), written through its
            // pointer only, then the block's pixels out of it.
            let len = temp.len() * 4;
            let bytes = temp.as_mut_ptr() as *mut i8;
            if pointwise_wide_block_raw(in_c, filter, table, block, bytes, len) {
                for (k, o) in out.iter_mut().enumerate() {
                    let word = temp.get(k / 4).copied().unwrap_or(0);
                    *o = (word >> (8 * (k % 4))) as u8 as i8;
                }
                continue;
            }
        }
        pointwise_wide_portable(in_c, filter, table, block, out, count);
    }
}

/// One whole block of [`conv2d_pointwise_wide`], already widened into `block` (with the
/// state words after it), through the `asm!` loop into `out` (six pixels' bytes): `false`
/// (nothing done) off Arm or when a slice is short.
#[inline(always)]
fn pointwise_wide_block(
    in_c: usize,
    filter: &[u8],
    table: &[i32],
    block: &mut [u32],
    out: &mut [i8],
) -> bool {
    let len = out.len();
    pointwise_wide_block_raw(in_c, filter, table, block, out.as_mut_ptr(), len)
}

/// [`pointwise_wide_block`] to `out_len` bytes at `out`, which the caller owns.
#[inline(always)]
fn pointwise_wide_block_raw(
    in_c: usize,
    filter: &[u8],
    table: &[i32],
    block: &mut [u32],
    out: *mut i8,
    out_len: usize,
) -> bool {
    #[cfg(target_arch = "arm")]
    {
        let out_c = table.len() / WIDE_CHANNEL_WORDS;
        let words = WIDE_PIXELS * in_c / 2;
        let whole = out_c > 0
            && filter.len() == out_c * in_c
            && out_len >= WIDE_PIXELS * out_c
            && block.len() >= words + WIDE_STATE_WORDS;
        if let (Some(state), true) = (block.get_mut(words..words + WIDE_STATE_WORDS), whole) {
            let range = filter.as_ptr_range();
            state.copy_from_slice(&[
                table.as_ptr() as u32,
                out as u32,
                out_c as u32,
                range.end as u32,
                range.start as u32,
            ]);
            let block = block.as_mut_ptr();
            match in_c {
                64 => dsp::pointwise_wide6::<64>(block),
                128 => dsp::pointwise_wide6::<128>(block),
                256 => dsp::pointwise_wide6::<256>(block),
                _ => return false,
            }
            return true;
        }
    }
    let _ = (in_c, filter, table, block, out, out_len);
    false
}

/// The portable twin of `dsp::pointwise_wide6`, for `count` pixels of a block: per output
/// channel (its `filter` row and `table` entry), each pixel's widened input from `block`
/// times the widened weights, then `2a + bias`, SMMLAR with the offset constant, the sign
/// correction, the right shift and the saturation to int8. Not inlined: on Arm only a
/// filter off its alignment (never emitted) takes it.
#[inline(never)]
pub fn pointwise_wide_portable(
    in_c: usize,
    filter: &[u8],
    table: &[i32],
    block: &[u32],
    out: &mut [i8],
    count: usize,
) {
    let out_c = table.len() / WIDE_CHANNEL_WORDS;
    let rows = filter
        .chunks_exact(in_c.max(4))
        .zip(table.chunks_exact(WIDE_CHANNEL_WORDS));
    for (oc, (row, k)) in rows.enumerate() {
        let &[bias, m, c, right] = k else { return };
        for j in 0..count.min(WIDE_PIXELS) {
            let mut acc = 0i32;
            for (g, w4) in row.chunks_exact(4).enumerate() {
                let w = u32::from_le_bytes([w4[0], w4[1], w4[2], w4[3]]);
                let i = (g * WIDE_PIXELS + j) * 2;
                let (Some(&even), Some(&odd)) = (block.get(i), block.get(i + 1)) else {
                    return;
                };
                acc = dsp::smlad(
                    odd,
                    dsp::sxtb16_ror8(w),
                    dsp::smlad(even, dsp::sxtb16(w), acc),
                );
            }
            let a = bias.wrapping_add(acc.wrapping_shl(1));
            let v = (dsp::smmlar(a, m, c) + (a >> 31)) >> (right & 31);
            if let Some(o) = out.get_mut(j * out_c + oc) {
                *o = clamp_i8(v, -128, 127);
            }
        }
    }
}
