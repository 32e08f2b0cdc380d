//! onnxruntime's dynamic quantization (what `quantize_dynamic` writes; its MatMul chains
//! fused by onnxruntime into `DynamicQuantizeMatMul`, its ConvInteger chains run in the same
//! order): a float32 activation quantized to uint8 with a scale and zero point computed at
//! run time from its range, an integer matrix product or convolution, and the float32
//! epilogue `acc as f32 · (input_scale · weight_scale) + bias`.

use super::*;

/// Per-layer constants of a dynamically quantized matrix product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DynamicMatMul {
    /// Rows of the input and output.
    pub rows: usize,
    /// Input features (columns of the input, rows of the weights).
    pub depth: usize,
    /// Output features (columns of the weights and the output).
    pub cols: usize,
}

/// onnxruntime's `DynamicQuantizeLinear` parameters of `x` (uint8): the range widened to
/// include zero, `scale = (max - min) / 255` (1 for an all-zero range), and the zero point
/// `0 - min / scale` clamped to 0..=255 and rounded half to even.
#[inline(always)]
pub fn dynamic_quantize_params(x: &[f32]) -> Quantize {
    let (mut lo, mut hi) = (0.0f32, 0.0f32);
    for &v in x {
        if v < lo {
            lo = v;
        }
        if v > hi {
            hi = v;
        }
    }
    let scale = if hi == lo { 1.0 } else { (hi - lo) / 255.0 };
    let initial = 0.0 - lo / scale;
    let zero_point = round_half_even_small(initial.clamp(0.0, 255.0)) as i32;
    Quantize { scale, zero_point }
}

/// The uint8 value `x` quantizes to (MLAS `MlasQuantizeLinear`: `x / scale` clamped to the
/// range less the zero point, rounded half to even, plus the zero point).
#[inline(always)]
fn quantize_u8(q: &Quantize, x: f32) -> i32 {
    let low = -q.zero_point as f32;
    let high = (255 - q.zero_point) as f32;
    round_half_even_small((x / q.scale).max(low).min(high)) as i32 + q.zero_point
}

/// onnxruntime's `DynamicQuantizeMatMul` (row-major `input` of `rows × depth`, `weights` of
/// `depth × cols`, symmetric int8 bytes): `input` quantized by [`dynamic_quantize_params`], each
/// output `Σ (q - zero_point) · w` as f32, times `input_scale · scales[c]` (`scales` has one
/// entry when per-tensor), plus `bias[c]` when `bias` is not empty.
///
/// Each input value is quantized once: its contribution is added to every column's int32
/// sum, which the output row holds (as bits) until the epilogue.
#[inline(always)]
pub fn dynamic_quantize_matmul(
    p: &DynamicMatMul,
    input: &[f32],
    weights: &[u8],
    scales: &[f32],
    bias: &[f32],
    output: &mut [f32],
) {
    let q = dynamic_quantize_params(input);
    for (x_row, out_row) in input
        .chunks_exact(p.depth)
        .zip(output.chunks_exact_mut(p.cols))
    {
        out_row.fill(f32::from_bits(0));
        for (&x, w_row) in x_row.iter().zip(weights.chunks_exact(p.cols)) {
            let a = quantize_u8(&q, x) - q.zero_point;
            if a == 0 {
                continue;
            }
            for (o, &w) in out_row.iter_mut().zip(w_row) {
                let sum = (o.to_bits() as i32).wrapping_add(a * w as i8 as i32);
                *o = f32::from_bits(sum as u32);
            }
        }
        for (c, o) in out_row.iter_mut().enumerate() {
            let scale = q.scale * scales[if scales.len() == 1 { 0 } else { c }];
            let product = (o.to_bits() as i32) as f32 * scale;
            *o = match bias.get(c) {
                Some(&b) => product + b,
                None => product,
            };
        }
    }
}

/// Per-layer constants of a dynamically quantized convolution (onnxruntime's ConvInteger
/// chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DynamicConv {
    /// Geometry (one group; padding taps are skipped: zero quantizes to the zero point).
    pub shape: ConvShape,
    /// The uint8 weights' zero point.
    pub weight_zero_point: i32,
}

/// What `quantize_dynamic` writes for Conv, as onnxruntime runs it (DynamicQuantizeLinear,
/// ConvInteger, Cast, Mul, Add): NHWC `input` quantized by [`dynamic_quantize_params`],
/// `weights` as uint8 bytes laid out HWIO, each output `Σ (q - zero_point) · (w -
/// weight_zero_point)` as f32, times `input_scale · scales[0]`, plus `bias[c]` when `bias` is
/// not empty.
///
/// Every output pixel's int32 sums live in its output channels (as bits) until its epilogue;
/// an input value is quantized once per window that covers it.
#[inline(always)]
pub fn dynamic_quantize_conv(
    p: &DynamicConv,
    input: &[f32],
    weights: &[u8],
    scales: &[f32],
    bias: &[f32],
    output: &mut [f32],
) {
    let s = &p.shape;
    let q = dynamic_quantize_params(input);
    let scale = q.scale * scales[0];
    let in_image = s.in_h * s.in_w * s.in_c;
    let out_image = s.out_h * s.out_w * s.out_c;
    for (image, out_image) in input
        .chunks_exact(in_image)
        .zip(output.chunks_exact_mut(out_image))
    {
        for (pixel, out_px) in out_image.chunks_exact_mut(s.out_c).enumerate() {
            let (oy, ox) = (pixel / s.out_w, pixel % s.out_w);
            out_px.fill(f32::from_bits(0));
            for ky in 0..s.k_h {
                let iy = (oy * s.stride_h + ky * s.dilation_h).wrapping_sub(s.pad_top);
                if iy >= s.in_h {
                    continue;
                }
                for kx in 0..s.k_w {
                    let ix = (ox * s.stride_w + kx * s.dilation_w).wrapping_sub(s.pad_left);
                    if ix >= s.in_w {
                        continue;
                    }
                    let at = (iy * s.in_w + ix) * s.in_c;
                    let tap = (ky * s.k_w + kx) * s.in_c;
                    for (ci, &x) in image[at..at + s.in_c].iter().enumerate() {
                        let a = quantize_u8(&q, x) - q.zero_point;
                        if a == 0 {
                            continue;
                        }
                        let w_at = (tap + ci) * s.out_c;
                        for (o, &w) in out_px.iter_mut().zip(&weights[w_at..w_at + s.out_c]) {
                            let product = a * (w as i32 - p.weight_zero_point);
                            let sum = (o.to_bits() as i32).wrapping_add(product);
                            *o = f32::from_bits(sum as u32);
                        }
                    }
                }
            }
            for (c, o) in out_px.iter_mut().enumerate() {
                let scaled = (o.to_bits() as i32) as f32 * scale;
                *o = match bias.get(c) {
                    Some(&b) => scaled + b,
                    None => scaled,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `x / scale` correctly rounded to float32 (through float64), rounded half to even,
    /// plus the zero point, clamped: MLAS's quantization, computed independently.
    fn reference(x: f32, q: &Quantize) -> i32 {
        let v = (x as f64 / q.scale as f64) as f32 as f64;
        let r = v.round();
        let r = if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
            r - v.signum()
        } else {
            r
        };
        (r as i32 + q.zero_point).clamp(0, 255)
    }

    #[test]
    fn quantization_divides_and_rounds_halves_to_even() {
        // Values halfway between steps, where a multiplication by the reciprocal of the
        // scale or another rounding would land on the other side.
        for &(lo, hi) in &[(-1.0f32, 1.0f32), (-0.3, 2.7), (0.0, 0.9), (-5.1, 0.0)] {
            let q = dynamic_quantize_params(&[lo, hi]);
            for n in -300..300 {
                let x = (n as f32 + 0.5) * q.scale;
                assert_eq!(quantize_u8(&q, x), reference(x, &q), "x {x} with {q:?}");
            }
        }
    }

    #[test]
    fn the_range_includes_zero_and_spans_0_to_255() {
        for &(lo, hi) in &[(-1.0f32, 1.0f32), (0.25, 3.0), (-2.0, -0.5), (-0.001, 7.0)] {
            let q = dynamic_quantize_params(&[hi, lo]);
            assert!((0..=255).contains(&q.zero_point), "{q:?}");
            assert_eq!(quantize_u8(&q, 0.0), q.zero_point);
            // The ends land on the ends, or a step inside (the zero point is rounded).
            assert!(quantize_u8(&q, lo.min(0.0)) <= 1, "{q:?}");
            assert!(quantize_u8(&q, hi.max(0.0)) >= 254, "{q:?}");
        }
        // An all-zero tensor: scale 1, zero point 0.
        let q = dynamic_quantize_params(&[0.0; 4]);
        assert_eq!((q.scale, q.zero_point), (1.0, 0));
    }

    #[test]
    fn matmul_sums_the_quantized_products_per_column() {
        let p = DynamicMatMul {
            rows: 2,
            depth: 3,
            cols: 2,
        };
        let input = [0.5f32, -1.0, 2.0, 0.0, 1.5, -0.25];
        let weights = [3i8, -1, 0, 7, -128, 127].map(|w| w as u8);
        let scales = [0.5f32, 0.25];
        let bias = [1.0f32, -2.0];
        let mut output = [0.0f32; 4];
        dynamic_quantize_matmul(&p, &input, &weights, &scales, &bias, &mut output);
        let q = dynamic_quantize_params(&input);
        for r in 0..2 {
            for c in 0..2 {
                let sum: i32 = (0..3)
                    .map(|k| {
                        (quantize_u8(&q, input[r * 3 + k]) - q.zero_point)
                            * weights[k * 2 + c] as i8 as i32
                    })
                    .sum();
                let want = sum as f32 * (q.scale * scales[c]) + bias[c];
                assert_eq!(
                    output[r * 2 + c].to_bits(),
                    want.to_bits(),
                    "row {r} col {c}"
                );
            }
        }
    }
}
