//! A minimal FlexBuffers reader: the options of custom operators (`custom_options`), which
//! TFLite writes as one FlexBuffers map of scalars and short vectors.
//!
//! It reads what custom operators use: a root map whose values are integers, unsigned
//! integers, booleans, floats (inline or indirect), strings, and vectors of those. Every
//! offset and length is checked against the buffer before use, so malformed bytes give a
//! [`FlexError`], never a panic, and no allocation is larger than the buffer.
//!
//! The format (FlexBuffers, as the flatbuffers project specifies it): the buffer ends with the
//! root value, its packed type byte (`type << 2 | log2(width)`) and the root's byte width.
//! Offsets point backwards. A map is a vector of values (each `width` bytes, followed by one
//! packed type byte per value) preceded by its length, its keys' byte width and the offset of
//! its sorted key vector (offsets to NUL-terminated strings).

use std::fmt;

/// Why a FlexBuffers buffer could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlexError(pub String);

impl fmt::Display for FlexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One value of a map.
#[derive(Clone, Debug, PartialEq)]
pub enum FlexValue {
    /// A null.
    Null,
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A float (stored as 32 or 64 bits).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string (invalid UTF-8 replaced).
    String(String),
    /// A vector of scalars.
    Vector(Vec<FlexValue>),
    /// A value of a type this reader does not decode (the FlexBuffers type number): an error
    /// only when an operator asks for it.
    Other(u8),
}

impl FlexValue {
    /// The value as TFLM's `AsInt32` reads an integer option: integers and booleans, truncated
    /// to 32 bits as `static_cast<int32_t>` does; `None` for other types.
    pub fn as_i32(&self) -> Option<i32> {
        match *self {
            FlexValue::Int(v) => Some(v as i32),
            FlexValue::UInt(v) => Some(v as i32),
            FlexValue::Bool(b) => Some(b as i32),
            FlexValue::Null => Some(0),
            _ => None,
        }
    }

    /// The value as TFLM's `AsBool` reads a boolean option: booleans and integers (non-zero
    /// is true); `None` for other types.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            FlexValue::Bool(b) => Some(b),
            FlexValue::Int(v) => Some(v != 0),
            FlexValue::UInt(v) => Some(v != 0),
            FlexValue::Null => Some(false),
            _ => None,
        }
    }
}

/// The entries of a FlexBuffers root map, in stored (key-sorted) order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlexMap {
    /// `(key, value)` pairs in the order the buffer stores them.
    pub entries: Vec<(String, FlexValue)>,
}

impl FlexMap {
    /// The value under `key`, if present.
    pub fn get(&self, key: &str) -> Option<&FlexValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

// FlexBuffers type numbers.
const NULL: u8 = 0;
const INT: u8 = 1;
const UINT: u8 = 2;
const FLOAT: u8 = 3;
const STRING: u8 = 5;
const INDIRECT_INT: u8 = 6;
const INDIRECT_UINT: u8 = 7;
const INDIRECT_FLOAT: u8 = 8;
const MAP: u8 = 9;
const VECTOR: u8 = 10;
const VECTOR_INT: u8 = 11;
const VECTOR_UINT: u8 = 12;
const VECTOR_FLOAT: u8 = 13;
const VECTOR_INT2: u8 = 16;
const VECTOR_FLOAT4: u8 = 24;
const BOOL: u8 = 26;
const VECTOR_BOOL: u8 = 36;

/// Reads `bytes` as a FlexBuffers buffer whose root is a map.
pub fn read_map(bytes: &[u8]) -> Result<FlexMap, FlexError> {
    let buf = Buf(bytes);
    let len = bytes.len();
    if len < 3 {
        return Err(err(format!(
            "{len} bytes are too few for a FlexBuffers root"
        )));
    }
    let root_width = width(bytes[len - 1] as u64)?;
    let packed = bytes[len - 2];
    let pos = (len - 2)
        .checked_sub(root_width)
        .ok_or_else(|| err("the root value does not fit in the buffer"))?;
    let root = Ref {
        pos,
        parent_width: root_width,
        packed,
    };
    if root.kind() != MAP {
        return Err(err(format!(
            "the root is of FlexBuffers type {}, not a map",
            root.kind()
        )));
    }
    let target = buf.target(&root)?;
    let w = root.byte_width();
    let count = buf.uint(target.checked_sub(w).ok_or_else(too_short)?, w)?;
    let count = buf.count(count, w + 1)?;
    let keys_at = target.checked_sub(3 * w).ok_or_else(too_short)?;
    let keys_target = keys_at
        .checked_sub(buf.offset(keys_at, w)?)
        .ok_or_else(|| err("the key vector's offset points before the buffer"))?;
    let keys_width = width(buf.uint(target - 2 * w, w)?)?;
    let key_count = buf.uint(
        keys_target.checked_sub(keys_width).ok_or_else(too_short)?,
        keys_width,
    )?;
    if key_count != count as u64 {
        return Err(err(format!(
            "the map has {count} values but {key_count} keys"
        )));
    }
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let key_pos = keys_target + i * keys_width;
        let key_start = key_pos
            .checked_sub(buf.offset(key_pos, keys_width)?)
            .ok_or_else(|| err("a key's offset points before the buffer"))?;
        let key = buf.cstr(key_start)?;
        let value = Ref {
            pos: target + i * w,
            parent_width: w,
            packed: buf.byte(target + count * w + i)?,
        };
        entries.push((key, buf.value(&value, true)?));
    }
    Ok(FlexMap { entries })
}

fn err(message: impl Into<String>) -> FlexError {
    FlexError(message.into())
}

fn too_short() -> FlexError {
    err("a length or offset lies before the start of the buffer")
}

/// A byte width: 1, 2, 4 or 8.
fn width(w: u64) -> Result<usize, FlexError> {
    match w {
        1 | 2 | 4 | 8 => Ok(w as usize),
        other => Err(err(format!("byte width {other} is not 1, 2, 4 or 8"))),
    }
}

/// A value's position, the width its parent stores it with, and its packed type.
struct Ref {
    pos: usize,
    parent_width: usize,
    packed: u8,
}

impl Ref {
    fn kind(&self) -> u8 {
        self.packed >> 2
    }

    /// The width of the value itself when it is stored out of line.
    fn byte_width(&self) -> usize {
        1 << (self.packed & 3)
    }
}

/// The buffer, with checked reads.
struct Buf<'a>(&'a [u8]);

impl Buf<'_> {
    fn slice(&self, at: usize, n: usize) -> Result<&[u8], FlexError> {
        at.checked_add(n)
            .and_then(|end| self.0.get(at..end))
            .ok_or_else(|| {
                err(format!(
                    "bytes {at}..{at}+{n} lie beyond the {}-byte buffer",
                    self.0.len()
                ))
            })
    }

    fn byte(&self, at: usize) -> Result<u8, FlexError> {
        Ok(self.slice(at, 1)?[0])
    }

    fn uint(&self, at: usize, w: usize) -> Result<u64, FlexError> {
        let mut le = [0u8; 8];
        le[..w].copy_from_slice(self.slice(at, w)?);
        Ok(u64::from_le_bytes(le))
    }

    fn int(&self, at: usize, w: usize) -> Result<i64, FlexError> {
        let v = self.uint(at, w)?;
        let unused = 64 - 8 * w as u32;
        Ok(((v << unused) as i64) >> unused)
    }

    fn float(&self, at: usize, w: usize) -> Result<f64, FlexError> {
        match w {
            4 => Ok(f32::from_bits(self.uint(at, 4)? as u32) as f64),
            8 => Ok(f64::from_bits(self.uint(at, 8)?)),
            other => Err(err(format!("a float of {other} bytes"))),
        }
    }

    /// An offset stored at `at`, as a distance that fits the buffer.
    fn offset(&self, at: usize, w: usize) -> Result<usize, FlexError> {
        usize::try_from(self.uint(at, w)?)
            .ok()
            .filter(|&o| o <= self.0.len())
            .ok_or_else(|| err("an offset points outside the buffer"))
    }

    /// Where an out-of-line value starts: its position less the offset stored there.
    fn target(&self, r: &Ref) -> Result<usize, FlexError> {
        r.pos
            .checked_sub(self.offset(r.pos, r.parent_width)?)
            .ok_or_else(|| err("an offset points before the buffer"))
    }

    /// A length read from the buffer, checked so that `len` elements of `elem` bytes fit.
    fn count(&self, len: u64, elem: usize) -> Result<usize, FlexError> {
        usize::try_from(len)
            .ok()
            .filter(|&n| n.saturating_mul(elem) <= self.0.len())
            .ok_or_else(|| {
                err(format!(
                    "a length of {len} does not fit the {}-byte buffer",
                    self.0.len()
                ))
            })
    }

    /// A NUL-terminated string from `at`.
    fn cstr(&self, at: usize) -> Result<String, FlexError> {
        let rest = self.0.get(at..).ok_or_else(too_short)?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| err("a key is not NUL-terminated"))?;
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// Decodes one value; vectors only at the top (`nest`), holding scalars.
    fn value(&self, r: &Ref, nest: bool) -> Result<FlexValue, FlexError> {
        let w = r.parent_width;
        Ok(match r.kind() {
            NULL => FlexValue::Null,
            INT => FlexValue::Int(self.int(r.pos, w)?),
            UINT => FlexValue::UInt(self.uint(r.pos, w)?),
            FLOAT => FlexValue::Float(self.float(r.pos, w)?),
            BOOL => FlexValue::Bool(self.uint(r.pos, w)? != 0),
            INDIRECT_INT => FlexValue::Int(self.int(self.target(r)?, r.byte_width())?),
            INDIRECT_UINT => FlexValue::UInt(self.uint(self.target(r)?, r.byte_width())?),
            INDIRECT_FLOAT => FlexValue::Float(self.float(self.target(r)?, r.byte_width())?),
            STRING => {
                let at = self.target(r)?;
                let bw = r.byte_width();
                let len = self.uint(at.checked_sub(bw).ok_or_else(too_short)?, bw)?;
                let len = self.count(len, 1)?;
                FlexValue::String(String::from_utf8_lossy(self.slice(at, len)?).into_owned())
            }
            kind @ (VECTOR
            | VECTOR_INT
            | VECTOR_UINT
            | VECTOR_FLOAT
            | VECTOR_BOOL
            | VECTOR_INT2..=VECTOR_FLOAT4)
                if nest =>
            {
                self.vector(r, kind)?
            }
            other => FlexValue::Other(other),
        })
    }

    /// A vector: untyped (each element with its own type byte), typed, or of fixed length.
    fn vector(&self, r: &Ref, kind: u8) -> Result<FlexValue, FlexError> {
        let at = self.target(r)?;
        let bw = r.byte_width();
        let (len, element) = match kind {
            VECTOR_INT2..=VECTOR_FLOAT4 => {
                let n = kind - VECTOR_INT2;
                ((n / 3 + 2) as usize, Some(INT + n % 3))
            }
            _ => {
                let len = self.uint(at.checked_sub(bw).ok_or_else(too_short)?, bw)?;
                let element = match kind {
                    VECTOR => None,
                    VECTOR_BOOL => Some(BOOL),
                    typed => Some(typed - VECTOR_INT + INT),
                };
                (self.count(len, bw)?, element)
            }
        };
        let mut items = Vec::with_capacity(len);
        for i in 0..len {
            let packed = match element {
                // Inline scalars of a typed vector have the vector's width.
                Some(t) => t << 2,
                None => self.byte(at + len * bw + i)?,
            };
            let item = Ref {
                pos: at + i * bw,
                parent_width: bw,
                packed,
            };
            items.push(self.value(&item, false)?);
        }
        Ok(FlexValue::Vector(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SignalWindow's options as the TFLite converter writes them: `{"shift": 12}`.
    const WINDOW: &[u8] = &[
        0x73, 0x68, 0x69, 0x66, 0x74, 0x00, 0x01, 0x07, 0x01, 0x01, 0x01, 0x0c, 0x04, 0x02, 0x24,
        0x01,
    ];

    #[test]
    fn reads_a_one_key_map() {
        let m = read_map(WINDOW).unwrap();
        assert_eq!(m.entries, vec![("shift".to_string(), FlexValue::Int(12))]);
        assert_eq!(m.get("shift").and_then(FlexValue::as_i32), Some(12));
    }

    #[test]
    fn reads_what_the_reference_writer_writes() {
        // Ints of two widths, a bool, a float, a string, a typed and an untyped vector.
        let bytes = sample();
        let m = read_map(&bytes).unwrap();
        let keys: Vec<&str> = m.entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "big", "f", "neg", "s", "v", "w"]);
        assert_eq!(m.get("b"), Some(&FlexValue::Bool(true)));
        assert_eq!(m.get("big"), Some(&FlexValue::Int(1 << 40)));
        assert_eq!(m.get("f"), Some(&FlexValue::Float(0.5)));
        assert_eq!(m.get("neg"), Some(&FlexValue::Int(-300)));
        assert_eq!(m.get("s"), Some(&FlexValue::String("hi".into())));
        assert_eq!(
            m.get("v"),
            Some(&FlexValue::Vector(vec![
                FlexValue::Int(1),
                FlexValue::Int(2),
                FlexValue::Int(3)
            ]))
        );
        assert_eq!(
            m.get("w"),
            Some(&FlexValue::Vector(vec![
                FlexValue::Int(7),
                FlexValue::Bool(false)
            ]))
        );
    }

    /// `flexbuffers_sample.bin`: a map written by the flatbuffers project's Python builder.
    pub(super) fn sample() -> Vec<u8> {
        include_bytes!("flexbuffers_sample.bin").to_vec()
    }

    #[test]
    fn a_root_that_is_not_a_map_is_an_error() {
        // The integer 5 as a root.
        let e = read_map(&[0x05, 0x04, 0x01]).unwrap_err();
        assert!(e.0.contains("not a map"), "{e}");
        assert!(read_map(&[]).is_err());
        assert!(read_map(&[0, 0]).is_err());
        let e = read_map(&[0, 0, 3]).unwrap_err();
        assert!(e.0.contains("byte width 3"), "{e}");
    }

    #[test]
    fn every_truncation_and_every_byte_flip_is_handled() {
        let bytes = sample();
        for cut in 0..bytes.len() {
            let _ = read_map(&bytes[cut..]);
            let _ = read_map(&bytes[..cut]);
        }
        for at in 0..bytes.len() {
            for v in [0u8, 1, 2, 3, 4, 0x7f, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[at] = v;
                let _ = read_map(&b);
            }
        }
        // Truncating the real window options never reads them back wrongly.
        for cut in 1..WINDOW.len() {
            assert_ne!(
                read_map(&WINDOW[cut..]).ok(),
                read_map(WINDOW).ok(),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = kiln_fixtures::rng::Rng::new(11);
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            let _ = read_map(&bytes);
        }
    }

    #[test]
    fn option_conversions_follow_tflm() {
        assert_eq!(FlexValue::UInt(u64::MAX).as_i32(), Some(-1));
        assert_eq!(FlexValue::Int(1 << 33).as_i32(), Some(0));
        assert_eq!(FlexValue::Bool(true).as_i32(), Some(1));
        assert_eq!(FlexValue::Float(1.0).as_i32(), None);
        assert_eq!(FlexValue::Int(2).as_bool(), Some(true));
        assert_eq!(FlexValue::String("x".into()).as_bool(), None);
    }
}
