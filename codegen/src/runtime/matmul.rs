//! TRANSPOSE_CONV and BATCH_MATMUL, int8 and float32, as TFLM's reference kernels compute them.
//!
//! TFLM's TRANSPOSE_CONV scatters each input pixel into an output-sized scratch; kiln gathers
//! instead: each output element sums the input pixels that reach it in the order the scatter
//! adds them (input row, column, channel ascending), so float32 sums round alike and int32
//! sums are the same numbers, with no scratch.

use super::*;

/// Geometry of a TRANSPOSE_CONV: NHWC input and output, OHWI filter (`out_c` filters of
/// `k_h × k_w × in_c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransposeConvShape {
    /// Images in the batch.
    pub batches: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Output channels (filters).
    pub out_c: usize,
    /// Filter height.
    pub k_h: usize,
    /// Filter width.
    pub k_w: usize,
    /// Vertical stride (input rows are `stride_h` output rows apart).
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Output rows cut off at the top.
    pub pad_top: usize,
    /// Output columns cut off at the left.
    pub pad_left: usize,
}

/// Per-layer constants of an int8 TRANSPOSE_CONV (TFLM clamps to the whole int8 range: it
/// ignores the fused activation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransposeConvI8 {
    /// Geometry.
    pub shape: TransposeConvShape,
    /// Minus the input zero point.
    pub input_offset: i32,
    /// The output zero point.
    pub output_offset: i32,
}

/// Per-layer constants of a float32 TRANSPOSE_CONV.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransposeConvF32 {
    /// Geometry.
    pub shape: TransposeConvShape,
    /// Lower clamp bound.
    pub act_min: f32,
    /// Upper clamp bound.
    pub act_max: f32,
}

/// The input positions along one axis that reach output position `out`, ascending, each with
/// its filter tap: `in * stride + tap = out + cut` (`cut`: the output positions cut off
/// before).
#[inline(always)]
fn scatter_sources(
    out: usize,
    cut: usize,
    stride: usize,
    taps: usize,
    in_size: usize,
) -> impl Iterator<Item = (usize, usize)> {
    let at = out + cut;
    (0..in_size).filter_map(move |i| {
        let origin = i * stride;
        (origin <= at && at - origin < taps).then(|| (i, at - origin))
    })
}

/// Calls `f(batch, oy, ox, oc)` for every output element of a TRANSPOSE_CONV, in output
/// order.
#[inline(always)]
fn transpose_conv_walk(s: &TransposeConvShape, mut f: impl FnMut(usize, usize, usize, usize)) {
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            for ox in 0..s.out_w {
                for oc in 0..s.out_c {
                    f(b, oy, ox, oc);
                }
            }
        }
    }
}

/// Folds `step(total, input element, filter element)` over the inputs reaching output
/// `(b, oy, ox, oc)`, in the order TFLM's scatter adds them.
#[inline(always)]
fn transpose_conv_sum<T>(
    s: &TransposeConvShape,
    (b, oy, ox, oc): (usize, usize, usize, usize),
    zero: T,
    mut step: impl FnMut(T, usize, usize) -> T,
) -> T {
    let mut total = zero;
    for (iy, ky) in scatter_sources(oy, s.pad_top, s.stride_h, s.k_h, s.in_h) {
        for (ix, kx) in scatter_sources(ox, s.pad_left, s.stride_w, s.k_w, s.in_w) {
            let in_base = ((b * s.in_h + iy) * s.in_w + ix) * s.in_c;
            let f_base = ((oc * s.k_h + ky) * s.k_w + kx) * s.in_c;
            for c in 0..s.in_c {
                total = step(total, in_base + c, f_base + c);
            }
        }
    }
    total
}

/// Int8 TRANSPOSE_CONV (TFLM `reference_integer_ops::TransposeConv`): `filter` int8 bytes,
/// per-channel `multipliers` and `shifts` (one entry when per-tensor).
#[inline(always)]
pub fn transpose_conv_i8(
    p: &TransposeConvI8,
    input: &[i8],
    filter: &[u8],
    bias: Option<&[i32]>,
    multipliers: &[i32],
    shifts: &[i32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let mut out = output.iter_mut();
    transpose_conv_walk(s, |b, oy, ox, oc| {
        let acc = transpose_conv_sum(s, (b, oy, ox, oc), 0i32, |total, i, f| {
            let x = input.get(i).map_or(0, |&x| x as i32) + p.input_offset;
            let w = filter.get(f).map_or(0, |&w| w as i8 as i32);
            total.wrapping_add(x.wrapping_mul(w))
        });
        let acc = acc.wrapping_add(bias.and_then(|b| b.get(oc)).copied().unwrap_or(0));
        let channel = if multipliers.len() == 1 { 0 } else { oc };
        let m = multipliers.get(channel).copied().unwrap_or(0);
        let sh = shifts.get(channel).copied().unwrap_or(0);
        let y = multiply_by_quantized_multiplier(acc, m, sh).wrapping_add(p.output_offset);
        if let Some(o) = out.next() {
            *o = y.clamp(-128, 127) as i8;
        }
    });
}

/// Float32 TRANSPOSE_CONV (TFLM `reference_ops::TransposeConv`): `filter` and `bias` f32 bytes.
#[inline(always)]
pub fn transpose_conv_f32(
    p: &TransposeConvF32,
    input: &[f32],
    filter: &[u8],
    bias: Option<&[u8]>,
    output: &mut [f32],
) {
    let s = &p.shape;
    let mut out = output.iter_mut();
    transpose_conv_walk(s, |b, oy, ox, oc| {
        let total = transpose_conv_sum(s, (b, oy, ox, oc), 0.0f32, |total, i, f| {
            total + input.get(i).copied().unwrap_or(0.0) * f32_at(filter, f)
        });
        let total = match bias {
            Some(bias) => total + f32_at(bias, oc),
            None => total,
        };
        if let Some(o) = out.next() {
            *o = clamp_f32(total, p.act_min, p.act_max);
        }
    });
}

/// Shapes of a BATCH_MATMUL, both operands as `[batch.., rows, cols]` extended to 5 dimensions
/// (three batch dimensions, 1 where absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchMatmul {
    /// The output's batch dimensions.
    pub batch: [usize; 3],
    /// Element strides of the left-hand side's batch dimensions (0 where it broadcasts).
    pub lhs_batch_strides: [usize; 3],
    /// Element strides of the right-hand side's batch dimensions (0 where it broadcasts).
    pub rhs_batch_strides: [usize; 3],
    /// Output rows (`M`).
    pub rows: usize,
    /// Output columns (`N`).
    pub cols: usize,
    /// The summed dimension (`K`).
    pub depth: usize,
    /// The left-hand side is stored `[K, M]` (`adj_x`), else `[M, K]`.
    pub lhs_transposed: bool,
    /// The right-hand side is stored `[N, K]` (`adj_y`), else `[K, N]`.
    pub rhs_transposed: bool,
}

/// Int8 requantization of a BATCH_MATMUL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchMatmulI8 {
    /// Shapes.
    pub shape: BatchMatmul,
    /// The left-hand side's zero point.
    pub lhs_zero_point: i32,
    /// The right-hand side's zero point.
    pub rhs_zero_point: i32,
    /// The output's zero point.
    pub output_offset: i32,
    /// Q31 multiplier of `lhs_scale · rhs_scale / output_scale`.
    pub multiplier: i32,
    /// Its shift.
    pub shift: i32,
}

/// Folds `step(total, lhs index, rhs index)` over `k` for output element `(i, j)` of the
/// matrices at `lhs_base` and `rhs_base`, in `k` order (TFLM's order).
#[inline(always)]
fn matmul_dot<T>(
    s: &BatchMatmul,
    (lhs_base, rhs_base, i, j): (usize, usize, usize, usize),
    zero: T,
    mut step: impl FnMut(T, usize, usize) -> T,
) -> T {
    let mut total = zero;
    for k in 0..s.depth {
        let l = if s.lhs_transposed {
            k * s.rows + i
        } else {
            i * s.depth + k
        };
        let r = if s.rhs_transposed {
            j * s.depth + k
        } else {
            k * s.cols + j
        };
        total = step(total, lhs_base + l, rhs_base + r);
    }
    total
}

/// Calls `f(lhs base, rhs base, i, j)` for every output element of a BATCH_MATMUL, in output
/// order.
#[inline(always)]
fn matmul_walk(s: &BatchMatmul, mut f: impl FnMut(usize, usize, usize, usize)) {
    for b0 in 0..s.batch[0] {
        for b1 in 0..s.batch[1] {
            for b2 in 0..s.batch[2] {
                let lhs_base = b0 * s.lhs_batch_strides[0]
                    + b1 * s.lhs_batch_strides[1]
                    + b2 * s.lhs_batch_strides[2];
                let rhs_base = b0 * s.rhs_batch_strides[0]
                    + b1 * s.rhs_batch_strides[1]
                    + b2 * s.rhs_batch_strides[2];
                for i in 0..s.rows {
                    for j in 0..s.cols {
                        f(lhs_base, rhs_base, i, j);
                    }
                }
            }
        }
    }
}

/// Int8 BATCH_MATMUL (TFLM `reference_ops::BatchMatMul<int8_t, int32_t>`).
#[inline(always)]
pub fn batch_matmul_i8(p: &BatchMatmulI8, lhs: &[i8], rhs: &[i8], output: &mut [i8]) {
    let s = &p.shape;
    let mut out = output.iter_mut();
    matmul_walk(s, |lb, rb, i, j| {
        let acc = matmul_dot(s, (lb, rb, i, j), 0i32, |total, l, r| {
            let x = lhs.get(l).map_or(0, |&v| v as i32) - p.lhs_zero_point;
            let y = rhs.get(r).map_or(0, |&v| v as i32) - p.rhs_zero_point;
            total.wrapping_add(x.wrapping_mul(y))
        });
        let y = multiply_by_quantized_multiplier(acc, p.multiplier, p.shift)
            .wrapping_add(p.output_offset);
        if let Some(o) = out.next() {
            *o = y.clamp(-128, 127) as i8;
        }
    });
}

/// Float32 BATCH_MATMUL (TFLM `reference_ops::BatchMatMul<float>`).
#[inline(always)]
pub fn batch_matmul_f32(p: &BatchMatmul, lhs: &[f32], rhs: &[f32], output: &mut [f32]) {
    let mut out = output.iter_mut();
    matmul_walk(p, |lb, rb, i, j| {
        let total = matmul_dot(p, (lb, rb, i, j), 0.0f32, |total, l, r| {
            total + lhs.get(l).copied().unwrap_or(0.0) * rhs.get(r).copied().unwrap_or(0.0)
        });
        if let Some(o) = out.next() {
            *o = total;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(in_hw: (usize, usize), k: usize, stride: usize, pad: usize) -> TransposeConvShape {
        TransposeConvShape {
            batches: 1,
            in_h: in_hw.0,
            in_w: in_hw.1,
            in_c: 1,
            out_h: (in_hw.0 - 1) * stride + k - 2 * pad,
            out_w: (in_hw.1 - 1) * stride + k - 2 * pad,
            out_c: 1,
            k_h: k,
            k_w: k,
            stride_h: stride,
            stride_w: stride,
            pad_top: pad,
            pad_left: pad,
        }
    }

    #[test]
    fn transpose_conv_scatters_each_input_over_the_filter() {
        // A 2x2 input, 3x3 filter of ones, stride 2: each input pixel fills a 3x3 block of the
        // 5x5 output; the blocks overlap on row and column 2.
        let p = TransposeConvF32 {
            shape: shape((2, 2), 3, 2, 0),
            act_min: f32::MIN,
            act_max: f32::MAX,
        };
        let filter: Vec<u8> = (0..9).flat_map(|_| 1.0f32.to_le_bytes()).collect();
        let mut out = [0.0f32; 25];
        transpose_conv_f32(&p, &[1.0, 10.0, 100.0, 1000.0], &filter, None, &mut out);
        assert_eq!(out[0], 1.0);
        assert_eq!(out[2], 11.0);
        assert_eq!(out[4], 10.0);
        assert_eq!(out[12], 1111.0);
        assert_eq!(out[24], 1000.0);
        // With one pixel cut off each side the output is the 3x3 middle.
        let p = TransposeConvF32 {
            shape: shape((2, 2), 3, 2, 1),
            ..p
        };
        let mut middle = [0.0f32; 9];
        transpose_conv_f32(&p, &[1.0, 10.0, 100.0, 1000.0], &filter, None, &mut middle);
        assert_eq!(middle[4], 1111.0);
        assert_eq!(middle[0], 1.0);
    }

    #[test]
    fn transpose_conv_i8_requantizes_per_channel() {
        let p = TransposeConvI8 {
            shape: TransposeConvShape {
                out_c: 2,
                ..shape((1, 1), 1, 1, 0)
            },
            input_offset: 3,
            output_offset: -1,
        };
        // (5 + 3) · [2, -4] + [1, 0] = [17, -32], times 1/2 and 1/4 (8.5 rounds up to 9),
        // minus 1.
        let mut out = [0i8; 2];
        transpose_conv_i8(
            &p,
            &[5],
            &[2, (-4i8) as u8],
            Some(&[1, 0]),
            &[1 << 30, 1 << 30],
            &[0, -1],
            &mut out,
        );
        assert_eq!(out, [9 - 1, -8 - 1]);
    }

    #[test]
    fn batch_matmul_transposes_and_broadcasts() {
        // lhs [2, 2, 3] (two batches), rhs [3, 2] shared: out[b] = lhs[b] · rhs.
        let s = BatchMatmul {
            batch: [1, 1, 2],
            lhs_batch_strides: [0, 0, 6],
            rhs_batch_strides: [0, 0, 0],
            rows: 2,
            cols: 2,
            depth: 3,
            lhs_transposed: false,
            rhs_transposed: false,
        };
        let lhs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        let rhs = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut out = [0.0f32; 8];
        batch_matmul_f32(&s, &lhs, &rhs, &mut out);
        assert_eq!(out, [4.0, 5.0, 10.0, 11.0, 0.0, 1.0, 0.0, 0.0]);
        // The same rhs stored transposed ([N, K]) gives the same product.
        let rhs_t = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        let mut again = [0.0f32; 8];
        let t = BatchMatmul {
            rhs_transposed: true,
            ..s
        };
        batch_matmul_f32(&t, &lhs, &rhs_t, &mut again);
        assert_eq!(again, out);
        let q = BatchMatmulI8 {
            shape: s,
            lhs_zero_point: 1,
            rhs_zero_point: 0,
            output_offset: 2,
            multiplier: 1 << 30,
            shift: 1,
        };
        let lhs_q: Vec<i8> = lhs.iter().map(|&v| v as i8 + 1).collect();
        let rhs_q: Vec<i8> = rhs.iter().map(|&v| v as i8).collect();
        let mut out_q = [0i8; 8];
        batch_matmul_i8(&q, &lhs_q, &rhs_q, &mut out_q);
        assert_eq!(out_q, [6, 7, 12, 13, 2, 3, 2, 2]);
    }
}
