//! Int8 CONV_2D on Arm DSP cores in blocks of [`TILE6_PIXELS`] output pixels: the block's
//! patches are widened once (a 1×1 layer's input pixels directly, other layers through
//! [`gather_patch`]), then every output channel goes through one `asm!` loop
//! (`dsp::tile6`) that keeps the six accumulators, a widened weight word and four patch
//! words in registers, requantizes in registers and stores the bytes.

use super::*;

/// Output pixels per block of [`conv2d_tile6`].
pub const TILE6_PIXELS: usize = 6;

/// Words of [`conv2d_tile6`]'s table per output channel ([`tile6_channel`]).
pub const TILE6_CHANNEL_WORDS: usize = 4;

/// Words of the state `dsp::tile6` reads and updates: the block, the next channel's table
/// entry, the next channel's first output byte, the distance between pixels' bytes
/// (`out_c`), the filter's end, a row's bytes and the filter's start. (Only Arm reads it.)
#[cfg_attr(not(target_arch = "arm"), allow(dead_code))]
pub const TILE6_STATE_WORDS: usize = 7;

/// The constants of one output channel in a [`conv2d_tile6`] table: its folded bias
/// doubled, its multiplier, [`small_offset_constant`]`(right, output_offset)` and the right
/// shift `right = -shift`.
pub fn tile6_channel(folded_bias: i32, multiplier: i32, shift: i32, offset: i32) -> [i32; 4] {
    [
        folded_bias.wrapping_mul(2),
        multiplier,
        small_offset_constant(-shift, offset),
        -shift,
    ]
}

/// Bytes of a filter row of [`conv2d_tile6`]: the patch (`k_h·k_w·k_c`), zero-padded to a
/// multiple of 4.
pub const fn tile6_row(s: &ConvShape) -> usize {
    (s.k_h * s.k_w * s.k_c).div_ceil(4) * 4
}

/// Whether [`conv2d_tile6`] can run a layer: one group (`k_c = in_c`), the short
/// requantization (`fast_requant`) with right shifts of 1 to 22 (the offset inside the
/// rounding constant), one multiplier per channel, an activation that clamps to the whole
/// int8 range (the loop saturates with SSAT alone), and rows of `G` groups of four bytes
/// with at least four groups after the `asm!` loop's first ones (`G mod 4`, or four):
/// patches of 20 bytes or more, 32 or more for multiples of 16.
pub fn tile6_fits(p: &ConvFast, shifts: &[i32]) -> bool {
    let s = &p.shape;
    let groups = tile6_row(s) / 4;
    let first = if groups.is_multiple_of(4) {
        4
    } else {
        groups % 4
    };
    s.k_c == s.in_c
        && s.depth_multiplier == 1
        && p.per_channel
        && p.fast_requant
        && shifts.len() == s.out_c
        && shifts.iter().all(|&r| (-22..0).contains(&r))
        && p.act_min == -128
        && p.act_max == 127
        && groups >= first + 4
}

/// Scratch words of [`conv2d_tile6`] for rows of `row_len` bytes: a block's widened
/// patches and a block's output bytes (where a last, partial block is computed before its
/// pixels are copied out).
pub const fn tile6_scratch(row_len: usize, out_c: usize) -> usize {
    TILE6_PIXELS * row_len / 2 + (TILE6_PIXELS * out_c).div_ceil(4)
}

/// Int8 CONV_2D for the layers [`tile6_fits`] accepts. Per block of [`TILE6_PIXELS`]
/// pixels the patches are widened once into `scratch` (group `g` of pixel `k`, even and odd
/// bytes as i16 pairs, at words `(6g + k)·2` and `+1`), then every output channel's
/// `filter` row ([`tile6_row`] bytes: the patch in `gather_patch` order, zero-padded) is
/// reduced over the six pixels: on Arm in `dsp::tile6`, whose accumulators never leave
/// registers; elsewhere in [`tile6_portable`]. Each accumulator `a` becomes
/// `2a + table bias`, the `2x` of [`requantize_small_offset`], then one SMMLAR with the
/// channel's constant, the sign correction, the shift and SSAT. `table` holds
/// [`tile6_channel`] per output channel; `scratch` [`tile6_scratch`] words.
#[inline(always)]
pub fn conv2d_tile6(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    table: &[i32],
    scratch: &mut [u32],
    output: &mut [i8],
) {
    conv2d_tile6_io(p, filter, table, scratch, Apart { input, output });
}

/// [`conv2d_tile6`] over one buffer, as [`conv2d_patches_in_place`]: the input at byte
/// `input_at` (the planner's lead), the output from byte 0.
#[inline(always)]
pub fn conv2d_tile6_in_place(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    filter: &[u8],
    table: &[i32],
    scratch: &mut [u32],
) {
    conv2d_tile6_io(p, filter, table, scratch, Shared { data, input_at });
}

/// The loop of [`conv2d_tile6`] and [`conv2d_tile6_in_place`]: whole blocks store straight
/// into the output; a last block of fewer pixels is computed whole into the scratch's output
/// bytes and its pixels copied out.
#[inline(always)]
fn conv2d_tile6_io<IO: ConvIo>(
    p: &ConvFast,
    filter: &[u8],
    table: &[i32],
    scratch: &mut [u32],
    mut io: IO,
) {
    const P: usize = TILE6_PIXELS;
    let s = &p.shape;
    let (row, out_c) = (tile6_row(s), s.out_c);
    let pixels = s.batches * s.out_h * s.out_w;
    let (Some(filter), Some(table)) = (
        filter.get(..out_c * row),
        table.get(..out_c * TILE6_CHANNEL_WORDS),
    ) else {
        return;
    };
    let Some((block, temp)) = scratch.split_at_mut_checked(P * row / 2) else {
        return;
    };
    let Some(temp) = temp.get_mut(..(P * out_c).div_ceil(4)) else {
        return;
    };
    // Whole pixels of whole words: a 1×1 layer, stride 1, no padding.
    let direct = s.k_h == 1
        && s.k_w == 1
        && s.stride_h == 1
        && s.stride_w == 1
        && s.pad_top == 0
        && s.pad_left == 0
        && s.in_h == s.out_h
        && s.in_w == s.out_w
        && s.in_c.is_multiple_of(4);
    // A small patch's copy (`PatchWriter::whole_patch`): its bytes past the patch stay zero.
    let mut bytes = [0i8; SMALL_PATCH_MAX];
    // A last block of at most four pixels is laid out and reduced four pixels wide, in layers
    // of fewer than eight blocks (where two wasted pixels weigh; elsewhere the second
    // layout's code is not worth it). A constant per layer: the other path compiles away.
    let short_tail = pixels < 8 * P && (1..=TILE6_SHORT).contains(&(pixels % P));
    for b in 0..pixels.div_ceil(P) {
        let (first, count) = patch_block::<P>(b, pixels);
        let short = short_tail && count < P;
        if short {
            widen_block::<TILE6_SHORT>(p, io.input(), first, count, direct, block, &mut bytes);
        } else {
            widen_block::<P>(p, io.input(), first, count, direct, block, &mut bytes);
        }
        let at = first * out_c;
        let Some(out) = io.output().get_mut(at..at + count * out_c) else {
            return;
        };
        if count == P && tile6_block::<P>(row, filter, table, block, out.as_mut_ptr(), out.len()) {
            continue;
        }
        // The whole block into `temp` (at least `6·out_c` bytes), written through its
        // pointer only, then the block's pixels out of it.
        let len = temp.len() * 4;
        let bytes_out = temp.as_mut_ptr() as *mut i8;
        let done = if short {
            tile6_block::<TILE6_SHORT>(row, filter, table, block, bytes_out, len)
        } else {
            tile6_block::<P>(row, filter, table, block, bytes_out, len)
        };
        if done {
            for (k, o) in out.iter_mut().enumerate() {
                let word = temp.get(k / 4).copied().unwrap_or(0);
                *o = (word >> (8 * (k % 4))) as u8 as i8;
            }
            continue;
        }
        if short {
            tile6_portable::<TILE6_SHORT>(row, filter, table, block, out, count);
        } else {
            tile6_portable::<P>(row, filter, table, block, out, count);
        }
    }
}

/// Pixels of the narrower block a last block of at most this many pixels of
/// [`conv2d_tile6`] is laid out and reduced in (fewer wasted pixels than six).
pub const TILE6_SHORT: usize = 4;

/// The patches of pixels `first..first + count` of a [`conv2d_tile6`] layer, widened into
/// `block`, `W` pixels wide (group `g` of pixel `k` at words `(W·g + k)·2` and `+1`): a
/// `direct` layer's input pixels as they are, others through
/// [`PatchWriter::whole_patch`] or [`gather_patch`].
#[inline(always)]
fn widen_block<const W: usize>(
    p: &ConvFast,
    input: &[i8],
    first: usize,
    count: usize,
    direct: bool,
    block: &mut [u32],
    bytes: &mut [i8; SMALL_PATCH_MAX],
) {
    let groups = tile6_row(&p.shape) / 4;
    if direct {
        widen_pointwise::<W, false>(input, first, count, p.shape.in_c, block);
        return;
    }
    let mut patch = PatchWriter::<W>::new(block);
    for n in first..first + count {
        if !patch.whole_patch(p, input, n, groups, bytes) {
            gather_patch(p, input, n, &mut patch);
            patch.end_pixel(groups);
        }
    }
}

/// One block of [`conv2d_tile6`], its patches widened into `block` `W` pixels wide (six or
/// [`TILE6_SHORT`]), through the `asm!` loop into the `out_len` bytes at `out` (`W` pixels'
/// bytes, which the caller owns): `false` (nothing done) off Arm or when a slice is short.
#[inline(always)]
fn tile6_block<const W: usize>(
    row: usize,
    filter: &[u8],
    table: &[i32],
    block: &mut [u32],
    out: *mut i8,
    out_len: usize,
) -> bool {
    #[cfg(target_arch = "arm")]
    {
        let out_c = table.len() / TILE6_CHANNEL_WORDS;
        let whole = out_c > 0
            && filter.len() == out_c * row
            && out_len >= W * out_c
            && block.len() >= W * row / 2;
        if whole {
            let range = filter.as_ptr_range();
            let mut state: [u32; TILE6_STATE_WORDS] = [
                block.as_mut_ptr() as u32,
                table.as_ptr() as u32,
                out as u32,
                out_c as u32,
                range.end as u32,
                row as u32,
                range.start as u32,
            ];
            let state = state.as_mut_ptr();
            match (W, row / 4 % 4) {
                (TILE6_SHORT, 1) => dsp::tile6::<TILE6_SHORT, 1>(state),
                (TILE6_SHORT, 2) => dsp::tile6::<TILE6_SHORT, 2>(state),
                (TILE6_SHORT, 3) => dsp::tile6::<TILE6_SHORT, 3>(state),
                (TILE6_SHORT, _) => dsp::tile6::<TILE6_SHORT, 0>(state),
                (_, 1) => dsp::tile6::<TILE6_PIXELS, 1>(state),
                (_, 2) => dsp::tile6::<TILE6_PIXELS, 2>(state),
                (_, 3) => dsp::tile6::<TILE6_PIXELS, 3>(state),
                _ => dsp::tile6::<TILE6_PIXELS, 0>(state),
            }
            return true;
        }
    }
    let _ = (row, filter, table, block, out, out_len);
    false
}

/// The portable twin of `dsp::tile6`, for `count` pixels of a block `W` pixels wide: per
/// output channel
/// (its `filter` row of `row` bytes and its `table` entry), each pixel's widened patch from
/// `block` times the widened weights, then `2a + bias`, SMMLAR with the offset constant, the
/// sign correction, the right shift and the saturation to int8. Not inlined: on Arm only a
/// short slice (never emitted) takes it.
#[inline(never)]
pub fn tile6_portable<const W: usize>(
    row: usize,
    filter: &[u8],
    table: &[i32],
    block: &[u32],
    out: &mut [i8],
    count: usize,
) {
    let out_c = table.len() / TILE6_CHANNEL_WORDS;
    let rows = filter
        .chunks_exact(row.max(4))
        .zip(table.chunks_exact(TILE6_CHANNEL_WORDS));
    for (oc, (weights, k)) in rows.enumerate() {
        let &[bias, m, c, right] = k else { return };
        for j in 0..count.min(W) {
            let mut acc = 0i32;
            for (g, w4) in weights.chunks_exact(4).enumerate() {
                let w = u32::from_le_bytes([w4[0], w4[1], w4[2], w4[3]]);
                let i = (g * W + j) * 2;
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
