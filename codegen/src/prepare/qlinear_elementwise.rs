//! onnxruntime's quantized element-wise operators ([`crate::ir::Arithmetic::Onnxruntime`]):
//! QLinearSigmoid and the float32 DequantizeLinear → QuantizeLinear pairs that onnxruntime
//! runs around data movement (both lookup tables computed here, at compile time, as
//! onnxruntime builds them), QLinearMul and broadcasting QLinearAdd.
//!
//! onnxruntime on x86-64 runs int8 QDQ models in uint8 (its `QDQS8ToU8Transformer`); kiln's
//! int8 values are those less 128, so every zero point added before a rounding is kiln's
//! plus 128. Int8 QOperator nodes ([`crate::ir::MLAS_SIGNED_OPS`]) run MLAS's int8 kernels
//! instead: their zero points are added as they are.

use super::common::Prepared;
use super::shapes::{broadcast, pad_front};
use crate::ir::{Activation, DType};
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// MLAS's logistic constants (`MlasLogisticConstants`, Eigen's rational approximation), as
/// MLAS spells them (each the nearest float32).
#[allow(clippy::excessive_precision)]
const LOGISTIC: [f32; 12] = [
    4.37031012579801e-11, // alpha_9
    1.15627324459942e-07, // alpha_7
    6.08574864600143e-05, // alpha_5
    8.51377133304701e-03, // alpha_3
    2.48287947061529e-01, // alpha_1
    6.10247389755681e-13, // beta_10
    5.76102136993427e-09, // beta_8
    6.29106785017040e-06, // beta_6
    1.70198817374094e-03, // beta_4
    1.16817656904453e-01, // beta_2
    9.93151921023180e-01, // beta_0
    0.5,
];

/// MLAS `MlasComputeLogistic` on x86-64 (its FMA3 kernel): `x` clamped to ±18, `x · p(x²) /
/// q(x²) + 0.5` with each polynomial step a fused multiply-add, then at least 0.
pub fn mlas_logistic(x: f32) -> f32 {
    let [a9, a7, a5, a3, a1, b10, b8, b6, b4, b2, b0, half] = LOGISTIC;
    let x = x.clamp(-18.0, 18.0);
    let x2 = x * x;
    let mut p = x2.mul_add(a9, a7);
    for c in [a5, a3, a1] {
        p = x2.mul_add(p, c);
    }
    let mut q = x2.mul_add(b10, b8);
    for c in [b6, b4, b2, b0] {
        q = x2.mul_add(q, c);
    }
    let v = (x * p) / q + half;
    if v > 0.0 {
        v
    } else {
        0.0
    }
}

/// MLAS `MlasQuantizeLinear` of one value to kiln's int8 (see [`rt::quantize_linear_f32`]).
fn quantize(x: f32, scale: f32, zero_point: i32) -> i8 {
    let mut out = [0i8];
    rt::quantize_linear_f32(&rt::Quantize { scale, zero_point }, &[x], &mut out);
    out[0]
}

/// The table onnxruntime builds for a quantized unary function (`QlinearBuildLookupTable`):
/// each input dequantized as `scale · (x - zero_point)` in float32, `f` applied, quantized by
/// `MlasQuantizeLinear`.
fn float_table(cx: &OpCx, f: impl Fn(f32) -> f32) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::I8, "input")?;
    cx.expect_dtype(output, DType::I8, "output")?;
    if input.1.elements() != output.1.elements() {
        return Err(cx.err("input and output differ in size"));
    }
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let table = super::lookup_tables::table_of(|x| {
        quantize(f(in_scale * (x as i32 - in_zp) as f32), out_scale, out_zp)
    });
    Ok((Kernel::Lookup(Box::new(table)), vec![input.0], 0))
}

/// LOGISTIC as onnxruntime's QLinearSigmoid: a table of [`mlas_logistic`].
pub fn sigmoid(cx: &OpCx) -> Prepared {
    float_table(cx, mlas_logistic)
}

/// An int8 → int8 QUANTIZE as onnxruntime's float32 `DequantizeLinear → QuantizeLinear`
/// (also QLinearConcat's per-input table).
pub fn requantize(cx: &OpCx) -> Prepared {
    float_table(cx, |x| x)
}

/// Validates an int8 MUL and computes onnxruntime's QLinearMul constants.
pub fn mul(cx: &OpCx, activation: Activation) -> Prepared {
    let (a, b, output) = binary_io(cx, activation)?;
    let bc = broadcast(cx, a, b, output)?;
    let (a_scale, a_zp) = cx.per_tensor(a, "first input")?;
    let (b_scale, b_zp) = cx.per_tensor(b, "second input")?;
    let (c_scale, c_zp) = cx.per_tensor(output, "output")?;
    let signed = crate::ir::MLAS_SIGNED_OPS.contains(&cx.name);
    let params = rt::MulQLinear {
        a_zero_point: a_zp,
        b_zero_point: b_zp,
        ratio: a_scale * b_scale / c_scale,
        output_zero_point: (c_zp + if signed { 0 } else { 128 }) as f32,
        signed,
    };
    let elements = output.1.elements() as u64;
    Ok((Kernel::MulQLinear(params, bc), vec![a.0, b.0], elements))
}

/// Validates an int8 ADD whose inputs broadcast and computes onnxruntime's QLinearAdd
/// constants, with the input that is one value per innermost span (see
/// [`rt::AddQLinearBroadcast`]).
pub fn add_broadcast(cx: &OpCx, ratios: rt::AddQLinear, activation: Activation) -> Prepared {
    let (a, b, output) = binary_io(cx, activation)?;
    let Some(bc) = broadcast(cx, a, b, output)? else {
        return Err(cx.err("expected inputs of different shapes"));
    };
    let rank = output.1.shape.len();
    let (pa, pb) = (pad_front(&a.1.shape, rank), pad_front(&b.1.shape, rank));
    // onnxruntime's broadcaster drops trailing axes of output size 1; the innermost one left
    // decides which input is a scalar per span.
    let inner = (0..rank).rev().find(|&k| output.1.shape[k] != 1);
    let scalar_input = match inner {
        Some(k) if pa[k] == 1 => 1,
        Some(k) if pb[k] == 1 => 2,
        _ => 0,
    };
    let mut ratios = ratios;
    if scalar_input == 1 {
        let lift = if ratios.signed { 0 } else { 128 };
        let zp = |t| cx.per_tensor(t, "input").map(|(_, z)| (z + lift) as f32);
        let (a_zp, b_zp, c_zp) = (zp(a)?, zp(b)?, zp(output)?);
        ratios.offset = c_zp - ratios.b_ratio.mul_add(b_zp, ratios.a_ratio * a_zp);
    }
    let params = rt::AddQLinearBroadcast {
        ratios,
        scalar_input,
    };
    let elements = output.1.elements() as u64;
    Ok((
        Kernel::AddQLinearBroadcast(params, bc),
        vec![a.0, b.0],
        elements,
    ))
}

/// Validates an int8 SOFTMAX over the last axis and computes onnxruntime's QLinearSoftmax
/// table (`QlinearBuildLookupTableUint32`): entry `i` is `exp((i - 255 + shift) · x_scale)`
/// in float64, stored as float32, with `shift = max(0, ln(f32::MAX / depth) - 5) / x_scale`
/// (headroom for the row's float32 sum).
pub fn softmax(cx: &OpCx, beta: f32) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::I8, "input")?;
    cx.expect_dtype(output, DType::I8, "output")?;
    if beta != 1.0 || input.1.shape != output.1.shape || input.1.shape.is_empty() {
        return Err(cx.err("expected beta 1 and equal, non-scalar input and output shapes"));
    }
    let depth = input.1.shape.last().copied().unwrap_or(1).max(1);
    let rows = input.1.elements() / depth;
    let (x_scale, _) = cx.per_tensor(input, "input")?;
    let (y_scale, y_zp) = cx.per_tensor(output, "output")?;
    let shift = ((f32::MAX / depth as f32) as f64).ln();
    let shift = (shift - 5.0).max(0.0) / x_scale as f64;
    let table = (0..256)
        .map(|i| ((i as f64 - 255.0 + shift) * x_scale as f64).exp() as f32)
        .collect();
    let signed = crate::ir::MLAS_SIGNED_OPS.contains(&cx.name);
    let params = rt::SoftmaxQLinear {
        rows,
        depth,
        inverse_scale: (1.0f32 / y_scale).floor(),
        output_zero_point: y_zp + if signed { 0 } else { 128 },
        signed,
    };
    let elements = input.1.elements() as u64;
    Ok((
        Kernel::SoftmaxQLinear(params, table),
        vec![input.0],
        elements,
    ))
}

type Io<'g> = (
    (crate::ir::TensorId, &'g crate::ir::Tensor),
    (crate::ir::TensorId, &'g crate::ir::Tensor),
    (crate::ir::TensorId, &'g crate::ir::Tensor),
);

/// The int8 inputs and output of a binary operator without fused activation.
fn binary_io<'g>(
    cx: &OpCx<'g>,
    activation: Activation,
) -> Result<Io<'g>, crate::prepare::ValidateError> {
    let a = cx.input(0, "first input")?;
    let b = cx.input(1, "second input")?;
    let output = cx.output()?;
    for (t, role) in [(a, "first input"), (b, "second input"), (output, "output")] {
        cx.expect_dtype(t, DType::I8, role)?;
    }
    if activation != Activation::None {
        return Err(cx.err(format!("fused activation {activation:?} is not supported")));
    }
    Ok((a, b, output))
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn logistic_approximates_the_sigmoid_closely() {
        assert_eq!(mlas_logistic(0.0), 0.5);
        for i in -250..250 {
            let x = i as f32 / 10.0;
            let exact = 1.0 / (1.0 + (-(x as f64)).exp());
            let got = mlas_logistic(x) as f64;
            assert!((got - exact).abs() < 2e-6, "{x}: {got} vs {exact}");
        }
    }
}
