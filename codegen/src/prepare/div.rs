//! DIV: int8 or float32, numpy-style broadcasting, fused activation (TFLM's `div.cc`,
//! reference `DivElementwise` / `BroadcastDivSlow`). Int8 divides with a fixed-point
//! reciprocal of the divisor and one multiplier, `input1_scale / (input2_scale *
//! output_scale)`, which TFLM forms in float before widening it to double.

use super::common::Prepared;
use super::shapes::broadcast;
use crate::ir::{Activation, DType};
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a DIV and computes its constants.
pub fn prepare(cx: &OpCx, activation: Activation) -> Prepared {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    let dtype = output.1.dtype;
    if !matches!(dtype, DType::I8 | DType::F32) {
        return Err(cx.err(format!(
            "output {} is {dtype}, but kiln supports only int8 and float32 here",
            cx.describe(output.0)
        )));
    }
    cx.expect_dtype(a, dtype, "first input")?;
    cx.expect_dtype(b, dtype, "second input")?;
    let bc = broadcast(cx, a, b, output)?;
    if dtype == DType::F32 {
        let (min, max) = match activation {
            Activation::None => (f32::MIN, f32::MAX),
            Activation::Relu => (0.0, f32::MAX),
            Activation::Relu6 => (0.0, 6.0),
            Activation::ReluN1To1 => (-1.0, 1.0),
        };
        return Ok((
            Kernel::DivF32(rt::ClampF32 { min, max }, bc),
            vec![a.0, b.0],
            0,
        ));
    }
    let (a_scale, a_zp) = cx.per_tensor(a, "first input")?;
    let (b_scale, b_zp) = cx.per_tensor(b, "second input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let (act_min, act_max) = cx.activation_range(activation, out_scale, out_zp)?;
    let real = (a_scale / (b_scale * out_scale)) as f64;
    let (output_multiplier, output_shift) = cx.multiplier(real, "output")?;
    let params = rt::Div {
        input1_offset: -a_zp,
        input2_offset: -b_zp,
        output_offset: out_zp,
        output_multiplier,
        output_shift,
        act_min,
        act_max,
    };
    Ok((Kernel::Div(params, bc), vec![a.0, b.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;
    use crate::ir::Activation;

    #[test]
    fn div_multiplier_is_formed_in_float() {
        let div = |a: Tensor, b: Tensor, out: Tensor| {
            run(
                OpKind::Div {
                    activation: Activation::Relu,
                },
                "DIV",
                vec![a, b, out],
                &[0, 1],
                2,
            )
        };
        let (sa, sb, so) = (0.1f32, 0.3f32, 0.7f32);
        let Ok(Kernel::Div(p, None)) =
            div(int8(&[4], sa, 1), int8(&[4], sb, 2), int8(&[4], so, -5))
        else {
            panic!("no int8 DIV")
        };
        let want = crate::prepare::quant::quantize_multiplier((sa / (sb * so)) as f64).unwrap();
        assert_eq!((p.output_multiplier, p.output_shift), want);
        assert_ne!(
            Some(want),
            crate::prepare::quant::quantize_multiplier(sa as f64 / (sb as f64 * so as f64))
        );
        assert_eq!(
            (p.input1_offset, p.input2_offset, p.output_offset),
            (-1, -2, -5)
        );
        assert_eq!((p.act_min, p.act_max), (-5, 127));
        let err = div(int8(&[4], sa, 1), int8(&[3], sb, 2), int8(&[4], so, 0)).unwrap_err();
        assert!(err.contains("do not broadcast"), "{err}");
    }
}
