//! TFLM's `SignalFilterBank` (`signal/src/filter_bank.cc`): mel-style channels as weighted
//! sums of uint32 energies into uint64.
//!
//! Channel `i` (of `channels + 1`; the first is scratch) sums `width[i]` energies from
//! `freq_start[i]`, each times `weights[weight_start[i] + j]`; its `unweights` sum is carried
//! into the next channel. The int16 weights convert to uint64 as C converts them
//! (sign-extended), and the products and sums wrap modulo 2^64. Output `i` is channel `i + 1`.

/// The per-channel tables of a filter bank (constant inputs 3, 4 and 5 of the operator).
#[derive(Clone, Copy, Debug)]
pub struct FilterBankTables<'a> {
    /// Weights of each channel's energies.
    pub weights: &'a [i16],
    /// Weights carried into the next channel.
    pub unweights: &'a [i16],
    /// First energy of each channel.
    pub freq_starts: &'a [i16],
    /// First weight of each channel.
    pub weight_starts: &'a [i16],
    /// Energies per channel.
    pub widths: &'a [i16],
}

/// The filter-bank channels of `input`, one per output element.
#[inline(always)]
pub fn signal_filter_bank(t: &FilterBankTables<'_>, input: &[u32], output: &mut [u64]) {
    let at = |table: &[i16], i: usize| table.get(i).copied().unwrap_or(0);
    let mut weight_acc: u64 = 0;
    let mut unweight_acc: u64 = 0;
    for i in 0..=output.len() {
        let freq_start = at(t.freq_starts, i) as usize;
        let weight_start = at(t.weight_starts, i) as usize;
        for j in 0..at(t.widths, i).max(0) as usize {
            let x = input.get(freq_start + j).copied().unwrap_or(0) as u64;
            let w = at(t.weights, weight_start + j) as i64 as u64;
            let u = at(t.unweights, weight_start + j) as i64 as u64;
            weight_acc = weight_acc.wrapping_add(w.wrapping_mul(x));
            unweight_acc = unweight_acc.wrapping_add(u.wrapping_mul(x));
        }
        if let Some(o) = i.checked_sub(1).and_then(|k| output.get_mut(k)) {
            *o = weight_acc;
        }
        weight_acc = unweight_acc;
        unweight_acc = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_carry_their_unweighted_part() {
        // Channel 0 (scratch) covers energy 0, channel 1 energies 1..3, channel 2 energy 3.
        let t = FilterBankTables {
            weights: &[1, 2, 3, 4],
            unweights: &[5, 6, 7, 8],
            freq_starts: &[0, 1, 3],
            weight_starts: &[0, 1, 3],
            widths: &[1, 2, 1],
        };
        let input = [10, 20, 30, 40];
        let mut out = [0; 2];
        signal_filter_bank(&t, &input, &mut out);
        // Channel 1: 2·20 + 3·30 plus channel 0's unweights 5·10; channel 2: 4·40 + 6·20 + 7·30.
        assert_eq!(out, [40 + 90 + 50, 160 + 120 + 210]);
        // A negative weight wraps as C's conversion to uint64 does (50 - 60 + 90).
        let t = FilterBankTables {
            weights: &[0, -3, 3, 4],
            ..t
        };
        signal_filter_bank(&t, &input, &mut out);
        assert_eq!(out[0], 80);
    }
}
