//! TFLM's `SignalFilterBankSquareRoot` (`signal/src/filter_bank_square_root.cc`,
//! `square_root_32.cc`, `square_root_64.cc`): the integer square root of each uint64 channel,
//! rounded up when the remainder exceeds the root, shifted right by the scale the FFT auto
//! scaling applied (input 1, an int32 scalar). Values below 2^32 take the 32-bit routine (as
//! TFLM's shortcut does, rounding guard and all).

use super::*;

/// TFLM's `Sqrt32`.
#[inline(always)]
fn sqrt_32(mut num: u32) -> u16 {
    if num == 0 {
        return 0;
    }
    let mut res: u32 = 0;
    let max_bit_number = (32 - most_significant_bit_32(num)) | 1;
    let mut bit: u32 = 1 << (31 - max_bit_number);
    let mut iterations = (31 - max_bit_number) / 2 + 1;
    while iterations > 0 {
        iterations -= 1;
        if num >= res.wrapping_add(bit) {
            num = num.wrapping_sub(res.wrapping_add(bit));
            res = (res >> 1).wrapping_add(bit);
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if num > res && res != 0xFFFF {
        res += 1;
    }
    res as u16
}

/// TFLM's `Sqrt64`.
#[inline(always)]
fn sqrt_64(mut num: u64) -> u32 {
    if num >> 32 == 0 {
        return sqrt_32(num as u32) as u32;
    }
    let mut res: u64 = 0;
    let max_bit_number = (64 - most_significant_bit_64(num)) | 1;
    let mut bit: u64 = 1 << (63 - max_bit_number);
    let mut iterations = (63 - max_bit_number) / 2 + 1;
    while iterations > 0 {
        iterations -= 1;
        if num >= res.wrapping_add(bit) {
            num = num.wrapping_sub(res.wrapping_add(bit));
            res = (res >> 1).wrapping_add(bit);
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if num > res && res != 0xFFFF_FFFF {
        res += 1;
    }
    res as u32
}

/// `sqrt(input) >> scale_bits` per channel (a shift outside 0..=31 gives 0).
#[inline(always)]
pub fn signal_filter_bank_square_root(input: &[u64], scale_bits: &[i32], output: &mut [u32]) {
    let shift = scale_bits.first().copied().unwrap_or(0) as u32;
    for (o, &x) in output.iter_mut().zip(input) {
        *o = sqrt_64(x).checked_shr(shift).unwrap_or(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_round_as_tflm() {
        assert_eq!(sqrt_32(0), 0);
        assert_eq!(sqrt_32(16), 4);
        // 17 = 4² + 1: the remainder 1 is not above 4, no rounding; 21 = 4² + 5 rounds up.
        assert_eq!(sqrt_32(17), 4);
        assert_eq!(sqrt_32(21), 5);
        assert_eq!(sqrt_32(u32::MAX), 0xFFFF);
        assert_eq!(sqrt_64(1 << 40), 1 << 20);
        assert_eq!(sqrt_64(u64::MAX), 0xFFFF_FFFF);
        let mut out = [0; 2];
        signal_filter_bank_square_root(&[1 << 40, 100], &[2], &mut out);
        assert_eq!(out, [1 << 18, 2]);
    }

    #[test]
    fn roots_match_a_wide_reference() {
        let mut x: u64 = 1;
        while x < u64::MAX / 3 {
            for v in [x - 1, x, x + 1, x + x / 3] {
                let r = sqrt_64(v) as u128;
                let v = v as u128;
                let floor = (v as f64).sqrt() as u128;
                let floor = (floor.saturating_sub(2)..floor + 3)
                    .filter(|f| f * f <= v)
                    .max()
                    .unwrap_or(0);
                assert!(r == floor || r == floor + 1, "{v}: {r} vs {floor}");
            }
            x = x * 3 + 1;
        }
    }
}
