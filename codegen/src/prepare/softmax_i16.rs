//! Int16 SOFTMAX as TFLM prepares it: an int16 output of scale 1/32768 and zero point 0, the
//! input difference scaled so that `-10..=0` spans `-65535..=0`, and the two 513-entry tables
//! TFLM builds in `SoftmaxPrepare` (`exp` on `[-10, 0]`, `1 / (1 + x)` on `[0, 1]`).

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates an int16 SOFTMAX and computes its constants and tables.
pub fn prepare(cx: &OpCx, beta: f32) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::I16, "input")?;
    cx.expect_dtype(output, DType::I16, "output")?;
    if input.1.shape != output.1.shape {
        return Err(cx.err("input and output shapes differ"));
    }
    let (in_scale, _) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    // TF_LITE_ENSURE_NEAR in float.
    let want = 1.0f32 / 32768.0;
    if out_zp != 0 || (out_scale - want).abs() > 0.001f32 * want {
        return Err(cx.err(format!(
            "int16 output must have scale 1/32768 and zero point 0, has scale {out_scale} and zero point {out_zp}"
        )));
    }
    if !(beta.is_finite() && beta > 0.0) {
        return Err(cx.err(format!("beta {beta} must be positive")));
    }
    let real = in_scale as f64 * beta as f64 / (10.0 / 65535.0);
    let (input_multiplier, input_shift) = cx.multiplier(real, "input")?;
    let depth = *input.1.shape.last().unwrap_or(&1);
    let params = rt::SoftmaxI16 {
        rows: input.1.elements() / depth.max(1),
        depth,
        input_multiplier,
        input_shift,
    };
    let exp_lut = lut_i16(f32::exp, -10.0, 0.0);
    let recip_lut = lut_i16(|x| 1.0 / (1.0 + x), 0.0, 1.0);
    Ok((
        Kernel::SoftmaxI16 {
            params,
            exp_lut,
            recip_lut,
        },
        vec![input.0],
        0,
    ))
}

/// TFLite's `gen_lut<float, int16_t, int16_t>` with outputs on `[-1, 1]`: 512 samples of `f`
/// on `[input_min, input_max)` in Q0.15, each biased by half the error of interpolating
/// its midpoint, and `f(input_max)` for the last slope. In f32, as TFLite; the `exp` table
/// follows the host's `expf`, whose last-bit differences from a correctly rounded `exp`
/// change no entry (tested).
fn lut_i16(f: impl Fn(f32) -> f32, input_min: f32, input_max: f32) -> Vec<i16> {
    const STEPS: usize = 512;
    const SCALE: f32 = 65536.0 / 2.0;
    let step = (input_max - input_min) / STEPS as f32;
    let half_step = step / 2.0;
    let saturate = |v: f32| v.clamp(-32768.0, 32767.0) as i16;
    let mut lut: Vec<i16> = (0..STEPS)
        .map(|i| {
            let at = input_min + i as f32 * step;
            let val = f(at);
            let val_midpoint = f(at + half_step);
            let val_next = f(input_min + (i + 1) as f32 * step);
            let sample = (val * SCALE).round();
            let midpoint_interp = ((val_next * SCALE + sample) / 2.0).round();
            let midpoint_err = midpoint_interp - (val_midpoint * SCALE).round();
            let bias = (midpoint_err / 2.0).round();
            saturate(sample - bias)
        })
        .collect();
    lut.push(saturate((f(input_max) * SCALE).round()));
    lut
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn tables_span_their_functions_in_q0_15() {
        let exp = lut_i16(f32::exp, -10.0, 0.0);
        assert_eq!(exp.len(), 513);
        // exp(-10) · 32768 = 1.49; exp(0) saturates at 32767.
        assert!((1..=2).contains(&exp[0]), "{}", exp[0]);
        assert_eq!(exp[512], 32767);
        assert!(exp.windows(2).all(|w| w[0] <= w[1]));
        // The host's expf and exp computed in double then rounded give the same table.
        assert_eq!(lut_i16(|x| (x as f64).exp() as f32, -10.0, 0.0), exp);
        let recip = lut_i16(|x| 1.0 / (1.0 + x), 0.0, 1.0);
        assert_eq!((recip[0], recip[512]), (32767, 16384));
        assert!(recip.windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn int16_output_is_scaled_by_one_over_32768() {
        use super::super::test_models::*;
        let softmax = |scale| {
            run(
                OpKind::Softmax { beta: 1.0 },
                "SOFTMAX",
                vec![int16(&[2, 5], 0.001, 0), int16(&[2, 5], scale, 0)],
                &[0],
                1,
            )
        };
        assert!(matches!(
            softmax(1.0 / 32768.0),
            Ok(Kernel::SoftmaxI16 { params, .. }) if params.rows == 2 && params.depth == 5
        ));
        let err = softmax(1.0 / 256.0).unwrap_err();
        assert!(err.contains("1/32768"), "{err}");
    }
}
