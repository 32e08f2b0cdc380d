//! STRIDED_SLICE: int8, int16, int32 or float32, constant begin/end/strides, begin/end/shrink masks, up to 4-D
//! (TFLM `StridedSlicePrepare` + reference `StridedSlice`), run as an affine gather.

use super::common::Prepared;
use super::shapes::{const_i32, expect_same_dtype, pad_front, strides};
use crate::ir::DType;
use crate::ir::StridedSliceOptions;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's `kMaxDim` for STRIDED_SLICE.
const MAX_RANK: usize = 4;

/// `strided_slice::Clamp`.
fn clamp(v: i32, lo: i32, hi: i32) -> i32 {
    if hi < v {
        hi
    } else if v < lo {
        lo
    } else {
        v
    }
}

/// One axis of the slice as TFLM's kernel computes it (`StridedSliceStartForAxis`,
/// `StridedSliceEndForAxis`): `(start, stop)`.
fn eval_bounds(
    o: &StridedSliceOptions,
    k: usize,
    n: i32,
    begin: i32,
    end: i32,
    stride: i32,
) -> (i32, i32) {
    let bit = |mask: u32| mask & (1 << k) != 0;
    let mut start = if begin < 0 { begin + n } else { begin };
    start = if stride > 0 {
        clamp(start, 0, n)
    } else {
        clamp(start, -1, n - 1)
    };
    if bit(o.begin_mask) {
        start = if stride > 0 { 0 } else { n - 1 };
    }
    if bit(o.shrink_axis_mask) {
        return (start, if start >= n { start } else { start + 1 });
    }
    let mut stop = if end < 0 { end + n } else { end };
    stop = if stride > 0 {
        clamp(stop, 0, n)
    } else {
        clamp(stop, -1, n - 1)
    };
    if bit(o.end_mask) {
        stop = if stride > 0 { n } else { -1 };
    }
    (start, stop)
}

/// One axis as TFLM's `Prepare` sizes the output (`StartForAxis`, `StopForAxis`, then
/// `ceil((end - begin) / (float)stride)`).
fn prepare_size(
    o: &StridedSliceOptions,
    k: usize,
    n: i32,
    begin: i32,
    end: i32,
    stride: i32,
) -> i32 {
    let bit = |mask: u32| mask & (1 << k) != 0;
    let fix = |v: i32| {
        let v = if v < 0 { v.wrapping_add(n) } else { v };
        if stride > 0 {
            clamp(v, 0, n)
        } else {
            clamp(v, -1, n - 1)
        }
    };
    let start = fix(if bit(o.begin_mask) {
        if stride > 0 {
            i32::MIN
        } else {
            i32::MAX
        }
    } else {
        begin
    });
    let stop = if bit(o.shrink_axis_mask) {
        start + 1
    } else {
        fix(if bit(o.end_mask) {
            if stride > 0 {
                i32::MAX
            } else {
                i32::MIN
            }
        } else {
            end
        })
    };
    (((stop - start) as f32 / stride as f32).ceil() as i32).max(0)
}

/// Validates a STRIDED_SLICE and computes its gather.
pub fn prepare(cx: &OpCx, o: &StridedSliceOptions) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(
        cx,
        input,
        output,
        &[DType::I8, DType::I16, DType::I32, DType::F32],
    )?;
    let shape = &input.1.shape;
    let rank = shape.len();
    if rank > MAX_RANK {
        return Err(cx.err(format!(
            "input {} has rank {rank}; TFLM's STRIDED_SLICE supports at most {MAX_RANK}",
            cx.describe(input.0)
        )));
    }
    let (_, _, begin) = const_i32(cx, 1, "begin")?;
    let (_, _, end) = const_i32(cx, 2, "end")?;
    let (_, _, step) = const_i32(cx, 3, "strides")?;
    for (what, v) in [("begin", &begin), ("end", &end), ("strides", &step)] {
        if v.len() != rank {
            return Err(cx.err(format!(
                "{what} has {} values for a rank-{rank} input",
                v.len()
            )));
        }
    }
    let in_strides = strides(shape);
    let mut counts = Vec::with_capacity(rank);
    let mut gather_strides = Vec::with_capacity(rank);
    let mut out_shape = Vec::with_capacity(rank);
    let mut base = 0isize;
    for k in 0..rank {
        let n = shape[k] as i32;
        let stride = step[k];
        if stride == 0 {
            return Err(cx.err(format!("stride on axis {k} is 0")));
        }
        let size = prepare_size(o, k, n, begin[k], end[k], stride);
        let shrink = o.shrink_axis_mask & (1 << k) != 0;
        if !shrink {
            out_shape.push(size as usize);
        }
        let (start, stop) = eval_bounds(o, k, n, begin[k], end[k], stride);
        let count = if stride > 0 {
            (stop - start + stride - 1).div_euclid(stride)
        } else {
            (start - stop - stride - 1).div_euclid(-stride)
        }
        .max(0);
        if shrink && count != 1 {
            return Err(cx.err(format!(
                "shrunk axis {k} starts at {}, outside its size {n}",
                begin[k]
            )));
        }
        if count > 0 {
            base += start as isize * in_strides[k] as isize;
        }
        counts.push(count as usize);
        gather_strides.push(stride as isize * in_strides[k] as isize);
    }
    if out_shape != output.1.shape {
        return Err(cx.err(format!(
            "output {} has shape {:?}; the slice gives {out_shape:?}",
            cx.describe(output.0),
            output.1.shape
        )));
    }
    if counts.iter().product::<usize>() != output.1.elements() {
        return Err(cx.err(format!(
            "the slice selects {:?} elements per axis, output {} has shape {:?}",
            counts,
            cx.describe(output.0),
            output.1.shape
        )));
    }
    let mut dims = [1; 6];
    dims.copy_from_slice(&pad_front(&counts, 6));
    let mut st = [0; 6];
    st[6 - rank..].copy_from_slice(&gather_strides);
    let params = rt::Gather {
        dims,
        strides: st,
        base,
    };
    Ok((Kernel::Gather(params), vec![input.0], 0))
}
