//! Bit helpers of TFLM's signal library (`signal/src/msb_32.cc`, `msb_64.cc`), shared by its
//! kernels.

/// TFLM's `MostSignificantBit32`: the number of bits needed for `x` (1 for 1, 32 for
/// `u32::MAX`), and 32 for 0 (the GCC build's `__builtin_clz` path, which the oracle uses).
#[inline(always)]
pub fn most_significant_bit_32(x: u32) -> u32 {
    if x == 0 {
        32
    } else {
        32 - x.leading_zeros()
    }
}

/// TFLM's `MostSignificantBit64`: bits needed for `x`, 64 for 0.
#[inline(always)]
pub fn most_significant_bit_64(x: u64) -> u32 {
    if x == 0 {
        64
    } else {
        64 - x.leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msb_counts_bits_and_zero_is_full_width() {
        assert_eq!(most_significant_bit_32(1), 1);
        assert_eq!(most_significant_bit_32(0x8000), 16);
        assert_eq!(most_significant_bit_32(u32::MAX), 32);
        assert_eq!(most_significant_bit_32(0), 32);
        assert_eq!(most_significant_bit_64(1 << 40), 41);
        assert_eq!(most_significant_bit_64(0), 64);
    }
}
