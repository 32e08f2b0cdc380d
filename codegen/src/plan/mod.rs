//! Memory planning: where every tensor lives, and the size of the static arena.
//!
//! Graph inputs stay in the caller's buffer, graph outputs live in the model's output fields,
//! constants in flash; every other tensor gets an offset in the arena. Offsets come from a
//! greedy first-fit over tensor lifetimes, largest tensor first (like TFLM's greedy planner,
//! without its 16-byte alignment). A RESHAPE whose output is not a graph output emits no code:
//! its output aliases its input. A layer that can write over its input ([`writes_in_place`])
//! does so when the input dies there: its output is placed at a fixed distance before its
//! input (the layer's [`InPlace::lead`]), so the two overlap and the writes never reach input
//! not yet read; the planner places such chains of tensors together, each with its own
//! lifetime.
//!
//! The arena has one pool per element type (int8 and bool, then int16, then float32, int32
//! and uint32, then uint64, each aligned to its element size), each a typed array in the
//! generated `Model`; offsets here are bytes from the start of the arena.

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
    /// `bytes` bytes (the tensor's own size) at `offset` in the arena, at the start of the
    /// buffer owned by tensor `buffer` (which an in-place layer may make larger).
    Arena {
        /// The tensor owning the storage (differs from the tensor for RESHAPE aliases).
        buffer: TensorId,
        /// Byte offset in the arena.
        offset: usize,
        /// Size in bytes.
        bytes: usize,
    },
    /// Variable number `k` of the graph (`Graph::variables`): state kept in the model from
    /// one inference to the next, outside the arena.
    State(usize),
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

/// The element types the arena can hold, in pool order (by element size, so that aligning
/// each pool wastes least; bool is Rust's `bool`, so its pool needs no conversions).
pub const POOL_TYPES: [DType; 9] = [
    DType::I8,
    DType::U8,
    DType::Bool,
    DType::I16,
    DType::F32,
    DType::I32,
    DType::U32,
    DType::I64,
    DType::U64,
];

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
    /// The in-place chain it belongs to (the tensor heading it; itself when alone).
    pub group: TensorId,
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
    /// For each layer, the input it writes its output over, if any (their buffers overlap;
    /// see [`writes_in_place`]).
    pub in_place: Vec<Option<usize>>,
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

/// How far a chain of in-place layers may drift (see [`plan_with`]): its span at most its
/// largest tensor plus this many eighths of it; `None`: no layer runs in place.
const CHAIN_SLACKS: [Option<usize>; 4] = [None, Some(1), Some(4), Some(usize::MAX / 16)];

/// Plans the memory of `layers` (from [`crate::prepare::prepare`]): the smallest arena of
/// the plans with each of [`CHAIN_SLACKS`] (the first of equals, so in place only when it
/// saves RAM).
pub fn plan(graph: &Graph, layers: &[Layer]) -> Result<Plan, PlanError> {
    // How each layer could run in place: computed once for all the policies.
    let modes: Vec<Option<InPlace>> = layers.iter().map(|l| writes_in_place(l, graph)).collect();
    let mut best: Option<Plan> = None;
    for slack in CHAIN_SLACKS {
        let candidate = plan_with(graph, layers, &modes, slack)?;
        if best
            .as_ref()
            .is_none_or(|b| candidate.arena_bytes < b.arena_bytes)
        {
            best = Some(candidate);
        }
    }
    best.ok_or_else(|| PlanError("kiln bug: no memory plan".into()))
}

/// [`plan`] with in-place chains limited by `slack` (eighths of a chain's largest tensor it
/// may span beyond it; `None`: nothing in place); `modes[i]` is [`writes_in_place`] of layer
/// `i`.
fn plan_with(
    graph: &Graph,
    layers: &[Layer],
    modes: &[Option<InPlace>],
    slack: Option<usize>,
) -> Result<Plan, PlanError> {
    let n = graph.tensors.len();
    let mut locations = vec![Location::Unused; n];
    for (t, tensor) in graph.tensors.iter().enumerate() {
        if tensor.is_const() {
            locations[t] = Location::Const;
        }
    }
    for (k, &t) in graph.variables.iter().enumerate() {
        locations[t] = Location::State(k);
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
    // RESHAPE aliases share their input's storage root. In-place layers put their output at
    // a fixed offset from their input: `rel` is each root's offset within its group (`group`).
    let mut root: Vec<TensorId> = (0..n).collect();
    let mut runs = vec![true; layers.len()];
    let mut in_place = vec![None; layers.len()];
    let mut group: Vec<TensorId> = (0..n).collect();
    let mut rel = vec![0isize; n];
    let mut joined = vec![false; n];
    // A layer whose output no layer reads and no graph output is (an unused output of a
    // SPLIT) does not run: nothing could observe it.
    let mut read = vec![false; n];
    for layer in layers {
        for &t in &layer.inputs {
            read[t] = true;
        }
    }
    for (i, layer) in layers.iter().enumerate() {
        if !read[layer.output] && locations[layer.output] == Location::Unused {
            runs[i] = false;
            continue;
        }
        if layer.kernel == Kernel::Reshape && locations[layer.output] == Location::Unused {
            let src = root[layer.inputs[0]];
            if !matches!(locations[src], Location::Output(_)) {
                root[layer.output] = src;
                runs[i] = false;
            }
            continue;
        }
        let (Some(mode), Some(slack)) = (modes.get(i).copied().flatten(), slack) else {
            continue;
        };
        // The input it writes over must be an intermediate tensor that no later layer reads
        // (nor this one through another input), its output an intermediate tensor too.
        let dst = layer.output;
        let usable = |slot: usize| {
            let Some(&t) = layer.inputs.get(slot) else {
                return false;
            };
            let src = root[t];
            let read_elsewhere = layers[i + 1..]
                .iter()
                .any(|l| l.inputs.iter().any(|&u| root[u] == src))
                || layer
                    .inputs
                    .iter()
                    .enumerate()
                    .any(|(k, &u)| k != slot && root[u] == src);
            locations[src] == Location::Unused
                && locations[dst] == Location::Unused
                && !read_elsewhere
                && graph.tensors[src].dtype == graph.tensors[dst].dtype
        };
        let Some(slot) = mode.slots.iter().copied().find(|&k| usable(k)) else {
            continue;
        };
        let src = root[layer.inputs[slot]];
        // A chain of in-place layers keeps its tensors at fixed distances, so its span grows
        // with every lead: join it only while it stays within `slack` eighths of its largest
        // tensor (else the output starts a chain of its own, placed freely).
        let g = group[src];
        let dst_rel = rel[src] - mode.lead as isize;
        let dst_bytes = graph.tensors[dst].bytes();
        let members = || (0..n).filter(|&t| group[t] == g && (t == g || joined[t]));
        let low = members()
            .map(|t| rel[t])
            .chain([dst_rel])
            .min()
            .unwrap_or(0);
        let high = members()
            .map(|t| rel[t] + graph.tensors[t].bytes() as isize)
            .chain([dst_rel + dst_bytes as isize])
            .max()
            .unwrap_or(0);
        let largest = members()
            .map(|t| graph.tensors[t].bytes())
            .chain([dst_bytes])
            .max()
            .unwrap_or(0);
        if (high - low) as usize <= largest.saturating_add((largest / 8).saturating_mul(slack)) {
            group[dst] = g;
            rel[dst] = dst_rel;
            joined[dst] = true;
            in_place[i] = Some(slot);
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
                "intermediate tensor {t} '{}' is {}; kiln's arena holds int8, bool, int16, float32, int32, uint32 and uint64 tensors only",
                crate::names::shown(&tensor.name),
                tensor.dtype
            )));
        }
    }
    let size: Vec<usize> = graph.tensors.iter().map(|t| t.bytes()).collect();
    let mut buffers: Vec<Buffer> = Vec::new();
    let mut pools = Vec::new();
    let mut base: usize = 0;
    for dtype in POOL_TYPES {
        let pool: Vec<TensorId> = candidates
            .iter()
            .copied()
            .filter(|&t| graph.tensors[t].dtype == dtype)
            .collect();
        if pool.is_empty() {
            continue;
        }
        base = base.next_multiple_of(dtype.size());
        let placed = greedy(&size, &pool, &group, &rel, &first, &last, base, dtype);
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
            bytes: graph.tensors[b.tensor].bytes(),
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
        in_place,
    })
}

/// Most output pixels of a convolution that may run in place (see [`writes_in_place`]).
pub const MAX_IN_PLACE_PIXELS: usize = 1 << 20;

/// How a layer writes its output over its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InPlace {
    /// Bytes by which the output starts before the input (the output's first byte is at the
    /// input's first byte less `lead`): enough that no write reaches input not yet read.
    pub lead: usize,
    /// The inputs it can write over, in order of preference.
    pub slots: &'static [usize],
}

/// Whether `layer` can write its output over its input, and with what lead. The int8
/// convolutions whose kernels walk output pixels in order, reading a pixel's (or a block's)
/// inputs before writing its outputs: CONV_2D with one group (the patch kernels) and
/// DEPTHWISE_CONV_2D (all its kernels). The lead is the least that keeps every pixel's
/// output bytes below every input byte that pixel or a later one reads
/// ([`crate::runtime::in_place_lead`]). Kernels whose order the lead does not cover (the
/// depthwise rows kernels in chunks of channels) are not chosen for such a layer
/// (`Tuning::depthwise_rows`).
/// Element-wise int8 layers read element `i` before writing element `i`, so they write over
/// an input with no lead: ADD and MUL of same-shaped inputs (no broadcast) over either input,
/// table activations (LOGISTIC, TANH, …) and int8 QUANTIZE over theirs.
pub fn writes_in_place(layer: &Layer, graph: &Graph) -> Option<InPlace> {
    let p = match &layer.kernel {
        Kernel::Conv2d(p, _) if p.shape.k_c == p.shape.in_c => p,
        Kernel::DepthwiseConv2d(p, _) => p,
        Kernel::Add(_) | Kernel::AddTabled(..) | Kernel::Mul(_, None) => {
            return Some(InPlace {
                lead: 0,
                slots: &[0, 1],
            })
        }
        Kernel::Lookup(_) | Kernel::Requantize(_) => {
            return Some(InPlace {
                lead: 0,
                slots: &[0],
            })
        }
        _ => return None,
    };
    let input = graph.tensors[*layer.inputs.first()?].dtype;
    // The lead walks every output pixel at compile time: beyond this many, stay out of place
    // (a hostile model must not make compiling slow; real models have at most thousands).
    let pixels = (p.shape.batches)
        .saturating_mul(p.shape.out_h)
        .saturating_mul(p.shape.out_w);
    (input == DType::I8 && pixels <= MAX_IN_PLACE_PIXELS).then(|| InPlace {
        lead: crate::runtime::in_place_lead(&p.shape),
        slots: &[0],
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

/// First-fit placement of `tensors` from byte `base` on, never overlapping a buffer of another
/// group whose lifetime intersects. Tensors of one group (an in-place chain) keep their
/// relative offsets `rel`; groups go largest first.
#[allow(clippy::too_many_arguments)]
fn greedy(
    size: &[usize],
    tensors: &[TensorId],
    group: &[TensorId],
    rel: &[isize],
    first: &[usize],
    last: &[usize],
    base: usize,
    dtype: DType,
) -> Vec<Buffer> {
    // The groups, each with its members' offsets from the group's lowest byte.
    let mut groups: Vec<(TensorId, Vec<(TensorId, usize)>)> = Vec::new();
    for &t in tensors {
        match groups.iter_mut().find(|(g, _)| *g == group[t]) {
            Some((_, members)) => members.push((t, 0)),
            None => groups.push((group[t], vec![(t, 0)])),
        }
    }
    for (_, members) in &mut groups {
        let low = members.iter().map(|&(t, _)| rel[t]).min().unwrap_or(0);
        for (t, at) in members.iter_mut() {
            *at = (rel[*t] - low) as usize;
        }
    }
    let span = |members: &[(TensorId, usize)]| {
        members
            .iter()
            .map(|&(t, at)| at + size[t])
            .max()
            .unwrap_or(0)
    };
    groups.sort_by_key(|(g, members)| (std::cmp::Reverse(span(members)), first[*g], *g));

    let mut buffers: Vec<Buffer> = Vec::new();
    for (g, members) in groups {
        // Candidate offsets: the base, and every placed buffer's end less a member's offset.
        let mut candidates = vec![base];
        for b in &buffers {
            for &(_, at) in &members {
                if let Some(o) = (b.offset + b.bytes).checked_sub(at) {
                    candidates.push(o.max(base));
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let fits = |o: usize| {
            members.iter().all(|&(t, at)| {
                let (start, end) = (o + at, o + at + size[t]);
                buffers.iter().all(|b| {
                    b.group == g
                        || b.last < first[t]
                        || last[t] < b.first
                        || end <= b.offset
                        || b.offset + b.bytes <= start
                })
            })
        };
        let offset = candidates
            .into_iter()
            .find(|&o| fits(o))
            .unwrap_or_else(|| {
                buffers
                    .iter()
                    .map(|b| b.offset + b.bytes)
                    .max()
                    .unwrap_or(base)
            });
        for (t, at) in members {
            buffers.push(Buffer {
                tensor: t,
                dtype,
                offset: offset + at,
                bytes: size[t],
                first: first[t],
                last: last[t],
                group: g,
            });
        }
    }
    buffers
}
