//! BROADCAST_TO and REVERSE_V2: int8, int16, float32 or int32, each an affine [`rt::gather`]
//! (TFLM `broadcast_to.cc`, `reverse.cc`): a broadcast axis steps by 0, a reversed axis
//! backwards from its last element.

use super::common::Prepared;
use super::movement::{affine, expect_shape};
use super::shapes::expect_same_dtype;
use super::shapes::{const_i32, pad_front, strides};
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// The element types both operators move here.
const TYPES: [DType; 4] = [DType::I8, DType::I16, DType::F32, DType::I32];

/// TFLM's `kMaxDims` for BROADCAST_TO.
const MAX_BROADCAST_RANK: usize = 5;

/// Validates a BROADCAST_TO (constant int32 shape, input 1).
pub fn broadcast_to(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, input, output, &TYPES)?;
    let (shape_id, shape_t, target) = const_i32(cx, 1, "shape")?;
    let in_shape = &input.1.shape;
    let rank = target.len();
    if shape_t.shape.len() != 1 || rank > MAX_BROADCAST_RANK || in_shape.len() > rank {
        return Err(cx.err(format!(
            "shape {} holds {target:?}; TFLM needs a vector of at most {MAX_BROADCAST_RANK} dimensions, at least the input's {}",
            cx.describe(shape_id),
            in_shape.len()
        )));
    }
    let out_shape: Vec<usize> = target.iter().map(|&d| d.max(0) as usize).collect();
    let padded = pad_front(in_shape, rank);
    if padded
        .iter()
        .zip(&out_shape)
        .any(|(&i, &o)| i != 1 && i != o)
    {
        return Err(cx.err(format!(
            "input shape {in_shape:?} does not broadcast to {out_shape:?}"
        )));
    }
    expect_shape(cx, output, &out_shape, "the shape input")?;
    let in_strides = strides(&padded);
    let steps: Vec<isize> = padded
        .iter()
        .zip(&in_strides)
        .map(|(&n, &s)| if n == 1 { 0 } else { s as isize })
        .collect();
    let g = affine(cx, &out_shape, &steps, 0)?;
    Ok((Kernel::Gather(g), vec![input.0], 0))
}

/// Validates a REVERSE_V2 (constant int32 axes, input 1; TFLM takes only contiguous axes).
pub fn reverse_v2(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, input, output, &TYPES)?;
    let shape = &input.1.shape;
    let rank = shape.len() as i32;
    let (axis_id, axis_t, values) = const_i32(cx, 1, "axis")?;
    if axis_t.shape.len() != 1 || values.len() > shape.len() {
        return Err(cx.err(format!(
            "axis {} must be a vector of at most {rank} values",
            cx.describe(axis_id)
        )));
    }
    let mut axes = Vec::with_capacity(values.len());
    for &a in &values {
        let resolved = if a < 0 { a + rank } else { a };
        if !(0..rank).contains(&resolved) {
            return Err(cx.err(format!("axis {a} is out of range for rank {rank}")));
        }
        axes.push(resolved as usize);
    }
    axes.sort_unstable();
    if axes.windows(2).any(|w| w[0] + 1 != w[1]) {
        return Err(cx.err(format!(
            "axes {values:?} are not contiguous (TFLM reverses only a run of adjacent axes)"
        )));
    }
    expect_shape(cx, output, shape, "REVERSE_V2")?;
    let in_strides = strides(shape);
    let mut base = 0isize;
    let steps: Vec<isize> = (0..shape.len())
        .map(|k| {
            let s = in_strides[k] as isize;
            if axes.contains(&k) {
                base += (shape[k] as isize - 1) * s;
                -s
            } else {
                s
            }
        })
        .collect();
    let g = affine(cx, shape, &steps, base)?;
    Ok((Kernel::Gather(g), vec![input.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn broadcast_to_and_reverse_rules() {
        let broadcast = |shape: &[i32], out: &[usize]| {
            run(
                OpKind::BroadcastTo,
                "BROADCAST_TO",
                vec![float(&[3, 1]), const_i32(shape), float(out)],
                &[0, 1],
                2,
            )
        };
        let Ok(Kernel::Gather(g)) = broadcast(&[2, 3, 4], &[2, 3, 4]) else {
            panic!("not a gather")
        };
        assert_eq!(g.strides[3..], [0, 1, 0]);
        assert!(broadcast(&[2, 2, 4], &[2, 2, 4])
            .unwrap_err()
            .contains("does not broadcast"));
        let reverse = |axes: &[i32]| {
            run(
                OpKind::ReverseV2,
                "REVERSE_V2",
                vec![
                    int8(&[2, 3, 4], 0.1, 0),
                    const_i32(axes),
                    int8(&[2, 3, 4], 0.1, 0),
                ],
                &[0, 1],
                2,
            )
        };
        let Ok(Kernel::Gather(g)) = reverse(&[-1, 1]) else {
            panic!("not a gather")
        };
        assert_eq!((g.base, g.strides[4], g.strides[5]), (11, -4, -1));
        assert!(reverse(&[0, 2]).unwrap_err().contains("not contiguous"));
        let seven = run(
            OpKind::ReverseV2,
            "REVERSE_V2",
            vec![float(&[1; 7]), const_i32(&[0]), float(&[1; 7])],
            &[0, 1],
            2,
        );
        assert!(seven.unwrap_err().contains("at most 6"));
    }
}
