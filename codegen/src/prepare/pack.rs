//! PACK: int8, int16 or float32 inputs of one shape stacked along a new axis (TFLM's `pack.cc`,
//! a raw copy: TFLM neither checks nor rescales the quantization, nor does kiln), run as a
//! CONCATENATION of the inputs along the new axis.

use super::common::Prepared;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// Validates a PACK along `axis` and computes one copy per input.
pub fn prepare(cx: &OpCx, axis: i32) -> Prepared {
    let output = cx.output()?;
    let dtype = output.1.dtype;
    if !matches!(dtype, DType::I8 | DType::I16 | DType::F32) {
        return Err(cx.err(format!(
            "output {} is {dtype}, but kiln supports only int8, int16 and float32 here",
            cx.describe(output.0)
        )));
    }
    let count = cx.input_count();
    let (first_id, first) = cx.input(0, "input")?;
    let rank = first.shape.len() + 1;
    let resolved = if axis < 0 { axis + rank as i32 } else { axis };
    if !(0..rank as i32).contains(&resolved) {
        return Err(cx.err(format!(
            "axis {axis} is out of range for a rank-{rank} output"
        )));
    }
    let axis = resolved as usize;
    let mut expected = first.shape.clone();
    expected.insert(axis, count);
    if output.1.shape != expected {
        return Err(cx.err(format!(
            "output {} has shape {:?}; packing {count} inputs {:?} along axis {axis} gives {expected:?}",
            cx.describe(output.0),
            output.1.shape,
            first.shape
        )));
    }
    let outer: usize = first.shape[..axis].iter().product();
    let copy: usize = first.shape[axis..].iter().product();
    let mut parts = Vec::with_capacity(count);
    let mut inputs = Vec::with_capacity(count);
    for slot in 0..count {
        let (id, t) = cx.input(slot, "input")?;
        cx.expect_dtype((id, t), dtype, "input")?;
        if t.shape != first.shape {
            return Err(cx.err(format!(
                "input {} has shape {:?}, input {} {:?}; PACK needs one shape",
                cx.describe(id),
                t.shape,
                cx.describe(first_id),
                first.shape
            )));
        }
        parts.push(rt::ConcatPart {
            outer,
            copy,
            out_stride: count * copy,
            offset: slot * copy,
        });
        inputs.push(id);
    }
    Ok((Kernel::Concatenation(parts), inputs, 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn pack_axis_and_shapes() {
        let pack = |axis: i32, b: &[usize], out: &[usize]| {
            run(
                OpKind::Pack { axis },
                "PACK",
                vec![int8(&[2, 3], 0.1, 0), int8(b, 0.1, 0), int8(out, 0.1, 0)],
                &[0, 1],
                2,
            )
        };
        let Ok(Kernel::Concatenation(parts)) = pack(-2, &[2, 3], &[2, 2, 3]) else {
            panic!("not a concatenation")
        };
        assert_eq!((parts[1].outer, parts[1].copy, parts[1].offset), (2, 3, 3));
        assert_eq!(parts[1].out_stride, 6);
        let err = pack(0, &[3, 2], &[2, 2, 3]).unwrap_err();
        assert!(err.contains("needs one shape"), "{err}");
        let err = pack(3, &[2, 3], &[2, 3, 2]).unwrap_err();
        assert!(err.contains("out of range"), "{err}");
    }
}
