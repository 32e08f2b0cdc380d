//! What the data-movement operators share: their element-type check and the two index maps
//! they compile to, an affine [`rt::Gather`] and a per-axis [`rt::TableGather`].

use super::shapes::pad_front;
use crate::ir::{Tensor, TensorId};
use crate::prepare::{OpCx, ValidateError};
use crate::runtime as rt;

/// Most dimensions of a gather's output (both index maps are 6-D).
pub const MAX_RANK: usize = 6;

/// Requires `output` to have `shape`, which the operator's rule gives (`rule` says which).
pub fn expect_shape(
    cx: &OpCx,
    output: (TensorId, &Tensor),
    shape: &[usize],
    rule: &str,
) -> Result<(), ValidateError> {
    if output.1.shape == shape {
        Ok(())
    } else {
        Err(cx.err(format!(
            "output {} has shape {:?}; {rule} gives {shape:?}",
            cx.describe(output.0),
            output.1.shape
        )))
    }
}

/// The affine gather whose output has `dims` and whose input element steps by `strides[k]`
/// along output axis `k`, starting at `base` (at most [`MAX_RANK`] axes).
pub fn affine(
    cx: &OpCx,
    dims: &[usize],
    strides: &[isize],
    base: isize,
) -> Result<rt::Gather, ValidateError> {
    if dims.len() != strides.len() {
        return Err(cx.err("kiln bug: a gather's dimensions and steps differ in number"));
    }
    if dims.len() > MAX_RANK {
        return Err(cx.err(format!(
            "output has rank {}; kiln's {} supports at most {MAX_RANK}",
            dims.len(),
            cx.name
        )));
    }
    let mut d = [1; MAX_RANK];
    d.copy_from_slice(&pad_front(dims, MAX_RANK));
    let mut s = [0; MAX_RANK];
    s[MAX_RANK - strides.len()..].copy_from_slice(strides);
    Ok(rt::Gather {
        dims: d,
        strides: s,
        base,
    })
}

/// Per-axis tables of input offsets (a negative entry: outside the input), collected into
/// the parts of a [`rt::TableGather`] and their shared table.
#[derive(Default)]
pub struct Tables {
    /// The parts, in output order.
    pub parts: Vec<rt::TableGather>,
    /// Every part's tables, concatenated.
    pub tables: Vec<i32>,
}

impl Tables {
    /// Adds a part whose output axis `k` has `axes[k].len()` positions (at most
    /// [`MAX_RANK`] axes, 1-padded in front).
    pub fn part(&mut self, cx: &OpCx, axes: &[Vec<i32>]) -> Result<(), ValidateError> {
        if axes.len() > MAX_RANK {
            return Err(cx.err(format!(
                "output has rank {}; kiln's {} supports at most {MAX_RANK}",
                axes.len(),
                cx.name
            )));
        }
        let mut part = rt::TableGather {
            dims: [1; MAX_RANK],
            starts: [0; MAX_RANK],
        };
        // A padded axis reads entry 0 of a one-entry table: 0.
        let zero = self.offset_of(&[0]);
        part.starts = [zero; MAX_RANK];
        for (k, table) in axes.iter().enumerate() {
            let slot = MAX_RANK - axes.len() + k;
            part.dims[slot] = table.len();
            part.starts[slot] = self.offset_of(table);
        }
        self.parts.push(part);
        Ok(())
    }

    /// Where `table` starts in the shared tables: an earlier copy's start, or the end.
    fn offset_of(&mut self, table: &[i32]) -> usize {
        let found = (0..=self.tables.len().saturating_sub(table.len()))
            .find(|&at| self.tables.get(at..at + table.len()) == Some(table));
        found.unwrap_or_else(|| {
            let at = self.tables.len();
            self.tables.extend_from_slice(table);
            at
        })
    }
}

/// The input offsets of positions `0..n` along an axis with element stride `stride`, the
/// position mapped by `coord` (`None`: outside the input).
pub fn axis_table(n: usize, stride: usize, coord: impl Fn(usize) -> Option<usize>) -> Vec<i32> {
    (0..n)
        .map(|i| coord(i).map_or(-1, |c| (c * stride) as i32))
        .collect()
}
