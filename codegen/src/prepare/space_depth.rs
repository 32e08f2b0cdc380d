//! SPACE_TO_DEPTH and DEPTH_TO_SPACE: int8 or float32, 4-D NHWC (TFLM `space_to_depth.cc`,
//! `depth_to_space.cc`), each a 6-D affine [`rt::gather`] over
//! `[batch, row, block row, column, block column, channel]` in some order.

use super::common::Prepared;
use super::movement::{affine, expect_shape};
use super::shapes::expect_same_dtype;
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// Validates a SPACE_TO_DEPTH: `block`×`block` pixel blocks become channels.
pub fn space_to_depth(cx: &OpCx, block: usize) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, input, output, &[DType::I8, DType::F32])?;
    cx.expect_rank(input, 4, "input")?;
    let &[b, h, w, c] = input.1.shape.as_slice() else {
        return Err(cx.err("input must have rank 4"));
    };
    if h % block != 0 || w % block != 0 {
        return Err(cx.err(format!(
            "input height {h} and width {w} must be multiples of block_size {block}"
        )));
    }
    let (oh, ow) = (h / block, w / block);
    expect_shape(
        cx,
        output,
        &[b, oh, ow, c * block * block],
        "SPACE_TO_DEPTH",
    )?;
    // Output [b, oh, ow, (dy, dx, c)] reads input [b, oh·block + dy, ow·block + dx, c].
    let dims = [b, oh, ow, block, block, c];
    let s = |v: usize| v as isize;
    let strides = [
        s(h * w * c),
        s(block * w * c),
        s(block * c),
        s(w * c),
        s(c),
        1,
    ];
    let g = affine(cx, &dims, &strides, 0)?;
    Ok((Kernel::Gather(g), vec![input.0], 0))
}

/// Validates a DEPTH_TO_SPACE: channels become `block`×`block` pixel blocks.
pub fn depth_to_space(cx: &OpCx, block: usize) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, input, output, &[DType::I8, DType::F32])?;
    cx.expect_rank(input, 4, "input")?;
    let &[b, h, w, c] = input.1.shape.as_slice() else {
        return Err(cx.err("input must have rank 4"));
    };
    if c % (block * block) != 0 {
        return Err(cx.err(format!(
            "input depth {c} must be a multiple of block_size² = {}",
            block * block
        )));
    }
    let oc = c / (block * block);
    expect_shape(cx, output, &[b, h * block, w * block, oc], "DEPTH_TO_SPACE")?;
    // Output [b, (y, dy), (x, dx), c] reads input [b, y, x, (dy, dx, c)].
    let dims = [b, h, block, w, block, oc];
    let s = |v: usize| v as isize;
    let strides = [s(h * w * c), s(w * c), s(block * oc), s(c), s(oc), 1];
    let g = affine(cx, &dims, &strides, 0)?;
    Ok((Kernel::Gather(g), vec![input.0], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn block_sizes_must_divide() {
        let s2d = |block: usize, out: &[usize]| {
            run(
                OpKind::SpaceToDepth { block_size: block },
                "SPACE_TO_DEPTH",
                vec![float(&[1, 4, 6, 3]), float(out)],
                &[0],
                1,
            )
        };
        assert!(s2d(2, &[1, 2, 3, 12]).is_ok());
        assert!(s2d(4, &[1, 1, 1, 48]).unwrap_err().contains("multiples"));
        assert!(s2d(2, &[1, 3, 2, 12])
            .unwrap_err()
            .contains("gives [1, 2, 3, 12]"));
        let d2s = |block: usize, out: &[usize]| {
            run(
                OpKind::DepthToSpace { block_size: block },
                "DEPTH_TO_SPACE",
                vec![int8(&[1, 2, 3, 8], 0.1, 0), int8(out, 0.1, 0)],
                &[0],
                1,
            )
        };
        assert!(d2s(2, &[1, 4, 6, 2]).is_ok());
        assert!(d2s(3, &[1, 6, 9, 1]).unwrap_err().contains("multiple"));
    }
}
