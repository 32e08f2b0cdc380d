//! SVDF, int8 with an int16 activation state (TFLM's full-integer SVDF, `PrepareSvdf`): the
//! feature weights requantize into the state's scale, the time weights out of it; or float32
//! throughout, with its fused activation (TFLM `EvalFloatSvdfReference`). The state is a
//! variable tensor `[batch, memory · filters]` kept across calls.

use super::common::{float_activation_range, Prepared};
use crate::ir::{Activation, DType, Tensor, TensorId};
use crate::layer::{SvdfWeights, SvdfWeightsF32};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// The shapes of an SVDF, checked as TFLM's `Prepare` checks them.
struct Geometry {
    batches: usize,
    input_size: usize,
    filters: usize,
    rank: usize,
    memory: usize,
    units: usize,
}

/// Validates an SVDF (int8, or float32 with its fused activation) and computes its constants;
/// its activation inputs are the input and the state.
pub fn prepare(cx: &OpCx, rank: i32, activation: Option<Activation>) -> Prepared {
    let input = cx.input(0, "input")?;
    let feature = cx.input(1, "feature weights")?;
    let time = cx.input(2, "time weights")?;
    let state = cx.input(4, "activation state")?;
    let output = cx.output()?;
    let g = geometry(cx, rank, [input, feature, time, state, output])?;
    if input.1.dtype == DType::F32 {
        return float(cx, &g, activation, [input, feature, time, state, output]);
    }
    cx.expect_dtype(input, DType::I8, "input")?;
    cx.expect_dtype(feature, DType::I8, "feature weights")?;
    cx.expect_dtype(output, DType::I8, "output")?;
    if state.1.dtype != DType::I16 || time.1.dtype != DType::I16 {
        return Err(cx.err(format!(
            "activation state {} and time weights {} must be int16 (kiln runs the SVDF with an \
             int16 state)",
            cx.describe(state.0),
            cx.describe(time.0)
        )));
    }
    let Geometry {
        batches,
        input_size,
        filters,
        rank,
        memory,
        units,
    } = g;
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (feature_scale, _) = cx.per_tensor(feature, "feature weights")?;
    let (time_scale, _) = cx.per_tensor(time, "time weights")?;
    let (state_scale, state_zp) = cx.per_tensor(state, "activation state")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let bias = super::common::bias(cx, 3, units)?;
    // TFLM computes both scales in f32 and widens the result.
    let multiplier =
        |m: f32, what: &str| -> Result<(i32, i32), ValidateError> { cx.multiplier(m as f64, what) };
    let (feature_multiplier, feature_shift) =
        multiplier(in_scale * feature_scale / state_scale, "feature")?;
    let (output_multiplier, output_shift) =
        multiplier(state_scale * time_scale / out_scale, "output")?;
    let params = rt::Svdf {
        batches,
        input_size,
        filters,
        rank,
        memory,
        input_zero_point: in_zp,
        state_zero_point: state_zp,
        output_zero_point: out_zp,
        feature_multiplier,
        feature_shift,
        output_multiplier,
        output_shift,
    };
    let time_weights = time
        .1
        .data
        .iter()
        .flat_map(|d| d.chunks_exact(2))
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let weights = SvdfWeights {
        feature: feature.1.data.clone().unwrap_or_default(),
        time: time_weights,
        bias: bias.unwrap_or_else(|| vec![0; units]),
    };
    let macs = (batches * filters * (input_size + memory)) as u64;
    Ok((
        Kernel::SvdfI8(params, weights),
        vec![input.0, state.0],
        macs,
    ))
}

/// The shared checks: constant weights, a variable state, and TFLM's shapes.
fn geometry(
    cx: &OpCx,
    rank: i32,
    [input, feature, time, state, output]: [(TensorId, &Tensor); 5],
) -> Result<Geometry, ValidateError> {
    cx.expect_const(feature, "feature weights")?;
    cx.expect_const(time, "time weights")?;
    if !cx.graph.variables.contains(&state.0) {
        return Err(cx.err(format!(
            "activation state {} must be a variable tensor",
            cx.describe(state.0)
        )));
    }
    for (t, what) in [
        (input, "input"),
        (feature, "feature weights"),
        (time, "time weights"),
    ] {
        cx.expect_rank(t, 2, what)?;
    }
    cx.expect_rank(state, 2, "activation state")?;
    cx.expect_rank(output, 2, "output")?;
    let (batches, input_size) = (input.1.shape[0], input.1.shape[1]);
    let filters = feature.1.shape[0];
    let memory = time.1.shape[1];
    let rank = usize::try_from(rank)
        .ok()
        .filter(|&r| r > 0 && filters % r == 0)
        .ok_or_else(|| cx.err(format!("rank {rank} does not divide the {filters} filters")))?;
    let units = filters / rank;
    let expect_shape = |t: (TensorId, &Tensor), want: [usize; 2], what: &str| {
        if t.1.shape == want {
            Ok(())
        } else {
            Err(cx.err(format!(
                "{what} {} has shape {:?}, expected {want:?}",
                cx.describe(t.0),
                t.1.shape
            )))
        }
    };
    expect_shape(feature, [filters, input_size], "feature weights")?;
    expect_shape(time, [filters, memory], "time weights")?;
    expect_shape(state, [batches, memory * filters], "activation state")?;
    expect_shape(output, [batches, units], "output")?;
    if memory == 0 || input_size == 0 {
        return Err(cx.err("has no memory or no input features"));
    }
    Ok(Geometry {
        batches,
        input_size,
        filters,
        rank,
        memory,
        units,
    })
}

/// The float32 SVDF (TFLM `EvalFloatSvdfReference`): float weights, state and optional bias,
/// the fused activation applied to the outputs.
fn float(
    cx: &OpCx,
    g: &Geometry,
    activation: Option<Activation>,
    [_, feature, time, state, output]: [(TensorId, &Tensor); 5],
) -> Prepared {
    for (t, what) in [
        (feature, "feature weights"),
        (time, "time weights"),
        (state, "activation state"),
        (output, "output"),
    ] {
        cx.expect_dtype(t, DType::F32, what)?;
    }
    let Some(activation) = activation else {
        return Err(cx.err(
            "has a TANH or SIGN_BIT fused activation; kiln's float32 SVDF applies NONE, RELU, \
             RELU_N1_TO_1 and RELU6",
        ));
    };
    let (act_min, act_max) = float_activation_range(activation);
    let floats = |t: &Tensor| -> Vec<f32> {
        t.data
            .iter()
            .flat_map(|d| d.chunks_exact(4))
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let bias = match cx.optional_input(3) {
        Some(b) => {
            cx.expect_dtype(b, DType::F32, "bias")?;
            cx.expect_const(b, "bias")?;
            if b.1.elements() != g.units {
                return Err(cx.err(format!(
                    "bias {} has {} values, expected one per unit ({})",
                    cx.describe(b.0),
                    b.1.elements(),
                    g.units
                )));
            }
            Some(floats(b.1))
        }
        None => None,
    };
    let params = rt::SvdfF32 {
        batches: g.batches,
        input_size: g.input_size,
        filters: g.filters,
        rank: g.rank,
        memory: g.memory,
        clamp: activation != Activation::None,
        act_min,
        act_max,
    };
    let weights = SvdfWeightsF32 {
        feature: floats(feature.1),
        time: floats(time.1),
        bias: bias.unwrap_or_else(|| vec![0.0; g.units]),
    };
    let macs = (g.batches * g.filters * (g.input_size + g.memory)) as u64;
    Ok((
        Kernel::SvdfF32(params, weights),
        vec![cx.input(0, "input")?.0, state.0],
        macs,
    ))
}
