//! Int16 sigmoid and tanh as TFLite's reference integer kernels compute them: a 256-entry
//! table of `sigmoid(i / 24)` in unsigned Q0.16 with linear interpolation between entries
//! (`tanh(x) = 2·sigmoid(2x) − 1` reads the same table at twice the resolution). The LSTM's
//! gates use them on Q3.12 inputs, with Q0.15 outputs.

/// `sigmoid(i / 24)` in unsigned Q0.16 for `i` in `0..256` (65535 for 1.0): TFLite's
/// `sigmoid_table_uint16`. Its values are data, not a formula: 44 of them differ by one from
/// `round(65536 · sigmoid(i / 24))`, so they are kept as TFLite publishes them.
pub const SIGMOID_TABLE_U16: [u16; 256] = [
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
];

/// How an int16 activation scales its input before the table: `(x · multiplier + round) >>
/// shift`, with `round` half of the shift's unit (TFLite's `input_multiplier` and
/// `input_left_shift` after its power-of-two case: multiplier `3 << s`, shift 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputScale16 {
    /// Multiplier of the raw input.
    pub multiplier: i32,
    /// Right shift after the multiplication.
    pub shift: i32,
}

/// The table entries around `index` (saturated at the last one).
#[inline(always)]
fn sigmoid_entries(index: u32) -> (u32, u32) {
    let at = |i: u32| {
        SIGMOID_TABLE_U16
            .get(i as usize)
            .copied()
            .unwrap_or(u16::MAX) as u32
    };
    (at(index), at(index + 1))
}

/// The scaled input of an int16 activation.
#[inline(always)]
fn scaled_input16(x: i16, s: InputScale16) -> i32 {
    let round = if s.shift > 0 {
        1i32 << ((s.shift - 1) & 31)
    } else {
        0
    };
    (x as i32).wrapping_mul(s.multiplier).wrapping_add(round) >> (s.shift & 31)
}

/// TFLite's int16 `Logistic`: Q0.15 sigmoid of an input scaled by `s` (Q3.12 · 3 for the
/// LSTM's gates).
#[inline(always)]
pub fn sigmoid_i16(x: i16, s: InputScale16) -> i16 {
    let input = scaled_input16(x, s);
    let abs = input.unsigned_abs();
    let high = abs >> 9;
    let result: u32 = if high >= 255 {
        0x7FFF << 10
    } else {
        let (a, b) = sigmoid_entries(high);
        (a << 9).wrapping_add((abs & 0x1ff).wrapping_mul(b.wrapping_sub(a)))
    };
    let result = if input >= 0 {
        result.wrapping_add(1 << 9)
    } else {
        (1u32 << 25)
            .wrapping_sub(result)
            .wrapping_add(1 << 9)
            .wrapping_sub(1)
    };
    (result >> 10) as i16
}

/// TFLite's int16 `Tanh`: Q0.15 tanh of an input scaled by `s`.
#[inline(always)]
pub fn tanh_i16(x: i16, s: InputScale16) -> i16 {
    let input = scaled_input16(x, s);
    let abs = input.unsigned_abs();
    let high = abs >> 8;
    let result: i32 = if high >= 255 {
        0xFFFF << 8
    } else {
        let (a, b) = sigmoid_entries(high);
        (a << 8).wrapping_add((abs & 0xff).wrapping_mul(b.wrapping_sub(a))) as i32
    };
    let result = if input >= 0 {
        result.wrapping_sub(1 << 23).wrapping_add(1 << 7)
    } else {
        (1i32 << 23)
            .wrapping_sub(result)
            .wrapping_add(1 << 7)
            .wrapping_sub(1)
    };
    (result >> 8) as i16
}

/// Saturates to int16.
#[inline(always)]
pub fn clamp_i16(x: i32) -> i16 {
    x.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATE: InputScale16 = InputScale16 {
        multiplier: 3,
        shift: 0,
    };

    #[test]
    fn sigmoid_and_tanh_of_q3_12_inputs() {
        // 0 → 0.5 and 0; 1.0 (4096) → 0.731, 0.762; tanh saturates at ±8 (±32768 / 4096),
        // sigmoid(8) is 0.99966.
        let close = |q: i16, want: f64| (q as f64 / 32768.0 - want).abs() < 2e-4;
        assert_eq!(sigmoid_i16(0, GATE), 16384);
        assert_eq!(tanh_i16(0, GATE), 0);
        assert!(close(
            sigmoid_i16(i16::MAX, GATE),
            1.0 / (1.0 + (-8.0f64).exp())
        ));
        assert!(close(
            sigmoid_i16(i16::MIN, GATE),
            1.0 / (1.0 + 8.0f64.exp())
        ));
        assert_eq!(tanh_i16(i16::MAX, GATE), 32767);
        assert_eq!(tanh_i16(i16::MIN, GATE), -32767);
        assert!(close(
            sigmoid_i16(4096, GATE),
            1.0 / (1.0 + (-1.0f64).exp())
        ));
        assert!(close(tanh_i16(4096, GATE), 1.0f64.tanh()));
        assert!(close(tanh_i16(-4096, GATE), -(1.0f64.tanh())));
        // Monotonic over every input.
        for x in i16::MIN..i16::MAX {
            assert!(sigmoid_i16(x, GATE) <= sigmoid_i16(x + 1, GATE), "{x}");
            assert!(tanh_i16(x, GATE) <= tanh_i16(x + 1, GATE), "{x}");
        }
    }

    #[test]
    fn a_right_shift_rounds_half_up() {
        // Multiplier 3, shift 1: (x·3 + 1) >> 1.
        let s = InputScale16 {
            multiplier: 3,
            shift: 1,
        };
        assert_eq!(scaled_input16(1, s), 2);
        assert_eq!(scaled_input16(-1, s), -1);
        assert_eq!(scaled_input16(3, s), 5);
    }
}
