//! Float32 kernels: TFLite's reference float kernels, with the same loop and accumulation
//! order (so results match TFLM bit for bit); `exp` is glibc's (`math.rs`).

use super::*;

/// Reads little-endian f32 number `index` from `bytes` (0.0 past the end).
#[inline(always)]
pub fn f32_at(bytes: &[u8], index: usize) -> f32 {
    match bytes.get(index * 4..index * 4 + 4) {
        Some(&[a, b, c, d]) => f32::from_le_bytes([a, b, c, d]),
        _ => 0.0,
    }
}

/// TFLite `ActivationFunctionWithMinMax` for floats: `min(max(x, lo), hi)`.
#[inline(always)]
pub fn clamp_f32(x: f32, lo: f32, hi: f32) -> f32 {
    let x = if x < lo { lo } else { x };
    if x > hi {
        hi
    } else {
        x
    }
}

/// Per-layer constants of float32 CONV_2D and DEPTHWISE_CONV_2D.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvF32 {
    /// Geometry.
    pub shape: ConvShape,
    /// Lower clamp bound (fused activation).
    pub act_min: f32,
    /// Upper clamp bound (fused activation).
    pub act_max: f32,
}

/// Float32 CONV_2D (TFLite reference `Conv`). `filter` (OHWI) and `bias` are f32 bytes.
#[inline(always)]
pub fn conv2d_f32(
    p: &ConvF32,
    input: &[f32],
    filter: &[u8],
    bias: Option<&[u8]>,
    output: &mut [f32],
) {
    let s = &p.shape;
    let groups = s.in_c / s.k_c;
    let out_c_per_group = s.out_c / groups;
    let mut out_index = 0usize;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            for ox in 0..s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                for oc in 0..s.out_c {
                    let group = oc / out_c_per_group;
                    let mut total = 0.0f32;
                    for ky in 0..s.k_h {
                        let iy = y0 + (ky * s.dilation_h) as isize;
                        if iy < 0 || iy >= s.in_h as isize {
                            continue;
                        }
                        for kx in 0..s.k_w {
                            let ix = x0 + (kx * s.dilation_w) as isize;
                            if ix < 0 || ix >= s.in_w as isize {
                                continue;
                            }
                            let in_base = ((b * s.in_h + iy as usize) * s.in_w + ix as usize)
                                * s.in_c
                                + group * s.k_c;
                            let f_base = ((oc * s.k_h + ky) * s.k_w + kx) * s.k_c;
                            let xs = input.get(in_base..in_base + s.k_c).unwrap_or(&[]);
                            for (c, &x) in xs.iter().enumerate() {
                                total += x * f32_at(filter, f_base + c);
                            }
                        }
                    }
                    let bias = bias.map_or(0.0, |b| f32_at(b, oc));
                    if let Some(o) = output.get_mut(out_index) {
                        *o = clamp_f32(total + bias, p.act_min, p.act_max);
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Float32 DEPTHWISE_CONV_2D (TFLite reference `DepthwiseConv`). `filter` (1HW(C*M)) and
/// `bias` are f32 bytes.
#[inline(always)]
pub fn depthwise_conv2d_f32(
    p: &ConvF32,
    input: &[f32],
    filter: &[u8],
    bias: Option<&[u8]>,
    output: &mut [f32],
) {
    let s = &p.shape;
    let mut out_index = 0usize;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            for ox in 0..s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                for ic in 0..s.in_c {
                    for m in 0..s.depth_multiplier {
                        let oc = ic * s.depth_multiplier + m;
                        let mut total = 0.0f32;
                        for ky in 0..s.k_h {
                            let iy = y0 + (ky * s.dilation_h) as isize;
                            if iy < 0 || iy >= s.in_h as isize {
                                continue;
                            }
                            for kx in 0..s.k_w {
                                let ix = x0 + (kx * s.dilation_w) as isize;
                                if ix < 0 || ix >= s.in_w as isize {
                                    continue;
                                }
                                let i = ((b * s.in_h + iy as usize) * s.in_w + ix as usize)
                                    * s.in_c
                                    + ic;
                                let x = input.get(i).copied().unwrap_or(0.0);
                                total += x * f32_at(filter, (ky * s.k_w + kx) * s.out_c + oc);
                            }
                        }
                        let bias = bias.map_or(0.0, |b| f32_at(b, oc));
                        if let Some(o) = output.get_mut(out_index) {
                            *o = clamp_f32(total + bias, p.act_min, p.act_max);
                        }
                        out_index += 1;
                    }
                }
            }
        }
    }
}

/// Per-layer constants of float32 FULLY_CONNECTED.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FullyConnectedF32 {
    /// Rows of the input.
    pub batches: usize,
    /// Input features per row.
    pub in_features: usize,
    /// Output features per row.
    pub out_features: usize,
    /// Lower clamp bound (fused activation).
    pub act_min: f32,
    /// Upper clamp bound (fused activation).
    pub act_max: f32,
}

/// Float32 FULLY_CONNECTED (TFLite reference). `filter` (`[out, in]`) and `bias` are f32 bytes.
#[inline(always)]
pub fn fully_connected_f32(
    p: &FullyConnectedF32,
    input: &[f32],
    filter: &[u8],
    bias: Option<&[u8]>,
    output: &mut [f32],
) {
    let mut out_index = 0usize;
    for b in 0..p.batches {
        let row = input
            .get(b * p.in_features..(b + 1) * p.in_features)
            .unwrap_or(&[]);
        for oc in 0..p.out_features {
            let mut total = 0.0f32;
            for (d, &x) in row.iter().enumerate() {
                total += x * f32_at(filter, oc * p.in_features + d);
            }
            let bias = bias.map_or(0.0, |b| f32_at(b, oc));
            if let Some(o) = output.get_mut(out_index) {
                *o = clamp_f32(total + bias, p.act_min, p.act_max);
            }
            out_index += 1;
        }
    }
}

/// Float32 pooling: `average` picks AVERAGE_POOL_2D (sum / count) over MAX_POOL_2D.
#[inline(always)]
pub fn pool_f32(p: &Pool<f32>, average: bool, input: &[f32], output: &mut [f32]) {
    let w = p;
    let mut out_index = 0usize;
    for b in 0..w.batches {
        for oy in 0..w.out_h {
            let (ys, ye) = pool_window(oy, w.stride_h, w.pad_top, w.filter_h, w.in_h);
            let y0 = window_start(oy, w.stride_h, w.pad_top);
            for ox in 0..w.out_w {
                let (xs, xe) = pool_window(ox, w.stride_w, w.pad_left, w.filter_w, w.in_w);
                let x0 = window_start(ox, w.stride_w, w.pad_left);
                for c in 0..w.channels {
                    let mut total = 0.0f32;
                    let mut max = f32::MIN;
                    let mut count = 0usize;
                    for fy in ys..ye {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in xs..xe {
                            let ix = (x0 + fx as isize) as usize;
                            let i = ((b * w.in_h + iy) * w.in_w + ix) * w.channels + c;
                            let v = input.get(i).copied().unwrap_or(0.0);
                            total += v;
                            if v > max {
                                max = v;
                            }
                            count += 1;
                        }
                    }
                    let v = if average { total / count as f32 } else { max };
                    if let Some(o) = output.get_mut(out_index) {
                        *o = clamp_f32(v, p.act_min, p.act_max);
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Float32 L2_POOL_2D (TFLM reference `L2Pool`): `sqrt` of the mean of the squares of the
/// window's cells inside the input, summed row by row, then clamped.
#[inline(always)]
pub fn l2_pool_f32(p: &Pool<f32>, input: &[f32], output: &mut [f32]) {
    let mut out = output.iter_mut();
    for b in 0..p.batches {
        for oy in 0..p.out_h {
            let (ys, ye) = pool_window(oy, p.stride_h, p.pad_top, p.filter_h, p.in_h);
            let y0 = window_start(oy, p.stride_h, p.pad_top);
            for ox in 0..p.out_w {
                let (xs, xe) = pool_window(ox, p.stride_w, p.pad_left, p.filter_w, p.in_w);
                let x0 = window_start(ox, p.stride_w, p.pad_left);
                for c in 0..p.channels {
                    let mut squares = 0.0f32;
                    let mut count = 0i32;
                    for fy in ys..ye {
                        let iy = (y0 + fy as isize) as usize;
                        for fx in xs..xe {
                            let ix = (x0 + fx as isize) as usize;
                            let i = ((b * p.in_h + iy) * p.in_w + ix) * p.channels + c;
                            let v = input.get(i).copied().unwrap_or(0.0);
                            squares += v * v;
                            count += 1;
                        }
                    }
                    if let Some(o) = out.next() {
                        let v = sqrt_f32(squares / count as f32);
                        *o = clamp_f32(v, p.act_min, p.act_max);
                    }
                }
            }
        }
    }
}

/// Per-layer constants of float32 SOFTMAX.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftmaxF32 {
    /// Number of rows (all dimensions but the last).
    pub rows: usize,
    /// Row length (the last dimension).
    pub depth: usize,
    /// Input multiplier.
    pub beta: f32,
}

/// Float32 SOFTMAX (TFLite reference: `exp((x - max) * beta)`, summed in order, divided).
#[inline(always)]
pub fn softmax_f32(p: &SoftmaxF32, input: &[f32], output: &mut [f32]) {
    for (row_in, row_out) in input
        .chunks_exact(p.depth)
        .zip(output.chunks_exact_mut(p.depth))
        .take(p.rows)
    {
        let mut max = f32::MIN;
        for &x in row_in {
            if x > max {
                max = x;
            }
        }
        let mut sum = 0.0f32;
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            let e = exp_f32((x - max) * p.beta);
            *o = e;
            sum += e;
        }
        for o in row_out.iter_mut() {
            *o /= sum;
        }
    }
}

/// Float32 ABS (`std::abs`: the sign bit cleared, NaNs included).
#[inline(always)]
pub fn abs_f32(input: &[f32], output: &mut [f32]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    }
}

/// Float32 NEG (TFLite reference `Negate`: the sign bit flipped).
#[inline(always)]
pub fn neg_f32(input: &[f32], output: &mut [f32]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = -x;
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn l2_pool_is_the_root_mean_square_of_the_window() {
        let p = Pool {
            batches: 1,
            in_h: 2,
            in_w: 3,
            channels: 1,
            out_h: 1,
            out_w: 2,
            filter_h: 2,
            filter_w: 2,
            stride_h: 2,
            stride_w: 2,
            pad_top: 0,
            pad_left: 0,
            act_min: f32::MIN,
            act_max: 3.0,
        };
        // Windows [3, 4; 0, 0] and the right edge [12; 5] (cut off: two cells, root mean
        // square 9.19, clamped to 3).
        let mut out = [0f32; 2];
        l2_pool_f32(&p, &[3.0, 4.0, 12.0, 0.0, 0.0, 5.0], &mut out);
        assert_eq!(out, [2.5, 3.0]);
    }
    use super::*;
    #[test]
    fn abs_and_neg() {
        let mut out = [0f32; 3];
        abs_f32(&[-1.5, 0.0, -0.0], &mut out);
        assert_eq!(out.map(f32::to_bits), [1.5f32, 0.0, 0.0].map(f32::to_bits));
        neg_f32(&[-1.5, 0.0, 2.0], &mut out);
        assert_eq!(
            out.map(f32::to_bits),
            [1.5f32, -0.0, -2.0].map(f32::to_bits)
        );
    }
}
