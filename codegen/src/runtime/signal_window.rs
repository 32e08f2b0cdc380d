//! TFLM's `SignalWindow` (`signal/src/window.cc`): each frame of the input times the window,
//! element by element, `(x · w) >> shift` in int32 (an arithmetic shift), saturated to int16.
//! The input holds whole frames of the window's length, one after the other.

/// Per-layer constants of `SignalWindow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalWindow {
    /// Right shift of each product (0..=31).
    pub shift: u32,
}

/// Applies `window` to every frame of `input` (frames of `window.len()` elements).
#[inline(always)]
pub fn signal_window(p: &SignalWindow, input: &[i16], window: &[i16], output: &mut [i16]) {
    let mut at = 0;
    for (o, &x) in output.iter_mut().zip(input) {
        let w = window.get(at).copied().unwrap_or(0);
        at += 1;
        if at >= window.len() {
            at = 0;
        }
        let raw = (x as i32 * w as i32) >> p.shift;
        *o = raw.clamp(i16::MIN as i32, i16::MAX as i32) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_shifts_and_saturates_per_frame() {
        let p = SignalWindow { shift: 12 };
        let window = [4096, 2048];
        let input = [100, 100, -32768, 32767];
        let mut out = [0; 4];
        signal_window(&p, &input, &window, &mut out);
        assert_eq!(out, [100, 50, -32768, 16383]);
        // A product beyond int16 saturates.
        let p = SignalWindow { shift: 0 };
        signal_window(&p, &[300, -300], &[200], &mut out[..2]);
        assert_eq!(out[..2], [32767, -32768]);
    }
}
