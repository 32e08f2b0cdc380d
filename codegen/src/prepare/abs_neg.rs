//! ABS (int8, int16, float32) and NEG (float32): TFLM's `elementwise.cc` (`PrepareAbsRsqrt`,
//! `AbsEvalQuantized`) and `neg.cc`.
//!
//! Int8 ABS takes `|x - input_zero_point|` and, when the input and output scales differ,
//! rescales it by `input_scale / output_scale` (formed in double, `QuantizeMultiplier`),
//! then adds the output zero point and clamps to int8: a 256-entry table here. Int16 ABS does
//! the same with zero points 0 and the int16 range, computed directly. TFLM's NEG
//! runs float32 only, so kiln refuses int8 NEG.

use super::common::Prepared;
use super::lookup_tables::table_of;
use crate::ir::{DType, Tensor, TensorId};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

type Io<'g> = ((TensorId, &'g Tensor), (TensorId, &'g Tensor));

/// Input and output of a unary op: one element type, one element count.
pub(crate) fn same_type_and_size<'g>(cx: &OpCx<'g>) -> Result<Io<'g>, ValidateError> {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(output, input.1.dtype, "output")?;
    if input.1.elements() != output.1.elements() {
        return Err(cx.err(format!(
            "input {} {:?} and output {} {:?} differ in size",
            cx.describe(input.0),
            input.1.shape,
            cx.describe(output.0),
            output.1.shape
        )));
    }
    Ok((input, output))
}

/// Validates an ABS.
pub fn abs(cx: &OpCx) -> Prepared {
    let (input, output) = same_type_and_size(cx)?;
    match input.1.dtype {
        DType::F32 => Ok((Kernel::AbsF32, vec![input.0], 0)),
        DType::I8 => {
            let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
            let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
            let rescale = if in_scale != out_scale {
                Some(cx.multiplier(in_scale as f64 / out_scale as f64, "output")?)
            } else {
                None
            };
            let table = table_of(|x| {
                let value = (x as i32 - in_zp).abs();
                let scaled = match rescale {
                    Some((m, s)) => rt::multiply_by_quantized_multiplier(value, m, s),
                    None => value,
                };
                scaled.saturating_add(out_zp).clamp(-128, 127) as i8
            });
            Ok((Kernel::Lookup(Box::new(table)), vec![input.0], 0))
        }
        DType::I16 => {
            let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
            let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
            if in_zp != 0 || out_zp != 0 {
                return Err(cx.err(format!(
                    "zero points are {in_zp} (input) and {out_zp} (output); TFLM's int16 ABS \
                     requires 0"
                )));
            }
            let rescale = in_scale != out_scale;
            let (multiplier, shift) = if rescale {
                cx.multiplier(in_scale as f64 / out_scale as f64, "output")?
            } else {
                (0, 0)
            };
            let p = rt::AbsI16 {
                rescale,
                multiplier,
                shift,
            };
            Ok((Kernel::AbsI16(p), vec![input.0], 0))
        }
        other => Err(cx.err(format!(
            "input {} is {other}, but kiln supports only int8, int16 and float32 here",
            cx.describe(input.0)
        ))),
    }
}

/// Validates a NEG.
pub fn neg(cx: &OpCx) -> Prepared {
    let (input, _) = same_type_and_size(cx)?;
    match input.1.dtype {
        DType::F32 => Ok((Kernel::NegF32, vec![input.0], 0)),
        other => Err(cx.err(format!(
            "input {} is {other}; TFLM's NEG supports only float32",
            cx.describe(input.0)
        ))),
    }
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn abs_tables_and_neg_types() {
        let abs = |out_scale: f32, out_zp: i64| {
            run(
                OpKind::Abs,
                "ABS",
                vec![int8(&[4], 0.1, 10), int8(&[4], out_scale, out_zp)],
                &[0],
                1,
            )
        };
        let Ok(Kernel::Lookup(t)) = abs(0.1, -128) else {
            panic!("no table")
        };
        // |x - 10| - 128
        assert_eq!(t[10], -128);
        assert_eq!(t[(-128i8) as u8 as usize], 10);
        assert_eq!(t[20], -118);
        let Ok(Kernel::Lookup(t)) = abs(0.2, -128) else {
            panic!("no table")
        };
        // |x - 10| / 2 (rounded half away from zero) - 128
        assert_eq!(t[15], -128 + 3);
        assert_eq!(t[20], -128 + 5);
        let err = run(
            OpKind::Neg,
            "NEG",
            vec![int8(&[4], 0.1, 0), int8(&[4], 0.1, 0)],
            &[0],
            1,
        )
        .unwrap_err();
        assert!(err.contains("only float32"), "{err}");
    }
}
