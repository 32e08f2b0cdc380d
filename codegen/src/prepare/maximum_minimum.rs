//! MAXIMUM and MINIMUM: int8, int16, int32 or float32, numpy-style broadcasting up to 5-D
//! (TFLM's `maximum_minimum.cc`, reference `MaximumMinimumBroadcastSlow`). TFLM has no
//! `Prepare` for these ops and compares the raw values without requantizing, whatever the
//! quantization of the tensors; kiln does the same (a converter gives all three tensors one
//! quantization).

use super::common::Prepared;
use super::shapes::broadcast;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// TFLM broadcasts these ops through `NdArrayDesc<5>`.
const MAX_RANK: usize = 5;

/// Validates a MAXIMUM (`maximum`) or MINIMUM.
pub fn prepare(cx: &OpCx, maximum: bool) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    let dtype = output.1.dtype;
    if !matches!(dtype, DType::I8 | DType::I16 | DType::I32 | DType::F32) {
        return Err(cx.err(format!(
            "output {} is {dtype}, but kiln supports only int8, int16, int32 and float32 here",
            cx.describe(output.0)
        )));
    }
    cx.expect_dtype(a, dtype, "first input")?;
    cx.expect_dtype(b, dtype, "second input")?;
    let rank =
        a.1.shape
            .len()
            .max(b.1.shape.len())
            .max(output.1.shape.len());
    if rank > MAX_RANK {
        return Err(cx.err(format!(
            "has rank-{rank} tensors; TFLM's {} supports at most {MAX_RANK} dimensions",
            cx.name
        )));
    }
    let bc = broadcast(cx, a, b, output)?;
    Ok((
        Kernel::MaxMin {
            maximum,
            broadcast: bc,
        },
        vec![a.0, b.0],
        0,
    ))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn maximum_minimum_types_and_shapes() {
        let max = |a: &[usize], b: &[usize], out: &[usize]| {
            run(
                OpKind::Maximum,
                "MAXIMUM",
                vec![int8(a, 0.1, 0), int8(b, 0.1, 0), int8(out, 0.1, 0)],
                &[0, 1],
                2,
            )
        };
        assert!(matches!(
            max(&[2, 3], &[2, 3], &[2, 3]),
            Ok(Kernel::MaxMin {
                maximum: true,
                broadcast: None
            })
        ));
        assert!(matches!(
            max(&[2, 3], &[3], &[2, 3]),
            Ok(Kernel::MaxMin {
                broadcast: Some(_),
                ..
            })
        ));
        let err = max(&[2, 3], &[2, 4], &[2, 4]).unwrap_err();
        assert!(err.contains("do not broadcast"), "{err}");
        let err = max(&[1, 1, 1, 1, 2, 3], &[3], &[1, 1, 1, 1, 2, 3]).unwrap_err();
        assert!(err.contains("at most 5"), "{err}");
    }
}
