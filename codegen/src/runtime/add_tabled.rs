//! Int8 ADD through two per-input tables: TFLM's ADD rescales each input on its own (shift
//! left by 20, one rounding multiply) before it adds them, so each input's rescaled term is a
//! function of one int8 value, tabled at compile time over all 256 of them. What is left per
//! element is two loads, an add and one output requantization ([`requantize_small_offset`]).

use super::*;

/// Output constants of a tabled int8 ADD ([`add_tabled`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddTabled {
    /// Output rescale multiplier (Q0.31, ≥ 0).
    pub multiplier: i32,
    /// Output right shift, in `1..=31`.
    pub right: i32,
    /// [`small_offset_split`]'s rounding-and-offset constant.
    pub round: i32,
    /// [`small_offset_split`]'s offset added after the shift (0 unless `right > 22`).
    pub post: i32,
    /// Lower clamp bound (fused activation).
    pub act_min: i32,
    /// Upper clamp bound (fused activation).
    pub act_max: i32,
}

impl AddTabled {
    /// The tabled form of int8 ADD `p`, when its output rescale is a right shift of 1 to 31
    /// (every ADD TFLM's 2·max-scale rule produces, short of an output scale within a factor
    /// of two of `2^-20` times the inputs'); `None` otherwise.
    pub fn of(p: &Add) -> Option<AddTabled> {
        let right = -p.output_shift;
        let usable = p.left_shift == 20
            && (1..=31).contains(&right)
            && p.output_multiplier >= 0
            && (-128..=128).contains(&p.output_offset);
        let (round, post) = small_offset_split(right, p.output_offset);
        usable.then_some(AddTabled {
            multiplier: p.output_multiplier,
            right,
            round,
            post,
            act_min: p.act_min,
            act_max: p.act_max,
        })
    }
}

/// Input `slot`'s (0 or 1) rescaled term of int8 ADD `p` for every input byte: entry
/// `x as u8` is what TFLM adds for `x`. Each term is below `2^28` in magnitude (at most 255
/// shifted left by 20, times a multiplier below one), so two of them sum below `2^30`, the
/// bound [`requantize_small_offset`] needs.
pub fn add_table(p: &Add, slot: usize) -> [i32; 256] {
    let mut table = [0i32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        *t = add_term(p, slot, i as u8 as i8 as i32);
    }
    table
}

/// One element of a tabled ADD from its two table entries.
#[inline(always)]
pub fn add_tabled_one(p: &AddTabled, term1: i32, term2: i32) -> i8 {
    let sum = term1.wrapping_add(term2);
    let y = requantize_small_offset(sum, p.multiplier, p.right, p.round).wrapping_add(p.post);
    clamp_i8(y, p.act_min, p.act_max)
}

/// Int8 ADD of equally shaped tensors through per-input tables ([`add_table`]); equal to
/// [`add`] byte for byte.
#[inline(always)]
pub fn add_tabled(
    p: &AddTabled,
    table1: &[i32; 256],
    table2: &[i32; 256],
    input1: &[i8],
    input2: &[i8],
    output: &mut [i8],
) {
    for ((o, &a), &b) in output.iter_mut().zip(input1).zip(input2) {
        *o = add_tabled_one(p, table1[a as u8 as usize], table2[b as u8 as usize]);
    }
}

/// [`add_tabled`] with its output over the input that `data` holds, whose table is
/// `data_table`; `other` is the other input. The sum is symmetric, so which input `data`
/// was only decides which table goes with it.
#[inline(always)]
pub fn add_tabled_in_place(
    p: &AddTabled,
    data_table: &[i32; 256],
    other_table: &[i32; 256],
    data: &mut [i8],
    other: &[i8],
) {
    for (o, &x) in data.iter_mut().zip(other) {
        *o = add_tabled_one(
            p,
            data_table[*o as u8 as usize],
            other_table[x as u8 as usize],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_fixtures::rng::Rng;

    /// A random int8 ADD's constants, in the ranges TFLM's prepare produces.
    fn random_add(rng: &mut Rng) -> Add {
        let mut int = |lo: i64, hi: i64| rng.int(lo, hi) as i32;
        Add {
            input1_offset: int(-127, 128),
            input2_offset: int(-127, 128),
            output_offset: int(-128, 127),
            left_shift: 20,
            input1_multiplier: int(1 << 30, i32::MAX as i64),
            input1_shift: int(-3, 0),
            input2_multiplier: int(1 << 30, i32::MAX as i64),
            input2_shift: int(-3, 0),
            output_multiplier: int(1 << 30, i32::MAX as i64),
            output_shift: int(-31, -1),
            act_min: int(-128, -60),
            act_max: int(60, 127),
        }
    }

    #[test]
    fn tabled_add_equals_the_reference_on_every_input_pair() {
        let mut rng = Rng::new(0xadd7);
        for _ in 0..40 {
            let p = random_add(&mut rng);
            let q = AddTabled::of(&p).expect("right shift in 1..=31");
            let (t1, t2) = (add_table(&p, 0), add_table(&p, 1));
            let a: Vec<i8> = (0..65536).map(|i| (i & 255) as u8 as i8).collect();
            let b: Vec<i8> = (0..65536).map(|i| (i >> 8) as u8 as i8).collect();
            let (mut want, mut got) = (vec![0i8; 65536], vec![0i8; 65536]);
            add(&p, &a, &b, &mut want);
            add_tabled(&q, &t1, &t2, &a, &b, &mut got);
            assert_eq!(got, want, "{p:?}");
            let mut data = b.clone();
            add_tabled_in_place(&q, &t2, &t1, &mut data, &a);
            assert_eq!(data, want, "in place, {p:?}");
        }
    }

    #[test]
    fn only_right_shifted_outputs_are_tabled() {
        let mut p = random_add(&mut Rng::new(3));
        p.output_shift = 0;
        assert_eq!(AddTabled::of(&p), None);
        p.output_shift = -31;
        assert!(AddTabled::of(&p).is_some());
        p.left_shift = 15;
        assert_eq!(AddTabled::of(&p), None);
    }
}
