//! Conversions: QUANTIZE (float32 → int8, int8 → int8) and DEQUANTIZE (int8 → float32).

use super::*;

/// Per-layer constants of QUANTIZE from float32.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantize {
    /// Output scale.
    pub scale: f32,
    /// Output zero point.
    pub zero_point: i32,
}

/// Rounds half away from zero, as C's `roundf` (`f32::round` needs `std`).
#[inline(always)]
pub fn round_half_away(x: f32) -> f32 {
    if !(-8_388_608.0..8_388_608.0).contains(&x) {
        return x; // integral already (or NaN)
    }
    let t = x as i32 as f32; // truncation toward zero
    let diff = x - t;
    if diff >= 0.5 {
        t + 1.0
    } else if diff <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// QUANTIZE float32 → int8 (TFLite `AffineQuantize`: `round(x / scale) + zero_point`).
#[inline(always)]
pub fn quantize_f32(p: &Quantize, input: &[f32], output: &mut [i8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let q = (round_half_away(x / p.scale) as i32).saturating_add(p.zero_point);
        *o = clamp_i8(q, -128, 127);
    }
}

/// [`quantize_f32`] into uint8 (for the generated `quantize_input` of a uint8 input; TFLM
/// has no float32 → uint8 QUANTIZE layer).
#[inline(always)]
pub fn quantize_f32_u8(p: &Quantize, input: &[f32], output: &mut [u8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let q = (round_half_away(x / p.scale) as i32).saturating_add(p.zero_point);
        *o = q.clamp(0, 255) as u8;
    }
}

/// Per-layer constants of QUANTIZE int8 → int8 (requantization).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requantize {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// `input_scale / output_scale` as a quantized multiplier.
    pub multiplier: i32,
    /// Its shift.
    pub shift: i32,
}

/// QUANTIZE int8 → int8 (TFLite `Requantize`).
#[inline(always)]
pub fn requantize_i8(p: &Requantize, input: &[i8], output: &mut [i8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = requantize_one(p, x);
    }
}

/// [`requantize_i8`] over its input.
#[inline(always)]
pub fn requantize_i8_in_place(p: &Requantize, data: &mut [i8]) {
    for x in data.iter_mut() {
        *x = requantize_one(p, *x);
    }
}

/// One element of [`requantize_i8`].
#[inline(always)]
fn requantize_one(p: &Requantize, x: i8) -> i8 {
    let v = multiply_by_quantized_multiplier(x as i32 - p.input_zero_point, p.multiplier, p.shift)
        .wrapping_add(p.output_zero_point);
    clamp_i8(v, -128, 127)
}

/// QUANTIZE uint8 → int8 (TFLite `Requantize`; its shortcut for a zero-point difference of
/// exactly 128 at equal scales, `x ^ 0x80`, gives the same bytes as this general form).
#[inline(always)]
pub fn requantize_u8_to_i8(p: &Requantize, input: &[u8], output: &mut [i8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let v =
            multiply_by_quantized_multiplier(x as i32 - p.input_zero_point, p.multiplier, p.shift)
                .wrapping_add(p.output_zero_point);
        *o = clamp_i8(v, -128, 127);
    }
}

/// QUANTIZE int8 → uint8 (TFLite `Requantize`, saturating to 0..=255).
#[inline(always)]
pub fn requantize_i8_to_u8(p: &Requantize, input: &[i8], output: &mut [u8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        let v =
            multiply_by_quantized_multiplier(x as i32 - p.input_zero_point, p.multiplier, p.shift)
                .wrapping_add(p.output_zero_point);
        *o = v.clamp(0, 255) as u8;
    }
}

/// Per-layer constants of DEQUANTIZE.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dequantize {
    /// Input scale.
    pub scale: f32,
    /// Input zero point.
    pub zero_point: i32,
}

/// DEQUANTIZE int8 → float32 (TFLite: computed in double, rounded once to float).
#[inline(always)]
pub fn dequantize_i8(p: &Dequantize, input: &[i8], output: &mut [f32]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = (p.scale as f64 * (x as i32 - p.zero_point) as f64) as f32;
    }
}

/// DEQUANTIZE uint8 → float32 (as [`dequantize_i8`]).
#[inline(always)]
pub fn dequantize_u8(p: &Dequantize, input: &[u8], output: &mut [f32]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = (p.scale as f64 * (x as i32 - p.zero_point) as f64) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_half_away_matches_c_roundf() {
        for (x, r) in [
            (0.5f32, 1.0f32),
            (-0.5, -1.0),
            (1.5, 2.0),
            (2.5, 3.0),
            (-2.5, -3.0),
            (0.49999997, 0.0),
            (1e9, 1e9),
            (-3.2, -3.0),
        ] {
            assert_eq!(round_half_away(x), r, "{x}");
        }
    }

    /// uint8 with zero point z is int8 with zero point z - 128, shifted by 128: the uint8
    /// helper (which has no TFLM kernel to compare with) must agree with the int8 QUANTIZE.
    #[test]
    fn quantize_u8_is_quantize_i8_shifted() {
        // -11.7..11.7 at scale 0.05: saturates at one end or both for every zero point.
        let xs: [f32; 64] = core::array::from_fn(|i| (i as f32 - 31.5) * 0.37);
        for zero_point in [0, 1, 77, 128, 200, 255] {
            let mut as_u8 = [0u8; 64];
            let mut as_i8 = [0i8; 64];
            let scale = 0.05;
            quantize_f32_u8(&Quantize { scale, zero_point }, &xs, &mut as_u8);
            let shifted = Quantize {
                scale,
                zero_point: zero_point - 128,
            };
            quantize_f32(&shifted, &xs, &mut as_i8);
            assert_eq!(
                as_u8,
                as_i8.map(|q| (q as i32 + 128) as u8),
                "zero point {zero_point}"
            );
        }
    }

    #[test]
    fn requantize_in_place_equals_requantize_apart() {
        let p = Requantize {
            input_zero_point: -3,
            output_zero_point: 5,
            multiplier: 1_500_000_000,
            shift: -1,
        };
        let input: [i8; 256] = core::array::from_fn(|i| i as u8 as i8);
        let mut apart = [0i8; 256];
        requantize_i8(&p, &input, &mut apart);
        let mut data = input;
        requantize_i8_in_place(&p, &mut data);
        assert_eq!(data, apart);
        assert_ne!(apart, input);
    }
}
