//! ADD_N: float32, or int8 with every input in one quantization (TFLM's `add_n.cc`: inputs
//! shifted left by 20, rescaled by one half, summed, rescaled to the output).

use super::common::Prepared;
use super::quant::quantize_multiplier_smaller_than_one;
use crate::ir::DType;
use crate::prepare::shapes::expect_same_dtype;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's `kAddNIntegerShift`.
const INTEGER_SHIFT: i32 = 20;

/// Validates an ADD_N and computes its constants.
pub fn prepare(cx: &OpCx) -> Prepared {
    let first = cx.input(0, "first input")?;
    let output = cx.output()?;
    let dtype = expect_same_dtype(cx, first, output, &[DType::F32, DType::I8])?;
    if cx.input_count() < 2 {
        return Err(cx.err("TFLM's ADD_N needs at least two inputs"));
    }
    let mut inputs = Vec::with_capacity(cx.input_count());
    for slot in 0..cx.input_count() {
        let input = cx.input(slot, "input")?;
        cx.expect_dtype(input, dtype, "input")?;
        if input.1.shape != first.1.shape || input.1.shape != output.1.shape {
            return Err(cx.err(format!(
                "input {} has shape {:?}; TFLM's ADD_N needs every input and the output of one \
                 shape ({:?})",
                cx.describe(input.0),
                input.1.shape,
                output.1.shape
            )));
        }
        if dtype == DType::I8 && cx.per_tensor(input, "input")? != cx.per_tensor(first, "input")? {
            return Err(cx.err(format!(
                "input {} is quantized differently from input 0; TFLM's ADD_N needs one scale \
                 and zero point",
                cx.describe(input.0)
            )));
        }
        inputs.push(input.0);
    }
    if dtype == DType::F32 {
        return Ok((Kernel::AddNF32, inputs, 0));
    }
    let (in_scale, in_zp) = cx.per_tensor(first, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let twice_max = 2.0 * in_scale as f64;
    let smaller = |m: f64, what: &str| {
        quantize_multiplier_smaller_than_one(m)
            .ok_or_else(|| cx.err(format!("{what} multiplier {m} is not below 1")))
    };
    let (input_multiplier, input_shift) = smaller(in_scale as f64 / twice_max, "input")?;
    let real_output = twice_max / ((1i64 << INTEGER_SHIFT) as f64 * out_scale as f64);
    let (output_multiplier, output_shift) = smaller(real_output, "output")?;
    let params = rt::AddN {
        input_offset: -in_zp,
        input_multiplier,
        input_shift,
        output_multiplier,
        output_shift,
        output_offset: out_zp,
    };
    Ok((Kernel::AddN(params), inputs, 0))
}
