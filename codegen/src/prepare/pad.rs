//! PAD / PADV2: int8, int16 or float32 constant padding of an up to 5-D tensor (TFLM
//! `PadPrepare` + `PadImpl`).
//!
//! The padding value is the output zero point (PAD; int16: 0, float32: 0.0) or the constant
//! scalar input 2 (PADV2), whose quantization must equal the output's (int8). Values are
//! copied, not requantized.

use super::common::Prepared;
use super::shapes::{const_i32, expect_same_dtype, pad_front};
use crate::ir::{DType, Tensor, TensorId};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// TFLM's `PadKernelMaxDimensionCount()`.
const MAX_RANK: usize = 5;

/// Validates a PAD or PADV2 and computes its constants.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    let dtype = expect_same_dtype(cx, input, output, &[DType::I8, DType::I16, DType::F32])?;
    let (in_shape, out_shape) = (&input.1.shape, &output.1.shape);
    if in_shape.len() > MAX_RANK {
        return Err(cx.err(format!(
            "input {} has rank {}; TFLM's PAD supports at most {MAX_RANK}",
            cx.describe(input.0),
            in_shape.len()
        )));
    }
    let (pad_id, _, paddings) = const_i32(cx, 1, "paddings")?;
    if paddings.len() != out_shape.len() * 2 {
        return Err(cx.err(format!(
            "paddings {} has {} values; the rank-{} output needs {}",
            cx.describe(pad_id),
            paddings.len(),
            out_shape.len(),
            out_shape.len() * 2
        )));
    }
    if in_shape.len() != out_shape.len() {
        return Err(cx.err(format!(
            "input {in_shape:?} and output {out_shape:?} differ in rank"
        )));
    }
    let mut before = Vec::with_capacity(in_shape.len());
    for (k, (&n, &m)) in in_shape.iter().zip(out_shape).enumerate() {
        let (lo, hi) = (paddings[2 * k], paddings[2 * k + 1]);
        if lo < 0 || hi < 0 {
            return Err(cx.err(format!(
                "negative padding ({lo}, {hi}) on axis {k} is not supported"
            )));
        }
        if m != n + lo as usize + hi as usize {
            return Err(cx.err(format!(
                "output {} has {m} on axis {k}, but input {n} + padding {lo} + {hi} = {}",
                cx.describe(output.0),
                n + lo as usize + hi as usize
            )));
        }
        before.push(lo as usize);
    }
    let value = match dtype {
        DType::I16 => pad_value_i16(cx)?,
        DType::F32 => pad_value_f32(cx)?,
        _ => pad_value_i8(cx, output)?,
    };
    let fixed = |v: &[usize]| -> [usize; MAX_RANK] {
        let mut out = [0; MAX_RANK];
        out.copy_from_slice(&pad_front(v, MAX_RANK));
        out
    };
    let mut before_padded = [0; MAX_RANK];
    before_padded[MAX_RANK - before.len()..].copy_from_slice(&before);
    let params = rt::Pad {
        out_dims: fixed(out_shape),
        before: before_padded,
        in_dims: fixed(in_shape),
        value,
    };
    Ok((Kernel::Pad(params), vec![input.0], 0))
}

/// The int8 padding value: the output zero point, or PADV2's constant, quantized as the
/// output (TFLM checks).
fn pad_value_i8(cx: &OpCx, output: (TensorId, &Tensor)) -> Result<i32, ValidateError> {
    let (_, out_zp) = cx.per_tensor(output, "output")?;
    let Some((id, t)) = cx.optional_input(2) else {
        return Ok(out_zp);
    };
    scalar_constant(cx, (id, t), DType::I8)?;
    let (c_scale, c_zp) = cx.per_tensor((id, t), "constant value")?;
    let (out_scale, _) = cx.per_tensor(output, "output")?;
    if c_zp != out_zp || c_scale != out_scale {
        return Err(cx.err(format!(
            "constant value {} is quantized ({c_scale}, {c_zp}), the output ({out_scale}, {out_zp}); TFLM requires them equal",
            cx.describe(id)
        )));
    }
    Ok(t.data_i8().first().copied().unwrap_or(0) as i32)
}

/// The int16 padding value: 0 (TFLM pads int16 with 0, not the zero point), or PADV2's
/// constant as it is.
fn pad_value_i16(cx: &OpCx) -> Result<i32, ValidateError> {
    let Some((id, t)) = cx.optional_input(2) else {
        return Ok(0);
    };
    scalar_constant(cx, (id, t), DType::I16)?;
    let data = t.data.as_deref().unwrap_or(&[]);
    Ok(data
        .get(..2)
        .map_or(0, |b| i16::from_le_bytes([b[0], b[1]]) as i32))
}

/// The float32 padding value's bits: 0.0, or PADV2's constant as it is.
fn pad_value_f32(cx: &OpCx) -> Result<i32, ValidateError> {
    let Some((id, t)) = cx.optional_input(2) else {
        return Ok(0);
    };
    scalar_constant(cx, (id, t), DType::F32)?;
    let data = t.data.as_deref().unwrap_or(&[]);
    Ok(data
        .get(..4)
        .map_or(0, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
}

/// Requires PADV2's constant value to be a constant scalar of type `dtype`.
fn scalar_constant(
    cx: &OpCx,
    (id, t): (TensorId, &Tensor),
    dtype: DType,
) -> Result<(), ValidateError> {
    cx.expect_dtype((id, t), dtype, "constant value")?;
    cx.expect_const((id, t), "constant value")?;
    if t.elements() != 1 {
        return Err(cx.err(format!(
            "constant value {} must be a scalar, has shape {:?}",
            cx.describe(id),
            t.shape
        )));
    }
    Ok(())
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn pad_rules() {
        let pad = |paddings: &[i32], out: &[usize]| {
            run(
                OpKind::Pad,
                "PAD",
                vec![
                    int8(&[2, 3], 0.1, 5),
                    const_i32(paddings),
                    int8(out, 0.1, 5),
                ],
                &[0, 1],
                2,
            )
        };
        assert!(matches!(pad(&[1, 0, 0, 2], &[3, 5]), Ok(Kernel::Pad(p)) if p.value == 5));
        assert!(pad(&[1, 0, 0, 2], &[3, 4])
            .unwrap_err()
            .contains("padding 0 + 2"));
        assert!(pad(&[-1, 0, 0, 2], &[1, 5])
            .unwrap_err()
            .contains("negative"));
        assert!(pad(&[1, 0], &[3, 3]).unwrap_err().contains("needs 4"));
    }

    #[test]
    fn int16_pads_with_0_or_an_int16_constant() {
        let paddings = const_i32(&[1, 0, 0, 2]);
        // PAD: 0, whatever the output zero point (TFLM's int16 path).
        let pad = run(
            OpKind::Pad,
            "PAD",
            vec![
                int16(&[2, 3], 0.1, 0),
                paddings.clone(),
                int16(&[3, 5], 0.1, 7),
            ],
            &[0, 1],
            2,
        );
        assert!(matches!(pad, Ok(Kernel::Pad(p)) if p.value == 0));
        let padv2 = |constant| {
            run(
                OpKind::Pad,
                "PADV2",
                vec![
                    int16(&[2, 3], 0.1, 0),
                    paddings.clone(),
                    int16(&[3, 5], 0.1, 0),
                    constant,
                ],
                &[0, 1, 3],
                2,
            )
        };
        let fill = padv2(const_typed(DType::I16, &[1], &[-1234]));
        assert!(matches!(fill, Ok(Kernel::Pad(p)) if p.value == -1234));
        let err = padv2(const_typed(DType::I8, &[1], &[5])).unwrap_err();
        assert!(err.contains("constant value"), "{err}");
    }
}
