//! Int16 `SignalRfft` (TFLM `signal/micro/kernels/rfft.cc` over `signal/src/rfft_int16.cc`):
//! kissfft's fixed-point real FFT ([`rt::signal_rfft`]). kissfft's state — its radices and
//! twiddle tables — is computed here, at compile time, exactly as `kiss_fftr_alloc` computes
//! it, and emitted as statics.

use super::common::Prepared;
use crate::ir::DType;
use crate::layer::RfftTables;
use crate::prepare::{Kernel, OpCx};
use crate::runtime as rt;

/// The largest FFT length kiln compiles (its tables are emitted as statics).
const MAX_FFT_LENGTH: i32 = 1 << 16;

/// kissfft's `kf_factor`: radix 4 while it divides, then 2, then odd numbers up to
/// `floor(sqrt(n))`, then the rest.
pub fn kiss_factors(mut n: usize) -> Vec<usize> {
    let floor_sqrt = (n as f64).sqrt().floor() as usize;
    let mut p = 4;
    let mut out = Vec::new();
    loop {
        while !n.is_multiple_of(p) {
            p = match p {
                4 => 2,
                2 => 3,
                _ => p + 2,
            };
            if p > floor_sqrt {
                p = n;
            }
        }
        n /= p;
        out.push(p);
        if n <= 1 {
            return out;
        }
    }
}

/// kissfft's `kf_cexp` in 16-bit fixed point: `floor(0.5 + 32767·cos)`, `floor(0.5 +
/// 32767·sin)`.
fn cexp(phase: f64) -> [i16; 2] {
    [
        (0.5 + 32767.0 * phase.cos()).floor() as i16,
        (0.5 + 32767.0 * phase.sin()).floor() as i16,
    ]
}

/// The tables of a forward real FFT of `fft_length` (even) points: `kiss_fftr_alloc`'s
/// substate for `n = fft_length / 2` and its super twiddles.
pub fn rfft_tables(fft_length: usize) -> RfftTables {
    const PI: f64 = std::f64::consts::PI;
    let n = fft_length / 2;
    // kiss_fft_alloc: phase = -2·pi·i / nfft.
    let twiddles = (0..n)
        .flat_map(|i| cexp(-2.0 * PI * i as f64 / n as f64))
        .collect();
    // kiss_fftr_alloc: phase = -pi·((i + 1) / nfft + 0.5).
    let super_twiddles = (0..n / 2)
        .flat_map(|i| cexp(-PI * ((i + 1) as f64 / n as f64 + 0.5)))
        .collect();
    RfftTables {
        factors: kiss_factors(n).into_iter().map(|p| p as u16).collect(),
        twiddles,
        super_twiddles,
    }
}

/// Validates an int16 `SignalRfft` and computes kissfft's tables.
pub fn prepare(cx: &OpCx, fft_length: i32) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    cx.expect_dtype(input, DType::I16, "input")?;
    cx.expect_dtype(output, DType::I16, "output")?;
    let (in_shape, out_shape) = (&input.1.shape, &output.1.shape);
    if in_shape.is_empty() || in_shape.len() != out_shape.len() {
        return Err(cx.err(format!(
            "input {} and output {} must have the same rank, at least 1",
            cx.describe(input.0),
            cx.describe(output.0)
        )));
    }
    if !(4..=MAX_FFT_LENGTH).contains(&fft_length) || fft_length.count_ones() != 1 {
        return Err(cx.err(format!(
            "fft_length {fft_length}: kiln implements kissfft's radix-2 and radix-4 \
             butterflies, so the length must be a power of two from 4 to {MAX_FFT_LENGTH}"
        )));
    }
    let fft_length = fft_length as usize;
    let input_length = in_shape[in_shape.len() - 1];
    let output_length = out_shape[out_shape.len() - 1];
    let frames = input.1.elements() / input_length.max(1);
    if input_length == 0 || input_length > fft_length {
        return Err(cx.err(format!(
            "frames of {input_length} samples do not fit fft_length {fft_length}"
        )));
    }
    if output_length != fft_length + 2 || output.1.elements() != frames * output_length {
        return Err(cx.err(format!(
            "output {} must hold {frames} frame(s) of {} values (fft_length / 2 + 1 complex \
             bins), has shape {out_shape:?}",
            cx.describe(output.0),
            fft_length + 2
        )));
    }
    let tables = rfft_tables(fft_length);
    let n = fft_length / 2;
    let macs = (frames * n * tables.factors.len() * 4) as u64;
    Ok((
        Kernel::SignalRfft(
            rt::SignalRfft {
                n,
                input_length,
                frames,
            },
            tables,
        ),
        vec![input.0],
        macs,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_are_kissfft_s() {
        assert_eq!(kiss_factors(256), [4, 4, 4, 4]);
        assert_eq!(kiss_factors(128), [4, 4, 4, 2]);
        assert_eq!(kiss_factors(2), [2]);
        assert_eq!(kiss_factors(8), [4, 2]);
        assert_eq!(kiss_factors(12), [4, 3]);
        assert_eq!(kiss_factors(7), [7]);
    }

    #[test]
    fn twiddles_are_rounded_q15() {
        let t = rfft_tables(16);
        // n = 8: e^{-2πi·k/8}.
        assert_eq!(t.twiddles[..4], [32767, 0, 23170, -23170]);
        assert_eq!(t.twiddles.len(), 16);
        assert_eq!(t.super_twiddles.len(), 8);
        // Super twiddle 0: phase -π(1/8 + 1/2): 32767·(-0.38268, -0.92388), floored after
        // adding 0.5.
        assert_eq!(t.super_twiddles[..2], [-12539, -30273]);
    }
}
