//! The element-wise math functions of one input: ELU, EXP, LOG, SQRT, RSQRT, FLOOR, CEIL,
//! ROUND, SQUARE, SIN, COS (TFLM's `elu.cc`, `exp.cc`, `elementwise.cc`, `floor.cc`,
//! `ceil.cc`, `round.cc`), and the float32 forms of LOGISTIC and TANH (`activations` sends
//! them here).
//!
//! Every one runs on float32 ([`crate::runtime::map_f32`]). Two also run on int8, as
//! TFLM does, each as a 256-entry table:
//! - ELU: TFLM's `PopulateLookupTable`, in float as TFLM computes it (`scale * (q - zp)`,
//!   `expf(x) - 1` with glibc's `expf` ([`crate::runtime::exp_f32`]), `roundf(y *
//!   (1 / output_scale))` with `1 / output_scale` formed in float).
//! - RSQRT: TFLM's `RsqrtEvalQuantized`, the integer inverse square root of `q - zp` scaled
//!   by `1 / (sqrt(input_scale) * output_scale)` (formed in double). TFLM fails `Invoke` on
//!   inputs below the zero point; kiln's table gives them what the same arithmetic gives.

use super::abs_neg::same_type_and_size;
use super::common::Prepared;
use super::lookup_tables::table_of;
use crate::ir::{DType, UnaryMath};
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates an element-wise math op and computes its table (int8) or picks its function.
pub fn prepare(cx: &OpCx, f: UnaryMath) -> Prepared {
    let (input, output) = same_type_and_size(cx)?;
    let int8 = matches!(f, UnaryMath::Elu | UnaryMath::Rsqrt);
    match input.1.dtype {
        DType::F32 => Ok((Kernel::MapF32(f), vec![input.0], 0)),
        DType::I8 if int8 => {
            let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
            let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
            let table = if f == UnaryMath::Elu {
                let inverse_scale = 1.0 / out_scale;
                table_of(|x| {
                    let real = in_scale * (x as i32 - in_zp) as f32;
                    // glibc's expf (TFLM's on the oracle's host), not the host's: the table
                    // does not depend on where kiln runs.
                    let elu = if real < 0.0 {
                        rt::exp_f32(real) - 1.0
                    } else {
                        real
                    };
                    let rescaled = (elu * inverse_scale).round();
                    ((rescaled + out_zp as f32) as i32).clamp(-128, 127) as i8
                })
            } else {
                let scale = 1.0 / ((in_scale as f64).sqrt() * out_scale as f64);
                let (multiplier, shift) = cx.multiplier(scale, "output")?;
                table_of(|x| rsqrt_i8(x as i32 - in_zp, multiplier, shift, out_zp))
            };
            Ok((Kernel::Lookup(Box::new(table)), vec![input.0], 0))
        }
        other => Err(cx.err(format!(
            "input {} is {other}; TFLM's {} supports only {}",
            cx.describe(input.0),
            cx.name,
            if int8 { "float32 and int8" } else { "float32" }
        ))),
    }
}

/// TFLM's `RsqrtEvalQuantized` of `value = q - zero_point`.
fn rsqrt_i8(value: i32, multiplier: i32, shift: i32, output_zero_point: i32) -> i8 {
    /// TFLM's `kShift`: keeps the intermediate an integer.
    const SHIFT: i32 = 20;
    if value == 0 {
        return i8::MAX;
    }
    let (inv_sqrt, inv_shift) = rt::inv_sqrt_multiplier(value);
    let data = rt::multiply_by_quantized_multiplier(1, inv_sqrt, inv_shift + SHIFT);
    let out = rt::multiply_by_quantized_multiplier(data, multiplier, shift - SHIFT);
    out.wrapping_add(output_zero_point).clamp(-128, 127) as i8
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;
    use crate::ir::UnaryMath;

    #[test]
    fn math_types_and_tables() {
        let math = |f: UnaryMath, input: Tensor, output: Tensor| {
            run(OpKind::Math(f), "MATH", vec![input, output], &[0], 1)
        };
        let err = math(UnaryMath::Exp, int8(&[4], 0.1, 0), int8(&[4], 0.1, 0)).unwrap_err();
        assert!(err.contains("supports only float32"), "{err}");
        // ELU of q · 0.1 at output scale 0.1: x itself for x >= 0, round(10 (e^x - 1)) below.
        let Ok(Kernel::Lookup(t)) = math(UnaryMath::Elu, int8(&[4], 0.1, 0), int8(&[4], 0.1, 0))
        else {
            panic!("no ELU table")
        };
        assert_eq!(t[5], 5);
        assert_eq!(t[(-10i8) as u8 as usize], -6); // 10 (e^-1 - 1) = -6.32
        assert_eq!(t[(-128i8) as u8 as usize], -10);
        // RSQRT of q · 0.01 (zero point 0) at output scale 0.1: 10 / sqrt(q / 100) = 100/√q.
        let Ok(Kernel::Lookup(t)) = math(UnaryMath::Rsqrt, int8(&[4], 0.01, 0), int8(&[4], 0.1, 0))
        else {
            panic!("no RSQRT table")
        };
        assert_eq!(t[100], 10);
        assert_eq!(t[4], 50);
        assert_eq!(t[1], 100); // TFLM takes 1/sqrt(1) as i32::MAX / 2^31
        assert_eq!(t[0], 127);
    }
}
