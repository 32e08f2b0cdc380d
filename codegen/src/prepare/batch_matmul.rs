//! BATCH_MATMUL: int8 (per-tensor, any zero points) or float32, as TFLM's `batch_matmul.cc`
//! prepares it: operands of rank 2 to 5, batch dimensions broadcast, `adj_x`/`adj_y`
//! transposing an operand's last two dimensions; either operand may be constant.

use super::common::Prepared;
use crate::ir::{DType, Tensor, TensorId};
use crate::prepare::shapes::expect_same_dtype;
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Validates a BATCH_MATMUL and computes its constants.
pub fn prepare(cx: &OpCx, adj_x: bool, adj_y: bool) -> Prepared {
    let lhs = cx.input(0, "left-hand side")?;
    let rhs = cx.input(1, "right-hand side")?;
    let output = cx.output()?;
    let dtype = expect_same_dtype(cx, lhs, output, &[DType::I8, DType::F32])?;
    cx.expect_dtype(rhs, dtype, "right-hand side")?;
    let shape = geometry(cx, lhs, rhs, output, adj_x, adj_y)?;
    let macs =
        (shape.batch.iter().product::<usize>() * shape.rows * shape.cols * shape.depth) as u64;
    let inputs = vec![lhs.0, rhs.0];
    if dtype == DType::F32 {
        return Ok((Kernel::BatchMatmulF32(shape), inputs, macs));
    }
    let (lhs_scale, lhs_zp) = cx.per_tensor(lhs, "left-hand side")?;
    let (rhs_scale, rhs_zp) = cx.per_tensor(rhs, "right-hand side")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    // TFLM's GetQuantizedConvolutionMultipler, in double.
    let real = lhs_scale as f64 * rhs_scale as f64 / out_scale as f64;
    let (multiplier, shift) = cx.multiplier(real, "output")?;
    let params = rt::BatchMatmulI8 {
        shape,
        lhs_zero_point: lhs_zp,
        rhs_zero_point: rhs_zp,
        output_offset: out_zp,
        multiplier,
        shift,
    };
    Ok((Kernel::BatchMatmul(params), inputs, macs))
}

/// `shape` extended with leading 1s to 5 dimensions.
fn extended(shape: &[usize]) -> [usize; 5] {
    let mut dims = [1; 5];
    for (d, &s) in dims[5 - shape.len()..].iter_mut().zip(shape) {
        *d = s;
    }
    dims
}

/// TFLM's `extent`: the element stride of batch dimension `axis`, 0 where it is 1 (broadcast).
fn batch_stride(dims: &[usize; 5], axis: usize) -> usize {
    if dims[axis] == 1 {
        0
    } else {
        dims[axis + 1..].iter().product()
    }
}

/// Checks ranks, broadcasting, the summed dimension and the output shape.
fn geometry(
    cx: &OpCx,
    (lhs_id, lhs): (TensorId, &Tensor),
    (rhs_id, rhs): (TensorId, &Tensor),
    (out_id, out): (TensorId, &Tensor),
    adj_x: bool,
    adj_y: bool,
) -> Result<rt::BatchMatmul, ValidateError> {
    for (id, t) in [(lhs_id, lhs), (rhs_id, rhs)] {
        if !(2..=5).contains(&t.shape.len()) {
            return Err(cx.err(format!(
                "{} has shape {:?}; TFLM's BATCH_MATMUL takes ranks 2 to 5",
                cx.describe(id),
                t.shape
            )));
        }
    }
    let (l, r) = (extended(&lhs.shape), extended(&rhs.shape));
    let mut batch = [1; 3];
    for (axis, b) in batch.iter_mut().enumerate() {
        *b = match (l[axis], r[axis]) {
            (a, c) if a == c => a,
            (1, c) => c,
            (a, 1) => a,
            _ => {
                return Err(cx.err(format!(
                    "batch dimensions of {:?} and {:?} do not broadcast",
                    lhs.shape, rhs.shape
                )))
            }
        };
    }
    let (rows, depth) = if adj_x { (l[4], l[3]) } else { (l[3], l[4]) };
    let (rhs_depth, cols) = if adj_y { (r[4], r[3]) } else { (r[3], r[4]) };
    if depth != rhs_depth {
        return Err(cx.err(format!(
            "left-hand side {:?} (adj_x {adj_x}) sums over {depth}, right-hand side {:?} \
             (adj_y {adj_y}) over {rhs_depth}",
            lhs.shape, rhs.shape
        )));
    }
    let rank = lhs.shape.len().max(rhs.shape.len());
    let mut expected: Vec<usize> = batch[5 - rank..].to_vec();
    expected.extend([rows, cols]);
    if out.shape != expected {
        return Err(cx.err(format!(
            "output {} has shape {:?}, expected {expected:?}",
            cx.describe(out_id),
            out.shape
        )));
    }
    Ok(rt::BatchMatmul {
        batch,
        lhs_batch_strides: [0, 1, 2].map(|a| batch_stride(&l, a)),
        rhs_batch_strides: [0, 1, 2].map(|a| batch_stride(&r, a)),
        rows,
        cols,
        depth,
        lhs_transposed: adj_x,
        rhs_transposed: adj_y,
    })
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn batch_dimensions_extend_and_broadcast() {
        assert_eq!(extended(&[3, 4]), [1, 1, 1, 3, 4]);
        assert_eq!(extended(&[2, 1, 3, 4]), [1, 2, 1, 3, 4]);
        let dims = extended(&[2, 1, 3, 4]);
        assert_eq!(batch_stride(&dims, 0), 0);
        assert_eq!(batch_stride(&dims, 1), 12);
        assert_eq!(batch_stride(&dims, 2), 0);
    }

    #[test]
    fn depths_batches_and_output_shape_are_checked() {
        use super::super::test_models::{float, run};
        use crate::ir::OpKind;
        let bmm = |a: &[usize], b: &[usize], out: &[usize], adj_y: bool| {
            let kind = OpKind::BatchMatmul {
                adj_x: false,
                adj_y,
            };
            run(
                kind,
                "BATCH_MATMUL",
                vec![float(a), float(b), float(out)],
                &[0, 1],
                2,
            )
        };
        assert!(bmm(&[2, 3, 4], &[2, 4, 5], &[2, 3, 5], false).is_ok());
        let err = bmm(&[2, 3, 4], &[2, 5, 5], &[2, 3, 5], false).unwrap_err();
        assert!(err.contains("sums over 4"), "{err}");
        let err = bmm(&[2, 3, 4], &[3, 4, 5], &[3, 3, 5], false).unwrap_err();
        assert!(err.contains("do not broadcast"), "{err}");
        // adj_y: the right-hand side stored [N, K], rank 2, shared by both batches.
        let Ok(Kernel::BatchMatmulF32(s)) = bmm(&[2, 3, 4], &[5, 4], &[2, 3, 5], true) else {
            panic!("no float BATCH_MATMUL")
        };
        assert_eq!(
            (s.lhs_batch_strides, s.rhs_batch_strides),
            ([0, 0, 12], [0, 0, 0])
        );
        assert_eq!((s.rows, s.cols, s.depth, s.rhs_transposed), (3, 5, 4, true));
        let err = bmm(&[2, 3, 4], &[5, 4], &[2, 5, 3], true).unwrap_err();
        assert!(err.contains("expected [2, 3, 5]"), "{err}");
    }
}
