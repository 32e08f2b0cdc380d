//! CUMSUM: int8 or float32, constant int32 axis (TFLM `cumsum.cc`). Int8 rescales every
//! element by half the input scale into 20 more bits, sums, and rescales to the output
//! (TFLM's constants, computed here in f64 as TFLM does).

use super::common::Prepared;
use super::movement::expect_shape;
use super::quant::quantize_multiplier_smaller_than_one;
use super::shapes::const_i32;
use super::shapes::expect_same_dtype;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// TFLM's `kCumSumIntegerShift`.
const LEFT_SHIFT: i32 = 20;

/// Validates a CUMSUM and computes its constants.
pub fn prepare(cx: &OpCx, exclusive: bool, reverse: bool) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    let dtype = expect_same_dtype(cx, input, output, &[DType::I8, DType::F32])?;
    let shape = &input.1.shape;
    expect_shape(cx, output, shape, "CUMSUM")?;
    let (axis_id, _, axis) = const_i32(cx, 1, "axis")?;
    let rank = shape.len() as i32;
    let a = match axis.as_slice() {
        [a] if *a < 0 => a + rank,
        [a] => *a,
        _ => return Err(cx.err(format!("axis {} must hold one value", cx.describe(axis_id)))),
    };
    if !(0..rank).contains(&a) {
        return Err(cx.err(format!("axis {} is out of range for rank {rank}", axis[0])));
    }
    let a = a as usize;
    let mut p = rt::Cumsum {
        outer: shape[..a].iter().product(),
        depth: shape[a],
        inner: shape[a + 1..].iter().product(),
        exclusive,
        reverse,
        input_offset: 0,
        input_multiplier: 0,
        input_shift: 0,
        output_offset: 0,
        output_multiplier: 0,
        output_shift: 0,
    };
    if dtype == DType::I8 {
        let (in_scale, in_zp) = cx.per_tensor(input, "input")?;
        let (out_scale, out_zp) = cx.per_tensor(output, "output")?;
        let twice_max = 2.0 * f64::from(in_scale);
        let input_real = f64::from(in_scale) / twice_max;
        let output_real = twice_max / (f64::from(1 << LEFT_SHIFT) * f64::from(out_scale));
        let small = |m: f64, what: &str| {
            quantize_multiplier_smaller_than_one(m).ok_or_else(|| {
                cx.err(format!(
                    "{what} multiplier {m} is not in (0, 1) (TFLM requires it)"
                ))
            })
        };
        (p.input_multiplier, p.input_shift) = small(input_real, "input")?;
        (p.output_multiplier, p.output_shift) = small(output_real, "output")?;
        p.input_offset = -in_zp;
        p.output_offset = out_zp;
    }
    let macs = input.1.elements() as u64;
    Ok((Kernel::Cumsum(p), vec![input.0], macs))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn cumsum_constants() {
        let cumsum = |axis: &[i32], out_scale: f32| {
            run(
                OpKind::Cumsum {
                    exclusive: false,
                    reverse: true,
                },
                "CUMSUM",
                vec![
                    int8(&[2, 3, 4], 0.1, -3),
                    const_i32(axis),
                    int8(&[2, 3, 4], out_scale, 5),
                ],
                &[0, 1],
                2,
            )
        };
        let Ok(Kernel::Cumsum(p)) = cumsum(&[-2], 0.3) else {
            panic!("not a cumsum")
        };
        assert_eq!((p.outer, p.depth, p.inner), (2, 3, 4));
        assert_eq!(
            (p.input_multiplier, p.input_shift, p.input_offset),
            (1 << 30, 0, 3)
        );
        assert_eq!(p.output_offset, 5);
        assert!(cumsum(&[3], 0.3).unwrap_err().contains("out of range"));
        assert!(cumsum(&[0, 1], 0.3).unwrap_err().contains("one value"));
    }
}
