//! MIRROR_PAD: int8 or float32, constant int32 paddings, REFLECT or SYMMETRIC (TFLM
//! `mirror_pad.cc`), run as a [`rt::table_gather`]: one table per axis of the input position
//! each padded position mirrors.

use super::common::Prepared;
use super::movement::{axis_table, expect_shape, Tables};
use super::shapes::expect_same_dtype;
use super::shapes::{const_i32, strides};
use crate::ir::DType;
use crate::prepare::{Kernel, OpCx};

/// TFLM's `GetInputDimension`: the input position padded position `i` mirrors (`offset` 1 for
/// REFLECT, which does not repeat the edge, 0 for SYMMETRIC).
fn mirrored(i: usize, before: usize, n: usize, offset: usize) -> usize {
    if i < before {
        let edge = before + offset - 1;
        return edge - i.min(edge - offset);
    }
    let i = i - before;
    if i >= n {
        let edge = n - (1 + offset);
        return edge - (i - n).min(edge);
    }
    i
}

/// Validates a MIRROR_PAD and computes its tables.
pub fn prepare(cx: &OpCx, symmetric: bool) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    expect_same_dtype(cx, input, output, &[DType::I8, DType::F32])?;
    let shape = &input.1.shape;
    let (pad_id, pad_t, paddings) = const_i32(cx, 1, "paddings")?;
    if pad_t.shape != [shape.len(), 2] {
        return Err(cx.err(format!(
            "paddings {} has shape {:?}; the rank-{} input needs [{}, 2]",
            cx.describe(pad_id),
            pad_t.shape,
            shape.len(),
            shape.len()
        )));
    }
    let offset = usize::from(!symmetric);
    let mut out_shape = Vec::with_capacity(shape.len());
    for (k, &n) in shape.iter().enumerate() {
        let (lo, hi) = (paddings[2 * k], paddings[2 * k + 1]);
        // TF's rule; past it TFLM would read outside the input.
        let most = n as i64 - offset as i64;
        if lo < 0 || hi < 0 || i64::from(lo.max(hi)) > most {
            return Err(cx.err(format!(
                "padding ({lo}, {hi}) on axis {k} of size {n}: each side must be in 0..={most} for {}",
                if symmetric { "SYMMETRIC" } else { "REFLECT" }
            )));
        }
        out_shape.push(n + lo as usize + hi as usize);
    }
    expect_shape(cx, output, &out_shape, "padding the input")?;
    let in_strides = strides(shape);
    let axes: Vec<Vec<i32>> = (0..shape.len())
        .map(|k| {
            let before = paddings[2 * k] as usize;
            axis_table(out_shape[k], in_strides[k], |i| {
                Some(mirrored(i, before, shape[k], offset))
            })
        })
        .collect();
    let mut t = Tables::default();
    t.part(cx, &axes)?;
    let kernel = Kernel::TableGather {
        parts: t.parts,
        tables: t.tables,
        outside: 0,
    };
    Ok((kernel, vec![input.0], 0))
}

#[cfg(test)]
mod tests {
    use super::mirrored;

    #[test]
    fn reflect_and_symmetric() {
        // [a b c] padded by 2 | 2: REFLECT c b | a b c | b a ; SYMMETRIC b a | a b c | c b
        let reflect: Vec<usize> = (0..7).map(|i| mirrored(i, 2, 3, 1)).collect();
        assert_eq!(reflect, [2, 1, 0, 1, 2, 1, 0]);
        let symmetric: Vec<usize> = (0..7).map(|i| mirrored(i, 2, 3, 0)).collect();
        assert_eq!(symmetric, [1, 0, 0, 1, 2, 2, 1]);
    }
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn mirror_pad_rules() {
        let pad = |symmetric: bool, paddings: &[i32], out: &[usize]| {
            let mut p = const_i32(paddings);
            p.shape = vec![2, 2];
            run(
                OpKind::MirrorPad { symmetric },
                "MIRROR_PAD",
                vec![float(&[3, 4]), p, float(out)],
                &[0, 1],
                2,
            )
        };
        assert!(pad(false, &[2, 2, 0, 3], &[7, 7]).is_ok());
        assert!(pad(false, &[3, 0, 0, 0], &[6, 4])
            .unwrap_err()
            .contains("0..=2"));
        assert!(pad(true, &[3, 0, 0, 0], &[6, 4]).is_ok());
        assert!(pad(true, &[1, 0, 0, 0], &[3, 4])
            .unwrap_err()
            .contains("gives [4, 4]"));
    }
}
