//! Int8 element-wise binary ops: ADD, SUB, MUL, with broadcasting up to 6-D.

use super::*;

/// Per-layer constants of int8 or int16 ADD (and SUB, SQUARED_DIFFERENCE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Add {
    /// `-input1_zero_point`.
    pub input1_offset: i32,
    /// `-input2_zero_point`.
    pub input2_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Both inputs are shifted left by this before rescaling (20 for int8, 15 for int16).
    pub left_shift: i32,
    /// Input 1 rescale multiplier (Q0.31, < 1).
    pub input1_multiplier: i32,
    /// Input 1 rescale shift (<= 0).
    pub input1_shift: i32,
    /// Input 2 rescale multiplier.
    pub input2_multiplier: i32,
    /// Input 2 rescale shift.
    pub input2_shift: i32,
    /// Output rescale multiplier.
    pub output_multiplier: i32,
    /// Output rescale shift.
    pub output_shift: i32,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

/// Int8 element-wise ADD of equally shaped tensors (TFLite `AddElementwise`).
#[inline(always)]
pub fn add(p: &Add, input1: &[i8], input2: &[i8], output: &mut [i8]) {
    for ((o, &a), &b) in output.iter_mut().zip(input1).zip(input2) {
        *o = add_sub_one(p, a as i32, b as i32, false);
    }
}

/// [`add`] with its output over input number `slot` (0 or 1), which `data` holds; `other` is
/// the other input. Element `i` is read before it is written, so nothing is read overwritten.
#[inline(always)]
pub fn add_in_place(p: &Add, data: &mut [i8], other: &[i8], slot: usize) {
    for (o, &x) in data.iter_mut().zip(other) {
        let (a, b) = if slot == 0 { (*o, x) } else { (x, *o) };
        *o = add_sub_one(p, a as i32, b as i32, false);
    }
}

/// Numpy-style broadcasting of two inputs to an output of up to 6 dimensions (leading
/// dimensions of size 1 pad lower ranks). Strides are in elements; 0 along a broadcast axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Broadcast {
    /// Output dimensions, outermost first.
    pub dims: [usize; 6],
    /// Element strides of the first input along each output axis.
    pub strides1: [usize; 6],
    /// Element strides of the second input along each output axis.
    pub strides2: [usize; 6],
}

/// Advances a row-major multi-index over `dims` by one element.
#[inline(always)]
pub fn next_index<const N: usize>(index: &mut [usize; N], dims: &[usize; N]) {
    for (i, &d) in index.iter_mut().zip(dims.iter()).rev() {
        *i += 1;
        if *i < d {
            return;
        }
        *i = 0;
    }
}

/// `sum(index[k] * strides[k])`.
#[inline(always)]
pub fn offset_of<const N: usize>(index: &[usize; N], strides: &[usize; N]) -> usize {
    let mut offset = 0usize;
    for (&i, &s) in index.iter().zip(strides.iter()) {
        offset = offset.wrapping_add(i.wrapping_mul(s));
    }
    offset
}

/// [`binary`] over int8 elements widened to `i32` for `f` (TFLite
/// `BroadcastBinaryOpSimple`; the per-element math is the same zipped or broadcast).
#[inline(always)]
pub fn binary_i8(
    bc: Option<&Broadcast>,
    input1: &[i8],
    input2: &[i8],
    output: &mut [i8],
    f: impl Fn(i32, i32) -> i8,
) {
    binary(bc, input1, input2, output, |a, b| f(a as i32, b as i32));
}

/// Float32 ADD_N (TFLM reference `AddN`): each output the sum of the inputs' elements, in
/// input order from 0.
#[inline(always)]
pub fn add_n_f32(inputs: &[&[f32]], output: &mut [f32]) {
    for (i, o) in output.iter_mut().enumerate() {
        let mut total = 0.0f32;
        for input in inputs {
            total += input.get(i).copied().unwrap_or(0.0);
        }
        *o = total;
    }
}

/// Per-layer constants of int8 ADD_N (TFLM's `add_n.cc`: all inputs share one quantization).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddN {
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// Q31 multiplier of each shifted input (one half).
    pub input_multiplier: i32,
    /// Its shift (at most 0).
    pub input_shift: i32,
    /// Q31 multiplier of the sum, `2 · input_scale / (2^20 · output_scale)`.
    pub output_multiplier: i32,
    /// Its shift (at most 0).
    pub output_shift: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
}

/// Int8 ADD_N (TFLM reference `AddN` for int8): each input shifted left by 20 and rescaled,
/// summed from the rescaled input offset (as TFLM starts its sum), rescaled to the output and
/// clamped to int8.
#[inline(always)]
pub fn add_n_i8(p: &AddN, inputs: &[&[i8]], output: &mut [i8]) {
    /// TFLM's `kAddNIntegerShift`.
    const SHIFT: i32 = 20;
    let rescale = |v: i32| {
        multiply_by_quantized_multiplier(
            v.wrapping_mul(1 << SHIFT),
            p.input_multiplier,
            p.input_shift,
        )
    };
    for (i, o) in output.iter_mut().enumerate() {
        let mut total = rescale(p.input_offset);
        for input in inputs {
            let q = input.get(i).map_or(0, |&q| q as i32);
            total = total.wrapping_add(rescale(p.input_offset + q));
        }
        let y = multiply_by_quantized_multiplier(total, p.output_multiplier, p.output_shift)
            .wrapping_add(p.output_offset);
        *o = y.clamp(-128, 127) as i8;
    }
}

/// Per-layer constants of int8 or int16 MUL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mul {
    /// `-input1_zero_point`.
    pub input1_offset: i32,
    /// `-input2_zero_point`.
    pub input2_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// `input1_scale * input2_scale / output_scale` as a Q31 multiplier.
    pub output_multiplier: i32,
    /// Its shift (positive = left).
    pub output_shift: i32,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

/// One int8 MUL element (TFLite `MulElementwise`).
#[inline(always)]
pub fn mul_one(p: &Mul, a: i32, b: i32) -> i8 {
    clamp_i8(mul_unclamped(p, a, b), p.act_min, p.act_max)
}

/// One MUL element before the clamp, for any integer input type (TFLite `MulElementwise`).
#[inline(always)]
pub fn mul_unclamped(p: &Mul, a: i32, b: i32) -> i32 {
    let product = a
        .wrapping_add(p.input1_offset)
        .wrapping_mul(b.wrapping_add(p.input2_offset));
    multiply_by_quantized_multiplier(product, p.output_multiplier, p.output_shift)
        .wrapping_add(p.output_offset)
}

/// Int8 MUL (TFLite reference `Mul` / `BroadcastMul6DSlow`).
#[inline(always)]
pub fn mul(p: &Mul, bc: Option<&Broadcast>, input1: &[i8], input2: &[i8], output: &mut [i8]) {
    binary_i8(bc, input1, input2, output, |a, b| mul_one(p, a, b));
}

/// [`mul`] of same-shaped inputs with its output over input number `slot` (0 or 1), which
/// `data` holds; `other` is the other input (as [`add_in_place`]).
#[inline(always)]
pub fn mul_in_place(p: &Mul, data: &mut [i8], other: &[i8], slot: usize) {
    for (o, &x) in data.iter_mut().zip(other) {
        *o = if slot == 0 {
            mul_one(p, *o as i32, x as i32)
        } else {
            mul_one(p, x as i32, *o as i32)
        };
    }
}

/// One int8 ADD (`sign` = 1) or SUB (`sign` = -1) element: both inputs shifted left by
/// `left_shift`, rescaled to a common scale, added or subtracted, rescaled to the output.
#[inline(always)]
pub fn add_sub_one(p: &Add, a: i32, b: i32, subtract: bool) -> i8 {
    clamp_i8(add_sub_unclamped(p, a, b, subtract), p.act_min, p.act_max)
}

/// One ADD or SUB element before the clamp, for any integer input type (TFLite
/// `AddElementwise` / `SubElementwise`; int16 shifts left by 15 rather than 20).
#[inline(always)]
pub fn add_sub_unclamped(p: &Add, a: i32, b: i32, subtract: bool) -> i32 {
    let a = add_term(p, 0, a);
    let b = add_term(p, 1, b);
    let raw = if subtract {
        a.wrapping_sub(b)
    } else {
        a.wrapping_add(b)
    };
    multiply_by_quantized_multiplier(raw, p.output_multiplier, p.output_shift)
        .wrapping_add(p.output_offset)
}

/// Input `slot`'s (0 or 1) term of an ADD or SUB element `x`: offset, shifted left by
/// `left_shift`, rescaled to the common scale.
#[inline(always)]
pub fn add_term(p: &Add, slot: usize, x: i32) -> i32 {
    let (offset, multiplier, shift) = if slot == 0 {
        (p.input1_offset, p.input1_multiplier, p.input1_shift)
    } else {
        (p.input2_offset, p.input2_multiplier, p.input2_shift)
    };
    let shifted = x
        .wrapping_add(offset)
        .wrapping_mul(1 << (p.left_shift & 31));
    multiply_by_quantized_multiplier(shifted, multiplier, shift)
}

/// Int8 SUB, first input minus second (TFLite reference `Sub` / `BroadcastQuantSubSlow`);
/// the constants have the layout of ADD's.
#[inline(always)]
pub fn sub(p: &Add, bc: Option<&Broadcast>, input1: &[i8], input2: &[i8], output: &mut [i8]) {
    binary_i8(bc, input1, input2, output, |a, b| {
        add_sub_one(p, a, b, true)
    });
}

/// Int8 ADD of broadcast shapes (TFLite `BroadcastAdd6DSlow`; same math as [`add`]).
#[inline(always)]
pub fn add_broadcast(p: &Add, bc: &Broadcast, input1: &[i8], input2: &[i8], output: &mut [i8]) {
    binary_i8(Some(bc), input1, input2, output, |a, b| {
        add_sub_one(p, a, b, false)
    });
}

/// One int8 SQUARED_DIFFERENCE element (TFLM `SquaredDifference`): both inputs shifted left
/// by `left_shift` and rescaled to a common scale as for ADD, their difference squared, the
/// square rescaled to the output (the output clamp is the whole int8 range).
#[inline(always)]
pub fn squared_difference_one(p: &Add, a: i32, b: i32) -> i8 {
    clamp_i8(squared_difference_unclamped(p, a, b), p.act_min, p.act_max)
}

/// One SQUARED_DIFFERENCE element before the clamp, for any integer input type.
#[inline(always)]
pub fn squared_difference_unclamped(p: &Add, a: i32, b: i32) -> i32 {
    let a = a
        .wrapping_add(p.input1_offset)
        .wrapping_mul(1 << (p.left_shift & 31));
    let b = b
        .wrapping_add(p.input2_offset)
        .wrapping_mul(1 << (p.left_shift & 31));
    let a = multiply_by_quantized_multiplier(a, p.input1_multiplier, p.input1_shift);
    let b = multiply_by_quantized_multiplier(b, p.input2_multiplier, p.input2_shift);
    let diff = a.wrapping_sub(b);
    multiply_by_quantized_multiplier(diff.wrapping_mul(diff), p.output_multiplier, p.output_shift)
        .wrapping_add(p.output_offset)
}

/// Int8 SQUARED_DIFFERENCE (TFLM's `ElementWise` / `BroadcastBinaryFunction4DSlow`).
#[inline(always)]
pub fn squared_difference(
    p: &Add,
    bc: Option<&Broadcast>,
    input1: &[i8],
    input2: &[i8],
    output: &mut [i8],
) {
    binary_i8(bc, input1, input2, output, |a, b| {
        squared_difference_one(p, a, b)
    });
}

/// Int16 SQUARED_DIFFERENCE (TFLM's int16 path: no left shift, zero points 0, the output
/// clamped to the int16 range).
#[inline(always)]
pub fn squared_difference_i16(
    p: &Add,
    bc: Option<&Broadcast>,
    input1: &[i16],
    input2: &[i16],
    output: &mut [i16],
) {
    binary(bc, input1, input2, output, |a, b| {
        let v = squared_difference_unclamped(p, a as i32, b as i32);
        v.max(p.act_min).min(p.act_max) as i16
    });
}

/// Applies `pick` to each pair of elements of any element type (into any output type, e.g.
/// bool for comparisons): zipped when `bc` is `None`
/// (equal shapes), else broadcast (TFLite `BroadcastBinaryOpSimple`,
/// `MaximumMinimumBroadcastSlow`).
#[inline(always)]
pub fn binary<T: Copy, U>(
    bc: Option<&Broadcast>,
    input1: &[T],
    input2: &[T],
    output: &mut [U],
    pick: impl Fn(T, T) -> U,
) {
    match bc {
        None => {
            for ((o, &a), &b) in output.iter_mut().zip(input1).zip(input2) {
                *o = pick(a, b);
            }
        }
        Some(bc) => {
            let mut index = [0usize; 6];
            for o in output.iter_mut() {
                let a = input1.get(offset_of(&index, &bc.strides1)).copied();
                let b = input2.get(offset_of(&index, &bc.strides2)).copied();
                if let (Some(a), Some(b)) = (a, b) {
                    *o = pick(a, b);
                }
                next_index(&mut index, &bc.dims);
            }
        }
    }
}

/// MAXIMUM (TFLM `MaximumOp`: `a > b ? a : b` on the raw values).
#[inline(always)]
pub fn elementwise_max<T: Copy + PartialOrd>(
    bc: Option<&Broadcast>,
    input1: &[T],
    input2: &[T],
    output: &mut [T],
) {
    binary(bc, input1, input2, output, |a, b| if a > b { a } else { b });
}

/// MINIMUM (TFLM `MinimumOp`: `a < b ? a : b` on the raw values).
#[inline(always)]
pub fn elementwise_min<T: Copy + PartialOrd>(
    bc: Option<&Broadcast>,
    input1: &[T],
    input2: &[T],
    output: &mut [T],
) {
    binary(bc, input1, input2, output, |a, b| if a < b { a } else { b });
}

/// The clamp of an int32 ADD, MUL or DIV (TFLM's int32 activation range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntClamp {
    /// Least output.
    pub act_min: i32,
    /// Greatest output.
    pub act_max: i32,
}

/// `min(max(x, act_min), act_max)`, TFLM's `ActivationFunctionWithMinMax`.
#[inline(always)]
fn int_clamp(p: &IntClamp, x: i32) -> i32 {
    x.max(p.act_min).min(p.act_max)
}

/// Int32 ADD (TFLM's reference `Add<int32_t>`: the sum wraps).
#[inline(always)]
pub fn add_i32(
    p: &IntClamp,
    bc: Option<&Broadcast>,
    input1: &[i32],
    input2: &[i32],
    output: &mut [i32],
) {
    binary(bc, input1, input2, output, |a, b| {
        int_clamp(p, a.wrapping_add(b))
    });
}

/// Int32 MUL (TFLM's reference `Mul<int32_t>`: the product wraps).
#[inline(always)]
pub fn mul_i32(
    p: &IntClamp,
    bc: Option<&Broadcast>,
    input1: &[i32],
    input2: &[i32],
    output: &mut [i32],
) {
    binary(bc, input1, input2, output, |a, b| {
        int_clamp(p, a.wrapping_mul(b))
    });
}

/// Int32 DIV (TFLM's reference `Div<int32_t>`: C division, truncating towards zero). TFLM's
/// division by zero traps; kiln gives 0 (and `i32::MIN / -1` wraps to `i32::MIN`).
#[inline(always)]
pub fn div_i32(
    p: &IntClamp,
    bc: Option<&Broadcast>,
    input1: &[i32],
    input2: &[i32],
    output: &mut [i32],
) {
    binary(bc, input1, input2, output, |a, b| {
        int_clamp(p, if b == 0 { 0 } else { a.wrapping_div(b) })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    fn unit_add() -> Add {
        Add {
            input1_offset: 0,
            input2_offset: 0,
            output_offset: 0,
            left_shift: 20,
            input1_multiplier: 1 << 30, // 0.5
            input1_shift: 0,
            input2_multiplier: 1 << 30,
            input2_shift: 0,
            output_multiplier: 1 << 30, // 0.5 * 2^-18 undoes the 2^20 * 0.5 above
            output_shift: -18,
            act_min: -128,
            act_max: 127,
        }
    }

    #[test]
    fn binary_ops_broadcast() {
        // [2, 3] op [1, 3]: the second input repeats over rows
        let bc = Broadcast {
            dims: [1, 1, 1, 1, 2, 3],
            strides1: [0, 0, 0, 0, 3, 1],
            strides2: [0, 0, 0, 0, 0, 1],
        };
        let a = [10i8, 20, 30, 40, 50, 60];
        let b = [1i8, 2, 3];
        let mut out = [0i8; 6];
        sub(&unit_add(), Some(&bc), &a, &b, &mut out);
        assert_eq!(out, [9, 18, 27, 39, 48, 57]);
        add_broadcast(&unit_add(), &bc, &a, &b, &mut out);
        assert_eq!(out, [11, 22, 33, 41, 52, 63]);
        let mut same = [0i8; 6];
        add(&unit_add(), &a, &[1, 2, 3, 1, 2, 3], &mut same);
        assert_eq!(same, out);
        // In place over either input: the same sums.
        let mut over_first = a;
        add_in_place(&unit_add(), &mut over_first, &[1, 2, 3, 1, 2, 3], 0);
        assert_eq!(over_first, out);
        let mut over_second = [1i8, 2, 3, 1, 2, 3];
        add_in_place(&unit_add(), &mut over_second, &a, 1);
        assert_eq!(over_second, out);
        let m = Mul {
            input1_offset: 0,
            input2_offset: -1,
            output_offset: 3,
            output_multiplier: 1 << 30, // 0.5
            output_shift: 0,
            act_min: -128,
            act_max: 30,
        };
        mul(&m, Some(&bc), &a, &b, &mut out);
        // (a * (b - 1)) / 2 + 3, clamped at 30
        assert_eq!(out, [3, 13, 30, 3, 28, 30]);
        // In place over either input, inputs of the same shape: the same products.
        let same_b = [1i8, 2, 3, 1, 2, 3];
        mul(&m, None, &a, &same_b, &mut out);
        let mut over_first = a;
        mul_in_place(&m, &mut over_first, &same_b, 0);
        assert_eq!(over_first, out);
        let mut over_second = same_b;
        mul_in_place(&m, &mut over_second, &a, 1);
        assert_eq!(over_second, out);
        mul(&m, None, &a[..3], &b, &mut out[..3]);
        assert_eq!(&out[..3], &[3, 13, 30]);
    }

    #[test]
    fn add_n_sums_rescaled_inputs_from_the_offset() {
        let mut out = [0f32; 2];
        add_n_f32(&[&[1.0, 2.0], &[0.5, -4.0], &[0.25, 1.0]], &mut out);
        assert_eq!(out, [1.75, -1.0]);
        // Input and output scale 1: inputs times 2^20, halved; the sum times 2^-19.
        let p = AddN {
            input_offset: 0,
            input_multiplier: 1 << 30,
            input_shift: 0,
            output_multiplier: 1 << 30,
            output_shift: -18,
            output_offset: 0,
        };
        let mut q = [0i8; 2];
        add_n_i8(&p, &[&[3, 100], &[4, 100]], &mut q);
        assert_eq!(q, [7, 127]);
        // Zero point 1: TFLM starts the sum from the rescaled offset, one more -1.
        let p = AddN {
            input_offset: -1,
            output_offset: 1,
            ..p
        };
        add_n_i8(&p, &[&[4, 1], &[5, 1]], &mut q);
        assert_eq!(q, [(3 + 4 - 1) + 1, -1 + 1]);
    }

    #[test]
    fn squared_difference_squares_the_rescaled_difference() {
        // Inputs ×2^7 then ×1/2, so each step is 64; the square (64·d)² is scaled by 2^-12.
        let p = Add {
            input1_offset: 0,
            input2_offset: 0,
            output_offset: -100,
            left_shift: 7,
            input1_multiplier: 1 << 30,
            input1_shift: 0,
            input2_multiplier: 1 << 30,
            input2_shift: 0,
            output_multiplier: 1 << 30, // 0.5 · 2^-11
            output_shift: -11,
            act_min: -128,
            act_max: 127,
        };
        let mut out = [0i8; 4];
        squared_difference(&p, None, &[5, 2, -3, 127], &[2, 5, 3, -128], &mut out);
        // 9 - 100, 9 - 100, 36 - 100, and 255² - 100 saturates at 127.
        assert_eq!(out, [-91, -91, -64, 127]);
    }

    #[test]
    fn maximum_and_minimum() {
        let mut out = [0i8; 4];
        elementwise_max(None, &[1, -5, 7, 0], &[2, -6, 7, -1], &mut out);
        assert_eq!(out, [2, -5, 7, 0]);
        elementwise_min(None, &[1, -5, 7, 0], &[2, -6, 7, -1], &mut out);
        assert_eq!(out, [1, -6, 7, -1]);
        // [2, 2] against [2, 1]
        let bc = Broadcast {
            dims: [1, 1, 1, 1, 2, 2],
            strides1: [0, 0, 0, 0, 2, 1],
            strides2: [0, 0, 0, 0, 1, 0],
        };
        elementwise_max(Some(&bc), &[1, 5, 3, 2], &[4, 2], &mut out);
        assert_eq!(out, [4, 5, 3, 2]);
        let mut f = [0f32; 2];
        elementwise_min(None, &[1.5, -0.0], &[-2.0, 0.0], &mut f);
        assert_eq!(f, [-2.0, 0.0]);
    }

    #[test]
    fn int32_arithmetic_wraps_truncates_and_clamps() {
        let all = IntClamp {
            act_min: i32::MIN,
            act_max: i32::MAX,
        };
        let mut out = [0; 3];
        add_i32(&all, None, &[i32::MAX, 1, -5], &[1, 2, 3], &mut out);
        assert_eq!(out, [i32::MIN, 3, -2]);
        mul_i32(&all, None, &[1 << 16, 3, -4], &[1 << 16, 256, 5], &mut out);
        assert_eq!(out, [0, 768, -20]);
        div_i32(&all, None, &[-7, 7, 5], &[2, -2, 0], &mut out);
        assert_eq!(out, [-3, -3, 0]);
        let relu6 = IntClamp {
            act_min: 0,
            act_max: 6,
        };
        div_i32(&relu6, None, &[100, -100, 12], &[2, 2, 2], &mut out);
        assert_eq!(out, [6, 0, 6]);
        // A scalar second input, broadcast.
        let bc = Broadcast {
            dims: [1, 1, 1, 1, 1, 3],
            strides1: [0, 0, 0, 0, 0, 1],
            strides2: [0; 6],
        };
        div_i32(&all, Some(&bc), &[666, -667, 1332], &[666], &mut out);
        assert_eq!(out, [1, -1, 2]);
    }
}
