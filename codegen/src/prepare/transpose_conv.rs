//! TRANSPOSE_CONV: int8 (per-channel or per-tensor weights, int32 bias) or float32, as TFLM's
//! `transpose_conv.cc` prepares it.
//!
//! Inputs: 0 the output shape (TFLM ignores it; kiln checks a constant one against the output
//! tensor), 1 the OHWI filter, 2 the NHWC input, 3 an optional bias. The padding is TFLM's
//! `ComputePaddingHeightWidth` over the output size (the convolution this is the gradient of
//! reads the output). TFLM's int8 kernel clamps to the whole int8 range whatever the fused
//! activation (it passes `kTfLiteActNone`), and so does kiln; its float32 kernel reads the
//! activation from the options through the wrong struct, so kiln accepts only none there.

use super::common::{
    bias, expect_symmetric, float_bias, per_channel_multipliers, weights, Prepared,
};
use crate::ir::{Activation, DType, Padding, TransposeConvOptions};
use crate::prepare::quant::{out_size, padding_before};
use crate::prepare::shapes::expect_same_dtype;
use crate::prepare::{FloatWeights, Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Validates a TRANSPOSE_CONV and computes its constants.
pub fn prepare(cx: &OpCx, o: &TransposeConvOptions) -> Prepared {
    let filter = cx.input(1, "filter")?;
    let input = cx.input(2, "input")?;
    let output = cx.output()?;
    cx.expect_rank(input, 4, "input")?;
    cx.expect_rank(filter, 4, "filter")?;
    cx.expect_rank(output, 4, "output")?;
    cx.expect_const(filter, "filter")?;
    let dtype = expect_same_dtype(cx, input, output, &[DType::I8, DType::F32])?;
    cx.expect_dtype(filter, dtype, "filter")?;
    check_output_shape(cx, &output.1.shape)?;
    let shape = geometry(cx, o, &input.1.shape, &filter.1.shape, &output.1.shape)?;
    let macs = (shape.batches
        * shape.in_h
        * shape.in_w
        * shape.in_c
        * shape.k_h
        * shape.k_w
        * shape.out_c) as u64;
    match dtype {
        DType::F32 => {
            if o.activation != Activation::None {
                return Err(cx.err(format!(
                    "fused activation {:?}: TFLM's float32 TRANSPOSE_CONV reads its activation \
                     from the wrong options struct, so kiln supports only none",
                    o.activation
                )));
            }
            let params = rt::TransposeConvF32 {
                shape,
                act_min: f32::MIN,
                act_max: f32::MAX,
            };
            let w = FloatWeights {
                filter: filter.1.data.clone().unwrap_or_default(),
                bias: float_bias(cx, 3, shape.out_c)?,
            };
            Ok((Kernel::TransposeConvF32(params, w), vec![input.0], macs))
        }
        DType::I8 => {
            let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
            let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
            let wq = cx.weight_scales(filter, 0, shape.out_c)?;
            expect_symmetric(cx, filter.0, &wq.zero_points)?;
            let bias = bias(cx, 3, shape.out_c)?;
            let mult = per_channel_multipliers(cx, in_scale, &wq.scales, out_scale, shape.out_c)?;
            let per_filter = shape.k_h * shape.k_w * shape.in_c;
            let data = filter.1.data.clone().unwrap_or_default();
            let w = weights(data, bias, mult, shape.out_c, -in_zp, |i| i / per_filter);
            let params = rt::TransposeConvI8 {
                shape,
                input_offset: -in_zp,
                output_offset: out_zp,
            };
            Ok((Kernel::TransposeConv(params, w), vec![input.0], macs))
        }
        other => Err(cx.err(format!(
            "kiln bug: TRANSPOSE_CONV on {other} passed the type check"
        ))),
    }
}

/// A constant output-shape input (input 0) must name the output tensor's shape.
fn check_output_shape(cx: &OpCx, out: &[usize]) -> Result<(), ValidateError> {
    let Some((id, t)) = cx.optional_input(0) else {
        return Ok(());
    };
    if !t.is_const() || t.dtype != DType::I32 {
        return Ok(());
    }
    let given: Vec<i64> = t.data_i32().iter().map(|&d| d as i64).collect();
    let expected: Vec<i64> = out.iter().map(|&d| d as i64).collect();
    if given != expected {
        return Err(cx.err(format!(
            "output shape {} is {given:?}, but the output tensor has shape {out:?}",
            cx.describe(id)
        )));
    }
    Ok(())
}

/// Checks the channels and batch; returns the layer's geometry with TFLM's padding.
fn geometry(
    cx: &OpCx,
    o: &TransposeConvOptions,
    i: &[usize],
    f: &[usize],
    out: &[usize],
) -> Result<rt::TransposeConvShape, ValidateError> {
    let (batches, in_h, in_w, in_c) = (i[0], i[1], i[2], i[3]);
    let (out_c, k_h, k_w, k_c) = (f[0], f[1], f[2], f[3]);
    if k_c != in_c || out[0] != batches || out[3] != out_c || k_h == 0 || k_w == 0 {
        return Err(cx.err(format!(
            "input {i:?}, filter {f:?} and output {out:?} do not match (TFLM needs filter \
             [output channels, h, w, input channels] and equal batches)"
        )));
    }
    let (out_h, out_w) = (out[1], out[2]);
    Ok(rt::TransposeConvShape {
        batches,
        in_h,
        in_w,
        in_c,
        out_h,
        out_w,
        out_c,
        k_h,
        k_w,
        stride_h: o.stride_h,
        stride_w: o.stride_w,
        pad_top: cut_before(o.padding, out_h, k_h, o.stride_h),
        pad_left: cut_before(o.padding, out_w, k_w, o.stride_w),
    })
}

/// TFLM's `ComputePaddingHeightWidth` along one axis of size `size` (the output's).
fn cut_before(padding: Padding, size: usize, filter: usize, stride: usize) -> usize {
    let windows = out_size(padding, size, filter, stride, 1);
    padding_before(size, filter, stride, 1, windows)
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn padding_is_the_convolutions_over_the_output() {
        // SAME, stride 2, 3x3: an 8-wide output reads 4 windows; total padding 1, none before.
        assert_eq!(cut_before(Padding::Same, 8, 3, 2), 0);
        // SAME, stride 1, 3x3: one before.
        assert_eq!(cut_before(Padding::Same, 5, 3, 1), 1);
        // SAME, stride 2, 4x4: 8 wide, 4 windows, total 2, one before.
        assert_eq!(cut_before(Padding::Same, 8, 4, 2), 1);
        // VALID never cuts.
        assert_eq!(cut_before(Padding::Valid, 9, 3, 2), 0);
    }

    #[test]
    fn float_activation_and_channels_are_checked() {
        use super::super::test_models::{const_i32, const_typed, float, run};
        use crate::ir::{Activation, OpKind};
        let tconv = |activation: Activation, filter: &[usize], out_shape: &[i32]| {
            let o = TransposeConvOptions {
                padding: Padding::Same,
                stride_w: 2,
                stride_h: 2,
                activation,
            };
            let n = filter.iter().product();
            let tensors = vec![
                const_i32(out_shape),
                const_typed(DType::F32, filter, &vec![0; n]),
                float(&[1, 3, 4, 2]),
                float(&[1, 6, 8, 5]),
            ];
            run(
                OpKind::TransposeConv(o),
                "TRANSPOSE_CONV",
                tensors,
                &[0, 1, 2],
                3,
            )
        };
        let Ok(Kernel::TransposeConvF32(p, _)) =
            tconv(Activation::None, &[5, 3, 3, 2], &[1, 6, 8, 5])
        else {
            panic!("no float TRANSPOSE_CONV")
        };
        assert_eq!((p.shape.pad_top, p.shape.pad_left), (0, 0));
        let err = tconv(Activation::Relu, &[5, 3, 3, 2], &[1, 6, 8, 5]).unwrap_err();
        assert!(err.contains("supports only none"), "{err}");
        let err = tconv(Activation::None, &[5, 3, 3, 3], &[1, 6, 8, 5]).unwrap_err();
        assert!(err.contains("do not match"), "{err}");
        let err = tconv(Activation::None, &[5, 3, 3, 2], &[1, 6, 9, 5]).unwrap_err();
        assert!(err.contains("output shape"), "{err}");
    }
}
