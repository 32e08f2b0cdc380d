//! Sizes the target can hold: every array, the `Model` struct and the `usize` constants of
//! the generated code must be expressible with the target's pointer width, or rustc fails
//! later with `literal out of range for usize` or `values of the type … are too big`.
//!
//! Rust limits one object to `isize::MAX` bytes, and all of them together cannot exceed the
//! address space. Without a target kiln assumes [`DEFAULT_POINTER_WIDTH`] bits, the width of
//! every microcontroller core it knows.

use std::fmt;

use crate::compiled::Compiled;
use crate::names;
use crate::plan::Location;

/// The pointer width assumed when no target is given, in bits.
pub const DEFAULT_POINTER_WIDTH: u32 = 32;

/// Something in the generated code too large for the target's pointer width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SizeError {
    /// What is too large, e.g. `the activation arena`.
    pub what: String,
    /// Its size in bytes.
    pub bytes: u128,
    /// The largest size allowed, in bytes.
    pub limit: u128,
    /// The target's pointer width in bits.
    pub pointer_width: u32,
    /// Whether the limit is the whole address space (a total) rather than one object.
    pub total: bool,
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (bytes, limit, bits) = (self.bytes, self.limit, self.pointer_width);
        let rule = if self.total {
            "the address space"
        } else {
            "isize::MAX, the largest object"
        };
        write!(
            f,
            "{} needs {bytes} bytes, more than a {bits}-bit target can hold ({rule}: {limit} bytes)",
            self.what
        )
    }
}

impl std::error::Error for SizeError {}

/// The largest object (`isize::MAX`) on a target with `bits`-bit pointers.
pub fn max_object_bytes(bits: u32) -> u128 {
    (1u128 << (bits.clamp(8, 64) - 1)) - 1
}

/// The address space (`usize::MAX`) of a target with `bits`-bit pointers.
pub fn max_total_bytes(bits: u32) -> u128 {
    (1u128 << bits.clamp(8, 64)) - 1
}

/// Checks every size `model`'s generated code holds against a `bits`-bit target: inputs,
/// outputs, the arena, the `Model` struct, each layer's constants, and their total.
pub fn check(model: &Compiled, bits: u32) -> Result<(), SizeError> {
    let g = &model.graph;
    let object = max_object_bytes(bits);
    let too_big = |what: String, bytes: u128, total: bool| SizeError {
        what,
        bytes,
        limit: if total { max_total_bytes(bits) } else { object },
        pointer_width: bits,
        total,
    };
    let tensor = |t: usize| {
        let name = &g.tensors[t].name;
        if name.is_empty() {
            format!("tensor {t}")
        } else {
            format!("tensor {t} '{}'", names::shown(name))
        }
    };
    let mut objects: Vec<(String, u128)> = Vec::new();
    for (k, &t) in g.inputs.iter().enumerate() {
        objects.push((
            format!("graph input {k} ({})", tensor(t)),
            g.tensors[t].bytes() as u128,
        ));
    }
    let mut model_bytes = model.plan.arena_bytes as u128;
    for (k, &t) in g.outputs.iter().enumerate() {
        let bytes = g.tensors[t].bytes() as u128;
        objects.push((format!("graph output {k} ({})", tensor(t)), bytes));
        if !g.outputs[..k].contains(&t) {
            model_bytes += bytes;
        }
    }
    objects.push((
        "the activation arena (ARENA_BYTES)".into(),
        model.plan.arena_bytes as u128,
    ));
    objects.push(("the Model struct (arena and outputs)".into(), model_bytes));
    let mut flash: u128 = 0;
    for layer in &model.layers {
        let bytes = layer.weight_bytes() as u128;
        flash += bytes;
        let what = format!(
            "the constants of operator {} ({})",
            layer.index, layer.op_name
        );
        objects.push((what, bytes));
        for &t in &layer.inputs {
            if model.plan.locations[t] == Location::Const {
                let bytes = g.tensors[t].bytes() as u128;
                flash += bytes;
                objects.push((format!("constant {}", tensor(t)), bytes));
            }
        }
    }
    if let Some((what, bytes)) = objects.into_iter().find(|(_, b)| *b > object) {
        return Err(too_big(what, bytes, false));
    }
    let all = flash + model_bytes;
    if all > max_total_bytes(bits) {
        return Err(too_big(
            "the model's constants and its Model struct together".into(),
            all,
            true,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_by_width() {
        assert_eq!(max_object_bytes(16), i16::MAX as u128);
        assert_eq!(max_object_bytes(32), i32::MAX as u128);
        assert_eq!(max_object_bytes(64), i64::MAX as u128);
        assert_eq!(max_total_bytes(32), u32::MAX as u128);
        assert_eq!(max_total_bytes(64), u64::MAX as u128);
    }
}
