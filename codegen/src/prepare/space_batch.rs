//! SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND: int8 or float32, 3-D (NHC) or 4-D (NHWC), constant
//! int32 block shape and paddings / crops (TFLM `space_to_batch_nd.cc`,
//! `batch_to_space_nd.cc`), each a [`rt::table_gather`]. SPACE_TO_BATCH_ND runs one part per
//! block position (the batches it writes in turn), since whether a row is padding depends on
//! both the block row and the output row. Padding is a raw 0, as TFLM writes it (its
//! `pad_value` is never set to the output zero point), so int8 padding is not a real 0 when
//! the zero point is not.

use super::common::Prepared;
use super::movement::{axis_table, expect_shape, Tables};
use super::shapes::const_i32;
use super::shapes::expect_same_dtype;
use crate::ir::{DType, Tensor, TensorId};
use crate::prepare::{Kernel, OpCx, ValidateError};

/// The operands, as 4-D NHWC: input shape, block `[h, w]`, the `[top, bottom, left, right]`
/// paddings or crops.
struct Geometry {
    input: TensorId,
    shape: [usize; 4],
    block: [usize; 2],
    edges: [usize; 4],
}

/// Reads and checks the operands (`what`: "paddings" or "crops").
fn geometry<'g>(
    cx: &OpCx<'g>,
    what: &str,
) -> Result<(Geometry, (TensorId, &'g Tensor)), ValidateError> {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, input, output, &[DType::I8, DType::F32])?;
    let s = &input.1.shape;
    let spatial = match s.len() {
        3 => 1,
        4 => 2,
        r => {
            return Err(cx.err(format!(
                "input {} has rank {r}; TFLM supports 3-D (NHC) and 4-D (NHWC)",
                cx.describe(input.0)
            )))
        }
    };
    let (_, _, block) = const_i32(cx, 1, "block_shape")?;
    let (_, _, edges) = const_i32(cx, 2, what)?;
    if block.len() != spatial || block.iter().any(|&b| b < 1) {
        return Err(cx.err(format!(
            "block_shape {block:?} must hold {spatial} positive values"
        )));
    }
    if edges.len() != 2 * spatial || edges.iter().any(|&e| e < 0) {
        return Err(cx.err(format!(
            "{what} {edges:?} must hold {} values, none negative",
            2 * spatial
        )));
    }
    let u = |v: i32| v as usize;
    let g = if spatial == 2 {
        Geometry {
            input: input.0,
            shape: [s[0], s[1], s[2], s[3]],
            block: [u(block[0]), u(block[1])],
            edges: [u(edges[0]), u(edges[1]), u(edges[2]), u(edges[3])],
        }
    } else {
        Geometry {
            input: input.0,
            shape: [s[0], s[1], 1, s[2]],
            block: [u(block[0]), 1],
            edges: [u(edges[0]), u(edges[1]), 0, 0],
        }
    };
    Ok((g, output))
}

/// `shape` (NHWC) in the operator's own rank: 3-D drops the width.
fn own_rank(shape: [usize; 4], rank: usize) -> Vec<usize> {
    if rank == 3 {
        vec![shape[0], shape[1], shape[3]]
    } else {
        shape.to_vec()
    }
}

/// Validates a SPACE_TO_BATCH_ND and computes its parts.
pub fn space_to_batch(cx: &OpCx) -> Prepared {
    let (g, output) = geometry(cx, "paddings")?;
    let [b, h, w, c] = g.shape;
    let [bh, bw] = g.block;
    let [top, bottom, left, right] = g.edges;
    let (ph, pw) = (h + top + bottom, w + left + right);
    if ph % bh != 0 || pw % bw != 0 {
        return Err(cx.err(format!(
            "padded size {ph}×{pw} is not a multiple of the block {bh}×{bw}"
        )));
    }
    let (oh, ow) = (ph / bh, pw / bw);
    let rank = output.1.shape.len();
    expect_shape(
        cx,
        output,
        &own_rank([b * bh * bw, oh, ow, c], rank),
        "SPACE_TO_BATCH_ND",
    )?;
    // Output batch (dy·bw + dx)·b + n holds input rows oy·bh + dy − top, columns likewise.
    let mut t = Tables::default();
    for dy in 0..bh {
        for dx in 0..bw {
            let inside = |o: usize, d: usize, block: usize, before: usize, n: usize| {
                (o * block + d).checked_sub(before).filter(|&i| i < n)
            };
            let axes = [
                axis_table(b, h * w * c, Some),
                axis_table(oh, w * c, |y| inside(y, dy, bh, top, h)),
                axis_table(ow, c, |x| inside(x, dx, bw, left, w)),
                axis_table(c, 1, Some),
            ];
            t.part(cx, &axes)?;
        }
    }
    let kernel = Kernel::TableGather {
        parts: t.parts,
        tables: t.tables,
        outside: 0,
    };
    Ok((kernel, vec![g.input], 0))
}

/// Validates a BATCH_TO_SPACE_ND and computes its tables.
pub fn batch_to_space(cx: &OpCx) -> Prepared {
    let (g, output) = geometry(cx, "crops")?;
    let [b, h, w, c] = g.shape;
    let [bh, bw] = g.block;
    let [top, bottom, left, right] = g.edges;
    if b % (bh * bw) != 0 || top + bottom > h * bh || left + right > w * bw {
        return Err(cx.err(format!(
            "input {:?} does not split into blocks {bh}×{bw} with crops {:?}",
            g.shape, g.edges
        )));
    }
    let ob = b / (bh * bw);
    let (oh, ow) = (h * bh - top - bottom, w * bw - left - right);
    let rank = output.1.shape.len();
    expect_shape(
        cx,
        output,
        &own_rank([ob, oh, ow, c], rank),
        "BATCH_TO_SPACE_ND",
    )?;
    // Output row y comes from input row (y + top) / bh of the batches of block row
    // (y + top) % bh; both parts of the offset depend on y alone, so they add up.
    let image = h * w * c;
    let row = |y: usize| {
        let (r, d) = ((y + top) / bh, (y + top) % bh);
        Some(d * bw * ob * image + r * w * c)
    };
    let col = |x: usize| {
        let (r, d) = ((x + left) / bw, (x + left) % bw);
        Some(d * ob * image + r * c)
    };
    let axes = [
        axis_table(ob, image, Some),
        axis_table(oh, 1, row),
        axis_table(ow, 1, col),
        axis_table(c, 1, Some),
    ];
    let mut t = Tables::default();
    t.part(cx, &axes)?;
    let kernel = Kernel::TableGather {
        parts: t.parts,
        tables: t.tables,
        outside: 0,
    };
    Ok((kernel, vec![g.input], 0))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    fn with_shape(mut t: Tensor, shape: &[usize]) -> Tensor {
        t.shape = shape.to_vec();
        t
    }

    #[test]
    fn space_batch_rules() {
        let s2b = |paddings: &[i32], out: &[usize]| {
            run(
                OpKind::SpaceToBatchNd,
                "SPACE_TO_BATCH_ND",
                vec![
                    int8(&[1, 5, 4, 3], 0.1, 7),
                    const_i32(&[2, 2]),
                    with_shape(const_i32(paddings), &[2, 2]),
                    int8(out, 0.1, 7),
                ],
                &[0, 1, 2],
                3,
            )
        };
        let Ok(Kernel::TableGather { parts, outside, .. }) = s2b(&[1, 0, 0, 0], &[4, 3, 2, 3])
        else {
            panic!("not a table gather")
        };
        assert_eq!((parts.len(), outside), (4, 0));
        assert!(s2b(&[0, 0, 0, 0], &[4, 3, 2, 3])
            .unwrap_err()
            .contains("not a multiple"));
        let b2s = |crops: &[i32], out: &[usize]| {
            run(
                OpKind::BatchToSpaceNd,
                "BATCH_TO_SPACE_ND",
                vec![
                    float(&[4, 3, 2, 3]),
                    const_i32(&[2, 2]),
                    with_shape(const_i32(crops), &[2, 2]),
                    float(out),
                ],
                &[0, 1, 2],
                3,
            )
        };
        assert!(b2s(&[1, 0, 0, 0], &[1, 5, 4, 3]).is_ok());
        assert!(b2s(&[1, 0, 0, 0], &[1, 6, 4, 3])
            .unwrap_err()
            .contains("gives [1, 5, 4, 3]"));
    }
}
