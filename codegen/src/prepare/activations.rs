//! Int8 element-wise activations: LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH (and
//! the int16 forms of RELU, RELU6 and LEAKY_RELU, computed directly rather than as tables).
//!
//! Each computes TFLM's `Prepare` constants, then evaluates TFLM's int8 reference function
//! (implemented in the runtime, unit-tested there) at all 256 int8 inputs. The layer runs as
//! a table lookup, which equals the reference function on every input by construction.

use super::common::Prepared;
use crate::ir::{DType, Tensor, TensorId};
use crate::prepare::lookup_tables as tables;
use crate::prepare::quant::{frexp, quantize_multiplier};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

type Io<'g> = ((TensorId, &'g Tensor), (TensorId, &'g Tensor));

/// The int8 input and output, which must have the same shape (TFLM's `MatchingFlatSize`).
fn unary<'g>(cx: &OpCx<'g>) -> Result<Io<'g>, ValidateError> {
    unary_of(cx, DType::I8)
}

/// The int16 input and output, of the same size.
fn unary_i16<'g>(cx: &OpCx<'g>) -> Result<Io<'g>, ValidateError> {
    unary_of(cx, DType::I16)
}

/// The input and output of element type `dtype`, of the same size.
fn unary_of<'g>(cx: &OpCx<'g>, dtype: DType) -> Result<Io<'g>, ValidateError> {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, dtype, "input")?;
    cx.expect_dtype(output, dtype, "output")?;
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

fn table(input: TensorId, f: impl Fn(i8) -> i8) -> Prepared {
    Ok((
        Kernel::Lookup(Box::new(tables::table_of(f))),
        vec![input],
        0,
    ))
}

/// TFLite `QuantizeMultiplier` of a possibly negative multiplier, as the double-rounding
/// build computes it from `frexp`: `(|q31|, shift, negative)`.
fn signed_multiplier(cx: &OpCx, m: f64, what: &str) -> Result<(i32, i32, bool), ValidateError> {
    let negative = m < 0.0;
    // frexp and TfLiteRound are symmetric in the sign, but QuantizeMultiplier halves a
    // significand that rounds to 2^31 only when it is positive.
    let (q, _) = frexp(m.abs());
    if negative && (q * (1i64 << 31) as f64).round() >= (1i64 << 31) as f64 {
        return Err(cx.err(format!(
            "{what} multiplier {m} rounds to -2^31, which TFLM does not negate correctly"
        )));
    }
    match quantize_multiplier(m.abs()) {
        Some((q, s)) if (-31..=30).contains(&s) => Ok((q, s, negative)),
        _ => Err(cx.err(format!("{what} multiplier {m} cannot be represented"))),
    }
}

/// TFLM's constants for int8 LOGISTIC and TANH: the input rescaled to Q4.27 with
/// `frexp(input_scale * 2^27)`, and the radius beyond which the output saturates.
fn sigmoidal(cx: &OpCx, input: (TensorId, &Tensor)) -> Result<tables::Sigmoidal, ValidateError> {
    const INPUT_INTEGER_BITS: i32 = 4;
    let (scale, zero_point) = cx.per_tensor(input, "input")?;
    let real = scale as f64 * (1i64 << (31 - INPUT_INTEGER_BITS)) as f64;
    let (q, shift) = frexp(real);
    // TfLiteRound(q * 2^31) cast to int32: a significand that rounds up to 2^31 overflows.
    let q_fixed = (q * (1i64 << 31) as f64).round();
    if q_fixed >= (1i64 << 31) as f64 || shift < 0 {
        return Err(cx.err(format!(
            "input scale {scale} gives a Q4.27 multiplier TFLM cannot represent"
        )));
    }
    // CalculateInputRadius(4, shift, 31): floor(15 * 2^27 / 2^shift).
    let radius = (((1i64 << INPUT_INTEGER_BITS) - 1) as f64
        * (1i64 << (31 - INPUT_INTEGER_BITS)) as f64
        / 2f64.powi(shift))
    .floor() as i32;
    Ok(tables::Sigmoidal {
        input_zero_point: zero_point,
        input_range_radius: radius,
        input_multiplier: q_fixed as i32,
        input_left_shift: shift,
    })
}

/// LOGISTIC: TFLM's int8 reference (gemmlowp fixed point, output scale 1/256 assumed,
/// zero point -128 checked).
pub fn logistic(cx: &OpCx) -> Prepared {
    match cx.input(0, "input")?.1.dtype {
        crate::ir::DType::I16 => return super::int16::sigmoidal(cx, false),
        crate::ir::DType::F32 => return super::math::prepare(cx, crate::ir::UnaryMath::Logistic),
        _ => {}
    }
    let (input, output) = unary(cx)?;
    let (_, out_zp) = cx.per_tensor(output, "output")?;
    if out_zp != -128 {
        return Err(cx.err(format!(
            "output {} has zero point {out_zp}; TFLM's int8 LOGISTIC requires -128",
            cx.describe(output.0)
        )));
    }
    let p = sigmoidal(cx, input)?;
    table(input.0, |x| tables::logistic_i8(&p, x))
}

/// TANH: TFLM's int8 reference (gemmlowp fixed point; the output is Q0.7 — scale 1/128,
/// zero point 0 — whatever the output tensor says, as in TFLM, which does not check it).
pub fn tanh(cx: &OpCx) -> Prepared {
    match cx.input(0, "input")?.1.dtype {
        crate::ir::DType::I16 => return super::int16::sigmoidal(cx, true),
        crate::ir::DType::F32 => return super::math::prepare(cx, crate::ir::UnaryMath::Tanh),
        _ => {}
    }
    let (input, output) = unary(cx)?;
    cx.per_tensor(output, "output")?;
    let p = sigmoidal(cx, input)?;
    table(input.0, |x| tables::tanh_i8(&p, x))
}

/// RELU: requantize to the output, clamp at the output's zero (TFLM `CalculateReluOpData`).
pub fn relu(cx: &OpCx) -> Prepared {
    if cx.input(0, "input")?.1.dtype == DType::I16 {
        return relu_i16(cx);
    }
    let (input, output) = unary(cx)?;
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let (multiplier, shift) = cx.multiplier(in_scale as f64 / out_scale as f64, "output")?;
    // act_min = max(-128, zero_point + (int)roundf(0 / scale)); act_max = 127 (no upper bound).
    let p = tables::Relu {
        input_zero_point: in_zp,
        output_zero_point: out_zp,
        multiplier,
        shift,
        act_min: out_zp.max(-128),
        act_max: 127,
    };
    table(input.0, |x| tables::relu_i8(&p, x))
}

/// RELU6: clamp to `[zero, six]` in the *input's* quantization (TFLM `Relu6Prepare`; the
/// output tensor's quantization is not used).
pub fn relu6(cx: &OpCx) -> Prepared {
    if cx.input(0, "input")?.1.dtype == DType::I16 {
        return relu6_i16(cx);
    }
    let (input, output) = unary(cx)?;
    cx.per_tensor(output, "output")?;
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    // FloatToQuantizedType<int8_t>(6.0f, scale, zero_point): round(6.0f / scale) + zp, clamped.
    let six = ((6.0f32 / in_scale) as f64).round() + in_zp as f64;
    let six = six.clamp(-128.0, 127.0) as i8;
    let zero = in_zp as i8;
    table(input.0, |x| {
        if x > six {
            six
        } else if x < zero {
            zero
        } else {
            x
        }
    })
}

/// Int16 RELU: zero points 0 (TFLM's `ReluPrepare` checks), the input rescaled to the output
/// and clamped at 0.
fn relu_i16(cx: &OpCx) -> Prepared {
    let (input, output) = unary_i16(cx)?;
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    for (zp, t, role) in [(in_zp, input, "input"), (out_zp, output, "output")] {
        if zp != 0 {
            return Err(cx.err(format!(
                "{role} {} has zero point {zp}; TFLM's int16 RELU requires 0",
                cx.describe(t.0)
            )));
        }
    }
    let (multiplier, shift) = cx.multiplier(in_scale as f64 / out_scale as f64, "output")?;
    let p = rt::ReluI16 {
        multiplier,
        shift,
        act_min: 0,
        act_max: i16::MAX as i32,
    };
    Ok((Kernel::ReluI16(p), vec![input.0], 0))
}

/// Int16 RELU6: the clamp to the input's quantized 0 and 6 (TFLM `Relu6Prepare`,
/// `FloatToQuantizedType<int16_t>`: `round(6 / scale) + zero_point`, saturated).
fn relu6_i16(cx: &OpCx) -> Prepared {
    let (input, output) = unary_i16(cx)?;
    cx.per_tensor(output, "output")?;
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let six = ((6.0f32 / in_scale) as f64).round() + in_zp as f64;
    let p = rt::Relu6I16 {
        zero: in_zp.clamp(i16::MIN as i32, i16::MAX as i32) as i16,
        six: six.clamp(i16::MIN as f64, i16::MAX as f64) as i16,
    };
    Ok((Kernel::Relu6I16(p), vec![input.0], 0))
}

/// LEAKY_RELU: two requantizations, identity for `x >= 0` and alpha (sign applied after the
/// multiply) for `x < 0` (TFLM `CalculateOpDataLeakyRelu`). The multipliers are formed in
/// double: oracle runs over all inputs match double and not float products (some TFLM
/// versions form them in float).
pub fn leaky_relu(cx: &OpCx, alpha: f32) -> Prepared {
    let int16 = cx.input(0, "input")?.1.dtype == DType::I16;
    let (input, output) = if int16 { unary_i16(cx)? } else { unary(cx)? };
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let (alpha_multiplier, alpha_shift, alpha_negative) = signed_multiplier(
        cx,
        in_scale as f64 * alpha as f64 / out_scale as f64,
        "alpha",
    )?;
    let (identity_multiplier, identity_shift) =
        cx.multiplier(in_scale as f64 / out_scale as f64, "identity")?;
    let p = rt::LeakyRelu {
        input_zero_point: in_zp,
        output_zero_point: out_zp,
        alpha_multiplier,
        alpha_shift,
        alpha_negative,
        identity_multiplier,
        identity_shift,
    };
    if int16 {
        return Ok((Kernel::LeakyReluI16(p), vec![input.0], 0));
    }
    table(input.0, |x| tables::leaky_relu_i8(&p, x))
}

/// TFLite `DownScaleInt32ToInt16Multiplier`: a Q31 multiplier rounded to Q15.
fn down_scale_to_i16(m: i32) -> i16 {
    const ROUNDING: i32 = 1 << 15;
    if m >= i32::MAX - ROUNDING {
        i16::MAX
    } else {
        ((m + ROUNDING) >> 16) as i16
    }
}

/// HARD_SWISH: TFLM `HardSwishPrepare` constants (in double — an oracle run over all inputs
/// rules out float — then QuantizeMultiplier and a rounding to Q15) and the int16
/// fixed-point reference.
pub fn hard_swish(cx: &OpCx) -> Prepared {
    let (input, output) = unary(cx)?;
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let hires_input_scale = (1.0 / 128.0) * in_scale as f64;
    let reluish_scale = 3.0 / 32768.0;
    let (out_m, out_exp) = quantize_multiplier(hires_input_scale / out_scale as f64)
        .ok_or_else(|| cx.err("output multiplier cannot be represented"))?;
    if out_exp > 0 {
        return Err(cx.err(format!(
            "output multiplier exponent {out_exp} must be <= 0 (TFLM: output scale at least input scale / 128)"
        )));
    }
    let (rel_m, rel_exp) = quantize_multiplier(hires_input_scale / reluish_scale)
        .ok_or_else(|| cx.err("reluish multiplier cannot be represented"))?;
    if !(-31..=31).contains(&rel_exp) {
        return Err(cx.err(format!(
            "reluish multiplier exponent {rel_exp} is out of range (input scale {in_scale})"
        )));
    }
    let p = tables::HardSwish {
        input_zero_point: in_zp,
        output_zero_point: out_zp,
        output_multiplier: down_scale_to_i16(out_m),
        output_exponent: out_exp,
        reluish_multiplier: down_scale_to_i16(rel_m),
        reluish_exponent: rel_exp,
    };
    table(input.0, |x| tables::hard_swish_i8(&p, x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_scale_rounds_and_saturates() {
        assert_eq!(down_scale_to_i16(1 << 30), 1 << 14);
        assert_eq!(down_scale_to_i16((1 << 30) + (1 << 15)), (1 << 14) + 1);
        assert_eq!(down_scale_to_i16((1 << 30) + (1 << 15) - 1), 1 << 14);
        assert_eq!(down_scale_to_i16(i32::MAX), i16::MAX);
        assert_eq!(down_scale_to_i16(i32::MAX - (1 << 16)), i16::MAX);
    }
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn logistic_output_zero_point_must_be_minus_128() {
        let err = run(
            OpKind::Logistic,
            "LOGISTIC",
            vec![int8(&[4], 0.1, 0), int8(&[4], 1.0 / 256.0, 0)],
            &[0],
            1,
        )
        .unwrap_err();
        assert!(err.contains("requires -128"), "{err}");
        let ok = run(
            OpKind::Logistic,
            "LOGISTIC",
            vec![int8(&[4], 0.1, 0), int8(&[4], 1.0 / 256.0, -128)],
            &[0],
            1,
        );
        assert!(matches!(ok, Ok(Kernel::Lookup(_))), "{ok:?}");
    }

    #[test]
    fn int16_relu_needs_zero_points_0_and_relu6_clamps_at_the_input_six() {
        let relu = |zero_point| {
            run(
                OpKind::Relu,
                "RELU",
                vec![int16(&[4], 0.001, zero_point), int16(&[4], 0.002, 0)],
                &[0],
                1,
            )
        };
        let Ok(Kernel::ReluI16(p)) = relu(0) else {
            panic!("no int16 RELU")
        };
        assert_eq!((p.multiplier, p.shift, p.act_min), (1 << 30, 0, 0));
        assert!(relu(2).unwrap_err().contains("zero point 2"));
        let relu6 = run(
            OpKind::Relu6,
            "RELU6",
            vec![int16(&[4], 0.001, 0), int16(&[4], 0.5, 0)],
            &[0],
            1,
        );
        let Ok(Kernel::Relu6I16(p)) = relu6 else {
            panic!("{relu6:?}")
        };
        assert_eq!((p.zero, p.six), (0, 6000));
    }

    #[test]
    fn hard_swish_needs_a_non_positive_output_exponent() {
        // input scale / 128 / output scale >= 1: TFLM's Prepare refuses it
        let err = run(
            OpKind::HardSwish,
            "HARD_SWISH",
            vec![int8(&[4], 1.0, 0), int8(&[4], 0.001, 0)],
            &[0],
            1,
        )
        .unwrap_err();
        assert!(err.contains("exponent"), "{err}");
    }
}
