//! Pooling and reduction: AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, REDUCE_MAX, REDUCE_MIN, ARG_MAX,
//! ARG_MIN.

use super::*;

/// Per-layer constants of AVERAGE_POOL_2D and MAX_POOL_2D; `A` is the type of the clamp
/// bounds (`i32` for int8 layers, `f32` for float layers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool<A = i32> {
    /// Batch size.
    pub batches: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Channels (input = output).
    pub channels: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Window height.
    pub filter_h: usize,
    /// Window width.
    pub filter_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Rows of padding above the input (padded cells are excluded from the window).
    pub pad_top: usize,
    /// Columns of padding left of the input.
    pub pad_left: usize,
    /// Lower clamp bound (fused activation).
    pub act_min: A,
    /// Upper clamp bound (fused activation).
    pub act_max: A,
}

/// The part of a pooling window that lies inside the input: `(start, end)` per axis.
#[inline(always)]
pub fn pool_window(
    out: usize,
    stride: usize,
    padding: usize,
    filter: usize,
    size: usize,
) -> (usize, usize) {
    let origin = window_start(out, stride, padding);
    let start = if origin < 0 { (-origin) as usize } else { 0 };
    let limit = size as isize - origin;
    let end = if limit < filter as isize {
        limit.max(0) as usize
    } else {
        filter
    };
    (start, end)
}

/// Int8 AVERAGE_POOL_2D (TFLite reference: windows clipped to the input, rounded division).
#[inline(always)]
pub fn average_pool(p: &Pool, input: &[i8], output: &mut [i8]) {
    average_pool_of(p, input, output, |v| v as i8);
}

/// AVERAGE_POOL_2D of int8 or int16 elements (TFLite's reference integer kernels, the same
/// for both); `narrow` converts a clamped average to the element type.
#[inline(always)]
pub fn average_pool_of<T: Copy + Into<i32>>(
    p: &Pool,
    input: &[T],
    output: &mut [T],
    narrow: impl Fn(i32) -> T,
) {
    let mut out_index = 0usize;
    for b in 0..p.batches {
        for oy in 0..p.out_h {
            let (ys, ye) = pool_window(oy, p.stride_h, p.pad_top, p.filter_h, p.in_h);
            let y0 = window_start(oy, p.stride_h, p.pad_top);
            for ox in 0..p.out_w {
                let (xs, xe) = pool_window(ox, p.stride_w, p.pad_left, p.filter_w, p.in_w);
                let x0 = window_start(ox, p.stride_w, p.pad_left);
                let count = ((ye.saturating_sub(ys)) * (xe.saturating_sub(xs))) as i32;
                for c in 0..p.channels {
                    let mut acc = 0i32;
                    for fy in ys..ye {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in xs..xe {
                            let ix = (x0 + fx as isize) as usize;
                            let i = ((b * p.in_h + iy) * p.in_w + ix) * p.channels + c;
                            acc = acc.wrapping_add(input.get(i).map_or(0, |&v| v.into()));
                        }
                    }
                    let avg = if count == 0 {
                        0
                    } else if acc > 0 {
                        (acc + count / 2) / count
                    } else {
                        (acc - count / 2) / count
                    };
                    if let Some(o) = output.get_mut(out_index) {
                        *o = narrow(avg.max(p.act_min).min(p.act_max));
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Int8 MAX_POOL_2D (TFLite reference).
#[inline(always)]
pub fn max_pool(p: &Pool, input: &[i8], output: &mut [i8]) {
    max_pool_of(p, i8::MIN as i32, input, output, |v| v as i8);
}

/// MAX_POOL_2D of int8 or int16 elements whose least value is `lowest`; `narrow` converts a
/// clamped maximum to the element type.
#[inline(always)]
pub fn max_pool_of<T: Copy + Into<i32>>(
    p: &Pool,
    lowest: i32,
    input: &[T],
    output: &mut [T],
    narrow: impl Fn(i32) -> T,
) {
    let mut out_index = 0usize;
    for b in 0..p.batches {
        for oy in 0..p.out_h {
            let (ys, ye) = pool_window(oy, p.stride_h, p.pad_top, p.filter_h, p.in_h);
            let y0 = window_start(oy, p.stride_h, p.pad_top);
            for ox in 0..p.out_w {
                let (xs, xe) = pool_window(ox, p.stride_w, p.pad_left, p.filter_w, p.in_w);
                let x0 = window_start(ox, p.stride_w, p.pad_left);
                for c in 0..p.channels {
                    let mut max = lowest;
                    for fy in ys..ye {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in xs..xe {
                            let ix = (x0 + fx as isize) as usize;
                            let i = ((b * p.in_h + iy) * p.in_w + ix) * p.channels + c;
                            let v = input.get(i).map_or(lowest, |&v| v.into());
                            if v > max {
                                max = v;
                            }
                        }
                    }
                    if let Some(o) = output.get_mut(out_index) {
                        *o = narrow(max.max(p.act_min).min(p.act_max));
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Per-layer constants of int8 MEAN: each output element sums the input over the reduced
/// axes, the kept axes select the element (up to 6 of each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mean {
    /// Sizes of the kept axes (1-padded).
    pub outer_dims: [usize; 6],
    /// Input element strides of the kept axes.
    pub outer_strides: [usize; 6],
    /// Sizes of the reduced axes (1-padded).
    pub inner_dims: [usize; 6],
    /// Input element strides of the reduced axes.
    pub inner_strides: [usize; 6],
    /// Elements per reduction.
    pub count: i32,
    /// Input zero point.
    pub input_zero_point: i32,
    /// `input_scale / output_scale / count` as a Q31 multiplier.
    pub multiplier: i32,
    /// Its shift.
    pub shift: i32,
    /// Output zero point.
    pub output_zero_point: i32,
}

/// Int8 MEAN (TFLM `QuantizedMeanOrSum`: int32 sum, zero point removed, one requantization).
#[inline(always)]
pub fn mean(p: &Mean, input: &[i8], output: &mut [i8]) {
    mean_of(p, input, output, |v| clamp_i8(v, -128, 127));
}

/// MEAN (or SUM) of int8 or int16 elements (TFLM `QuantizedMeanOrSum<T>`); `narrow`
/// saturates a requantized value to the element type.
#[inline(always)]
pub fn mean_of<T: Copy + Into<i32>>(
    p: &Mean,
    input: &[T],
    output: &mut [T],
    narrow: impl Fn(i32) -> T,
) {
    let mut outer = [0usize; 6];
    for o in output.iter_mut() {
        let base = offset_of(&outer, &p.outer_strides);
        let mut sum = 0i32;
        let mut inner = [0usize; 6];
        for _ in 0..p.count.max(0) {
            let i = base.wrapping_add(offset_of(&inner, &p.inner_strides));
            sum = sum.wrapping_add(input.get(i).map_or(0, |&v| v.into()));
            next_index(&mut inner, &p.inner_dims);
        }
        let shifted = (sum as i64 - p.input_zero_point as i64 * p.count as i64) as i32;
        let v = multiply_by_quantized_multiplier(shifted, p.multiplier, p.shift)
            .wrapping_add(p.output_zero_point);
        *o = narrow(v);
        next_index(&mut outer, &p.outer_dims);
    }
}

/// Per-layer constants of REDUCE_MAX and REDUCE_MIN: the reduced axes walk the elements of
/// one output, the kept axes select the output (up to 6 of each, in input order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reduce {
    /// Sizes of the kept axes (1-padded).
    pub kept_dims: [usize; 6],
    /// Input element strides of the kept axes.
    pub kept_strides: [usize; 6],
    /// Sizes of the reduced axes (1-padded).
    pub reduced_dims: [usize; 6],
    /// Input element strides of the reduced axes.
    pub reduced_strides: [usize; 6],
    /// Elements per output.
    pub reduced_count: usize,
}

/// Folds the elements of each output with `keep` (TFLite reference `ReduceGeneric`: from
/// `init`, in input order, `keep(current, next)`).
#[inline(always)]
pub fn reduce_with<T: Copy>(
    p: &Reduce,
    init: T,
    input: &[T],
    output: &mut [T],
    keep: impl Fn(T, T) -> T,
) {
    let mut kept = [0usize; 6];
    for o in output.iter_mut() {
        let base = offset_of(&kept, &p.kept_strides);
        let mut acc = init;
        let mut reduced = [0usize; 6];
        for _ in 0..p.reduced_count {
            let i = base.wrapping_add(offset_of(&reduced, &p.reduced_strides));
            if let Some(&v) = input.get(i) {
                acc = keep(acc, v);
            }
            next_index(&mut reduced, &p.reduced_dims);
        }
        *o = acc;
        next_index(&mut kept, &p.kept_dims);
    }
}

/// REDUCE_MAX (TFLM `EvalMaxHelper`: `init` is the type's lowest value).
#[inline(always)]
pub fn reduce_max<T: Copy + PartialOrd>(p: &Reduce, init: T, input: &[T], output: &mut [T]) {
    reduce_with(p, init, input, output, |current, next| {
        if next > current {
            next
        } else {
            current
        }
    });
}

/// REDUCE_MIN (TFLM `EvalMinHelper`: `init` is the type's highest value).
#[inline(always)]
pub fn reduce_min<T: Copy + PartialOrd>(p: &Reduce, init: T, input: &[T], output: &mut [T]) {
    reduce_with(p, init, input, output, |current, next| {
        if next < current {
            next
        } else {
            current
        }
    });
}

/// Per-layer constants of ARG_MAX and ARG_MIN: the input as `[outer, axis_len, inner]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgMinMax {
    /// Product of the dimensions before the axis.
    pub outer: usize,
    /// Size of the axis.
    pub axis_len: usize,
    /// Product of the dimensions after the axis.
    pub inner: usize,
}

/// The index along the axis of the element `better` prefers to all before it (TFLite
/// reference `ArgMinMax`: the first one on ties).
#[inline(always)]
pub fn arg_select<T: Copy>(
    p: &ArgMinMax,
    input: &[T],
    output: &mut [i32],
    better: impl Fn(T, T) -> bool,
) {
    for (k, o) in output
        .iter_mut()
        .enumerate()
        .take(p.outer.wrapping_mul(p.inner))
    {
        let (outer, inner) = (k / p.inner.max(1), k % p.inner.max(1));
        let at = |i: usize| {
            input
                .get(
                    outer
                        .wrapping_mul(p.axis_len)
                        .wrapping_add(i)
                        .wrapping_mul(p.inner)
                        .wrapping_add(inner),
                )
                .copied()
        };
        let Some(mut best) = at(0) else {
            continue;
        };
        let mut best_index = 0;
        for i in 1..p.axis_len {
            if let Some(v) = at(i) {
                if better(v, best) {
                    best = v;
                    best_index = i;
                }
            }
        }
        *o = best_index as i32;
    }
}

/// ARG_MAX (TFLM with `GreaterFn`).
#[inline(always)]
pub fn arg_max<T: Copy + PartialOrd>(p: &ArgMinMax, input: &[T], output: &mut [i32]) {
    arg_select(p, input, output, |v, best| v > best);
}

/// ARG_MIN (TFLM with `LessFn`).
#[inline(always)]
pub fn arg_min<T: Copy + PartialOrd>(p: &ArgMinMax, input: &[T], output: &mut [i32]) {
    arg_select(p, input, output, |v, best| v < best);
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn mean_rounds_with_the_folded_multiplier() {
        // [2, 2] mean over the last axis, scales equal: multiplier 1 = 2^30 * 2^1, count 2
        // folds into shift 0
        let p = Mean {
            outer_dims: [1, 1, 1, 1, 1, 2],
            outer_strides: [0, 0, 0, 0, 0, 2],
            inner_dims: [1, 1, 1, 1, 1, 2],
            inner_strides: [0, 0, 0, 0, 0, 1],
            count: 2,
            input_zero_point: 1,
            multiplier: 1 << 30,
            shift: 0,
            output_zero_point: 1,
        };
        let mut out = [0i8; 2];
        mean(&p, &[4, 7, -4, -7], &mut out);
        // (4 + 7 - 2) / 2 = 4.5 -> 5, + 1; (-4 - 7 - 2) / 2 = -6.5 -> -6 (ties up), + 1
        assert_eq!(out, [6, -5]);
    }

    #[test]
    fn reductions_and_arg_min_max() {
        // [2, 3]: max over axis 1, min over axis 0
        let x = [1i8, -7, 5, 4, 9, -2];
        let rows = Reduce {
            kept_dims: [1, 1, 1, 1, 1, 2],
            kept_strides: [0, 0, 0, 0, 0, 3],
            reduced_dims: [1, 1, 1, 1, 1, 3],
            reduced_strides: [0, 0, 0, 0, 0, 1],
            reduced_count: 3,
        };
        let mut out = [0i8; 2];
        reduce_max(&rows, i8::MIN, &x, &mut out);
        assert_eq!(out, [5, 9]);
        let cols = Reduce {
            kept_dims: [1, 1, 1, 1, 1, 3],
            kept_strides: [0, 0, 0, 0, 0, 1],
            reduced_dims: [1, 1, 1, 1, 1, 2],
            reduced_strides: [0, 0, 0, 0, 0, 3],
            reduced_count: 2,
        };
        let mut out = [0i8; 3];
        reduce_min(&cols, i8::MAX, &x, &mut out);
        assert_eq!(out, [1, -7, -2]);
        // ARG_MAX over axis 1 of [2, 3], ARG_MIN over axis 0; ties give the first index
        let mut idx = [9i32; 2];
        arg_max(
            &ArgMinMax {
                outer: 2,
                axis_len: 3,
                inner: 1,
            },
            &[3i8, 7, 7, 0, 0, 0],
            &mut idx,
        );
        assert_eq!(idx, [1, 0]);
        let mut idx = [9i32; 3];
        arg_min(
            &ArgMinMax {
                outer: 1,
                axis_len: 2,
                inner: 3,
            },
            &x,
            &mut idx,
        );
        assert_eq!(idx, [0, 0, 1]);
    }
}
