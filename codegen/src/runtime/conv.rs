//! Int8 CONV_2D and DEPTHWISE_CONV_2D (and FULLY_CONNECTED as a 1×1 convolution).
//!
//! acc = bias + Σ w·(x + input_offset) = folded_bias + Σ w·x, with
//! folded_bias = bias + input_offset·Σw computed at compile time. A filter tap that falls in the
//! padding contributes w·zero_point (= -w·input_offset), which cancels its share of the fold, so
//! the result is exactly TFLM's (in wrapping i32 arithmetic, as TFLM's accumulators behave).
//! The dot products come from a [`Dot`] flavour chosen per core.

use super::*;

/// Geometry of a CONV_2D or DEPTHWISE_CONV_2D layer (NHWC activations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Batch size.
    pub batches: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Output channels.
    pub out_c: usize,
    /// Filter height.
    pub k_h: usize,
    /// Filter width.
    pub k_w: usize,
    /// Input channels per filter (CONV_2D: `in_c / groups`; depthwise: 1).
    pub k_c: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Vertical dilation.
    pub dilation_h: usize,
    /// Horizontal dilation.
    pub dilation_w: usize,
    /// Rows of implicit zero padding above the input.
    pub pad_top: usize,
    /// Columns of implicit zero padding left of the input.
    pub pad_left: usize,
    /// Depthwise channel multiplier (1 for CONV_2D).
    pub depth_multiplier: usize,
}

/// The input row/column where a window starts, and the first filter tap inside the input.
#[inline(always)]
pub fn window_start(out: usize, stride: usize, padding: usize) -> isize {
    (out * stride) as isize - padding as isize
}

/// Per-layer constants of the fast int8 CONV_2D / FULLY_CONNECTED kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvFast {
    /// Geometry (a FULLY_CONNECTED is a 1×1 convolution over its rows).
    pub shape: ConvShape,
    /// The input zero point: the value of padded taps.
    pub input_zero_point: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// True when multipliers/shifts hold one entry per output channel.
    pub per_channel: bool,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
    /// Every shift is in -31..=-1 and every accumulator stays below 2^30 in magnitude
    /// (checked at compile time): requantize with [`requantize_small`], or, where a
    /// channel's constants serve a whole block, [`requantize_small_offset`] with the
    /// constants of [`small_offset_split`].
    pub fast_requant: bool,
}

/// Requantization constants and output of one block.
struct Store<'a> {
    p: &'a ConvFast,
    multiplier: &'a [i32],
    shift: &'a [i32],
}

impl Store<'_> {
    #[inline(always)]
    fn put(&self, output: &mut [i8], index: usize, oc: usize, acc: i32) {
        let q = if self.p.per_channel { oc } else { 0 };
        let m = self.multiplier.get(q).copied().unwrap_or(0);
        let s = self.shift.get(q).copied().unwrap_or(0);
        if let Some(o) = output.get_mut(index) {
            let scaled = if self.p.fast_requant {
                requantize_small(acc, m, -s)
            } else {
                multiply_by_quantized_multiplier_fast(acc, m, s)
            };
            let v = scaled.wrapping_add(self.p.output_offset);
            *o = clamp_i8(v, self.p.act_min, self.p.act_max);
        }
    }

    /// Channels `oc..oc + 4` (those below `out_c`) of the output pixel whose bytes start at
    /// `base`.
    #[inline(always)]
    fn put4_checked(&self, output: &mut [i8], base: usize, oc: usize, acc: [i32; 4]) {
        for (j, &a) in acc.iter().enumerate() {
            if oc + j < self.p.shape.out_c {
                self.put(output, base + oc + j, oc + j, a);
            }
        }
    }

    /// Channel `oc`'s accumulators `acc` of output pixels `first..first + count` (NHWC: their
    /// bytes `out_c` apart). A whole block (`count == P`) takes one bounds check and loads the
    /// channel's multiplier and shift once; a last, partial block goes through [`Store::put`].
    #[inline(always)]
    fn put_block<const P: usize>(
        &self,
        output: &mut [i8],
        first: usize,
        count: usize,
        oc: usize,
        acc: &[i32; P],
    ) {
        let stride = self.p.shape.out_c;
        let at = first * stride + oc;
        let pixels = match output.get_mut(at..at + (P - 1) * stride + 1) {
            Some(out) if count == P => out,
            _ => {
                for (k, &a) in acc.iter().enumerate().take(count) {
                    self.put(output, (first + k) * stride + oc, oc, a);
                }
                return;
            }
        };
        let q = if self.p.per_channel { oc } else { 0 };
        let m = self.multiplier.get(q).copied().unwrap_or(0);
        let s = self.shift.get(q).copied().unwrap_or(0);
        let (c, post) = small_offset_split(-s, self.p.output_offset);
        let (min, max) = (self.p.act_min, self.p.act_max);
        if !self.p.fast_requant {
            for (k, &a) in acc.iter().enumerate() {
                let v = multiply_by_quantized_multiplier_fast(a, m, s)
                    .wrapping_add(self.p.output_offset);
                if let Some(o) = pixels.get_mut(k * stride) {
                    *o = clamp_i8(v, min, max);
                }
            }
        } else if post == 0 {
            // Right shifts up to 22: the offset inside the constant.
            for (k, &a) in acc.iter().enumerate() {
                if let Some(o) = pixels.get_mut(k * stride) {
                    *o = clamp_i8(requantize_small_offset(a, m, -s, c), min, max);
                }
            }
        } else {
            for (k, &a) in acc.iter().enumerate() {
                if let Some(o) = pixels.get_mut(k * stride) {
                    *o = clamp_i8(requantize_small_offset(a, m, -s, c) + post, min, max);
                }
            }
        }
    }
}

/// Requantizes `acc` of output channel `channel` and writes it to `output[index]` (used by
/// the unrolled small layers).
#[inline(always)]
pub fn store(
    p: &ConvFast,
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
    index: usize,
    channel: usize,
    acc: i32,
) {
    Store {
        p,
        multiplier,
        shift,
    }
    .put(output, index, channel, acc);
}

/// One block of `P` output pixels (`xs`: their window origins) × `O` output channels from
/// `oc`, accumulated over every filter tap.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn conv_block<D: Dot, const P: usize, const O: usize>(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    row_base: usize,
    y0: isize,
    x0: [isize; P],
    in_ch: usize,
    oc: usize,
) -> [[i32; O]; P] {
    let s = &p.shape;
    let mut acc = [[0i32; O]; P];
    for accp in acc.iter_mut() {
        for (o, a) in accp.iter_mut().enumerate() {
            *a = folded_bias.get(oc + o).copied().unwrap_or(0);
        }
    }
    // With one group and no horizontal dilation, a filter row's taps are contiguous in both
    // the input and the filter: take the whole row as one dot product when it is inside.
    let row_len = s.k_w * s.k_c;
    let rows_contiguous = s.dilation_w == 1 && s.k_c == s.in_c;
    for ky in 0..s.k_h {
        let iy = y0 + (ky * s.dilation_h) as isize;
        let y_inside = iy >= 0 && iy < s.in_h as isize;
        if rows_contiguous
            && y_inside
            && x0
                .iter()
                .all(|&x| x >= 0 && x + s.k_w as isize <= s.in_w as isize)
        {
            let mut w: [&[u8]; O] = [&[]; O];
            for (o, wo) in w.iter_mut().enumerate() {
                let at = ((oc + o) * s.k_h + ky) * row_len;
                *wo = filter.get(at..at + row_len).unwrap_or(&[]);
            }
            let mut x: [&[i8]; P] = [&[]; P];
            for (xp, &x0p) in x.iter_mut().zip(&x0) {
                let at = ((row_base + iy as usize) * s.in_w + x0p as usize) * s.in_c;
                *xp = input.get(at..at + row_len).unwrap_or(&[]);
            }
            D::block::<P, O>(&mut acc, x, w);
            continue;
        }
        for kx in 0..s.k_w {
            let mut w: [&[u8]; O] = [&[]; O];
            for (o, wo) in w.iter_mut().enumerate() {
                let at = (((oc + o) * s.k_h + ky) * s.k_w + kx) * s.k_c;
                *wo = filter.get(at..at + s.k_c).unwrap_or(&[]);
            }
            let mut x: [&[i8]; P] = [&[]; P];
            let mut inside = [y_inside; P];
            for ((xp, ins), &x0p) in x.iter_mut().zip(inside.iter_mut()).zip(&x0) {
                let ix = x0p + (kx * s.dilation_w) as isize;
                *ins = *ins && ix >= 0 && ix < s.in_w as isize;
                if *ins {
                    let at = ((row_base + iy as usize) * s.in_w + ix as usize) * s.in_c + in_ch;
                    *xp = input.get(at..at + s.k_c).unwrap_or(&[]);
                }
            }
            if inside.iter().all(|&i| i) {
                D::block::<P, O>(&mut acc, x, w);
            } else {
                // Padded taps read the zero point; pixels inside take the dot product alone.
                for (pi, accp) in acc.iter_mut().enumerate() {
                    if inside[pi] {
                        let mut one = [*accp];
                        D::block::<1, O>(&mut one, [x[pi]], w);
                        *accp = one[0];
                    } else {
                        for (a, wo) in accp.iter_mut().zip(w) {
                            let sum = wo.iter().fold(0i32, |t, &v| t.wrapping_add(v as i8 as i32));
                            *a = a.wrapping_add(sum.wrapping_mul(p.input_zero_point));
                        }
                    }
                }
            }
        }
    }
    acc
}

/// Int8 CONV_2D (and FULLY_CONNECTED as a 1×1 convolution), bit-exact with TFLM's
/// `ConvPerChannel`: blocks of 2 output pixels × 4 output channels, offsets folded into
/// `folded_bias`, dot products by `D`.
#[inline(always)]
pub fn conv2d_fast<D: Dot>(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let s = &p.shape;
    let writer = Store {
        p,
        multiplier,
        shift,
    };
    let groups = s.in_c / s.k_c;
    let oc_per_group = s.out_c / groups;
    for b in 0..s.batches {
        let row_base = b * s.in_h;
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            let out_row = (b * s.out_h + oy) * s.out_w;
            let mut ox = 0;
            while ox < s.out_w {
                let pair = ox + 1 < s.out_w;
                let xa = window_start(ox, s.stride_w, s.pad_left);
                let xb = window_start(ox + 1, s.stride_w, s.pad_left);
                for g in 0..groups {
                    let in_ch = g * s.k_c;
                    let end = (g + 1) * oc_per_group;
                    let mut oc = g * oc_per_group;
                    while oc < end {
                        let quad = oc + 4 <= end;
                        let base = (out_row + ox) * s.out_c + oc;
                        match (pair, quad) {
                            (true, true) => {
                                let acc = conv_block::<D, 2, 4>(
                                    p,
                                    input,
                                    filter,
                                    folded_bias,
                                    row_base,
                                    y0,
                                    [xa, xb],
                                    in_ch,
                                    oc,
                                );
                                for (pi, accp) in acc.iter().enumerate() {
                                    for (o, &a) in accp.iter().enumerate() {
                                        writer.put(output, base + pi * s.out_c + o, oc + o, a);
                                    }
                                }
                            }
                            (true, false) => {
                                let acc = conv_block::<D, 2, 1>(
                                    p,
                                    input,
                                    filter,
                                    folded_bias,
                                    row_base,
                                    y0,
                                    [xa, xb],
                                    in_ch,
                                    oc,
                                );
                                writer.put(output, base, oc, acc[0][0]);
                                writer.put(output, base + s.out_c, oc, acc[1][0]);
                            }
                            (false, true) => {
                                let acc = conv_block::<D, 1, 4>(
                                    p,
                                    input,
                                    filter,
                                    folded_bias,
                                    row_base,
                                    y0,
                                    [xa],
                                    in_ch,
                                    oc,
                                );
                                for (o, &a) in acc[0].iter().enumerate() {
                                    writer.put(output, base + o, oc + o, a);
                                }
                            }
                            (false, false) => {
                                let acc = conv_block::<D, 1, 1>(
                                    p,
                                    input,
                                    filter,
                                    folded_bias,
                                    row_base,
                                    y0,
                                    [xa],
                                    in_ch,
                                    oc,
                                );
                                writer.put(output, base, oc, acc[0][0]);
                            }
                        }
                        oc += if quad { 4 } else { 1 };
                    }
                }
                ox += if pair { 2 } else { 1 };
            }
        }
    }
}

/// Fills `P` pixels' receptive fields ("patches") into a scratch buffer as SMLAD-ready i16
/// pairs, word by word: for every 4 patch bytes `x0 x1 x2 x3`, the words `(x0, x2)` and
/// `(x1, x3)`. Patches are interleaved by 4-byte group: group `j` of pixel `p` is at words
/// `(j·P + p)·2` and `+1`, so one chunk of `2P` words holds group `j` of every pixel.
pub struct PatchWriter<'a, const P: usize> {
    words: &'a mut [u32],
    /// The pixel being written.
    pixel: usize,
    /// Its next 4-byte group.
    group: usize,
    /// Bytes of the current group so far (little-endian), and how many.
    stage: u32,
    staged: u32,
}

/// Most bytes of a patch [`PatchWriter::whole_patch`] copies whole.
pub const SMALL_PATCH_MAX: usize = 64;

/// Where [`gather_patch`] puts a pixel's patch: runs of input bytes and runs of padding.
pub trait PatchSink {
    /// Appends a run of input bytes.
    fn run(&mut self, bytes: &[i8]);
    /// Appends `n` copies of the padding byte `b`.
    fn fill(&mut self, b: u8, n: usize);
}

/// Walks output pixel `n`'s window (row-major over batches, rows, columns) and hands its
/// patch to `sink` in filter order: whole rows at once where they are contiguous in the
/// input, the input zero point for taps outside it.
#[inline(always)]
pub fn gather_patch(p: &ConvFast, input: &[i8], n: usize, sink: &mut impl PatchSink) {
    let s = &p.shape;
    let zp = p.input_zero_point as i8 as u8;
    let contiguous = s.dilation_w == 1 && s.k_c == s.in_c;
    let ox = n % s.out_w;
    let oy = (n / s.out_w) % s.out_h;
    let b = n / (s.out_w * s.out_h);
    let y0 = window_start(oy, s.stride_h, s.pad_top);
    let x0 = window_start(ox, s.stride_w, s.pad_left);
    let last = x0 + ((s.k_w - 1) * s.dilation_w) as isize;
    let row_inside = x0 >= 0 && last < s.in_w as isize;
    for ky in 0..s.k_h {
        let iy = y0 + (ky * s.dilation_h) as isize;
        if iy < 0 || iy >= s.in_h as isize {
            sink.fill(zp, s.k_w * s.k_c);
            continue;
        }
        let row = (b * s.in_h + iy as usize) * s.in_w;
        if contiguous && row_inside {
            let at = (row + x0 as usize) * s.in_c;
            // Inside `if let`, the run's length is the layer's constant: its copy unrolls.
            if let Some(run) = input.get(at..at + s.k_w * s.in_c) {
                sink.run(run);
            }
            continue;
        }
        for kx in 0..s.k_w {
            let ix = x0 + (kx * s.dilation_w) as isize;
            if ix < 0 || ix >= s.in_w as isize {
                sink.fill(zp, s.k_c);
            } else {
                let at = (row + ix as usize) * s.in_c;
                if let Some(run) = input.get(at..at + s.k_c) {
                    sink.run(run);
                }
            }
        }
    }
}

impl<const P: usize> PatchSink for PatchWriter<'_, P> {
    #[inline(always)]
    fn run(&mut self, bytes: &[i8]) {
        self.run_bytes(bytes);
    }

    #[inline(always)]
    fn fill(&mut self, b: u8, n: usize) {
        for _ in 0..n {
            self.byte(b);
        }
    }
}

impl<'a, const P: usize> PatchWriter<'a, P> {
    /// A writer of `P` pixels' patches into `words`, from the first pixel's first group.
    #[inline(always)]
    pub fn new(words: &'a mut [u32]) -> Self {
        PatchWriter {
            words,
            pixel: 0,
            group: 0,
            stage: 0,
            staged: 0,
        }
    }

    /// Writes the staged group (zero-padded) and starts the next.
    #[inline(always)]
    fn flush(&mut self) {
        let at = (self.group * P + self.pixel) * 2;
        if let Some([e, o]) = self.words.get_mut(at..at + 2) {
            *e = dsp::sxtb16(self.stage);
            *o = dsp::sxtb16_ror8(self.stage);
        }
        self.group += 1;
        self.stage = 0;
        self.staged = 0;
    }

    /// Appends one byte.
    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.stage |= (b as u32) << (8 * self.staged);
        self.staged += 1;
        if self.staged == 4 {
            self.flush();
        }
    }

    /// Appends a run of bytes, whole words at a time where the group is empty.
    #[inline(always)]
    fn run_bytes(&mut self, bytes: &[i8]) {
        let mut rest = bytes;
        while self.staged != 0 {
            let Some((&b, tail)) = rest.split_first() else {
                return;
            };
            self.byte(b as u8);
            rest = tail;
        }
        let mut words = rest.chunks_exact(4);
        for w in &mut words {
            self.stage = u32::from_le_bytes([w[0] as u8, w[1] as u8, w[2] as u8, w[3] as u8]);
            self.flush();
        }
        for &b in words.remainder() {
            self.byte(b as u8);
        }
    }

    /// Writes pixel `n`'s whole patch (`groups` groups) at once and moves to the next pixel,
    /// when the layer is undilated over all input channels and `n`'s window lies inside the
    /// input. Runs of `k_w·in_c` bytes that are whole words are widened straight from the
    /// input, word by word; other runs, when the patch is at most [`SMALL_PATCH_MAX`]
    /// bytes, are copied into `bytes` (whose bytes past the patch stay zero) and read back
    /// as whole words, where [`PatchWriter::run_bytes`] would stage them (3×3 over three
    /// channels: runs of 9) byte by byte. `false`: the pixel is left to [`gather_patch`].
    #[inline(always)]
    pub fn whole_patch(
        &mut self,
        p: &ConvFast,
        input: &[i8],
        n: usize,
        groups: usize,
        bytes: &mut [i8; SMALL_PATCH_MAX],
    ) -> bool {
        let s = &p.shape;
        let run = s.k_w * s.in_c;
        let words = run.is_multiple_of(4);
        if s.dilation_h != 1
            || s.dilation_w != 1
            || s.k_c != s.in_c
            || (!words && (s.k_h * run > SMALL_PATCH_MAX || 4 * groups > SMALL_PATCH_MAX))
        {
            return false;
        }
        let plane = s.out_h * s.out_w;
        let (b, oy, ox) = (
            n / plane.max(1),
            n % plane.max(1) / s.out_w.max(1),
            n % s.out_w.max(1),
        );
        let (y0, x0) = (
            window_start(oy, s.stride_h, s.pad_top),
            window_start(ox, s.stride_w, s.pad_left),
        );
        if y0 < 0 || x0 < 0 || y0 as usize + s.k_h > s.in_h || x0 as usize + s.k_w > s.in_w {
            return false;
        }
        let first = ((b * s.in_h + y0 as usize) * s.in_w + x0 as usize) * s.in_c;
        let row = s.in_w * s.in_c;
        if words {
            // Group `ky·run/4 + j` of the patch is word `j` of run `ky`.
            for ky in 0..s.k_h {
                let at = first + ky * row;
                let Some(src) = input.get(at..at + run) else {
                    return false;
                };
                for (j, w) in src.chunks_exact(4).enumerate() {
                    let word = u32::from_le_bytes([w[0] as u8, w[1] as u8, w[2] as u8, w[3] as u8]);
                    let i = ((ky * run / 4 + j) * P + self.pixel) * 2;
                    if let Some([e, o]) = self.words.get_mut(i..i + 2) {
                        (*e, *o) = (dsp::sxtb16(word), dsp::sxtb16_ror8(word));
                    }
                }
            }
            self.pixel += 1;
            return true;
        }
        for ky in 0..s.k_h {
            let at = first + ky * row;
            let (Some(src), Some(dst)) = (
                input.get(at..at + run),
                bytes.get_mut(ky * run..(ky + 1) * run),
            ) else {
                return false;
            };
            dst.copy_from_slice(src);
        }
        for (j, w) in bytes.chunks_exact(4).take(groups).enumerate() {
            let word = u32::from_le_bytes([w[0] as u8, w[1] as u8, w[2] as u8, w[3] as u8]);
            let at = (j * P + self.pixel) * 2;
            if let Some([e, o]) = self.words.get_mut(at..at + 2) {
                (*e, *o) = (dsp::sxtb16(word), dsp::sxtb16_ror8(word));
            }
        }
        self.pixel += 1;
        true
    }

    /// Pads the current pixel's patch to `groups` groups and moves to the next pixel.
    #[inline(always)]
    pub fn end_pixel(&mut self, groups: usize) {
        if self.staged != 0 {
            self.flush();
        }
        while self.group < groups {
            self.flush();
        }
        self.pixel += 1;
        self.group = 0;
    }
}

/// Int8 CONV_2D (one group) and FULLY_CONNECTED for Arm DSP cores, bit-exact with TFLM's
/// `ConvPerChannel`. Output pixels go `P` at a time: their patches (`k_h·k_w·in_c` bytes,
/// padded taps at the input zero point, which the folded bias cancels) are widened once into
/// `scratch` ([`PatchWriter`]); then each output channel's filter row (its bytes in patch
/// order, zero-padded to `row_len`, a multiple of 4, at compile time) is widened one word at a
/// time and multiplied into the `P` accumulators with two SMLADs per pixel. `scratch` holds
/// `P · row_len / 2` words.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn conv2d_patches<const P: usize>(
    p: &ConvFast,
    row_len: usize,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [u32],
    output: &mut [i8],
) {
    let io = Apart { input, output };
    let w = PatchWeights {
        row_len,
        filter,
        folded_bias,
        multiplier,
        shift,
    };
    conv2d_patches_io::<P, _>(p, &w, scratch, io);
}

/// [`conv2d_patches`] over one buffer: the input at byte `input_at` (the planner's lead:
/// `out − in` bytes when the output is larger, else 0), the output from byte 0 (a 1×1
/// convolution, stride 1, no padding, whose input dies at this layer). Each block's patches
/// are gathered before its outputs are written, and the lead keeps every write behind the
/// input still to be read.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn conv2d_patches_in_place<const P: usize>(
    p: &ConvFast,
    row_len: usize,
    data: &mut [i8],
    input_at: usize,
    filter: &[u8],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [u32],
) {
    let w = PatchWeights {
        row_len,
        filter,
        folded_bias,
        multiplier,
        shift,
    };
    conv2d_patches_io::<P, _>(p, &w, scratch, Shared { data, input_at });
}

/// A patch convolution's filter rows and per-channel constants.
pub struct PatchWeights<'a> {
    /// Bytes per filter row (the patch, zero-padded to a multiple of 4).
    pub row_len: usize,
    /// `out_c` rows.
    pub filter: &'a [u8],
    /// Bias + input offset × Σ weights, per output channel.
    pub folded_bias: &'a [i32],
    /// Requantization multipliers.
    pub multiplier: &'a [i32],
    /// Requantization shifts.
    pub shift: &'a [i32],
}

/// Where a convolution reads its input and writes its output: two buffers, or one.
pub trait ConvIo {
    /// The input activations.
    fn input(&self) -> &[i8];
    /// The output activations.
    fn output(&mut self) -> &mut [i8];
    /// Input and output at once, when they are apart.
    fn split(&mut self) -> Option<(&[i8], &mut [i8])>;
    /// Input and output as raw pointers from one borrow (for `asm!` loops that read the
    /// input while writing the output, which may share its buffer; off Arm some layers
    /// never call it).
    #[cfg_attr(not(target_arch = "arm"), allow(dead_code))]
    fn raw(&mut self) -> RawIo;
}

/// Input and output of a [`ConvIo`] as raw pointers with their lengths in bytes, taken from
/// one borrow: valid while that borrow lasts, and only `asm!` blocks read or write through
/// them.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "arm"), allow(dead_code))]
pub struct RawIo {
    /// The input's first byte.
    pub input: *const i8,
    /// The input's length.
    pub input_len: usize,
    /// The output's first byte.
    pub output: *mut i8,
    /// The output's length.
    pub output_len: usize,
}

/// Input and output in separate buffers.
pub struct Apart<'a> {
    /// The input activations.
    pub input: &'a [i8],
    /// The output activations.
    pub output: &'a mut [i8],
}

impl ConvIo for Apart<'_> {
    #[inline(always)]
    fn input(&self) -> &[i8] {
        self.input
    }
    #[inline(always)]
    fn output(&mut self) -> &mut [i8] {
        self.output
    }
    #[inline(always)]
    fn split(&mut self) -> Option<(&[i8], &mut [i8])> {
        Some((self.input, self.output))
    }
    #[inline(always)]
    fn raw(&mut self) -> RawIo {
        RawIo {
            input: self.input.as_ptr(),
            input_len: self.input.len(),
            output: self.output.as_mut_ptr(),
            output_len: self.output.len(),
        }
    }
}

/// Input and output in one buffer (an in-place layer): the output from its start, the input
/// from `input_at`.
pub struct Shared<'a> {
    /// The output's bytes, overlapping the input's.
    pub data: &'a mut [i8],
    /// Where the input starts in `data`.
    pub input_at: usize,
}

impl ConvIo for Shared<'_> {
    #[inline(always)]
    fn input(&self) -> &[i8] {
        self.data.get(self.input_at..).unwrap_or(&[])
    }
    #[inline(always)]
    fn output(&mut self) -> &mut [i8] {
        self.data
    }
    #[inline(always)]
    fn split(&mut self) -> Option<(&[i8], &mut [i8])> {
        None
    }
    #[inline(always)]
    fn raw(&mut self) -> RawIo {
        let len = self.data.len();
        let output = self.data.as_mut_ptr();
        let at = self.input_at.min(len);
        RawIo {
            input: output.wrapping_add(at),
            input_len: len - at,
            output,
            output_len: len,
        }
    }
}

/// Block `b` of `pixels`, `P` pixels per block: (first pixel, count).
#[inline(always)]
pub fn patch_block<const P: usize>(b: usize, pixels: usize) -> (usize, usize) {
    let first = b * P;
    (first, P.min(pixels - first))
}

/// The loop of [`conv2d_patches`] and [`conv2d_patches_in_place`].
#[inline(always)]
fn conv2d_patches_io<const P: usize, IO: ConvIo>(
    p: &ConvFast,
    w: &PatchWeights,
    scratch: &mut [u32],
    mut io: IO,
) {
    let s = &p.shape;
    let writer = Store {
        p,
        multiplier: w.multiplier,
        shift: w.shift,
    };
    let groups = w.row_len / 4;
    let pixels = s.batches * s.out_h * s.out_w;
    // A small patch's copy (`PatchWriter::whole_patch`): its bytes past the patch stay zero.
    let mut bytes = [0i8; SMALL_PATCH_MAX];
    for b in 0..pixels.div_ceil(P) {
        let (first, count) = patch_block::<P>(b, pixels);
        // The patches of pixels first..first + count (missing pixels stay as they were: their
        // results are not stored).
        if pointwise_words(s) {
            widen_pointwise::<P, false>(io.input(), first, count, s.in_c, scratch);
        } else {
            let mut patch = PatchWriter::<P> {
                words: &mut *scratch,
                pixel: 0,
                group: 0,
                stage: 0,
                staged: 0,
            };
            for n in first..first + count {
                if !patch.whole_patch(p, io.input(), n, groups, &mut bytes) {
                    gather_patch(p, io.input(), n, &mut patch);
                    patch.end_pixel(groups);
                }
            }
        }
        // Every output channel over the P patches.
        let patches = scratch.get(..groups * 2 * P).unwrap_or(&[]);
        for (oc, row) in w
            .filter
            .chunks_exact(w.row_len.max(4))
            .take(s.out_c)
            .enumerate()
        {
            let bias = w.folded_bias.get(oc).copied().unwrap_or(0);
            let mut acc = [bias; P];
            match <&mut [i32; TILE_PIXELS]>::try_from(&mut acc[..]) {
                Ok(tile) => patch_dot_tile(row, patches, tile),
                Err(_) => patch_dot_portable(row, patches, &mut acc),
            }
            writer.put_block(io.output(), first, count, oc, &acc);
        }
    }
}

/// The constants of output channel `oc` in a [`conv2d_pointwise`] table, three words: its
/// folded bias doubled, its multiplier and [`small_offset_constant`]`(right, output_offset)`
/// (whose lowest set bit is bit `right − 1`, as `1 + 2·offset` is odd: the kernel reads the
/// shift from it).
pub fn pointwise_channel(folded_bias: i32, multiplier: i32, shift: i32, offset: i32) -> [i32; 3] {
    [
        folded_bias.wrapping_mul(2),
        multiplier,
        small_offset_constant(-shift, offset),
    ]
}

/// Whether [`conv2d_pointwise`] can run a layer: a 1×1 convolution, stride 1, no padding,
/// one group, a multiple of 4 input channels, the short requantization (`fast_requant`)
/// with right shifts of 1 to 22 (the offset inside the rounding constant), one
/// multiplier per channel.
pub fn pointwise_fits(p: &ConvFast, shifts: &[i32]) -> bool {
    let s = &p.shape;
    s.k_h == 1
        && s.k_w == 1
        && s.stride_h == 1
        && s.stride_w == 1
        && s.pad_top == 0
        && s.pad_left == 0
        && s.in_h == s.out_h
        && s.in_w == s.out_w
        && s.k_c == s.in_c
        && s.in_c.is_multiple_of(4)
        && p.per_channel
        && p.fast_requant
        && shifts.len() == s.out_c
        && shifts.iter().all(|&r| (-22..0).contains(&r))
}

/// Int8 1×1 CONV_2D for Arm DSP cores, for the layers [`pointwise_fits`] accepts: the loop
/// of [`conv2d_patches`] (blocks of [`TILE_PIXELS`] pixels widened once, every output
/// channel through [`patch_dot_tile`]) with its per-channel work cut to what the table
/// `channels` ([`pointwise_channel`] per output channel) cannot hold. The patches are
/// widened doubled and the bias is doubled, so each accumulator is already the `2x` of
/// [`requantize_small_offset`], and each output is one SMMLAR with the channel's constant,
/// the sign correction, the shift and the clamp. `filter` holds `out_c` rows of `in_c`
/// bytes; `scratch` `TILE_PIXELS · in_c / 2` words.
#[inline(always)]
pub fn conv2d_pointwise(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    channels: &[i32],
    scratch: &mut [u32],
    output: &mut [i8],
) {
    conv2d_pointwise_io(p, filter, channels, scratch, Apart { input, output });
}

/// [`conv2d_pointwise`] over one buffer, as [`conv2d_patches_in_place`]: the input at byte
/// `input_at`, the output from byte 0.
#[inline(always)]
pub fn conv2d_pointwise_in_place(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    filter: &[u8],
    channels: &[i32],
    scratch: &mut [u32],
) {
    conv2d_pointwise_io(p, filter, channels, scratch, Shared { data, input_at });
}

/// The loop of [`conv2d_pointwise`] and [`conv2d_pointwise_in_place`].
#[inline(always)]
fn conv2d_pointwise_io<IO: ConvIo>(
    p: &ConvFast,
    filter: &[u8],
    channels: &[i32],
    scratch: &mut [u32],
    mut io: IO,
) {
    const P: usize = TILE_PIXELS;
    let s = &p.shape;
    let (in_c, out_c) = (s.in_c.max(4), s.out_c);
    let pixels = s.batches * s.out_h * s.out_w;
    for b in 0..pixels.div_ceil(P) {
        let (first, count) = patch_block::<P>(b, pixels);
        widen_pointwise::<P, true>(io.input(), first, count, in_c, scratch);
        let patches = scratch.get(..in_c / 2 * P).unwrap_or(&[]);
        let at = first * out_c;
        let Some(out) = io.output().get_mut(at..at + count * out_c) else {
            return;
        };
        if count == P {
            pointwise_channels::<true>(filter, channels, patches, out, p, count);
        } else {
            pointwise_channels::<false>(filter, channels, patches, out, p, count);
        }
    }
}

/// The output channels of one block of [`conv2d_pointwise`] (`count` pixels, their bytes
/// `out`; `FULL`: `count` is [`TILE_PIXELS`]) through the `asm!` tile, or for a last block of
/// one pixel, that pixel alone (cheaper than the five-slot tile).
#[inline(always)]
fn pointwise_channels<const FULL: bool>(
    filter: &[u8],
    channels: &[i32],
    patches: &[u32],
    out: &mut [i8],
    p: &ConvFast,
    count: usize,
) {
    const P: usize = TILE_PIXELS;
    let (in_c, out_c) = (p.shape.in_c.max(4), p.shape.out_c);
    let (min, max) = (p.act_min, p.act_max);
    let rows = filter.chunks_exact(in_c).zip(channels.chunks_exact(3));
    for (oc, (row, k)) in rows.take(out_c).enumerate() {
        let &[bias, m, c] = k else { return };
        let mut acc = [bias; P];
        if !FULL && count == 1 {
            acc[0] = patch_dot_first(row, patches, bias);
        } else {
            patch_dot_tile(row, patches, &mut acc);
        }
        let right = (c.trailing_zeros() + 1) & 31;
        let emit = |o: &mut i8, a: i32| {
            *o = clamp_i8((dsp::smmlar(a, m, c) + (a >> 31)) >> right, min, max);
        };
        // A whole block: one bounds check for its five bytes, `out_c` apart.
        match out.get_mut(oc..oc + (P - 1) * out_c + 1) {
            Some(column) if FULL => {
                for (j, &a) in acc.iter().enumerate() {
                    if let Some(o) = column.get_mut(j * out_c) {
                        emit(o, a);
                    }
                }
            }
            _ => {
                for (j, &a) in acc.iter().enumerate().take(count) {
                    if let Some(o) = out.get_mut(j * out_c + oc) {
                        emit(o, a);
                    }
                }
            }
        }
    }
}

/// Most input channels of a [`conv2d_pointwise_small`] layer: eight groups of four, whose
/// widened block of five pixels the `asm!` loop reads through a run of LDMs.
pub const POINTWISE_SMALL_MAX_C: usize = 32;

/// Words of [`conv2d_pointwise_small`]'s table per output channel over `in_c` input
/// channels: the start value five times, `in_c / 2` weight pairs, multiplier, offset
/// constant and right shift.
pub const fn pointwise_small_words(in_c: usize) -> usize {
    TILE_PIXELS + in_c / 2 + 3
}

/// Words of the block [`conv2d_pointwise_small`] widens each five pixels into (their input
/// as i16 pairs, then seven words of the `asm!` loop's state), at most: the scratch it
/// needs.
pub const POINTWISE_SMALL_BLOCK: usize = TILE_PIXELS * POINTWISE_SMALL_MAX_C / 2 + 7;

/// The [`conv2d_pointwise_small`] table words of one output channel (compile time): its
/// [`pointwise_channel`] constants `channel` and its filter `row` (`in_c` int8 weights, a
/// multiple of 4), as [`pointwise_small_words`] lays them out. The weights are doubled and
/// widened, group of four `j` as `(w0, w2)` and `(w1, w3)` i16 pairs, so the input is
/// widened as it is and each accumulator is already the `2x` of
/// [`requantize_small_offset`]; the right shift is the one `channel`'s offset constant
/// encodes.
pub fn pointwise_small_channel(row: &[u8], channel: [i32; 3]) -> impl Iterator<Item = i32> + '_ {
    let [bias, m, c] = channel;
    let right = (c.trailing_zeros() as i32 + 1) & 31;
    let pair = |a: u8, b: u8| {
        let half = |w: u8| ((w as i8 as i16) * 2) as u16 as u32;
        (half(a) | (half(b) << 16)) as i32
    };
    core::iter::repeat_n(bias, TILE_PIXELS)
        .chain(
            row.chunks_exact(4)
                .flat_map(move |w| [pair(w[0], w[2]), pair(w[1], w[3])]),
        )
        .chain([m, c, right])
}

/// Whether [`conv2d_pointwise_small`] can run a layer: a 1×1 convolution without padding
/// (any stride: output pixel `(y, x)` reads input pixel `(y·stride_h, x·stride_w)`), one
/// group, a multiple of 4 input channels up to [`POINTWISE_SMALL_MAX_C`], the short
/// requantization (`fast_requant`) with right shifts of 1 to 22, one multiplier per
/// channel, an activation that clamps to the whole int8 range (the `asm!` loop saturates
/// with SSAT alone), and at least one block of five pixels.
pub fn pointwise_small_fits(p: &ConvFast, shifts: &[i32]) -> bool {
    let s = &p.shape;
    s.k_h == 1
        && s.k_w == 1
        && s.stride_h >= 1
        && s.stride_w >= 1
        && s.pad_top == 0
        && s.pad_left == 0
        && s.in_h >= 1
        && s.in_w >= 1
        && s.out_h == (s.in_h - 1) / s.stride_h + 1
        && s.out_w == (s.in_w - 1) / s.stride_w + 1
        && s.k_c == s.in_c
        && s.in_c.is_multiple_of(4)
        && s.in_c <= POINTWISE_SMALL_MAX_C
        && p.per_channel
        && p.fast_requant
        && shifts.len() == s.out_c
        && shifts.iter().all(|&r| (-22..0).contains(&r))
        && p.act_min == -128
        && p.act_max == 127
        && s.batches * s.out_h * s.out_w >= TILE_PIXELS
}

/// Int8 1×1 CONV_2D with few input channels for Arm DSP cores, for the layers
/// [`pointwise_small_fits`] accepts. On Arm one `asm!` loop (`dsp::pointwise_small5`)
/// runs every whole block of [`TILE_PIXELS`] pixels: it widens the block's input into
/// `scratch` ([`POINTWISE_SMALL_BLOCK`] words at least), then takes every output channel
/// from its `table` words ([`pointwise_small_channel`]) to its five output bytes, the
/// accumulators never leaving registers. Off Arm, and for a last block of fewer pixels,
/// [`pointwise_small_portable`] computes the same from the same table.
#[inline(always)]
pub fn conv2d_pointwise_small(
    p: &ConvFast,
    input: &[i8],
    table: &[i32],
    scratch: &mut [u32],
    output: &mut [i8],
) {
    conv2d_pointwise_small_io(p, table, scratch, Apart { input, output });
}

/// [`conv2d_pointwise_small`] over one buffer, as [`conv2d_pointwise_in_place`]: the input
/// at byte `input_at`, the output from byte 0.
#[inline(always)]
pub fn conv2d_pointwise_small_in_place(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    table: &[i32],
    scratch: &mut [u32],
) {
    conv2d_pointwise_small_io(p, table, scratch, Shared { data, input_at });
}

/// The loop of [`conv2d_pointwise_small`] and [`conv2d_pointwise_small_in_place`]: the
/// whole blocks through the `asm!` loop on Arm, then block by block what is left.
#[inline(always)]
fn conv2d_pointwise_small_io<IO: ConvIo>(
    p: &ConvFast,
    table: &[i32],
    scratch: &mut [u32],
    mut io: IO,
) {
    const P: usize = TILE_PIXELS;
    let s = &p.shape;
    let (in_c, out_c) = (s.in_c, s.out_c);
    let groups = in_c / 4;
    let pixels = s.batches * s.out_h * s.out_w;
    let Some(table) = table.get(..out_c * pointwise_small_words(in_c)) else {
        return;
    };
    if groups == 0 || groups > POINTWISE_SMALL_MAX_C / 4 || out_c == 0 {
        return;
    }
    let strided = s.stride_h != 1 || s.stride_w != 1;
    let done = if strided {
        0
    } else {
        pointwise_small_blocks(groups, out_c, pixels / P, table, scratch, &mut io)
    };
    for b in done..pixels.div_ceil(P) {
        let (first, count) = patch_block::<P>(b, pixels);
        if strided {
            widen_strided(s, io.input(), first, count, scratch);
        } else {
            widen_pointwise::<P, false>(io.input(), first, count, in_c, scratch);
        }
        let at = first * out_c;
        let Some(out) = io.output().get_mut(at..at + count * out_c) else {
            return;
        };
        if count == P && pointwise_small_block(groups, table, scratch, out) {
            continue;
        }
        pointwise_small_portable(groups, table, scratch, out, count);
    }
}

/// The input pixels of output pixels `first..first + count` of a strided 1×1 layer
/// ([`pointwise_small_fits`]), widened into `scratch` as [`widen_pointwise`] lays them out.
#[inline(always)]
fn widen_strided(s: &ConvShape, input: &[i8], first: usize, count: usize, scratch: &mut [u32]) {
    const P: usize = TILE_PIXELS;
    let plane = s.out_h * s.out_w;
    for k in 0..count {
        let n = first + k;
        let (b, y, x) = (
            n / plane.max(1),
            n % plane.max(1) / s.out_w.max(1),
            n % s.out_w.max(1),
        );
        let at = ((b * s.in_h + y * s.stride_h) * s.in_w + x * s.stride_w) * s.in_c;
        let Some(pixel) = input.get(at..at + s.in_c) else {
            return;
        };
        for (j, x) in pixel.chunks_exact(4).enumerate() {
            let word = u32::from_le_bytes([x[0] as u8, x[1] as u8, x[2] as u8, x[3] as u8]);
            let i = (j * P + k) * 2;
            if let Some([e, o]) = scratch.get_mut(i..i + 2) {
                (*e, *o) = (dsp::sxtb16(word), dsp::sxtb16_ror8(word));
            }
        }
    }
}

/// One whole block of [`conv2d_pointwise_small`], already widened into `scratch`, through
/// the `asm!` loop, on Arm: `false` (nothing done) elsewhere or when `scratch` or `out` are
/// short.
#[inline(always)]
fn pointwise_small_block(
    groups: usize,
    table: &[i32],
    scratch: &mut [u32],
    out: &mut [i8],
) -> bool {
    #[cfg(target_arch = "arm")]
    {
        let out_c = table.len() / pointwise_small_words(4 * groups);
        let words = 2 * TILE_PIXELS * groups;
        let block = scratch.as_mut_ptr();
        let whole = out_c > 0 && out.len() >= TILE_PIXELS * out_c;
        if let (Some(state), true) = (scratch.get_mut(words..words + 7), whole) {
            let range = table.as_ptr_range();
            // No input to widen: its position is its end.
            state.copy_from_slice(&[
                out.as_mut_ptr() as u32,
                out_c as u32,
                range.end as u32,
                block as u32,
                0,
                0,
                range.start as u32,
            ]);
            pointwise_small_asm::<false>(groups, block);
            return true;
        }
    }
    let _ = (groups, table, scratch, out);
    false
}

/// `dsp::pointwise_small5` for `groups` groups of four input channels (1 to 8), on Arm
/// (elsewhere nothing: its callers run it on Arm only).
#[cfg_attr(not(target_arch = "arm"), allow(dead_code))]
#[inline(always)]
fn pointwise_small_asm<const WIDEN: bool>(groups: usize, block: *mut u32) {
    #[cfg(target_arch = "arm")]
    match groups {
        1 => dsp::pointwise_small5::<1, WIDEN>(block),
        2 => dsp::pointwise_small5::<2, WIDEN>(block),
        3 => dsp::pointwise_small5::<3, WIDEN>(block),
        4 => dsp::pointwise_small5::<4, WIDEN>(block),
        5 => dsp::pointwise_small5::<5, WIDEN>(block),
        6 => dsp::pointwise_small5::<6, WIDEN>(block),
        7 => dsp::pointwise_small5::<7, WIDEN>(block),
        _ => dsp::pointwise_small5::<8, WIDEN>(block),
    }
    let _ = (groups, block);
}

/// The first `blocks` blocks of [`conv2d_pointwise_small`] through the `asm!` loop, on Arm:
/// how many it ran (0 elsewhere, or when `scratch`, the input or the output are short).
#[inline(always)]
fn pointwise_small_blocks<IO: ConvIo>(
    groups: usize,
    out_c: usize,
    blocks: usize,
    table: &[i32],
    scratch: &mut [u32],
    io: &mut IO,
) -> usize {
    #[cfg(target_arch = "arm")]
    {
        let RawIo {
            input,
            input_len,
            output,
            output_len,
        } = io.raw();
        let words = 2 * TILE_PIXELS * groups;
        let block = scratch.as_mut_ptr();
        let fits = blocks > 0
            && input_len >= blocks * TILE_PIXELS * 4 * groups
            && output_len >= blocks * TILE_PIXELS * out_c;
        if let (Some(state), true) = (scratch.get_mut(words..words + 7), fits) {
            let range = table.as_ptr_range();
            let in_end = input.wrapping_add(blocks * TILE_PIXELS * 4 * groups);
            state.copy_from_slice(&[
                output as u32,
                out_c as u32,
                range.end as u32,
                block as u32,
                input as u32,
                in_end as u32,
                range.start as u32,
            ]);
            pointwise_small_asm::<true>(groups, block);
            return blocks;
        }
    }
    let _ = (groups, out_c, blocks, table, scratch, io);
    0
}

/// The portable twin of `dsp::pointwise_small5`, for `count` pixels of a block: per
/// output channel (its `table` words), each pixel's widened input from `block` times the
/// doubled weights, from the doubled start value, then SMMLAR with the offset constant, the
/// sign correction, the right shift and the saturation to int8.
#[inline(always)]
fn pointwise_small_portable(
    groups: usize,
    table: &[i32],
    block: &[u32],
    out: &mut [i8],
    count: usize,
) {
    let words = pointwise_small_words(4 * groups);
    let out_c = table.len() / words;
    for (oc, row) in table.chunks_exact(words).enumerate() {
        let (Some(&bias), Some(weights), Some(&[m, c, right])) = (
            row.first(),
            row.get(TILE_PIXELS..TILE_PIXELS + 2 * groups),
            row.get(TILE_PIXELS + 2 * groups..),
        ) else {
            return;
        };
        for k in 0..count {
            let mut acc = bias;
            for (g, w) in weights.chunks_exact(2).enumerate() {
                let i = (g * TILE_PIXELS + k) * 2;
                let (Some(&even), Some(&odd)) = (block.get(i), block.get(i + 1)) else {
                    return;
                };
                acc = dsp::smlad(odd, w[1] as u32, dsp::smlad(even, w[0] as u32, acc));
            }
            let v = (dsp::smmlar(acc, m, c) + (acc >> 31)) >> right;
            if let Some(o) = out.get_mut(k * out_c + oc) {
                *o = clamp_i8(v, -128, 127);
            }
        }
    }
}

/// The first pixel's slot of [`patch_dot_tile`]'s reduction, from `acc`.
#[inline(always)]
fn patch_dot_first(filter: &[u8], patches: &[u32], acc: i32) -> i32 {
    let mut sum = acc;
    for (w4, x) in filter
        .chunks_exact(4)
        .zip(patches.chunks_exact(2 * TILE_PIXELS))
    {
        let w = u32::from_le_bytes([w4[0], w4[1], w4[2], w4[3]]);
        sum = dsp::smlad(
            x[1],
            dsp::sxtb16_ror8(w),
            dsp::smlad(x[0], dsp::sxtb16(w), sum),
        );
    }
    sum
}

/// Whether every patch of a layer is one input pixel's whole channel run, a multiple of 4
/// bytes: a 1×1 convolution with stride 1 and no padding (output pixel `n` reads input pixel
/// `n`) over 4 to [`POINTWISE_WORDS_MAX_C`] input channels, where the per-pixel cost of
/// [`gather_patch`] (pixel coordinates, byte staging) is shared by few MACs.
#[inline(always)]
fn pointwise_words(s: &ConvShape) -> bool {
    s.k_h == 1
        && s.k_w == 1
        && s.stride_h == 1
        && s.stride_w == 1
        && s.pad_top == 0
        && s.pad_left == 0
        && s.in_h == s.out_h
        && s.in_w == s.out_w
        && s.k_c == s.in_c
        && s.in_c.is_multiple_of(4)
        && s.in_c <= POINTWISE_WORDS_MAX_C
}

/// Most input channels of a [`pointwise_words`] layer. Wider layers share the gather over
/// enough MACs that the direct copy measures no better on the Cortex-M4 (and a little worse
/// at 32 channels, from code placement).
pub const POINTWISE_WORDS_MAX_C: usize = 16;

/// The patches of pixels `first..first + count` of a [`pointwise_words`] layer, widened into
/// `scratch` as [`PatchWriter`] lays them out (group `j` of pixel `k` at words `(j·P + k)·2`
/// and `+1`): the block's input is one run of whole words, each split once into its even and
/// odd bytes, without pixel coordinates or byte staging; each byte doubled when `DOUBLE`.
#[inline(always)]
pub fn widen_pointwise<const P: usize, const DOUBLE: bool>(
    input: &[i8],
    first: usize,
    count: usize,
    in_c: usize,
    scratch: &mut [u32],
) {
    let at = first * in_c;
    let Some(pixels) = input.get(at..at + count * in_c) else {
        return;
    };
    for (k, pixel) in pixels.chunks_exact(in_c).enumerate() {
        for (j, x) in pixel.chunks_exact(4).enumerate() {
            let word = u32::from_le_bytes([x[0] as u8, x[1] as u8, x[2] as u8, x[3] as u8]);
            let i = (j * P + k) * 2;
            if let Some([e, o]) = scratch.get_mut(i..i + 2) {
                let (even, odd) = (dsp::sxtb16(word), dsp::sxtb16_ror8(word));
                if DOUBLE {
                    // Halves of -256..=254: still i16.
                    (*e, *o) = (dsp::sadd16(even, even), dsp::sadd16(odd, odd));
                } else {
                    (*e, *o) = (even, odd);
                }
            }
        }
    }
}

/// A pixel's patch as plain bytes, `P` pixels interleaved: its byte `k` at `k·P + slot`.
struct BytePatch<'a, const P: usize> {
    bytes: &'a mut [i8],
    /// Where its next byte goes.
    at: usize,
}

impl<const P: usize> PatchSink for BytePatch<'_, P> {
    #[inline(always)]
    fn run(&mut self, bytes: &[i8]) {
        let at = self.at;
        self.at += P * bytes.len();
        // Whole strides of the run (no check per byte), else byte by byte at the very end.
        if let Some(dst) = self.bytes.get_mut(at..at + P * bytes.len()) {
            for (d, &b) in dst.chunks_exact_mut(P).zip(bytes) {
                d[0] = b;
            }
            return;
        }
        let dst = self.bytes.get_mut(at..).unwrap_or(&mut []);
        for (d, &b) in dst.iter_mut().step_by(P).zip(bytes) {
            *d = b;
        }
    }

    #[inline(always)]
    fn fill(&mut self, b: u8, n: usize) {
        for _ in 0..n {
            if let Some(d) = self.bytes.get_mut(self.at) {
                *d = b as i8;
            }
            self.at += P;
        }
    }
}

/// [`conv2d_patches`] for cores without SIMD (Cortex-M0+, RV32IMC, portable code): the `P`
/// pixels' patches are copied as plain bytes, interleaved by patch position (byte `k` of pixel
/// `p` at `k·P + p`), and output channels go `O` at a time: each tap's `O` filter bytes and `P`
/// patch bytes are loaded once and multiplied into the `O × P` accumulators, which stay in
/// registers for the whole row. The filter is tile-major ([`patch_tile_index`]): the first
/// `out_c / O · O` channels in tiles of `O` channels, byte `k` of tile channel `o` at
/// `k·O + o`, then the other channels one row each. `scratch` holds `P · row_len` bytes. With
/// `PAIRS` the reduction takes two patch positions per loop pass (one branch and pointer
/// update per two), which RV32IMC's wide layers gain from and others lose to.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn conv2d_patches_scalar<const P: usize, const O: usize, const PAIRS: bool>(
    p: &ConvFast,
    row_len: usize,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [i8],
    output: &mut [i8],
) {
    let w = PatchWeights {
        row_len,
        filter,
        folded_bias,
        multiplier,
        shift,
    };
    conv2d_patches_scalar_io::<P, O, PAIRS, _>(p, &w, scratch, Apart { input, output });
}

/// [`conv2d_patches_scalar`] in place, as [`conv2d_patches_in_place`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn conv2d_patches_scalar_in_place<const P: usize, const O: usize, const PAIRS: bool>(
    p: &ConvFast,
    row_len: usize,
    data: &mut [i8],
    input_at: usize,
    filter: &[u8],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [i8],
) {
    let w = PatchWeights {
        row_len,
        filter,
        folded_bias,
        multiplier,
        shift,
    };
    conv2d_patches_scalar_io::<P, O, PAIRS, _>(p, &w, scratch, Shared { data, input_at });
}

/// [`conv2d_patches_scalar`] for the Cortex-M0+ ([`patch_dot_thumb1`]'s `asm!` loop):
/// [`THUMB1_PIXELS`] pixels per block, their patch bytes stored offset by 128 (`x ^ 0x80`, so
/// a zero-extending load reads `x + 128`), and `unsigned_bias` = `folded_bias − 128·Σw` per
/// output channel (computed at compile time) taking the offset back out. `scratch` holds
/// `4 · row_len` bytes.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn conv2d_patches_thumb1(
    p: &ConvFast,
    row_len: usize,
    input: &[i8],
    filter: &[u8],
    unsigned_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [i8],
    output: &mut [i8],
) {
    let w = PatchWeights {
        row_len,
        filter,
        folded_bias: unsigned_bias,
        multiplier,
        shift,
    };
    conv2d_patches_thumb1_io(p, &w, scratch, Apart { input, output });
}

/// [`conv2d_patches_thumb1`] in place, as [`conv2d_patches_in_place`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn conv2d_patches_thumb1_in_place(
    p: &ConvFast,
    row_len: usize,
    data: &mut [i8],
    input_at: usize,
    filter: &[u8],
    unsigned_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [i8],
) {
    let w = PatchWeights {
        row_len,
        filter,
        folded_bias: unsigned_bias,
        multiplier,
        shift,
    };
    conv2d_patches_thumb1_io(p, &w, scratch, Shared { data, input_at });
}

/// The loop of [`conv2d_patches_thumb1`] and [`conv2d_patches_thumb1_in_place`].
#[inline(always)]
fn conv2d_patches_thumb1_io<IO: ConvIo>(
    p: &ConvFast,
    w: &PatchWeights,
    scratch: &mut [i8],
    mut io: IO,
) {
    const P: usize = THUMB1_PIXELS;
    let s = &p.shape;
    let writer = Store {
        p,
        multiplier: w.multiplier,
        shift: w.shift,
    };
    let pixels = s.batches * s.out_h * s.out_w;
    let row = w.row_len.max(1);
    for b in 0..pixels.div_ceil(P) {
        let (first, count) = patch_block::<P>(b, pixels);
        for (slot, n) in (first..first + count).enumerate() {
            let mut sink = OffsetPatch {
                bytes: &mut *scratch,
                at: slot,
            };
            gather_patch(p, io.input(), n, &mut sink);
        }
        let patches = scratch.get(..row * P).unwrap_or(&[]);
        for (oc, r) in w.filter.chunks_exact(row).take(s.out_c).enumerate() {
            let mut acc = [w.folded_bias.get(oc).copied().unwrap_or(0); P];
            patch_dot_thumb1(r, patches, &mut acc);
            writer.put_block(io.output(), first, count, oc, &acc);
        }
    }
}

/// A pixel's patch as bytes offset by 128 (`x ^ 0x80`), [`THUMB1_PIXELS`] pixels
/// interleaved: its byte `k` at `4k + slot`.
struct OffsetPatch<'a> {
    bytes: &'a mut [i8],
    /// Where its next byte goes.
    at: usize,
}

impl PatchSink for OffsetPatch<'_> {
    #[inline(always)]
    fn run(&mut self, bytes: &[i8]) {
        const P: usize = THUMB1_PIXELS;
        let at = self.at;
        self.at += P * bytes.len();
        // Whole strides of the run (no check per byte), else byte by byte at the very end.
        if let Some(dst) = self.bytes.get_mut(at..at + P * bytes.len()) {
            for (d, &b) in dst.chunks_exact_mut(P).zip(bytes) {
                d[0] = b ^ i8::MIN;
            }
            return;
        }
        let dst = self.bytes.get_mut(at..).unwrap_or(&mut []);
        for (d, &b) in dst.iter_mut().step_by(P).zip(bytes) {
            *d = b ^ i8::MIN;
        }
    }

    #[inline(always)]
    fn fill(&mut self, b: u8, n: usize) {
        let dst = self.bytes.get_mut(self.at..).unwrap_or(&mut []);
        for d in dst.iter_mut().step_by(THUMB1_PIXELS).take(n) {
            *d = (b ^ 0x80) as i8;
        }
        self.at += THUMB1_PIXELS * n;
    }
}

/// Where byte `k` of output channel `oc`'s filter row sits in [`conv2d_patches_scalar`]'s
/// tile-major filter of `out_c` rows of `row_len` bytes, `tile` channels per tile.
pub fn patch_tile_index(oc: usize, k: usize, row_len: usize, out_c: usize, tile: usize) -> usize {
    let tile = tile.max(1);
    if oc < out_c / tile * tile {
        (oc - oc % tile) * row_len + k * tile + oc % tile
    } else {
        oc * row_len + k
    }
}

/// One step of the scalar patch tile: a patch position's `O` weights times its `P` patch
/// bytes, into the tile's accumulators. A function of its own (not a closure) so that it is
/// inlined into every layer's copy of the loop rather than shared by all of them.
#[inline(always)]
fn patch_tile_step<const P: usize, const O: usize>(acc: &mut [[i32; P]; O], wk: &[u8], xk: &[i8]) {
    for (a, &wv) in acc.iter_mut().zip(wk) {
        let wv = wv as i8 as i32;
        for (ap, &xv) in a.iter_mut().zip(xk) {
            *ap = ap.wrapping_add((xv as i32).wrapping_mul(wv));
        }
    }
}

/// The loop of [`conv2d_patches_scalar`] and [`conv2d_patches_scalar_in_place`].
#[inline(always)]
fn conv2d_patches_scalar_io<const P: usize, const O: usize, const PAIRS: bool, IO: ConvIo>(
    p: &ConvFast,
    w: &PatchWeights,
    scratch: &mut [i8],
    mut io: IO,
) {
    let s = &p.shape;
    let writer = Store {
        p,
        multiplier: w.multiplier,
        shift: w.shift,
    };
    let patch = s.k_h * s.k_w * s.k_c;
    let pixels = s.batches * s.out_h * s.out_w;
    let row = w.row_len.max(1);
    let tiles = s.out_c / O.max(1);
    for b in 0..pixels.div_ceil(P) {
        let (first, count) = patch_block::<P>(b, pixels);
        for (slot, n) in (first..first + count).enumerate() {
            let mut sink = BytePatch::<P> {
                bytes: &mut *scratch,
                at: slot,
            };
            gather_patch(p, io.input(), n, &mut sink);
        }
        let patches = scratch.get(..patch * P).unwrap_or(&[]);
        for (t, tile) in w.filter.chunks_exact(row * O).take(tiles).enumerate() {
            let oc = t * O;
            let mut acc = [[0i32; P]; O];
            for (o, a) in acc.iter_mut().enumerate() {
                *a = [w.folded_bias.get(oc + o).copied().unwrap_or(0); P];
            }
            if PAIRS {
                // Two steps per pass, then an odd last one.
                for (wk, xk) in tile.chunks_exact(2 * O).zip(patches.chunks_exact(2 * P)) {
                    let ((w0, w1), (x0, x1)) = (wk.split_at(O), xk.split_at(P));
                    patch_tile_step(&mut acc, w0, x0);
                    patch_tile_step(&mut acc, w1, x1);
                }
                if patch % 2 == 1 {
                    let k = patch - 1;
                    if let (Some(wk), Some(xk)) =
                        (tile.get(k * O..k * O + O), patches.get(k * P..k * P + P))
                    {
                        patch_tile_step(&mut acc, wk, xk);
                    }
                }
            } else {
                for (wk, xk) in tile.chunks_exact(O).zip(patches.chunks_exact(P)) {
                    patch_tile_step(&mut acc, wk, xk);
                }
            }
            for (o, a) in acc.iter().enumerate() {
                writer.put_block(io.output(), first, count, oc + o, a);
            }
        }
        // Channels past the last whole tile, one row each.
        for oc in tiles * O..s.out_c {
            let r = w.filter.get(oc * row..(oc + 1) * row).unwrap_or(&[]);
            let mut acc = [w.folded_bias.get(oc).copied().unwrap_or(0); P];
            for (&wv, x) in r.iter().zip(patches.chunks_exact(P)) {
                let wv = wv as i8 as i32;
                for (a, &xv) in acc.iter_mut().zip(x) {
                    *a = a.wrapping_add((xv as i32).wrapping_mul(wv));
                }
            }
            writer.put_block(io.output(), first, count, oc, &acc);
        }
    }
}

/// The filter taps `k` in `0..taps` whose input position `origin + k·dilation` is inside
/// `0..size`, as a range.
#[inline(always)]
pub fn tap_range(origin: isize, dilation: usize, taps: usize, size: usize) -> (usize, usize) {
    let d = dilation as isize;
    let first = if origin < 0 {
        ((-origin + d - 1) / d) as usize
    } else {
        0
    };
    let limit = size as isize - origin; // positions < limit are inside
    let last = if limit <= 0 {
        0
    } else {
        ((limit + d - 1) / d) as usize
    };
    (first.min(taps), last.min(taps).max(first.min(taps)))
}

/// Four channels' multiply-accumulates of one depthwise tap: `acc[j] += w[j]·(x[j] + offset)`
/// for the bytes `j` of the words `x` and `w` (`offset` 0 where it is folded into the bias).
#[inline(always)]
pub fn mac4<D: Dot, const OFFSET: bool>(acc: &mut [i32; 4], x: u32, w: u32, offset: i32) {
    D::mac4::<OFFSET>(acc, x, w, offset)
}

/// Int8 DEPTHWISE_CONV_2D, bit-exact with TFLM's `DepthwiseConvPerChannel`. Pixels whose
/// window is inside the input start from `folded_bias` and accumulate `Σ w·x`; border pixels
/// start from `bias`, visit only the taps inside and add the input offset. Channels go four
/// at a time when the depth multiplier is 1 or a multiple of 4.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_fast<D: Dot>(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let io = Apart { input, output };
    depthwise_conv2d_fast_io::<D, _>(p, filter, folded_bias, bias, multiplier, shift, io);
}

/// [`depthwise_conv2d_fast`] over one buffer: the output from byte 0 of `data`, the input from
/// byte `input_at` (the planner's lead; see [`depthwise_conv2d_wide_in_place`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_fast_in_place<D: Dot>(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    filter: &[u8],
    folded_bias: &[i32],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
) {
    let io = Shared { data, input_at };
    depthwise_conv2d_fast_io::<D, _>(p, filter, folded_bias, bias, multiplier, shift, io);
}

/// The loop of [`depthwise_conv2d_fast`] and [`depthwise_conv2d_fast_in_place`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn depthwise_conv2d_fast_io<D: Dot, IO: ConvIo>(
    p: &ConvFast,
    filter: &[u8],
    folded_bias: &[i32],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    mut io: IO,
) {
    let s = &p.shape;
    let writer = Store {
        p,
        multiplier,
        shift,
    };
    let dm = s.depth_multiplier;
    let offset = -p.input_zero_point;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            let (ky0, ky1) = tap_range(y0, s.dilation_h, s.k_h, s.in_h);
            for ox in 0..s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                let (kx0, kx1) = tap_range(x0, s.dilation_w, s.k_w, s.in_w);
                let full = ky0 == 0 && ky1 == s.k_h && kx0 == 0 && kx1 == s.k_w;
                let base = ((b * s.out_h + oy) * s.out_w + ox) * s.out_c;
                // Input index of tap (ky, kx), channel 0.
                let at = |ky: usize, kx: usize| {
                    let iy = (y0 + (ky * s.dilation_h) as isize) as usize;
                    let ix = (x0 + (kx * s.dilation_w) as isize) as usize;
                    ((b * s.in_h + iy) * s.in_w + ix) * s.in_c
                };
                let mut oc = 0;
                // Four consecutive output channels read four consecutive input channels
                // (multiplier 1) or one input channel (multiplier a multiple of 4).
                let x_word = |input: &[i8], at: usize, oc: usize| {
                    if dm == 1 {
                        word_i8(input, at + oc)
                    } else {
                        (input.get(at + oc / dm).copied().unwrap_or(0) as u8 as u32) * 0x0101_0101
                    }
                };
                if dm == 1 || dm & 3 == 0 {
                    while oc + 4 <= s.out_c {
                        // Borrowed anew around the writes, which may land in the same buffer.
                        let input = io.input();
                        let start = if full { folded_bias } else { bias };
                        let mut acc = [0i32; 4];
                        for (j, a) in acc.iter_mut().enumerate() {
                            *a = start.get(oc + j).copied().unwrap_or(0);
                        }
                        if full {
                            // Constant trip counts: the window unrolls, addresses are
                            // constant offsets from the window's origin.
                            let origin = at(0, 0);
                            for ky in 0..s.k_h {
                                for kx in 0..s.k_w {
                                    let tap =
                                        (ky * s.dilation_h * s.in_w + kx * s.dilation_w) * s.in_c;
                                    let x = x_word(input, origin + tap, oc);
                                    let w = word_u8(filter, (ky * s.k_w + kx) * s.out_c + oc);
                                    mac4::<D, false>(&mut acc, x, w, 0);
                                }
                            }
                        } else {
                            for ky in ky0..ky1 {
                                for kx in kx0..kx1 {
                                    let x = x_word(input, at(ky, kx), oc);
                                    let w = word_u8(filter, (ky * s.k_w + kx) * s.out_c + oc);
                                    mac4::<D, true>(&mut acc, x, w, offset);
                                }
                            }
                        }
                        for (j, &a) in acc.iter().enumerate() {
                            writer.put(io.output(), base + oc + j, oc + j, a);
                        }
                        oc += 4;
                    }
                }
                // Remaining channels (all of them when the depth multiplier is not 1).
                while oc < s.out_c {
                    let input = io.input();
                    let ic = oc / dm;
                    let mut acc = bias.get(oc).copied().unwrap_or(0);
                    for ky in ky0..ky1 {
                        for kx in kx0..kx1 {
                            let x = input.get(at(ky, kx) + ic).copied().unwrap_or(0) as i32;
                            let w = filter
                                .get((ky * s.k_w + kx) * s.out_c + oc)
                                .copied()
                                .unwrap_or(0);
                            acc = acc.wrapping_add(
                                (w as i8 as i32).wrapping_mul(x.wrapping_add(offset)),
                            );
                        }
                    }
                    writer.put(io.output(), base + oc, oc, acc);
                    oc += 1;
                }
            }
        }
    }
}

/// Int8 DEPTHWISE_CONV_2D with depth multiplier 1 for cores without SIMD (Cortex-M0+,
/// RV32IMC), bit-exact with TFLM's `DepthwiseConvPerChannel`: interior pixels take four
/// channels at a time, each tap's weight and input bytes loaded at constant offsets from the
/// quad's window (one bounds check per quad, none per tap) and accumulated from
/// `folded_bias`; border pixels take four channels over the taps inside, from `bias` with
/// the input offset, and the channels past the last quad go one at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_scalar(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    folded_bias: &[i32],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
) {
    let io = Apart { input, output };
    depthwise_conv2d_scalar_io(p, filter, folded_bias, bias, multiplier, shift, io);
}

/// [`depthwise_conv2d_scalar`] over one buffer: the output from byte 0 of `data`, the input
/// from byte `input_at` (the planner's lead, as [`depthwise_conv2d_fast_in_place`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_scalar_in_place(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    filter: &[u8],
    folded_bias: &[i32],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
) {
    let io = Shared { data, input_at };
    depthwise_conv2d_scalar_io(p, filter, folded_bias, bias, multiplier, shift, io);
}

/// The loop of [`depthwise_conv2d_scalar`] and [`depthwise_conv2d_scalar_in_place`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn depthwise_conv2d_scalar_io<IO: ConvIo>(
    p: &ConvFast,
    filter: &[u8],
    folded_bias: &[i32],
    bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    mut io: IO,
) {
    let s = &p.shape;
    let writer = Store {
        p,
        multiplier,
        shift,
    };
    let offset = -p.input_zero_point;
    let c = s.out_c;
    let taps = s.k_h * s.k_w;
    // A quad's input window: its taps' bytes from channel `oc`, the last tap's four included.
    let last_tap = ((s.k_h - 1) * s.dilation_h * s.in_w + (s.k_w - 1) * s.dilation_w) * s.in_c;
    let quads = c / 4 * 4;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            let (ky0, ky1) = tap_range(y0, s.dilation_h, s.k_h, s.in_h);
            for ox in 0..s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                let (kx0, kx1) = tap_range(x0, s.dilation_w, s.k_w, s.in_w);
                let full = ky0 == 0 && ky1 == s.k_h && kx0 == 0 && kx1 == s.k_w;
                let base = ((b * s.out_h + oy) * s.out_w + ox) * c;
                let at = |ky: usize, kx: usize| {
                    let iy = (y0 + (ky * s.dilation_h) as isize) as usize;
                    let ix = (x0 + (kx * s.dilation_w) as isize) as usize;
                    ((b * s.in_h + iy) * s.in_w + ix) * s.in_c
                };
                let mut oc = 0;
                if full {
                    let origin = at(0, 0);
                    while oc < quads {
                        let mut acc = [0i32; 4];
                        let input = io.input();
                        let (Some(x), Some(w), Some(start)) = (
                            input.get(origin + oc..origin + oc + last_tap + 4),
                            filter.get(oc..oc + (taps - 1) * c + 4),
                            folded_bias.get(oc..oc + 4),
                        ) else {
                            break;
                        };
                        for (a, &v) in acc.iter_mut().zip(start) {
                            *a = v;
                        }
                        // Constant trip counts and offsets: the window unrolls into loads at
                        // immediate offsets.
                        for ky in 0..s.k_h {
                            for kx in 0..s.k_w {
                                let tap = (ky * s.dilation_h * s.in_w + kx * s.dilation_w) * s.in_c;
                                let wt = (ky * s.k_w + kx) * c;
                                for (j, a) in acc.iter_mut().enumerate() {
                                    let xv = x.get(tap + j).copied().unwrap_or(0) as i32;
                                    let wv = w.get(wt + j).copied().unwrap_or(0) as i8 as i32;
                                    *a = a.wrapping_add(wv.wrapping_mul(xv));
                                }
                            }
                        }
                        for (j, &a) in acc.iter().enumerate() {
                            writer.put(io.output(), base + oc + j, oc + j, a);
                        }
                        oc += 4;
                    }
                } else {
                    // A border pixel: four channels over the taps inside, from `bias`.
                    while oc < quads {
                        let input = io.input();
                        let mut acc = [0i32; 4];
                        for (j, a) in acc.iter_mut().enumerate() {
                            *a = bias.get(oc + j).copied().unwrap_or(0);
                        }
                        for ky in ky0..ky1 {
                            for kx in kx0..kx1 {
                                let a = at(ky, kx) + oc;
                                let wt = (ky * s.k_w + kx) * c + oc;
                                let (Some(x), Some(w)) =
                                    (input.get(a..a + 4), filter.get(wt..wt + 4))
                                else {
                                    continue;
                                };
                                for ((acc, &xv), &wv) in acc.iter_mut().zip(x).zip(w) {
                                    *acc = acc.wrapping_add(
                                        (wv as i8 as i32)
                                            .wrapping_mul((xv as i32).wrapping_add(offset)),
                                    );
                                }
                            }
                        }
                        for (j, &a) in acc.iter().enumerate() {
                            writer.put(io.output(), base + oc + j, oc + j, a);
                        }
                        oc += 4;
                    }
                }
                // The channels past the last quad.
                while oc < c {
                    let input = io.input();
                    let mut acc = bias.get(oc).copied().unwrap_or(0);
                    for ky in ky0..ky1 {
                        for kx in kx0..kx1 {
                            let x = input.get(at(ky, kx) + oc).copied().unwrap_or(0) as i32;
                            let w = filter.get((ky * s.k_w + kx) * c + oc).copied().unwrap_or(0);
                            acc = acc.wrapping_add(
                                (w as i8 as i32).wrapping_mul(x.wrapping_add(offset)),
                            );
                        }
                    }
                    writer.put(io.output(), base + oc, oc, acc);
                    oc += 1;
                }
            }
        }
    }
}

/// The least lead (bytes) for an int8 convolution of shape `s` to run in place (computed at
/// compile time, by the planner and the kernel checks): with its output
/// starting `lead` bytes before its input, the end of output pixel `n` never passes the first
/// input byte read by any pixel `m ≥ n`.
pub fn in_place_lead(s: &ConvShape) -> usize {
    let pixels = s.batches * s.out_h * s.out_w;
    // First input byte each output pixel reads (None: all its taps are padding).
    let first_read = |n: usize| -> Option<usize> {
        let (b, oy, ox) = (
            n / (s.out_h * s.out_w),
            (n / s.out_w) % s.out_h,
            n % s.out_w,
        );
        let y0 = window_start(oy, s.stride_h, s.pad_top);
        let x0 = window_start(ox, s.stride_w, s.pad_left);
        let (ky0, ky1) = tap_range(y0, s.dilation_h, s.k_h, s.in_h);
        let (kx0, kx1) = tap_range(x0, s.dilation_w, s.k_w, s.in_w);
        if ky0 >= ky1 || kx0 >= kx1 {
            return None;
        }
        let iy = (y0 + (ky0 * s.dilation_h) as isize) as usize;
        let ix = (x0 + (kx0 * s.dilation_w) as isize) as usize;
        Some(((b * s.in_h + iy) * s.in_w + ix) * s.in_c)
    };
    let mut lead = 0usize;
    let mut min_read = usize::MAX;
    for n in (0..pixels).rev() {
        if let Some(r) = first_read(n) {
            min_read = min_read.min(r);
        }
        let write_end = (n + 1) * s.out_c;
        if min_read != usize::MAX {
            lead = lead.max(write_end.saturating_sub(min_read));
        }
    }
    lead
}

/// The output positions `lo..hi` along one axis whose window lies wholly inside the input.
#[inline(always)]
pub fn interior(
    out: usize,
    stride: usize,
    padding: usize,
    span: usize,
    size: usize,
) -> (usize, usize) {
    let lo = padding.div_ceil(stride.max(1));
    let hi = if size + padding >= span {
        ((size + padding - span) / stride.max(1) + 1).min(out)
    } else {
        0
    };
    (lo.min(hi), hi)
}

/// Int8 DEPTHWISE_CONV_2D with depth multiplier 1 for Arm DSP cores, bit-exact with TFLM's
/// `DepthwiseConvPerChannel`. Channels go four at a time; the weights come widened at compile
/// time (`wide`: per tap, per group of four channels, the words `(w0, w2)` and `(w1, w3)` as
/// i16 pairs; channels padded to a multiple of 4 with zero weights), so each tap costs one
/// input word, two SXTB16 and four 16×16 multiply-accumulates (SMLABB/SMLATT). Every pixel
/// starts from `folded_bias` and runs the whole window: interior pixels with constant
/// offsets, border pixels reading the input zero point for taps outside (the fold cancels
/// them; their window's words are gathered into `scratch`, `k_h·k_w·⌈out_c/4⌉` words, first).
/// The lengths are const parameters, so the compiler sees every index's bound.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_wide<
    const IN: usize,
    const OUT: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
>(
    p: &ConvFast,
    input: &[i8; IN],
    wide: &[u32; W],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [u32],
    output: &mut [i8; OUT],
) {
    let io = Apart { input, output };
    depthwise_conv2d_wide_io::<_, IN, OUT, W, KH, KW>(
        p,
        wide,
        folded_bias,
        multiplier,
        shift,
        scratch,
        io,
    );
}

/// [`depthwise_conv2d_wide`] over one buffer: the output from byte 0 of `data`, the input
/// (`IN` bytes) from byte `input_at`, the planner's lead, which keeps every pixel's writes
/// before any input a later pixel (or the pixel itself) reads.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_wide_in_place<
    const IN: usize,
    const OUT: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
>(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    wide: &[u32; W],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [u32],
) {
    let io = Shared { data, input_at };
    depthwise_conv2d_wide_io::<_, IN, OUT, W, KH, KW>(
        p,
        wide,
        folded_bias,
        multiplier,
        shift,
        scratch,
        io,
    );
}

/// The first `N` elements of `s` as a mutable array (bounds the compiler knows), if it has
/// them.
#[inline(always)]
fn fixed_mut<const N: usize>(s: &mut [i8]) -> Option<&mut [i8; N]> {
    s.get_mut(..N).and_then(|x| x.try_into().ok())
}

/// One group of four channels of an interior pixel of [`depthwise_conv2d_wide`]: the
/// accumulators over the window `win` (its bytes from the window's origin).
#[inline(always)]
fn wide_window_group<const KH: usize, const KW: usize>(
    s: &ConvShape,
    win: &[i8],
    g: usize,
    folded_bias: &[i32],
    weights: &impl Fn(usize, usize, usize) -> (u32, u32),
) -> [i32; 4] {
    let oc = 4 * g;
    let mut acc = [0i32; 4];
    for (j, a) in acc.iter_mut().enumerate() {
        *a = folded_bias.get(oc + j).copied().unwrap_or(0);
    }
    for ky in 0..KH {
        for kx in 0..KW {
            let t = (ky * s.dilation_h * s.in_w + kx * s.dilation_w) * s.in_c + oc;
            let x = match win.get(t..t + 4) {
                Some(&[a, b, c, d]) => u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8]),
                _ => 0,
            };
            let (we, wo) = weights(ky, kx, g);
            wide_tap(&mut acc, dsp::sxtb16(x), dsp::sxtb16_ror8(x), we, wo);
        }
    }
    acc
}

/// The first `N` elements of `s` as an array (bounds the compiler knows), if it has them.
#[inline(always)]
fn fixed<const N: usize>(s: &[i8]) -> Option<&[i8; N]> {
    s.get(..N).and_then(|x| x.try_into().ok())
}

/// The loop of [`depthwise_conv2d_wide`] and [`depthwise_conv2d_wide_in_place`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn depthwise_conv2d_wide_io<
    IO: ConvIo,
    const IN: usize,
    const OUT: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
>(
    p: &ConvFast,
    wide: &[u32; W],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [u32],
    mut io: IO,
) {
    let s = &p.shape;
    let writer = Store {
        p,
        multiplier,
        shift,
    };
    let groups = s.out_c.div_ceil(4);
    // Four copies of the input zero point: the value of a padded tap.
    let zero_points = (p.input_zero_point as u8 as u32) * 0x0101_0101;
    let span_h = (KH - 1) * s.dilation_h + 1;
    let span_w = (KW - 1) * s.dilation_w + 1;
    let (y_lo, y_hi) = interior(s.out_h, s.stride_h, s.pad_top, span_h, s.in_h);
    let (x_lo, x_hi) = interior(s.out_w, s.stride_w, s.pad_left, span_w, s.in_w);
    // An interior window's bytes from its origin: every tap of every channel group.
    let window = ((span_h - 1) * s.in_w + span_w - 1) * s.in_c + 4 * groups;
    let weights = |ky: usize, kx: usize, g: usize| -> (u32, u32) {
        let k = ((ky * KW + kx) * groups + g) * 2;
        match wide.get(k..k + 2) {
            Some(&[we, wo]) => (we, wo),
            _ => (0, 0),
        }
    };
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            for ox in 0..s.out_w {
                let base = ((b * s.out_h + oy) * s.out_w + ox) * s.out_c;
                // The input at a fixed length, so the index bounds are known to the compiler
                // (borrowed anew around the writes, which may land in the same buffer).
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                let interior_pixel = (y_lo..y_hi).contains(&oy) && (x_lo..x_hi).contains(&ox);
                let origin =
                    ((b * s.in_h + y0.max(0) as usize) * s.in_w + x0.max(0) as usize) * s.in_c;
                let interior = fixed::<IN>(io.input())
                    .and_then(|i| i.get(origin..origin + window))
                    .is_some();
                if interior_pixel && interior {
                    // Interior: the whole window at constant offsets within `win`.
                    if let Some((input, output)) = io.split() {
                        // Apart: the window borrowed once for every group.
                        if let Some(win) =
                            fixed::<IN>(input).and_then(|i| i.get(origin..origin + window))
                        {
                            for g in 0..groups {
                                let acc =
                                    wide_window_group::<KH, KW>(s, win, g, folded_bias, &weights);
                                if let Some(out) = fixed_mut::<OUT>(output) {
                                    writer.put4_checked(out, base, 4 * g, acc);
                                }
                            }
                        }
                    } else {
                        // In place: borrowed anew between the writes.
                        for g in 0..groups {
                            let Some(win) = fixed::<IN>(io.input())
                                .and_then(|i| i.get(origin..origin + window))
                            else {
                                break;
                            };
                            let acc = wide_window_group::<KH, KW>(s, win, g, folded_bias, &weights);
                            if let Some(out) = fixed_mut::<OUT>(io.output()) {
                                writer.put4_checked(out, base, 4 * g, acc);
                            }
                        }
                    }
                    continue;
                }
                // Border: the window's words gathered into `scratch` first (taps outside
                // the input read the zero point, which the folded bias cancels), then the same
                // straight-line taps as inside, reading `scratch` at constant offsets.
                let Some(input) = fixed::<IN>(io.input()) else {
                    return;
                };
                for ky in 0..KH {
                    let iy = y0 + (ky * s.dilation_h) as isize;
                    let row_in = iy >= 0 && iy < s.in_h as isize;
                    for kx in 0..KW {
                        let ix = x0 + (kx * s.dilation_w) as isize;
                        let inside = row_in && ix >= 0 && ix < s.in_w as isize;
                        let at = if inside {
                            ((b * s.in_h + iy as usize) * s.in_w + ix as usize) * s.in_c
                        } else {
                            0
                        };
                        let tap = (ky * KW + kx) * groups;
                        for (g, w) in scratch.iter_mut().skip(tap).take(groups).enumerate() {
                            *w = if inside {
                                word_i8_tail(input, at + 4 * g)
                            } else {
                                zero_points
                            };
                        }
                    }
                }
                let gathered = scratch.get(..KH * KW * groups).unwrap_or(&[]);
                for g in 0..groups {
                    let oc = 4 * g;
                    let mut acc = [0i32; 4];
                    for (j, a) in acc.iter_mut().enumerate() {
                        *a = folded_bias.get(oc + j).copied().unwrap_or(0);
                    }
                    for ky in 0..KH {
                        for kx in 0..KW {
                            let x = gathered.get((ky * KW + kx) * groups + g).copied();
                            let x = x.unwrap_or(zero_points);
                            let (we, wo) = weights(ky, kx, g);
                            wide_tap(&mut acc, dsp::sxtb16(x), dsp::sxtb16_ror8(x), we, wo);
                        }
                    }
                    if let Some(out) = fixed_mut::<OUT>(io.output()) {
                        writer.put4_checked(out, base, oc, acc);
                    }
                }
            }
        }
    }
}

/// One depthwise tap of four channels: lanes 0 and 2 from the even halves (`xe`, `we`),
/// 1 and 3 from the odd ones, each a 16×16 multiply-accumulate (SMLABB / SMLATT).
#[inline(always)]
pub fn wide_tap(acc: &mut [i32; 4], xe: u32, xo: u32, we: u32, wo: u32) {
    acc[0] = dsp::smlabb(xe, we, acc[0]);
    acc[2] = dsp::smlatt(xe, we, acc[2]);
    acc[1] = dsp::smlabb(xo, wo, acc[1]);
    acc[3] = dsp::smlatt(xo, wo, acc[3]);
}

/// Four i8 at `at` as a little-endian word, the bytes past the end of `s` as 0 (the last
/// pixel's channel group when the channels are not a multiple of 4).
#[inline(always)]
pub fn word_i8_tail(s: &[i8], at: usize) -> u32 {
    match s.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8]),
        _ => {
            let lane = |k: usize| s.get(at + k).copied().unwrap_or(0) as u8 as u32;
            lane(0) | (lane(1) << 8) | (lane(2) << 16) | (lane(3) << 24)
        }
    }
}

/// Words per channel and padded input row in the ring of [`depthwise_conv2d_rows`]: the
/// row's columns as i16 pairs, as many as the output pixels read (stride 1: one word per pair
/// of output pixels, plus one; stride 2: one word per output pixel, plus one).
pub fn depthwise_rows_width(out_w: usize, stride_w: usize) -> usize {
    if stride_w == 1 {
        out_w.div_ceil(2) + 1
    } else {
        out_w + 1
    }
}

/// Int8 3×3 DEPTHWISE_CONV_2D with depth multiplier 1, no dilation and horizontal stride 1
/// or 2, for Arm DSP cores, bit-exact with TFLM's `DepthwiseConvPerChannel`.
///
/// The three input rows an output row reads are kept in `scratch` as a ring of rows (`3 · C
/// · RW` words, see [`depthwise_rows_width`]; then `2 · RW` words of accumulators): per row and channel, the padded row's columns
/// (`pad_left` columns of padding first) widened to i16 pairs, the padding holding the input
/// zero point (which `folded_bias` cancels), so no output pixel is a border pixel. Each input
/// row is widened once. `pairs` holds per channel and filter row the weights `(w0, w1)` and
/// `(w1, w2)` as i16 pairs, doubled when `p.fast_requant` (the accumulators, below 2^30, then
/// come out doubled, as the requantization's SMMLAR takes them); then one filter row of two
/// neighbouring output pixels (stride 1) is two ring words and four multiply-accumulates
/// (SMLAD, SMLABT, SMLATB, SMLAD) for six MACs, two such pairs sharing their middle word
/// ([`depthwise_rows_dot`]). At a horizontal stride of 2 a pixel's filter row is word `ox` (taps 0, 1:
/// one SMLAD) and the bottom of word `ox + 1` (tap 2: one SMLABT), only the pixels kept being
/// computed ([`depthwise_rows_dot_s2`]). Output rows run in order and read their input rows before writing, so the
/// planner's lead keeps it correct in place. The channels run in chunks of `chunk` (all of
/// them, or [`depthwise_ring_chunk`] of the scratch when it cannot hold every channel's
/// ring), each chunk over every output row (the in-place variant never chunks).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_rows<const IN: usize, const OUT: usize, const RW: usize>(
    p: &ConvFast,
    input: &[i8; IN],
    pairs: &[u32],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    (scratch, chunk): (&mut [u32], usize),
    output: &mut [i8; OUT],
) {
    let io = Apart { input, output };
    depthwise_conv2d_rows_io::<_, IN, OUT, RW>(
        p,
        pairs,
        folded_bias,
        multiplier,
        shift,
        (scratch, chunk),
        io,
    );
}

/// [`depthwise_conv2d_rows`] over one buffer: the output from byte 0 of `data`, the input
/// (`IN` bytes) from byte `input_at`, the planner's lead.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d_rows_in_place<const IN: usize, const OUT: usize, const RW: usize>(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    pairs: &[u32],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    scratch: &mut [u32],
) {
    let io = Shared { data, input_at };
    // All channels in one ring: the lead keeps output rows behind the input rows only when
    // each output row is written once, for every channel.
    depthwise_conv2d_rows_io::<_, IN, OUT, RW>(
        p,
        pairs,
        folded_bias,
        multiplier,
        shift,
        (scratch, p.shape.out_c),
        io,
    );
}

/// Two input bytes as an i16 pair (`lo` in the bottom half).
#[inline(always)]
fn i16_pair(lo: i8, hi: i8) -> u32 {
    (lo as i16 as u16 as u32) | ((hi as i16 as u16 as u32) << 16)
}

/// Channels per chunk of the ring of [`depthwise_conv2d_rows`] and
/// [`depthwise_conv2d_rows6`]: all `channels` when their rings (`channel_words` words each)
/// fit in `words`, else the fewest chunks that fit, of equal size rounded up to a multiple of
/// four channels (0: not one channel fits).
pub fn depthwise_ring_chunk(channels: usize, channel_words: usize, words: usize) -> usize {
    let most = words / channel_words.max(1);
    if most >= channels {
        return channels;
    }
    let most = if most >= 4 { most / 4 * 4 } else { most };
    if most == 0 {
        return 0;
    }
    let chunks = channels.div_ceil(most);
    (channels.div_ceil(chunks).div_ceil(4) * 4).min(most)
}

/// The most words per ring ([`ring_row`]'s `RW`) for which it widens each word over every
/// group of four channels; longer rings take each group over every word (fewer instructions
/// from 7 words on; at 3 and 4 words, as mlperf_vww's 6x6 and 3x3 layers, more).
const SHORT_RING: usize = 4;

/// Four channels' bytes of two neighbouring columns (`lo`, `hi`: one little-endian word
/// each) as four ring words, one per channel (`lo` in the bottom half): both words widened to
/// even and odd halves, then one channel's two halves packed into one word.
#[inline(always)]
fn widen4(lo: u32, hi: u32) -> [u32; 4] {
    let (l_even, l_odd) = (dsp::sxtb16(lo), dsp::sxtb16_ror8(lo));
    let (h_even, h_odd) = (dsp::sxtb16(hi), dsp::sxtb16_ror8(hi));
    [
        (l_even & 0xffff) | (h_even << 16),
        (l_odd & 0xffff) | (h_odd << 16),
        (l_even >> 16) | (h_even & 0xffff_0000),
        (l_odd >> 16) | (h_odd & 0xffff_0000),
    ]
}

/// Widens padded input row `iy` (outside the input: all zero points) of batch `batch` into
/// ring slot `slot` for the `channels` channels from `first_channel` on, one per `3 · RW`
/// words from the start of `ring` (per channel, per word `j`, the three slots' words; a ring
/// too short for them widens nothing). The callers pass `channels` itself, not the ring's
/// length.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn ring_row<const IN: usize, const RW: usize>(
    s: &ConvShape,
    input: &[i8; IN],
    batch: usize,
    iy: isize,
    zp: i8,
    slot: usize,
    (first_channel, channels, ring): (usize, usize, &mut [u32]),
) {
    let Some(ring) = ring.get_mut(..3 * RW * channels) else {
        return;
    };
    let row_in = iy >= 0 && (iy as usize) < s.in_h;
    let slot = slot % 3;
    let column = |j: usize| -> Option<&[i8]> {
        let ix = j as isize - s.pad_left as isize;
        if !row_in || ix < 0 || ix as usize >= s.in_w {
            return None;
        }
        let at = ((batch * s.in_h + iy as usize) * s.in_w + ix as usize) * s.in_c + first_channel;
        input.get(at..at + channels)
    };
    if RW <= SHORT_RING {
        // Few words: each word over every group of four channels (as before this split;
        // `widen4`'s arithmetic written out, so these layers' code stays as it was).
        for j in 0..RW {
            let at = 3 * j + slot;
            match (column(2 * j), column(2 * j + 1)) {
                (Some(lo), Some(hi)) => {
                    let mut groups = ring.chunks_exact_mut(12 * RW);
                    for ((g, l4), h4) in (&mut groups)
                        .zip(lo.chunks_exact(4))
                        .zip(hi.chunks_exact(4))
                    {
                        let (l, h) = (word_i8(l4, 0), word_i8(h4, 0));
                        let (l_even, l_odd) = (dsp::sxtb16(l), dsp::sxtb16_ror8(l));
                        let (h_even, h_odd) = (dsp::sxtb16(h), dsp::sxtb16_ror8(h));
                        let packed = [
                            (l_even & 0xffff) | (h_even << 16),
                            (l_odd & 0xffff) | (h_odd << 16),
                            (l_even >> 16) | (h_even & 0xffff_0000),
                            (l_odd >> 16) | (h_odd & 0xffff_0000),
                        ];
                        for (k, v) in packed.into_iter().enumerate() {
                            if let Some(w) = g.get_mut(at + 3 * RW * k) {
                                *w = v;
                            }
                        }
                    }
                    let by_words = channels / 4 * 4;
                    let lo_tail = lo.get(by_words..).unwrap_or(&[]);
                    let hi_tail = hi.get(by_words..).unwrap_or(&[]);
                    let rest = groups.into_remainder().chunks_exact_mut(3 * RW);
                    for ((r, &a), &h) in rest.zip(lo_tail).zip(hi_tail) {
                        if let Some(w) = r.get_mut(at) {
                            *w = i16_pair(a, h);
                        }
                    }
                }
                (lo, hi) => {
                    for (c, r) in ring.chunks_exact_mut(3 * RW).enumerate() {
                        let a = lo.and_then(|x| x.get(c)).copied().unwrap_or(zp);
                        let h = hi.and_then(|x| x.get(c)).copied().unwrap_or(zp);
                        if let Some(w) = r.get_mut(at) {
                            *w = i16_pair(a, h);
                        }
                    }
                }
            }
        }
        return;
    }
    // The words whose two columns are both inside the input, `inner` (none when the row is
    // padding), and their input, `run`: from the first one's left column, pixel pairs of
    // `2 · in_c` bytes. There four channels at a time, each group of four over those words
    // in turn, so the four stores of a word land at small constant distances from one
    // pointer (over every group, word by word, LLVM addresses them from the middle of the
    // ring, most of them through constants built with MOVW and MOVT).
    let pair_len = (2 * s.in_c).max(1);
    let inner_run = || -> Option<(core::ops::Range<usize>, &[i8])> {
        if !row_in {
            return None;
        }
        let from = s.pad_left.div_ceil(2).min(RW);
        let to = ((s.in_w + s.pad_left) / 2).clamp(from, RW);
        let pixel = ((batch * s.in_h + iy as usize) * s.in_w + 2 * from).checked_sub(s.pad_left)?;
        let at = pixel * s.in_c;
        Some((from..to, input.get(at..at + (to - from) * pair_len)?))
    };
    let (inner, run) = inner_run().unwrap_or((0..0, &[]));
    let words = 3 * inner.start..3 * inner.end;
    let by_words = channels / 4 * 4;
    let (whole, rest) = ring.split_at_mut((3 * RW * by_words).min(ring.len()));
    for (g, group) in whole.chunks_exact_mut(12 * RW).enumerate() {
        let mut rings = group.chunks_exact_mut(3 * RW);
        let (Some(r0), Some(r1), Some(r2), Some(r3)) = (
            rings.next().and_then(|r| r.get_mut(words.clone())),
            rings.next().and_then(|r| r.get_mut(words.clone())),
            rings.next().and_then(|r| r.get_mut(words.clone())),
            rings.next().and_then(|r| r.get_mut(words.clone())),
        ) else {
            break;
        };
        let c = first_channel + 4 * g;
        let quads = (r0.chunks_exact_mut(3).zip(r1.chunks_exact_mut(3)))
            .zip(r2.chunks_exact_mut(3).zip(r3.chunks_exact_mut(3)));
        for (((w0, w1), (w2, w3)), pair) in quads.zip(run.chunks_exact(pair_len)) {
            let packed = widen4(word_i8(pair, c), word_i8(pair, s.in_c + c));
            for (w, v) in [w0, w1, w2, w3].into_iter().zip(packed) {
                if let Some(w) = w.get_mut(slot) {
                    *w = v;
                }
            }
        }
    }
    // The channels past the last group of four, one at a time.
    for (k, r) in rest.chunks_exact_mut(3 * RW).enumerate() {
        let c = first_channel + by_words + k;
        let r = r.get_mut(words.clone()).unwrap_or(&mut []);
        for (w, pair) in r.chunks_exact_mut(3).zip(run.chunks_exact(pair_len)) {
            if let (Some(w), Some(&a), Some(&h)) =
                (w.get_mut(slot), pair.get(c), pair.get(s.in_c + c))
            {
                *w = i16_pair(a, h);
            }
        }
    }
    // The other words: a column outside the input reads as zero points.
    for j in (0..inner.start).chain(inner.end..RW) {
        ring_word::<RW>(ring, 3 * j + slot, (column(2 * j), column(2 * j + 1)), zp);
    }
}

/// Ring word `at` of every channel of `ring` (one per `3 · RW` words) from the channels'
/// bytes of its two columns, `lo` and `hi` (`None`: outside the input, zero points).
#[inline(always)]
fn ring_word<const RW: usize>(
    ring: &mut [u32],
    at: usize,
    (lo, hi): (Option<&[i8]>, Option<&[i8]>),
    zp: i8,
) {
    for (c, r) in ring.chunks_exact_mut(3 * RW).enumerate() {
        let a = lo.and_then(|x| x.get(c)).copied().unwrap_or(zp);
        let h = hi.and_then(|x| x.get(c)).copied().unwrap_or(zp);
        if let Some(w) = r.get_mut(at) {
            *w = i16_pair(a, h);
        }
    }
}

/// The loop of [`depthwise_conv2d_rows`] and [`depthwise_conv2d_rows_in_place`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn depthwise_conv2d_rows_io<IO: ConvIo, const IN: usize, const OUT: usize, const RW: usize>(
    p: &ConvFast,
    pairs: &[u32],
    folded_bias: &[i32],
    multiplier: &[i32],
    shift: &[i32],
    (scratch, chunk): (&mut [u32], usize),
    mut io: IO,
) {
    let s = &p.shape;
    let channels = s.out_c;
    let zp = p.input_zero_point as i8;
    if chunk == 0 {
        return;
    }
    let (ring, rest) = scratch.split_at_mut((3 * RW * chunk).min(scratch.len()));
    // Accumulators of one output row and channel, after the ring: one per pixel (at a
    // stride of 1 rounded up to whole pairs).
    let Some(accs) = rest.get_mut(..2 * RW) else {
        return;
    };
    for c0 in (0..channels).step_by(chunk) {
        // The ring of this chunk's channels.
        let n = chunk.min(channels - c0);
        let Some(ring) = ring.get_mut(..3 * RW * n) else {
            return;
        };
        for b in 0..s.batches {
            // The next padded input row to widen into the ring (row r lives in slot r % 3).
            let mut next = 0;
            for oy in 0..s.out_h {
                let top = oy * s.stride_h;
                // Borrowed anew around the writes, which may land in the same buffer.
                let Some(input) = fixed::<IN>(io.input()) else {
                    return;
                };
                for r in next.max(top)..top + 3 {
                    let iy = r as isize - s.pad_top as isize;
                    ring_row::<IN, RW>(s, input, b, iy, zp, r % 3, (c0, n, &mut *ring));
                }
                next = top + 3;
                let Some(out) = fixed_mut::<OUT>(io.output()) else {
                    return;
                };
                let row_base = (b * s.out_h + oy) * s.out_w;
                for (k, ring_c) in ring.chunks_exact(3 * RW).enumerate() {
                    let c = c0 + k;
                    let Some(w) = pairs.get(6 * c..6 * c + 6).and_then(|w| w.try_into().ok())
                    else {
                        return;
                    };
                    // Doubled weights (see above) take a doubled start.
                    let bias = folded_bias.get(c).copied().unwrap_or(0);
                    let start = if p.fast_requant { bias << 1 } else { bias };
                    let used = if s.stride_w == 1 {
                        2 * s.out_w.div_ceil(2)
                    } else {
                        s.out_w
                    };
                    let Some(row_accs) = accs.get_mut(..used) else {
                        return;
                    };
                    if s.stride_w == 1 {
                        depthwise_rows_dot(ring_c, w, top % 3, start, row_accs);
                    } else {
                        depthwise_rows_dot_s2(ring_c, w, top % 3, start, row_accs);
                    }
                    let q = if p.per_channel { c } else { 0 };
                    let m = multiplier.get(q).copied().unwrap_or(0);
                    let sh = shift.get(q).copied().unwrap_or(0);
                    let (k_offset, post) = small_offset_split(-sh, p.output_offset);
                    let at = (row_base * channels + c, m, sh, k_offset);
                    // Right shifts past 22 add the offset after the shift: a loop of their
                    // own, so the common one has no add.
                    if p.fast_requant && post != 0 {
                        rows_requantize(p, row_accs, out, at, post);
                    } else {
                        rows_requantize(p, row_accs, out, at, 0);
                    }
                }
            }
        }
    }
}

/// [`depthwise_conv2d_rows`] for rows of three to six pixels at a horizontal stride of 1 (two
/// or three pairs), or of three at a stride of 2, in a layer that requantizes fast (right shifts of at most 22) over the whole int8
/// range: each output row goes from multiply-accumulate to byte for every channel in one
/// pass ([`depthwise_rows_out6`], [`depthwise_rows_out_s2`]), with the per-channel constants in `table` beside the
/// weights ([`ROWS6_WORDS`] words per channel). `scratch` holds the ring only (`3 · C · RW`
/// words) of `chunk` channels (all of them, or [`depthwise_ring_chunk`] of the scratch when
/// it cannot hold every channel's ring), each chunk over every output row (the in-place
/// variant never chunks).
#[inline(always)]
pub fn depthwise_conv2d_rows6<const IN: usize, const OUT: usize, const RW: usize>(
    p: &ConvFast,
    input: &[i8; IN],
    table: &[u32],
    (scratch, chunk): (&mut [u32], usize),
    output: &mut [i8; OUT],
) {
    let io = Apart { input, output };
    depthwise_conv2d_rows6_io::<_, IN, OUT, RW>(p, table, (scratch, chunk), io);
}

/// [`depthwise_conv2d_rows6`] over one buffer: the output from byte 0 of `data`, the input
/// (`IN` bytes) from byte `input_at`, the planner's lead.
#[inline(always)]
pub fn depthwise_conv2d_rows6_in_place<const IN: usize, const OUT: usize, const RW: usize>(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    table: &[u32],
    scratch: &mut [u32],
) {
    let io = Shared { data, input_at };
    // All channels in one ring, as in `depthwise_conv2d_rows_in_place`.
    depthwise_conv2d_rows6_io::<_, IN, OUT, RW>(p, table, (scratch, p.shape.out_c), io);
}

/// The loop of [`depthwise_conv2d_rows6`] and [`depthwise_conv2d_rows6_in_place`]: the
/// channels in chunks of `chunk` (each chunk's ring from the start of `scratch`), each
/// chunk over every output row.
#[inline(always)]
fn depthwise_conv2d_rows6_io<IO: ConvIo, const IN: usize, const OUT: usize, const RW: usize>(
    p: &ConvFast,
    table: &[u32],
    (scratch, chunk): (&mut [u32], usize),
    mut io: IO,
) {
    let s = &p.shape;
    let channels = s.out_c;
    let zp = p.input_zero_point as i8;
    if chunk == 0 {
        return;
    }
    for c0 in (0..channels).step_by(chunk) {
        let n = chunk.min(channels - c0);
        let Some(ring) = scratch.get_mut(..3 * RW * n) else {
            return;
        };
        let Some(table) = table.get(ROWS6_WORDS * c0..ROWS6_WORDS * (c0 + n)) else {
            return;
        };
        for b in 0..s.batches {
            // The next padded input row to widen into the ring (row r lives in slot r % 3).
            let mut next = 0;
            for oy in 0..s.out_h {
                let top = oy * s.stride_h;
                // Borrowed anew around the writes, which may land in the same buffer.
                let Some(input) = fixed::<IN>(io.input()) else {
                    return;
                };
                for r in next.max(top)..top + 3 {
                    let iy = r as isize - s.pad_top as isize;
                    ring_row::<IN, RW>(s, input, b, iy, zp, r % 3, (c0, n, &mut *ring));
                }
                next = top + 3;
                let Some(out) = fixed_mut::<OUT>(io.output()) else {
                    return;
                };
                let first = (b * s.out_h + oy) * s.out_w * channels + c0;
                let place = (first, channels, s.out_w);
                if s.stride_w == 2 {
                    depthwise_rows_out_s2(ring, 3 * RW, table, top % 3, out, place);
                } else {
                    depthwise_rows_out6(ring, 3 * RW, table, top % 3, out, place);
                }
            }
        }
    }
}

/// [`depthwise_conv2d_rows`] for rows of an even number of pixels at a horizontal stride of 1
/// or 2 in a layer that requantizes fast (right shifts of at most 22) over the whole int8
/// range: each output row goes from multiply-accumulate to byte for every channel, four
/// pixels per pass ([`depthwise_rows_out`]), with the per-channel constants in `table`
/// beside the weights ([`ROWS6_WORDS`] words per channel, as [`depthwise_conv2d_rows6`]).
/// `scratch` holds the ring only (`3 · C · RW` words).
#[inline(always)]
pub fn depthwise_conv2d_rows_out<const IN: usize, const OUT: usize, const RW: usize>(
    p: &ConvFast,
    input: &[i8; IN],
    table: &[u32],
    scratch: &mut [u32],
    output: &mut [i8; OUT],
) {
    let io = Apart { input, output };
    depthwise_conv2d_rows_out_io::<_, IN, OUT, RW>(p, table, scratch, io);
}

/// [`depthwise_conv2d_rows_out`] over one buffer: the output from byte 0 of `data`, the
/// input (`IN` bytes) from byte `input_at`, the planner's lead.
#[inline(always)]
pub fn depthwise_conv2d_rows_out_in_place<const IN: usize, const OUT: usize, const RW: usize>(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    table: &[u32],
    scratch: &mut [u32],
) {
    let io = Shared { data, input_at };
    depthwise_conv2d_rows_out_io::<_, IN, OUT, RW>(p, table, scratch, io);
}

/// The loop of [`depthwise_conv2d_rows_out`] and [`depthwise_conv2d_rows_out_in_place`].
#[inline(always)]
fn depthwise_conv2d_rows_out_io<IO: ConvIo, const IN: usize, const OUT: usize, const RW: usize>(
    p: &ConvFast,
    table: &[u32],
    scratch: &mut [u32],
    mut io: IO,
) {
    let s = &p.shape;
    let channels = s.out_c;
    let zp = p.input_zero_point as i8;
    let Some(ring) = scratch.get_mut(..3 * RW * channels) else {
        return;
    };
    let Some(table) = table.get(..ROWS6_WORDS * channels) else {
        return;
    };
    for b in 0..s.batches {
        // The next padded input row to widen into the ring (row r lives in slot r % 3).
        let mut next = 0;
        for oy in 0..s.out_h {
            let top = oy * s.stride_h;
            // Borrowed anew around the writes, which may land in the same buffer.
            let Some(input) = fixed::<IN>(io.input()) else {
                return;
            };
            for r in next.max(top)..top + 3 {
                let iy = r as isize - s.pad_top as isize;
                ring_row::<IN, RW>(s, input, b, iy, zp, r % 3, (0, s.in_c, &mut *ring));
            }
            next = top + 3;
            let Some(out) = fixed_mut::<OUT>(io.output()) else {
                return;
            };
            let first = (b * s.out_h + oy) * s.out_w * channels;
            let place = (first, channels, s.out_w);
            depthwise_rows_out::<RW>(ring, table, top % 3, s.stride_w, out, place);
        }
    }
}

/// Requantizes one output row and channel of [`depthwise_conv2d_rows`]: accumulator `ox`
/// (doubled when `p.fast_requant`) to the output byte `first + ox·out_c`, with
/// the channel's multiplier, shift and [`small_offset_split`] constant in `(first, m, sh,
/// k_offset)`, `after` added after the short path's shift.
#[inline(always)]
fn rows_requantize(
    p: &ConvFast,
    row_accs: &[u32],
    out: &mut [i8],
    (first, m, sh, k_offset): (usize, i32, i32, i32),
    after: i32,
) {
    let s = &p.shape;
    let one = |acc: u32| -> i8 {
        let acc = acc as i32;
        let v = if p.fast_requant {
            // `requantize_small_offset` of `acc / 2` (the weights come doubled), its SMMLAR
            // written out (see `dsp::smmlar`).
            let biased = dsp::smmlar(acc, m, k_offset);
            ((biased + (acc >> 31)) >> (-sh & 31)) + after
        } else {
            multiply_by_quantized_multiplier_fast(acc, m, sh).wrapping_add(p.output_offset)
        };
        clamp_i8(v, p.act_min, p.act_max)
    };
    let row_accs = row_accs.get(..s.out_w).unwrap_or(&[]);
    // Four pixels per step, written out: LLVM does not unroll a loop around `asm!`.
    let mut quads = row_accs.chunks_exact(4);
    let mut at = first;
    for q in &mut quads {
        let &[a, b, c, d] = q else {
            continue;
        };
        for (k, v) in [one(a), one(b), one(c), one(d)].into_iter().enumerate() {
            if let Some(o) = out.get_mut(at + k * s.out_c) {
                *o = v;
            }
        }
        at += 4 * s.out_c;
    }
    for &acc in quads.remainder() {
        if let Some(o) = out.get_mut(at) {
            *o = one(acc);
        }
        at += s.out_c;
    }
}

/// Int8 3×3 DEPTHWISE_CONV_2D over one input channel (every output channel reads it, the depth
/// multiplier being `out_c`), no dilation, for Arm DSP cores, bit-exact with TFLM's
/// `DepthwiseConvPerChannel`. Per output pixel, each window row is one word of input bytes
/// (taps 0, 1, 2 and one byte past them, which meets no weight; padding reads as the input
/// zero point, which the folded bias cancels). `table` holds [`SINGLE_WORDS`] words per
/// channel (start, weights, requantization; doubled when `p.fast_requant`). Requantized fast
/// over the whole int8 range, a pixel is [`depthwise_single_out`] (one `asm!` block on the
/// Cortex-M4 family); otherwise each channel is requantized in Rust. Pixels run in order,
/// each reading its window before writing, so the planner's lead keeps it correct in place.
#[inline(always)]
pub fn depthwise_conv2d_single<const IN: usize, const OUT: usize>(
    p: &ConvFast,
    input: &[i8; IN],
    table: &[u32],
    output: &mut [i8; OUT],
) {
    let io = Apart { input, output };
    depthwise_conv2d_single_io::<_, IN, OUT>(p, table, io);
}

/// [`depthwise_conv2d_single`] over one buffer: the output from byte 0 of `data`, the input
/// (`IN` bytes) from byte `input_at`, the planner's lead.
#[inline(always)]
pub fn depthwise_conv2d_single_in_place<const IN: usize, const OUT: usize>(
    p: &ConvFast,
    data: &mut [i8],
    input_at: usize,
    table: &[u32],
) {
    let io = Shared { data, input_at };
    depthwise_conv2d_single_io::<_, IN, OUT>(p, table, io);
}

/// The output columns of [`depthwise_conv2d_single`] whose window's taps all lie inside the
/// input row: `lo..hi` (empty when there are none).
#[inline(always)]
fn single_inner_columns(s: &ConvShape) -> (usize, usize) {
    let lo = s.pad_left.div_ceil(s.stride_w.max(1));
    // Tap 2 of column ox at ox·stride − pad + 2 < in_w.
    let hi = if s.in_w + s.pad_left >= 3 {
        ((s.in_w + s.pad_left - 3) / s.stride_w.max(1) + 1).min(s.out_w)
    } else {
        0
    };
    (lo, hi.max(lo))
}

/// The row words of [`depthwise_conv2d_single`]'s window at input row `y0` (of batch `b`) and
/// column `x0`, any of its taps maybe in the padding (read as `zp`).
#[inline(always)]
fn single_border_rows(
    s: &ConvShape,
    input: &[i8],
    (b, y0, x0): (usize, isize, isize),
    zp: i8,
) -> [u32; 3] {
    core::array::from_fn(|r| {
        let iy = y0 + r as isize;
        if iy < 0 || iy >= s.in_h as isize {
            return (zp as u8 as u32) * 0x0001_0101;
        }
        let row = ((b * s.in_h) as isize + iy) * s.in_w as isize;
        let byte = |k: isize| -> u32 {
            let ix = x0 + k;
            let v = if ix >= 0 && ix < s.in_w as isize {
                input.get((row + ix) as usize).copied().unwrap_or(zp)
            } else {
                zp
            };
            (v as u8 as u32) << (8 * k)
        };
        byte(0) | byte(1) | byte(2)
    })
}

/// The row words of [`depthwise_conv2d_single`]'s window with its top-left tap at input byte
/// `at`, all taps inside the input (rows `in_w` bytes apart).
#[inline(always)]
fn single_inner_rows(input: &[i8], at: usize, in_w: usize) -> [u32; 3] {
    core::array::from_fn(|r| {
        let at = at + r * in_w;
        match input.get(at..at + 4) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8]),
            // The row's last window at the input's end: its fourth byte is not there.
            _ => {
                let byte = |k: usize| input.get(at + k).copied().unwrap_or(0) as u8 as u32;
                byte(0) | (byte(1) << 8) | (byte(2) << 16)
            }
        }
    })
}

/// One output pixel of [`depthwise_conv2d_single`] requantized in Rust (not fast, or clamped
/// to less than the int8 range): `out[c]` for every channel of `table`.
#[inline(always)]
fn single_out_general(p: &ConvFast, rows: [u32; 3], table: &[u32], out: &mut [i8]) {
    for (o, (acc, m, k, right)) in out.iter_mut().zip(depthwise_single_accs(rows, table)) {
        let v = if p.fast_requant {
            // The accumulator is doubled (see `depthwise_single_out`).
            let biased = dsp::smmlar(acc, m, k);
            (biased + (acc >> 31)) >> (right & 31)
        } else {
            multiply_by_quantized_multiplier_fast(acc, m, -right).wrapping_add(p.output_offset)
        };
        *o = clamp_i8(v, p.act_min, p.act_max);
    }
}

/// A run of `pixels` output pixels of [`depthwise_conv2d_single`] whose windows lie
/// inside the input, requantized fast over the whole int8 range as [`depthwise_single_out`]:
/// the first window's top-left tap at input byte `at`, rows `in_w` bytes apart, windows
/// `stride` bytes apart, the outputs from byte `out_at`, one pixel's channels after another.
/// On Arm with the DSP extension it is one `asm!` loop over the pixels ([`dsp::single_run`])
/// and returns true; elsewhere, or when a read or write would leave `io`'s buffers, it does
/// nothing and returns false (the caller then runs the pixels one by one).
#[inline(always)]
pub fn depthwise_single_run(
    io: RawIo,
    (at, in_w, stride, pixels): (usize, usize, usize, usize),
    table: &SingleTable,
    out_at: usize,
) -> bool {
    let channels = table.channels();
    // The last window's last row word, and the run's last output byte.
    let read_end = at + (pixels.max(1) - 1) * stride + 2 * in_w + 4;
    let out_end = out_at + pixels * channels;
    if !cfg!(target_arch = "arm")
        || pixels == 0
        || channels == 0
        || table.words().len() < SINGLE_WORDS * channels
        || io.input.is_null()
        || io.output.is_null()
        || read_end > io.input_len
        || out_end > io.output_len
    {
        return false;
    }
    #[cfg(target_arch = "arm")]
    {
        let window = (io.input.wrapping_add(at), in_w, stride);
        let (w, o) = (table.words().as_ptr(), io.output.wrapping_add(out_at));
        let end = io.output.wrapping_add(out_end);
        if channels % 8 == 0 {
            dsp::single_run::<8>(window, w, o, end);
        } else if channels % 4 == 0 {
            dsp::single_run::<4>(window, w, o, end);
        } else if channels % 2 == 0 {
            dsp::single_run::<2>(window, w, o, end);
        } else {
            dsp::single_run::<1>(window, w, o, end);
        }
    }
    true
}

/// The loop of [`depthwise_conv2d_single`] and [`depthwise_conv2d_single_in_place`].
#[inline(always)]
fn depthwise_conv2d_single_io<IO: ConvIo, const IN: usize, const OUT: usize>(
    p: &ConvFast,
    table: &[u32],
    mut io: IO,
) {
    let s = &p.shape;
    let zp = p.input_zero_point as i8;
    let channels = s.out_c;
    let Some(checked) = SingleTable::new(table, channels) else {
        return;
    };
    let fast = p.fast_requant && p.act_min == -128 && p.act_max == 127;
    let (lo, hi) = single_inner_columns(s);
    let pixel = |io: &mut IO, rows: [u32; 3], base: usize| {
        let Some(out) = fixed_mut::<OUT>(io.output()) else {
            return;
        };
        let Some(out) = out.get_mut(base..base + channels) else {
            return;
        };
        if fast {
            depthwise_single_out(rows, &checked, out);
        } else {
            single_out_general(p, rows, table, out);
        }
    };
    let mut base = 0;
    for b in 0..s.batches {
        for oy in 0..s.out_h {
            let y0 = window_start(oy, s.stride_h, s.pad_top);
            let inner_rows = y0 >= 0 && y0 + 3 <= s.in_h as isize;
            let mut ox = 0;
            while ox < s.out_w {
                let x0 = window_start(ox, s.stride_w, s.pad_left);
                let inner = inner_rows && (lo..hi).contains(&ox);
                let at = (b * s.in_h + y0.max(0) as usize) * s.in_w + x0.max(0) as usize;
                // The inner columns in one `asm!` loop, where there is one.
                if inner && fast && ox == lo {
                    let run = (at, s.in_w, s.stride_w, hi - lo);
                    if depthwise_single_run(io.raw(), run, &checked, base) {
                        base += (hi - lo) * channels;
                        ox = hi;
                        continue;
                    }
                }
                let Some(input) = fixed::<IN>(io.input()) else {
                    return;
                };
                let rows = if inner {
                    single_inner_rows(input, at, s.in_w)
                } else {
                    single_border_rows(s, input, (b, y0, x0), zp)
                };
                pixel(&mut io, rows, base);
                base += channels;
                ox += 1;
            }
        }
    }
}
