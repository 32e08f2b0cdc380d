//! Data movement: RESHAPE into a graph output ([`copy`]), PAD, CONCATENATION, and
//! STRIDED_SLICE / TRANSPOSE as an affine [`gather`].

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
    /// The value written into the padding.
    pub value: i8,
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
        pad(&p, p.value, &[1, 2, 3, 4], &mut out);
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
}
