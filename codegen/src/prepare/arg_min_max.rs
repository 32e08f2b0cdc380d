//! ARG_MAX and ARG_MIN: int8 or float32 in, int32 out, along one axis given by a constant
//! int32 tensor (TFLM's `arg_min_max.cc`, reference `ArgMinMax`: the first index on ties).
//! TFLM's kernel writes int32 indices only and reads int32 axes only; so does kiln.

use super::common::Prepared;
use super::shapes::const_i32;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates an ARG_MAX (`maximum`) or ARG_MIN.
pub fn prepare(cx: &OpCx, maximum: bool) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    if !matches!(input.1.dtype, DType::I8 | DType::F32) {
        return Err(cx.err(format!(
            "input {} is {}; TFLM's {} supports only int8 and float32",
            cx.describe(input.0),
            input.1.dtype,
            cx.name
        )));
    }
    if output.1.dtype != DType::I32 {
        return Err(cx.err(format!(
            "output {} is {}; TFLM's {} writes only int32 indices",
            cx.describe(output.0),
            output.1.dtype,
            cx.name
        )));
    }
    let (axis_id, _, axis) = const_i32(cx, 1, "axis")?;
    let shape = &input.1.shape;
    let rank = shape.len() as i32;
    let &[a] = axis.as_slice() else {
        return Err(cx.err(format!(
            "axis {} has {} values; expected one",
            cx.describe(axis_id),
            axis.len()
        )));
    };
    let resolved = if a < 0 { a + rank } else { a };
    if !(0..rank).contains(&resolved) {
        return Err(cx.err(format!("axis {a} is out of range for rank {rank}")));
    }
    let k = resolved as usize;
    let mut expected = shape.clone();
    expected.remove(k);
    if output.1.shape != expected {
        return Err(cx.err(format!(
            "output {} has shape {:?}; dropping axis {k} of {shape:?} gives {expected:?}",
            cx.describe(output.0),
            output.1.shape
        )));
    }
    if shape[k] > i32::MAX as usize {
        return Err(cx.err(format!("axis {k} has {} elements", shape[k])));
    }
    let params = rt::ArgMinMax {
        outer: shape[..k].iter().product(),
        axis_len: shape[k],
        inner: shape[k + 1..].iter().product(),
    };
    Ok((Kernel::ArgMinMax { params, maximum }, vec![input.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    fn int32(shape: &[usize]) -> Tensor {
        Tensor {
            dtype: DType::I32,
            quant: None,
            ..int8(shape, 1.0, 0)
        }
    }

    #[test]
    fn arg_max_axis_and_types() {
        let arg = |axis: &[i32], out: Tensor| {
            run(
                OpKind::ArgMax,
                "ARG_MAX",
                vec![int8(&[2, 3, 4], 0.1, 0), const_i32(axis), out],
                &[0, 1],
                2,
            )
        };
        let Ok(Kernel::ArgMinMax { params, maximum }) = arg(&[-2], int32(&[2, 4])) else {
            panic!("not an arg max")
        };
        assert!(maximum);
        assert_eq!((params.outer, params.axis_len, params.inner), (2, 3, 4));
        let err = arg(&[1], int8(&[2, 4], 1.0, 0)).unwrap_err();
        assert!(err.contains("only int32"), "{err}");
        let err = arg(&[1], int32(&[2, 3])).unwrap_err();
        assert!(err.contains("gives [2, 4]"), "{err}");
        let err = arg(&[0, 1], int32(&[2, 4])).unwrap_err();
        assert!(err.contains("expected one"), "{err}");
    }
}
