//! SLICE: int8, int16 or float32, constant int32 `begin` and `size` (`-1`: to the end of the
//! axis), up to 5-D (TFLM's `slice.cc`, reference `Slice`), run as an affine gather.

use super::common::Prepared;
use super::shapes::{const_i32, pad_front, strides};
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's `kMaxDim` for SLICE.
const MAX_RANK: usize = 5;

/// Validates a SLICE and computes its gather.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    let dtype = input.1.dtype;
    if !matches!(dtype, DType::I8 | DType::I16 | DType::F32) {
        return Err(cx.err(format!(
            "input {} is {dtype}, but kiln supports only int8, int16 and float32 here",
            cx.describe(input.0)
        )));
    }
    cx.expect_dtype(output, dtype, "output")?;
    let shape = &input.1.shape;
    let rank = shape.len();
    if rank > MAX_RANK {
        return Err(cx.err(format!(
            "input {} has rank {rank}; TFLM's SLICE supports at most {MAX_RANK}",
            cx.describe(input.0)
        )));
    }
    let (_, _, begin) = const_i32(cx, 1, "begin")?;
    let (_, _, size) = const_i32(cx, 2, "size")?;
    for (what, v) in [("begin", &begin), ("size", &size)] {
        if v.len() != rank {
            return Err(cx.err(format!(
                "{what} has {} values for a rank-{rank} input",
                v.len()
            )));
        }
    }
    let mut sizes = Vec::with_capacity(rank);
    let mut base = 0usize;
    let in_strides = strides(shape);
    for k in 0..rank {
        let n = shape[k] as i64;
        let (b, s) = (begin[k] as i64, size[k] as i64);
        let stop = if s == -1 { n } else { b + s };
        if b < 0 || s < -1 || stop > n || stop < b {
            return Err(cx.err(format!(
                "axis {k}: begin {b}, size {s} do not fit its {n} elements"
            )));
        }
        sizes.push((stop - b) as usize);
        base += b as usize * in_strides[k];
    }
    if output.1.shape != sizes {
        return Err(cx.err(format!(
            "output {} has shape {:?}; the slice gives {sizes:?}",
            cx.describe(output.0),
            output.1.shape
        )));
    }
    let mut dims = [1; 6];
    dims.copy_from_slice(&pad_front(&sizes, 6));
    let mut st = [0isize; 6];
    for (slot, &s) in (6 - rank..).zip(&in_strides) {
        st[slot] = s as isize;
    }
    let params = rt::Gather {
        dims,
        strides: st,
        base: base as isize,
    };
    Ok((Kernel::Gather(params), vec![input.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn slice_bounds_and_shape() {
        let slice = |begin: &[i32], size: &[i32], out: &[usize]| {
            run(
                OpKind::Slice,
                "SLICE",
                vec![
                    int8(&[4, 6], 0.1, 0),
                    const_i32(begin),
                    const_i32(size),
                    int8(out, 0.1, 0),
                ],
                &[0, 1, 2],
                3,
            )
        };
        let Ok(Kernel::Gather(g)) = slice(&[1, 2], &[2, -1], &[2, 4]) else {
            panic!("not a gather")
        };
        assert_eq!(g.base, 8);
        assert_eq!(g.dims[4..], [2, 4]);
        let err = slice(&[3, 0], &[2, 6], &[2, 6]).unwrap_err();
        assert!(err.contains("do not fit"), "{err}");
        let err = slice(&[0, 0], &[2, 2], &[2, 3]).unwrap_err();
        assert!(err.contains("gives [2, 2]"), "{err}");
    }
}
