//! CONCATENATION: int8, int16, int32 or float32 along any axis (TFLM `ConcatenationPrepare` +
//! reference `Concatenation`). TFLM's int8 kernel copies bytes and does not requantize: its
//! `Prepare` rejects any input whose scale or zero point differs from the output's, and so does
//! kiln. The int16, int32 and float32 forms copy values.

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's `kMaxInputNum`.
const MAX_INPUTS: usize = 10;
/// TFLM's `RuntimeShape::kMaxSmallSize`.
const MAX_RANK: usize = 6;

/// Validates a CONCATENATION and computes one copy per input.
pub fn prepare(cx: &OpCx, axis: i32) -> Prepared {
    let output = cx.output()?;
    let dtype = output.1.dtype;
    if !matches!(dtype, DType::I8 | DType::I16 | DType::I32 | DType::F32) {
        return Err(cx.err(format!(
            "output {} is {dtype}, but kiln supports only int8, int16, int32 and float32 here",
            cx.describe(output.0)
        )));
    }
    // Only int8 is requantization-checked (TFLM's int8 path); other types copy values.
    let out_quant = match dtype {
        DType::I8 => Some(cx.per_tensor(output, "output")?),
        _ => None,
    };
    let out_shape = &output.1.shape;
    let rank = out_shape.len();
    let count = cx.input_count();
    if count == 0 || count > MAX_INPUTS {
        return Err(cx.err(format!(
            "has {count} inputs; TFLM's CONCATENATION takes 1 to {MAX_INPUTS}"
        )));
    }
    let resolved = if axis < 0 { axis + rank as i32 } else { axis };
    if !(0..rank as i32).contains(&resolved) {
        return Err(cx.err(format!("axis {axis} is out of range for rank {rank}")));
    }
    let axis = resolved as usize;
    let outer: usize = out_shape[..axis].iter().product();
    let inner: usize = out_shape[axis + 1..].iter().product();
    let mut parts = Vec::with_capacity(count);
    let mut inputs = Vec::with_capacity(count);
    let mut offset = 0;
    for slot in 0..count {
        let (id, t) = cx.input(slot, "input")?;
        cx.expect_dtype((id, t), dtype, "input")?;
        if let Some((out_scale, out_zp)) = out_quant {
            let (scale, zp) = cx.per_tensor((id, t), "input")?;
            if scale != out_scale || zp != out_zp {
                return Err(cx.err(format!(
                "input {} is quantized (scale {scale}, zero point {zp}), the output (scale {out_scale}, zero point {out_zp}); TFLM's int8 CONCATENATION does not rescale and requires them equal",
                cx.describe(id)
            )));
            }
        }
        if t.shape.len() > MAX_RANK {
            return Err(cx.err(format!(
                "input {} has rank {}; TFLM supports at most {MAX_RANK}",
                cx.describe(id),
                t.shape.len()
            )));
        }
        let matches =
            t.shape.len() == rank && (0..rank).all(|k| k == axis || t.shape[k] == out_shape[k]);
        if !matches {
            return Err(cx.err(format!(
                "input {} has shape {:?}, which does not fit output {out_shape:?} along axis {axis}",
                cx.describe(id),
                t.shape
            )));
        }
        let copy = t.shape[axis] * inner;
        parts.push(rt::ConcatPart {
            outer,
            copy,
            out_stride: out_shape[axis] * inner,
            offset,
        });
        offset += copy;
        inputs.push(id);
    }
    if offset != out_shape[axis] * inner {
        return Err(cx.err(format!(
            "inputs add up to {} along axis {axis}, output has {}",
            offset / inner.max(1),
            out_shape[axis]
        )));
    }
    Ok((Kernel::Concatenation(parts), inputs, 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn concatenation_requires_the_output_quantization() {
        let ok = run(
            OpKind::Concatenation { axis: -1 },
            "CONCATENATION",
            vec![
                int8(&[1, 2], 0.1, 3),
                int8(&[1, 3], 0.1, 3),
                int8(&[1, 5], 0.1, 3),
            ],
            &[0, 1],
            2,
        );
        assert!(
            matches!(ok, Ok(Kernel::Concatenation(ref parts)) if parts.len() == 2),
            "{ok:?}"
        );
        let err = run(
            OpKind::Concatenation { axis: 1 },
            "CONCATENATION",
            vec![
                int8(&[1, 2], 0.1, 3),
                int8(&[1, 3], 0.2, 3),
                int8(&[1, 5], 0.1, 3),
            ],
            &[0, 1],
            2,
        )
        .unwrap_err();
        assert!(err.contains("does not rescale"), "{err}");
        let err = run(
            OpKind::Concatenation { axis: 0 },
            "CONCATENATION",
            vec![
                int8(&[1, 2], 0.1, 3),
                int8(&[1, 3], 0.1, 3),
                int8(&[1, 5], 0.1, 3),
            ],
            &[0, 1],
            2,
        )
        .unwrap_err();
        assert!(err.contains("does not fit"), "{err}");
    }
}
