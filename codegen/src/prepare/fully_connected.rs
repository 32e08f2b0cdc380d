//! FULLY_CONNECTED: int8 (per-tensor or per-channel weights) or float32, any number of rows.

use super::common::{
    bias, float_activation_range, float_bias, per_channel_multipliers, weights, Prepared,
};
use crate::ir::{Arithmetic, DType, FullyConnectedOptions};
use crate::prepare::{FloatWeights, Kernel, OpCx};
use crate::runtime as rt;

/// Validates a FULLY_CONNECTED and computes its constants.
pub fn prepare(cx: &OpCx, o: &FullyConnectedOptions) -> Prepared {
    let input = cx.input(0, "input")?;
    let filter = cx.input(1, "weights")?;
    let output = cx.output()?;
    let dtype = match input.1.dtype {
        DType::F32 | DType::I16 => input.1.dtype,
        _ => DType::I8,
    };
    if dtype != DType::I16 {
        cx.expect_dtype(input, dtype, "input")?;
        cx.expect_dtype(filter, dtype, "weights")?;
        cx.expect_dtype(output, dtype, "output")?;
    }
    cx.expect_rank(filter, 2, "weights")?;
    cx.expect_const(filter, "weights")?;
    let (out_features, in_features) = (filter.1.shape[0], filter.1.shape[1]);
    let out_shape = &output.1.shape;
    if out_shape.last() != Some(&out_features) {
        return Err(cx.err(format!(
            "output {} has shape {out_shape:?}; its last dimension must be the {out_features} weight rows",
            cx.describe(output.0)
        )));
    }
    let batches = output.1.elements() / out_features.max(1);
    if in_features == 0 || input.1.elements() != batches * in_features {
        return Err(cx.err(format!(
            "input {} has shape {:?}, which is not {batches} rows of {in_features} features",
            cx.describe(input.0),
            input.1.shape
        )));
    }
    let macs = (batches * in_features * out_features) as u64;
    if dtype == DType::I16 {
        use super::int16::{conv, ConvKind};
        let shape = super::common::fc_conv_shape(batches, in_features, out_features);
        let io = [input, filter, output];
        return conv(cx, io, shape, o.activation, ConvKind::FullyConnected, macs);
    }
    if dtype == DType::I8 && cx.graph.arithmetic == Arithmetic::Onnxruntime {
        let shape = super::common::fc_conv_shape(batches, in_features, out_features);
        let io = [input, filter, output];
        return super::qlinear::conv(cx, io, shape, o.activation, macs);
    }
    if dtype == DType::F32 {
        let (act_min, act_max) = float_activation_range(o.activation);
        let params = rt::FullyConnectedF32 {
            batches,
            in_features,
            out_features,
            act_min,
            act_max,
        };
        let w = FloatWeights {
            filter: filter.1.data.clone().unwrap_or_default(),
            bias: float_bias(cx, 2, out_features)?,
        };
        return Ok((Kernel::FullyConnectedF32(params, w), vec![input.0], macs));
    }
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    let wq = cx.weight_scales(filter, 0, out_features)?;
    let bias = bias(cx, 2, out_features)?;
    let per_channel = !wq.is_per_tensor();
    let (mult, weights_offset) = if per_channel {
        super::common::expect_symmetric(cx, filter.0, &wq.zero_points)?;
        let m = per_channel_multipliers(cx, in_scale, &wq.scales, out_scale, out_features)?;
        (m, 0)
    } else {
        // TFLM's GetQuantizedConvolutionMultipler: the input*weight product is taken in f32.
        let product = (in_scale * wq.scale()) as f64;
        if let Some((id, t)) = cx.optional_input(2) {
            if let Some(bq) = t.quant.as_ref().filter(|q| q.is_per_tensor()) {
                let bias_scale = bq.scale() as f64;
                if (product - bias_scale).abs() > 1e-6 * product.min(bias_scale) {
                    return Err(cx.err(format!(
                        "bias {} scale {bias_scale} differs from input scale × weight scale {product}",
                        cx.describe(id)
                    )));
                }
            }
        }
        let (m, s) = cx.multiplier(product / out_scale as f64, "output")?;
        let zp = wq.zero_points[0];
        if !(-128..=127).contains(&zp) {
            return Err(cx.err(format!("weights zero point {zp} outside int8")));
        }
        ((vec![m], vec![s]), -(zp as i32))
    };
    let (act_min, act_max) = cx.activation_range(o.activation, out_scale, out_zp)?;
    let params = rt::FullyConnected {
        batches,
        in_features,
        out_features,
        input_offset: -in_zp,
        weights_offset,
        output_offset: out_zp,
        per_channel,
        act_min,
        act_max,
    };
    let data = filter.1.data.clone().unwrap_or_default();
    Ok((
        Kernel::FullyConnected(
            params,
            weights(data, bias, mult, out_features, -in_zp, |i| i / in_features),
        ),
        vec![input.0],
        macs,
    ))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn fully_connected_weights_must_be_constant() {
        // sine_mlp: three FCs. Make op 1's weights a graph input instead of a constant.
        let mut m = fixture_model("sine_mlp");
        let w = op_input(&m, 1, 1);
        m.tensors[w].buffer = 0;
        m.inputs.push(w as i32);
        let msg = expect_invalid(
            &serialize(&m),
            1,
            "FULLY_CONNECTED",
            &["must be a constant tensor"],
        );
        assert!(msg.contains(&format!("weights tensor {w} '")), "{msg}");
    }
}
