//! TFLM's `SignalEnergy` (`signal/src/energy.cc`): the energy `re² + im²` of the complex bins
//! `start..end` of an int16 spectrum (interleaved `re, im`), computed in int32 (which wraps
//! for two bins of -32768) and stored as uint32.
//!
//! TFLM leaves the other output elements as they were (stale arena bytes); kiln writes 0
//! there, so that no later layer reads bytes this call did not write.

/// Per-layer constants of `SignalEnergy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalEnergy {
    /// First bin computed.
    pub start: usize,
    /// One past the last bin computed.
    pub end: usize,
}

/// The energies of bins `start..end` of `spectrum`; 0 elsewhere.
#[inline(always)]
pub fn signal_energy(p: &SignalEnergy, spectrum: &[i16], output: &mut [u32]) {
    for (k, o) in output.iter_mut().enumerate() {
        *o = 0;
        if k < p.start || k >= p.end {
            continue;
        }
        let re = spectrum.get(2 * k).copied().unwrap_or(0) as i32;
        let im = spectrum.get(2 * k + 1).copied().unwrap_or(0) as i32;
        *o = (re * re).wrapping_add(im * im) as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_of_the_chosen_bins() {
        let p = SignalEnergy { start: 1, end: 3 };
        let spectrum = [9, 9, 3, 4, -32768, -32768, 7, 7];
        let mut out = [5; 4];
        signal_energy(&p, &spectrum, &mut out);
        assert_eq!(out, [0, 25, 1 << 31, 0]);
    }
}
