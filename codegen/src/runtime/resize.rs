//! RESIZE_BILINEAR: each output pixel mixes the four input pixels around it, with the rows
//! and columns (and where the pixel falls between them) computed at compile time.
//! (RESIZE_NEAREST_NEIGHBOR copies pixels: a `table_gather`.)

/// Shape of a RESIZE_BILINEAR (NHWC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resize {
    /// Batches.
    pub batches: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Channels.
    pub depth: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

/// One output row (or column) of a bilinear resize: the input rows it reads, `lo` and `hi`,
/// and its position between them: `frac` (int8: in 1/1024ths of a pixel from `lo`, TFLM's
/// `input_y - 1024 * y0`; float32: `input_y - y0`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lerp<W> {
    /// The first input row.
    pub lo: usize,
    /// The second input row.
    pub hi: usize,
    /// Position between them.
    pub frac: W,
}

/// Calls `f(output, [top-left, bottom-left, top-right, bottom-right] input offsets, row, column)`
/// for every output element of a bilinear resize, in output order.
#[inline(always)]
fn each_bilinear<T, W: Copy>(
    p: &Resize,
    rows: &[Lerp<W>],
    cols: &[Lerp<W>],
    output: &mut [T],
    mut f: impl FnMut(&mut T, [usize; 4], Lerp<W>, Lerp<W>),
) {
    let row_len = p.in_w.wrapping_mul(p.depth);
    let mut out = output.iter_mut();
    for b in 0..p.batches {
        let image = b.wrapping_mul(p.in_h).wrapping_mul(row_len);
        for &y in rows.iter().take(p.out_h) {
            let (top, bottom) = (
                image.wrapping_add(y.lo.wrapping_mul(row_len)),
                image.wrapping_add(y.hi.wrapping_mul(row_len)),
            );
            for &x in cols.iter().take(p.out_w) {
                let (left, right) = (x.lo.wrapping_mul(p.depth), x.hi.wrapping_mul(p.depth));
                for c in 0..p.depth {
                    let Some(o) = out.next() else {
                        return;
                    };
                    let at = [
                        top.wrapping_add(left).wrapping_add(c),
                        bottom.wrapping_add(left).wrapping_add(c),
                        top.wrapping_add(right).wrapping_add(c),
                        bottom.wrapping_add(right).wrapping_add(c),
                    ];
                    f(o, at, y, x);
                }
            }
        }
    }
}

/// Int8 RESIZE_BILINEAR (TFLM `ResizeBilinearInteger`: 10-bit weights, 20-bit products,
/// rounded half away from zero).
#[inline(always)]
pub fn resize_bilinear_i8(
    p: &Resize,
    rows: &[Lerp<i32>],
    cols: &[Lerp<i32>],
    input: &[i8],
    output: &mut [i8],
) {
    each_bilinear(p, rows, cols, output, |o, at, y, x| {
        let v = |k: usize| {
            at.get(k)
                .and_then(|&i| input.get(i))
                .map_or(0, |&v| v as i64)
        };
        let (wy, wx) = (y.frac as i64, x.frac as i64);
        let sum = v(0) * (1024 - wy) * (1024 - wx)
            + v(1) * wy * (1024 - wx)
            + v(2) * (1024 - wy) * wx
            + v(3) * wy * wx;
        let round = if sum > 0 { 1 << 19 } else { -(1 << 19) };
        *o = ((sum + round) / (1 << 20)) as i8;
    });
}

/// Float32 RESIZE_BILINEAR (TFLM reference `ResizeBilinear`, the same operations in the same
/// order).
#[inline(always)]
pub fn resize_bilinear_f32(
    p: &Resize,
    rows: &[Lerp<f32>],
    cols: &[Lerp<f32>],
    input: &[f32],
    output: &mut [f32],
) {
    each_bilinear(p, rows, cols, output, |o, at, y, x| {
        let v = |k: usize| {
            at.get(k)
                .and_then(|&i| input.get(i))
                .copied()
                .unwrap_or(0.0)
        };
        let (dy, dx) = (y.frac, x.frac);
        *o = v(0) * (1.0 - dy) * (1.0 - dx)
            + v(1) * dy * (1.0 - dx)
            + v(2) * (1.0 - dy) * dx
            + v(3) * dy * dx
            + 0.0;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_mixes_four_pixels() {
        // 1×2×2×1 → 1×1×3×1 on the top row: x at 0, 1/2, 1 of the way
        let p = Resize {
            batches: 1,
            in_h: 2,
            in_w: 2,
            depth: 1,
            out_h: 1,
            out_w: 3,
        };
        let rows = [Lerp {
            lo: 0,
            hi: 1,
            frac: 0,
        }];
        let cols = [
            Lerp {
                lo: 0,
                hi: 1,
                frac: 0,
            },
            Lerp {
                lo: 0,
                hi: 1,
                frac: 512,
            },
            Lerp {
                lo: 1,
                hi: 1,
                frac: 0,
            },
        ];
        let mut out = [0i8; 3];
        resize_bilinear_i8(&p, &rows, &cols, &[10, -21, 0, 0], &mut out);
        // (10 - 21) / 2 = -5.5 rounds away from zero
        assert_eq!(out, [10, -6, -21]);
        let rows = [Lerp {
            lo: 0,
            hi: 1,
            frac: 0.25,
        }];
        let cols = [Lerp {
            lo: 0,
            hi: 1,
            frac: 0.5,
        }; 3];
        let mut out = [0f32; 3];
        resize_bilinear_f32(&p, &rows, &cols, &[0.0, 4.0, 8.0, 12.0], &mut out);
        assert_eq!(out, [4.0; 3]);
    }
}
