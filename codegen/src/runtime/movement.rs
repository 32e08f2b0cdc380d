//! Data movement: every operator that only copies elements, through a few shared index maps.
//!
//! - [`copy`]: RESHAPE into a graph output;
//! - [`pad`], [`concat_part`]: PAD, CONCATENATION (and PACK);
//! - [`gather`], an affine index: STRIDED_SLICE, SLICE, TRANSPOSE, SPACE_TO_DEPTH,
//!   DEPTH_TO_SPACE, REVERSE_V2, BROADCAST_TO;
//! - [`table_gather`], one index table per output axis: MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR,
//!   SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND;
//! - [`gather_rows`], indices read at run time: GATHER, GATHER_ND;
//! - [`fill_with`]: FILL, ZEROS_LIKE.

use super::*;

/// Copies `input` into `output` (RESHAPE into a graph output).
#[inline(always)]
pub fn copy<T: Copy>(input: &[T], output: &mut [T]) {
    for (o, i) in output.iter_mut().zip(input) {
        *o = *i;
    }
}

/// CAST: each element converted by `convert` (the generated code passes `|x| x as T`, C's
/// `static_cast` between integer types).
#[inline(always)]
pub fn cast<A: Copy, B>(input: &[A], output: &mut [B], convert: impl Fn(A) -> B) {
    for (o, &i) in output.iter_mut().zip(input) {
        *o = convert(i);
    }
}

/// Per-layer constants of PAD/PADV2 (up to 5 dimensions, 1-padded in front).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pad {
    /// Output dimensions.
    pub out_dims: [usize; 5],
    /// Padding before the input along each axis.
    pub before: [usize; 5],
    /// Input dimensions.
    pub in_dims: [usize; 5],
    /// The value written into the padding (of the element type).
    pub value: i32,
}

/// PAD: copies the input into the middle of the output, fills the rest with `value`
/// (TFLite reference `PadImpl`).
#[inline(always)]
pub fn pad<T: Copy>(p: &Pad, value: T, input: &[T], output: &mut [T]) {
    let mut index = [0usize; 5];
    let mut next = input.iter();
    for o in output.iter_mut() {
        let inside = index
            .iter()
            .zip(&p.before)
            .zip(&p.in_dims)
            .all(|((&i, &b), &n)| i >= b && i - b < n);
        *o = if inside {
            next.next().copied().unwrap_or(value)
        } else {
            value
        };
        next_index(&mut index, &p.out_dims);
    }
}

/// One input's part of a CONCATENATION: `outer` blocks of `copy` elements, the k-th going
/// to `k * out_stride + offset` in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcatPart {
    /// Product of the dimensions before the axis.
    pub outer: usize,
    /// This input's elements per block (its axis size times the inner size).
    pub copy: usize,
    /// The output's elements per block.
    pub out_stride: usize,
    /// Where this input's block starts within an output block.
    pub offset: usize,
}

/// Copies one input of a CONCATENATION into place (TFLite reference `Concatenation`: a raw
/// copy, whatever the inputs' quantization).
#[inline(always)]
pub fn concat_part<T: Copy>(p: &ConcatPart, input: &[T], output: &mut [T]) {
    for (k, chunk) in input.chunks_exact(p.copy.max(1)).take(p.outer).enumerate() {
        let start = k.wrapping_mul(p.out_stride).wrapping_add(p.offset);
        if let Some(dst) = output.get_mut(start..start.wrapping_add(chunk.len())) {
            copy(chunk, dst);
        }
    }
}

/// A gather with an affine index, for STRIDED_SLICE and TRANSPOSE: output element
/// `(i0, .., i5)` (row-major over `dims`) is input element `base + sum(ik * strides[k])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gather {
    /// Output dimensions (1-padded in front).
    pub dims: [usize; 6],
    /// Input element step along each output axis (negative for reversed slices).
    pub strides: [isize; 6],
    /// Input element of output element 0.
    pub base: isize,
}

/// STRIDED_SLICE / TRANSPOSE (TFLite reference `StridedSlice`, `Transpose`).
#[inline(always)]
pub fn gather<T: Copy>(p: &Gather, input: &[T], output: &mut [T]) {
    let mut index = [0usize; 6];
    for o in output.iter_mut() {
        let mut at = p.base;
        for (&i, &s) in index.iter().zip(&p.strides) {
            at = at.wrapping_add((i as isize).wrapping_mul(s));
        }
        if let Some(&v) = usize::try_from(at).ok().and_then(|at| input.get(at)) {
            *o = v;
        }
        next_index(&mut index, &p.dims);
    }
}

/// A gather through one table per output axis, for the index maps that are not affine
/// (MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND): output
/// element `(i0, .., i5)` (row-major over `dims`) is input element
/// `tables[starts[0] + i0] + .. + tables[starts[5] + i5]`, or the outside value when one of
/// those entries is negative (a position in padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableGather {
    /// Output dimensions (1-padded in front).
    pub dims: [usize; 6],
    /// Where each axis's table starts in the tables.
    pub starts: [usize; 6],
}

/// Writes `output` as consecutive parts, each a [`TableGather`] over the shared `tables`
/// (one part for most operators; SPACE_TO_BATCH_ND has one per block position).
#[inline(always)]
pub fn table_gather<T: Copy>(
    parts: &[TableGather],
    tables: &[i32],
    outside: T,
    input: &[T],
    output: &mut [T],
) {
    let mut out = output.iter_mut();
    for p in parts {
        let entry = |axis: usize, i: usize| -> i32 {
            p.starts
                .get(axis)
                .and_then(|&s| tables.get(s.wrapping_add(i)))
                .copied()
                .unwrap_or(-1)
        };
        // The outer five axes pick a row start; the last one walks the row, a plain run of
        // the input when its table is 0, 1, 2, .. (channels, mostly).
        let mut rows = p.dims;
        rows[5] = 1;
        let row_count: usize = rows.iter().product();
        let run = p.dims[5];
        let contiguous = (0..run).all(|i| usize::try_from(entry(5, i)).ok() == Some(i));
        let mut index = [0usize; 6];
        for _ in 0..row_count {
            let mut start = 0i32;
            let mut inside = true;
            for (axis, &i) in index.iter().enumerate().take(5) {
                let e = entry(axis, i);
                inside &= e >= 0;
                start = start.wrapping_add(e);
            }
            let from = usize::try_from(start).ok().filter(|_| inside);
            let src = from.and_then(|at| input.get(at..at.wrapping_add(run)));
            if let (true, Some(src)) = (contiguous, src) {
                // `src` first: the zip stops at its end without taking another output.
                for (&v, o) in src.iter().zip(out.by_ref()) {
                    *o = v;
                }
                next_index(&mut index, &rows);
                continue;
            }
            for i in 0..run {
                let e = entry(5, i);
                let v = if inside && e >= 0 {
                    usize::try_from(start.wrapping_add(e))
                        .ok()
                        .and_then(|at| input.get(at))
                        .copied()
                        .unwrap_or(outside)
                } else {
                    outside
                };
                if let Some(o) = out.next() {
                    *o = v;
                }
            }
            next_index(&mut index, &rows);
        }
    }
}

/// Copies of `inner` elements chosen by indices read at run time (GATHER, GATHER_ND): for
/// each batch `b`, outer block `o` and index row `r`, the output's next `inner` elements come
/// from input element `b * batch_stride + o * outer_stride + sum(index[d] * strides[d])`,
/// where `index` is row `b * rows + r` of `depth` indices. A row with an index outside
/// `0..bounds[d]` is written with the outside value (TFLM stops with an error there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatherRows {
    /// Batches (GATHER's `batch_dims` dimensions).
    pub batches: usize,
    /// Blocks per batch (the dimensions between the batch and the gathered axis).
    pub outer: usize,
    /// Index rows per batch.
    pub rows: usize,
    /// Indices per row (1 for GATHER).
    pub depth: usize,
    /// Elements copied per index row.
    pub inner: usize,
    /// Input elements per batch.
    pub batch_stride: usize,
    /// Input elements per outer block.
    pub outer_stride: usize,
    /// Input elements per step of each index.
    pub strides: [usize; 5],
    /// The size of the axis each index picks from.
    pub bounds: [usize; 5],
}

/// Shapes of an EMBEDDING_LOOKUP of an int8 table into float32 (TFLM's hybrid lookup).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmbeddingDequantized {
    /// Rows of the table.
    pub table_rows: usize,
    /// Elements per row.
    pub row_len: usize,
    /// The table's scale (its zero point is 0).
    pub scale: f32,
}

/// EMBEDDING_LOOKUP of an int8 table into float32 (TFLM's `EvalHybrid`): each row picked by
/// an id, each value `q · scale`. TFLM fails on an id outside the table; its row is zeros
/// here.
#[inline(always)]
pub fn embedding_lookup_dequantized(
    p: &EmbeddingDequantized,
    table: &[i8],
    ids: &[i32],
    output: &mut [f32],
) {
    for (&id, row) in ids.iter().zip(output.chunks_exact_mut(p.row_len.max(1))) {
        let source = usize::try_from(id)
            .ok()
            .filter(|&r| r < p.table_rows)
            .and_then(|r| table.get(r * p.row_len..(r + 1) * p.row_len));
        match source {
            Some(values) => {
                for (o, &q) in row.iter_mut().zip(values) {
                    *o = q as i32 as f32 * p.scale;
                }
            }
            None => row.fill(0.0),
        }
    }
}

/// GATHER / GATHER_ND (TFLM `Gather`, `GatherNd`).
#[inline(always)]
pub fn gather_rows<T: Copy>(
    p: &GatherRows,
    outside: T,
    input: &[T],
    indices: &[i32],
    output: &mut [T],
) {
    let inner = p.inner.max(1);
    let mut chunks = output.chunks_exact_mut(inner);
    for b in 0..p.batches {
        for o in 0..p.outer {
            for r in 0..p.rows {
                let row = b.wrapping_mul(p.rows).wrapping_add(r);
                let picks = indices.get(row.wrapping_mul(p.depth)..).unwrap_or(&[]);
                let mut at = Some(
                    b.wrapping_mul(p.batch_stride)
                        .wrapping_add(o.wrapping_mul(p.outer_stride)),
                );
                for d in 0..p.depth {
                    let pick = picks.get(d).and_then(|&i| usize::try_from(i).ok());
                    at = match (at, pick, p.bounds.get(d), p.strides.get(d)) {
                        (Some(at), Some(i), Some(&n), Some(&s)) if i < n => {
                            Some(at.wrapping_add(i.wrapping_mul(s)))
                        }
                        _ => None,
                    };
                }
                let Some(dst) = chunks.next() else {
                    return;
                };
                match at.and_then(|at| input.get(at..at.wrapping_add(inner))) {
                    Some(src) => copy(src, dst),
                    None => fill_with(outside, dst),
                }
            }
        }
    }
}

/// Writes `value` into every element of `output` (FILL, ZEROS_LIKE).
#[inline(always)]
pub fn fill_with<T: Copy>(value: T, output: &mut [T]) {
    for o in output.iter_mut() {
        *o = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_converts_as_c() {
        let mut out = [0i32; 3];
        cast(&[u32::MAX, 7, 1 << 31], &mut out, |x| x as i32);
        assert_eq!(out, [-1, 7, i32::MIN]);
        let mut narrow = [0i8; 2];
        cast(&[300i32, -129], &mut narrow, |x| x as i8);
        assert_eq!(narrow, [44, 127]);
    }

    #[test]
    fn data_movement() {
        // PAD [2, 2] by one row before and one column after, value 9
        let p = Pad {
            out_dims: [1, 1, 1, 3, 3],
            before: [0, 0, 0, 1, 0],
            in_dims: [1, 1, 1, 2, 2],
            value: 9,
        };
        let mut out = [0i8; 9];
        pad(&p, p.value as i8, &[1, 2, 3, 4], &mut out);
        assert_eq!(out, [9, 9, 9, 1, 2, 9, 3, 4, 9]);
        // TRANSPOSE [2, 3] -> [3, 2]
        let t = Gather {
            dims: [1, 1, 1, 1, 3, 2],
            strides: [0, 0, 0, 0, 1, 3],
            base: 0,
        };
        let mut out = [0i8; 6];
        gather(&t, &[1, 2, 3, 4, 5, 6], &mut out);
        assert_eq!(out, [1, 4, 2, 5, 3, 6]);
        // reversed slice of a row: [5, 3, 1] from [0..6)
        let s = Gather {
            dims: [1, 1, 1, 1, 1, 3],
            strides: [0, 0, 0, 0, 0, -2],
            base: 5,
        };
        let mut out = [0i8; 3];
        gather(&s, &[0, 1, 2, 3, 4, 5], &mut out);
        assert_eq!(out, [5, 3, 1]);
        // CONCATENATION of [2, 1] and [2, 2] along axis 1
        let mut out = [0i8; 6];
        let first = ConcatPart {
            outer: 2,
            copy: 1,
            out_stride: 3,
            offset: 0,
        };
        let second = ConcatPart {
            outer: 2,
            copy: 2,
            out_stride: 3,
            offset: 1,
        };
        concat_part(&first, &[1, 2], &mut out);
        concat_part(&second, &[3, 4, 5, 6], &mut out);
        assert_eq!(out, [1, 3, 4, 2, 5, 6]);
        // out-of-range regions are skipped, not a panic
        concat_part(&second, &[3, 4, 5, 6], &mut out[..2]);
        gather(&s, &[0, 1], &mut out);
    }

    #[test]
    fn table_gather_and_gather_rows() {
        // MIRROR_PAD REFLECT of [1, 2, 3] by 2 before, 1 after: row tables [2, 1, 0, 1, 2, 1]
        let p = TableGather {
            dims: [1, 1, 1, 1, 1, 6],
            starts: [0, 0, 0, 0, 0, 1],
        };
        let tables = [0, 2, 1, 0, 1, 2, 1];
        let mut out = [0i8; 6];
        table_gather(&[p], &tables, 9, &[1, 2, 3], &mut out);
        assert_eq!(out, [3, 2, 1, 2, 3, 2]);
        // a negative entry writes the outside value; two parts fill the output in turn
        let q = TableGather {
            dims: [1, 1, 1, 1, 2, 2],
            starts: [0, 0, 0, 0, 7, 9],
        };
        let tables = [0, 2, 1, 0, 1, 2, 1, -1, 2, 0, 1];
        let mut out = [0i8; 10];
        table_gather(&[p, q], &tables, 9, &[1, 2, 3, 4], &mut out);
        assert_eq!(out, [3, 2, 1, 2, 3, 2, 9, 9, 3, 4]);
        // a contiguous last axis copies runs: REVERSE of the rows of [3, 2], then a padded row
        let r = TableGather {
            dims: [1, 1, 1, 1, 4, 2],
            starts: [0, 0, 0, 0, 1, 5],
        };
        let tables = [0, 4, 2, 0, -1, 0, 1];
        let mut out = [0i8; 9];
        table_gather(&[r], &tables, 9, &[1, 2, 3, 4, 5, 6], &mut out);
        assert_eq!(out, [5, 6, 3, 4, 1, 2, 9, 9, 0]);
        // GATHER axis 1 of [2, 3] by [2, 0, 5]: the out-of-range index gives the outside value
        let g = GatherRows {
            batches: 1,
            outer: 2,
            rows: 3,
            depth: 1,
            inner: 1,
            batch_stride: 0,
            outer_stride: 3,
            strides: [1, 0, 0, 0, 0],
            bounds: [3, 0, 0, 0, 0],
        };
        let mut out = [0f32; 6];
        gather_rows(
            &g,
            -1.0,
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            &[2, 0, 5],
            &mut out,
        );
        assert_eq!(out, [3.0, 1.0, -1.0, 6.0, 4.0, -1.0]);
        // GATHER_ND rows of two indices into [2, 2, 2]: inner 2
        let nd = GatherRows {
            batches: 1,
            outer: 1,
            rows: 2,
            depth: 2,
            inner: 2,
            batch_stride: 0,
            outer_stride: 0,
            strides: [4, 2, 0, 0, 0],
            bounds: [2, 2, 0, 0, 0],
        };
        let mut out = [0i8; 4];
        gather_rows(&nd, 0, &[0, 1, 2, 3, 4, 5, 6, 7], &[1, 0, 0, 1], &mut out);
        assert_eq!(out, [4, 5, 2, 3]);
        fill_with(7, &mut out);
        assert_eq!(out, [7; 4]);
    }
}
