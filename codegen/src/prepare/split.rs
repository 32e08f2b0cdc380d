//! SPLIT, SPLIT_V and UNPACK: int8, int16 or float32, one input cut along one axis into several
//! outputs (TFLM's `split.cc`, `split_v.cc`, `unpack.cc`: raw copies, sized by the output
//! tensors). kiln's layers write one tensor each, so each output becomes its own layer, an
//! affine gather of its block of the input.

use super::shapes::{const_i32, pad_front, strides};
use crate::ir::{DType, Tensor, TensorId};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// One layer per output: its output, kernel and inputs.
pub type Parts = Result<Vec<(TensorId, Kernel, Vec<TensorId>)>, ValidateError>;

/// Most input dimensions (kiln's gather).
const MAX_RANK: usize = 6;

/// The one constant int32 axis at input `slot`, resolved against `rank`.
fn axis_input(cx: &OpCx, slot: usize, rank: usize) -> Result<usize, ValidateError> {
    let (id, _, values) = const_i32(cx, slot, "axis")?;
    let &[a] = values.as_slice() else {
        return Err(cx.err(format!(
            "axis {} has {} values; expected one",
            cx.describe(id),
            values.len()
        )));
    };
    resolve(cx, a, rank)
}

fn resolve(cx: &OpCx, axis: i32, rank: usize) -> Result<usize, ValidateError> {
    let resolved = if axis < 0 { axis + rank as i32 } else { axis };
    if (0..rank as i32).contains(&resolved) {
        Ok(resolved as usize)
    } else {
        Err(cx.err(format!("axis {axis} is out of range for rank {rank}")))
    }
}

/// The data input: int8, int16 or float32, non-constant, at most 6-D.
fn data_input<'g>(cx: &OpCx<'g>, slot: usize) -> Result<(TensorId, &'g Tensor), ValidateError> {
    let input = cx.input(slot, "input")?;
    if !matches!(input.1.dtype, DType::I8 | DType::I16 | DType::F32) {
        return Err(cx.err(format!(
            "input {} is {}, but kiln supports only int8, int16 and float32 here",
            cx.describe(input.0),
            input.1.dtype
        )));
    }
    if input.1.is_const() {
        return Err(cx.err(format!(
            "input {} is a constant; kiln supports {} of activations only",
            cx.describe(input.0),
            cx.name
        )));
    }
    if input.1.shape.len() > MAX_RANK {
        return Err(cx.err(format!(
            "input {} has rank {}; kiln supports at most {MAX_RANK}",
            cx.describe(input.0),
            input.1.shape.len()
        )));
    }
    Ok(input)
}

/// The outputs as blocks of `input` along `axis`, in order; `keep_axis` false drops the
/// axis from the outputs (UNPACK: blocks of one).
fn pieces(cx: &OpCx, (in_id, input): (TensorId, &Tensor), axis: usize, keep_axis: bool) -> Parts {
    let shape = &input.shape;
    let in_strides = strides(shape);
    let mut offset = 0;
    let mut parts = Vec::with_capacity(cx.op.outputs.len());
    for &out_id in &cx.op.outputs {
        let out = &cx.graph.tensors[out_id];
        cx.expect_dtype((out_id, out), input.dtype, "output")?;
        let len = if keep_axis {
            out.shape.get(axis).copied().unwrap_or(0)
        } else {
            1
        };
        let mut expected = shape.clone();
        if keep_axis {
            expected[axis] = len;
        } else {
            expected.remove(axis);
        }
        if out.shape != expected || offset + len > shape[axis] {
            return Err(cx.err(format!(
                "output {} has shape {:?}, which is not the next block of input {} {shape:?} along axis {axis}",
                cx.describe(out_id),
                out.shape,
                cx.describe(in_id)
            )));
        }
        let mut st: Vec<isize> = in_strides.iter().map(|&s| s as isize).collect();
        if !keep_axis {
            st.remove(axis);
        }
        let mut dims = [1; MAX_RANK];
        dims.copy_from_slice(&pad_front(&out.shape, MAX_RANK));
        let mut gather_strides = [0isize; MAX_RANK];
        gather_strides[MAX_RANK - st.len()..].copy_from_slice(&st);
        let params = rt::Gather {
            dims,
            strides: gather_strides,
            base: (offset * in_strides[axis]) as isize,
        };
        parts.push((out_id, Kernel::Gather(params), vec![in_id]));
        offset += len;
    }
    if offset != shape[axis] {
        return Err(cx.err(format!(
            "the outputs cover {offset} of the {} elements along axis {axis}",
            shape[axis]
        )));
    }
    Ok(parts)
}

/// Validates a SPLIT (axis input 0, data input 1).
pub fn split(cx: &OpCx) -> Parts {
    let input = data_input(cx, 1)?;
    let axis = axis_input(cx, 0, input.1.shape.len())?;
    pieces(cx, input, axis, true)
}

/// Validates a SPLIT_V (data input 0, sizes input 1, axis input 2): the outputs must have
/// the sizes given (one of them may be -1, the rest).
pub fn split_v(cx: &OpCx) -> Parts {
    let input = data_input(cx, 0)?;
    let axis = axis_input(cx, 2, input.1.shape.len())?;
    let (sizes_id, _, sizes) = const_i32(cx, 1, "size_splits")?;
    let outputs = &cx.op.outputs;
    let given: i64 = sizes.iter().filter(|&&s| s != -1).map(|&s| s as i64).sum();
    let rest = input.1.shape[axis] as i64 - given;
    let matches = sizes.len() == outputs.len()
        && sizes.iter().filter(|&&s| s == -1).count() <= 1
        && sizes.iter().zip(outputs).all(|(&s, &o)| {
            let want = if s == -1 { rest } else { s as i64 };
            cx.graph.tensors[o].shape.get(axis).map(|&d| d as i64) == Some(want)
        });
    if !matches {
        return Err(cx.err(format!(
            "size_splits {} {sizes:?} does not match the outputs along axis {axis}",
            cx.describe(sizes_id)
        )));
    }
    pieces(cx, input, axis, true)
}

/// Validates an UNPACK along `axis`.
pub fn unpack(cx: &OpCx, axis: i32) -> Parts {
    let input = data_input(cx, 0)?;
    let axis = resolve(cx, axis, input.1.shape.len())?;
    pieces(cx, input, axis, false)
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    /// One several-output op over `tensors`: `ins` are its inputs, `outs` its outputs.
    fn run_multi(
        kind: OpKind,
        name: &'static str,
        tensors: Vec<Tensor>,
        ins: &[usize],
        outs: &[usize],
    ) -> Result<Vec<Layer>, String> {
        let inputs: Vec<usize> = ins
            .iter()
            .copied()
            .filter(|&t| !tensors[t].is_const())
            .collect();
        let graph = Graph {
            tensors,
            ops: vec![Op {
                kind,
                name,
                inputs: ins.iter().map(|&t| Some(t)).collect(),
                outputs: outs.to_vec(),
            }],
            inputs,
            outputs: outs.to_vec(),
            variables: Vec::new(),
            arithmetic: Default::default(),
            folded: Vec::new(),
        };
        prepare(&graph).map_err(|e| e.to_string())
    }

    #[test]
    fn split_and_unpack_make_one_gather_per_output() {
        // SPLIT [2, 6] along axis 1 into 2 + 4
        let layers = run_multi(
            OpKind::Split,
            "SPLIT",
            vec![
                const_i32(&[-1]),
                int8(&[2, 6], 0.1, 0),
                int8(&[2, 2], 0.1, 0),
                int8(&[2, 4], 0.1, 0),
            ],
            &[0, 1],
            &[2, 3],
        )
        .unwrap();
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[1].part, Some(1));
        let Kernel::Gather(g) = &layers[1].kernel else {
            panic!("not a gather")
        };
        assert_eq!((g.base, g.dims[4..].to_vec()), (2, vec![2, 4]));
        // the outputs must cover the axis
        let err = run_multi(
            OpKind::Split,
            "SPLIT",
            vec![
                const_i32(&[1]),
                int8(&[2, 6], 0.1, 0),
                int8(&[2, 2], 0.1, 0),
                int8(&[2, 3], 0.1, 0),
            ],
            &[0, 1],
            &[2, 3],
        )
        .unwrap_err();
        assert!(err.contains("cover 5 of the 6"), "{err}");
        // SPLIT_V sizes must match the outputs
        let err = run_multi(
            OpKind::SplitV,
            "SPLIT_V",
            vec![
                int8(&[2, 6], 0.1, 0),
                const_i32(&[3, -1]),
                const_i32(&[1]),
                int8(&[2, 2], 0.1, 0),
                int8(&[2, 4], 0.1, 0),
            ],
            &[0, 1, 2],
            &[3, 4],
        )
        .unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        // UNPACK [3, 2] along axis 0: three [2]
        let layers = run_multi(
            OpKind::Unpack { axis: 0 },
            "UNPACK",
            vec![
                int8(&[3, 2], 0.1, 0),
                int8(&[2], 0.1, 0),
                int8(&[2], 0.1, 0),
                int8(&[2], 0.1, 0),
            ],
            &[0],
            &[1, 2, 3],
        )
        .unwrap();
        let Kernel::Gather(g) = &layers[2].kernel else {
            panic!("not a gather")
        };
        assert_eq!((g.base, g.strides[5]), (4, 1));
    }
}
