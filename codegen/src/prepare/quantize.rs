//! QUANTIZE: float32 → int8 or int16, or requantization between int8 and int16, and between
//! uint8 and int8 (the uint8 inputs and outputs the converter's `inference_input_type` /
//! `inference_output_type = tf.uint8` leave at a model's edges).

use super::common::Prepared;
use crate::ir::{Arithmetic, DType};
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a QUANTIZE and computes its constants.
pub fn prepare(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    if !matches!(output.1.dtype, DType::I16 | DType::U8) {
        cx.expect_dtype(output, DType::I8, "output")?;
    }
    if input.1.elements() != output.1.elements() {
        return Err(cx.err("input and output element counts differ"));
    }
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let requantize = || -> Result<rt::Requantize, crate::prepare::ValidateError> {
        let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
        let (multiplier, shift) =
            cx.multiplier(in_scale as f64 / out_scale as f64, "requantize")?;
        Ok(rt::Requantize {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            multiplier,
            shift,
        })
    };
    let kernel = match (input.1.dtype, output.1.dtype) {
        (DType::F32, DType::I16) => Kernel::QuantizeF32I16(rt::Quantize {
            scale: out_scale,
            zero_point: out_zp,
        }),
        (DType::I8 | DType::I16, DType::I16) => Kernel::RequantizeToI16(requantize()?),
        (DType::U8, DType::I8) => Kernel::RequantizeU8ToI8(requantize()?),
        (DType::I8, DType::U8) => Kernel::RequantizeI8ToU8(requantize()?),
        (_, DType::U8) => {
            return Err(cx.err(format!(
                "input {} is {}; kiln (like TFLM) quantizes to uint8 from int8 only",
                cx.describe(input.0),
                input.1.dtype
            )))
        }
        (DType::I16, _) => Kernel::RequantizeI16ToI8(requantize()?),
        (DType::F32, _) if cx.graph.arithmetic == Arithmetic::Onnxruntime => {
            Kernel::QuantizeLinear(rt::Quantize {
                scale: out_scale,
                zero_point: out_zp,
            })
        }
        (DType::F32, _) => Kernel::QuantizeF32(rt::Quantize {
            scale: out_scale,
            zero_point: out_zp,
        }),
        (DType::I8, _) if cx.graph.arithmetic == Arithmetic::Onnxruntime => {
            return super::qlinear_elementwise::requantize(cx);
        }
        (DType::I8, _) => {
            let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
            let (multiplier, shift) =
                cx.multiplier(in_scale as f64 / out_scale as f64, "requantize")?;
            Kernel::Requantize(rt::Requantize {
                input_zero_point: in_zp,
                output_zero_point: out_zp,
                multiplier,
                shift,
            })
        }
        (other, _) => {
            return Err(cx.err(format!(
                "input {} is {other}; kiln quantizes from float32, int8, uint8 or int16",
                cx.describe(input.0)
            )))
        }
    };
    Ok((kernel, vec![input.0], 0))
}
