//! TRANSPOSE: int8, int16 or float32, constant permutation, up to 5-D (TFLM `TransposePrepare` + reference
//! `Transpose`), run as an affine gather.

use super::common::Prepared;
use super::shapes::{const_i32, expect_same_dtype, pad_front, strides};
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's limit: "Transpose op only supports 1D-5D input arrays."
const MAX_RANK: usize = 5;

/// Validates a TRANSPOSE and computes its gather.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, input, output, &[DType::I8, DType::I16, DType::F32])?;
    let shape = &input.1.shape;
    let rank = shape.len();
    if rank > MAX_RANK {
        return Err(cx.err(format!(
            "input {} has rank {rank}; TFLM's TRANSPOSE supports 1 to {MAX_RANK} dimensions",
            cx.describe(input.0)
        )));
    }
    let (perm_id, perm_t, perm) = const_i32(cx, 1, "perm")?;
    if perm_t.shape.len() != 1 || perm.len() != rank {
        return Err(cx.err(format!(
            "perm {} has shape {:?}; expected [{rank}]",
            cx.describe(perm_id),
            perm_t.shape
        )));
    }
    let mut seen = vec![false; rank];
    for &p in &perm {
        match usize::try_from(p).ok().filter(|&p| p < rank) {
            Some(p) if !seen[p] => seen[p] = true,
            _ => return Err(cx.err(format!("perm {perm:?} is not a permutation of 0..{rank}"))),
        }
    }
    let out_dims: Vec<usize> = perm.iter().map(|&p| shape[p as usize]).collect();
    if output.1.shape != out_dims {
        return Err(cx.err(format!(
            "output {} has shape {:?}; transposing {shape:?} by {perm:?} gives {out_dims:?}",
            cx.describe(output.0),
            output.1.shape
        )));
    }
    let in_strides = strides(shape);
    let mut dims = [1; 6];
    dims.copy_from_slice(&pad_front(&out_dims, 6));
    let mut st = [0isize; 6];
    for (slot, &p) in (6 - rank..).zip(&perm) {
        st[slot] = in_strides[p as usize] as isize;
    }
    let params = rt::Gather {
        dims,
        strides: st,
        base: 0,
    };
    Ok((Kernel::Gather(params), vec![input.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn transpose_and_strided_slice_rules() {
        let transpose = |perm: &[i32], out: &[usize]| {
            run(
                OpKind::Transpose,
                "TRANSPOSE",
                vec![int8(&[2, 3, 4], 0.1, 0), const_i32(perm), int8(out, 0.1, 0)],
                &[0, 1],
                2,
            )
        };
        assert!(transpose(&[2, 0, 1], &[4, 2, 3]).is_ok());
        assert!(transpose(&[0, 0, 1], &[2, 2, 3])
            .unwrap_err()
            .contains("not a permutation"));
        assert!(transpose(&[2, 0, 1], &[2, 3, 4])
            .unwrap_err()
            .contains("gives [4, 2, 3]"));
        let slice = |begin: &[i32], end: &[i32], strides: &[i32], out: &[usize]| {
            run(
                OpKind::StridedSlice(StridedSliceOptions {
                    begin_mask: 0,
                    end_mask: 0,
                    shrink_axis_mask: 0,
                }),
                "STRIDED_SLICE",
                vec![
                    int8(&[4, 6], 0.1, 0),
                    const_i32(begin),
                    const_i32(end),
                    const_i32(strides),
                    int8(out, 0.1, 0),
                ],
                &[0, 1, 2, 3],
                4,
            )
        };
        assert!(slice(&[0, 5], &[4, 0], &[2, -2], &[2, 3]).is_ok());
        assert!(slice(&[0, 0], &[4, 6], &[1, 0], &[4, 6])
            .unwrap_err()
            .contains("stride on axis 1 is 0"));
        assert!(slice(&[0, 0], &[4, 6], &[1, 1], &[4, 5])
            .unwrap_err()
            .contains("gives [4, 6]"));
    }
}
