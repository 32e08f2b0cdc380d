//! PAD / PADV2: int8 constant padding of an up to 5-D tensor (TFLM `PadPrepare` + `PadImpl`).
//!
//! The padding value is the output zero point (PAD) or the constant scalar input 2 (PADV2),
//! whose quantization must equal the output's. Values are copied, not requantized.

use super::common::Prepared;
use super::shapes::{const_i32, expect_int8_in_out, pad_front};
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's `PadKernelMaxDimensionCount()`.
const MAX_RANK: usize = 5;

/// Validates a PAD or PADV2 and computes its constants.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_int8_in_out(cx, input, output)?;
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
    let (_, out_zp) = cx.per_tensor(output, "output")?;
    let value = match cx.optional_input(2) {
        None => out_zp,
        Some((id, t)) => {
            cx.expect_dtype((id, t), DType::I8, "constant value")?;
            cx.expect_const((id, t), "constant value")?;
            if t.elements() != 1 {
                return Err(cx.err(format!(
                    "constant value {} must be a scalar, has shape {:?}",
                    cx.describe(id),
                    t.shape
                )));
            }
            let (c_scale, c_zp) = cx.per_tensor((id, t), "constant value")?;
            let (out_scale, _) = cx.per_tensor(output, "output")?;
            if c_zp != out_zp || c_scale != out_scale {
                return Err(cx.err(format!(
                    "constant value {} is quantized ({c_scale}, {c_zp}), the output ({out_scale}, {out_zp}); TFLM requires them equal",
                    cx.describe(id)
                )));
            }
            t.data_i8().first().copied().unwrap_or(0) as i32
        }
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
        value: value as i8,
    };
    Ok((Kernel::Pad(params), vec![input.0], 0))
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
}
