//! SQUARED_DIFFERENCE: int8 or int16, numpy-style broadcasting up to 4-D (TFLM's
//! `SquaredDifferencePrepare`; int16: zero points 0, no left shift, the int16 range, and
//! float32 is in `float_ops`): both inputs shifted left by 7 and rescaled by
//! `scale / (2 · max scale)`, the difference squared, and the square rescaled by
//! `(2 · max scale)² / (2^14 · output scale)`. The ratios are formed in double, as TFLM does;
//! the output is clamped to the whole int8 range (the op has no fused activation).

use super::common::Prepared;
use super::quant::quantize_multiplier_smaller_than_one;
use super::shapes::broadcast;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's left shift for int8 inputs: 255² · 2^14 still fits an i32.
const LEFT_SHIFT: i32 = 7;

/// Validates a SQUARED_DIFFERENCE and computes its constants.
pub fn prepare(cx: &OpCx) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    let int16 = a.1.dtype == DType::I16;
    let dtype = if int16 { DType::I16 } else { DType::I8 };
    for (t, role) in [(a, "first input"), (b, "second input"), (output, "output")] {
        cx.expect_dtype(t, dtype, role)?;
    }
    let bc = broadcast(cx, a, b, output)?;
    // TFLM broadcasts this op through its 4-D helper only.
    let rank = a.1.shape.len().max(b.1.shape.len());
    if bc.is_some() && rank > 4 {
        return Err(cx.err(format!(
            "broadcasts rank-{rank} inputs; TFLM's SQUARED_DIFFERENCE broadcasts up to 4-D"
        )));
    }
    let (a_scale, a_zp) = cx.per_tensor(a, "first input")?;
    let (b_scale, b_zp) = cx.per_tensor(b, "second input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    if int16 {
        for (zp, t, role) in [
            (a_zp, a, "first input"),
            (b_zp, b, "second input"),
            (out_zp, output, "output"),
        ] {
            if zp != 0 {
                return Err(cx.err(format!(
                    "{role} {} has zero point {zp}; TFLM's int16 SQUARED_DIFFERENCE requires 0",
                    cx.describe(t.0)
                )));
            }
        }
    }
    let left_shift = if int16 { 0 } else { LEFT_SHIFT };
    let twice_max = 2.0 * a_scale.max(b_scale) as f64;
    let smaller_than_one = |m: f64, what: &str| {
        quantize_multiplier_smaller_than_one(m)
            .ok_or_else(|| cx.err(format!("{what} multiplier {m} must be in (0, 1)")))
    };
    let (m1, s1) = smaller_than_one(a_scale as f64 / twice_max, "first input")?;
    let (m2, s2) = smaller_than_one(b_scale as f64 / twice_max, "second input")?;
    let real_out = twice_max * twice_max / ((1i64 << (2 * left_shift)) as f64 * out_scale as f64);
    let (mo, so) = cx.multiplier(real_out, "output")?;
    let params = rt::Add {
        input1_offset: -a_zp,
        input2_offset: -b_zp,
        output_offset: out_zp,
        left_shift,
        input1_multiplier: m1,
        input1_shift: s1,
        input2_multiplier: m2,
        input2_shift: s2,
        output_multiplier: mo,
        output_shift: so,
        act_min: if int16 { i16::MIN as i32 } else { -128 },
        act_max: if int16 { i16::MAX as i32 } else { 127 },
    };
    let kernel = if int16 {
        Kernel::SquaredDifferenceI16(params, bc)
    } else {
        Kernel::SquaredDifference(params, bc)
    };
    Ok((kernel, vec![a.0, b.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn squared_difference_constants_and_rules() {
        let op = |tensors: Vec<Tensor>| {
            run(
                OpKind::SquaredDifference,
                "SQUARED_DIFFERENCE",
                tensors,
                &[0, 1],
                2,
            )
        };
        // Equal scales: each input multiplier is 1/2; the output one (2s)² / (2^14 · s_out).
        let ok = op(vec![
            int8(&[1, 4], 0.1, 3),
            int8(&[1, 4], 0.1, -5),
            int8(&[1, 4], 0.2, -128),
        ]);
        let Ok(Kernel::SquaredDifference(p, None)) = ok else {
            panic!("{ok:?}")
        };
        assert_eq!(
            (p.input1_offset, p.input2_offset, p.output_offset),
            (-3, 5, -128)
        );
        assert_eq!((p.input1_multiplier, p.input1_shift), (1 << 30, 0));
        assert_eq!((p.left_shift, p.act_min, p.act_max), (7, -128, 127));
        // (0.2)² / (2^14 · 0.2) = 0.2 / 2^14 = 0.8 · 2^-16
        assert_eq!(p.output_shift, -16);

        // Broadcasting a constant row works; shapes that do not broadcast are rejected.
        let bc = op(vec![
            int8(&[2, 3], 0.1, 0),
            int8(&[1, 3], 0.1, 0),
            int8(&[2, 3], 0.1, 0),
        ]);
        assert!(
            matches!(bc, Ok(Kernel::SquaredDifference(_, Some(_)))),
            "{bc:?}"
        );
        let err = op(vec![
            int8(&[2, 3], 0.1, 0),
            int8(&[1, 2], 0.1, 0),
            int8(&[2, 3], 0.1, 0),
        ])
        .unwrap_err();
        assert!(err.contains("do not broadcast"), "{err}");
        // TFLM broadcasts it in 4-D only.
        let err = op(vec![
            int8(&[2, 1, 1, 1, 3], 0.1, 0),
            int8(&[1, 3], 0.1, 0),
            int8(&[2, 1, 1, 1, 3], 0.1, 0),
        ])
        .unwrap_err();
        assert!(err.contains("up to 4-D"), "{err}");
        // int8 only.
        let mut f = int8(&[1, 4], 0.1, 0);
        f.dtype = DType::I32;
        let err = op(vec![f, int8(&[1, 4], 0.1, 0), int8(&[1, 4], 0.1, 0)]).unwrap_err();
        assert!(err.contains("int8"), "{err}");
    }
}
