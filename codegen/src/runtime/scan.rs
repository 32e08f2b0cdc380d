//! CUMSUM: running sums along one axis.

use super::*;

/// Per-layer constants of CUMSUM: the input as `[outer, depth, inner]` with the summed axis in
/// the middle, and (int8) TFLM's rescaling of every element to 20 more bits before summing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cumsum {
    /// Product of the dimensions before the axis.
    pub outer: usize,
    /// Length of the axis.
    pub depth: usize,
    /// Product of the dimensions after the axis.
    pub inner: usize,
    /// Each output leaves out its own element.
    pub exclusive: bool,
    /// Sums run from the end of the axis.
    pub reverse: bool,
    /// Int8: minus the input zero point.
    pub input_offset: i32,
    /// Int8: Q31 multiplier of the input rescaling.
    pub input_multiplier: i32,
    /// Int8: shift of the input rescaling (≤ 0).
    pub input_shift: i32,
    /// Int8: the output zero point.
    pub output_offset: i32,
    /// Int8: Q31 multiplier of the output rescaling.
    pub output_multiplier: i32,
    /// Int8: shift of the output rescaling (≤ 0).
    pub output_shift: i32,
}

/// Calls `f(input element, output element)` along each line of the summed axis, in summing
/// order, after `start()` at the start of each line.
#[inline(always)]
fn each_line<T: Copy, A>(
    p: &Cumsum,
    input: &[T],
    output: &mut [T],
    mut start: impl FnMut() -> A,
    mut f: impl FnMut(&mut A, T, &mut T),
) {
    let line = p.depth.wrapping_mul(p.inner);
    for o in 0..p.outer {
        for i in 0..p.inner {
            let mut acc = start();
            for k in 0..p.depth {
                let d = if p.reverse { p.depth - 1 - k } else { k };
                let at = o
                    .wrapping_mul(line)
                    .wrapping_add(d.wrapping_mul(p.inner))
                    .wrapping_add(i);
                if let (Some(&x), Some(y)) = (input.get(at), output.get_mut(at)) {
                    f(&mut acc, x, y);
                }
            }
        }
    }
}

/// Float32 CUMSUM (TFLM reference `CumSum`).
#[inline(always)]
pub fn cumsum_f32(p: &Cumsum, input: &[f32], output: &mut [f32]) {
    let exclusive = p.exclusive;
    each_line(
        p,
        input,
        output,
        || 0.0f32,
        |acc, x, y| {
            if exclusive {
                *y = *acc;
                *acc += x;
            } else {
                *acc += x;
                *y = *acc;
            }
        },
    );
}

/// Int8 CUMSUM (TFLM's quantized `CumSum`: the sum starts at the rescaled input offset, as
/// TFLM's does).
#[inline(always)]
pub fn cumsum_i8(p: &Cumsum, input: &[i8], output: &mut [i8]) {
    let scaled = |v: i32| {
        multiply_by_quantized_multiplier(v.wrapping_mul(1 << 20), p.input_multiplier, p.input_shift)
    };
    let start = scaled(p.input_offset);
    each_line(
        p,
        input,
        output,
        || start,
        |acc, x, y| {
            let term = scaled(p.input_offset.wrapping_add(x as i32));
            let sum = if p.exclusive {
                let before = *acc;
                *acc = acc.wrapping_add(term);
                before
            } else {
                *acc = acc.wrapping_add(term);
                *acc
            };
            let q = multiply_by_quantized_multiplier(sum, p.output_multiplier, p.output_shift)
                .wrapping_add(p.output_offset);
            *y = q.clamp(-128, 127) as i8;
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_sums_along_the_middle_axis() {
        // [2, 3, 1]: sums down each column of 3
        let mut p = Cumsum {
            outer: 2,
            depth: 3,
            inner: 1,
            exclusive: false,
            reverse: false,
            input_offset: 0,
            input_multiplier: 1 << 30,
            input_shift: 0,
            output_offset: 0,
            output_multiplier: 1 << 30,
            output_shift: -18,
        };
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut out = [0f32; 6];
        cumsum_f32(&p, &x, &mut out);
        assert_eq!(out, [1.0, 3.0, 6.0, 4.0, 9.0, 15.0]);
        p.exclusive = true;
        p.reverse = true;
        cumsum_f32(&p, &x, &mut out);
        assert_eq!(out, [5.0, 3.0, 0.0, 11.0, 6.0, 0.0]);
        // int8 at equal scales: x · 2^20 / 2, then / 2^20 · 2 (multipliers 1/2 and 2^-19)
        p.exclusive = false;
        p.reverse = false;
        let mut out = [0i8; 6];
        cumsum_i8(&p, &[1, 2, 3, 100, 100, -5], &mut out);
        assert_eq!(out, [1, 3, 6, 100, 127, 127]);
    }
}
