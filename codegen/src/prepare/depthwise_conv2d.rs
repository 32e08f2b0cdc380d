//! DEPTHWISE_CONV_2D: int8 (per-channel weights) or float32; depth multiplier >= 1, dilation.

use super::common::{float_conv, quantized_conv, Prepared};
use crate::ir::{DType, DepthwiseConv2dOptions, Tensor, TensorId};
use crate::prepare::quant::{out_size, padding_before};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Validates a DEPTHWISE_CONV_2D and computes its constants.
pub fn prepare(cx: &OpCx, o: &DepthwiseConv2dOptions) -> Prepared {
    let input = cx.input(0, "input")?;
    let filter = cx.input(1, "filter")?;
    let output = cx.output()?;
    let dtype = match input.1.dtype {
        DType::F32 | DType::I16 => input.1.dtype,
        _ => DType::I8,
    };
    let shape = geometry(cx, o, input, filter, output)?;
    let macs =
        (shape.batches * shape.out_h * shape.out_w * shape.out_c * shape.k_h * shape.k_w) as u64;
    if dtype == DType::I16 {
        use super::int16::{conv, ConvKind};
        let io = [input, filter, output];
        return conv(cx, io, shape, o.conv.activation, ConvKind::Depthwise, macs);
    }
    cx.expect_dtype(input, dtype, "input")?;
    cx.expect_dtype(filter, dtype, "filter")?;
    cx.expect_dtype(output, dtype, "output")?;
    if dtype == DType::F32 {
        let (params, w) = float_conv(cx, shape, o.conv.activation, filter.1)?;
        return Ok((Kernel::DepthwiseConv2dF32(params, w), vec![input.0], macs));
    }
    let (params, w) = quantized_conv(
        cx,
        [input, filter, output],
        shape,
        o.conv.activation,
        3,
        |i| i % shape.out_c,
    )?;
    Ok((Kernel::DepthwiseConv2d(params, w), vec![input.0], macs))
}

/// Checks ranks, the depth multiplier and the output shape; returns the layer's geometry.
fn geometry(
    cx: &OpCx,
    o: &DepthwiseConv2dOptions,
    input: (TensorId, &Tensor),
    filter: (TensorId, &Tensor),
    output: (TensorId, &Tensor),
) -> Result<rt::ConvShape, ValidateError> {
    let c = &o.conv;
    cx.expect_rank(input, 4, "input")?;
    cx.expect_rank(filter, 4, "filter")?;
    cx.expect_rank(output, 4, "output")?;
    cx.expect_const(filter, "filter")?;
    let (i, f, out) = (&input.1.shape, &filter.1.shape, &output.1.shape);
    let (batches, in_h, in_w, in_c) = (i[0], i[1], i[2], i[3]);
    let (k_h, k_w, out_c) = (f[1], f[2], f[3]);
    if f[0] != 1 {
        return Err(cx.err(format!("filter shape {f:?} must start with 1")));
    }
    if in_c == 0 || out_c % in_c != 0 {
        return Err(cx.err(format!(
            "filter has {out_c} channels, not a multiple of the input's {in_c}"
        )));
    }
    let depth_multiplier = out_c / in_c;
    if o.depth_multiplier != depth_multiplier {
        return Err(cx.err(format!(
            "depth_multiplier {} disagrees with the shapes ({in_c} input channels, {out_c} filter channels)",
            o.depth_multiplier
        )));
    }
    let out_h = out_size(c.padding, in_h, k_h, c.stride_h, c.dilation_h);
    let out_w = out_size(c.padding, in_w, k_w, c.stride_w, c.dilation_w);
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
        k_c: 1,
        stride_h: c.stride_h,
        stride_w: c.stride_w,
        dilation_h: c.dilation_h,
        dilation_w: c.dilation_w,
        pad_top: padding_before(in_h, k_h, c.stride_h, c.dilation_h, out_h),
        pad_left: padding_before(in_w, k_w, c.stride_w, c.dilation_w, out_w),
        depth_multiplier,
    })
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn depthwise_multiplier_must_agree_with_the_shapes() {
        let mut m = tiny_kws();
        let BuiltinOptions::DepthwiseConv2d {
            depth_multiplier, ..
        } = &mut m.operators[1].options
        else {
            panic!("op 1 is not a depthwise conv")
        };
        assert_eq!(*depth_multiplier, 1);
        *depth_multiplier = 2;
        expect_invalid(
            &serialize(&m),
            1,
            "DEPTHWISE_CONV_2D",
            &[
                "depth_multiplier 2 disagrees with the shapes",
                "8 input channels, 8 filter channels",
            ],
        );
    }
}
