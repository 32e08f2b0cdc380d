//! SVDF, int8 with an int16 activation state (TFLM's full-integer SVDF, `PrepareSvdf`): the
//! feature weights requantize into the state's scale, the time weights out of it; the
//! state is a variable tensor `[batch, memory · filters]` kept across calls.

use super::common::Prepared;
use crate::ir::{DType, Tensor, TensorId};
use crate::layer::SvdfWeights;
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Validates an int8 SVDF and computes its constants; its activation inputs are the input
/// and the state.
pub fn prepare(cx: &OpCx, rank: i32) -> Prepared {
    let input = cx.input(0, "input")?;
    if input.1.dtype == DType::F32 {
        return Err(cx.err("float32 SVDF is not supported yet (kiln runs the int8 SVDF)"));
    }
    cx.expect_dtype(input, DType::I8, "input")?;
    let feature = cx.input(1, "feature weights")?;
    let time = cx.input(2, "time weights")?;
    let state = cx.input(4, "activation state")?;
    let output = cx.output()?;
    cx.expect_dtype(feature, DType::I8, "feature weights")?;
    cx.expect_const(feature, "feature weights")?;
    cx.expect_const(time, "time weights")?;
    cx.expect_dtype(output, DType::I8, "output")?;
    if state.1.dtype != DType::I16 || time.1.dtype != DType::I16 {
        return Err(cx.err(format!(
            "activation state {} and time weights {} must be int16 (kiln runs the SVDF with an \
             int16 state)",
            cx.describe(state.0),
            cx.describe(time.0)
        )));
    }
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
