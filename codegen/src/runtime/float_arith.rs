//! Float32 element-wise arithmetic (ADD, SUB, MUL with their fused activation,
//! SQUARED_DIFFERENCE), the float32 activations (RELU, RELU6, LEAKY_RELU, HARD_SWISH) and
//! MEAN, each as TFLM's reference float kernel computes it, broadcasting up to 6-D.

use super::*;

/// Float32 ADD (TFLM reference `Add` / `BroadcastAdd6DSlow`): `a + b`, then the activation's
/// `min(max(v, lo), hi)`.
#[inline(always)]
pub fn add_f32(
    p: &ClampF32,
    bc: Option<&Broadcast>,
    input1: &[f32],
    input2: &[f32],
    output: &mut [f32],
) {
    binary(bc, input1, input2, output, |a, b| {
        clamp_f32(a + b, p.min, p.max)
    });
}

/// Float32 SUB (TFLM reference `SubWithActivation` / `BroadcastSubSlow`): `a - b`, clamped.
#[inline(always)]
pub fn sub_f32(
    p: &ClampF32,
    bc: Option<&Broadcast>,
    input1: &[f32],
    input2: &[f32],
    output: &mut [f32],
) {
    binary(bc, input1, input2, output, |a, b| {
        clamp_f32(a - b, p.min, p.max)
    });
}

/// Float32 MUL (TFLM reference `Mul` / `BroadcastMul6DSlow`): `a * b`, clamped.
#[inline(always)]
pub fn mul_f32(
    p: &ClampF32,
    bc: Option<&Broadcast>,
    input1: &[f32],
    input2: &[f32],
    output: &mut [f32],
) {
    binary(bc, input1, input2, output, |a, b| {
        clamp_f32(a * b, p.min, p.max)
    });
}

/// Float32 SQUARED_DIFFERENCE (TFLM `SquaredDifference<float>`): `(a - b) * (a - b)`, no
/// activation.
#[inline(always)]
pub fn squared_difference_f32(
    bc: Option<&Broadcast>,
    input1: &[f32],
    input2: &[f32],
    output: &mut [f32],
) {
    binary(bc, input1, input2, output, |a, b| {
        let difference = a - b;
        difference * difference
    });
}

/// Float32 RELU (TFLM `ReluFloat`: `x < 0 ? 0 : x`, so -0 and NaN pass through).
#[inline(always)]
pub fn relu_f32(x: f32) -> f32 {
    if x < 0.0 {
        0.0
    } else {
        x
    }
}

/// Float32 RELU6 (TFLM `Relu6Float`: `x > 6 ? 6 : x < 0 ? 0 : x`).
#[inline(always)]
pub fn relu6_f32(x: f32) -> f32 {
    let capped = if x > 6.0 { 6.0 } else { x };
    if capped < 0.0 {
        0.0
    } else {
        capped
    }
}

/// Float32 HARD_SWISH (TFLite reference `HardSwish<float>`: `x * min(6, max(0, x + 3)) / 6`
/// with `std::max(a, b)` = `a < b ? b : a` and `std::min(a, b)` = `b < a ? b : a`).
#[inline(always)]
pub fn hard_swish_f32(x: f32) -> f32 {
    let shifted = x + 3.0;
    let lower = if 0.0 < shifted { shifted } else { 0.0 };
    let gate = if lower < 6.0 { lower } else { 6.0 };
    x * gate / 6.0
}

/// The slope of a float32 LEAKY_RELU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyReluF32 {
    /// Multiplier of the inputs that are not positive.
    pub alpha: f32,
}

/// Float32 LEAKY_RELU (TFLite reference `LeakyRelu`: `x > 0 ? x : x * alpha`).
#[inline(always)]
pub fn leaky_relu_f32(p: &LeakyReluF32, input: &[f32], output: &mut [f32]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = if x > 0.0 { x } else { x * p.alpha };
    }
}

/// Float32 MEAN (TFLite reference `Mean`: each output's elements summed in input order from
/// 0, then divided by their count as a float).
#[inline(always)]
pub fn mean_f32(p: &Reduce, input: &[f32], output: &mut [f32]) {
    reduce_with(p, 0.0, input, output, |current, next| current + next);
    let count = p.reduced_count as f32;
    for o in output.iter_mut() {
        *o /= count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits<const N: usize>(v: [f32; N]) -> [u32; N] {
        v.map(f32::to_bits)
    }

    #[test]
    fn activations_keep_negative_zero_and_saturate() {
        assert_eq!(relu_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(relu_f32(-2.5), 0.0);
        assert_eq!(
            bits([relu6_f32(7.0), relu6_f32(-1.0), relu6_f32(-0.0)]),
            bits([6.0, 0.0, -0.0])
        );
        assert_eq!(hard_swish_f32(-3.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(hard_swish_f32(5.0), 5.0);
        assert_eq!(hard_swish_f32(1.0), 4.0 / 6.0);
        assert_eq!(hard_swish_f32(f32::NAN).to_bits(), f32::NAN.to_bits());
        let mut out = [0f32; 3];
        leaky_relu_f32(&LeakyReluF32 { alpha: 0.5 }, &[-2.0, 0.0, 3.0], &mut out);
        assert_eq!(out, [-1.0, 0.0, 3.0]);
    }

    #[test]
    fn arithmetic_clamps_and_broadcasts() {
        let relu6 = ClampF32 { min: 0.0, max: 6.0 };
        let bc = Broadcast {
            dims: [1, 1, 1, 1, 2, 2],
            strides1: [0, 0, 0, 0, 2, 1],
            strides2: [0, 0, 0, 0, 0, 1],
        };
        let mut out = [0f32; 4];
        mul_f32(
            &relu6,
            Some(&bc),
            &[1.0, -2.0, 3.0, 4.0],
            &[2.0, 3.0],
            &mut out,
        );
        assert_eq!(out, [2.0, 0.0, 6.0, 6.0]);
        sub_f32(&relu6, None, &[1.0, 5.0], &[0.5, 1.0], &mut out);
        assert_eq!(out[..2], [0.5, 4.0]);
        squared_difference_f32(Some(&bc), &[1.0, -2.0, 3.0, 4.0], &[2.0, 3.0], &mut out);
        assert_eq!(out, [1.0, 25.0, 1.0, 1.0]);
    }
}
