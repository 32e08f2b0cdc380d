//! The int16x8 forms (16-bit activations, 8-bit weights) of CONV_2D, DEPTHWISE_CONV_2D,
//! FULLY_CONNECTED, LOGISTIC and TANH, as TFLM's int16 paths prepare them: symmetric
//! activations (zero point 0), per-channel or per-tensor int8 weights, int64 or int32 biases
//! (which decide the accumulator width, as in TFLM), clamp bounds in the int16 range.

use super::common::{expect_symmetric, per_channel_multipliers, Prepared};
use crate::ir::{Activation, DType, Tensor, TensorId};
use crate::layer::WeightsI16;
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Which layer an int16x8 convolution is: the filter's layout and TFLM's bias rules.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ConvKind {
    /// CONV_2D: OHWI filter; an int64 bias accumulates in 64 bits, int32 or none in 32.
    Conv,
    /// DEPTHWISE_CONV_2D: `1HW(C·M)` filter; always 64 bits (TFLM reads the bias as int64).
    Depthwise,
    /// FULLY_CONNECTED: `[out, in]` filter; int64 or no bias in 64 bits, int32 in 32.
    FullyConnected,
}

/// The constants of an int16x8 convolution-like layer with geometry `shape`.
pub fn conv(
    cx: &OpCx,
    [input, filter, output]: [(TensorId, &Tensor); 3],
    shape: rt::ConvShape,
    activation: Activation,
    kind: ConvKind,
    macs: u64,
) -> Prepared {
    cx.expect_dtype(input, DType::I16, "input")?;
    cx.expect_dtype(filter, DType::I8, "filter")?;
    cx.expect_dtype(output, DType::I16, "output")?;
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    for (zp, t, what) in [(in_zp, input, "input"), (out_zp, output, "output")] {
        if zp != 0 {
            return Err(cx.err(format!(
                "{what} {} has zero point {zp}; int16 activations are symmetric (0)",
                cx.describe(t.0)
            )));
        }
    }
    let axis = if kind == ConvKind::Depthwise { 3 } else { 0 };
    let wq = cx.weight_scales(filter, axis, shape.out_c)?;
    expect_symmetric(cx, filter.0, &wq.zero_points)?;
    let (bias, bias_type) = bias_i64(cx, shape.out_c)?;
    let wide = match (kind, bias_type) {
        (_, Some(DType::I64)) | (ConvKind::Depthwise | ConvKind::FullyConnected, None) => true,
        (ConvKind::Depthwise, Some(_)) => {
            return Err(cx.err("int16 DEPTHWISE_CONV_2D takes an int64 bias (as TFLM)"));
        }
        _ => false,
    };
    // Per-tensor FULLY_CONNECTED takes TFLM's f32 product of scales; the rest are per channel
    // in f64 (`PopulateConvolutionQuantizationParams`).
    let (multipliers, shifts) = if kind == ConvKind::FullyConnected && wq.is_per_tensor() {
        let product = (in_scale * wq.scale()) as f64;
        let (m, s) = cx.multiplier(product / out_scale as f64, "output")?;
        (vec![m], vec![s])
    } else {
        per_channel_multipliers(cx, in_scale, &wq.scales, out_scale, shape.out_c)?
    };
    let (act_min, act_max) = activation_range_i16(cx, activation, out_scale)?;
    let params = rt::ConvI16 {
        shape,
        act_min,
        act_max,
        wide,
    };
    let weights = WeightsI16 {
        filter: filter.1.data.clone().unwrap_or_default(),
        bias,
        multipliers,
        shifts,
    };
    let depthwise = kind == ConvKind::Depthwise;
    Ok((
        Kernel::ConvI16 {
            params,
            weights,
            depthwise,
        },
        vec![input.0],
        macs,
    ))
}

/// The optional bias (input 2) as int64 values, with its element type (int64 or int32).
fn bias_i64(cx: &OpCx, channels: usize) -> Result<(Vec<i64>, Option<DType>), ValidateError> {
    let Some((id, t)) = cx.optional_input(2) else {
        return Ok((vec![0; channels], None));
    };
    cx.expect_const((id, t), "bias")?;
    if t.elements() != channels {
        return Err(cx.err(format!(
            "bias {} has {} elements, expected {channels}",
            cx.describe(id),
            t.elements()
        )));
    }
    let data = t.data.as_deref().unwrap_or(&[]);
    let values = match t.dtype {
        DType::I64 => data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        DType::I32 => t.data_i32().into_iter().map(i64::from).collect(),
        other => {
            return Err(cx.err(format!(
                "bias {} is {other}; int16 layers take int64 or int32",
                cx.describe(id)
            )))
        }
    };
    Ok((values, Some(t.dtype)))
}

/// TFLite `CalculateActivationRangeQuantized` for an int16 output (zero point 0).
pub fn activation_range_i16(
    cx: &OpCx,
    activation: Activation,
    scale: f32,
) -> Result<(i32, i32), ValidateError> {
    super::quant::activation_range(activation, scale, 0, i16::MIN as i32, i16::MAX as i32)
        .ok_or_else(|| {
            cx.err(format!(
                "activation {activation:?} bound overflows at scale {scale}"
            ))
        })
}

/// Int16 LOGISTIC (`tanh` false) or TANH: the input scaling TFLM's Prepare chooses for its
/// table lookup (a power-of-two scale maps straight onto Q3.12 · 3; any other is multiplied
/// into range), and its checks: zero points 0, output scale 2^-15.
pub fn sigmoidal(cx: &OpCx, tanh: bool) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::I16, "input")?;
    cx.expect_dtype(output, DType::I16, "output")?;
    if input.1.elements() != output.1.elements() {
        return Err(cx.err("input and output element counts differ"));
    }
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    if in_zp != 0 || out_zp != 0 {
        return Err(cx.err("int16 input and output must have zero point 0"));
    }
    match checked_log2(out_scale) {
        (-15, true) => {}
        _ => {
            return Err(cx.err(format!(
                "output {} has scale {out_scale}; TFLM's int16 {} requires 2^-15",
                cx.describe(output.0),
                cx.name
            )))
        }
    }
    let (log2, exact) = checked_log2(in_scale);
    let shift = 12 + log2;
    let power_of_two = exact && (shift == 0 || (tanh && shift == 1));
    let scale = if power_of_two {
        rt::InputScale16 {
            multiplier: 3 << shift,
            shift: 0,
        }
    } else {
        let mut multiplier = in_scale as f64 * 4096.0 * 3.0;
        let mut shift = 0;
        while multiplier <= 32767.0 / 2.0 && shift <= 30 {
            shift += 1;
            multiplier *= 2.0;
        }
        rt::InputScale16 {
            multiplier: multiplier as i32,
            shift,
        }
    };
    Ok((Kernel::ActivationI16 { scale, tanh }, vec![input.0], 0))
}

/// TFLite `CheckedLog2`: `log2(x)` rounded (in f32), and whether `x` is that power of two
/// to within 1e-3 in the exponent.
fn checked_log2(x: f32) -> (i32, bool) {
    let log2 = x.ln() * (1.0 / 2.0f32.ln());
    let rounded = log2.round();
    (rounded as i32, (log2 - rounded).abs() < 1e-3)
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn checked_log2_of_powers_and_others() {
        assert_eq!(checked_log2(1.0 / 32768.0), (-15, true));
        assert_eq!(checked_log2(1.0 / 4096.0), (-12, true));
        assert!(!checked_log2(3.0e-4).1);
    }
}
