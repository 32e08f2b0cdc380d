//! Memory planning: where every tensor lives, and the size of the static arena.
//!
//! Graph inputs stay in the caller's buffer, graph outputs live in the model's output fields,
//! constants in flash; every other tensor gets an offset in the arena. Offsets come from a
//! greedy first-fit over tensor lifetimes, largest tensor first (like TFLM's greedy planner,
//! without its 16-byte alignment). A RESHAPE whose output is not a graph output emits no code:
//! its output aliases its input.
//!
//! The arena has one pool per element type (int8, then float32 aligned to 4 bytes), each a
//! typed array in the generated `Model`; offsets here are bytes from the start of the arena.

use std::fmt;

use crate::ir::{DType, Graph, TensorId};
use crate::layer::{Kernel, Layer};

/// Where a tensor's bytes are during `predict`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The caller's input buffer number `k`.
    Input(usize),
    /// The model's output field number `k`.
    Output(usize),
    /// `bytes` bytes at `offset` in the arena, in the buffer owned by tensor `buffer`.
    Arena {
        /// The tensor owning the storage (differs from the tensor for RESHAPE aliases).
        buffer: TensorId,
        /// Byte offset in the arena.
        offset: usize,
        /// Size in bytes.
        bytes: usize,
    },
    /// Constant data in flash.
    Const,
    /// Not used by any layer.
    Unused,
}

/// A part of the arena holding tensors of one element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool {
    /// Element type of its tensors.
    pub dtype: DType,
    /// Byte offset of the pool in the arena.
    pub base: usize,
    /// Size in bytes.
    pub bytes: usize,
}

/// The element types the arena can hold, in pool order.
pub const POOL_TYPES: [DType; 2] = [DType::I8, DType::F32];

/// One arena buffer and the layers during which it is live (for tables and drawings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// The tensor that owns the storage (RESHAPE aliases share it).
    pub tensor: TensorId,
    /// Element type (which pool it lives in).
    pub dtype: DType,
    /// Byte offset in the arena.
    pub offset: usize,
    /// Size in bytes.
    pub bytes: usize,
    /// First layer (index into the layer list) that writes it.
    pub first: usize,
    /// Last layer that reads it.
    pub last: usize,
}

/// The memory plan of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Location of every tensor, indexed by tensor id.
    pub locations: Vec<Location>,
    /// Arena buffers with their lifetimes.
    pub buffers: Vec<Buffer>,
    /// Size of the arena in bytes (all pools).
    pub arena_bytes: usize,
    /// The pools, in arena order.
    pub pools: Vec<Pool>,
    /// For each layer, whether it emits code (false for aliased RESHAPEs).
    pub runs: Vec<bool>,
}

/// A model whose tensors kiln cannot place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError(pub String);

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlanError {}

/// Plans the memory of `layers` (from [`crate::prepare::prepare`]).
pub fn plan(graph: &Graph, layers: &[Layer]) -> Result<Plan, PlanError> {
    let n = graph.tensors.len();
    let mut locations = vec![Location::Unused; n];
    for (t, tensor) in graph.tensors.iter().enumerate() {
        if tensor.is_const() {
            locations[t] = Location::Const;
        }
    }
    for (k, &t) in graph.inputs.iter().enumerate() {
        if let Location::Input(first) = locations[t] {
            return Err(duplicate_input(graph, t, first, k));
        }
        locations[t] = Location::Input(k);
    }
    for (k, &t) in graph.outputs.iter().enumerate() {
        if matches!(locations[t], Location::Input(_)) {
            return Err(PlanError(format!(
                "tensor {t} is both a graph input and a graph output"
            )));
        }
        // A tensor listed twice among the outputs lives in its first output field; the
        // back-end returns that field for every later listing.
        if !matches!(locations[t], Location::Output(_)) {
            locations[t] = Location::Output(k);
        }
    }
    // Storage root of each tensor: itself, or the root of a RESHAPE's input when aliased.
    let mut root: Vec<TensorId> = (0..n).collect();
    let mut runs = vec![true; layers.len()];
    for (i, layer) in layers.iter().enumerate() {
        if layer.kernel == Kernel::Reshape && locations[layer.output] == Location::Unused {
            let src = root[layer.inputs[0]];
            if !matches!(locations[src], Location::Output(_)) {
                root[layer.output] = src;
                runs[i] = false;
            }
        }
    }
    // Lifetimes of arena roots: first writer .. last reader (in layer indices).
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for (i, layer) in layers.iter().enumerate() {
        if runs[i] {
            let r = root[layer.output];
            first[r] = first[r].min(i);
            last[r] = last[r].max(i);
        }
        for &t in &layer.inputs {
            let r = root[t];
            last[r] = last[r].max(i);
        }
    }
    let candidates: Vec<TensorId> = (0..n)
        .filter(|&t| root[t] == t && first[t] != usize::MAX && locations[t] == Location::Unused)
        .collect();
    for &t in &candidates {
        let tensor = &graph.tensors[t];
        if !POOL_TYPES.contains(&tensor.dtype) {
            return Err(PlanError(format!(
                "intermediate tensor {t} '{}' is {}; kiln's arena holds int8 and float32 tensors only",
                crate::names::shown(&tensor.name),
                tensor.dtype
            )));
        }
    }
    let mut buffers: Vec<Buffer> = Vec::new();
    let mut pools = Vec::new();
    let mut base: usize = 0;
    for dtype in POOL_TYPES {
        let mut pool: Vec<TensorId> = candidates
            .iter()
            .copied()
            .filter(|&t| graph.tensors[t].dtype == dtype)
            .collect();
        if pool.is_empty() {
            continue;
        }
        base = base.next_multiple_of(dtype.size());
        pool.sort_by_key(|&t| (std::cmp::Reverse(graph.tensors[t].bytes()), first[t], t));
        let placed = greedy(graph, &pool, &first, &last, base, dtype);
        let end = placed
            .iter()
            .map(|b| b.offset + b.bytes)
            .max()
            .unwrap_or(base);
        pools.push(Pool {
            dtype,
            base,
            bytes: end - base,
        });
        base = end;
        buffers.extend(placed);
    }
    buffers.sort_by_key(|b| (b.first, b.offset));
    for b in &buffers {
        locations[b.tensor] = Location::Arena {
            buffer: b.tensor,
            offset: b.offset,
            bytes: b.bytes,
        };
    }
    for t in 0..n {
        if root[t] != t {
            locations[t] = locations[root[t]];
        }
    }
    Ok(Plan {
        locations,
        buffers,
        arena_bytes: base,
        pools,
        runs,
    })
}

/// The error for tensor `t` listed as graph input `first` and again as graph input `k`. Each
/// input is its own `predict` argument, so two arguments would name one tensor; kiln rejects
/// that rather than silently reading one of them.
fn duplicate_input(graph: &Graph, t: TensorId, first: usize, k: usize) -> PlanError {
    let name = &graph.tensors[t].name;
    let tensor = if name.is_empty() {
        format!("tensor {t}")
    } else {
        format!("tensor {t} '{}'", crate::names::shown(name))
    };
    PlanError(format!(
        "graph inputs {first} and {k} are the same {tensor}; kiln needs each graph input to be \
         a distinct tensor (list it once)"
    ))
}

/// First-fit placement of `tensors` (sorted largest first) from byte `base` on, never
/// overlapping a buffer whose lifetime intersects.
fn greedy(
    graph: &Graph,
    tensors: &[TensorId],
    first: &[usize],
    last: &[usize],
    base: usize,
    dtype: DType,
) -> Vec<Buffer> {
    let mut buffers: Vec<Buffer> = Vec::new();
    for &t in tensors {
        let bytes = graph.tensors[t].bytes();
        let mut live: Vec<(usize, usize)> = buffers
            .iter()
            .filter(|b| b.first <= last[t] && first[t] <= b.last)
            .map(|b| (b.offset, b.offset + b.bytes))
            .collect();
        live.sort_unstable();
        let mut offset = base;
        for (start, end) in live {
            if offset + bytes <= start {
                break;
            }
            offset = offset.max(end);
        }
        buffers.push(Buffer {
            tensor: t,
            dtype,
            offset,
            bytes,
            first: first[t],
            last: last[t],
        });
    }
    buffers
}
