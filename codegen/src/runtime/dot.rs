//! Int8 dot products per core family: [`Scalar`] multiply-accumulates for cores without SIMD,
//! [`Dsp`] SMLAD pairs for Arm DSP cores, and [`dsp`], the four Arm instructions they use.

/// How a kernel forms int8 dot products: [`Scalar`] multiply-accumulates, or [`Dsp`] pairs.
pub trait Dot {
    /// `acc[p][o] += Σ_c x[p][c]·w[o][c]` over the common length of the slices.
    fn block<const P: usize, const O: usize>(acc: &mut [[i32; O]; P], x: [&[i8]; P], w: [&[u8]; O]);

    /// `acc[j] += w_j·(x_j + offset)` for the four bytes `j` of `x` and `w` (the offset is
    /// added only when `OFFSET`).
    fn mac4<const OFFSET: bool>(acc: &mut [i32; 4], x: u32, w: u32, offset: i32);
}

/// One multiply-accumulate per instruction pair: for cores without SIMD.
pub struct Scalar;

impl Dot for Scalar {
    #[inline(always)]
    fn mac4<const OFFSET: bool>(acc: &mut [i32; 4], x: u32, w: u32, offset: i32) {
        for (j, a) in acc.iter_mut().enumerate() {
            let xv = (x >> (8 * j)) as u8 as i8 as i32;
            let wv = (w >> (8 * j)) as u8 as i8 as i32;
            let xv = if OFFSET { xv + offset } else { xv };
            *a = a.wrapping_add(wv.wrapping_mul(xv));
        }
    }

    #[inline(always)]
    fn block<const P: usize, const O: usize>(
        acc: &mut [[i32; O]; P],
        x: [&[i8]; P],
        w: [&[u8]; O],
    ) {
        let n = common_len(&x, &w);
        for c in 0..n {
            let mut wv = [0i32; O];
            for (v, row) in wv.iter_mut().zip(w) {
                *v = row.get(c).copied().unwrap_or(0) as i8 as i32;
            }
            for (accp, xp) in acc.iter_mut().zip(x) {
                let xv = xp.get(c).copied().unwrap_or(0) as i32;
                for (a, &wo) in accp.iter_mut().zip(&wv) {
                    *a = a.wrapping_add(xv.wrapping_mul(wo));
                }
            }
        }
    }
}

/// Two multiply-accumulates per SMLAD on sign-extended byte pairs (SXTB16): Arm DSP cores.
/// On other architectures the same arithmetic runs in portable Rust (for host tests).
pub struct Dsp;

impl Dot for Dsp {
    #[inline(always)]
    fn mac4<const OFFSET: bool>(acc: &mut [i32; 4], x: u32, w: u32, offset: i32) {
        // Even bytes (0, 2) and odd bytes (1, 3) as i16 pairs; the offset added to both
        // halves at once (x + offset fits i16); then SMLABB / SMLATT per half.
        let (mut xe, mut xo) = (dsp::sxtb16(x), dsp::sxtb16_ror8(x));
        if OFFSET {
            let pair = (offset as u32 & 0xffff) | ((offset as u32) << 16);
            xe = dsp::sadd16(xe, pair);
            xo = dsp::sadd16(xo, pair);
        }
        let (we, wo) = (dsp::sxtb16(w), dsp::sxtb16_ror8(w));
        let lo = |a: u32| a as i16 as i32;
        let hi = |a: u32| (a >> 16) as i16 as i32;
        acc[0] = acc[0].wrapping_add(lo(xe) * lo(we));
        acc[1] = acc[1].wrapping_add(lo(xo) * lo(wo));
        acc[2] = acc[2].wrapping_add(hi(xe) * hi(we));
        acc[3] = acc[3].wrapping_add(hi(xo) * hi(wo));
    }

    #[inline(always)]
    fn block<const P: usize, const O: usize>(
        acc: &mut [[i32; O]; P],
        x: [&[i8]; P],
        w: [&[u8]; O],
    ) {
        let n = common_len(&x, &w);
        let words = n / 4;
        for k in 0..words {
            // Bytes [b0 b1 b2 b3] -> (b0, b2) and (b1, b3) as i16 pairs; x and w alike, so the
            // pairs line up and two SMLADs give b0·c0 + b1·c1 + b2·c2 + b3·c3.
            let mut xe = [0u32; P];
            let mut xo = [0u32; P];
            for ((e, o), xp) in xe.iter_mut().zip(xo.iter_mut()).zip(x) {
                let v = word_i8(xp, k * 4);
                *e = dsp::sxtb16(v);
                *o = dsp::sxtb16_ror8(v);
            }
            for (o, row) in w.iter().enumerate() {
                let v = word_u8(row, k * 4);
                let (we, wo) = (dsp::sxtb16(v), dsp::sxtb16_ror8(v));
                for p in 0..P {
                    let a = acc[p][o];
                    acc[p][o] = dsp::smlad(xo[p], wo, dsp::smlad(xe[p], we, a));
                }
            }
        }
        for c in words * 4..n {
            for (o, row) in w.iter().enumerate() {
                let wv = row.get(c).copied().unwrap_or(0) as i8 as i32;
                for p in 0..P {
                    let xv = x[p].get(c).copied().unwrap_or(0) as i32;
                    acc[p][o] = acc[p][o].wrapping_add(xv.wrapping_mul(wv));
                }
            }
        }
    }
}

/// The length all slices share (they are equal in generated code).
#[inline(always)]
pub fn common_len<const P: usize, const O: usize>(x: &[&[i8]; P], w: &[&[u8]; O]) -> usize {
    let n = x.iter().map(|s| s.len()).min().unwrap_or(0);
    w.iter().map(|s| s.len()).fold(n, usize::min)
}

/// Four bytes at `at` as a little-endian word (0 past the end).
#[inline(always)]
pub fn word_u8(s: &[u8], at: usize) -> u32 {
    match s.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Four i8 at `at` as a little-endian word (0 past the end).
#[inline(always)]
pub fn word_i8(s: &[i8], at: usize) -> u32 {
    match s.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8]),
        _ => 0,
    }
}

/// The Arm DSP instructions the [`Dsp`] kernels use.
///
/// On Arm they are one instruction each, through `asm!` (their intrinsics are not stable
/// Rust). With the few `asm!` loops elsewhere in the runtime (`patch_dot_thumb1`,
/// `fc_tile_asm`, `ArmVfma`), the only `unsafe` in generated code. Each block reads and writes registers only;
/// SMLAD may set the sticky Q flag, so flags are not declared preserved. Elsewhere the same
/// arithmetic in portable Rust, so the kernels are tested bit for bit on the host.
#[allow(unsafe_code)]
pub mod dsp {
    /// SXTB16: bytes 0 and 2 of `x`, sign-extended into two i16 halves.
    #[inline(always)]
    pub fn sxtb16(x: u32) -> u32 {
        #[cfg(target_arch = "arm")]
        {
            let r: u32;
            // SAFETY: register-only instruction of the Arm DSP extension.
            unsafe {
                core::arch::asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            let lo = x as u8 as i8 as i16 as u16 as u32;
            let hi = (x >> 16) as u8 as i8 as i16 as u16 as u32;
            lo | (hi << 16)
        }
    }

    /// SXTB16 with ROR #8: bytes 1 and 3 of `x`, sign-extended into two i16 halves.
    #[inline(always)]
    pub fn sxtb16_ror8(x: u32) -> u32 {
        #[cfg(target_arch = "arm")]
        {
            let r: u32;
            // SAFETY: register-only instruction of the Arm DSP extension.
            unsafe {
                core::arch::asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            sxtb16(x.rotate_right(8))
        }
    }

    /// SADD16: `a + b` on each signed 16-bit half, wrapping per half.
    #[inline(always)]
    pub fn sadd16(a: u32, b: u32) -> u32 {
        #[cfg(target_arch = "arm")]
        {
            let r: u32;
            // SAFETY: register-only instruction of the Arm DSP extension (sets only GE flags).
            unsafe {
                core::arch::asm!("sadd16 {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            let lo = (a as u16).wrapping_add(b as u16) as u32;
            let hi = ((a >> 16) as u16).wrapping_add((b >> 16) as u16) as u32;
            lo | (hi << 16)
        }
    }

    /// SMLAD: `acc + a.lo·b.lo + a.hi·b.hi` on signed 16-bit halves, wrapping.
    #[inline(always)]
    pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        #[cfg(target_arch = "arm")]
        {
            let r: i32;
            // SAFETY: register-only instruction of the Arm DSP extension (sets only the Q flag).
            unsafe {
                core::arch::asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            let lo = (a as i16 as i32) * (b as i16 as i32);
            let hi = ((a >> 16) as i16 as i32) * ((b >> 16) as i16 as i32);
            acc.wrapping_add(lo).wrapping_add(hi)
        }
    }

    /// SMMLAR: `floor((a·b + c·2^32 + 2^31) / 2^32)`, the rounded high word of `a·b` plus
    /// `c` (wrapping). Written out because LLVM sometimes forms it as SMLAL with two moves.
    #[inline(always)]
    pub fn smmlar(a: i32, b: i32, c: i32) -> i32 {
        #[cfg(target_arch = "arm")]
        {
            let r: i32;
            // SAFETY: register-only instruction of the Arm DSP extension (sets no flags).
            unsafe {
                core::arch::asm!("smmlar {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) c, options(pure, nomem, nostack, preserves_flags))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            let sum = (a as i64 * b as i64).wrapping_add((c as i64) << 32);
            (sum.wrapping_add(1 << 31) >> 32) as i32
        }
    }

    /// SMLABB: `acc + a.lo·b.lo` on signed 16-bit bottom halves, wrapping. (As `asm!`, the
    /// depthwise kernel's multiply-accumulates keep their order, so its four accumulators
    /// stay in registers instead of being computed one channel at a time.)
    #[inline(always)]
    pub fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
        #[cfg(target_arch = "arm")]
        {
            let r: i32;
            // SAFETY: register-only instruction of the Arm DSP extension (sets only the Q flag).
            unsafe {
                core::arch::asm!("smlabb {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            acc.wrapping_add((a as i16 as i32) * (b as i16 as i32))
        }
    }

    /// SMLATT: `acc + a.hi·b.hi` on signed 16-bit top halves, wrapping.
    #[inline(always)]
    pub fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
        #[cfg(target_arch = "arm")]
        {
            let r: i32;
            // SAFETY: register-only instruction of the Arm DSP extension (sets only the Q flag).
            unsafe {
                core::arch::asm!("smlatt {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            acc.wrapping_add(((a >> 16) as i16 as i32) * ((b >> 16) as i16 as i32))
        }
    }

    /// SMLABT: `acc + a.lo·b.hi` on signed 16-bit halves, wrapping.
    #[inline(always)]
    pub fn smlabt(a: u32, b: u32, acc: i32) -> i32 {
        #[cfg(target_arch = "arm")]
        {
            let r: i32;
            // SAFETY: register-only instruction of the Arm DSP extension (sets only the Q flag).
            unsafe {
                core::arch::asm!("smlabt {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            acc.wrapping_add((a as i16 as i32) * ((b >> 16) as i16 as i32))
        }
    }

    /// SMLATB: `acc + a.hi·b.lo` on signed 16-bit halves, wrapping.
    #[inline(always)]
    pub fn smlatb(a: u32, b: u32, acc: i32) -> i32 {
        #[cfg(target_arch = "arm")]
        {
            let r: i32;
            // SAFETY: register-only instruction of the Arm DSP extension (sets only the Q flag).
            unsafe {
                core::arch::asm!("smlatb {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(nomem, nostack))
            };
            r
        }
        #[cfg(not(target_arch = "arm"))]
        {
            acc.wrapping_add(((a >> 16) as i16 as i32) * (b as i16 as i32))
        }
    }

    /// The `asm!` loop of [`super::depthwise_rows_dot`]: `pairs` (≥ 1) pairs of
    /// accumulators into `out` from the ring words at `ring` (three slots per word, word `k`'s
    /// at `ring + 12k`, filter row `ky` in slot `(rotation + ky) % 3`) and the six weight words
    /// at `w` (per filter row, `(w0, w1)` and `(w1, w2)`), each accumulator starting from
    /// `start`. Reads `ring`'s `3 · (pairs + 1)` words and `w`'s six, writes `out`'s
    /// `2 · pairs` words; SMLAD may set the sticky Q flag and the loop compares, so flags are
    /// not declared preserved.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn rows_dot(
        ring: *const u32,
        w: *const u32,
        rotation: usize,
        start: i32,
        pairs: usize,
        out: *mut i32,
    ) {
        // The loop for one ring rotation: `$s0`, `$s1`,
        // `$s2` are the byte offsets of filter rows 0, 1, 2's ring slots within a word's three
        // (`$t0`.. the same plus 12: the next word's).
        macro_rules! rows_dot_asm {
            ($ring:expr, $w:expr, $start:expr, $out:expr, $end:expr,
             $s0:literal, $t0:literal, $s1:literal, $t1:literal, $s2:literal, $t2:literal) => {
                // SAFETY: the caller checked that `ring` has `3 · (pairs + 1)` readable words, `w`
                // six, and `out` `2 · pairs` writable words, all word-aligned; the loop stops when
                // `out` reaches `end`.
                unsafe {
                    core::arch::asm!(
                    "2:",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $s0, "]"),
                    "smlad {e}, {x}, {w01}, {s}",
                    "smlatb {o}, {x}, {w01}, {s}",
                    concat!("ldr {x}, [{p}, #", $t0, "]"),
                    "smlabt {e}, {x}, {w12}, {e}",
                    "smlad {o}, {x}, {w12}, {o}",
                    "ldrd {w01}, {w12}, [{w}, #8]",
                    concat!("ldr {x}, [{p}, #", $s1, "]"),
                    "smlad {e}, {x}, {w01}, {e}",
                    "smlatb {o}, {x}, {w01}, {o}",
                    concat!("ldr {x}, [{p}, #", $t1, "]"),
                    "smlabt {e}, {x}, {w12}, {e}",
                    "smlad {o}, {x}, {w12}, {o}",
                    "ldrd {w01}, {w12}, [{w}, #16]",
                    concat!("ldr {x}, [{p}, #", $s2, "]"),
                    "smlad {e}, {x}, {w01}, {e}",
                    "smlatb {o}, {x}, {w01}, {o}",
                    concat!("ldr {x}, [{p}, #", $t2, "]"),
                    "smlabt {e}, {x}, {w12}, {e}",
                    "smlad {o}, {x}, {w12}, {o}",
                    "add {p}, {p}, #12",
                    "strd {e}, {o}, [{out}], #8",
                    "cmp {out}, {end}",
                    "bne 2b",
                    p = inout(reg) $ring => _,
                    out = inout(reg) $out => _,
                    end = in(reg) $end,
                    w = in(reg) $w,
                    s = in(reg) $start,
                    e = out(reg) _,
                    o = out(reg) _,
                    x = out(reg) _,
                    w01 = out(reg) _,
                    w12 = out(reg) _,
                    options(nostack),
                    )
                }
            };
        }
        // Two pairs per iteration: `$s`, `$t`, `$u` are the byte offsets of a filter row's
        // slot in words `k`, `k + 1` and `k + 2` (`k` the first pair's word), so the middle
        // word, which both pairs read, is loaded once: 41 instructions per four pixels.
        macro_rules! rows_dot4_asm {
            ($ring:expr, $w:expr, $start:expr, $out:expr, $end:expr,
             $s0:literal, $t0:literal, $u0:literal, $s1:literal, $t1:literal, $u1:literal,
             $s2:literal, $t2:literal, $u2:literal) => {
                // SAFETY: the caller checked that `ring` has `3 · (pairs + 1)` readable words,
                // `w` six, and `out` `2 · pairs` writable words, all word-aligned; this loop
                // runs `pairs / 2` times (reading ring words up to `2 · (pairs / 2)`, writing
                // four accumulators each) and stops when `out` reaches `end`.
                unsafe {
                    core::arch::asm!(
                    "2:",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $s0, "]"),
                    "smlad {e0}, {x}, {w01}, {s}",
                    "smlatb {o0}, {x}, {w01}, {s}",
                    concat!("ldr {x}, [{p}, #", $t0, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {s}",
                    "smlatb {o1}, {x}, {w01}, {s}",
                    concat!("ldr {x}, [{p}, #", $u0, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}",
                    "ldrd {w01}, {w12}, [{w}, #8]",
                    concat!("ldr {x}, [{p}, #", $s1, "]"),
                    "smlad {e0}, {x}, {w01}, {e0}",
                    "smlatb {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $t1, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {e1}",
                    "smlatb {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $u1, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}",
                    "ldrd {w01}, {w12}, [{w}, #16]",
                    concat!("ldr {x}, [{p}, #", $s2, "]"),
                    "smlad {e0}, {x}, {w01}, {e0}",
                    "smlatb {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $t2, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {e1}",
                    "smlatb {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $u2, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}",
                    "add {p}, {p}, #24",
                    "strd {e0}, {o0}, [{out}], #8",
                    "strd {e1}, {o1}, [{out}], #8",
                    "cmp {out}, {end}",
                    "bne 2b",
                    p = inout(reg) $ring => _,
                    out = inout(reg) $out => _,
                    end = in(reg) $end,
                    w = in(reg) $w,
                    s = in(reg) $start,
                    e0 = out(reg) _,
                    o0 = out(reg) _,
                    e1 = out(reg) _,
                    o1 = out(reg) _,
                    x = out(reg) _,
                    w01 = out(reg) _,
                    w12 = out(reg) _,
                    options(nostack),
                    )
                }
            };
        }
        // Three pairs (rows of five or six pixels) in one straight pass: the six accumulators
        // start from `start` and stay in registers, each filter row's four ring words loaded
        // once (`$a`..`$d`: a row's slot in words 0 to 3), 54 instructions for 54 MACs.
        macro_rules! rows_dot6_asm {
            ($ring:expr, $w:expr, $start:expr, $out:expr,
             $($a:literal, $b:literal, $c:literal, $d:literal, $wo:literal);*) => {{
                let s = $start;
                // SAFETY: the caller checked that `ring` has `3 · (pairs + 1)` = 12 readable
                // words, `w` six, and `out` `2 · pairs` = 6 writable words, all word-aligned.
                unsafe {
                    core::arch::asm!(
                    $(
                    concat!("ldrd {w01}, {w12}, [{w}, #", $wo, "]"),
                    concat!("ldr {x}, [{p}, #", $a, "]"),
                    "smlad {e0}, {x}, {w01}, {e0}",
                    "smlatb {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $b, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {e1}",
                    "smlatb {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $c, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}",
                    "smlad {e2}, {x}, {w01}, {e2}",
                    "smlatb {o2}, {x}, {w01}, {o2}",
                    concat!("ldr {x}, [{p}, #", $d, "]"),
                    "smlabt {e2}, {x}, {w12}, {e2}",
                    "smlad {o2}, {x}, {w12}, {o2}",
                    )*
                    "strd {e0}, {o0}, [{out}]",
                    "strd {e1}, {o1}, [{out}, #8]",
                    "strd {e2}, {o2}, [{out}, #16]",
                    p = in(reg) $ring,
                    w = in(reg) $w,
                    out = in(reg) $out,
                    e0 = inout(reg) s => _,
                    o0 = inout(reg) s => _,
                    e1 = inout(reg) s => _,
                    o1 = inout(reg) s => _,
                    e2 = inout(reg) s => _,
                    o2 = inout(reg) s => _,
                    x = out(reg) _,
                    w01 = out(reg) _,
                    w12 = out(reg) _,
                    options(nostack),
                    )
                }
            }};
        }
        if pairs == 3 {
            match rotation {
                0 => rows_dot6_asm!(ring, w, start, out,
                    0, 12, 24, 36, 0; 4, 16, 28, 40, 8; 8, 20, 32, 44, 16),
                1 => rows_dot6_asm!(ring, w, start, out,
                    4, 16, 28, 40, 0; 8, 20, 32, 44, 8; 0, 12, 24, 36, 16),
                _ => rows_dot6_asm!(ring, w, start, out,
                    8, 20, 32, 44, 0; 0, 12, 24, 36, 8; 4, 16, 28, 40, 16),
            }
            return;
        }
        let quads = pairs / 2;
        if quads > 0 {
            let end = out.wrapping_add(4 * quads);
            match rotation {
                0 => rows_dot4_asm!(ring, w, start, out, end, 0, 12, 24, 4, 16, 28, 8, 20, 32),
                1 => rows_dot4_asm!(ring, w, start, out, end, 4, 16, 28, 8, 20, 32, 0, 12, 24),
                _ => rows_dot4_asm!(ring, w, start, out, end, 8, 20, 32, 0, 12, 24, 4, 16, 28),
            }
        }
        if 2 * quads < pairs {
            // The pairs left, one at a time: their ring words start at word `2 · quads`.
            let (ring, out) = (ring.wrapping_add(6 * quads), out.wrapping_add(4 * quads));
            let end = out.wrapping_add(2 * (pairs - 2 * quads));
            match rotation {
                0 => rows_dot_asm!(ring, w, start, out, end, 0, 12, 4, 16, 8, 20),
                1 => rows_dot_asm!(ring, w, start, out, end, 4, 16, 8, 20, 0, 12),
                _ => rows_dot_asm!(ring, w, start, out, end, 8, 20, 0, 12, 4, 16),
            }
        }
    }

    /// The `asm!` loop of [`super::depthwise_rows_out6`]: one output row of three pairs of
    /// pixels for every channel, from multiply-accumulate to output byte. Per channel, `w`
    /// walks over [`super::ROWS6_WORDS`] table words (the six weight words of [`rows_dot`], the
    /// start value, multiplier, offset constant and right shift); the ring words are laid out as
    /// there. `state` holds five words the loop reads and updates: the channel's first output
    /// byte address (advanced by one per channel), the distance between a channel's output
    /// bytes, the channel's ring address (advanced by the fourth word, the bytes of one
    /// channel's ring), and the table's end. `SIX` stores the sixth pixel, else five. Reads the
    /// ring and the table, writes `state` and the output bytes; SMLAD may set the sticky Q flag
    /// and the loop compares, so flags are not declared preserved.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn rows_dot6_out<const SIX: bool>(w: *const u32, rotation: usize, state: *mut u32) {
        // `$a0`..`$d0`: filter row 0's slot in ring words 0 to 3 (its weights at offset 0),
        // then the same and the weights' offset for rows 1 and 2. The first filter row
        // accumulates onto the start value (held in `o2`, whose own first product comes
        // last), so no accumulator is set up on its own.
        macro_rules! rows_dot6_out_asm {
            ($req_last:literal, $put_last:literal; $a0:literal, $b0:literal, $c0:literal, $d0:literal;
             $($a:literal, $b:literal, $c:literal, $d:literal, $wo:literal);*) => {
                // SAFETY: the caller checked that the table from `w` to the end in `state`
                // holds whole channels, that each channel's ring (12 words from its address)
                // is readable and word-aligned, and that every output byte the loop stores
                // (five or six per channel, from the first address in `state`) is writable.
                unsafe {
                    core::arch::asm!(
                    "2:",
                    "ldr {p}, [{q}, #8]",
                    "ldr {o2}, [{w}, #24]",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $a0, "]"),
                    "smlad {e0}, {x}, {w01}, {o2}",
                    "smlatb {o0}, {x}, {w01}, {o2}",
                    concat!("ldr {x}, [{p}, #", $b0, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {o2}",
                    "smlatb {o1}, {x}, {w01}, {o2}",
                    concat!("ldr {x}, [{p}, #", $c0, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}",
                    "smlad {e2}, {x}, {w01}, {o2}",
                    "smlatb {o2}, {x}, {w01}, {o2}",
                    concat!("ldr {x}, [{p}, #", $d0, "]"),
                    "smlabt {e2}, {x}, {w12}, {e2}",
                    "smlad {o2}, {x}, {w12}, {o2}",
                    $(
                    concat!("ldrd {w01}, {w12}, [{w}, #", $wo, "]"),
                    concat!("ldr {x}, [{p}, #", $a, "]"),
                    "smlad {e0}, {x}, {w01}, {e0}",
                    "smlatb {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $b, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {e1}",
                    "smlatb {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $c, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}",
                    "smlad {e2}, {x}, {w01}, {e2}",
                    "smlatb {o2}, {x}, {w01}, {o2}",
                    concat!("ldr {x}, [{p}, #", $d, "]"),
                    "smlabt {e2}, {x}, {w12}, {e2}",
                    "smlad {o2}, {x}, {w12}, {o2}",
                    )*
                    // The next channel's ring.
                    "ldr {x}, [{q}, #12]",
                    "add {x}, {p}, {x}",
                    "str {x}, [{q}, #8]",
                    // Requantization in place: `w01` the multiplier, `w12` the offset
                    // constant, `x` the right shift, `p` a scratch register.
                    "ldrd {w01}, {w12}, [{w}, #28]",
                    "ldr {x}, [{w}, #36]",
                    "add {w}, {w}, #40",
                    "smmlar {p}, {e0}, {w01}, {w12}",
                    "add {e0}, {p}, {e0}, asr #31",
                    "asr {e0}, {e0}, {x}",
                    "ssat {e0}, #8, {e0}",
                    "smmlar {p}, {o0}, {w01}, {w12}",
                    "add {o0}, {p}, {o0}, asr #31",
                    "asr {o0}, {o0}, {x}",
                    "ssat {o0}, #8, {o0}",
                    "smmlar {p}, {e1}, {w01}, {w12}",
                    "add {e1}, {p}, {e1}, asr #31",
                    "asr {e1}, {e1}, {x}",
                    "ssat {e1}, #8, {e1}",
                    "smmlar {p}, {o1}, {w01}, {w12}",
                    "add {o1}, {p}, {o1}, asr #31",
                    "asr {o1}, {o1}, {x}",
                    "ssat {o1}, #8, {o1}",
                    "smmlar {p}, {e2}, {w01}, {w12}",
                    "add {e2}, {p}, {e2}, asr #31",
                    "asr {e2}, {e2}, {x}",
                    "ssat {e2}, #8, {e2}",
                    $req_last,
                    // The bytes: `w01` the first one's address, `w12` the distance, `x` the
                    // third and fifth's.
                    "ldrd {w01}, {w12}, [{q}]",
                    "strb {e0}, [{w01}]",
                    "strb {o0}, [{w01}, {w12}]",
                    "add {x}, {w01}, {w12}, lsl #1",
                    "strb {e1}, [{x}]",
                    "strb {o1}, [{x}, {w12}]",
                    "add {x}, {x}, {w12}, lsl #1",
                    "strb {e2}, [{x}]",
                    $put_last,
                    "add {w01}, {w01}, #1",
                    "str {w01}, [{q}]",
                    "ldr {x}, [{q}, #16]",
                    "cmp {w}, {x}",
                    "bne 2b",
                    w = inout(reg) w => _,
                    q = in(reg) state,
                    p = out(reg) _,
                    o2 = out(reg) _,
                    e0 = out(reg) _,
                    o0 = out(reg) _,
                    e1 = out(reg) _,
                    o1 = out(reg) _,
                    e2 = out(reg) _,
                    x = out(reg) _,
                    w01 = out(reg) _,
                    w12 = out(reg) _,
                    options(nostack),
                    )
                }
            };
        }
        // The sixth pixel, when stored: `o2`, requantized and one distance past the fifth.
        macro_rules! rotations {
            ($req_last:literal, $put_last:literal) => {
                match rotation {
                    0 => rows_dot6_out_asm!($req_last, $put_last; 0, 12, 24, 36;
                        4, 16, 28, 40, 8; 8, 20, 32, 44, 16),
                    1 => rows_dot6_out_asm!($req_last, $put_last; 4, 16, 28, 40;
                        8, 20, 32, 44, 8; 0, 12, 24, 36, 16),
                    _ => rows_dot6_out_asm!($req_last, $put_last; 8, 20, 32, 44;
                        0, 12, 24, 36, 8; 4, 16, 28, 40, 16),
                }
            };
        }
        if SIX {
            rotations!(
                "smmlar {p}, {o2}, {w01}, {w12}\n add {o2}, {p}, {o2}, asr #31\n \
                 asr {o2}, {o2}, {x}\n ssat {o2}, #8, {o2}",
                "strb {o2}, [{x}, {w12}]"
            );
        } else {
            rotations!("", "");
        }
    }

    /// [`rows_dot6_out`] for rows of two pairs of pixels: the ring words and `state` as
    /// there, each channel's ring read from words 0 to 2; `FOUR` stores the fourth pixel, else
    /// three.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn rows_dot4_out<const FOUR: bool>(w: *const u32, rotation: usize, state: *mut u32) {
        // `$a`, `$b`, `$c`: a filter row's slot in ring words 0 to 2, `$wo` its weights'
        // offset. The first filter row accumulates onto the start value (held in `o1`, whose
        // own first product comes last).
        macro_rules! rows_dot4_out_asm {
            ($req_last:literal, $put_last:literal; $a0:literal, $b0:literal, $c0:literal;
             $($a:literal, $b:literal, $c:literal, $wo:literal);*) => {
                // SAFETY: the caller checked that the table from `w` to the end in `state`
                // holds whole channels, that each channel's ring (9 words from its address)
                // is readable and word-aligned, and that every output byte the loop stores
                // (three or four per channel, from the first address in `state`) is writable.
                unsafe {
                    core::arch::asm!(
                    "2:",
                    "ldr {p}, [{q}, #8]",
                    "ldr {o1}, [{w}, #24]",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $a0, "]"),
                    "smlad {e0}, {x}, {w01}, {o1}",
                    "smlatb {o0}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $b0, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {o1}",
                    "smlatb {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $c0, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}",
                    $(
                    concat!("ldrd {w01}, {w12}, [{w}, #", $wo, "]"),
                    concat!("ldr {x}, [{p}, #", $a, "]"),
                    "smlad {e0}, {x}, {w01}, {e0}",
                    "smlatb {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $b, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {e1}",
                    "smlatb {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $c, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}",
                    )*
                    // The next channel's ring.
                    "ldr {x}, [{q}, #12]",
                    "add {x}, {p}, {x}",
                    "str {x}, [{q}, #8]",
                    // Requantization in place: `w01` the multiplier, `w12` the offset
                    // constant, `x` the right shift, `p` a scratch register.
                    "ldrd {w01}, {w12}, [{w}, #28]",
                    "ldr {x}, [{w}, #36]",
                    "add {w}, {w}, #40",
                    "smmlar {p}, {e0}, {w01}, {w12}",
                    "add {e0}, {p}, {e0}, asr #31",
                    "asr {e0}, {e0}, {x}",
                    "ssat {e0}, #8, {e0}",
                    "smmlar {p}, {o0}, {w01}, {w12}",
                    "add {o0}, {p}, {o0}, asr #31",
                    "asr {o0}, {o0}, {x}",
                    "ssat {o0}, #8, {o0}",
                    "smmlar {p}, {e1}, {w01}, {w12}",
                    "add {e1}, {p}, {e1}, asr #31",
                    "asr {e1}, {e1}, {x}",
                    "ssat {e1}, #8, {e1}",
                    $req_last,
                    // The bytes: `w01` the first one's address, `w12` the distance, `x` the
                    // third's.
                    "ldrd {w01}, {w12}, [{q}]",
                    "strb {e0}, [{w01}]",
                    "strb {o0}, [{w01}, {w12}]",
                    "add {x}, {w01}, {w12}, lsl #1",
                    "strb {e1}, [{x}]",
                    $put_last,
                    "add {w01}, {w01}, #1",
                    "str {w01}, [{q}]",
                    "ldr {x}, [{q}, #16]",
                    "cmp {w}, {x}",
                    "bne 2b",
                    w = inout(reg) w => _,
                    q = in(reg) state,
                    p = out(reg) _,
                    o1 = out(reg) _,
                    e0 = out(reg) _,
                    o0 = out(reg) _,
                    e1 = out(reg) _,
                    x = out(reg) _,
                    w01 = out(reg) _,
                    w12 = out(reg) _,
                    options(nostack),
                    )
                }
            };
        }
        // The fourth pixel, when stored: `o1`, requantized and one distance past the third.
        macro_rules! rotations {
            ($req_last:literal, $put_last:literal) => {
                match rotation {
                    0 => rows_dot4_out_asm!($req_last, $put_last; 0, 12, 24;
                        4, 16, 28, 8; 8, 20, 32, 16),
                    1 => rows_dot4_out_asm!($req_last, $put_last; 4, 16, 28;
                        8, 20, 32, 8; 0, 12, 24, 16),
                    _ => rows_dot4_out_asm!($req_last, $put_last; 8, 20, 32;
                        0, 12, 24, 8; 4, 16, 28, 16),
                }
            };
        }
        if FOUR {
            rotations!(
                "smmlar {p}, {o1}, {w01}, {w12}\n add {o1}, {p}, {o1}, asr #31\n \
                 asr {o1}, {o1}, {x}\n ssat {o1}, #8, {o1}",
                "strb {o1}, [{x}, {w12}]"
            );
        } else {
            rotations!("", "");
        }
    }

    /// The `asm!` loop of [`super::depthwise_single_out`]: one output pixel of a 3×3
    /// depthwise convolution over one input channel, for every output channel, from the
    /// window's three row words (`rows`, taps 0 to 2 in bytes 0 to 2) to the output bytes.
    /// The window is widened once into five registers (taps 0 and 2 of each row as i16 pairs,
    /// tap 1 of rows 0 and 1 packed by PKHBT, tap 1 of row 2); per channel `w` walks over
    /// [`super::SINGLE_WORDS`] table words, loaded by two LDM into fixed registers (LDM fills
    /// them in ascending order): four SMLAD and one SMLABB onto the start value, then
    /// `(SMMLAR(acc, m, k) + [acc < 0]) >> right`, SSAT to int8 and STRB. `UNROLL` channels
    /// (1, 2, 4 or 8) run per iteration; the loop ends after the channel whose right-shift
    /// word has bit 8 set (ASR reads only the bottom byte). Reads the table, writes the output bytes; SMLAD
    /// may set the sticky Q flag and TST sets flags, so flags are not declared preserved.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn single_out<const UNROLL: usize>(rows: [u32; 3], w: *const u32, out: *mut i8) {
        macro_rules! single_out_asm {
            ($($channel:literal),*) => {
                // SAFETY: the caller checked (`SingleTable::new`) that the table from `w` holds
                // whole channels, that the last one's right-shift word, and no other's,
                // has bit 8 set, that their number is a multiple of `UNROLL`, and that `out`
                // has a writable byte per channel. Registers r0 to r4 are named (LDM needs a
                // known order) and declared clobbered.
                unsafe {
                    core::arch::asm!(
                    "sxtb16 r1, {e0}, ror #8",
                    "sxtb16 {e0}, {e0}",
                    "sxtb16 r2, {e1}, ror #8",
                    "sxtb16 {e1}, {e1}",
                    "pkhbt {o01}, r1, r2, lsl #16",
                    "sxtb16 {o2}, {e2}, ror #8",
                    "sxtb16 {e2}, {e2}",
                    "2:",
                    $(
                    // Start, (w00, w02), (w10, w12), (w20, w22), (w01, w11).
                    concat!("ldm {w}!, {{r0, r1, r2, r3, r4}} @ channel ", $channel),
                    "smlad r0, {e0}, r1, r0",
                    "smlad r0, {e1}, r2, r0",
                    "smlad r0, {e2}, r3, r0",
                    "smlad r0, {o01}, r4, r0",
                    // (w21, 0), multiplier, offset constant, right shift.
                    "ldm {w}!, {{r1, r2, r3, r4}}",
                    "smlabb r0, {o2}, r1, r0",
                    "smmlar r1, r0, r2, r3",
                    "add r0, r1, r0, asr #31",
                    "asr r0, r0, r4",
                    "ssat r0, #8, r0",
                    "strb r0, [{out}], #1",
                    )*
                    "tst r4, #256",
                    "beq 2b",
                    e0 = inout(reg) rows[0] => _,
                    e1 = inout(reg) rows[1] => _,
                    e2 = inout(reg) rows[2] => _,
                    o01 = out(reg) _,
                    o2 = out(reg) _,
                    w = inout(reg) w => _,
                    out = inout(reg) out => _,
                    out("r0") _,
                    out("r1") _,
                    out("r2") _,
                    out("r3") _,
                    out("r4") _,
                    options(nostack),
                    )
                }
            };
        }
        match UNROLL {
            8 => single_out_asm!("0", "1", "2", "3", "4", "5", "6", "7"),
            4 => single_out_asm!("0", "1", "2", "3"),
            2 => single_out_asm!("0", "1"),
            _ => single_out_asm!("0"),
        }
    }

    /// The `asm!` loop of [`super::depthwise_single_run`]: [`single_out`] for a run of output
    /// pixels whose windows lie inside the input, the first window's top-left tap at `input`,
    /// its rows `in_w` bytes apart, the next window `stride` bytes on; the pixels' output
    /// bytes follow each other from `out` to `out_end`. The pointers, the row distance and
    /// the stride wait on the stack (pushed, popped at the end) while r0 to r4 run the
    /// channels; per pixel 14 instructions load the window's rows and widen them.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn single_run<const UNROLL: usize>(
        (input, in_w, stride): (*const i8, usize, usize),
        w: *const u32,
        out: *mut i8,
        out_end: *mut i8,
    ) {
        macro_rules! single_run_asm {
            ($($channel:literal),*) => {
                // SAFETY: the caller checked (`depthwise_single_run`) that every window's three
                // row words are readable input, that the table from `w` is a `SingleTable`
                // whose channels are a multiple of `UNROLL`, and that `out..out_end` is
                // writable and a whole number (at least one) of pixels' channels. Registers r0
                // to r4 are named (LDM needs a known order) and declared clobbered; five words
                // are pushed and popped, so the stack is used (no `nostack`).
                unsafe {
                    core::arch::asm!(
                    "push {{r0, r1, r2, r3, r4}}",
                    "3:",
                    // The window's top-left byte, the row distance, the stride, the table.
                    "ldm sp, {{r0, r1, r2, r3}}",
                    "ldr {e1}, [r0, r1]",
                    "ldr {e2}, [r0, r1, lsl #1]",
                    "ldr {e0}, [r0]",
                    "add r0, r0, r2",
                    "str r0, [sp]",
                    "mov {w}, r3",
                    "sxtb16 r1, {e0}, ror #8",
                    "sxtb16 {e0}, {e0}",
                    "sxtb16 r2, {e1}, ror #8",
                    "sxtb16 {e1}, {e1}",
                    "pkhbt {o01}, r1, r2, lsl #16",
                    "sxtb16 {o2}, {e2}, ror #8",
                    "sxtb16 {e2}, {e2}",
                    "2:",
                    $(
                    concat!("ldm {w}!, {{r0, r1, r2, r3, r4}} @ channel ", $channel),
                    "smlad r0, {e0}, r1, r0",
                    "smlad r0, {e1}, r2, r0",
                    "smlad r0, {e2}, r3, r0",
                    "smlad r0, {o01}, r4, r0",
                    "ldm {w}!, {{r1, r2, r3, r4}}",
                    "smlabb r0, {o2}, r1, r0",
                    "smmlar r1, r0, r2, r3",
                    "add r0, r1, r0, asr #31",
                    "asr r0, r0, r4",
                    "ssat r0, #8, r0",
                    "strb r0, [{out}], #1",
                    )*
                    "tst r4, #256",
                    "beq 2b",
                    "ldr r0, [sp, #16]",
                    "cmp {out}, r0",
                    "bne 3b",
                    "add sp, sp, #20",
                    e0 = out(reg) _,
                    e1 = out(reg) _,
                    e2 = out(reg) _,
                    o01 = out(reg) _,
                    o2 = out(reg) _,
                    w = out(reg) _,
                    out = inout(reg) out => _,
                    inout("r0") input => _,
                    inout("r1") in_w => _,
                    inout("r2") stride => _,
                    inout("r3") w => _,
                    inout("r4") out_end => _,
                    )
                }
            };
        }
        match UNROLL {
            8 => single_run_asm!("0", "1", "2", "3", "4", "5", "6", "7"),
            4 => single_run_asm!("0", "1", "2", "3"),
            2 => single_run_asm!("0", "1"),
            _ => single_run_asm!("0"),
        }
    }

    /// The `asm!` loop of [`super::depthwise_rows_out`]: four (`QUAD`) or two neighbouring
    /// output pixels of one row for every channel, from multiply-accumulate to output byte.
    /// Per channel: the [`super::ROWS6_WORDS`] table words from `w` (the six doubled weight
    /// words, the doubled start, multiplier, offset constant, right shift), its ring from `p`
    /// (ring words as in [`rows_dot`], word `k` at `p + 12k`; the next channel's `12 · RW`
    /// bytes on), its bytes at `out`, `out + stride`, .. (the next channel's one byte on); at
    /// a horizontal stride of 1 (`S2` false) the pixels read ring words 0 to 2 (pair `k` words
    /// `k`, `k + 1`), at 2 words 0 to 4 (pixel `k` words `k`, `k + 1`). Stops when `w` reaches
    /// `end`. SMLAD may set the sticky Q flag and the loop compares, so flags are not declared
    /// preserved.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn rows_wide_out<const S2: bool, const QUAD: bool, const RW: usize>(
        w: *const u32,
        p: *const u32,
        out: *mut i8,
        stride: usize,
        end: *const u32,
        rotation: usize,
    ) {
        // Requantization of the accumulators in place (`w01` the multiplier, `w12` the offset
        // constant, `x` a scratch register, then the right shift, the table pointer moving on
        // to the next channel), then the channel's bytes and the next channel's ring.
        macro_rules! wide_out_asm {
            ($($mac:expr),* ; quad) => {
                // SAFETY: the caller checked that the table from `w` to `end` holds whole
                // channels, that each channel's ring (from `p`, `12 · RW` bytes apart) has the
                // words the pixels read, word-aligned, and that every output byte stored
                // (four per channel from `out`, `stride` apart) is writable.
                unsafe {
                    core::arch::asm!(
                    "2:",
                    $($mac,)*
                    "add {p}, {p}, #{rs}",
                    "ldrd {w01}, {w12}, [{w}, #28]",
                    "smmlar {x}, {e0}, {w01}, {w12}",
                    "add {e0}, {x}, {e0}, asr #31",
                    "smmlar {x}, {o0}, {w01}, {w12}",
                    "add {o0}, {x}, {o0}, asr #31",
                    "smmlar {x}, {e1}, {w01}, {w12}",
                    "add {e1}, {x}, {e1}, asr #31",
                    "smmlar {x}, {o1}, {w01}, {w12}",
                    "add {o1}, {x}, {o1}, asr #31",
                    "ldr {x}, [{w}, #36]",
                    "add {w}, {w}, #40",
                    "asr {e0}, {e0}, {x}",
                    "asr {o0}, {o0}, {x}",
                    "asr {e1}, {e1}, {x}",
                    "asr {o1}, {o1}, {x}",
                    "ssat {e0}, #8, {e0}",
                    "ssat {o0}, #8, {o0}",
                    "ssat {e1}, #8, {e1}",
                    "ssat {o1}, #8, {o1}",
                    "add {x}, {ob}, {s}, lsl #1",
                    "strb {e1}, [{x}]",
                    "strb {o1}, [{x}, {s}]",
                    "strb {o0}, [{ob}, {s}]",
                    "strb {e0}, [{ob}], #1",
                    "cmp {w}, {end}",
                    "bne 2b",
                    w = inout(reg) w => _,
                    p = inout(reg) p => _,
                    ob = inout(reg) out => _,
                    s = in(reg) stride,
                    end = in(reg) end,
                    rs = const 12 * RW,
                    e0 = out(reg) _,
                    o0 = out(reg) _,
                    e1 = out(reg) _,
                    o1 = out(reg) _,
                    x = out(reg) _,
                    w01 = out(reg) _,
                    w12 = out(reg) _,
                    options(nostack),
                    )
                }
            };
            ($($mac:expr),* ; pair) => {
                // SAFETY: as above, two bytes per channel.
                unsafe {
                    core::arch::asm!(
                    "2:",
                    $($mac,)*
                    "add {p}, {p}, #{rs}",
                    "ldrd {w01}, {w12}, [{w}, #28]",
                    "smmlar {x}, {e0}, {w01}, {w12}",
                    "add {e0}, {x}, {e0}, asr #31",
                    "smmlar {x}, {o0}, {w01}, {w12}",
                    "add {o0}, {x}, {o0}, asr #31",
                    "ldr {x}, [{w}, #36]",
                    "add {w}, {w}, #40",
                    "asr {e0}, {e0}, {x}",
                    "asr {o0}, {o0}, {x}",
                    "ssat {e0}, #8, {e0}",
                    "ssat {o0}, #8, {o0}",
                    "strb {o0}, [{ob}, {s}]",
                    "strb {e0}, [{ob}], #1",
                    "cmp {w}, {end}",
                    "bne 2b",
                    w = inout(reg) w => _,
                    p = inout(reg) p => _,
                    ob = inout(reg) out => _,
                    s = in(reg) stride,
                    end = in(reg) end,
                    rs = const 12 * RW,
                    e0 = out(reg) _,
                    o0 = out(reg) _,
                    x = out(reg) _,
                    w01 = out(reg) _,
                    w12 = out(reg) _,
                    options(nostack),
                    )
                }
            };
        }
        // Stride 2, four pixels: `$a`..`$f` a filter row's slot in ring words 0 to 4, `$wo`
        // its weights' offset. The first row starts from the start value (in `o1`, whose own
        // first product comes last).
        macro_rules! s2_quad {
            ($a0:literal, $b0:literal, $c0:literal, $d0:literal, $f0:literal;
             $($a:literal, $b:literal, $c:literal, $d:literal, $f:literal, $wo:literal);*) => {
                wide_out_asm!(
                    "ldr {o1}, [{w}, #24]",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $a0, "]"),
                    "smlad {e0}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $b0, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $c0, "]"),
                    "smlabt {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $d0, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $f0, "]"),
                    "smlabt {o1}, {x}, {w12}, {o1}"
                    $(,
                    concat!("ldrd {w01}, {w12}, [{w}, #", $wo, "]"),
                    concat!("ldr {x}, [{p}, #", $a, "]"),
                    "smlad {e0}, {x}, {w01}, {e0}",
                    concat!("ldr {x}, [{p}, #", $b, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $c, "]"),
                    "smlabt {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {e1}",
                    concat!("ldr {x}, [{p}, #", $d, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $f, "]"),
                    "smlabt {o1}, {x}, {w12}, {o1}"
                    )*
                    ; quad
                )
            };
        }
        // Stride 2, two pixels: ring words 0 to 2 (start value in `o0`).
        macro_rules! s2_pair {
            ($a0:literal, $b0:literal, $c0:literal;
             $($a:literal, $b:literal, $c:literal, $wo:literal);*) => {
                wide_out_asm!(
                    "ldr {o0}, [{w}, #24]",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $a0, "]"),
                    "smlad {e0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $b0, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $c0, "]"),
                    "smlabt {o0}, {x}, {w12}, {o0}"
                    $(,
                    concat!("ldrd {w01}, {w12}, [{w}, #", $wo, "]"),
                    concat!("ldr {x}, [{p}, #", $a, "]"),
                    "smlad {e0}, {x}, {w01}, {e0}",
                    concat!("ldr {x}, [{p}, #", $b, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $c, "]"),
                    "smlabt {o0}, {x}, {w12}, {o0}"
                    )*
                    ; pair
                )
            };
        }
        // Stride 1, two pairs: ring words 0 to 2, as in [`rows_dot4_out`].
        macro_rules! s1_quad {
            ($a0:literal, $b0:literal, $c0:literal;
             $($a:literal, $b:literal, $c:literal, $wo:literal);*) => {
                wide_out_asm!(
                    "ldr {o1}, [{w}, #24]",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $a0, "]"),
                    "smlad {e0}, {x}, {w01}, {o1}",
                    "smlatb {o0}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $b0, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {o1}",
                    "smlatb {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $c0, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}"
                    $(,
                    concat!("ldrd {w01}, {w12}, [{w}, #", $wo, "]"),
                    concat!("ldr {x}, [{p}, #", $a, "]"),
                    "smlad {e0}, {x}, {w01}, {e0}",
                    "smlatb {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $b, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}",
                    "smlad {e1}, {x}, {w01}, {e1}",
                    "smlatb {o1}, {x}, {w01}, {o1}",
                    concat!("ldr {x}, [{p}, #", $c, "]"),
                    "smlabt {e1}, {x}, {w12}, {e1}",
                    "smlad {o1}, {x}, {w12}, {o1}"
                    )*
                    ; quad
                )
            };
        }
        // Stride 1, one pair: ring words 0 and 1 (start value in `o0`).
        macro_rules! s1_pair {
            ($a0:literal, $b0:literal;
             $($a:literal, $b:literal, $wo:literal);*) => {
                wide_out_asm!(
                    "ldr {o0}, [{w}, #24]",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $a0, "]"),
                    "smlad {e0}, {x}, {w01}, {o0}",
                    "smlatb {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $b0, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}"
                    $(,
                    concat!("ldrd {w01}, {w12}, [{w}, #", $wo, "]"),
                    concat!("ldr {x}, [{p}, #", $a, "]"),
                    "smlad {e0}, {x}, {w01}, {e0}",
                    "smlatb {o0}, {x}, {w01}, {o0}",
                    concat!("ldr {x}, [{p}, #", $b, "]"),
                    "smlabt {e0}, {x}, {w12}, {e0}",
                    "smlad {o0}, {x}, {w12}, {o0}"
                    )*
                    ; pair
                )
            };
        }
        match (S2, QUAD, rotation) {
            (true, true, 0) => s2_quad!(0, 12, 24, 36, 48;
                4, 16, 28, 40, 52, 8; 8, 20, 32, 44, 56, 16),
            (true, true, 1) => s2_quad!(4, 16, 28, 40, 52;
                8, 20, 32, 44, 56, 8; 0, 12, 24, 36, 48, 16),
            (true, true, _) => s2_quad!(8, 20, 32, 44, 56;
                0, 12, 24, 36, 48, 8; 4, 16, 28, 40, 52, 16),
            (true, false, 0) => s2_pair!(0, 12, 24; 4, 16, 28, 8; 8, 20, 32, 16),
            (true, false, 1) => s2_pair!(4, 16, 28; 8, 20, 32, 8; 0, 12, 24, 16),
            (true, false, _) => s2_pair!(8, 20, 32; 0, 12, 24, 8; 4, 16, 28, 16),
            (false, true, 0) => s1_quad!(0, 12, 24; 4, 16, 28, 8; 8, 20, 32, 16),
            (false, true, 1) => s1_quad!(4, 16, 28; 8, 20, 32, 8; 0, 12, 24, 16),
            (false, true, _) => s1_quad!(8, 20, 32; 0, 12, 24, 8; 4, 16, 28, 16),
            (false, false, 0) => s1_pair!(0, 12; 4, 16, 8; 8, 20, 16),
            (false, false, 1) => s1_pair!(4, 16; 8, 20, 8; 0, 12, 16),
            (false, false, _) => s1_pair!(8, 20; 0, 12, 8; 4, 16, 16),
        }
    }

    /// [`rows_dot6_out`] for rows of three pixels at a horizontal stride of 2
    /// ([`super::depthwise_rows_out_s2`]): `state` as there, each channel's ring read from
    /// words 0 to 3 (pixel `k`: taps 0 and 1 from word `k`, one SMLAD; tap 2 from the bottom
    /// of word `k + 1`, one SMLABT), the table as there.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn rows_dot3_s2_out(w: *const u32, rotation: usize, state: *mut u32) {
        // `$a`..`$d`: a filter row's slot in ring words 0 to 3, `$wo` its weights' offset.
        // The first filter row accumulates onto the start value (held in `a2`, whose own
        // first product comes last).
        macro_rules! rows_dot3_s2_out_asm {
            ($a0:literal, $b0:literal, $c0:literal, $d0:literal;
             $($a:literal, $b:literal, $c:literal, $d:literal, $wo:literal);*) => {
                // SAFETY: the caller checked that the table from `w` to the end in `state`
                // holds whole channels, that each channel's ring (12 words from its address)
                // is readable and word-aligned, and that every output byte the loop stores
                // (three per channel, from the first address in `state`) is writable.
                unsafe {
                    core::arch::asm!(
                    "2:",
                    "ldr {p}, [{q}, #8]",
                    "ldr {a2}, [{w}, #24]",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $a0, "]"),
                    "smlad {a0}, {x}, {w01}, {a2}",
                    concat!("ldr {x}, [{p}, #", $b0, "]"),
                    "smlabt {a0}, {x}, {w12}, {a0}",
                    "smlad {a1}, {x}, {w01}, {a2}",
                    concat!("ldr {x}, [{p}, #", $c0, "]"),
                    "smlabt {a1}, {x}, {w12}, {a1}",
                    "smlad {a2}, {x}, {w01}, {a2}",
                    concat!("ldr {x}, [{p}, #", $d0, "]"),
                    "smlabt {a2}, {x}, {w12}, {a2}",
                    $(
                    concat!("ldrd {w01}, {w12}, [{w}, #", $wo, "]"),
                    concat!("ldr {x}, [{p}, #", $a, "]"),
                    "smlad {a0}, {x}, {w01}, {a0}",
                    concat!("ldr {x}, [{p}, #", $b, "]"),
                    "smlabt {a0}, {x}, {w12}, {a0}",
                    "smlad {a1}, {x}, {w01}, {a1}",
                    concat!("ldr {x}, [{p}, #", $c, "]"),
                    "smlabt {a1}, {x}, {w12}, {a1}",
                    "smlad {a2}, {x}, {w01}, {a2}",
                    concat!("ldr {x}, [{p}, #", $d, "]"),
                    "smlabt {a2}, {x}, {w12}, {a2}",
                    )*
                    // The next channel's ring.
                    "ldr {x}, [{q}, #12]",
                    "add {x}, {p}, {x}",
                    "str {x}, [{q}, #8]",
                    // Requantization in place: `w01` the multiplier, `w12` the offset
                    // constant, `x` the right shift, `p` a scratch register.
                    "ldrd {w01}, {w12}, [{w}, #28]",
                    "ldr {x}, [{w}, #36]",
                    "add {w}, {w}, #40",
                    "smmlar {p}, {a0}, {w01}, {w12}",
                    "add {a0}, {p}, {a0}, asr #31",
                    "asr {a0}, {a0}, {x}",
                    "ssat {a0}, #8, {a0}",
                    "smmlar {p}, {a1}, {w01}, {w12}",
                    "add {a1}, {p}, {a1}, asr #31",
                    "asr {a1}, {a1}, {x}",
                    "ssat {a1}, #8, {a1}",
                    "smmlar {p}, {a2}, {w01}, {w12}",
                    "add {a2}, {p}, {a2}, asr #31",
                    "asr {a2}, {a2}, {x}",
                    "ssat {a2}, #8, {a2}",
                    // The bytes: `w01` the first one's address, `w12` the distance.
                    "ldrd {w01}, {w12}, [{q}]",
                    "strb {a0}, [{w01}]",
                    "strb {a1}, [{w01}, {w12}]",
                    "add {x}, {w01}, {w12}, lsl #1",
                    "strb {a2}, [{x}]",
                    "add {w01}, {w01}, #1",
                    "str {w01}, [{q}]",
                    "ldr {x}, [{q}, #16]",
                    "cmp {w}, {x}",
                    "bne 2b",
                    w = inout(reg) w => _,
                    q = in(reg) state,
                    p = out(reg) _,
                    a0 = out(reg) _,
                    a1 = out(reg) _,
                    a2 = out(reg) _,
                    x = out(reg) _,
                    w01 = out(reg) _,
                    w12 = out(reg) _,
                    options(nostack),
                    )
                }
            };
        }
        match rotation {
            0 => rows_dot3_s2_out_asm!(0, 12, 24, 36; 4, 16, 28, 40, 8; 8, 20, 32, 44, 16),
            1 => rows_dot3_s2_out_asm!(4, 16, 28, 40; 8, 20, 32, 44, 8; 0, 12, 24, 36, 16),
            _ => rows_dot3_s2_out_asm!(8, 20, 32, 44; 0, 12, 24, 36, 8; 4, 16, 28, 40, 16),
        }
    }

    /// The `asm!` loop of [`super::depthwise_rows_dot_s2`]: `pairs` (≥ 1) pairs of
    /// neighbouring stride-2 accumulators into `out` from the ring words at `ring` (three slots
    /// per word, word `k`'s at `ring + 12k`, filter row `ky` in slot `(rotation + ky) % 3`) and
    /// the eight words at `w`: per filter row `(w0, w1)` and `(w1, w2)`, then the start value
    /// twice. Pixel `k` reads words `k` and `k + 1`; each iteration carries the third word it
    /// loads per row (the next pair's first) in a register. Reads `ring`'s `3 · (2·pairs + 1)`
    /// words and `w`'s eight, writes `out`'s `2 · pairs` words; SMLAD may set the sticky Q flag
    /// and the loop compares, so flags are not declared preserved.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn rows_dot_s2(
        ring: *const u32,
        w: *const u32,
        rotation: usize,
        pairs: usize,
        out: *mut i32,
    ) {
        // The loop for one ring rotation: `$s0`, `$s1`, `$s2` are the byte offsets of filter
        // rows 0, 1, 2's slots within a word's three, `$t` the same plus 12 (word k + 1) and
        // `$u` plus 24 (word k + 2).
        macro_rules! rows_dot_s2_asm {
            ($ring:expr, $w:expr, $out:expr, $end:expr,
             $s0:literal, $t0:literal, $u0:literal, $s1:literal, $t1:literal, $u1:literal,
             $s2:literal, $t2:literal, $u2:literal) => {
                // SAFETY: the caller checked that `ring` has `3 · (2·pairs + 1)` readable words,
                // `w` eight, and `out` `2 · pairs` writable words, all word-aligned; the loop
                // stops when `out` reaches `end`, having read ring words up to `2 · pairs`.
                unsafe {
                    core::arch::asm!(
                    concat!("ldr {c0}, [{p}, #", $s0, "]"),
                    concat!("ldr {c1}, [{p}, #", $s1, "]"),
                    concat!("ldr {c2}, [{p}, #", $s2, "]"),
                    "2:",
                    "ldrd {e}, {o}, [{w}, #24]",
                    "ldrd {w01}, {w12}, [{w}]",
                    concat!("ldr {x}, [{p}, #", $t0, "]"),
                    "smlad {e}, {c0}, {w01}, {e}",
                    "smlabt {e}, {x}, {w12}, {e}",
                    "smlad {o}, {x}, {w01}, {o}",
                    concat!("ldr {c0}, [{p}, #", $u0, "]"),
                    "smlabt {o}, {c0}, {w12}, {o}",
                    "ldrd {w01}, {w12}, [{w}, #8]",
                    concat!("ldr {x}, [{p}, #", $t1, "]"),
                    "smlad {e}, {c1}, {w01}, {e}",
                    "smlabt {e}, {x}, {w12}, {e}",
                    "smlad {o}, {x}, {w01}, {o}",
                    concat!("ldr {c1}, [{p}, #", $u1, "]"),
                    "smlabt {o}, {c1}, {w12}, {o}",
                    "ldrd {w01}, {w12}, [{w}, #16]",
                    concat!("ldr {x}, [{p}, #", $t2, "]"),
                    "smlad {e}, {c2}, {w01}, {e}",
                    "smlabt {e}, {x}, {w12}, {e}",
                    "smlad {o}, {x}, {w01}, {o}",
                    concat!("ldr {c2}, [{p}, #", $u2, "]"),
                    "smlabt {o}, {c2}, {w12}, {o}",
                    "add {p}, {p}, #24",
                    "strd {e}, {o}, [{out}], #8",
                    "cmp {out}, {end}",
                    "bne 2b",
                    p = inout(reg) $ring => _,
                    out = inout(reg) $out => _,
                    end = in(reg) $end,
                    w = in(reg) $w,
                    e = out(reg) _,
                    o = out(reg) _,
                    x = out(reg) _,
                    c0 = out(reg) _,
                    c1 = out(reg) _,
                    c2 = out(reg) _,
                    w01 = out(reg) _,
                    w12 = out(reg) _,
                    options(nostack),
                    )
                }
            };
        }
        let end = out.wrapping_add(2 * pairs);
        match rotation {
            0 => rows_dot_s2_asm!(ring, w, out, end, 0, 12, 24, 4, 16, 28, 8, 20, 32),
            1 => rows_dot_s2_asm!(ring, w, out, end, 4, 16, 28, 8, 20, 32, 0, 12, 24),
            _ => rows_dot_s2_asm!(ring, w, out, end, 8, 20, 32, 0, 12, 24, 4, 16, 28),
        }
    }

    /// The `asm!` loop of [`super::conv2d_pointwise_small`]: every whole block of five pixels
    /// of a 1×1 convolution with `4 · G` input channels (`G` of 1 to 8), from the input
    /// bytes to the output bytes. `block` holds [`super::POINTWISE_SMALL_BLOCK`] words: the
    /// widened input of the current block (group `g` of pixel `k`, even and odd bytes as i16
    /// pairs, at words `(5g + k)·2` and `+1`), then at word `10·G` seven words the loop reads
    /// and updates: the first pixel's output byte of the next output channel, the distance
    /// between pixels' bytes (`out_c`), the table's end, `block` itself, the next block's
    /// input, the end of the whole blocks' input and the table's start. Per block the five
    /// pixels are widened (SXTB16; without `WIDEN` the caller widened the one block and
    /// the input position equals its end), then per output channel `table` walks over
    /// [`super::pointwise_small_words`] words: its doubled start value five times (one LDM
    /// fills the five accumulators and the first weight pair), its doubled weights as i16
    /// pairs, multiplier, offset constant and right shift; the accumulators are requantized in
    /// registers and stored as bytes. The registers are named (r0-r4 the accumulators, r5 and
    /// r8 a weight pair, r9-r11 input words, r12 the table, lr the block, passed in r0) so that LDM can fill
    /// several at once. Reads the input, the block and the table, writes the block and the
    /// output bytes; SMLAD may set the sticky Q flag and the loops compare, so flags are not
    /// declared preserved.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn pointwise_small5<const G: usize, const WIDEN: bool>(block: *mut u32) {
        // The multiply-accumulates of one group (its weight pair in r5 and r8): ten input
        // words, three at a time.
        macro_rules! group {
            () => {
                concat!(
                    "ldm lr!, {{r9, r10, r11}}\n",
                    "smlad r0, r9, r5, r0\n",
                    "smlad r0, r10, r8, r0\n",
                    "smlad r1, r11, r5, r1\n",
                    "ldm lr!, {{r9, r10, r11}}\n",
                    "smlad r1, r9, r8, r1\n",
                    "smlad r2, r10, r5, r2\n",
                    "smlad r2, r11, r8, r2\n",
                    "ldm lr!, {{r9, r10, r11}}\n",
                    "smlad r3, r9, r5, r3\n",
                    "smlad r3, r10, r8, r3\n",
                    "smlad r4, r11, r5, r4\n",
                    "ldr r9, [lr], #4\n",
                    "smlad r4, r9, r8, r4\n",
                )
            };
        }
        // Two groups (the first's weight pair in r5 and r8, the second's loaded on the way):
        // twenty input words, three at a time.
        macro_rules! group_pair {
            () => {
                concat!(
                    "ldm lr!, {{r9, r10, r11}}\n",
                    "smlad r0, r9, r5, r0\n",
                    "smlad r0, r10, r8, r0\n",
                    "smlad r1, r11, r5, r1\n",
                    "ldm lr!, {{r9, r10, r11}}\n",
                    "smlad r1, r9, r8, r1\n",
                    "smlad r2, r10, r5, r2\n",
                    "smlad r2, r11, r8, r2\n",
                    "ldm lr!, {{r9, r10, r11}}\n",
                    "smlad r3, r9, r5, r3\n",
                    "smlad r3, r10, r8, r3\n",
                    "smlad r4, r11, r5, r4\n",
                    "ldm lr!, {{r9, r10, r11}}\n",
                    "smlad r4, r9, r8, r4\n",
                    "ldrd r5, r8, [r12], #8\n",
                    "smlad r0, r10, r5, r0\n",
                    "smlad r0, r11, r8, r0\n",
                    "ldm lr!, {{r9, r10, r11}}\n",
                    "smlad r1, r9, r5, r1\n",
                    "smlad r1, r10, r8, r1\n",
                    "smlad r2, r11, r5, r2\n",
                    "ldm lr!, {{r9, r10, r11}}\n",
                    "smlad r2, r9, r8, r2\n",
                    "smlad r3, r10, r5, r3\n",
                    "smlad r3, r11, r8, r3\n",
                    "ldm lr!, {{r9, r10}}\n",
                    "smlad r4, r9, r5, r4\n",
                    "smlad r4, r10, r8, r4\n",
                )
            };
        }
        // The next weight pair.
        macro_rules! next_weights {
            () => {
                "ldrd r5, r8, [r12], #8\n"
            };
        }
        // One accumulator requantized in place: r5 the multiplier, r8 the offset constant,
        // r9 the right shift, r10 a scratch register.
        macro_rules! requantize_in_place {
            ($c:literal) => {
                concat!(
                    "smmlar r10, ",
                    $c,
                    ", r5, r8\n",
                    "add ",
                    $c,
                    ", r10, ",
                    $c,
                    ", asr #31\n",
                    "asr ",
                    $c,
                    ", ",
                    $c,
                    ", r9\n",
                    "ssat ",
                    $c,
                    ", #8, ",
                    $c,
                    "\n",
                )
            };
        }
        // One pixel's input words (LDR from r9: the input may be unaligned), widened into
        // the block: group 0 at lr, advancing lr to the next pixel, group `g` at `$at` =
        // `40·g − 8` bytes from there.
        macro_rules! widen {
            ($($at:literal),*) => {
                concat!(
                    "ldr r0, [r9], #4\n",
                    "sxtb16 r11, r0\n",
                    "sxtb16 r12, r0, ror #8\n",
                    "strd r11, r12, [lr], #8\n",
                    $(
                    "ldr r0, [r9], #4\n",
                    "sxtb16 r11, r0\n",
                    "sxtb16 r12, r0, ror #8\n",
                    "strd r11, r12, [lr, #", $at, "]\n",
                    )*
                )
            };
        }
        // The loop: `$s` the state's byte offset in the block (`40·G`), `$s16` and `$s24`
        // the same plus 16 and 24; `$widen` the block's widening (or nothing); `$macs` the
        // multiply-accumulates after the first weight pair.
        macro_rules! pointwise_small5_asm {
            ($s:literal, $s16:literal, $s24:literal; $widen:expr; $macs:expr) => {
                // SAFETY: the caller checked that the input holds the whole blocks up to the
                // end written in the block's state, `4·G` bytes per pixel; that `table` holds
                // whole channels of `pointwise_small_words(4·G)` words from its start to its
                // end written there; that `block` holds `POINTWISE_SMALL_BLOCK` aligned words;
                // and that every output byte the loop stores (five per channel and block,
                // `out_c` apart, from the address written there, the blocks `5·out_c` bytes
                // apart) is writable.
                unsafe {
                    core::arch::asm!(
                    // The block arrives in r0: a high register may only be a clobber in
                    // Thumb-1 code, which also compiles this (never running it).
                    "mov lr, r0",
                    concat!("ldr r9, [lr, #", $s16, "]"),
                    "1:",
                    $widen,
                    concat!("str r9, [lr, #", $s16, "]"),
                    concat!("ldr r12, [lr, #", $s24, "]"),
                    "2:",
                    "ldm r12!, {{r0, r1, r2, r3, r4, r5, r8}}",
                    $macs,
                    "ldm r12!, {{r5, r8, r9}}",
                    requantize_in_place!("r0"),
                    requantize_in_place!("r1"),
                    requantize_in_place!("r2"),
                    requantize_in_place!("r3"),
                    requantize_in_place!("r4"),
                    // The bytes (lr is at the state now): r5 the first one's address, r8 the
                    // distance, r10 the third and fifth's; r9 the table's end; lr back to the
                    // block's start.
                    "ldm lr, {{r5, r8, r9, lr}}",
                    "strb r1, [r5, r8]",
                    "add r10, r5, r8, lsl #1",
                    "strb r2, [r10]",
                    "strb r3, [r10, r8]",
                    "add r10, r10, r8, lsl #1",
                    "strb r4, [r10]",
                    "strb r0, [r5], #1",
                    concat!("str r5, [lr, #", $s, "]"),
                    "cmp r12, r9",
                    "bne 2b",
                    // The next block's first output byte: four pixels on.
                    "add r5, r5, r8, lsl #2",
                    concat!("str r5, [lr, #", $s, "]"),
                    concat!("ldrd r9, r10, [lr, #", $s16, "]"),
                    "cmp r9, r10",
                    "bne 1b",
                    inout("r0") block => _,
                    out("lr") _,
                    out("r1") _,
                    out("r2") _,
                    out("r3") _,
                    out("r4") _,
                    out("r5") _,
                    out("r8") _,
                    out("r9") _,
                    out("r10") _,
                    out("r11") _,
                    out("r12") _,
                    options(nostack),
                    )
                }
            };
        }
        // The five pixels' widening when `WIDEN` (lr back at the block's start after it),
        // else nothing (the caller widened the block).
        macro_rules! blocks {
            ($s:literal, $s16:literal, $s24:literal; [$($at:literal),*]; $macs:expr) => {
                if WIDEN {
                    pointwise_small5_asm!($s, $s16, $s24;
                        concat!(
                            widen!($($at),*), widen!($($at),*), widen!($($at),*),
                            widen!($($at),*), widen!($($at),*), "sub lr, lr, #40\n"
                        );
                        $macs)
                } else {
                    pointwise_small5_asm!($s, $s16, $s24; ""; $macs)
                }
            };
        }
        match G {
            1 => blocks!("40", "56", "64";
                []; group!()),
            2 => blocks!("80", "96", "104";
                ["32"]; group_pair!()),
            3 => blocks!("120", "136", "144";
                ["32", "72"];
                concat!(group_pair!(), next_weights!(), group!())),
            4 => blocks!("160", "176", "184";
                ["32", "72", "112"];
                concat!(group_pair!(), next_weights!(), group_pair!())),
            5 => blocks!("200", "216", "224";
                ["32", "72", "112", "152"];
                concat!(group_pair!(), next_weights!(), group_pair!(), next_weights!(), group!())),
            6 => blocks!("240", "256", "264";
                ["32", "72", "112", "152", "192"];
                concat!(group_pair!(), next_weights!(), group_pair!(), next_weights!(), group_pair!())),
            7 => blocks!("280", "296", "304";
                ["32", "72", "112", "152", "192", "232"];
                concat!(group_pair!(), next_weights!(), group_pair!(), next_weights!(), group_pair!(),
                    next_weights!(), group!())),
            _ => blocks!("320", "336", "344";
                ["32", "72", "112", "152", "192", "232", "272"];
                concat!(group_pair!(), next_weights!(), group_pair!(), next_weights!(), group_pair!(),
                    next_weights!(), group_pair!())),
        }
    }

    /// The `asm!` loop of [`super::conv2d_tile6`] over one block of `P` pixels (six, or four
    /// for a last block of at most four), every output channel. `state` holds
    /// [`super::TILE6_STATE_WORDS`] words: the block (its patches widened, group `g` of pixel
    /// `k`, even and odd bytes as i16 pairs, at words `(P·g + k)·2` and `+1`), the next
    /// channel's table entry and first output byte (both advanced here), the distance between
    /// pixels' bytes (`out_c`), the filter's end, a row's bytes (`4·G` for `G` groups) and
    /// the filter's start. `R` is `G mod 4`: the row's first `R` groups (four when `R` is 0)
    /// run before the loop, the first one's products by SMUAD (no clearing), then four groups
    /// per pass until the weight pointer reaches the row's end (`G − R ≥ 4` groups after the
    /// first ones: [`super::tile6_fits`]). Per output channel the row's weight words are
    /// widened (SXTB16) and multiplied into `P` accumulators; they are then requantized in
    /// registers with the channel's four table words (`2a + bias`, SMMLAR, sign correction,
    /// shift, SSAT) and stored as bytes.
    ///
    /// The six-pixel loop needs fourteen registers: r0-r5 the accumulators, r6 and r7 a widened weight
    /// word, r8-r11 two pixels' words (one LDM), r12 the weight pointer and lr the block
    /// pointer. r6 and r7 (the frame pointer in Thumb code) cannot be `asm!` operands, so the
    /// block saves them on the stack with `state` and the row's end, and restores them. Reads
    /// the state, the block, the table and the filter, writes the state and the output bytes;
    /// SMLAD may set the sticky Q flag and the loops compare, so flags are not declared
    /// preserved. One copy per `(P, R)` serves every layer (not inlined: about 1 KB of code).
    #[cfg(target_arch = "arm")]
    #[inline(never)]
    pub fn tile6<const P: usize, const R: usize>(state: *mut u32) {
        // One group of four input bytes for the six pixels: its weight word widened into r6
        // (even bytes) and r7 (odd), the pixels' words two pixels per LDM. `smuad` for a
        // row's first group (the accumulators start from its products).
        macro_rules! group {
            (smuad) => {
                concat!(
                    "ldr r7, [r12], #4\n",
                    "sxtb16 r6, r7\n",
                    "sxtb16 r7, r7, ror #8\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smuad r0, r8, r6\n",
                    "smlad r0, r9, r7, r0\n",
                    "smuad r1, r10, r6\n",
                    "smlad r1, r11, r7, r1\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smuad r2, r8, r6\n",
                    "smlad r2, r9, r7, r2\n",
                    "smuad r3, r10, r6\n",
                    "smlad r3, r11, r7, r3\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smuad r4, r8, r6\n",
                    "smlad r4, r9, r7, r4\n",
                    "smuad r5, r10, r6\n",
                    "smlad r5, r11, r7, r5\n",
                )
            };
            (smlad) => {
                concat!(
                    "ldr r7, [r12], #4\n",
                    "sxtb16 r6, r7\n",
                    "sxtb16 r7, r7, ror #8\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smlad r0, r8, r6, r0\n",
                    "smlad r0, r9, r7, r0\n",
                    "smlad r1, r10, r6, r1\n",
                    "smlad r1, r11, r7, r1\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smlad r2, r8, r6, r2\n",
                    "smlad r2, r9, r7, r2\n",
                    "smlad r3, r10, r6, r3\n",
                    "smlad r3, r11, r7, r3\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smlad r4, r8, r6, r4\n",
                    "smlad r4, r9, r7, r4\n",
                    "smlad r5, r10, r6, r5\n",
                    "smlad r5, r11, r7, r5\n",
                )
            };
            // The same over four pixels (r0-r3).
            (smuad4) => {
                concat!(
                    "ldr r7, [r12], #4\n",
                    "sxtb16 r6, r7\n",
                    "sxtb16 r7, r7, ror #8\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smuad r0, r8, r6\n",
                    "smlad r0, r9, r7, r0\n",
                    "smuad r1, r10, r6\n",
                    "smlad r1, r11, r7, r1\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smuad r2, r8, r6\n",
                    "smlad r2, r9, r7, r2\n",
                    "smuad r3, r10, r6\n",
                    "smlad r3, r11, r7, r3\n",
                )
            };
            (smlad4) => {
                concat!(
                    "ldr r7, [r12], #4\n",
                    "sxtb16 r6, r7\n",
                    "sxtb16 r7, r7, ror #8\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smlad r0, r8, r6, r0\n",
                    "smlad r0, r9, r7, r0\n",
                    "smlad r1, r10, r6, r1\n",
                    "smlad r1, r11, r7, r1\n",
                    "ldm lr!, {{r8, r9, r10, r11}}\n",
                    "smlad r2, r8, r6, r2\n",
                    "smlad r2, r9, r7, r2\n",
                    "smlad r3, r10, r6, r3\n",
                    "smlad r3, r11, r7, r3\n",
                )
            };
        }
        // One accumulator to its output value in place: r8 the doubled bias, r9 the
        // multiplier, r10 the offset constant, lr the right shift, r11 a scratch register.
        macro_rules! requantize_in_registers {
            ($c:literal) => {
                concat!(
                    "add ",
                    $c,
                    ", r8, ",
                    $c,
                    ", lsl #1\n",
                    "smmlar r11, ",
                    $c,
                    ", r9, r10\n",
                    "add ",
                    $c,
                    ", r11, ",
                    $c,
                    ", asr #31\n",
                    "asr ",
                    $c,
                    ", ",
                    $c,
                    ", lr\n",
                    "ssat ",
                    $c,
                    ", #8, ",
                    $c,
                    "\n",
                )
            };
        }
        // `$first` the row's first groups, `$g` one group, `$bytes` the requantization and
        // stores of the accumulators (r6 the state).
        macro_rules! tile6_asm {
            ($first:expr, $g:expr, $bytes:expr) => {
                // SAFETY: the caller checked that the block holds `G` groups of the `P`
                // pixels' words; that the table holds four words per output channel from
                // the address in the state; that the filter runs from its start to its end
                // written there, whole rows of `4·G` bytes; and that the `P·out_c` bytes from
                // the output address written there are writable. The stack holds four words
                // more while the block runs; r6 and r7 are restored before it ends.
                unsafe {
                    core::arch::asm!(
                    // The state arrives in r0: a high register may only be a clobber in
                    // Thumb-1 code, which also compiles this (never running it).
                    "push {{r0, r1, r6, r7}}",
                    "ldr r12, [r0, #24]",
                    "1:",
                    // The block's start, and this row's end at [sp, #4].
                    "ldr r0, [sp]",
                    "ldr lr, [r0]",
                    "ldr r1, [r0, #20]",
                    "add r1, r12, r1",
                    "str r1, [sp, #4]",
                    $first,
                    "2:",
                    $g,
                    $g,
                    $g,
                    $g,
                    "ldr r7, [sp, #4]",
                    "cmp r12, r7",
                    "bne 2b",
                    // The channel's table words, then the table on.
                    "ldr r6, [sp]",
                    "ldr r7, [r6, #4]",
                    "ldm r7!, {{r8, r9, r10, lr}}",
                    "str r7, [r6, #4]",
                    $bytes,
                    "add r7, r7, #1",
                    "str r7, [r6, #8]",
                    // The next channel, unless the filter's end is reached.
                    "ldr r7, [r6, #16]",
                    "cmp r12, r7",
                    "bne 1b",
                    "pop {{r0, r1, r6, r7}}",
                    inout("r0") state => _,
                    out("r1") _,
                    out("r2") _,
                    out("r3") _,
                    out("r4") _,
                    out("r5") _,
                    out("r8") _,
                    out("r9") _,
                    out("r10") _,
                    out("r11") _,
                    out("r12") _,
                    out("lr") _,
                    )
                }
            };
        }
        // The six pixels' bytes: r7 the first one's address, r8 the distance, r9 the fourth
        // to sixth's base.
        macro_rules! bytes6 {
            () => {
                concat!(
                    requantize_in_registers!("r0"),
                    requantize_in_registers!("r1"),
                    requantize_in_registers!("r2"),
                    requantize_in_registers!("r3"),
                    requantize_in_registers!("r4"),
                    requantize_in_registers!("r5"),
                    "ldrd r7, r8, [r6, #8]\n",
                    "strb r0, [r7]\n",
                    "strb r1, [r7, r8]\n",
                    "strb r2, [r7, r8, lsl #1]\n",
                    "add r9, r7, r8, lsl #2\n",
                    "strb r4, [r9]\n",
                    "strb r5, [r9, r8]\n",
                    "sub r9, r9, r8\n",
                    "strb r3, [r9]\n",
                )
            };
        }
        // The four pixels' bytes: r9 the third and fourth's base.
        macro_rules! bytes4 {
            () => {
                concat!(
                    requantize_in_registers!("r0"),
                    requantize_in_registers!("r1"),
                    requantize_in_registers!("r2"),
                    requantize_in_registers!("r3"),
                    "ldrd r7, r8, [r6, #8]\n",
                    "strb r0, [r7]\n",
                    "strb r1, [r7, r8]\n",
                    "add r9, r7, r8, lsl #1\n",
                    "strb r2, [r9]\n",
                    "strb r3, [r9, r8]\n",
                )
            };
        }
        match (P, R) {
            (4, 1) => tile6_asm!(group!(smuad4), group!(smlad4), bytes4!()),
            (4, 2) => tile6_asm!(
                concat!(group!(smuad4), group!(smlad4)),
                group!(smlad4),
                bytes4!()
            ),
            (4, 3) => tile6_asm!(
                concat!(group!(smuad4), group!(smlad4), group!(smlad4)),
                group!(smlad4),
                bytes4!()
            ),
            (4, _) => tile6_asm!(
                concat!(
                    group!(smuad4),
                    group!(smlad4),
                    group!(smlad4),
                    group!(smlad4)
                ),
                group!(smlad4),
                bytes4!()
            ),
            (_, 1) => tile6_asm!(group!(smuad), group!(smlad), bytes6!()),
            (_, 2) => tile6_asm!(
                concat!(group!(smuad), group!(smlad)),
                group!(smlad),
                bytes6!()
            ),
            (_, 3) => tile6_asm!(
                concat!(group!(smuad), group!(smlad), group!(smlad)),
                group!(smlad),
                bytes6!()
            ),
            _ => tile6_asm!(
                concat!(group!(smuad), group!(smlad), group!(smlad), group!(smlad)),
                group!(smlad),
                bytes6!()
            ),
        }
    }

    /// The `asm!` loop of [`super::patch_dot_tile`]: `groups` (≥ 1) weight words from `w`,
    /// `10 · groups` widened patch words from `x` (word-aligned), five accumulators. An odd
    /// first group runs alone, then two groups per iteration (LLVM does not unroll loops
    /// around `asm!`, so the unrolling is written out). Reads memory only; SMLAD may set the
    /// sticky Q flag and the loop compares, so flags are not declared preserved.
    #[cfg(target_arch = "arm")]
    #[inline(always)]
    pub fn patch_dot5(w: *const u8, x: *const u32, groups: usize, acc: &mut [i32; 5]) {
        let (mut w, mut x) = (w, x);
        if groups % 2 == 1 {
            // SAFETY: the caller checked that `w` has `groups` words and `x` `10 · groups`
            // aligned words; this block reads one group and advances both pointers past it.
            unsafe {
                core::arch::asm!(
                "ldr {wo}, [{w}], #4",
                "sxtb16 {we}, {wo}",
                "sxtb16 {wo}, {wo}, ror #8",
                "ldrd {x0}, {x1}, [{x}], #8",
                "smlad {c0}, {x0}, {we}, {c0}",
                "smlad {c0}, {x1}, {wo}, {c0}",
                "ldrd {x0}, {x1}, [{x}], #8",
                "smlad {c1}, {x0}, {we}, {c1}",
                "smlad {c1}, {x1}, {wo}, {c1}",
                "ldrd {x0}, {x1}, [{x}], #8",
                "smlad {c2}, {x0}, {we}, {c2}",
                "smlad {c2}, {x1}, {wo}, {c2}",
                "ldrd {x0}, {x1}, [{x}], #8",
                "smlad {c3}, {x0}, {we}, {c3}",
                "smlad {c3}, {x1}, {wo}, {c3}",
                "ldrd {x0}, {x1}, [{x}], #8",
                "smlad {c4}, {x0}, {we}, {c4}",
                "smlad {c4}, {x1}, {wo}, {c4}",
                w = inout(reg) w,
                x = inout(reg) x,
                we = out(reg) _,
                wo = out(reg) _,
                x0 = out(reg) _,
                x1 = out(reg) _,
                c0 = inout(reg) acc[0],
                c1 = inout(reg) acc[1],
                c2 = inout(reg) acc[2],
                c3 = inout(reg) acc[3],
                c4 = inout(reg) acc[4],
                options(nostack, readonly),
                    )
            };
        }
        let pairs = groups / 2;
        if pairs == 0 {
            return;
        }
        let end = x.wrapping_add(pairs * 20);
        // SAFETY: as above; the loop reads `pairs` pairs of groups, stopping when `x` reaches
        // `end`, the end of the patches it was given.
        unsafe {
            core::arch::asm!(
            "2:",
            "ldr {wo}, [{w}], #4",
            "sxtb16 {we}, {wo}",
            "sxtb16 {wo}, {wo}, ror #8",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c0}, {x0}, {we}, {c0}",
            "smlad {c0}, {x1}, {wo}, {c0}",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c1}, {x0}, {we}, {c1}",
            "smlad {c1}, {x1}, {wo}, {c1}",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c2}, {x0}, {we}, {c2}",
            "smlad {c2}, {x1}, {wo}, {c2}",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c3}, {x0}, {we}, {c3}",
            "smlad {c3}, {x1}, {wo}, {c3}",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c4}, {x0}, {we}, {c4}",
            "smlad {c4}, {x1}, {wo}, {c4}",
            "ldr {wo}, [{w}], #4",
            "sxtb16 {we}, {wo}",
            "sxtb16 {wo}, {wo}, ror #8",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c0}, {x0}, {we}, {c0}",
            "smlad {c0}, {x1}, {wo}, {c0}",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c1}, {x0}, {we}, {c1}",
            "smlad {c1}, {x1}, {wo}, {c1}",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c2}, {x0}, {we}, {c2}",
            "smlad {c2}, {x1}, {wo}, {c2}",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c3}, {x0}, {we}, {c3}",
            "smlad {c3}, {x1}, {wo}, {c3}",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {c4}, {x0}, {we}, {c4}",
            "smlad {c4}, {x1}, {wo}, {c4}",
            "cmp {x}, {end}",
            "bne 2b",
            w = inout(reg) w => _,
            x = inout(reg) x => _,
            we = out(reg) _,
            wo = out(reg) _,
            x0 = out(reg) _,
            x1 = out(reg) _,
            c0 = inout(reg) acc[0],
            c1 = inout(reg) acc[1],
            c2 = inout(reg) acc[2],
            c3 = inout(reg) acc[3],
            c4 = inout(reg) acc[4],
            end = in(reg) end,
            options(nostack, readonly),
            )
        };
    }
}

/// The reduction of one filter row over the patches of [`TILE_PIXELS`] output pixels:
/// `acc[k] += Σ_g smlad(patch[g][k] pairs, widened filter word g)`, as
/// [`patch_dot_portable`] computes it. On Arm with the DSP extension it is one `asm!` loop
/// whose twelve operands (five accumulators, two widened weight halves, a patch pair, three
/// pointers) stay in the 12 registers `asm!` may use in Thumb code for the whole row, two
/// weight words per iteration: 38 instructions per 40 MACs. `filter` holds `groups` words (4 bytes each, any alignment: LDR
/// allows unaligned words on ARMv7-M/ARMv8-M Mainline); `patches` holds `2 · TILE_PIXELS`
/// widened words per group. Shorter slices than that take the portable path.
#[inline(always)]
pub fn patch_dot_tile(filter: &[u8], patches: &[u32], acc: &mut [i32; TILE_PIXELS]) {
    #[cfg(target_arch = "arm")]
    {
        let groups = filter.len() / 4;
        if groups > 0 && patches.len() >= groups * 2 * TILE_PIXELS {
            dsp::patch_dot5(filter.as_ptr(), patches.as_ptr(), groups, acc);
            return;
        }
    }
    patch_dot_portable(filter, patches, acc)
}

/// The multiply-accumulates of one output row and channel of
/// [`super::depthwise_conv2d_rows`]: for each pair `k` of `out`, from the ring words of
/// channel `ring` (word `k` of slot `j` at `3k + j`, filter row `ky` in slot
/// `(rotation + ky) % 3`) and the weights `w` (per filter row, `(w0, w1)` and `(w1, w2)` as
/// i16 pairs), `out[2k]` and `out[2k + 1]` the accumulators (as words) of `even`, the window at word `k`
/// (taps 0, 1 from word `k`, tap 2 from the bottom of word `k + 1`) and `odd` the window one
/// column on (tap 0 from the top of word `k`, taps 1, 2 from word `k + 1`), both from `start`.
/// On Arm with the DSP extension it is an `asm!` loop over two pairs at a time, 41
/// instructions per four pixels (36 MACs: the middle ring word of each filter row is loaded
/// once for both pairs), and one over a pair at a time (25 instructions) for what is left;
/// three pairs (rows of five or six pixels) are one straight pass of 54 instructions. `ring`
/// needs `3 · (pairs + 1)` words, else the portable path runs.
#[inline(always)]
pub fn depthwise_rows_dot(
    ring: &[u32],
    w: &[u32; 6],
    rotation: usize,
    start: i32,
    out: &mut [u32],
) {
    #[cfg(target_arch = "arm")]
    {
        let pairs = out.len() / 2;
        if pairs > 0 && ring.len() >= 3 * (pairs + 1) {
            let (ring, w, out) = (ring.as_ptr(), w.as_ptr(), out.as_mut_ptr() as *mut i32);
            dsp::rows_dot(ring, w, rotation, start, pairs, out);
            return;
        }
    }
    depthwise_rows_dot_portable(ring, w, rotation, start, out)
}

/// [`depthwise_rows_dot`] in portable Rust.
#[inline(always)]
pub fn depthwise_rows_dot_portable(
    ring: &[u32],
    w: &[u32; 6],
    rotation: usize,
    start: i32,
    out: &mut [u32],
) {
    for (k, acc) in out.chunks_exact_mut(2).enumerate() {
        let (mut even, mut odd) = (start, start);
        for ky in 0..3 {
            let (w01, w12) = (w[2 * ky], w[2 * ky + 1]);
            let j = (rotation + ky) % 3;
            let x0 = ring.get(3 * k + j).copied().unwrap_or(0);
            let x2 = ring.get(3 * k + 3 + j).copied().unwrap_or(0);
            even = dsp::smlabt(x2, w12, dsp::smlad(x0, w01, even));
            odd = dsp::smlad(x2, w12, dsp::smlatb(x0, w01, odd));
        }
        acc[0] = even as u32;
        acc[1] = odd as u32;
    }
}

/// Table words per channel of [`depthwise_rows_out6`]: the six weight words of
/// [`depthwise_rows_dot`] (doubled), the start value (the folded bias, doubled), the
/// multiplier, the offset constant of [`super::small_offset_split`] and the right shift.
pub const ROWS6_WORDS: usize = 10;

/// One output row of three to six pixels (two or three pairs, stride 1) of
/// [`super::depthwise_conv2d_rows6`] for every channel, from multiply-accumulate to output
/// byte: per channel `c` (its [`ROWS6_WORDS`] table words, its ring from word `c ·
/// ring_words`, laid out as in [`depthwise_rows_dot`]), each accumulator of
/// [`depthwise_rows_dot`] requantized as `(SMMLAR(acc, m, k) + [acc < 0]) >> right`,
/// saturated to int8 and stored at `out[first + c + ox · stride]`. On Arm with the DSP
/// extension it is one `asm!` loop over the channels (per channel 54 multiply-accumulate
/// instructions for three pairs, 36 for two, four per pixel to requantize in registers, the
/// accumulators never stored); a table of whole channels, rings of at least `3 · (pairs +
/// 1)` words and every output byte in `out` are needed, else (or with another width) the
/// portable path runs.
#[inline(always)]
pub fn depthwise_rows_out6(
    ring: &[u32],
    ring_words: usize,
    table: &[u32],
    rotation: usize,
    out: &mut [i8],
    (first, stride, pixels): (usize, usize, usize),
) {
    #[cfg(target_arch = "arm")]
    {
        let channels = table.len() / ROWS6_WORDS;
        let fits = channels > 0
            && table.len() == ROWS6_WORDS * channels
            && ring_words >= 9
            && ring.len() >= (channels - 1) * ring_words + 3 * (pixels.div_ceil(2) + 1)
            && first + (pixels.max(1) - 1) * stride + channels <= out.len();
        if fits && (3..=6).contains(&pixels) {
            let w = table.as_ptr();
            let mut state = [
                out.as_mut_ptr().wrapping_add(first) as u32,
                stride as u32,
                ring.as_ptr() as u32,
                (4 * ring_words) as u32,
                w.wrapping_add(table.len()) as u32,
            ];
            let state = state.as_mut_ptr();
            match pixels {
                6 => dsp::rows_dot6_out::<true>(w, rotation, state),
                5 => dsp::rows_dot6_out::<false>(w, rotation, state),
                4 => dsp::rows_dot4_out::<true>(w, rotation, state),
                _ => dsp::rows_dot4_out::<false>(w, rotation, state),
            }
            return;
        }
    }
    depthwise_rows_out6_portable(
        ring,
        ring_words,
        table,
        rotation,
        out,
        (first, stride, pixels),
    )
}

/// [`depthwise_rows_out6`] in portable Rust (rows of up to six pixels).
#[inline(always)]
pub fn depthwise_rows_out6_portable(
    ring: &[u32],
    ring_words: usize,
    table: &[u32],
    rotation: usize,
    out: &mut [i8],
    (first, stride, pixels): (usize, usize, usize),
) {
    for (c, t) in table.chunks_exact(ROWS6_WORDS).enumerate() {
        let Some(w) = t.get(..6).and_then(|w| <&[u32; 6]>::try_from(w).ok()) else {
            return;
        };
        let word = |i: usize| t.get(i).copied().unwrap_or(0) as i32;
        let (start, m, k, right) = (word(6), word(7), word(8), word(9));
        let ring_c = ring.get(c * ring_words..).unwrap_or(&[]);
        let mut accs = [0u32; 6];
        let used = (2 * pixels.div_ceil(2)).min(6);
        if let Some(a) = accs.get_mut(..used) {
            depthwise_rows_dot_portable(ring_c, w, rotation, start, a);
        }
        for (ox, &acc) in accs.iter().take(pixels).enumerate() {
            let acc = acc as i32;
            let biased = dsp::smmlar(acc, m, k);
            let v = (biased + (acc >> 31)) >> (right & 31);
            if let Some(o) = out.get_mut(first + c + ox * stride) {
                *o = v.clamp(-128, 127) as i8;
            }
        }
    }
}

/// Table words per output channel of [`depthwise_single_out`] and
/// [`super::depthwise_conv2d_single`]: the start value (the folded bias), the weights as i16
/// pairs `(w00, w02)`, `(w10, w12)`, `(w20, w22)`, `(w01, w11)` and `(w21, 0)` (`wYX` the tap
/// of window row Y, column X; weights and start doubled when the layer requantizes fast),
/// the multiplier, the offset constant of [`super::small_offset_constant`] and the right
/// shift (a signed byte; bit 8 set on the last channel only, [`dsp::single_out`]'s loop end).
pub const SINGLE_WORDS: usize = 9;

/// The right-shift word of [`SINGLE_WORDS`]: `right` as a signed byte, bit 8 set when `last`.
#[inline(always)]
pub fn single_shift_word(right: i32, last: bool) -> u32 {
    (right as u8 as u32) | (u32::from(last) << 8)
}

/// The right shift held by a [`single_shift_word`].
#[inline(always)]
pub fn single_shift(word: u32) -> i32 {
    word as u8 as i8 as i32
}

/// A table of [`SINGLE_WORDS`] words per channel checked for [`dsp::single_out`]: whole
/// channels, the loop-end bit on the last one's shift word and on no other.
#[derive(Clone, Copy)]
pub struct SingleTable<'a> {
    words: &'a [u32],
    channels: usize,
}

impl<'a> SingleTable<'a> {
    /// The first `channels` channels of `table`, when they are there and only the last one
    /// ends the loop.
    #[inline(always)]
    pub fn new(table: &'a [u32], channels: usize) -> Option<Self> {
        let words = table.get(..SINGLE_WORDS * channels)?;
        let mut ends = words
            .chunks_exact(SINGLE_WORDS)
            .map(|t| t.get(SINGLE_WORDS - 1).is_some_and(|&r| r & 0x100 != 0));
        let last = ends.next_back()?;
        (last && !ends.any(|e| e)).then_some(Self { words, channels })
    }

    /// The number of output channels.
    #[inline(always)]
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The checked words.
    #[inline(always)]
    pub fn words(&self) -> &'a [u32] {
        self.words
    }
}

/// One output pixel of [`super::depthwise_conv2d_single`] for every channel, requantized
/// fast over the whole int8 range: from the window's row words `rows` (taps 0 to 2 in bytes
/// 0 to 2; byte 3 is ignored), per channel of `table` (doubled weights and start) the
/// accumulator `acc = 2·Σ`, then `(SMMLAR(acc, m, k) + [acc < 0]) >> right` saturated to int8
/// into `out[c]`. On Arm with the DSP extension it is one `asm!` block (the window widened
/// once, then 12 instructions per channel and 2 per loop of one, two, four or eight channels); an
/// `out` shorter than the channels takes the portable path.
#[inline(always)]
pub fn depthwise_single_out(rows: [u32; 3], table: &SingleTable, out: &mut [i8]) {
    #[cfg(target_arch = "arm")]
    if out.len() >= table.channels {
        let (w, o) = (table.words.as_ptr(), out.as_mut_ptr());
        if table.channels % 8 == 0 {
            dsp::single_out::<8>(rows, w, o);
        } else if table.channels % 4 == 0 {
            dsp::single_out::<4>(rows, w, o);
        } else if table.channels % 2 == 0 {
            dsp::single_out::<2>(rows, w, o);
        } else {
            dsp::single_out::<1>(rows, w, o);
        }
        return;
    }
    let words = table.words.get(..SINGLE_WORDS * table.channels);
    depthwise_single_out_portable(rows, words.unwrap_or(&[]), out)
}

/// [`depthwise_single_out`] in portable Rust (the same instructions, one at a time).
#[inline(always)]
pub fn depthwise_single_out_portable(rows: [u32; 3], table: &[u32], out: &mut [i8]) {
    for (o, (acc, m, k, right)) in out.iter_mut().zip(depthwise_single_accs(rows, table)) {
        let biased = dsp::smmlar(acc, m, k);
        let v = (biased + (acc >> 31)) >> (right & 31);
        *o = v.clamp(-128, 127) as i8;
    }
}

/// The multiply-accumulates of one output pixel of [`super::depthwise_conv2d_single`] in
/// portable Rust, from its window's three row words (taps 0-2 and a byte past them): per
/// channel of `table` ([`SINGLE_WORDS`] words each) its accumulator, multiplier, offset
/// constant and right shift, for the caller to requantize.
#[inline(always)]
pub fn depthwise_single_accs(
    rows: [u32; 3],
    table: &[u32],
) -> impl Iterator<Item = (i32, i32, i32, i32)> + '_ {
    let [r0, r1, r2] = rows;
    let (e0, e1, e2) = (dsp::sxtb16(r0), dsp::sxtb16(r1), dsp::sxtb16(r2));
    let (o0, o1, o2) = (
        dsp::sxtb16_ror8(r0),
        dsp::sxtb16_ror8(r1),
        dsp::sxtb16_ror8(r2),
    );
    // PKHBT: tap 1 of row 0 below, tap 1 of row 1 above.
    let o01 = (o0 & 0xffff) | (o1 << 16);
    table.chunks_exact(SINGLE_WORDS).map(move |t| {
        let (start, w, m, k, right) = match *t {
            [start, w0, w1, w2, w01, w21, m, k, right] => {
                (start, [w0, w1, w2, w01, w21], m, k, right)
            }
            _ => (0, [0; 5], 0, 0, 0),
        };
        let mut acc = dsp::smlad(e0, w[0], start as i32);
        acc = dsp::smlad(e1, w[1], acc);
        acc = dsp::smlad(e2, w[2], acc);
        acc = dsp::smlad(o01, w[3], acc);
        acc = dsp::smlabb(o2, w[4], acc);
        (acc, m as i32, k as i32, single_shift(right))
    })
}

/// One output row of an even number of pixels at a horizontal stride of 1 or 2 (`stride_w`)
/// of [`super::depthwise_conv2d_rows_out`] for every channel, from multiply-accumulate to
/// output byte: per channel `c` (its [`ROWS6_WORDS`] table words as in
/// [`depthwise_rows_out6`], its ring from word `c · 3 · RW`, laid out as in
/// [`depthwise_rows_dot`]), pixel `ox`'s accumulator of [`depthwise_rows_dot`] (stride 1) or
/// [`depthwise_rows_dot_s2`] (stride 2) requantized as `(SMMLAR(acc, m, k) + [acc < 0]) >>
/// right`, saturated to int8 and stored at `out[first + c + ox · stride]`. On Arm with the
/// DSP extension it is one `asm!` loop over the channels per four pixels (then per two), the
/// accumulators requantized in registers and never stored: per channel and four pixels 64
/// instructions at stride 1 (36 MACs), 70 at stride 2. A table of whole channels, rings of
/// the words the pixels read, every output byte in `out` and `12 · RW` below 4096 are needed,
/// else (or with an odd width) the portable path runs.
#[inline(always)]
pub fn depthwise_rows_out<const RW: usize>(
    ring: &[u32],
    table: &[u32],
    rotation: usize,
    stride_w: usize,
    out: &mut [i8],
    (first, stride, pixels): (usize, usize, usize),
) {
    #[cfg(target_arch = "arm")]
    {
        let channels = table.len() / ROWS6_WORDS;
        let words = if stride_w == 1 {
            pixels / 2 + 1
        } else {
            pixels + 1
        };
        let fits = channels > 0
            && table.len() == ROWS6_WORDS * channels
            && pixels >= 2
            && pixels.is_multiple_of(2)
            && (stride_w == 1 || stride_w == 2)
            && words <= RW
            && 12 * RW < 4096
            && ring.len() >= (channels - 1) * 3 * RW + 3 * words
            && first + (pixels - 1) * stride + channels <= out.len();
        if fits {
            let w = table.as_ptr();
            let end = w.wrapping_add(table.len());
            let s2 = stride_w == 2;
            // Ring words per pass of four pixels, and to the last pair.
            let step = if s2 { 4 } else { 2 };
            let quads = pixels / 4;
            for q in 0..quads {
                let p = ring.as_ptr().wrapping_add(3 * step * q);
                let o = out.as_mut_ptr().wrapping_add(first + 4 * q * stride);
                if s2 {
                    dsp::rows_wide_out::<true, true, RW>(w, p, o, stride, end, rotation);
                } else {
                    dsp::rows_wide_out::<false, true, RW>(w, p, o, stride, end, rotation);
                }
            }
            if pixels % 4 == 2 {
                let p = ring.as_ptr().wrapping_add(3 * step * quads);
                let o = out.as_mut_ptr().wrapping_add(first + 4 * quads * stride);
                if s2 {
                    dsp::rows_wide_out::<true, false, RW>(w, p, o, stride, end, rotation);
                } else {
                    dsp::rows_wide_out::<false, false, RW>(w, p, o, stride, end, rotation);
                }
            }
            return;
        }
    }
    depthwise_rows_out_portable::<RW>(
        ring,
        table,
        rotation,
        stride_w,
        out,
        (first, stride, pixels),
    )
}

/// [`depthwise_rows_out`] in portable Rust (any width).
#[inline(always)]
pub fn depthwise_rows_out_portable<const RW: usize>(
    ring: &[u32],
    table: &[u32],
    rotation: usize,
    stride_w: usize,
    out: &mut [i8],
    (first, stride, pixels): (usize, usize, usize),
) {
    for (c, t) in table.chunks_exact(ROWS6_WORDS).enumerate() {
        let Some(w) = t.get(..6).and_then(|w| <&[u32; 6]>::try_from(w).ok()) else {
            return;
        };
        let word = |i: usize| t.get(i).copied().unwrap_or(0) as i32;
        let (start, m, k, right) = (word(6), word(7), word(8), word(9));
        let ring_c = ring.get(c * 3 * RW..).unwrap_or(&[]);
        for ox in 0..pixels {
            let mut accs = [0u32; 2];
            let acc = if stride_w == 1 {
                let words = ring_c.get(3 * (ox / 2)..).unwrap_or(&[]);
                depthwise_rows_dot_portable(words, w, rotation, start, &mut accs);
                accs.get(ox % 2).copied().unwrap_or(0)
            } else {
                let words = ring_c.get(3 * ox..).unwrap_or(&[]);
                depthwise_rows_dot_s2_portable(words, w, rotation, start, &mut accs[..1]);
                accs[0]
            } as i32;
            let biased = dsp::smmlar(acc, m, k);
            let v = (biased + (acc >> 31)) >> (right & 31);
            if let Some(o) = out.get_mut(first + c + ox * stride) {
                *o = v.clamp(-128, 127) as i8;
            }
        }
    }
}

/// [`depthwise_rows_out6`] at a horizontal stride of 2 (the same table; each channel's ring
/// laid out as in [`depthwise_rows_dot_s2`]): on Arm with the DSP extension rows of three
/// pixels go through one `asm!` loop (per channel 18 multiply-accumulate instructions, four
/// per pixel to requantize in registers); a table of whole channels, rings of at least 12
/// words and every output byte in `out` are needed, else (or with another width) the
/// portable path runs.
#[inline(always)]
pub fn depthwise_rows_out_s2(
    ring: &[u32],
    ring_words: usize,
    table: &[u32],
    rotation: usize,
    out: &mut [i8],
    (first, stride, pixels): (usize, usize, usize),
) {
    #[cfg(target_arch = "arm")]
    {
        let channels = table.len() / ROWS6_WORDS;
        let fits = channels > 0
            && table.len() == ROWS6_WORDS * channels
            && ring_words >= 12
            && ring.len() >= (channels - 1) * ring_words + 12
            && first + 2 * stride + channels <= out.len();
        if fits && pixels == 3 {
            let w = table.as_ptr();
            let mut state = [
                out.as_mut_ptr().wrapping_add(first) as u32,
                stride as u32,
                ring.as_ptr() as u32,
                (4 * ring_words) as u32,
                w.wrapping_add(table.len()) as u32,
            ];
            dsp::rows_dot3_s2_out(w, rotation, state.as_mut_ptr());
            return;
        }
    }
    depthwise_rows_out_s2_portable(
        ring,
        ring_words,
        table,
        rotation,
        out,
        (first, stride, pixels),
    )
}

/// [`depthwise_rows_out_s2`] in portable Rust (rows of up to six pixels).
#[inline(always)]
pub fn depthwise_rows_out_s2_portable(
    ring: &[u32],
    ring_words: usize,
    table: &[u32],
    rotation: usize,
    out: &mut [i8],
    (first, stride, pixels): (usize, usize, usize),
) {
    for (c, t) in table.chunks_exact(ROWS6_WORDS).enumerate() {
        let Some(w) = t.get(..6).and_then(|w| <&[u32; 6]>::try_from(w).ok()) else {
            return;
        };
        let word = |i: usize| t.get(i).copied().unwrap_or(0) as i32;
        let (start, m, k, right) = (word(6), word(7), word(8), word(9));
        let ring_c = ring.get(c * ring_words..).unwrap_or(&[]);
        let mut accs = [0u32; 6];
        if let Some(a) = accs.get_mut(..pixels.min(6)) {
            depthwise_rows_dot_s2_portable(ring_c, w, rotation, start, a);
        }
        for (ox, &acc) in accs.iter().take(pixels).enumerate() {
            let acc = acc as i32;
            let biased = dsp::smmlar(acc, m, k);
            let v = (biased + (acc >> 31)) >> (right & 31);
            if let Some(o) = out.get_mut(first + c + ox * stride) {
                *o = v.clamp(-128, 127) as i8;
            }
        }
    }
}

/// The multiply-accumulates of one output row and channel of
/// [`super::depthwise_conv2d_rows`] at a horizontal stride of 2: for each pixel `k` of `out`,
/// the window at ring word `k` (taps 0, 1 from word `k`, tap 2 from the bottom of word
/// `k + 1`; words laid out as in [`depthwise_rows_dot`]), from `start`. On Arm with the DSP
/// extension pairs of pixels go through one `asm!` loop, 26 instructions per pair (18 MACs),
/// and an odd last pixel through the portable path; `ring` needs `3 · (out.len() + 1)` words,
/// else the portable path runs.
#[inline(always)]
pub fn depthwise_rows_dot_s2(
    ring: &[u32],
    w: &[u32; 6],
    rotation: usize,
    start: i32,
    out: &mut [u32],
) {
    #[cfg(target_arch = "arm")]
    {
        let pairs = out.len() / 2;
        if pairs > 0 && ring.len() >= 3 * (out.len() + 1) {
            let s = start as u32;
            let wk = [w[0], w[1], w[2], w[3], w[4], w[5], s, s];
            let (head, tail) = out.split_at_mut(2 * pairs);
            let head_ptr = head.as_mut_ptr() as *mut i32;
            dsp::rows_dot_s2(ring.as_ptr(), wk.as_ptr(), rotation, pairs, head_ptr);
            let rest = ring.get(6 * pairs..).unwrap_or(&[]);
            depthwise_rows_dot_s2_portable(rest, w, rotation, start, tail);
            return;
        }
    }
    depthwise_rows_dot_s2_portable(ring, w, rotation, start, out)
}

/// [`depthwise_rows_dot_s2`] in portable Rust.
#[inline(always)]
pub fn depthwise_rows_dot_s2_portable(
    ring: &[u32],
    w: &[u32; 6],
    rotation: usize,
    start: i32,
    out: &mut [u32],
) {
    for (k, acc) in out.iter_mut().enumerate() {
        let mut a = start;
        for ky in 0..3 {
            let j = (rotation + ky) % 3;
            let x0 = ring.get(3 * k + j).copied().unwrap_or(0);
            let x2 = ring.get(3 * k + 3 + j).copied().unwrap_or(0);
            a = dsp::smlabt(x2, w[2 * ky + 1], dsp::smlad(x0, w[2 * ky], a));
        }
        *acc = a as u32;
    }
}

/// Output pixels per tile of [`patch_dot_thumb1`].
pub const THUMB1_PIXELS: usize = 4;

/// The reduction of one filter row over the patches of [`THUMB1_PIXELS`] output pixels, for
/// cores without DSP (Cortex-M0+): `acc[p] += Σ_k (filter[k] as i8) · (patches[4k + p] as u8)`
/// over `k < filter.len()` (patch bytes unsigned: the caller stores them offset by 128). On Arm
/// it is one `asm!` loop of eight taps per iteration (then four): per tap LDRB + SXTB of the weight, then
/// per pixel LDRB (immediate offset, no sign extension), MULS and an ADD into an accumulator
/// kept in a high register (r8, r10, r11, r12), 112 instructions per 32 MACs; LLVM spills
/// those accumulators with Thumb-1's 7 free low registers. `filter.len()` must be a multiple
/// of 4 and `patches` hold `4 · filter.len()` bytes, else the portable path runs.
#[inline(always)]
#[allow(unsafe_code)]
pub fn patch_dot_thumb1(filter: &[u8], patches: &[i8], acc: &mut [i32; THUMB1_PIXELS]) {
    #[cfg(target_arch = "arm")]
    {
        let n = filter.len();
        if n > 0 && n % 4 == 0 && patches.len() >= 4 * n {
            let start = filter.as_ptr();
            // Eight taps per iteration up to `end8`, then four more when `n % 8 == 4`.
            let end8 = start.wrapping_add(n / 8 * 8);
            let end = start.wrapping_add(n);
            // SAFETY: the loops read `filter[..n]` and `patches[..4n]` (checked above), eight
            // taps per iteration while a whole eight remain, then four (`n` a non-zero
            // multiple of 4), and read and write the four words of `acc`; they touch only the
            // registers named below (flags too: no `preserves_flags`). High registers may only
            // be clobbers in Thumb-1 code, so the accumulators go in and out through `acc`
            // (its address kept in lr meanwhile).
            unsafe {
                core::arch::asm!(
                    "ldr r5, [r0, #0]", "mov r8, r5",
                    "ldr r5, [r0, #4]", "mov r10, r5",
                    "ldr r5, [r0, #8]", "mov r11, r5",
                    "ldr r5, [r0, #12]", "mov r12, r5",
                    "mov lr, r0",
                    "mov r0, r4",
                    "cmp r1, r3",
                    "beq 3f",
                    "2:",
                    "ldrb r4, [r1, #0]", "sxtb r4, r4",
                    "ldrb r5, [r2, #0]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #1]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #2]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #3]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #1]", "sxtb r4, r4",
                    "ldrb r5, [r2, #4]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #5]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #6]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #7]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #2]", "sxtb r4, r4",
                    "ldrb r5, [r2, #8]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #9]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #10]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #11]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #3]", "sxtb r4, r4",
                    "ldrb r5, [r2, #12]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #13]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #14]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #15]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #4]", "sxtb r4, r4",
                    "ldrb r5, [r2, #16]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #17]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #18]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #19]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #5]", "sxtb r4, r4",
                    "ldrb r5, [r2, #20]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #21]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #22]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #23]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #6]", "sxtb r4, r4",
                    "ldrb r5, [r2, #24]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #25]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #26]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #27]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #7]", "sxtb r4, r4",
                    "ldrb r5, [r2, #28]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #29]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #30]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #31]", "muls r5, r4, r5", "add r12, r5",
                    "adds r1, #8",
                    "adds r2, #32",
                    "cmp r1, r3",
                    "bne 2b",
                    "3:",
                    "cmp r1, r0",
                    "beq 4f",
                    "ldrb r4, [r1, #0]", "sxtb r4, r4",
                    "ldrb r5, [r2, #0]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #1]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #2]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #3]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #1]", "sxtb r4, r4",
                    "ldrb r5, [r2, #4]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #5]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #6]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #7]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #2]", "sxtb r4, r4",
                    "ldrb r5, [r2, #8]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #9]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #10]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #11]", "muls r5, r4, r5", "add r12, r5",
                    "ldrb r4, [r1, #3]", "sxtb r4, r4",
                    "ldrb r5, [r2, #12]", "muls r5, r4, r5", "add r8, r5",
                    "ldrb r5, [r2, #13]", "muls r5, r4, r5", "add r10, r5",
                    "ldrb r5, [r2, #14]", "muls r5, r4, r5", "add r11, r5",
                    "ldrb r5, [r2, #15]", "muls r5, r4, r5", "add r12, r5",
                    "4:",
                    "mov r0, lr",
                    "mov r4, r8", "str r4, [r0, #0]",
                    "mov r4, r10", "str r4, [r0, #4]",
                    "mov r4, r11", "str r4, [r0, #8]",
                    "mov r4, r12", "str r4, [r0, #12]",
                    inout("r0") acc.as_mut_ptr() => _,
                    inout("r1") start => _,
                    inout("r2") patches.as_ptr() => _,
                    in("r3") end8,
                    inout("r4") end => _,
                    out("r5") _,
                    out("r8") _,
                    out("r10") _,
                    out("r11") _,
                    out("r12") _,
                    out("lr") _,
                    options(nostack),
                );
            }
            return;
        }
    }
    patch_dot_thumb1_portable(filter, patches, acc);
}

/// [`patch_dot_thumb1`] in portable Rust.
#[inline(always)]
pub fn patch_dot_thumb1_portable(filter: &[u8], patches: &[i8], acc: &mut [i32; THUMB1_PIXELS]) {
    for (&w, x) in filter.iter().zip(patches.chunks_exact(THUMB1_PIXELS)) {
        let w = w as i8 as i32;
        for (a, &xv) in acc.iter_mut().zip(x) {
            *a = a.wrapping_add(w.wrapping_mul(xv as u8 as i32));
        }
    }
}

/// Output pixels per tile of [`patch_dot_tile`].
pub const TILE_PIXELS: usize = 5;

/// [`patch_dot_tile`] in portable Rust, for any tile width: for every weight word, its even
/// and odd bytes widened once and multiplied into every pixel's accumulator.
#[inline(always)]
pub fn patch_dot_portable<const P: usize>(filter: &[u8], patches: &[u32], acc: &mut [i32; P]) {
    for (w4, x) in filter.chunks_exact(4).zip(patches.chunks_exact(2 * P)) {
        let w = u32::from_le_bytes([w4[0], w4[1], w4[2], w4[3]]);
        let (we, wo) = (dsp::sxtb16(w), dsp::sxtb16_ror8(w));
        for (k, a) in acc.iter_mut().enumerate() {
            *a = dsp::smlad(x[2 * k + 1], wo, dsp::smlad(x[2 * k], we, *a));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dsp_emulation_matches_instruction_semantics() {
        // Bytes 01 7f ff 80 (little-endian): even bytes (01, ff), odd bytes (7f, 80).
        assert_eq!(dsp::sxtb16(0x80ff_7f01), 0xffff_0001);
        assert_eq!(dsp::sxtb16_ror8(0x80ff_7f01), 0xff80_007f);
        // (-1)·(-1) + (-1)·(-1) + 5 = 7; 127·(-128) = -16256.
        assert_eq!(dsp::smlad(0xffff_ffff, 0xffff_ffff, 5), 7);
        assert_eq!(dsp::smlad(0x007f_0000, 0xff80_0000, 0), -16256);
        assert_eq!(
            dsp::smlad(0x8000_8000, 0x8000_8000, i32::MAX),
            i32::MAX.wrapping_add(1 << 31)
        );
        // Bottom halves (-1)·(-128) + 3 = 131; top halves 127·(-2) = -254; wrapping.
        assert_eq!(dsp::smlabb(0x007f_ffff, 0xfffe_ff80, 3), 131);
        assert_eq!(dsp::smlatt(0x007f_ffff, 0xfffe_ff80, 0), -254);
        // Bottom by top: (-1)·(-2) + 3 = 5; top by bottom: 127·(-128) = -16256.
        assert_eq!(dsp::smlabt(0x007f_ffff, 0xfffe_ff80, 3), 5);
        assert_eq!(dsp::smlatb(0x007f_ffff, 0xfffe_ff80, 0), -16256);
        assert_eq!(
            dsp::smlabb(0x8000, 0x8000, i32::MAX),
            i32::MAX.wrapping_add(1 << 30)
        );
    }

    #[test]
    fn smmlar_is_the_rounded_high_word_plus_c() {
        let mut rng = kiln_fixtures::rng::Rng::new(0x5a17);
        let edges = [
            i32::MIN,
            i32::MIN + 1,
            -1,
            0,
            1,
            i32::MAX,
            1 << 30,
            -(1 << 30),
        ];
        let mut cases = Vec::new();
        for &a in &edges {
            for &b in &edges {
                cases.extend(edges.iter().map(|&c| (a, b, c)));
            }
        }
        for _ in 0..100_000 {
            let (a, b, c) = (rng.next_u64(), rng.next_u64(), rng.next_u64());
            cases.push((a as i32, b as i32, c as i32));
        }
        for (a, b, c) in cases {
            // The instruction's definition: bits 63..32 of `c·2^32 + a·b + 2^31`, modulo 2^64.
            let wide = ((c as i128) << 32) + a as i128 * b as i128 + (1i128 << 31);
            let want = (wide as u64 >> 32) as u32 as i32;
            assert_eq!(dsp::smmlar(a, b, c), want, "{a} * {b} + {c}");
        }
        // Ties round up: 2^31 / 2^32 = 0.5 -> 1, -2^31 / 2^32 = -0.5 -> 0.
        assert_eq!(dsp::smmlar(1 << 16, 1 << 15, 0), 1);
        assert_eq!(dsp::smmlar(-(1 << 16), 1 << 15, 0), 0);
    }
}
