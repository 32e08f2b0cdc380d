//! AVERAGE_POOL_2D and MAX_POOL_2D: int8 or int16 (input and output quantization equal) or
//! float32; L2_POOL_2D: float32.

use super::common::{float_activation_range, Prepared};
use super::int16::activation_range_i16;
use crate::ir::{DType, Pool2dOptions, Tensor, TensorId};
use crate::prepare::quant::{out_size, padding_before};
use crate::prepare::{Kernel, OpCx, ValidateError};
use crate::runtime as rt;

/// Validates a pooling op (`average` picks AVERAGE_POOL_2D) and computes its constants.
pub fn prepare(cx: &OpCx, o: &Pool2dOptions, average: bool) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    let dtype = match input.1.dtype {
        DType::F32 | DType::I16 => input.1.dtype,
        _ => DType::I8,
    };
    cx.expect_dtype(input, dtype, "input")?;
    cx.expect_dtype(output, dtype, "output")?;
    let window = window(cx, o, input, output)?;
    if dtype == DType::F32 {
        let (act_min, act_max) = float_activation_range(o.activation);
        let params = with_bounds(window, act_min, act_max);
        return Ok((Kernel::PoolF32 { params, average }, vec![input.0], 0));
    }
    let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
    let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
    if in_scale != out_scale || in_zp != out_zp {
        return Err(cx.err(format!(
            "input and output quantization must be equal (input scale {in_scale} zero point {in_zp}, output scale {out_scale} zero point {out_zp})"
        )));
    }
    if dtype == DType::I16 {
        let (act_min, act_max) = activation_range_i16(cx, o.activation, out_scale)?;
        let params = with_bounds(window, act_min, act_max);
        return Ok((Kernel::PoolI16 { params, average }, vec![input.0], 0));
    }
    let (act_min, act_max) = cx.activation_range(o.activation, out_scale, out_zp)?;
    let params = with_bounds(window, act_min, act_max);
    let kernel = if average {
        Kernel::AveragePool(params)
    } else {
        Kernel::MaxPool(params)
    };
    Ok((kernel, vec![input.0], 0))
}

/// Checks ranks and the output shape; returns the window (padding as TFLM computes it).
fn window(
    cx: &OpCx,
    o: &Pool2dOptions,
    input: (TensorId, &Tensor),
    output: (TensorId, &Tensor),
) -> Result<rt::Pool<()>, ValidateError> {
    cx.expect_rank(input, 4, "input")?;
    cx.expect_rank(output, 4, "output")?;
    let i = &input.1.shape;
    let (batches, in_h, in_w, channels) = (i[0], i[1], i[2], i[3]);
    let out_h = out_size(o.padding, in_h, o.filter_h, o.stride_h, 1);
    let out_w = out_size(o.padding, in_w, o.filter_w, o.stride_w, 1);
    let want = vec![batches, out_h, out_w, channels];
    if output.1.shape != want {
        return Err(cx.err(format!(
            "output {} has shape {:?}, but the window gives {want:?}",
            cx.describe(output.0),
            output.1.shape
        )));
    }
    let window = rt::Pool {
        batches,
        in_h,
        in_w,
        channels,
        out_h,
        out_w,
        filter_h: o.filter_h,
        filter_w: o.filter_w,
        stride_h: o.stride_h,
        stride_w: o.stride_w,
        pad_top: padding_before(in_h, o.filter_h, o.stride_h, 1, out_h),
        pad_left: padding_before(in_w, o.filter_w, o.stride_w, 1, out_w),
        act_min: (),
        act_max: (),
    };
    // A window that lies wholly in the padding has no cells: TFLM fails at run time.
    for (out, stride, pad, filter, size) in [
        (out_h, o.stride_h, window.pad_top, o.filter_h, in_h),
        (out_w, o.stride_w, window.pad_left, o.filter_w, in_w),
    ] {
        for k in 0..out {
            let origin = (k * stride) as isize - pad as isize;
            if origin + filter as isize <= 0 || origin >= size as isize {
                return Err(cx.err("a pooling window lies entirely in the padding"));
            }
        }
    }
    Ok(window)
}

/// Validates an L2_POOL_2D (float32 only, as in TFLM) and computes its constants.
pub fn l2(cx: &OpCx, o: &Pool2dOptions) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    if input.1.dtype != DType::F32 {
        return Err(cx.err(format!(
            "input {} is {}; TFLM's L2_POOL_2D supports only float32",
            cx.describe(input.0),
            input.1.dtype
        )));
    }
    cx.expect_dtype(output, DType::F32, "output")?;
    let window = window(cx, o, input, output)?;
    let (act_min, act_max) = float_activation_range(o.activation);
    let params = with_bounds(window, act_min, act_max);
    Ok((Kernel::L2PoolF32(params), vec![input.0], 0))
}

/// The window with its clamp bounds (int8 or float).
fn with_bounds<A>(w: rt::Pool<()>, act_min: A, act_max: A) -> rt::Pool<A> {
    rt::Pool {
        batches: w.batches,
        in_h: w.in_h,
        in_w: w.in_w,
        channels: w.channels,
        out_h: w.out_h,
        out_w: w.out_w,
        filter_h: w.filter_h,
        filter_w: w.filter_w,
        stride_h: w.stride_h,
        stride_w: w.stride_w,
        pad_top: w.pad_top,
        pad_left: w.pad_left,
        act_min,
        act_max,
    }
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn average_pool_input_and_output_quantization_must_match() {
        let mut m = tiny_kws();
        let out = op_output(&m, 2);
        let q = m.tensors[out].quantization.as_mut().unwrap();
        q.scale[0] *= 2.0;
        let doubled = q.scale[0];
        let msg = expect_invalid(
            &serialize(&m),
            2,
            "AVERAGE_POOL_2D",
            &["input and output quantization must be equal"],
        );
        assert!(msg.contains(&format!("output scale {doubled}")), "{msg}");

        // The zero point alone differing is caught too.
        let mut m = tiny_kws();
        let out = op_output(&m, 2);
        m.tensors[out].quantization.as_mut().unwrap().zero_point[0] += 1;
        expect_invalid(
            &serialize(&m),
            2,
            "AVERAGE_POOL_2D",
            &["input and output quantization must be equal"],
        );
    }
}
