//! TFLM's `SignalFilterBankSpectralSubtraction` (`signal/src/filter_bank_spectral_subtraction.cc`):
//! subtracts a running noise estimate from each channel. The estimate is the operator's state
//! (`noise_estimate`, kept between calls, 0 at the start and after a reset).
//!
//! Per channel `i` (even channels use `smoothing`, odd ones `alternate_smoothing`), in uint32
//! with uint64 products as TFLM computes them:
//! `s = x << smoothing_bits`;
//! `noise = (s · smoothing + noise · one_minus_smoothing) >> spectral_subtraction_bits`;
//! the estimate used is `min(noise, s)` (stored back when `clamping`);
//! `floor = (x · min_signal_remaining) >> spectral_subtraction_bits`;
//! `out = max((s - estimate) >> smoothing_bits, floor)`.
//! The operator's second output is a copy of the updated estimate.

/// Per-layer constants of spectral subtraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpectralSubtraction {
    /// Smoothing of even channels.
    pub smoothing: u32,
    /// Its complement.
    pub one_minus_smoothing: u32,
    /// Smoothing of odd channels.
    pub alternate_smoothing: u32,
    /// Its complement.
    pub alternate_one_minus_smoothing: u32,
    /// Fraction of the signal always kept.
    pub min_signal_remaining: u32,
    /// Extra fraction bits of the estimate (0..=31).
    pub smoothing_bits: u32,
    /// Scale bits of the coefficients (0..=63).
    pub spectral_subtraction_bits: u32,
    /// Force the estimate down to the signal when the signal drops below it.
    pub clamping: bool,
}

/// Updates `noise_estimate` with `input` and writes the noise-subtracted channels.
#[inline(always)]
pub fn signal_spectral_subtraction(
    p: &SpectralSubtraction,
    input: &[u32],
    noise_estimate: &mut [u32],
    output: &mut [u32],
) {
    let channels = output.iter_mut().zip(input).zip(noise_estimate.iter_mut());
    for (i, ((o, &x), noise)) in channels.enumerate() {
        let (smoothing, one_minus) = if i & 1 == 0 {
            (p.smoothing, p.one_minus_smoothing)
        } else {
            (p.alternate_smoothing, p.alternate_one_minus_smoothing)
        };
        let scaled = x.wrapping_shl(p.smoothing_bits);
        let sum = (scaled as u64 * smoothing as u64).wrapping_add(*noise as u64 * one_minus as u64);
        *noise = (sum >> p.spectral_subtraction_bits) as u32;
        let mut estimate = *noise;
        if estimate > scaled {
            estimate = scaled;
            if p.clamping {
                *noise = estimate;
            }
        }
        let floor =
            ((x as u64 * p.min_signal_remaining as u64) >> p.spectral_subtraction_bits) as u32;
        let subtracted = (scaled - estimate) >> p.smoothing_bits;
        *o = if subtracted > floor {
            subtracted
        } else {
            floor
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(clamping: bool) -> SpectralSubtraction {
        SpectralSubtraction {
            smoothing: 409,
            one_minus_smoothing: 15975,
            alternate_smoothing: 983,
            alternate_one_minus_smoothing: 15401,
            min_signal_remaining: 819,
            smoothing_bits: 10,
            spectral_subtraction_bits: 14,
            clamping,
        }
    }

    #[test]
    fn the_estimate_follows_the_signal_and_is_subtracted() {
        let p = params(false);
        let mut noise = [0; 2];
        let mut out = [0; 2];
        signal_spectral_subtraction(&p, &[1000, 1000], &mut noise, &mut out);
        // s = 1000 << 10; noise = s · 409 >> 14 (even) and s · 983 >> 14 (odd).
        assert_eq!(
            noise,
            [
                ((1_024_000u64 * 409) >> 14) as u32,
                ((1_024_000u64 * 983) >> 14) as u32
            ]
        );
        assert_eq!(out[0], (1_024_000 - noise[0]) >> 10);
        // A second call smooths from the stored estimate.
        let first = noise;
        signal_spectral_subtraction(&p, &[1000, 1000], &mut noise, &mut out);
        assert_eq!(
            noise[0],
            ((1_024_000u64 * 409 + first[0] as u64 * 15975) >> 14) as u32
        );
    }

    #[test]
    fn clamping_pulls_the_estimate_down_and_the_floor_holds() {
        for clamping in [false, true] {
            let p = params(clamping);
            let mut noise = [u32::MAX >> 4];
            let mut out = [7];
            signal_spectral_subtraction(&p, &[100], &mut noise, &mut out);
            // The estimate exceeds the signal: nothing is left but the floor.
            assert_eq!(out, [((100u64 * 819) >> 14) as u32]);
            assert_eq!(noise[0] == 100 << 10, clamping);
        }
    }
}
