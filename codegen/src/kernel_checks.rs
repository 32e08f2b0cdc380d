//! Randomized checks of the runtime's fast convolution kernels against reference kernels
//! (TFLite's loops, below), written `no_std` with fixed-size buffers so that the same code runs
//! on the host (`cargo test`, where the DSP instructions are their portable twins) and on the
//! target (`kiln-bench mcu --kernels`, a firmware built from this file and `runtime/`, where
//! the `asm!` kernels run for real and are compared there, in QEMU).
//!
//! Uses only [`crate::runtime`] and a caller's source of random words, so the firmware needs
//! no other part of kiln.

// A mismatch carries its case's shape for the report; only the failure path builds one.
#![allow(clippy::result_large_err)]

use crate::runtime::*;

/// The first disagreement of a fast kernel with its reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The case's index.
    pub case: usize,
    /// The kernel that disagreed.
    pub kernel: &'static str,
    /// The case's geometry.
    pub shape: ConvShape,
}

/// Which kernels a run compares with the references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    /// The portable ones every core runs: `conv2d_fast::<Scalar>`, `depthwise_conv2d_fast::<Scalar>`,
    /// `conv2d_patches_scalar`.
    Portable,
    /// Those and the Arm DSP ones (`asm!` on Arm): `conv2d_fast::<Dsp>`,
    /// `depthwise_conv2d_fast::<Dsp>`, `depthwise_conv2d_wide`, `depthwise_conv2d_rows` and
    /// `depthwise_conv2d_rows6` (whole and in chunks of channels),
    /// `conv2d_patches` at widths
    /// 3, 4 and 5 (5: `patch_dot_tile`'s `asm!` loop), `conv2d_pointwise`,
    /// `conv2d_pointwise_small`, `conv2d_tile6`,
    /// `fully_connected_pairs`.
    Dsp,
}

/// The source of randomness: a function returning 64 random bits per call.
pub type Random<'a> = &'a mut dyn FnMut() -> u64;

/// Uniform index in `0..n` (`n` small: the modulo bias does not matter).
fn index(random: &mut dyn FnMut() -> u64, n: usize) -> usize {
    (random() % n.max(1) as u64) as usize
}

/// Bytes of each of the check's buffers (input, filter, outputs): small enough for a
/// 16 KiB-RAM Cortex-M0 to hold them all on its stack. Cases that need more are skipped.
const BUF: usize = 1024;

/// `n` random bytes (the rest zero).
fn i8s(random: &mut dyn FnMut() -> u64, n: usize) -> [i8; BUF] {
    let mut v = [0i8; BUF];
    for x in v.iter_mut().take(n) {
        *x = random() as i8;
    }
    v
}

/// Runs `cases` random convolutions (one in three depthwise, some grouped, 1-3 × 1-3 windows,
/// strides, dilations, padding, batches, up to 9 input channels) through the fast kernels of
/// `kernels` and compares every output byte with the reference kernels'. Returns how many
/// (case, kernel) comparisons passed, or the first mismatch.
pub fn conv_kernels(random: Random, cases: usize, kernels: Kernels) -> Result<usize, Mismatch> {
    let mut compared = 0;
    for case in 0..cases {
        compared += conv_case(random, case, kernels)?;
        if kernels == Kernels::Dsp {
            compared += fc_case(random, case)?;
            compared += tile6_case(random, case)?;
        }
    }
    Ok(compared)
}

/// Bytes of [`tile6_case`]'s input and filter buffers.
const TILE6_BUF: usize = 2048;

/// One random convolution through [`conv2d_tile6`] (its `asm!` loop on Arm), apart and in
/// place at the planner's lead, compared with the reference convolution loops: in half the
/// cases a 1×1 layer over 20 to 256 input channels (a multiple of 4: every count of first
/// groups), stride 1 (whole input words) or 2 (gathered); in the others 1-3 × 1-3 windows
/// over 1-20 channels with strides and padding (patches that are not a multiple of 4 bytes).
/// 1-8 output channels, 1-14 output pixels in one or two batches (whole blocks of six and
/// partial ones). One case in four takes extreme values: every input -128 or 127 and every
/// weight of an output -128 or 127 (the largest sums). Returns the number of comparisons
/// (0 when the drawn layer is not one `tile6_fits` takes), or the mismatch.
#[inline(never)]
fn tile6_case(random: Random, case: usize) -> Result<usize, Mismatch> {
    let pointwise = case.is_multiple_of(2);
    let (in_c, k_h, k_w) = if pointwise {
        (4 * (5 + index(random, 60)), 1, 1)
    } else {
        (
            1 + index(random, 20),
            1 + index(random, 3),
            1 + index(random, 3),
        )
    };
    let (stride_h, stride_w) = if pointwise && index(random, 2) == 0 {
        (1, 1)
    } else {
        (1 + index(random, 2), 1 + index(random, 2))
    };
    let (pad_top, pad_left) = if pointwise {
        (0, 0)
    } else {
        (index(random, 2), index(random, 2))
    };
    let row = (k_h * k_w * in_c).div_ceil(4) * 4;
    let out_c = 1 + index(random, (TILE6_BUF / row).min(8));
    let batches = 1 + index(random, 2);
    // Input rows and columns of at least the window, at most TILE6_BUF bytes per batch
    // and 14 output pixels in all.
    let in_h = k_h + index(random, 4);
    let in_w = k_w + index(random, 6);
    let out_h = (in_h + 2 * pad_top - k_h) / stride_h + 1;
    let out_w = (in_w + 2 * pad_left - k_w) / stride_w + 1;
    let pixels = batches * out_h * out_w;
    let n_in = batches * in_h * in_w * in_c;
    if pixels > 14 || n_in > TILE6_BUF {
        return Ok(0);
    }
    let extreme = case % 4 == 1;
    let shape = ConvShape {
        batches,
        in_h,
        in_w,
        in_c,
        out_h,
        out_w,
        out_c,
        k_h,
        k_w,
        k_c: in_c,
        stride_h,
        stride_w,
        dilation_h: 1,
        dilation_w: 1,
        pad_top,
        pad_left,
        depth_multiplier: 1,
    };
    let zp = random() as i8 as i32;
    let p = ConvFast {
        shape,
        input_zero_point: zp,
        output_offset: random() as i8 as i32,
        per_channel: true,
        act_min: -128,
        act_max: 127,
        fast_requant: true,
    };
    let n_out = pixels * out_c;
    let mut input = [0i8; TILE6_BUF];
    for x in input.iter_mut().take(n_in) {
        *x = if extreme {
            [-128, 127][index(random, 2)]
        } else {
            random() as i8
        };
    }
    // The reference's OHWI filter and the kernel's rows (each patch zero-padded to `row`).
    let patch = k_h * k_w * in_c;
    let mut filter = [0u8; TILE6_BUF];
    let mut rows = [0u8; TILE6_BUF];
    for o in 0..out_c {
        let w = [0x80u8, 0x7f][index(random, 2)];
        for k in 0..patch {
            let v = if extreme { w } else { random() as u8 };
            filter[o * patch + k] = v;
            rows[o * row + k] = v;
        }
    }
    let input = &input[..n_in];
    let filter = &filter[..out_c * patch];
    let rows = &rows[..out_c * row];
    let bias: [i32; 8] = core::array::from_fn(|_| (random() as i32) >> 12);
    let mult: [i32; 8] = core::array::from_fn(|_| (1 << 30) + (random() as i32 >> 2).abs());
    let base = if extreme { 14 } else { 8 };
    let shift: [i32; 8] = core::array::from_fn(|_| -((index(random, 8) + base) as i32));
    let (bias, m, sh) = (&bias[..out_c], &mult[..out_c], &shift[..out_c]);
    if !tile6_fits(&p, sh) {
        return Ok(0);
    }
    let mut table = [0i32; 8 * TILE6_CHANNEL_WORDS];
    for (o, t) in table
        .chunks_exact_mut(TILE6_CHANNEL_WORDS)
        .take(out_c)
        .enumerate()
    {
        let sw = filter[o * patch..(o + 1) * patch]
            .iter()
            .fold(0i32, |t, &w| t.wrapping_add(w as i8 as i32));
        let folded = bias[o].wrapping_add(sw.wrapping_mul(-zp));
        t.copy_from_slice(&tile6_channel(folded, m[o], sh[o], p.output_offset));
    }
    let table = &table[..out_c * TILE6_CHANNEL_WORDS];
    let fail = |kernel| Mismatch {
        case,
        kernel,
        shape,
    };
    let mut want = [0i8; 8 * 14];
    let want = &mut want[..n_out];
    conv2d(&p, input, filter, Some(bias), m, sh, want);
    // (Rows of at most 256 bytes here.)
    let mut scratch = [0u32; tile6_scratch(256, 8)];
    let mut got = [0i8; 8 * 14];
    let got = &mut got[..n_out];
    // Every byte wrong beforehand: each must be written.
    for (g, w) in got.iter_mut().zip(want.iter()) {
        *g = !*w;
    }
    conv2d_tile6(&p, input, rows, table, &mut scratch, got);
    if got != want {
        return Err(fail("conv2d_tile6"));
    }
    // In place: what the planner does for a 1×1 layer, stride 1, no padding.
    if !(pointwise && stride_h == 1 && stride_w == 1) {
        return Ok(1);
    }
    let lead = in_place_lead(&shape);
    let mut data = [0i8; 2 * TILE6_BUF];
    let Some(d) = data.get_mut(lead..lead + n_in) else {
        return Ok(1);
    };
    d.copy_from_slice(input);
    conv2d_tile6_in_place(&p, &mut data, lead, rows, table, &mut scratch);
    if data[..n_out] != *want {
        return Err(fail("conv2d_tile6_in_place"));
    }
    Ok(2)
}

/// One random FULLY_CONNECTED (1-13 outputs, up to 1024 inputs: several of
/// [`fully_connected_pairs`]'s chunks, rows of 1-2) through [`fully_connected_pairs`] (its
/// `asm!` loop on Arm), compared with the reference convolution loops over the layer as a 1×1
/// convolution. One case in three takes extreme values: every weight of an output one of
/// -128, -127 and 127 and every input -128 or 127, over 512-1024 inputs (sums as large as
/// [`FC_CHUNK`] allows, more than one chunk: [`fc_pairs_chunk`]); the others random bytes. Weights the packing cannot hold
/// ([`fc_pairs_packable`]) are moved by one. Returns 1, or the mismatch.
fn fc_case(random: Random, case: usize) -> Result<usize, Mismatch> {
    let extreme = case % 3 == 1;
    let (outputs, inputs) = if extreme {
        (1 + index(random, 2), 512 + index(random, 513))
    } else {
        let outputs = 1 + index(random, 13);
        (outputs, 0)
    };
    let rows = 1 + index(random, 2);
    let most = BUF / outputs.max(rows);
    let inputs = if extreme {
        inputs.min(most)
    } else {
        1 + index(random, most)
    };
    let shape = ConvShape {
        batches: 1,
        in_h: 1,
        in_w: rows,
        in_c: inputs,
        out_h: 1,
        out_w: rows,
        out_c: outputs,
        k_h: 1,
        k_w: 1,
        k_c: inputs,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        pad_top: 0,
        pad_left: 0,
        depth_multiplier: 1,
    };
    let zp = random() as i8 as i32;
    let fast = ConvFast {
        shape,
        input_zero_point: zp,
        output_offset: random() as i8 as i32,
        per_channel: true,
        act_min: -128,
        act_max: 127,
        fast_requant: false,
    };
    let mut input = i8s(random, rows * inputs);
    let mut filter: [u8; BUF] = i8s(random, outputs * inputs).map(|v| v as u8);
    if extreme {
        let x = if random() & 1 == 0 { -128 } else { 127 };
        input.iter_mut().take(rows * inputs).for_each(|v| *v = x);
        for o in 0..outputs {
            let w = [0x80, 0x81, 0x7f][index(random, 3)];
            filter[o * inputs..(o + 1) * inputs].fill(w);
        }
    }
    for q in 0..outputs / 2 {
        for i in 0..inputs {
            let (a, b) = (2 * q * inputs + i, (2 * q + 1) * inputs + i);
            if filter[b] == 0x80 && (filter[a] as i8) < 0 {
                filter[b] = 0x81;
            }
        }
    }
    let input = &input[..rows * inputs];
    let filter = &filter[..outputs * inputs];
    let bias: [i32; 16] = core::array::from_fn(|_| (random() as i32) >> 12);
    let mult: [i32; 16] = core::array::from_fn(|_| (1 << 30) + (random() as i32 >> 2).abs());
    // Larger shifts for the extreme sums, so that not every output saturates.
    let base = if extreme { 16 } else { 8 };
    let shift: [i32; 16] = core::array::from_fn(|_| -((index(random, 8) + base) as i32));
    let mut folded = [0i32; 16];
    for (o, f) in folded.iter_mut().enumerate().take(outputs) {
        let row = &filter[o * inputs..(o + 1) * inputs];
        let sw = row
            .iter()
            .fold(0i32, |t, &w| t.wrapping_add(w as i8 as i32));
        *f = bias[o].wrapping_add(sw.wrapping_mul(-zp));
    }
    let mut packed = [0u32; BUF];
    for (k, d) in packed
        .iter_mut()
        .enumerate()
        .take(fc_pairs_words(inputs, outputs))
    {
        *d = fc_pair_word(filter, inputs, outputs, k);
    }
    let packed = &packed[..fc_pairs_words(inputs, outputs)];
    let (m, sh) = (&mult[..outputs], &shift[..outputs]);
    let mut want = [0i8; 32];
    let want = &mut want[..rows * outputs];
    conv2d(&fast, input, filter, Some(&bias[..outputs]), m, sh, want);
    let mut got = [0i8; 32];
    let got = &mut got[..rows * outputs];
    let chunk = fc_pairs_chunk(filter, inputs, outputs);
    fully_connected_pairs(&fast, chunk, input, packed, &folded[..outputs], m, sh, got);
    if fc_pairs_packable(filter, inputs, outputs) && got == want {
        Ok(1)
    } else {
        Err(Mismatch {
            case,
            kernel: "fully_connected_pairs",
            shape,
        })
    }
}

/// One random case of [`conv_kernels`]: the number of kernels compared (0 when the drawn
/// window does not fit the drawn input).
#[allow(clippy::too_many_lines)]
fn conv_case(random: Random, case: usize, kernels: Kernels) -> Result<usize, Mismatch> {
    let depthwise = case.is_multiple_of(3);
    // Half the depthwise cases: 3×3, multiplier 1, no dilation (`depthwise_conv2d_rows`).
    let rows_shape = case.is_multiple_of(6);
    // All the others: 3×3 over one input channel, no dilation (`depthwise_conv2d_single`),
    // over the whole int8 range (3, 15; its `asm!` loops when requantized fast) or clamped (9).
    let single_shape = matches!(case % 18, 3 | 9 | 15);
    // One in nine: 1×1, no padding, one group, 4–32 input channels; half of them stride 1
    // (the patch kernels' direct copy of whole words, `pointwise_words`, up to 16;
    // `conv2d_pointwise`), `conv2d_pointwise_small` over all.
    let pointwise_shape = case % 9 == 4;
    let in_c = if single_shape {
        1
    } else if pointwise_shape {
        4 * (1 + index(random, 8))
    } else {
        1 + index(random, 9)
    };
    let dm = if depthwise && !rows_shape {
        [1, 2, 3, 4, 8][index(random, 5)]
    } else {
        1
    };
    let groups =
        if !depthwise && !pointwise_shape && in_c.is_multiple_of(2) && index(random, 4) == 0 {
            2
        } else {
            1
        };
    let k_c = if depthwise { 1 } else { in_c / groups };
    let out_c = if depthwise {
        in_c * dm
    } else {
        groups * (1 + index(random, 7))
    };
    let (mut k_h, mut k_w) = (1 + index(random, 3), 1 + index(random, 3));
    let (stride_h, stride_w) = (1 + index(random, 2), 1 + index(random, 2));
    let (mut dilation_h, mut dilation_w) = (1 + index(random, 2), 1 + index(random, 2));
    if rows_shape || single_shape {
        (k_h, k_w, dilation_h, dilation_w) = (3, 3, 1, 1);
    }
    // One rows case in two is 3-7 columns wide at a horizontal stride of 1 (or three output
    // columns at a stride of 2) with right shifts of at most 22: rows of three to six output
    // pixels come up often, for their single pass from multiply-accumulate to byte
    // (`depthwise_conv2d_rows6`).
    let short_rows = rows_shape && case.is_multiple_of(12);
    // One short case in three is 7-13 columns wide at either stride instead: rows of up to
    // six pixels at stride 2 and twelve at stride 1, four (then two) pixels per pass of
    // `depthwise_conv2d_rows_out`.
    let wide_rows = short_rows && (case / 12) % 3 == 2;
    let (mut in_h, mut in_w) = (1 + index(random, 6), 1 + index(random, 7));
    if pointwise_shape && in_c > 16 {
        // Few enough pixels for the buffers, still often more than one block of five.
        in_h = 1 + in_h % 3;
    }
    if short_rows {
        in_w = 3 + (case / 12) % 5;
    }
    if wide_rows {
        (in_h, in_w) = (3 + in_h % 3, 7 + (case / 36) % 7);
    }
    let (mut pad_top, mut pad_left) = (index(random, 2), index(random, 2));
    let (mut stride_h, mut stride_w) = (stride_h, stride_w);
    if short_rows && !wide_rows {
        stride_w = 1;
        // One in three: three columns at a stride of 2 (its own single pass).
        if (case / 12).is_multiple_of(3) {
            stride_w = 2;
            in_w = if pad_left == 0 {
                7
            } else {
                5 + (case / 36) % 2
            };
        }
    }
    if wide_rows {
        // Stride 2 over odd widths with the left padding that makes the row even, stride 1
        // over even widths: four pixels per pass, then maybe two.
        stride_w = 2 - (case / 36) % 2;
        if stride_w == 2 {
            pad_left = (in_w - 1) / 2 % 2;
        }
    }
    if pointwise_shape {
        (k_h, k_w, pad_top, pad_left) = (1, 1, 0, 0);
        // Half of them strided (`conv2d_pointwise_small` gathers their pixels).
        if case % 18 == 4 {
            (stride_h, stride_w) = (1, 1);
        }
    }
    let eff_h = (k_h - 1) * dilation_h + 1;
    let eff_w = (k_w - 1) * dilation_w + 1;
    if in_h + 2 * pad_top < eff_h || in_w + 2 * pad_left < eff_w {
        return Ok(0);
    }
    let out_h = (in_h + 2 * pad_top - eff_h) / stride_h + 1;
    let out_w = (in_w + 2 * pad_left - eff_w) / stride_w + 1;
    let shape = ConvShape {
        batches: 1 + index(random, 2),
        in_h,
        in_w,
        in_c,
        out_h,
        out_w,
        out_c,
        k_h,
        k_w,
        k_c,
        stride_h,
        stride_w,
        dilation_h,
        dilation_w,
        pad_top,
        pad_left,
        depth_multiplier: dm,
    };
    let zp = random() as i8 as i32;
    let fast = ConvFast {
        shape,
        input_zero_point: zp,
        output_offset: random() as i8 as i32,
        per_channel: true,
        // Some cases clamp to less than int8's range (a fused activation), some take the
        // general requantization; every combination of the two comes up.
        // (Wide rows take the whole range, as `depthwise_conv2d_rows_out` needs.)
        act_min: if (case / 6) % 3 == 1 && !wide_rows {
            -100
        } else {
            -128
        },
        act_max: if (case / 6) % 3 == 1 && !wide_rows {
            90
        } else {
            127
        },
        // Shifts are -4..-11 or -23..-31 and these small windows keep |acc| far below 2^30.
        fast_requant: (case / 6).is_multiple_of(2),
    };
    let n_in = shape.batches * in_h * in_w * in_c;
    let n_out = shape.batches * out_h * out_w * out_c;
    let filter_len = if depthwise {
        k_h * k_w * out_c
    } else {
        out_c * k_h * k_w * k_c
    };
    if n_in > BUF || n_out > BUF || filter_len > BUF {
        return Ok(0);
    }
    let input = i8s(random, n_in);
    let input = &input[..n_in];
    let filter_i8 = i8s(random, filter_len);
    let filter: [u8; BUF] = filter_i8.map(|v| v as u8);
    let filter = &filter[..filter_len];
    let bias: [i32; 128] = core::array::from_fn(|_| (random() as i32) >> 12);
    let bias = &bias[..out_c];
    let mult: [i32; 128] = core::array::from_fn(|_| (1 << 30) + (random() as i32 >> 2).abs());
    // Right shifts of 4-11, and one in four of 23-31 (small scales: the short
    // requantization adds the offset after the shift there).
    // (Short rows take only the first, as `depthwise_conv2d_rows6` needs.)
    let shift: [i32; 128] = core::array::from_fn(|_| {
        if index(random, 4) == 0 && !short_rows {
            -((index(random, 9) + 23) as i32)
        } else {
            -((index(random, 8) + 4) as i32)
        }
    });
    let mut folded = [0i32; 128];
    for (i, &w) in filter.iter().enumerate() {
        let oc = if depthwise {
            i % out_c
        } else {
            i / (k_h * k_w * k_c)
        };
        folded[oc] = folded[oc].wrapping_add((w as i8 as i32) * -zp);
    }
    for (f, b) in folded.iter_mut().zip(bias) {
        *f = f.wrapping_add(*b);
    }
    let folded = &folded[..out_c];
    let (m, sh) = (&mult[..out_c], &shift[..out_c]);
    let mut want = [0i8; BUF];
    let want = &mut want[..n_out];
    let mut got = [0i8; BUF];
    let got = &mut got[..n_out];
    let mut compared = 0;
    let mut expect = |ok: bool, kernel: &'static str| {
        compared += 1;
        if ok {
            Ok(())
        } else {
            Err(Mismatch {
                case,
                kernel,
                shape,
            })
        }
    };
    // Filter rows of the patch kernels: the conv filter's OHWI rows, or the one-channel
    // depthwise filter transposed; zero-padded to a multiple of 4 bytes.
    let patch_rows = if depthwise && in_c == 1 {
        Some(k_h * k_w)
    } else if !depthwise && groups == 1 {
        Some(k_h * k_w * k_c)
    } else {
        None
    };
    let mut rows = [0u8; BUF];
    let row_len = patch_rows.map_or(0, |patch| patch.div_ceil(4) * 4);
    if let Some(patch) = patch_rows {
        for oc in 0..out_c {
            for k in 0..patch {
                rows[oc * row_len + k] = if depthwise {
                    filter[k * out_c + oc]
                } else {
                    filter[oc * patch + k]
                };
            }
        }
    }
    let rows = &rows[..out_c * row_len];

    if depthwise {
        depthwise_conv2d(&fast, input, filter, Some(bias), m, sh, want);
        depthwise_conv2d_fast::<Scalar>(&fast, input, filter, folded, bias, m, sh, got);
        expect(got == want, "depthwise_conv2d_fast::<Scalar>")?;
        if dm == 1 {
            depthwise_conv2d_scalar(&fast, input, filter, folded, bias, m, sh, got);
            expect(got == want, "depthwise_conv2d_scalar")?;
        }
    } else {
        conv2d(&fast, input, filter, Some(bias), m, sh, want);
        conv2d_fast::<Scalar>(&fast, input, filter, folded, m, sh, got);
        expect(got == want, "conv2d_fast::<Scalar>")?;
    }
    if patch_rows.is_some() {
        let mut scratch = [0i8; BUF];
        conv2d_patches_scalar::<4, 1, false>(
            &fast,
            row_len,
            input,
            rows,
            folded,
            m,
            sh,
            &mut scratch,
            got,
        );
        expect(got == want, "conv2d_patches_scalar::<4, 1, false>")?;
        // The Cortex-M0+'s kernel: patch bytes offset by 128, the bias corrected for it.
        let mut unsigned = [0i32; 128];
        for (oc, u) in unsigned.iter_mut().enumerate().take(out_c) {
            let sum = rows[oc * row_len..(oc + 1) * row_len]
                .iter()
                .fold(0i32, |t, &v| t.wrapping_add(v as i8 as i32));
            *u = folded[oc].wrapping_sub(sum.wrapping_mul(128));
        }
        conv2d_patches_thumb1(
            &fast,
            row_len,
            input,
            rows,
            &unsigned[..out_c],
            m,
            sh,
            &mut scratch,
            got,
        );
        expect(got == want, "conv2d_patches_thumb1")?;
        // RV32IMC's register tile: 4 channels × 2 pixels, its filter tile-major.
        let mut tiled = [0u8; BUF];
        for oc in 0..out_c {
            for k in 0..row_len {
                tiled[patch_tile_index(oc, k, row_len, out_c, 4)] = rows[oc * row_len + k];
            }
        }
        // Both reductions: one patch position per pass, and two (`PAIRS`).
        macro_rules! tiled {
            ($pairs:literal) => {{
                got.fill(0);
                conv2d_patches_scalar::<2, 4, $pairs>(
                    &fast,
                    row_len,
                    input,
                    &tiled[..out_c * row_len],
                    folded,
                    m,
                    sh,
                    &mut scratch,
                    got,
                );
                expect(
                    got == want,
                    concat!("conv2d_patches_scalar::<2, 4, ", stringify!($pairs), ">"),
                )?;
            }};
        }
        tiled!(false);
        tiled!(true);
    }
    // In place: one buffer, the output from its start, the input from the planner's lead.
    let lead = in_place_lead(&shape);
    let mut data = [0i8; 2 * BUF];
    let load = |data: &mut [i8; 2 * BUF]| {
        data.fill(0);
        if let Some(d) = data.get_mut(lead..lead + n_in) {
            d.copy_from_slice(input);
        }
    };
    let fits = lead + BUF <= 2 * BUF;
    if fits && patch_rows.is_some() {
        load(&mut data);
        let mut scratch = [0i8; BUF];
        conv2d_patches_scalar_in_place::<4, 1, false>(
            &fast,
            row_len,
            &mut data,
            lead,
            rows,
            folded,
            m,
            sh,
            &mut scratch,
        );
        expect(
            data[..n_out] == *want,
            "conv2d_patches_scalar_in_place::<4, 1, false>",
        )?;
    }
    if fits && depthwise {
        load(&mut data);
        depthwise_conv2d_fast_in_place::<Scalar>(
            &fast, &mut data, lead, filter, folded, bias, m, sh,
        );
        expect(
            data[..n_out] == *want,
            "depthwise_conv2d_fast_in_place::<Scalar>",
        )?;
        if dm == 1 {
            load(&mut data);
            depthwise_conv2d_scalar_in_place(&fast, &mut data, lead, filter, folded, bias, m, sh);
            expect(data[..n_out] == *want, "depthwise_conv2d_scalar_in_place")?;
        }
    }
    if depthwise && dm == 1 && k_h == 3 && k_w == 3 && dilation_h == 1 && dilation_w == 1 {
        // RV32IMC's ring kernel: three padded byte rows per channel (3 · 9 · 15 bytes at most).
        let mut padded_input = [0i8; BUF];
        padded_input[..input.len()].copy_from_slice(input);
        let mut out = [0i8; BUF];
        let mut ring = [0i8; 512];
        let pw = depthwise_ring_width(out_w, stride_w);
        let mut by_channel = [0u8; 9 * 9];
        for (d, w) in by_channel
            .iter_mut()
            .zip(depthwise_ring_filter(filter, out_c))
        {
            *d = w;
        }
        let filter = &by_channel[..9 * out_c];
        macro_rules! ring {
            ($($pw:literal),*) => {
                match pw {
                    $($pw => depthwise_conv2d_ring::<BUF, BUF, $pw>(
                        &fast, &padded_input, filter, folded, m, sh, &mut ring, &mut out,
                    ),)*
                    _ => {}
                }
            };
        }
        ring!(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        expect(out[..n_out] == *want, "depthwise_conv2d_ring")?;
        if fits {
            load(&mut data);
            macro_rules! ring_in_place {
                ($($pw:literal),*) => {
                    match pw {
                        $($pw => depthwise_conv2d_ring_in_place::<BUF, BUF, $pw>(
                            &fast, &mut data, lead, filter, folded, m, sh, &mut ring,
                        ),)*
                        _ => {}
                    }
                };
            }
            ring_in_place!(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            expect(data[..n_out] == *want, "depthwise_conv2d_ring_in_place")?;
        }
    }
    if kernels == Kernels::Portable {
        return Ok(compared);
    }
    if fits && depthwise {
        load(&mut data);
        depthwise_conv2d_fast_in_place::<Dsp>(&fast, &mut data, lead, filter, folded, bias, m, sh);
        expect(
            data[..n_out] == *want,
            "depthwise_conv2d_fast_in_place::<Dsp>",
        )?;
    }
    if fits && patch_rows.is_some() {
        load(&mut data);
        let mut scratch = [0u32; 256];
        conv2d_patches_in_place::<5>(
            &fast,
            row_len,
            &mut data,
            lead,
            rows,
            folded,
            m,
            sh,
            &mut scratch,
        );
        expect(
            data[..n_out] == *want,
            "conv2d_patches_in_place::<5> (asm! tile)",
        )?;
    }
    if depthwise {
        depthwise_conv2d_fast::<Dsp>(&fast, input, filter, folded, bias, m, sh, got);
        expect(got == want, "depthwise_conv2d_fast::<Dsp>")?;
    } else {
        conv2d_fast::<Dsp>(&fast, input, filter, folded, m, sh, got);
        expect(got == want, "conv2d_fast::<Dsp>")?;
    }
    if depthwise && dm == 1 {
        let mut wide = [0u32; 256];
        for (d, w) in wide.iter_mut().zip(widen_depthwise(filter, out_c)) {
            *d = w;
        }
        let mut padded_input = [0i8; BUF];
        padded_input[..input.len()].copy_from_slice(input);
        let mut out = [0i8; BUF];
        let mut scratch = [0u32; 64];
        macro_rules! wide {
            ($($kh:literal, $kw:literal);*) => {
                match (k_h, k_w) {
                    $(($kh, $kw) => depthwise_conv2d_wide::<BUF, BUF, 256, $kh, $kw>(
                        &fast, &padded_input, &wide, folded, m, sh, &mut scratch, &mut out,
                    ),)*
                    _ => {}
                }
            };
        }
        wide!(1, 1; 1, 2; 1, 3; 2, 1; 2, 2; 2, 3; 3, 1; 3, 2; 3, 3);
        expect(out[..n_out] == *want, "depthwise_conv2d_wide")?;
        if fits {
            load(&mut data);
            macro_rules! wide_in_place {
                ($($kh:literal, $kw:literal);*) => {
                    match (k_h, k_w) {
                        $(($kh, $kw) => depthwise_conv2d_wide_in_place::<BUF, BUF, 256, $kh, $kw>(
                            &fast, &mut data, lead, &wide, folded, m, sh, &mut scratch,
                        ),)*
                        _ => {}
                    }
                };
            }
            wide_in_place!(1, 1; 1, 2; 1, 3; 2, 1; 2, 2; 2, 3; 3, 1; 3, 2; 3, 3);
            expect(data[..n_out] == *want, "depthwise_conv2d_wide_in_place")?;
        }
    }
    if depthwise && dm == 1 && k_h == 3 && k_w == 3 && dilation_h == 1 && dilation_w == 1 {
        let mut pairs = [0u32; 6 * 9];
        for (d, w) in pairs
            .iter_mut()
            .zip(pair_depthwise(filter, out_c, fast.fast_requant))
        {
            *d = w;
        }
        let mut padded_input = [0i8; BUF];
        padded_input[..input.len()].copy_from_slice(input);
        let mut out = [0i8; BUF];
        let mut scratch = [0u32; 512];
        let rw = depthwise_rows_width(out_w, stride_w);
        // Scratch for the rings of `k` channels (with the rows kernel's accumulators): less
        // than every channel's, so the kernels run in chunks of channels.
        let chunked = if out_c > 1 {
            let k = 1 + (case / 6) % (out_c - 1);
            Some((3 * k + 2) * rw)
        } else {
            None
        };
        macro_rules! rows {
            ($scratch:expr; $($rw:literal),*) => {
                match rw {
                    $($rw => depthwise_conv2d_rows::<BUF, BUF, $rw>(
                        &fast, &padded_input, &pairs, folded, m, sh, $scratch, &mut out,
                    ),)*
                    _ => {}
                }
            };
        }
        rows!((&mut scratch, out_c); 2, 3, 4, 5, 6, 7, 8, 9);
        expect(out[..n_out] == *want, "depthwise_conv2d_rows")?;
        if let Some(words) = chunked {
            // Every byte written: the output starts as the wrong bytes.
            for (o, w) in out.iter_mut().zip(want.iter()) {
                *o = !w;
            }
            let chunk = depthwise_ring_chunk(out_c, 3 * rw, words - 2 * rw);
            rows!((&mut scratch[..words], chunk); 2, 3, 4, 5, 6, 7, 8, 9);
            expect(out[..n_out] == *want, "depthwise_conv2d_rows (chunks)")?;
        }
        if fits {
            load(&mut data);
            macro_rules! rows_in_place {
                ($($rw:literal),*) => {
                    match rw {
                        $($rw => depthwise_conv2d_rows_in_place::<BUF, BUF, $rw>(
                            &fast, &mut data, lead, &pairs, folded, m, sh, &mut scratch,
                        ),)*
                        _ => {}
                    }
                };
            }
            rows_in_place!(2, 3, 4, 5, 6, 7, 8, 9);
            expect(data[..n_out] == *want, "depthwise_conv2d_rows_in_place")?;
        }
        let rows6 = ((stride_w == 1 && (3..=6).contains(&out_w)) || (stride_w == 2 && out_w == 3))
            && fast.fast_requant
            && fast.act_min == -128
            && fast.act_max == 127
            && sh.iter().all(|&s| (-22..=0).contains(&s));
        if rows6 {
            let mut table = [0u32; ROWS6_WORDS * 9];
            let entries = rows6_table(filter, folded, m, sh, fast.output_offset);
            for (d, t) in table.iter_mut().zip(entries) {
                *d = t;
            }
            let table = &table[..ROWS6_WORDS * out_c];
            out = [0; BUF];
            macro_rules! rows6 {
                ($scratch:expr; $($rw:literal),*) => {
                    match rw {
                        $($rw => depthwise_conv2d_rows6::<BUF, BUF, $rw>(
                            &fast, &padded_input, table, $scratch, &mut out,
                        ),)*
                        _ => {}
                    }
                };
            }
            rows6!((&mut scratch, out_c); 3, 4);
            expect(out[..n_out] == *want, "depthwise_conv2d_rows6")?;
            if let Some(words) = chunked {
                for (o, w) in out.iter_mut().zip(want.iter()) {
                    *o = !w;
                }
                // Without the accumulators' words: rows6 has none.
                let chunk = depthwise_ring_chunk(out_c, 3 * rw, words - 2 * rw);
                rows6!((&mut scratch[..words - 2 * rw], chunk); 3, 4);
                expect(out[..n_out] == *want, "depthwise_conv2d_rows6 (chunks)")?;
            }
            if fits {
                load(&mut data);
                macro_rules! rows6_in_place {
                    ($($rw:literal),*) => {
                        match rw {
                            $($rw => depthwise_conv2d_rows6_in_place::<BUF, BUF, $rw>(
                                &fast, &mut data, lead, table, &mut scratch,
                            ),)*
                            _ => {}
                        }
                    };
                }
                rows6_in_place!(3, 4);
                expect(data[..n_out] == *want, "depthwise_conv2d_rows6_in_place")?;
            }
        }
        let rows_out = out_w.is_multiple_of(2)
            && fast.fast_requant
            && fast.act_min == -128
            && fast.act_max == 127
            && sh.iter().all(|&s| (-22..=0).contains(&s));
        if rows_out {
            let mut table = [0u32; ROWS6_WORDS * 9];
            let entries = rows6_table(filter, folded, m, sh, fast.output_offset);
            for (d, t) in table.iter_mut().zip(entries) {
                *d = t;
            }
            let table = &table[..ROWS6_WORDS * out_c];
            out = [0; BUF];
            macro_rules! rows_out {
                ($($rw:literal),*) => {
                    match rw {
                        $($rw => depthwise_conv2d_rows_out::<BUF, BUF, $rw>(
                            &fast, &padded_input, table, &mut scratch, &mut out,
                        ),)*
                        _ => {}
                    }
                };
            }
            rows_out!(2, 3, 4, 5, 6, 7, 8);
            expect(out[..n_out] == *want, "depthwise_conv2d_rows_out")?;
            if fits {
                load(&mut data);
                macro_rules! rows_out_in_place {
                    ($($rw:literal),*) => {
                        match rw {
                            $($rw => depthwise_conv2d_rows_out_in_place::<BUF, BUF, $rw>(
                                &fast, &mut data, lead, table, &mut scratch,
                            ),)*
                            _ => {}
                        }
                    };
                }
                rows_out_in_place!(2, 3, 4, 5, 6, 7, 8);
                expect(data[..n_out] == *want, "depthwise_conv2d_rows_out_in_place")?;
            }
        }
    }
    if depthwise && in_c == 1 && k_h == 3 && k_w == 3 && dilation_h == 1 && dilation_w == 1 {
        // As the emitter: the table's offset constants need right shifts of at most 22.
        let single = ConvFast {
            fast_requant: fast.fast_requant && sh.iter().all(|&s| s >= -22),
            ..fast
        };
        let mut table = [0u32; SINGLE_WORDS * 8];
        let entries = single_table(filter, out_c, (folded, m, sh), &single);
        for (d, t) in table.iter_mut().zip(entries) {
            *d = t;
        }
        let table = &table[..SINGLE_WORDS * out_c];
        let mut padded_input = [0i8; BUF];
        padded_input[..input.len()].copy_from_slice(input);
        // Wrong bytes first: every output byte must be written.
        let mut out = [0x55i8; BUF];
        depthwise_conv2d_single::<BUF, BUF>(&single, &padded_input, table, &mut out);
        expect(out[..n_out] == *want, "depthwise_conv2d_single")?;
        if fits {
            load(&mut data);
            depthwise_conv2d_single_in_place::<BUF, BUF>(&single, &mut data, lead, table);
            expect(data[..n_out] == *want, "depthwise_conv2d_single_in_place")?;
        }
    }
    if patch_rows.is_some() {
        let mut scratch = [0u32; 256];
        conv2d_patches::<5>(
            &fast,
            row_len,
            input,
            rows,
            folded,
            m,
            sh,
            &mut scratch,
            got,
        );
        expect(got == want, "conv2d_patches::<5> (asm! tile)")?;
        conv2d_patches::<4>(
            &fast,
            row_len,
            input,
            rows,
            folded,
            m,
            sh,
            &mut scratch,
            got,
        );
        expect(got == want, "conv2d_patches::<4>")?;
        conv2d_patches::<3>(
            &fast,
            row_len,
            input,
            rows,
            folded,
            m,
            sh,
            &mut scratch,
            got,
        );
        expect(got == want, "conv2d_patches::<3>")?;
    }
    if pointwise_shape {
        // `conv2d_pointwise` takes right shifts of at most 22: its own reference, with the
        // longer shifts shortened.
        let short: [i32; 128] = core::array::from_fn(|i| shift[i] + 12 * (shift[i] < -22) as i32);
        let short = &short[..out_c];
        let pw = ConvFast {
            fast_requant: true,
            ..fast
        };
        let mut want_pw = [0i8; BUF];
        let want_pw = &mut want_pw[..n_out];
        conv2d(&pw, input, filter, Some(bias), m, short, want_pw);
        let mut table = [0i32; 3 * 128];
        for (oc, t) in table.chunks_exact_mut(3).take(out_c).enumerate() {
            t.copy_from_slice(&pointwise_channel(
                folded[oc],
                m[oc],
                short[oc],
                pw.output_offset,
            ));
        }
        let table = &table[..3 * out_c];
        let unit = stride_h == 1 && stride_w == 1;
        expect(pointwise_fits(&pw, short) == unit, "pointwise_fits")?;
        let mut scratch = [0u32; 256];
        if unit {
            // Every byte wrong beforehand: each must be written.
            for (g, w) in got.iter_mut().zip(want_pw.iter()) {
                *g = !*w;
            }
            conv2d_pointwise(&pw, input, rows, table, &mut scratch, got);
            expect(got == want_pw, "conv2d_pointwise (asm! tile)")?;
            if fits {
                load(&mut data);
                conv2d_pointwise_in_place(&pw, &mut data, lead, rows, table, &mut scratch);
                expect(
                    data[..n_out] == *want_pw,
                    "conv2d_pointwise_in_place (asm! tile)",
                )?;
            }
        }
        // The few-channel kernel clamps to the whole int8 range only.
        let small = ConvFast {
            act_min: -128,
            act_max: 127,
            ..pw
        };
        conv2d(&small, input, filter, Some(bias), m, short, want_pw);
        // (At most 7 output channels here.)
        let mut table = [0i32; 8 * pointwise_small_words(POINTWISE_SMALL_MAX_C)];
        let words = pointwise_small_words(in_c);
        for (oc, t) in table.chunks_exact_mut(words).take(out_c).enumerate() {
            let channel = pointwise_channel(folded[oc], m[oc], short[oc], pw.output_offset);
            let row = &filter[oc * in_c..(oc + 1) * in_c];
            for (d, v) in t.iter_mut().zip(pointwise_small_channel(row, channel)) {
                *d = v;
            }
        }
        let table = &table[..words * out_c];
        let pixels = shape.batches * out_h * out_w;
        expect(
            pointwise_small_fits(&small, short) == (pixels >= 5),
            "pointwise_small_fits",
        )?;
        let mut scratch = [0u32; POINTWISE_SMALL_BLOCK];
        for (g, w) in got.iter_mut().zip(want_pw.iter()) {
            *g = !*w;
        }
        conv2d_pointwise_small(&small, input, table, &mut scratch, got);
        expect(got == want_pw, "conv2d_pointwise_small (asm! loop)")?;
        if fits {
            load(&mut data);
            conv2d_pointwise_small_in_place(&small, &mut data, lead, table, &mut scratch);
            expect(
                data[..n_out] == *want_pw,
                "conv2d_pointwise_small_in_place (asm! loop)",
            )?;
        }
    }
    Ok(compared)
}

/// The weights of [`depthwise_conv2d_wide`] from a depthwise filter (`1HWC` bytes,
/// `channels` per tap): per tap, per group of four channels, `(w0, w2)` and `(w1, w3)` as i16
/// pairs, channels padded to a multiple of 4 with zeros. (The emitter's layout, again, as the test's oracle input.)
fn widen_depthwise(filter: &[u8], channels: usize) -> impl Iterator<Item = u32> + '_ {
    let groups = channels.div_ceil(4);
    let taps = filter.len() / channels.max(1);
    (0..taps).flat_map(move |t| {
        (0..groups).flat_map(move |g| {
            let w = |j: usize| {
                let c = 4 * g + j;
                if c < channels {
                    filter.get(t * channels + c).copied().unwrap_or(0) as i8 as i16 as u16 as u32
                } else {
                    0
                }
            };
            [w(0) | (w(2) << 16), w(1) | (w(3) << 16)]
        })
    })
}

/// The weights of [`depthwise_conv2d_rows`] from a 3×3 depthwise filter (`1HWC` bytes,
/// `channels` per tap): per channel, per filter row, `(w0, w1)` and `(w1, w2)` as i16 pairs,
/// doubled when `doubled` (the layer's `fast_requant`).
/// (The emitter's layout, again, as the test's oracle input.)
fn pair_depthwise(filter: &[u8], channels: usize, doubled: bool) -> impl Iterator<Item = u32> + '_ {
    let scale = if doubled { 2 } else { 1 };
    (0..channels).flat_map(move |c| {
        (0..3).flat_map(move |ky| {
            let w = |kx: usize| {
                let w = filter
                    .get((ky * 3 + kx) * channels + c)
                    .copied()
                    .unwrap_or(0) as i8;
                (w as i16 * scale) as u16 as u32
            };
            [w(0) | (w(1) << 16), w(1) | (w(2) << 16)]
        })
    })
}

/// The table of [`depthwise_conv2d_rows6`] from a 3×3 depthwise filter (`1HWC` bytes,
/// `folded.len()` channels per tap) and its requantization: per channel the weights of
/// [`pair_depthwise`] doubled, the folded bias doubled, the multiplier,
/// `small_offset_constant(right, offset)` and the right shift. (The emitter's layout, again,
/// as the test's oracle input.)
fn rows6_table<'a>(
    filter: &'a [u8],
    folded: &'a [i32],
    multiplier: &'a [i32],
    shift: &'a [i32],
    offset: i32,
) -> impl Iterator<Item = u32> + 'a {
    let channels = folded.len();
    (0..channels).flat_map(move |c| {
        let mut words = [0u32; ROWS6_WORDS];
        let pairs = pair_depthwise(filter, channels, true).skip(6 * c);
        for (d, v) in words.iter_mut().take(6).zip(pairs) {
            *d = v;
        }
        let right = -shift.get(c).copied().unwrap_or(0);
        words[6] = (folded.get(c).copied().unwrap_or(0) << 1) as u32;
        words[7] = multiplier.get(c).copied().unwrap_or(0) as u32;
        words[8] = small_offset_constant(right, offset) as u32;
        words[9] = right as u32;
        words
    })
}

/// The table of [`depthwise_conv2d_single`] from a 3×3 depthwise filter over one input
/// channel (`1HWC` bytes, `channels` per tap), its folded bias and requantization
/// (multiplier, shift): per channel the start, the weights as i16 pairs `(w00, w02)`,
/// `(w10, w12)`, `(w20, w22)`, `(w01, w11)`, `(w21, 0)` (start and weights doubled when
/// `p.fast_requant`), the multiplier, `small_offset_constant(right, offset)` and the right
/// shift word. (The emitter's layout, again, as the test's oracle input.)
fn single_table<'a>(
    filter: &'a [u8],
    channels: usize,
    (folded, multiplier, shift): (&'a [i32], &'a [i32], &'a [i32]),
    p: &ConvFast,
) -> impl Iterator<Item = u32> + 'a {
    let (scale, offset) = (if p.fast_requant { 2 } else { 1 }, p.output_offset);
    (0..channels).flat_map(move |c| {
        let w = move |ky: usize, kx: usize| {
            let v = filter
                .get((ky * 3 + kx) * channels + c)
                .copied()
                .unwrap_or(0) as i8;
            (i16::from(v) * scale) as u16 as u32
        };
        let right = -shift.get(c).copied().unwrap_or(0);
        let m = multiplier.get(c).copied().unwrap_or(0);
        let start = folded
            .get(c)
            .copied()
            .unwrap_or(0)
            .wrapping_mul(i32::from(scale));
        [
            start as u32,
            w(0, 0) | (w(0, 2) << 16),
            w(1, 0) | (w(1, 2) << 16),
            w(2, 0) | (w(2, 2) << 16),
            w(0, 1) | (w(1, 1) << 16),
            w(2, 1),
            m as u32,
            small_offset_constant(right, offset) as u32,
            single_shift_word(right, c + 1 == channels),
        ]
    })
}

/// Reference kernel (TFLite's), the oracle of the fast kernels' randomized test.
/// Int8 CONV_2D with per-channel requantization (TFLite `ConvPerChannel`).
/// `filter` is OHWI int8 stored as bytes.
pub fn conv2d(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    bias: Option<&[i32]>,
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
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
                    let mut acc = 0i32;
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
                            let ws = filter.get(f_base..f_base + s.k_c).unwrap_or(&[]);
                            for (&x, &w) in xs.iter().zip(ws) {
                                acc = acc.wrapping_add(
                                    (w as i8 as i32)
                                        .wrapping_mul((x as i32).wrapping_sub(p.input_zero_point)),
                                );
                            }
                        }
                    }
                    if let Some(bias) = bias {
                        acc = acc.wrapping_add(bias.get(oc).copied().unwrap_or(0));
                    }
                    let m = multiplier.get(oc).copied().unwrap_or(0);
                    let s = shift.get(oc).copied().unwrap_or(0);
                    if let Some(o) = output.get_mut(out_index) {
                        *o = requantize(acc, m, s, p.output_offset, p.act_min, p.act_max);
                    }
                    out_index += 1;
                }
            }
        }
    }
}

/// Reference kernel (TFLite's), the oracle of the fast kernels' randomized test.
/// Int8 DEPTHWISE_CONV_2D with per-channel requantization (TFLite
/// `DepthwiseConvPerChannel`). `filter` is 1HW(C*M) int8 stored as bytes.
pub fn depthwise_conv2d(
    p: &ConvFast,
    input: &[i8],
    filter: &[u8],
    bias: Option<&[i32]>,
    multiplier: &[i32],
    shift: &[i32],
    output: &mut [i8],
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
                        let mut acc = 0i32;
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
                                let f = (ky * s.k_w + kx) * s.out_c + oc;
                                let x = input.get(i).copied().unwrap_or(0) as i32;
                                let w = filter.get(f).copied().unwrap_or(0) as i8 as i32;
                                acc = acc.wrapping_add(
                                    w.wrapping_mul(x.wrapping_sub(p.input_zero_point)),
                                );
                            }
                        }
                        if let Some(bias) = bias {
                            acc = acc.wrapping_add(bias.get(oc).copied().unwrap_or(0));
                        }
                        let mm = multiplier.get(oc).copied().unwrap_or(0);
                        let s = shift.get(oc).copied().unwrap_or(0);
                        if let Some(o) = output.get_mut(out_index) {
                            *o = requantize(acc, mm, s, p.output_offset, p.act_min, p.act_max);
                        }
                        out_index += 1;
                    }
                }
            }
        }
    }
}

/// Source of this module, for the on-target check's firmware.
pub const SOURCE: &str = include_str!("kernel_checks.rs");

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_fixtures::rng::Rng;

    #[test]
    fn fast_kernels_match_reference_kernels() {
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
        let mut random = || rng.next_u64();
        let compared = conv_kernels(&mut random, 400, Kernels::Dsp)
            .unwrap_or_else(|m| panic!("case {}: {} disagrees, {:?}", m.case, m.kernel, m.shape));
        // Most cases fit; each compares 2-7 kernels.
        assert!(compared > 1000, "{compared}");
    }

    #[test]
    fn tile6_cases_mostly_reach_the_kernel() {
        // `tile6_case` skips layers `tile6_fits` refuses: about half of its cases must still
        // run, or a narrowed `tile6_fits` would leave the kernel unchecked.
        let mut rng = Rng::new(0x5eed_0006);
        let mut random = || rng.next_u64();
        let ran = (0..400)
            .map(|case| tile6_case(&mut random, case))
            .filter(|r| matches!(r, Ok(n) if *n > 0))
            .count();
        assert!(ran > 150, "{ran}");
    }
}
