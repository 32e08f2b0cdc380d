//! Comparisons into bool tensors (EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER,
//! GREATER_EQUAL), SELECT_V2 and the logical ops (LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT).

use super::*;

/// A comparison of two float32 (or same-quantized raw) tensors, zipped or broadcast
/// (TFLM `ComparisonImpl` / `BroadcastComparison4DSlowImpl`).
#[inline(always)]
pub fn compare<T: Copy>(
    bc: Option<&Broadcast>,
    input1: &[T],
    input2: &[T],
    output: &mut [bool],
    f: impl Fn(T, T) -> bool,
) {
    binary(bc, input1, input2, output, f);
}

/// Per-layer constants of an int8 comparison: each input rescaled to a common scale
/// (TFLM `ComparisonsPrepare`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompareI8 {
    /// Left shift of both offset inputs (8).
    pub left_shift: i32,
    /// `-input1_zero_point`.
    pub input1_offset: i32,
    /// `input1_scale` as a Q31 multiplier below one.
    pub input1_multiplier: i32,
    /// Its shift (`<= 0`).
    pub input1_shift: i32,
    /// `-input2_zero_point`.
    pub input2_offset: i32,
    /// `input2_scale` as a Q31 multiplier below one.
    pub input2_multiplier: i32,
    /// Its shift (`<= 0`).
    pub input2_shift: i32,
}

/// One int8 comparison operand rescaled (TFLite `MultiplyByQuantizedMultiplierSmallerThanOneExp`
/// of the offset value shifted left).
#[inline(always)]
pub fn compare_scaled(x: i8, offset: i32, left_shift: i32, multiplier: i32, shift: i32) -> i32 {
    let shifted = (x as i32 + offset).wrapping_mul(1 << (left_shift & 31));
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(shifted, multiplier),
        -shift,
    )
}

/// An int8 comparison on rescaled values (TFLM `ComparisonWithScaling` /
/// `BroadcastComparison4DSlowWithScaling`).
#[inline(always)]
pub fn compare_i8(
    p: &CompareI8,
    bc: Option<&Broadcast>,
    input1: &[i8],
    input2: &[i8],
    output: &mut [bool],
    f: impl Fn(i32, i32) -> bool,
) {
    binary(bc, input1, input2, output, |a, b| {
        f(
            compare_scaled(
                a,
                p.input1_offset,
                p.left_shift,
                p.input1_multiplier,
                p.input1_shift,
            ),
            compare_scaled(
                b,
                p.input2_offset,
                p.left_shift,
                p.input2_multiplier,
                p.input2_shift,
            ),
        )
    });
}

/// Broadcasting of SELECT_V2's three inputs to its output (up to 6 dimensions; element
/// strides, 0 along a broadcast axis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Broadcast3 {
    /// Output dimensions, outermost first.
    pub dims: [usize; 6],
    /// Element strides of the condition.
    pub strides_condition: [usize; 6],
    /// Element strides of `x`.
    pub strides_x: [usize; 6],
    /// Element strides of `y`.
    pub strides_y: [usize; 6],
}

/// SELECT_V2: `condition ? x : y` per element, on the raw values (TFLM `Select` /
/// `BroadcastSelect5DSlow`).
#[inline(always)]
pub fn select<T: Copy>(
    bc: Option<&Broadcast3>,
    condition: &[bool],
    x: &[T],
    y: &[T],
    output: &mut [T],
) {
    match bc {
        None => {
            for (((o, &c), &a), &b) in output.iter_mut().zip(condition).zip(x).zip(y) {
                *o = if c { a } else { b };
            }
        }
        Some(bc) => {
            let mut index = [0usize; 6];
            for o in output.iter_mut() {
                let c = condition.get(offset_of(&index, &bc.strides_condition));
                let a = x.get(offset_of(&index, &bc.strides_x));
                let b = y.get(offset_of(&index, &bc.strides_y));
                if let (Some(&c), Some(&a), Some(&b)) = (c, a, b) {
                    *o = if c { a } else { b };
                }
                next_index(&mut index, &bc.dims);
            }
        }
    }
}

/// LOGICAL_AND (`and`) or LOGICAL_OR of two bool tensors, zipped or broadcast.
#[inline(always)]
pub fn logical(
    bc: Option<&Broadcast>,
    and: bool,
    input1: &[bool],
    input2: &[bool],
    output: &mut [bool],
) {
    binary(bc, input1, input2, output, |a, b| {
        if and {
            a && b
        } else {
            a || b
        }
    });
}

/// LOGICAL_NOT.
#[inline(always)]
pub fn logical_not(input: &[bool], output: &mut [bool]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = !x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_select_and_logic() {
        let mut out = [false; 3];
        compare(
            None,
            &[1.0f32, 2.0, 3.0],
            &[2.0, 2.0, 2.0],
            &mut out,
            |a, b| a < b,
        );
        assert_eq!(out, [true, false, false]);
        // 0.5 · (q - 0) against 0.25 · (q - 0): 2 vs 4, 1 vs 2, 2 vs 3 in real terms.
        let p = CompareI8 {
            left_shift: 8,
            input1_offset: 0,
            input1_multiplier: 1 << 30,
            input1_shift: 0,
            input2_offset: 0,
            input2_multiplier: 1 << 30,
            input2_shift: -1,
        };
        compare_i8(&p, None, &[4, 2, 4], &[16, 4, 12], &mut out, |a, b| a == b);
        assert_eq!(out, [false, true, false]);
        let bc = Broadcast {
            dims: [1, 1, 1, 1, 1, 3],
            strides1: [0, 0, 0, 0, 0, 1],
            strides2: [0; 6],
        };
        compare(Some(&bc), &[1i8, 5, 3], &[3], &mut out, |a, b| a >= b);
        assert_eq!(out, [false, true, true]);
        let mut picked = [0i8; 3];
        select(
            None,
            &[true, false, true],
            &[1, 2, 3],
            &[-1, -2, -3],
            &mut picked,
        );
        assert_eq!(picked, [1, -2, 3]);
        let bc3 = Broadcast3 {
            dims: [1, 1, 1, 1, 1, 3],
            strides_condition: [0; 6],
            strides_x: [0, 0, 0, 0, 0, 1],
            strides_y: [0; 6],
        };
        select(Some(&bc3), &[false], &[1, 2, 3], &[9], &mut picked);
        assert_eq!(picked, [9, 9, 9]);
        logical(
            None,
            true,
            &[true, true, false],
            &[true, false, false],
            &mut out,
        );
        assert_eq!(out, [true, false, false]);
        logical(
            None,
            false,
            &[true, true, false],
            &[true, false, false],
            &mut out,
        );
        assert_eq!(out, [true, true, false]);
        logical_not(&[true, false, false], &mut out);
        assert_eq!(out, [false, true, true]);
    }
}
