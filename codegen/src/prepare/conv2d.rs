//! CONV_2D: int8 (per-channel or per-tensor weights) or float32; groups, dilation, fused
//! activation.

use super::common::{float_conv, quantized_conv, Prepared};
use crate::ir::{Arithmetic, Conv2dOptions, DType, Tensor, TensorId};
use crate::prepare::quant::{out_size, padding_before};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Validates a CONV_2D and computes its constants.
pub fn prepare(cx: &OpCx, o: &Conv2dOptions) -> Prepared {
    let input = cx.input(0, "input")?;
    let filter = cx.input(1, "filter")?;
    let output = cx.output()?;
    let dtype = match input.1.dtype {
        DType::F32 | DType::I16 => input.1.dtype,
        _ => DType::I8,
    };
    let shape = geometry(cx, o, input, filter, output)?;
    let macs = (shape.batches
        * shape.out_h
        * shape.out_w
        * shape.out_c
        * shape.k_h
        * shape.k_w
        * shape.k_c) as u64;
    if dtype == DType::I16 {
        use super::int16::{conv, ConvKind};
        let io = [input, filter, output];
        return conv(cx, io, shape, o.activation, ConvKind::Conv, macs);
    }
    if dtype == DType::I8 && cx.graph.arithmetic == Arithmetic::Onnxruntime {
        let io = [input, filter, output];
        return super::qlinear::conv(cx, io, shape, o.activation, macs);
    }
    cx.expect_dtype(input, dtype, "input")?;
    cx.expect_dtype(filter, dtype, "filter")?;
    cx.expect_dtype(output, dtype, "output")?;
    if dtype == DType::F32 {
        let (params, w) = float_conv(cx, shape, o.activation, filter.1)?;
        return Ok((Kernel::Conv2dF32(params, w), vec![input.0], macs));
    }
    let (params, w) = quantized_conv(cx, [input, filter, output], shape, o.activation, 0, |i| {
        i / (shape.k_h * shape.k_w * shape.k_c)
    })?;
    Ok((Kernel::Conv2d(params, w), vec![input.0], macs))
}

/// Checks ranks, groups and the output shape; returns the layer's geometry.
fn geometry(
    cx: &OpCx,
    o: &Conv2dOptions,
    input: (TensorId, &Tensor),
    filter: (TensorId, &Tensor),
    output: (TensorId, &Tensor),
) -> Result<rt::ConvShape, ValidateError> {
    cx.expect_rank(input, 4, "input")?;
    cx.expect_rank(filter, 4, "filter")?;
    cx.expect_rank(output, 4, "output")?;
    cx.expect_const(filter, "filter")?;
    let (i, f, out) = (&input.1.shape, &filter.1.shape, &output.1.shape);
    let (batches, in_h, in_w, in_c) = (i[0], i[1], i[2], i[3]);
    let (out_c, k_h, k_w, k_c) = (f[0], f[1], f[2], f[3]);
    if in_c == 0 || k_c == 0 || in_c % k_c != 0 {
        return Err(cx.err(format!(
            "input has {in_c} channels, not a multiple of the filter's {k_c}"
        )));
    }
    let groups = in_c / k_c;
    if out_c == 0 || out_c % groups != 0 {
        return Err(cx.err(format!(
            "{out_c} output channels do not split into {groups} groups"
        )));
    }
    let out_h = out_size(o.padding, in_h, k_h, o.stride_h, o.dilation_h);
    let out_w = out_size(o.padding, in_w, k_w, o.stride_w, o.dilation_w);
    if out != &vec![batches, out_h, out_w, out_c] {
        return Err(cx.err(format!(
            "output {} has shape {out:?}, but input {i:?}, filter {f:?}, strides and padding give {:?}",
            cx.describe(output.0),
            [batches, out_h, out_w, out_c]
        )));
    }
    Ok(rt::ConvShape {
        batches,
        in_h,
        in_w,
        in_c,
        out_h,
        out_w,
        out_c,
        k_h,
        k_w,
        k_c,
        stride_h: o.stride_h,
        stride_w: o.stride_w,
        dilation_h: o.dilation_h,
        dilation_w: o.dilation_w,
        pad_top: padding_before(in_h, k_h, o.stride_h, o.dilation_h, out_h),
        pad_left: padding_before(in_w, k_w, o.stride_w, o.dilation_w, out_w),
        depth_multiplier: 1,
    })
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn conv_output_shape_must_follow_strides_and_padding() {
        let mut m = tiny_kws();
        let BuiltinOptions::Conv2d {
            stride_w, stride_h, ..
        } = &mut m.operators[0].options
        else {
            panic!("op 0 is not a conv")
        };
        assert_eq!((*stride_h, *stride_w), (2, 2));
        (*stride_h, *stride_w) = (1, 1);
        let out = op_output(&m, 0);
        assert_eq!(m.tensors[out].shape, [1, 8, 5, 8]);
        expect_invalid(
            &serialize(&m),
            0,
            "CONV_2D",
            &[
                "has shape [1, 8, 5, 8]",
                "strides and padding give [1, 16, 10, 8]",
            ],
        );

        // The same check from the other side: the output tensor's shape is wrong.
        let mut m = tiny_kws();
        let out = op_output(&m, 0);
        m.tensors[out].shape = vec![1, 8, 6, 8];
        expect_invalid(
            &serialize(&m),
            0,
            "CONV_2D",
            &["has shape [1, 8, 6, 8]", "give [1, 8, 5, 8]"],
        );
    }

    #[test]
    fn per_channel_scale_count_must_match_output_channels() {
        // Caught by the reader: 7 scales along dimension 0 (8 output channels) of the filter.
        let mut m = tiny_kws();
        let f = op_input(&m, 0, 1);
        assert_eq!(m.tensors[f].shape, [8, 3, 3, 1]);
        let q = m.tensors[f].quantization.as_mut().unwrap();
        assert_eq!(q.scale.len(), 8);
        q.scale.pop();
        q.zero_point.pop();
        match crate::front::tflite::read(&serialize(&m)) {
            Err(e @ ReadError::InvalidQuantization { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(&format!("tensor {f} '"))
                        && text.contains(
                            "invalid quantization: 7 per-channel scales but dimension 0 of shape \
                             [8,3,3,1] is 8"
                        ),
                    "{text}"
                );
            }
            other => panic!("expected InvalidQuantization, got {:?}", other.err()),
        }

        // Caught by prepare: 3 scales along dimension 1 (consistent with the shape, so the
        // reader accepts it) but CONV_2D needs one per output channel along dimension 0.
        let mut m = tiny_kws();
        let q = m.tensors[f].quantization.as_mut().unwrap();
        q.scale.truncate(3);
        q.zero_point.truncate(3);
        q.quantized_dimension = 1;
        let msg = expect_invalid(
            &serialize(&m),
            0,
            "CONV_2D",
            &["per-channel along axis 1 with 3 scales"],
        );
        assert!(msg.contains("expected axis 0 with 8"), "{msg}");
    }
}
