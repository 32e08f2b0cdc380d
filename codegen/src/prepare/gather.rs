//! GATHER and GATHER_ND: int8 or float32 params, int32 indices, constant or computed at run
//! time (TFLM `gather.cc`, `gather_nd.cc`), run as [`rt::gather_rows`].

use super::common::Prepared;
use super::movement::expect_shape;
use super::shapes::expect_same_dtype;
use super::shapes::strides;
use crate::ir::{DType, Tensor, TensorId};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// TFLM's `MAX_INDICES_ND` for GATHER_ND.
const MAX_INDICES_ND: usize = 5;

/// A tensor with its id.
type Operand<'g> = (TensorId, &'g Tensor);

/// The params (input 0), indices (input 1) and output, checked: int8 or float32 params,
/// int32 indices.
fn operands<'g>(cx: &OpCx<'g>) -> Result<[Operand<'g>; 3], ValidateError> {
    let params = cx.input(0, "params")?;
    let indices = cx.input(1, "indices")?;
    let output = cx.output()?;
    expect_same_dtype(cx, params, output, &[DType::I8, DType::F32])?;
    cx.expect_dtype(indices, DType::I32, "indices")?;
    if let Some(data) = &indices.1.data {
        if data.len() != indices.1.bytes() {
            return Err(cx.err(format!(
                "indices {} has {} bytes of data for {} elements",
                cx.describe(indices.0),
                data.len(),
                indices.1.elements()
            )));
        }
    }
    Ok([params, indices, output])
}

/// Validates a GATHER (`axis` and `batch_dims` negative count from the end) and computes its
/// row copies.
pub fn gather(cx: &OpCx, axis: i32, batch_dims: i32) -> Prepared {
    let [params, indices, output] = operands(cx)?;
    let (shape, index_shape) = (&params.1.shape, &indices.1.shape);
    let rank = shape.len() as i32;
    let axis = if axis < 0 { axis + rank } else { axis };
    if !(0..rank).contains(&axis) {
        return Err(cx.err(format!("axis {axis} is out of range for rank {rank}")));
    }
    let batch_dims = if batch_dims < 0 {
        batch_dims + index_shape.len() as i32
    } else {
        batch_dims
    };
    if batch_dims < 0 || batch_dims > axis || batch_dims as usize > index_shape.len() {
        return Err(cx.err(format!(
            "batch_dims {batch_dims} must be in 0..={axis} (the axis) and at most the indices' rank {}",
            index_shape.len()
        )));
    }
    let (axis, batch_dims) = (axis as usize, batch_dims as usize);
    if shape[..batch_dims] != index_shape[..batch_dims] {
        return Err(cx.err(format!(
            "params {:?} and indices {:?} differ in their first {batch_dims} (batch) dimensions",
            shape, index_shape
        )));
    }
    let mut out_shape = shape[..axis].to_vec();
    out_shape.extend_from_slice(&index_shape[batch_dims..]);
    out_shape.extend_from_slice(&shape[axis + 1..]);
    expect_shape(cx, output, &out_shape, "gathering")?;
    let product = |d: &[usize]| d.iter().product::<usize>();
    let inner = product(&shape[axis + 1..]);
    let outer = product(&shape[batch_dims..axis]);
    let p = rt::GatherRows {
        batches: product(&shape[..batch_dims]),
        outer,
        rows: product(&index_shape[batch_dims..]),
        depth: 1,
        inner,
        batch_stride: outer * shape[axis] * inner,
        outer_stride: shape[axis] * inner,
        strides: [inner, 0, 0, 0, 0],
        bounds: [shape[axis], 0, 0, 0, 0],
    };
    Ok((Kernel::GatherRows(p), vec![params.0, indices.0], 0))
}

/// Validates an EMBEDDING_LOOKUP (TFLM's `embedding_lookup.cc`: int32 ids as input 0, a
/// float32 or int8 table of rank 2 or more as input 1): rows copied unchanged as a gather of
/// the table's rows, or (an int8 table, a float32 output: TFLM's hybrid path) dequantized.
pub fn embedding_lookup(cx: &OpCx) -> Prepared {
    let ids = cx.input(0, "ids")?;
    let table = cx.input(1, "table")?;
    let output = cx.output()?;
    cx.expect_dtype(ids, DType::I32, "ids")?;
    cx.expect_rank(ids, 1, "ids")?;
    let hybrid = table.1.dtype == DType::I8 && output.1.dtype == DType::F32;
    if !hybrid {
        expect_same_dtype(cx, table, output, &[DType::I8, DType::F32])?;
    }
    let shape = &table.1.shape;
    if shape.len() < 2 {
        return Err(cx.err(format!(
            "table {} has shape {shape:?}; TFLM needs rank 2 or more",
            cx.describe(table.0)
        )));
    }
    let mut out_shape = vec![ids.1.shape[0]];
    out_shape.extend_from_slice(&shape[1..]);
    expect_shape(cx, output, &out_shape, "the lookup")?;
    let inner = shape[1..].iter().product::<usize>();
    if hybrid {
        let (scale, zero_point) = cx.per_tensor(table, "table")?;
        if zero_point != 0 {
            return Err(cx.err(format!(
                "table {} has zero point {zero_point}; TFLM's hybrid lookup needs 0",
                cx.describe(table.0)
            )));
        }
        let p = rt::EmbeddingDequantized {
            table_rows: shape[0],
            row_len: inner,
            scale,
        };
        return Ok((Kernel::EmbeddingDequantized(p), vec![table.0, ids.0], 0));
    }
    let p = rt::GatherRows {
        batches: 1,
        outer: 1,
        rows: ids.1.shape[0],
        depth: 1,
        inner,
        batch_stride: 0,
        outer_stride: shape[0] * inner,
        strides: [inner, 0, 0, 0, 0],
        bounds: [shape[0], 0, 0, 0, 0],
    };
    Ok((Kernel::GatherRows(p), vec![table.0, ids.0], 0))
}

/// Validates a GATHER_ND and computes its row copies.
pub fn gather_nd(cx: &OpCx) -> Prepared {
    let [params, indices, output] = operands(cx)?;
    let (shape, index_shape) = (&params.1.shape, &indices.1.shape);
    let (Some(&nd), false) = (index_shape.last(), shape.is_empty()) else {
        return Err(cx.err("params and indices must be at least vectors (TFLM)"));
    };
    if nd > shape.len() || nd > MAX_INDICES_ND {
        return Err(cx.err(format!(
            "index rows of {nd} exceed the params' rank {} or TFLM's limit {MAX_INDICES_ND}",
            shape.len()
        )));
    }
    let mut out_shape = index_shape[..index_shape.len() - 1].to_vec();
    out_shape.extend_from_slice(&shape[nd..]);
    expect_shape(cx, output, &out_shape, "gathering")?;
    let params_strides = strides(shape);
    let mut st = [0; MAX_INDICES_ND];
    let mut bounds = [0; MAX_INDICES_ND];
    st[..nd].copy_from_slice(&params_strides[..nd]);
    bounds[..nd].copy_from_slice(&shape[..nd]);
    let p = rt::GatherRows {
        batches: 1,
        outer: 1,
        rows: index_shape[..index_shape.len() - 1].iter().product(),
        depth: nd,
        inner: shape[nd..].iter().product(),
        batch_stride: 0,
        outer_stride: 0,
        strides: st,
        bounds,
    };
    Ok((Kernel::GatherRows(p), vec![params.0, indices.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    fn gather(
        axis: i32,
        batch_dims: i32,
        indices: Tensor,
        out: &[usize],
    ) -> Result<Kernel, String> {
        run(
            OpKind::Gather { axis, batch_dims },
            "GATHER",
            vec![int8(&[2, 3, 4], 0.1, 0), indices, int8(out, 0.1, 0)],
            &[0, 1],
            2,
        )
    }

    #[test]
    fn gather_axes_and_batch_dims() {
        let Ok(Kernel::GatherRows(g)) = gather(-2, 0, const_i32(&[2, 0]), &[2, 2, 4]) else {
            panic!("not gathered")
        };
        assert_eq!((g.outer, g.rows, g.inner, g.outer_stride), (2, 2, 4, 12));
        // batch_dims 1: indices [2, 5] pick along axis 1 per batch
        let idx = int32(&[2, 5]);
        let Ok(Kernel::GatherRows(g)) = gather(1, 1, idx.clone(), &[2, 5, 4]) else {
            panic!("not gathered")
        };
        assert_eq!((g.batches, g.outer, g.rows, g.batch_stride), (2, 1, 5, 12));
        assert!(gather(3, 0, const_i32(&[0]), &[2, 3, 4])
            .unwrap_err()
            .contains("out of range"));
        assert!(gather(0, 1, idx.clone(), &[2, 5, 3, 4])
            .unwrap_err()
            .contains("batch_dims"));
        assert!(gather(1, 0, const_i32(&[0, 1]), &[2, 3, 4])
            .unwrap_err()
            .contains("gives [2, 2, 4]"));
    }

    #[test]
    fn gather_nd_rows() {
        let nd = |indices: Tensor, out: &[usize]| {
            run(
                OpKind::GatherNd,
                "GATHER_ND",
                vec![float(&[2, 3, 4]), indices, float(out)],
                &[0, 1],
                2,
            )
        };
        let Ok(Kernel::GatherRows(g)) = nd(int32(&[5, 2]), &[5, 4]) else {
            panic!("not gathered")
        };
        assert_eq!((g.rows, g.depth, g.inner, g.strides[1]), (5, 2, 4, 4));
        assert!(nd(int32(&[5, 4]), &[5]).unwrap_err().contains("exceed"));
    }
}
