//! Float32 element-wise math (ELU, EXP, LOG, SQRT, RSQRT, FLOOR, CEIL, ROUND, SQUARE,
//! PRELU, DIV) and the float32 row ops L2_NORMALIZATION and LOG_SOFTMAX, without libm.
//!
//! TFLM calls the C library's `expf`, `logf`, `expm1f`, which are not correctly rounded, so
//! its results are those of the library it runs on: kiln's golden oracle runs on glibc, and
//! [`exp_f32`], [`log_f32`], [`expm1_f32`] are glibc's algorithms with glibc's tables (the
//! tests check them against the host's `libm` on glibc systems). `sqrt` is correctly rounded
//! (as IEEE requires of `sqrtf`), the rounding functions work on the bits.

use super::*;

/// Applies `f` to each element (TFLM's `EvalNumeric` / reference element-wise loops).
#[inline(always)]
pub fn map_f32(input: &[f32], output: &mut [f32], f: impl Fn(f32) -> f32) {
    for (o, &x) in output.iter_mut().zip(input) {
        *o = f(x);
    }
}

/// Integer square root of `n` (the largest `s` with `s² ≤ n`), bit by bit.
#[inline(always)]
pub fn isqrt_u64(n: u64) -> u64 {
    let mut rem = n;
    let mut root = 0u64;
    let mut bit = 1u64 << 62;
    while bit > rem {
        bit >>= 2;
    }
    while bit != 0 {
        if rem >= root + bit {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root
}

/// `2^k` as f32 for `k` in `-126..=127`.
#[inline(always)]
fn pow2_f32(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}

/// IEEE `sqrt` of an f32, correctly rounded (`std::sqrt`): the mantissa's integer square
/// root with a sticky bit, rounded once by the integer-to-float conversion.
pub fn sqrt_f32(x: f32) -> f32 {
    if x.is_nan() || x == 0.0 || x == f32::INFINITY {
        return x;
    }
    if x < 0.0 {
        return invalid_f32(x);
    }
    let bits = x.to_bits();
    let exp_field = (bits >> 23) as i32;
    // x = m · 2^e with m an integer below 2^24.
    let (mut m, mut e) = if exp_field == 0 {
        (bits as u64, -149)
    } else {
        (((bits & 0x7f_ffff) | 0x80_0000) as u64, exp_field - 150)
    };
    // Normalise m to 2^23..2^25 with e even.
    while m < (1 << 23) {
        m <<= 1;
        e -= 1;
    }
    if e & 1 != 0 {
        m <<= 1;
        e -= 1;
    }
    // sqrt(m · 2^38) has 31 or 32 bits: far more than f32's 24, plus a sticky bit.
    let n = m << 38;
    let s = isqrt_u64(n);
    let sticky = (s * s != n) as u64;
    let root = (s | sticky) as f32; // one rounding, to nearest even
    let k = (e - 38) / 2;
    // k is in -94..=45 here: a power of two exact in f32, applied in two steps.
    root * pow2_f32(k / 2) * pow2_f32(k - k / 2)
}

/// `1 / sqrt(x)` as TFLM's float RSQRT computes it (`1.f / std::sqrt(f)`).
pub fn rsqrt_f32(x: f32) -> f32 {
    1.0 / sqrt_f32(x)
}

/// `x * x` (TFLM's SQUARE).
pub fn square_f32(x: f32) -> f32 {
    x * x
}

/// `floor` of an f32 (`std::floor`).
pub fn floor_f32(x: f32) -> f32 {
    // |x| ≥ 2^23 is an integer already (and NaN, infinities pass through).
    if x.is_nan() || x.abs() >= 8_388_608.0 || x == 0.0 {
        return x;
    }
    let t = x as i32 as f32;
    let f = if t > x { t - 1.0 } else { t };
    if f == 0.0 && x < 0.0 {
        -0.0
    } else {
        f
    }
}

/// `floor` of an f64 (`std::floor`), on the bits: the fraction bits cleared, toward minus
/// infinity.
pub fn floor_f64(x: f64) -> f64 {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1023;
    if exponent >= 52 || x == 0.0 {
        // An integer already (or NaN, an infinity, a zero).
        return x;
    }
    if exponent < 0 {
        // 0 < |x| < 1.
        return if x < 0.0 { -1.0 } else { 0.0 };
    }
    let fraction = (1u64 << (52 - exponent)) - 1;
    if bits & fraction == 0 {
        return x;
    }
    let truncated = f64::from_bits(bits & !fraction);
    if x < 0.0 {
        truncated - 1.0
    } else {
        truncated
    }
}

/// Float32 FLOOR_DIV (TFLM reference `FloorDiv`): `floor(a / b)` with the quotient formed in
/// double, then rounded to float.
#[inline(always)]
pub fn floor_div_f32(bc: Option<&Broadcast>, input1: &[f32], input2: &[f32], output: &mut [f32]) {
    binary(bc, input1, input2, output, |a, b| {
        floor_f64(a as f64 / b as f64) as f32
    });
}

/// Float32 FLOOR_MOD (TFLM reference `FloorMod`): C's `fmodf` (exact; Rust's `%`), moved
/// into the divisor's sign when it is non-zero and of the other sign.
#[inline(always)]
pub fn floor_mod_f32(bc: Option<&Broadcast>, input1: &[f32], input2: &[f32], output: &mut [f32]) {
    binary(bc, input1, input2, output, |a, b| {
        let truncated = a % b;
        if truncated != 0.0 && ((b < 0.0) != (truncated < 0.0)) {
            truncated + b
        } else {
            truncated
        }
    });
}

/// `ceil` of an f32 (`std::ceil`).
pub fn ceil_f32(x: f32) -> f32 {
    if x.is_nan() || x.abs() >= 8_388_608.0 || x == 0.0 {
        return x;
    }
    let t = x as i32 as f32;
    let c = if t < x { t + 1.0 } else { t };
    if c == 0.0 && x < 0.0 {
        -0.0
    } else {
        c
    }
}

/// TFLM's ROUND (`RoundToNearest`): the floor, plus one when the rest is above one half or
/// exactly one half with an odd floor (ties to even).
pub fn round_f32(x: f32) -> f32 {
    let floor_val = floor_f32(x);
    let diff = x - floor_val;
    if diff < 0.5 || (diff == 0.5 && (floor_val as i32) % 2 == 0) {
        floor_val
    } else {
        floor_val + 1.0
    }
}

/// A quiet NaN as the hardware makes it for an invalid operation (`0 / 0`): the bits glibc
/// returns for `logf(-1)` or `sqrtf(-1)` on the same machine.
#[inline(always)]
#[allow(clippy::eq_op)]
fn invalid_f32(x: f32) -> f32 {
    (x - x) / (x - x)
}

/// `2^(i/32)` with `i << 47` subtracted (glibc's `__exp2f_data.tab`): adding `k << 47` for
/// `k ≡ i (mod 32)` gives `2^(k/32)`.
const EXP2F_TABLE: [u64; 32] = [
    0x3ff0000000000000,
    0x3fefd9b0d3158574,
    0x3fefb5586cf9890f,
    0x3fef9301d0125b51,
    0x3fef72b83c7d517b,
    0x3fef54873168b9aa,
    0x3fef387a6e756238,
    0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715,
    0x3feef1a7373aa9cb,
    0x3feedea64c123422,
    0x3feece086061892d,
    0x3feebfdad5362a27,
    0x3feeb42b569d4f82,
    0x3feeab07dd485429,
    0x3feea47eb03a5585,
    0x3feea09e667f3bcd,
    0x3fee9f75e8ec5f74,
    0x3feea11473eb0187,
    0x3feea589994cce13,
    0x3feeace5422aa0db,
    0x3feeb737b0cdc5e5,
    0x3feec49182a3f090,
    0x3feed503b23e255d,
    0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47,
    0x3fef199bdd85529c,
    0x3fef3720dcef9069,
    0x3fef5818dcfba487,
    0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da,
    0x3fefd0765b6e4540,
];

/// `e^x` for f32 as glibc's `expf` computes it (TFLM's `std::exp` on the oracle's host):
/// `x · 32/ln2 = k + r`, `2^(k/32)` from [`EXP2F_TABLE`], a cubic in `r`, all in f64,
/// rounded once. (glibc's FMA build fuses the polynomial's multiply-adds, which can move the
/// f64 result by an ulp: a different f32 only when it lies that close to a rounding
/// boundary.)
pub fn exp_f32(x: f32) -> f32 {
    let abstop = (x.to_bits() >> 20) & 0x7ff;
    if abstop >= 0x42b {
        // |x| >= 88, or NaN
        if x == f32::NEG_INFINITY {
            return 0.0;
        }
        if abstop >= 0x7f8 {
            return x + x;
        }
        if x > f32::from_bits(0x42b1_7217) {
            return f32::INFINITY;
        }
        if x < f32::from_bits(0xc2cf_f1b4) {
            return 0.0;
        }
    }
    const SHIFT: f64 = 6_755_399_441_055_744.0; // 0x1.8p52
    let c0 = f64::from_bits(0x3ebc_6af8_4b91_2394);
    let c1 = f64::from_bits(0x3f2e_bfce_50fa_c4f3);
    let c2 = f64::from_bits(0x3f96_2e42_ff0c_52d6);
    // 32 / ln2
    let z = f64::from_bits(0x4047_1547_652b_82fe) * x as f64;
    let kd = z + SHIFT;
    let ki = kd.to_bits();
    let kd = kd - SHIFT;
    let r = z - kd;
    let t = EXP2F_TABLE
        .get((ki % 32) as usize)
        .copied()
        .unwrap_or(0)
        .wrapping_add(ki << 47);
    let s = f64::from_bits(t);
    let p = c0 * r + c1;
    let r2 = r * r;
    let y = c2 * r + 1.0;
    let y = p * r2 + y;
    (y * s) as f32
}

/// `1/c` and `ln(c)` for 16 subintervals `c` of `[0x1.6p-1, 0x1.6p0)` (glibc's
/// `__logf_data.tab`).
const LOGF_INVC: [u64; 16] = [
    0x3ff661ec79f8f3be,
    0x3ff571ed4aaf883d,
    0x3ff49539f0f010b0,
    0x3ff3c995b0b80385,
    0x3ff30d190c8864a5,
    0x3ff25e227b0b8ea0,
    0x3ff1bb4a4a1a343f,
    0x3ff12358f08ae5ba,
    0x3ff0953f419900a7,
    0x3ff0000000000000,
    0x3fee608cfd9a47ac,
    0x3feca4b31f026aa0,
    0x3feb2036576afce6,
    0x3fe9c2d163a1aa2d,
    0x3fe886e6037841ed,
    0x3fe767dcf5534862,
];
const LOGF_LOGC: [u64; 16] = [
    0xbfd57bf7808caade,
    0xbfd2bef0a7c06ddb,
    0xbfd01eae7f513a67,
    0xbfcb31d8a68224e9,
    0xbfc6574f0ac07758,
    0xbfc1aa2bc79c8100,
    0xbfba4e76ce8c0e5e,
    0xbfb1973c5a611ccc,
    0xbfa252f438e10c1e,
    0x0000000000000000,
    0x3faaa5aa5df25984,
    0x3fbc5e53aa362eb4,
    0x3fc526e57720db08,
    0x3fcbc2860d224770,
    0x3fd1058bc8a07ee1,
    0x3fd4043057b6ee09,
];

/// `ln(x)` for f32 as glibc's `logf` computes it: `x = 2^k · z`, `ln z = ln c + ln(z/c)`
/// with `c` from a 16-entry table and a cubic in `z/c - 1`, in f64, rounded once. (glibc's
/// FMA build rounds `z/c - 1` once where this rounds twice: a different f32 only in rare
/// cases near `x = 1`.)
pub fn log_f32(x: f32) -> f32 {
    let mut ix = x.to_bits();
    if ix == 0x3f80_0000 {
        return 0.0;
    }
    if ix.wrapping_sub(0x0080_0000) >= 0x7f80_0000 - 0x0080_0000 {
        // x < 2^-126, or infinite, or NaN.
        if ix.wrapping_mul(2) == 0 {
            return f32::NEG_INFINITY;
        }
        if ix == 0x7f80_0000 {
            return x;
        }
        if ix & 0x8000_0000 != 0 || ix.wrapping_mul(2) >= 0xff00_0000 {
            return invalid_f32(x);
        }
        // Subnormal: normalise.
        ix = (x * 8_388_608.0).to_bits().wrapping_sub(23 << 23);
    }
    let tmp = ix.wrapping_sub(0x3f33_0000);
    let i = ((tmp >> 19) % 16) as usize;
    let k = (tmp as i32) >> 23;
    let iz = ix.wrapping_sub(tmp & 0xff80_0000);
    let invc = f64::from_bits(LOGF_INVC.get(i).copied().unwrap_or(0));
    let logc = f64::from_bits(LOGF_LOGC.get(i).copied().unwrap_or(0));
    let z = f32::from_bits(iz) as f64;
    let ln2 = f64::from_bits(0x3fe6_2e42_fefa_39ef);
    let a0 = f64::from_bits(0xbfd0_0ea3_48b8_8334);
    let a1 = f64::from_bits(0x3fd5_575b_0be0_0b6a);
    let a2 = f64::from_bits(0xbfdf_fffe_f20a_4123);
    let r = z * invc - 1.0;
    let y0 = logc + k as f64 * ln2;
    let r2 = r * r;
    let y = a1 * r + a2;
    let y = a0 * r2 + y;
    let y = y * r2 + (y0 + r);
    y as f32
}

/// TFLite's float LOGISTIC (`reference_ops::Logistic`): 1 above 16.619047, `e^x` below -9,
/// else `1 / (1 + e^-x)`, with glibc's `expf`.
pub fn logistic_f32(x: f32) -> f32 {
    const CUTOFF_UPPER: f32 = 16.619_047;
    const CUTOFF_LOWER: f32 = -9.0;
    if x > CUTOFF_UPPER {
        1.0
    } else if x < CUTOFF_LOWER {
        exp_f32(x)
    } else {
        1.0 / (1.0 + exp_f32(-x))
    }
}

/// `tanh(x)` for f32 as glibc's `tanhf` computes it (fdlibm's: through `expm1f` of `2|x|`,
/// ±1 from |x| = 22 on), which is what TFLM's float TANH and LSTM call on the oracle's host.
pub fn tanh_f32(x: f32) -> f32 {
    let bits = x.to_bits();
    let magnitude = bits & 0x7fff_ffff;
    let negative = bits & 0x8000_0000 != 0;
    if magnitude >= 0x7f80_0000 {
        // ±inf → ±1, NaN stays NaN
        return if negative {
            1.0 / x - 1.0
        } else {
            1.0 / x + 1.0
        };
    }
    let z = if magnitude < 0x41b0_0000 {
        // |x| < 22
        if magnitude == 0 {
            return x;
        }
        if magnitude < 0x2400_0000 {
            // |x| < 2^-55: tanh(x) rounds to x
            return x * (1.0 + x);
        }
        let a = f32::from_bits(magnitude);
        if magnitude >= 0x3f80_0000 {
            // |x| >= 1
            let t = expm1_f32(2.0 * a);
            1.0 - 2.0 / (t + 2.0)
        } else {
            let t = expm1_f32(-2.0 * a);
            -t / (t + 2.0)
        }
    } else {
        1.0 - 1.0e-30
    };
    if negative {
        -z
    } else {
        z
    }
}

/// `e^x - 1` for f32 as glibc's `expm1f` computes it (fdlibm's single-precision algorithm:
/// `x = k·ln2 + r`, a rational approximation in `r`, all in f32).
pub fn expm1_f32(x: f32) -> f32 {
    let ln2_hi = f32::from_bits(0x3f31_7180);
    let ln2_lo = f32::from_bits(0x3717_f7d1);
    let invln2 = f32::from_bits(0x3fb8_aa3b);
    let q1 = f32::from_bits(0xbd08_8889);
    let q2 = f32::from_bits(0x3ad0_0d01);
    let q3 = f32::from_bits(0xb8a6_70cd);
    let q4 = f32::from_bits(0x3686_7e54);
    let q5 = f32::from_bits(0xb457_edbb);
    const HUGE: f32 = 1.0e30;
    const TINY: f32 = 1.0e-30;
    let bits = x.to_bits();
    let negative = bits & 0x8000_0000 != 0;
    let hx = bits & 0x7fff_ffff;
    let mut x = x;
    if hx >= 0x4195_b844 {
        // |x| >= 27·ln2
        if hx >= 0x42b1_7218 {
            if hx > 0x7f80_0000 {
                return x + x;
            }
            if hx == 0x7f80_0000 {
                return if negative { -1.0 } else { x };
            }
            if x > 88.721_68 {
                return HUGE * HUGE;
            }
        }
        if negative {
            return TINY - 1.0;
        }
    }
    let k: i32;
    let mut c = 0.0f32;
    if hx > 0x3eb1_7218 {
        // |x| > ln2 / 2: reduce.
        let (hi, lo);
        if hx < 0x3f85_1592 {
            if negative {
                hi = x + ln2_hi;
                lo = -ln2_lo;
                k = -1;
            } else {
                hi = x - ln2_hi;
                lo = ln2_lo;
                k = 1;
            }
        } else {
            k = (invln2 * x + if negative { -0.5 } else { 0.5 }) as i32;
            let t = k as f32;
            hi = x - t * ln2_hi;
            lo = t * ln2_lo;
        }
        x = hi - lo;
        c = (hi - x) - lo;
    } else if hx < 0x3300_0000 {
        // |x| < 2^-25
        let t = HUGE + x;
        return x - (t - (HUGE + x));
    } else {
        k = 0;
    }
    let hfx = 0.5 * x;
    let hxs = x * hfx;
    let r1 = 1.0 + hxs * (q1 + hxs * (q2 + hxs * (q3 + hxs * (q4 + hxs * q5))));
    let t = 3.0 - r1 * hfx;
    let e = hxs * ((r1 - t) / (6.0 - x * t));
    if k == 0 {
        return x - (x * e - hxs);
    }
    let twopk = f32::from_bits(((0x7f + k) as u32) << 23);
    let e = x * (e - c) - c;
    let e = e - hxs;
    if k == -1 {
        return 0.5 * (x - e) - 0.5;
    }
    if k == 1 {
        return if x < -0.25 {
            -2.0 * (e - (x + 0.5))
        } else {
            1.0 + 2.0 * (x - e)
        };
    }
    if k <= -2 || k > 56 {
        let y = 1.0 - (e - x);
        let y = if k == 128 {
            y * 2.0 * f32::from_bits(0x7f00_0000)
        } else {
            y * twopk
        };
        return y - 1.0;
    }
    if k < 23 {
        let t = f32::from_bits(0x3f80_0000 - (0x0100_0000 >> k));
        (t - (e - x)) * twopk
    } else {
        let t = f32::from_bits(((0x7f - k) as u32) << 23);
        ((x - (e + t)) + 1.0) * twopk
    }
}

/// Float32 ELU (TFLM reference `Elu`: `x < 0 ? expm1(x) : x`).
pub fn elu_f32(x: f32) -> f32 {
    if x < 0.0 {
        expm1_f32(x)
    } else {
        x
    }
}

/// Float32 PRELU (TFLM `BroadcastPrelu4DSlowFloat`: `x >= 0 ? x : x * alpha`).
#[inline(always)]
pub fn prelu_f32(bc: Option<&Broadcast>, input: &[f32], alpha: &[f32], output: &mut [f32]) {
    binary(
        bc,
        input,
        alpha,
        output,
        |x, a| if x >= 0.0 { x } else { x * a },
    );
}

/// Clamp bounds of a float32 op's fused activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClampF32 {
    /// Lower bound (`f32::MIN` without activation).
    pub min: f32,
    /// Upper bound (`f32::MAX` without activation).
    pub max: f32,
}

/// Float32 DIV (TFLM reference `Div` / `BroadcastDivSlow`: `a / b`, then the activation's
/// `min(max(v, lo), hi)`).
#[inline(always)]
pub fn div_f32(
    p: &ClampF32,
    bc: Option<&Broadcast>,
    input1: &[f32],
    input2: &[f32],
    output: &mut [f32],
) {
    binary(bc, input1, input2, output, |a, b| {
        let v = a / b;
        let v = if v < p.min { p.min } else { v };
        if p.max < v {
            p.max
        } else {
            v
        }
    });
}

/// Rows of a float32 op over the last dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rows {
    /// Number of rows (all dimensions but the last).
    pub rows: usize,
    /// Row length (the last dimension).
    pub depth: usize,
}

/// The `(input row, output row)` pairs of an op over the last dimension.
#[inline(always)]
pub fn row_pairs<'a, T, U>(
    p: &Rows,
    input: &'a [T],
    output: &'a mut [U],
) -> impl Iterator<Item = (&'a [T], &'a mut [U])> {
    let depth = p.depth.max(1);
    input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
        .take(p.rows)
}

/// Float32 L2_NORMALIZATION (TFLM reference: the squares summed in order, `sqrt`, at
/// least `1e-6`, each element divided by it).
#[inline(always)]
pub fn l2_normalization_f32(p: &Rows, input: &[f32], output: &mut [f32]) {
    for (row_in, row_out) in row_pairs(p, input, output) {
        let mut squared = 0.0f32;
        for &x in row_in {
            squared += x * x;
        }
        let norm = sqrt_f32(squared);
        let norm = if norm < 1e-6 { 1e-6 } else { norm };
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            *o = x / norm;
        }
    }
}

/// Float32 LOG_SOFTMAX (TFLM reference: `x - max - log(Σ exp(x - max))`, summed in order).
#[inline(always)]
pub fn log_softmax_f32(p: &Rows, input: &[f32], output: &mut [f32]) {
    for (row_in, row_out) in row_pairs(p, input, output) {
        let mut max = f32::MIN;
        for &x in row_in {
            // std::max(max, x): keeps `max` unless it is below x.
            if max < x {
                max = x;
            }
        }
        let mut sum = 0.0f32;
        for &x in row_in {
            sum += exp_f32(x - max);
        }
        let log_sum = log_f32(sum);
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            *o = x - max - log_sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sample points over the f32 range: a fixed walk with small and large magnitudes.
    fn samples() -> impl Iterator<Item = f32> {
        (0..20_000u32).map(|i| f32::from_bits(i.wrapping_mul(2_654_435_761) >> 1))
    }

    #[test]
    fn sqrt_is_correctly_rounded() {
        for x in samples().filter(|x| x.is_finite()) {
            assert_eq!(sqrt_f32(x).to_bits(), x.sqrt().to_bits(), "sqrt({x})");
        }
        for x in [
            0.0f32,
            -0.0,
            1.0,
            2.0,
            4.0,
            1e-45,
            f32::MAX,
            f32::MIN_POSITIVE,
        ] {
            assert_eq!(sqrt_f32(x).to_bits(), x.sqrt().to_bits(), "sqrt({x})");
        }
        assert!(sqrt_f32(-1.0).is_nan());
    }

    #[test]
    fn rounding_functions_match_std() {
        let specials = [
            0.5f32, -0.5, 1.5, 2.5, -2.5, -0.0, 0.0, -0.3, 0.7, 8388607.5, -1e30,
        ];
        for x in samples()
            .flat_map(|x| [x, -x, x * 1e-30, -x * 1e-30])
            .chain(specials)
            .filter(|x| x.is_finite())
        {
            assert_eq!(floor_f32(x).to_bits(), x.floor().to_bits(), "floor({x})");
            assert_eq!(ceil_f32(x).to_bits(), x.ceil().to_bits(), "ceil({x})");
            let f = x.floor();
            let d = x - f;
            let want = if d < 0.5 || (d == 0.5 && (f as i32) % 2 == 0) {
                f
            } else {
                f + 1.0
            };
            assert_eq!(round_f32(x).to_bits(), want.to_bits(), "round({x})");
        }
        assert_eq!(round_f32(2.5), 2.0);
        assert_eq!(round_f32(3.5), 4.0);
        assert_eq!(round_f32(-2.5), -2.0);
    }

    /// The glibc ports against the host's `libm` (TFLM's, on the oracle's machine), over a
    /// dense sweep of the range each op sees and sample points across all floats.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn exp_log_expm1_tanh_are_glibc_bit_for_bit() {
        let mut mismatches = 0;
        let sweep = (-4_000_000..4_000_000).map(|i| i as f32 * 2.5e-5);
        for x in sweep.chain(samples()).chain(samples().map(|x| -x)) {
            let pairs = [
                (exp_f32(x), x.exp()),
                (log_f32(x), x.ln()),
                (expm1_f32(x), x.exp_m1()),
                (tanh_f32(x), x.tanh()),
            ];
            for (got, want) in pairs {
                if got.to_bits() != want.to_bits() && !(got.is_nan() && want.is_nan()) {
                    mismatches += 1;
                }
            }
        }
        assert_eq!(mismatches, 0, "results differ from libm");
        assert_eq!(log_f32(1.0), 0.0);
        assert_eq!(log_f32(0.0), f32::NEG_INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(expm1_f32(-100.0), -1.0);
        assert_eq!(elu_f32(2.0), 2.0);
    }

    #[test]
    fn floor_div_and_mod_take_the_divisors_sign() {
        let (a, b) = ([7.0, -7.0, 7.0, -7.5], [2.0, 2.0, -2.0, -2.0]);
        let mut out = [0f32; 4];
        floor_div_f32(None, &a, &b, &mut out);
        assert_eq!(out, [3.0, -4.0, -4.0, 3.0]);
        floor_mod_f32(None, &a, &b, &mut out);
        assert_eq!(out, [1.0, 1.0, -1.0, -1.5]);
        for x in [
            0.5f64,
            -0.5,
            1.0,
            -1.0,
            2.5,
            -2.5,
            1e300,
            -1e-300,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            -0.0,
        ] {
            assert_eq!(floor_f64(x).to_bits(), x.floor().to_bits(), "floor({x})");
        }
    }

    #[test]
    fn prelu_div_and_rows() {
        let mut out = [0f32; 4];
        prelu_f32(
            None,
            &[-2.0, 3.0, -1.0, 0.0],
            &[0.5, 0.5, -2.0, 9.0],
            &mut out,
        );
        assert_eq!(out, [-1.0, 3.0, 2.0, 0.0]);
        let relu = ClampF32 {
            min: 0.0,
            max: f32::MAX,
        };
        div_f32(
            &relu,
            None,
            &[1.0, -4.0, 3.0, 1.0],
            &[2.0, 2.0, 0.5, 3.0],
            &mut out,
        );
        assert_eq!(out, [0.5, 0.0, 6.0, 1.0 / 3.0]);
        let rows = Rows { rows: 2, depth: 2 };
        l2_normalization_f32(&rows, &[3.0, 4.0, 0.0, 0.0], &mut out);
        assert_eq!(out, [0.6, 0.8, 0.0, 0.0]);
        log_softmax_f32(&rows, &[1.0, 1.0, 0.0, 0.0], &mut out);
        assert_eq!(out, [-core::f32::consts::LN_2; 4]);
    }
}
