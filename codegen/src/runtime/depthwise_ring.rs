//! Int8 3×3 DEPTHWISE_CONV_2D for cores without SIMD that have registers to spare (RV32IMC):
//! the three input rows an output row reads are copied, per channel, into a ring of padded
//! byte rows, so no output pixel is a border pixel; then each channel's nine weights stay in
//! registers while a window slides along the row, loading one new column of three bytes per
//! output pixel at a horizontal stride of 1.

use super::*;

/// Bytes per channel and ring row of [`depthwise_conv2d_ring`]: the padded input columns an
/// output row of `out_w` pixels reads at horizontal stride `stride_w` with a 3-wide window.
pub const fn depthwise_ring_width(out_w: usize, stride_w: usize) -> usize {
    out_w.saturating_sub(1) * stride_w + 3
}

/// Int8 3×3 DEPTHWISE_CONV_2D with depth multiplier 1 and no dilation, bit-exact with TFLM's
/// `DepthwiseConvPerChannel`, for scalar cores.
///
/// `scratch` holds the ring: `3 · C · PW` bytes (`PW` = [`depthwise_ring_width`]), per ring
/// slot and channel one padded input row, its padding the input zero point (which
/// `folded_bias` cancels). Each input row is copied in once. Output rows run in order and read their input rows before writing, so
/// the planner's lead keeps it correct in place.
///
/// `filter` holds per channel its nine weights, window row by row
/// ([`depthwise_ring_filter`]), so one channel's weights are one 9-byte chunk.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_ring<const IN: usize, const OUT: usize, const PW: usize>(
    p: &ConvFast,
    input: &[i8; IN],
    filter: &[u8],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [i8],
    output: &mut [i8; OUT],
) {
    let io = Apart { input, output };
    let weights = (filter, folded_bias, multiplier, shift);
    depthwise_conv2d_ring_io::<_, IN, OUT, PW>(p, weights, scratch, io);
}

/// The filter of [`depthwise_conv2d_ring`] from TFLite's 3×3 depthwise layout (`[ky][kx][c]`,
/// `channels` per tap): per channel its nine weights (computed at compile time).
pub fn depthwise_ring_filter(filter: &[u8], channels: usize) -> impl Iterator<Item = u8> + '_ {
    (0..channels * 9).map(move |i| {
        let (c, t) = (i / 9, i % 9);
        filter.get(t * channels + c).copied().unwrap_or(0)
    })
}

/// [`depthwise_conv2d_ring`] over one buffer: the output from byte 0 of `data`, the input
/// (`IN` bytes) from byte `input_at`, the planner's lead.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_ring_in_place<const IN: usize, const OUT: usize, const PW: usize>(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    filter: &[u8],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [i8],
) {
    let io = Shared { data, input_at };
    let weights = (filter, folded_bias, multiplier, shift);
    depthwise_conv2d_ring_io::<_, IN, OUT, PW>(p, weights, scratch, io);
}

/// Copies padded input row `iy` of batch `batch` (outside the input: all zero points) into
/// ring slot `slot`: channel `c`'s bytes at `(slot · C + c) · PW`, column `j` being input
/// column `j - pad_left`.
#[inline(always)]
fn depthwise_ring_fill<const IN: usize, const PW: usize>(
    s: &ConvShape,
    input: &[i8; IN],
    (batch, iy, slot): (usize, isize, usize),
    zp: i8,
    ring: &mut [i8],
) {
    let channels = s.in_c;
    let Some(slot_rows) = ring.get_mut(slot * channels * PW..(slot + 1) * channels * PW) else {
        return;
    };
    let row = if iy >= 0 && (iy as usize) < s.in_h {
        let at = (batch * s.in_h + iy as usize) * s.in_w * channels;
        input.get(at..at + s.in_w * channels)
    } else {
        None
    };
    let Some(row) = row else {
        // A padding row: all zero points.
        slot_rows.fill(zp);
        return;
    };
    // Channel by channel, the row's columns in order: with `PW` and the padding known at
    // compile time the column loop unrolls into loads and stores at constant offsets.
    for (c, dst) in slot_rows.chunks_exact_mut(PW).enumerate() {
        let Ok(dst) = <&mut [i8; PW]>::try_from(dst) else {
            return;
        };
        for (j, d) in dst.iter_mut().enumerate() {
            let ix = j as isize - s.pad_left as isize;
            *d = if ix >= 0 && (ix as usize) < s.in_w {
                row.get(ix as usize * channels + c).copied().unwrap_or(zp)
            } else {
                zp
            };
        }
    }
}

/// The loop of [`depthwise_conv2d_ring`] and [`depthwise_conv2d_ring_in_place`].
#[inline(always)]
fn depthwise_conv2d_ring_io<IO: ConvIo, const IN: usize, const OUT: usize, const PW: usize>(
    p: &ConvFast,
    (filter, folded_bias, multiplier, shift): (&[u8], &[i32], &[i32], &[i32]),
    ring: &mut [i8],
    mut io: IO,
) {
    let s = &p.shape;
    let channels = s.out_c;
    let zp = p.input_zero_point as i8;
    for b in 0..s.batches {
        // The next padded input row to copy into the ring (row r lives in slot r % 3).
        let mut next = 0;
        for oy in 0..s.out_h {
            let top = oy * s.stride_h;
            // Borrowed anew around the writes, which may land in the same buffer.
            let Some(Ok(input)) = io.input().get(..IN).map(<&[i8; IN]>::try_from) else {
                return;
            };
            for r in next.max(top)..top + 3 {
                let iy = r as isize - s.pad_top as isize;
                depthwise_ring_fill::<IN, PW>(s, input, (b, iy, r % 3), zp, ring);
            }
            next = top + 3;
            let Some(Ok(out)) = io.output().get_mut(..OUT).map(<&mut [i8; OUT]>::try_from) else {
                return;
            };
            let row_base = (b * s.out_h + oy) * s.out_w;
            let slot = |k: usize| {
                let at = (top + k) % 3 * channels * PW;
                ring.get(at..at + channels * PW).unwrap_or(&[])
            };
            let rows = slot(0)
                .chunks_exact(PW)
                .zip(slot(1).chunks_exact(PW))
                .zip(slot(2).chunks_exact(PW));
            let per_channel = filter.chunks_exact(9).zip(folded_bias).zip(rows);
            for (c, ((taps9, &start), ((r0, r1), r2))) in per_channel.enumerate() {
                let (Ok(r0), Ok(r1), Ok(r2)) = (
                    <&[i8; PW]>::try_from(r0),
                    <&[i8; PW]>::try_from(r1),
                    <&[i8; PW]>::try_from(r2),
                ) else {
                    return;
                };
                let w = |t: usize| taps9.get(t).map_or(0, |&v| v as i8 as i32);
                // Window column kx's three weights, top row first.
                let taps = |kx: usize| (w(kx), w(kx + 3), w(kx + 6));
                let (left, middle, right) = (taps(0), taps(1), taps(2));
                let q = if p.per_channel { c } else { 0 };
                let m = multiplier.get(q).copied().unwrap_or(0);
                let sh = shift.get(q).copied().unwrap_or(0);
                let (k_offset, post) = small_offset_split(-sh, p.output_offset);
                let store = |out: &mut [i8; OUT], ox: usize, acc: i32| {
                    let v = if p.fast_requant {
                        requantize_small_offset(acc, m, -sh, k_offset).wrapping_add(post)
                    } else {
                        multiply_by_quantized_multiplier_fast(acc, m, sh)
                            .wrapping_add(p.output_offset)
                    };
                    if let Some(o) = out.get_mut((row_base + ox) * channels + c) {
                        *o = clamp_i8(v, p.act_min, p.act_max);
                    }
                };
                let column = |x: usize| {
                    let at = |r: &[i8; PW]| r.get(x).copied().unwrap_or(0) as i32;
                    (at(r0), at(r1), at(r2))
                };
                let dot = |(a0, a1, a2): (i32, i32, i32), (w0, w1, w2): (i32, i32, i32)| {
                    w0.wrapping_mul(a0)
                        .wrapping_add(w1.wrapping_mul(a1))
                        .wrapping_add(w2.wrapping_mul(a2))
                };
                if s.stride_w == 1 {
                    // The window slides one column: two columns carried, one loaded.
                    let (mut a, mut bcol) = (column(0), column(1));
                    for ox in 0..s.out_w {
                        let ccol = column(ox + 2);
                        let acc = start
                            .wrapping_add(dot(a, left))
                            .wrapping_add(dot(bcol, middle))
                            .wrapping_add(dot(ccol, right));
                        store(out, ox, acc);
                        (a, bcol) = (bcol, ccol);
                    }
                } else {
                    for ox in 0..s.out_w {
                        let x0 = ox * s.stride_w;
                        let acc = start
                            .wrapping_add(dot(column(x0), left))
                            .wrapping_add(dot(column(x0 + 1), middle))
                            .wrapping_add(dot(column(x0 + 2), right));
                        store(out, ox, acc);
                    }
                }
            }
        }
    }
}
