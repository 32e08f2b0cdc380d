//! Shape helpers shared by the element-wise and data-movement ops: broadcasting, constant
//! int32 parameter tensors, row-major strides.

use crate::ir::{DType, Tensor, TensorId};
use crate::prepare::{OpCx, ValidateError};
use crate::runtime as rt;

/// Most dimensions of a broadcast (TFLM's `BroadcastBinaryOpSimple` handles 6).
pub const MAX_BROADCAST_RANK: usize = 6;

/// Row-major element strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut out = vec![1; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        out[k] = out[k + 1] * shape[k + 1];
    }
    out
}

/// `shape` with leading 1s up to `rank` dimensions.
pub fn pad_front(shape: &[usize], rank: usize) -> Vec<usize> {
    let mut out = vec![1; rank.saturating_sub(shape.len())];
    out.extend_from_slice(shape);
    out
}

/// Broadcasting of the two inputs of a binary op to its output: `None` when the shapes are
/// equal once 1-padded to the same rank (TFLM's element-wise path), otherwise the strides of
/// the numpy-style broadcast (TFLM's `Broadcast*6DSlow` path). The output tensor must have
/// the broadcast shape.
pub fn broadcast(
    cx: &OpCx,
    (a_id, a): (TensorId, &Tensor),
    (b_id, b): (TensorId, &Tensor),
    (out_id, out): (TensorId, &Tensor),
) -> Result<Option<rt::Broadcast>, ValidateError> {
    let rank = a.shape.len().max(b.shape.len()).max(out.shape.len());
    let (pa, pb) = (pad_front(&a.shape, rank), pad_front(&b.shape, rank));
    let mut dims = Vec::with_capacity(rank);
    for (k, (&da, &db)) in pa.iter().zip(&pb).enumerate() {
        dims.push(match (da, db) {
            _ if da == db => da,
            (1, _) => db,
            (_, 1) => da,
            _ => {
                return Err(cx.err(format!(
                    "inputs {} {:?} and {} {:?} do not broadcast (axis {k}: {da} vs {db})",
                    cx.describe(a_id),
                    a.shape,
                    cx.describe(b_id),
                    b.shape
                )))
            }
        });
    }
    if pad_front(&out.shape, rank) != dims {
        return Err(cx.err(format!(
            "output {} has shape {:?}, but the inputs broadcast to {dims:?}",
            cx.describe(out_id),
            out.shape
        )));
    }
    if pa == pb {
        return Ok(None);
    }
    if rank > MAX_BROADCAST_RANK {
        return Err(cx.err(format!(
            "broadcasting over {rank} dimensions; TFLM supports at most {MAX_BROADCAST_RANK}"
        )));
    }
    Ok(Some(rt::Broadcast {
        dims: broadcast_dims(&dims),
        strides1: broadcast_strides(&pa),
        strides2: broadcast_strides(&pb),
    }))
}

/// `dims` 1-padded to [`MAX_BROADCAST_RANK`] dimensions (at most that many).
pub fn broadcast_dims(dims: &[usize]) -> [usize; MAX_BROADCAST_RANK] {
    let mut out = [1; MAX_BROADCAST_RANK];
    out.copy_from_slice(&pad_front(dims, MAX_BROADCAST_RANK));
    out
}

/// The element strides of an input of `shape` read along a broadcast output: row-major, 0
/// along its size-1 axes (1-padded to [`MAX_BROADCAST_RANK`] dimensions).
pub fn broadcast_strides(shape: &[usize]) -> [usize; MAX_BROADCAST_RANK] {
    let shape = pad_front(shape, MAX_BROADCAST_RANK);
    let s = strides(&shape);
    let mut out = [0; MAX_BROADCAST_RANK];
    for k in 0..MAX_BROADCAST_RANK {
        out[k] = if shape[k] == 1 { 0 } else { s[k] };
    }
    out
}

/// The constant int32 tensor at input `slot` and its values.
pub fn const_i32<'g>(
    cx: &OpCx<'g>,
    slot: usize,
    what: &str,
) -> Result<(TensorId, &'g Tensor, Vec<i32>), ValidateError> {
    let (id, t) = cx.input(slot, what)?;
    cx.expect_dtype((id, t), DType::I32, what)?;
    if !t.is_const() {
        return Err(cx.err(format!(
            "{what} {} must be a constant tensor (TFLM: non-constant {what} is not supported)",
            cx.describe(id)
        )));
    }
    let values = t.data_i32();
    if values.len() != t.elements() {
        return Err(cx.err(format!(
            "{what} {} has {} bytes of data for {} elements",
            cx.describe(id),
            t.data.as_ref().map_or(0, Vec::len),
            t.elements()
        )));
    }
    Ok((id, t, values))
}

/// Requires input and output to have the same element type (int8 here).
pub fn expect_int8_in_out(
    cx: &OpCx,
    input: (TensorId, &Tensor),
    output: (TensorId, &Tensor),
) -> Result<(), ValidateError> {
    cx.expect_dtype(input, DType::I8, "input")?;
    cx.expect_dtype(output, DType::I8, "output")
}

/// Requires input and output of one element type, one of `allowed` (data-movement operators
/// copy elements unchanged, whatever their type); returns it.
pub fn expect_same_dtype(
    cx: &OpCx,
    input: (TensorId, &Tensor),
    output: (TensorId, &Tensor),
    allowed: &[DType],
) -> Result<DType, ValidateError> {
    let dtype = input.1.dtype;
    if !allowed.contains(&dtype) {
        let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
        return Err(cx.err(format!(
            "input {} is {dtype}, but kiln supports only {} here",
            cx.describe(input.0),
            names.join(", ")
        )));
    }
    cx.expect_dtype(output, dtype, "output")?;
    Ok(dtype)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_major_strides() {
        assert_eq!(strides(&[2, 3, 4]), [12, 4, 1]);
        assert_eq!(strides(&[5]), [1]);
        assert!(strides(&[]).is_empty());
        assert_eq!(pad_front(&[3, 4], 4), [1, 1, 3, 4]);
    }
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn binary_ops_check_broadcasting() {
        for kind in [
            OpKind::Mul {
                activation: crate::ir::Activation::None,
            },
            OpKind::Sub {
                activation: crate::ir::Activation::None,
            },
            OpKind::Add {
                activation: crate::ir::Activation::None,
            },
        ] {
            let err = run(
                kind.clone(),
                "BINARY",
                vec![
                    int8(&[2, 3], 0.1, 0),
                    int8(&[2, 4], 0.1, 0),
                    int8(&[2, 4], 0.1, 0),
                ],
                &[0, 1],
                2,
            )
            .unwrap_err();
            assert!(err.contains("do not broadcast"), "{err}");
            let err = run(
                kind.clone(),
                "BINARY",
                vec![
                    int8(&[2, 3], 0.1, 0),
                    int8(&[3], 0.1, 0),
                    int8(&[3, 3], 0.1, 0),
                ],
                &[0, 1],
                2,
            )
            .unwrap_err();
            assert!(err.contains("broadcast to [2, 3]"), "{err}");
            let ok = run(
                kind,
                "BINARY",
                vec![
                    int8(&[2, 3], 0.1, 0),
                    int8(&[3], 0.1, 0),
                    int8(&[2, 3], 0.1, 0),
                ],
                &[0, 1],
                2,
            )
            .unwrap();
            let bc = match ok {
                Kernel::Mul(_, bc) | Kernel::Sub(_, bc) => bc,
                Kernel::AddBroadcast(_, bc) => Some(bc),
                other => panic!("{other:?}"),
            };
            assert_eq!(bc.map(|b| b.strides2), Some([0, 0, 0, 0, 0, 1]));
        }
    }
}

/// The axes a reducer (MEAN, REDUCE_MAX, REDUCE_MIN) reduces and the axes it keeps, from its
/// constant `axis` input (slot 1): TFLM's `ResolveAxis` (negative axes count from the end,
/// duplicates dropped, given order kept), with the input's rank at most `max_rank` and the
/// output's size checked against the reduced shape.
pub fn reduction_axes(
    cx: &OpCx,
    input: (TensorId, &Tensor),
    output: (TensorId, &Tensor),
    keep_dims: bool,
    max_rank: usize,
) -> Result<(Vec<usize>, Vec<usize>), ValidateError> {
    let (_, _, axis_values) = const_i32(cx, 1, "axis")?;
    let shape = &input.1.shape;
    let rank = shape.len();
    if rank > max_rank {
        return Err(cx.err(format!(
            "input {} has rank {rank}; kiln's {} supports at most {max_rank}",
            cx.describe(input.0),
            cx.name
        )));
    }
    let mut axes: Vec<usize> = Vec::new();
    for &a in &axis_values {
        let resolved = if a < 0 { a + rank as i32 } else { a };
        if !(0..rank as i32).contains(&resolved) {
            return Err(cx.err(format!("axis {a} is out of range for rank {rank}")));
        }
        if !axes.contains(&(resolved as usize)) {
            axes.push(resolved as usize);
        }
    }
    let kept: Vec<usize> = (0..rank).filter(|k| !axes.contains(k)).collect();
    let expected: Vec<usize> = if keep_dims {
        (0..rank)
            .map(|k| if axes.contains(&k) { 1 } else { shape[k] })
            .collect()
    } else {
        kept.iter().map(|&k| shape[k]).collect()
    };
    if output.1.elements() != expected.iter().product::<usize>() {
        return Err(cx.err(format!(
            "output {} has shape {:?}; reducing {shape:?} over axes {axes:?} gives {expected:?}",
            cx.describe(output.0),
            output.1.shape
        )));
    }
    Ok((axes, kept))
}
