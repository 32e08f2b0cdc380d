//! `sin` and `cos` of an f32 as glibc's `sinf`/`cosf` compute them (TFLM's `std::sin` and
//! `std::cos` on the oracle's host; Arm's optimized-routines algorithm, not correctly
//! rounded): the argument reduced by `π/2` in double below 120 (one multiply-subtract) or in
//! integers above (a 32×96-bit product with `4/π`), a short polynomial in double for the
//! sine or cosine of the rest, rounded once. Ported from its description: same constants,
//! same operations in the same order, so the same results (the test compares with the host's
//! `libm`). glibc's FMA build also fuses the polynomials' multiply-adds, which moves the f64
//! result by at most an ulp: a different f32 only for values that close to a rounding
//! boundary.

/// Sine's sign in quadrants 0..3.
const SINCOS_SIGN: [f64; 4] = [1.0, -1.0, -1.0, 1.0];

/// `2/π · 2^24` (the quadrant lands in bits 24..31 of the scaled product).
const HALF_PI_INV_SCALED: f64 = f64::from_bits(0x4164_5f30_6dc9_c883);

/// `π/2` in double.
const HALF_PI_F64: f64 = f64::from_bits(0x3ff9_21fb_5444_2d18);

/// `2π · 2^-64`.
const PI_2_64: f64 = f64::from_bits(0x3c19_21fb_5444_2d18);

/// The cosine polynomial `c0 .. c4` (quadrants 0 and 1), and negated (quadrants 2 and 3).
const COS_POLY: [[f64; 5]; 2] = [
    [
        1.0,
        f64::from_bits(0xbfdf_ffff_fd0c_621c),
        f64::from_bits(0x3fa5_5553_e106_8f19),
        f64::from_bits(0xbf56_c087_e89a_359d),
        f64::from_bits(0x3ef9_9343_027b_f8c3),
    ],
    [
        -1.0,
        f64::from_bits(0x3fdf_ffff_fd0c_621c),
        f64::from_bits(0xbfa5_5553_e106_8f19),
        f64::from_bits(0x3f56_c087_e89a_359d),
        f64::from_bits(0xbef9_9343_027b_f8c3),
    ],
];

/// The sine polynomial `s1 .. s3`.
const SIN_POLY: [f64; 3] = [
    f64::from_bits(0xbfc5_5554_5995_a603),
    f64::from_bits(0x3f81_1076_0523_0bc4),
    f64::from_bits(0xbf29_94eb_3774_cf24),
];

/// `4/π` to 192 bits, 8 new bits per entry (glibc's `__inv_pio4`).
const INV_PIO4: [u32; 24] = [
    0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e, 0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529, 0x441529fc,
    0x1529fc27, 0x29fc2757, 0xfc2757d1, 0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0, 0x34ddc0db,
    0xddc0db62, 0xc0db6295, 0xdb629599, 0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
];

/// The top 12 bits of `x` without its sign (glibc's `abstop12`).
fn abstop12(x: f32) -> u32 {
    (x.to_bits() >> 20) & 0x7ff
}

/// glibc's `sinf_poly`: the sine (`n` even) or cosine (`n` odd) polynomial at `x`, with
/// `x2 = x²`, the cosine's from table `table`.
fn sincos_poly(x: f64, x2: f64, table: usize, n: u32) -> f32 {
    if n & 1 == 0 {
        let x3 = x * x2;
        let s1 = SIN_POLY[1] + x2 * SIN_POLY[2];
        let x7 = x3 * x2;
        let s = x + x3 * SIN_POLY[0];
        (s + x7 * s1) as f32
    } else {
        let c = COS_POLY[table & 1];
        let x4 = x2 * x2;
        let c2 = c[3] + x2 * c[4];
        let c1 = c[0] + x2 * c[1];
        let x6 = x4 * x2;
        let c0 = c1 + x4 * c[2];
        (c0 + x6 * c2) as f32
    }
}

/// glibc's `reduce_fast` (|x| < 120): `x - n·π/2` and the quadrant `n`. glibc's x86-64
/// build for FMA machines (the oracle's) fuses the multiply-subtract, which matters near
/// multiples of `π/2`; it is done here exactly: `n · π/2` split in two exact products
/// (`|n| < 2^8` times `π/2` with its low 8 bits cleared, and times the rest), the first
/// subtraction exact (Sterbenz), one rounding.
fn reduce_fast(x: f64) -> (f64, u32) {
    let r = x * HALF_PI_INV_SCALED;
    let n = ((r as i32).wrapping_add(0x80_0000)) >> 24;
    let hi = f64::from_bits(HALF_PI_F64.to_bits() & !0xff);
    let lo = HALF_PI_F64 - hi;
    let k = n as f64;
    ((x - k * hi) - k * lo, n as u32)
}

/// glibc's `reduce_large` (|x| ≥ 120): the rest in `[-π/4, π/4]` from the 2.62 fixed-point
/// product of the significand and `4/π`, and the quadrant.
fn reduce_large(bits: u32) -> (f64, u32) {
    let at = ((bits >> 26) & 15) as usize;
    let word = |k: usize| INV_PIO4.get(at + k).copied().unwrap_or(0);
    let shift = (bits >> 23) & 7;
    let m = ((bits & 0xff_ffff) | 0x80_0000) << shift;
    let r0 = m.wrapping_mul(word(0)) as u64;
    let r1 = m as u64 * word(4) as u64;
    let r2 = m as u64 * word(8) as u64;
    let mut r = ((r2 >> 32) | (r0 << 32)).wrapping_add(r1);
    let n = r.wrapping_add(1 << 61) >> 62;
    r = r.wrapping_sub(n << 62);
    (r as i64 as f64 * PI_2_64, n as u32)
}

/// For |x| ≥ π/4: the reduced argument times its sign, its square, the cosine table and the
/// quadrant (whose parity picks the polynomial). Large inputs fold the input's sign into the
/// sign and table but not the parity, as glibc does.
fn sincos_reduce(x: f32) -> (f64, f64, usize, u32) {
    let (r, n, signed) = if abstop12(x) < abstop12(120.0) {
        let (r, n) = reduce_fast(x as f64);
        (r, n, n)
    } else {
        let (r, n) = reduce_large(x.to_bits());
        (r, n, n.wrapping_add(x.to_bits() >> 31))
    };
    let sign = SINCOS_SIGN[(signed & 3) as usize];
    (r * sign, r * r, ((signed >> 1) & 1) as usize, n)
}

/// `sin(x)` for f32 as glibc's `sinf` computes it.
pub fn sin_f32(x: f32) -> f32 {
    if abstop12(x) < abstop12(core::f32::consts::FRAC_PI_4) {
        if abstop12(x) < abstop12(f32::from_bits(0x3980_0000)) {
            // |x| < 2^-12: sin x rounds to x.
            return x;
        }
        let d = x as f64;
        return sincos_poly(d, d * d, 0, 0);
    }
    if !x.is_finite() {
        return sincos_invalid(x);
    }
    let (r, r2, table, n) = sincos_reduce(x);
    sincos_poly(r, r2, table, n)
}

/// `cos(x)` for f32 as glibc's `cosf` computes it.
pub fn cos_f32(x: f32) -> f32 {
    if abstop12(x) < abstop12(core::f32::consts::FRAC_PI_4) {
        if abstop12(x) < abstop12(f32::from_bits(0x3980_0000)) {
            return 1.0;
        }
        let d = x as f64;
        return sincos_poly(d, d * d, 0, 1);
    }
    if !x.is_finite() {
        return sincos_invalid(x);
    }
    let (r, r2, table, n) = sincos_reduce(x);
    sincos_poly(r, r2, table, n ^ 1)
}

/// glibc's `__math_invalid`: `(x - x) / (x - x)`, a NaN (for infinities, the hardware's).
#[allow(clippy::eq_op)]
fn sincos_invalid(x: f32) -> f32 {
    (x - x) / (x - x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrants_and_signs() {
        assert_eq!(sin_f32(0.0), 0.0);
        assert_eq!(sin_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(cos_f32(0.0), 1.0);
        assert_eq!(sin_f32(core::f32::consts::FRAC_PI_2), 1.0);
        assert_eq!(cos_f32(core::f32::consts::PI), -1.0);
        assert!(sin_f32(-2.0) < -0.909 && sin_f32(-2.0) > -0.91);
        assert!(cos_f32(-2.0) < -0.416 && cos_f32(-2.0) > -0.417);
        assert!(sin_f32(f32::INFINITY).is_nan() && cos_f32(f32::NAN).is_nan());
    }

    /// Against the host's `libm` (glibc's, as on the oracle's machine): a dense sweep of
    /// `[-64, 64]`, then samples across all finite floats (both reductions).
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn sin_cos_are_glibc_bit_for_bit() {
        let mut mismatches = Vec::new();
        let sweep = (-3_200_000..3_200_000).map(|i| i as f32 * 2e-5);
        let spread = (0..2_000_000u32).map(|i| f32::from_bits(i.wrapping_mul(2_654_435_761)));
        for x in sweep.chain(spread).filter(|x| x.is_finite()) {
            for (got, want) in [(sin_f32(x), x.sin()), (cos_f32(x), x.cos())] {
                if got.to_bits() != want.to_bits() && !(got.is_nan() && want.is_nan()) {
                    mismatches.push(x);
                }
            }
        }
        assert!(
            mismatches.is_empty(),
            "differ from libm at {:?}",
            &mismatches[..mismatches.len().min(8)]
        );
    }
}
