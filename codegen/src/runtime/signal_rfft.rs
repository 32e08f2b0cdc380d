//! TFLM's int16 `SignalRfft` (`signal/src/rfft_int16.cc`): kissfft's real FFT in 16-bit fixed
//! point (`kiss_fftr` over `kiss_fft` built with `FIXED_POINT=16`), replicated operation by
//! operation.
//!
//! Each frame of `input_length` samples is zero-padded to `fft_length` (= 2·n) and read as `n`
//! complex values (even samples real, odd ones imaginary). The complex FFT of length `n` is
//! kissfft's mixed-radix decimation in time: the input in digit-reversed order, then one
//! butterfly stage per factor (radix 4 and 2 here), every stage dividing its inputs by the
//! radix first (`C_FIXDIV`: `x · (32767 / p)` rounded in Q15), products rounded in Q15
//! (`sround`: `(x + 2^14) >> 15`, truncated to int16), sums wrapping in int16. The real
//! spectrum's `n + 1` bins then come from the split with the "super twiddles" and a final
//! halving. Twiddle tables (`floor(0.5 + 32767·cos/sin)`) are computed by the compiler.
//!
//! The output (`2·(n + 1)` int16 values per frame, `re, im` interleaved) doubles as kissfft's
//! work buffer: the complex FFT runs in its first `2n` values, and the split reads bins `k`
//! and `n - k` before writing them, as kissfft's separate buffers would give.

/// Per-layer constants of the int16 RFFT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalRfft {
    /// Complex FFT length `n` (half the real FFT length).
    pub n: usize,
    /// Samples per input frame (at most `2n`; the rest is zero).
    pub input_length: usize,
    /// Frames.
    pub frames: usize,
}

/// A complex int16 value.
#[derive(Clone, Copy)]
struct RfftCpx {
    r: i16,
    i: i16,
}

/// kissfft's `sround`: Q15 rounding of a product sum, truncated to int16.
#[inline(always)]
fn rfft_sround(x: i32) -> i16 {
    (x.wrapping_add(1 << 14) >> 15) as i16
}

/// kissfft's `C_MUL`.
#[inline(always)]
fn rfft_mul(a: RfftCpx, b: RfftCpx) -> RfftCpx {
    let (ar, ai, br, bi) = (a.r as i32, a.i as i32, b.r as i32, b.i as i32);
    RfftCpx {
        r: rfft_sround((ar * br).wrapping_sub(ai * bi)),
        i: rfft_sround((ar * bi).wrapping_add(ai * br)),
    }
}

/// kissfft's `C_FIXDIV(c, p)`: `c · (32767 / p)` in Q15.
#[inline(always)]
fn rfft_fixdiv(c: RfftCpx, p: i32) -> RfftCpx {
    let k = 32767 / p;
    RfftCpx {
        r: rfft_sround(c.r as i32 * k),
        i: rfft_sround(c.i as i32 * k),
    }
}

#[inline(always)]
fn rfft_add(a: RfftCpx, b: RfftCpx) -> RfftCpx {
    RfftCpx {
        r: a.r.wrapping_add(b.r),
        i: a.i.wrapping_add(b.i),
    }
}

#[inline(always)]
fn rfft_sub(a: RfftCpx, b: RfftCpx) -> RfftCpx {
    RfftCpx {
        r: a.r.wrapping_sub(b.r),
        i: a.i.wrapping_sub(b.i),
    }
}

/// Complex value `k` of an interleaved buffer (0 past its end).
#[inline(always)]
fn rfft_load(buf: &[i16], k: usize) -> RfftCpx {
    RfftCpx {
        r: buf.get(2 * k).copied().unwrap_or(0),
        i: buf.get(2 * k + 1).copied().unwrap_or(0),
    }
}

#[inline(always)]
fn rfft_store(buf: &mut [i16], k: usize, c: RfftCpx) {
    if let Some(v) = buf.get_mut(2 * k) {
        *v = c.r;
    }
    if let Some(v) = buf.get_mut(2 * k + 1) {
        *v = c.i;
    }
}

/// kissfft's `kf_bfly2` on the `2m` values from `at`.
#[inline(always)]
fn rfft_butterfly_2(out: &mut [i16], at: usize, m: usize, fstride: usize, twiddles: &[i16]) {
    for k in 0..m {
        let a = rfft_fixdiv(rfft_load(out, at + k), 2);
        let b = rfft_fixdiv(rfft_load(out, at + k + m), 2);
        let t = rfft_mul(b, rfft_load(twiddles, k * fstride));
        rfft_store(out, at + k + m, rfft_sub(a, t));
        rfft_store(out, at + k, rfft_add(a, t));
    }
}

/// kissfft's forward `kf_bfly4` on the `4m` values from `at`.
#[inline(always)]
fn rfft_butterfly_4(out: &mut [i16], at: usize, m: usize, fstride: usize, twiddles: &[i16]) {
    for k in 0..m {
        let f0 = rfft_fixdiv(rfft_load(out, at + k), 4);
        let f1 = rfft_fixdiv(rfft_load(out, at + k + m), 4);
        let f2 = rfft_fixdiv(rfft_load(out, at + k + 2 * m), 4);
        let f3 = rfft_fixdiv(rfft_load(out, at + k + 3 * m), 4);
        let s0 = rfft_mul(f1, rfft_load(twiddles, k * fstride));
        let s1 = rfft_mul(f2, rfft_load(twiddles, 2 * k * fstride));
        let s2 = rfft_mul(f3, rfft_load(twiddles, 3 * k * fstride));
        let s5 = rfft_sub(f0, s1);
        let f0 = rfft_add(f0, s1);
        let s3 = rfft_add(s0, s2);
        let s4 = rfft_sub(s0, s2);
        rfft_store(out, at + k + 2 * m, rfft_sub(f0, s3));
        rfft_store(out, at + k, rfft_add(f0, s3));
        rfft_store(
            out,
            at + k + m,
            RfftCpx {
                r: s5.r.wrapping_add(s4.i),
                i: s5.i.wrapping_sub(s4.r),
            },
        );
        rfft_store(
            out,
            at + k + 3 * m,
            RfftCpx {
                r: s5.r.wrapping_sub(s4.i),
                i: s5.i.wrapping_add(s4.r),
            },
        );
    }
}

/// kissfft's complex FFT (`kiss_fft`) of `frame` (read as complex values, 0 past its end) into the first
/// `2n` values of `out`; `factors` are kissfft's radices, outermost first (2 or 4 each).
#[inline(always)]
fn rfft_complex(n: usize, factors: &[u16], twiddles: &[i16], frame: &[i16], out: &mut [i16]) {
    // `kf_work`'s leaves: output position o = Σ q_l · m_l takes input Σ q_l · stride_l, with
    // m_l the size below level l and stride_l the product of the radices above it.
    for o in 0..n {
        let (mut rest, mut m, mut stride, mut input) = (o, n, 1, 0);
        for &p in factors {
            let p = (p as usize).max(1);
            m /= p;
            if m == 0 {
                break;
            }
            input += (rest / m) * stride;
            rest %= m;
            stride *= p;
        }
        rfft_store(out, o, rfft_load(frame, input));
    }
    // Then the butterflies, deepest level first: at level l, `stride_l` blocks of `p·m`.
    for level in (0..factors.len()).rev() {
        let (mut stride, mut m) = (1, n);
        for &p in factors.iter().take(level) {
            stride *= (p as usize).max(1);
            m /= (p as usize).max(1);
        }
        let p = factors.get(level).map_or(1, |&p| (p as usize).max(1));
        m /= p;
        for block in 0..stride {
            let at = block * p * m;
            match p {
                4 => rfft_butterfly_4(out, at, m, stride, twiddles),
                _ => rfft_butterfly_2(out, at, m, stride, twiddles),
            }
        }
    }
}

/// The real FFT of every frame of `input`: `frames` frames of `input_length` samples in,
/// `2(n + 1)` values each out. `twiddles` (n complex values) are the complex FFT's,
/// `super_twiddles` (n/2) the real split's.
#[inline(always)]
pub fn signal_rfft(
    p: &SignalRfft,
    factors: &[u16],
    twiddles: &[i16],
    super_twiddles: &[i16],
    input: &[i16],
    output: &mut [i16],
) {
    let n = p.n;
    for frame in 0..p.frames {
        let frame_in = input
            .get(frame * p.input_length..(frame + 1) * p.input_length)
            .unwrap_or(&[]);
        let Some(out) = output.get_mut(frame * 2 * (n + 1)..(frame + 1) * 2 * (n + 1)) else {
            return;
        };
        rfft_complex(n, factors, twiddles, frame_in, out);
        // kiss_fftr: DC and Nyquist from bin 0, then the pairs k, n - k.
        let dc = rfft_fixdiv(rfft_load(out, 0), 2);
        rfft_store(
            out,
            0,
            RfftCpx {
                r: dc.r.wrapping_add(dc.i),
                i: 0,
            },
        );
        rfft_store(
            out,
            n,
            RfftCpx {
                r: dc.r.wrapping_sub(dc.i),
                i: 0,
            },
        );
        for k in 1..=n / 2 {
            let fpk = rfft_fixdiv(rfft_load(out, k), 2);
            let mirror = rfft_load(out, n - k);
            let fpnk = rfft_fixdiv(
                RfftCpx {
                    r: mirror.r,
                    i: mirror.i.wrapping_neg(),
                },
                2,
            );
            let f1k = rfft_add(fpk, fpnk);
            let f2k = rfft_sub(fpk, fpnk);
            let tw = rfft_mul(f2k, rfft_load(super_twiddles, k - 1));
            // HALF_OF on the int sums, truncated to int16 on the rfft_store.
            let half = |sum: i32| (sum >> 1) as i16;
            let (f1r, f1i, twr, twi) = (f1k.r as i32, f1k.i as i32, tw.r as i32, tw.i as i32);
            rfft_store(
                out,
                k,
                RfftCpx {
                    r: half(f1r + twr),
                    i: half(f1i + twi),
                },
            );
            rfft_store(
                out,
                n - k,
                RfftCpx {
                    r: half(f1r - twr),
                    i: half(twi - f1i),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The twiddles as kissfft computes them (compile-time code in kiln does the same).
    fn tables(n: usize) -> (Vec<i16>, Vec<i16>) {
        let cexp = |phase: f64| {
            [
                (0.5 + 32767.0 * phase.cos()).floor() as i16,
                (0.5 + 32767.0 * phase.sin()).floor() as i16,
            ]
        };
        let pi = core::f64::consts::PI;
        let tw = (0..n)
            .flat_map(|i| cexp(-2.0 * pi * i as f64 / n as f64))
            .collect();
        let sup = (0..n / 2)
            .flat_map(|i| cexp(-pi * ((i + 1) as f64 / n as f64 + 0.5)))
            .collect();
        (tw, sup)
    }

    fn rfft(n: usize, factors: &[u16], x: &[i16]) -> Vec<i16> {
        let (tw, sup) = tables(n);
        let p = SignalRfft {
            n,
            input_length: x.len(),
            frames: 1,
        };
        let mut out = vec![0; 2 * (n + 1)];
        signal_rfft(&p, factors, &tw, &sup, x, &mut out);
        out
    }

    #[test]
    fn a_cosine_lands_in_its_bin() {
        // 64-point real FFT (n = 32 = 4·4·2) of a cosine at bin 4: kissfft scales by 1/64, so
        // the bin holds about amplitude · 64 / 2 / 64.
        let x: Vec<i16> = (0..64)
            .map(|t| (16000.0 * (2.0 * core::f64::consts::PI * 4.0 * t as f64 / 64.0).cos()) as i16)
            .collect();
        let out = rfft(32, &[4, 4, 2], &x);
        let mag = |k: usize| (out[2 * k] as f64).hypot(out[2 * k + 1] as f64);
        assert!((mag(4) - 8000.0).abs() < 40.0, "{}", mag(4));
        for k in (0..=32).filter(|&k| k != 4) {
            assert!(mag(k) < 40.0, "bin {k}: {}", mag(k));
        }
    }

    #[test]
    fn a_constant_is_all_dc_and_short_frames_are_zero_padded() {
        let out = rfft(16, &[4, 4], &[1000; 32]);
        assert!((out[0] as i32 - 1000).abs() <= 8, "{}", out[0]);
        assert!(out[2..].iter().all(|&v| v.abs() <= 8), "{out:?}");
        // Half the frame given, the rest zero: the DC halves.
        let out = rfft(16, &[4, 4], &[1000; 16]);
        assert!((out[0] as i32 - 500).abs() <= 8, "{}", out[0]);
    }
}
