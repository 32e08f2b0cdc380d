//! Int8 activations: SOFTMAX (TFLM's fixed-point path) and [`lookup`], the 256-entry table
//! that LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU and HARD_SWISH compile to.

use super::*;

/// Per-layer constants of int8 SOFTMAX (output scale 1/256, zero point -128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Softmax {
    /// Number of rows (all dimensions but the last).
    pub rows: usize,
    /// Row length (the last dimension).
    pub depth: usize,
    /// `beta * input_scale` as a Q0.31 multiplier (with `input_left_shift`).
    pub input_multiplier: i32,
    /// Left shift applied with `input_multiplier`.
    pub input_left_shift: i32,
    /// Differences from the row maximum below this contribute zero.
    pub diff_min: i32,
}

/// Int8 SOFTMAX in fixed point (TFLite reference `Softmax` for int8 in and out).
#[inline(always)]
pub fn softmax(p: &Softmax, input: &[i8], output: &mut [i8]) {
    const ACCUMULATION_INTEGER_BITS: i32 = 12;
    let rescaled = |diff: i32| {
        exp_on_negative_values_q5(saturating_rounding_doubling_high_mul(
            diff.wrapping_mul(1 << p.input_left_shift),
            p.input_multiplier,
        ))
    };
    for (row_in, row_out) in input
        .chunks_exact(p.depth)
        .zip(output.chunks_exact_mut(p.depth))
        .take(p.rows)
    {
        let max = row_in.iter().copied().max().unwrap_or(0) as i32;
        let mut sum_of_exps = 0i32;
        for &x in row_in {
            let diff = x as i32 - max;
            if diff >= p.diff_min {
                sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(
                    rescaled(diff),
                    ACCUMULATION_INTEGER_BITS,
                ));
            }
        }
        let (shifted_scale, num_bits_over_unit) =
            get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            let diff = x as i32 - max;
            *o = if diff >= p.diff_min {
                let exp = rescaled(diff);
                let unsat = rounding_divide_by_pot(
                    saturating_rounding_doubling_high_mul(shifted_scale, exp),
                    num_bits_over_unit + 31 - 8,
                );
                clamp_i8(unsat - 128, -128, 127)
            } else {
                i8::MIN
            };
        }
    }
}

/// An int8 → int8 element-wise op as a table of output bytes indexed by the input byte
/// (`x as u8`).
#[inline(always)]
pub fn lookup(table: &[u8; 256], input: &[i8], output: &mut [i8]) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = table.get(x as u8 as usize).copied().unwrap_or(0) as i8;
    }
}

/// [`lookup`] over its input: each byte replaced by its table entry.
#[inline(always)]
pub fn lookup_in_place(table: &[u8; 256], data: &mut [i8]) {
    for x in data.iter_mut() {
        *x = table.get(*x as u8 as usize).copied().unwrap_or(0) as i8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_in_place_equals_lookup_apart() {
        let table: [u8; 256] = core::array::from_fn(|i| (i as u8).wrapping_mul(7).wrapping_add(3));
        let input: [i8; 256] = core::array::from_fn(|i| i as u8 as i8);
        let mut apart = [0i8; 256];
        lookup(&table, &input, &mut apart);
        let mut data = input;
        lookup_in_place(&table, &mut data);
        assert_eq!(data, apart);
        assert_ne!(apart, input);
    }
}
