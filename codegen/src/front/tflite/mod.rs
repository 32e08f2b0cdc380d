//! The TensorFlow Lite front-end: `.tflite` bytes -> [`ir::Graph`](crate::ir::Graph).
//!
//! The whole flatbuffer is verified before anything is read; after that every index, size and
//! enum value taken from the file is checked, so any input yields either a graph or a
//! [`ReadError`], never a panic. Only subgraph 0 is read.

pub mod flexbuffers;
pub mod ops;
pub mod schema;

use crate::ir::{DType, Graph, Op, OpKind, Quant, Tensor, TensorId};
use std::fmt;

/// Names of the operators kiln supports, in builtin-code order.
pub const SUPPORTED_OPS: &[&str] = ops::SUPPORTED;

/// The largest tensor (in bytes) kiln accepts.
pub const MAX_TENSOR_BYTES: usize = 1 << 31;

/// The largest tensor rank kiln accepts.
pub const MAX_RANK: usize = 16;

/// Constant data is copied per tensor, and tensors may share a buffer; the copies may total at
/// most this many times `max(file length, 1 MiB)`, so a small file cannot make `read` allocate
/// without bound.
pub const MAX_DATA_AMPLIFICATION: usize = 16;

/// Where a tensor index was found (for [`ReadError::TensorIndexOutOfRange`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorSlot {
    /// Input `slot` of operator `op`.
    OpInput {
        /// Operator index.
        op: usize,
        /// Operator name.
        name: &'static str,
        /// Input position.
        slot: usize,
    },
    /// Output `slot` of operator `op`.
    OpOutput {
        /// Operator index.
        op: usize,
        /// Operator name.
        name: &'static str,
        /// Output position.
        slot: usize,
    },
    /// Graph input number `0`.
    GraphInput(usize),
    /// Graph output number `0`.
    GraphOutput(usize),
}

impl fmt::Display for TensorSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TensorSlot::OpInput { op, name, slot } => {
                write!(f, "input {slot} of operator {op} ({name})")
            }
            TensorSlot::OpOutput { op, name, slot } => {
                write!(f, "output {slot} of operator {op} ({name})")
            }
            TensorSlot::GraphInput(i) => write!(f, "graph input {i}"),
            TensorSlot::GraphOutput(i) => write!(f, "graph output {i}"),
        }
    }
}

/// Why a `.tflite` file could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadError {
    /// The bytes are not a TFLite flatbuffer (too short, or no `TFL3` identifier).
    NotTflite {
        /// What is wrong.
        reason: String,
    },
    /// Flatbuffer verification failed.
    InvalidFlatbuffer {
        /// The verifier's message.
        message: String,
    },
    /// The model has no subgraph.
    NoSubgraph,
    /// An operator's `opcode_index` is outside the operator-code table.
    OpcodeIndexOutOfRange {
        /// Operator index.
        op: usize,
        /// The bad opcode index.
        opcode_index: u32,
        /// Number of operator codes.
        count: usize,
    },
    /// An operator kiln does not implement.
    UnsupportedOp {
        /// Operator index.
        index: usize,
        /// Operator name (`CUSTOM:<code>` for custom operators).
        name: String,
        /// The supported operators.
        supported: &'static [&'static str],
    },
    /// A required builtin options table is missing, or the options have another type.
    MissingOptions {
        /// Operator index.
        op: usize,
        /// Operator name.
        name: &'static str,
        /// The expected options table.
        expected: &'static str,
        /// The union type found (0 = none).
        found: u8,
    },
    /// An option value is out of range or unsupported.
    InvalidOptions {
        /// Operator index.
        op: usize,
        /// Operator name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A fused activation kiln does not implement (TANH, SIGN_BIT, unknown values).
    UnsupportedActivation {
        /// Operator index.
        op: usize,
        /// Operator name.
        name: &'static str,
        /// The activation's name.
        activation: String,
    },
    /// A tensor index does not name a tensor.
    TensorIndexOutOfRange {
        /// Where the index was found.
        slot: TensorSlot,
        /// The bad index.
        index: i32,
        /// Number of tensors.
        count: usize,
    },
    /// A tensor element type kiln does not support.
    UnsupportedTensorType {
        /// Tensor index.
        tensor: usize,
        /// Tensor name.
        name: String,
        /// The type's schema name (e.g. `FLOAT16`).
        type_name: String,
    },
    /// A tensor uses a feature kiln does not support (sparsity, external buffers).
    UnsupportedTensor {
        /// Tensor index.
        tensor: usize,
        /// Tensor name.
        name: String,
        /// The feature.
        feature: &'static str,
    },
    /// A negative dimension, a rank above [`MAX_RANK`], or a tensor larger than
    /// [`MAX_TENSOR_BYTES`].
    InvalidShape {
        /// Tensor index.
        tensor: usize,
        /// Tensor name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A tensor's buffer index is outside the model's buffer table.
    BufferIndexOutOfRange {
        /// Tensor index.
        tensor: usize,
        /// Tensor name.
        name: String,
        /// The bad buffer index.
        buffer: u32,
        /// Number of buffers.
        count: usize,
    },
    /// A buffer stored outside the flatbuffer (`offset`/`size`) lies beyond the end of the file.
    BufferOutOfBounds {
        /// Buffer index.
        buffer: usize,
        /// Its offset from the start of the file.
        offset: u64,
        /// Its size.
        size: u64,
        /// The file length.
        file_len: usize,
    },
    /// A constant tensor's buffer has the wrong number of bytes for its shape and type.
    BufferSizeMismatch {
        /// Tensor index.
        tensor: usize,
        /// Tensor name.
        name: String,
        /// Tensor shape.
        shape: Vec<usize>,
        /// Tensor element type.
        dtype: DType,
        /// Buffer index.
        buffer: usize,
        /// Bytes the shape and type need.
        expected: usize,
        /// Bytes in the buffer.
        actual: usize,
    },
    /// The constant tensors' data (counting shared buffers once per tensor) exceeds
    /// [`MAX_DATA_AMPLIFICATION`] times the file size.
    TooMuchConstantData {
        /// The tensor whose data crossed the limit.
        tensor: usize,
        /// Tensor name.
        name: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// Inconsistent quantization parameters.
    InvalidQuantization {
        /// Tensor index.
        tensor: usize,
        /// Tensor name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// Formats a shape as `[16,3,3,3]`.
fn shape_str(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(","))
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotTflite { reason } => {
                write!(f, "not a TensorFlow Lite model: {reason}")
            }
            ReadError::InvalidFlatbuffer { message } => write!(
                f,
                "malformed TensorFlow Lite model (truncated or corrupted?): flatbuffer verification failed: {message}"
            ),
            ReadError::NoSubgraph => write!(f, "the TensorFlow Lite model has no subgraph"),
            ReadError::OpcodeIndexOutOfRange {
                op,
                opcode_index,
                count,
            } => write!(
                f,
                "operator {op} uses opcode index {opcode_index}, but the model has only \
                 {count} operator codes"
            ),
            ReadError::UnsupportedOp {
                index,
                name,
                supported,
            } => {
                let mut sorted = supported.to_vec();
                sorted.sort_unstable();
                write!(
                    f,
                    "operator {index} is {}, which kiln does not support yet (supported: {}; \
                     custom: {})",
                    crate::names::shown(name),
                    sorted.join(", "),
                    ops::SUPPORTED_CUSTOM.join(", ")
                )
            }
            ReadError::MissingOptions {
                op,
                name,
                expected,
                found: 0,
            } => write!(f, "operator {op} ({name}) has no {expected}"),
            ReadError::MissingOptions {
                op,
                name,
                expected,
                found,
            } => write!(
                f,
                "operator {op} ({name}) has builtin options of union type {found} instead of \
                 {expected}"
            ),
            ReadError::InvalidOptions { op, name, reason } => {
                write!(f, "operator {op} ({name}) has invalid options: {reason}")
            }
            ReadError::UnsupportedActivation {
                op,
                name,
                activation,
            } => write!(
                f,
                "operator {op} ({name}) uses fused activation {activation}, which kiln does not \
                 support (supported: NONE, RELU, RELU_N1_TO_1, RELU6)"
            ),
            ReadError::TensorIndexOutOfRange { slot, index, count } => write!(
                f,
                "{slot} refers to tensor {index}, but the model has only {count} tensors"
            ),
            ReadError::UnsupportedTensorType {
                tensor,
                name,
                type_name,
            } => write!(
                f,
                "tensor {tensor} '{name}' has type {type_name}, which kiln does not support \
                 (supported: FLOAT32, INT32, UINT8, INT64, INT16, INT8, UINT64, UINT32)", name = crate::names::shown(name)),
            ReadError::UnsupportedTensor {
                tensor,
                name,
                feature,
            } => write!(
                f,
                "tensor {tensor} '{name}' uses {feature}, which kiln does not support", name = crate::names::shown(name)),
            ReadError::InvalidShape {
                tensor,
                name,
                reason,
            } => write!(f, "tensor {tensor} '{name}' has an invalid shape: {reason}", name = crate::names::shown(name)),
            ReadError::BufferIndexOutOfRange {
                tensor,
                name,
                buffer,
                count,
            } => write!(
                f,
                "tensor {tensor} '{name}' refers to buffer {buffer}, but the model has only \
                 {count} buffers", name = crate::names::shown(name)),
            ReadError::BufferOutOfBounds {
                buffer,
                offset,
                size,
                file_len,
            } => write!(
                f,
                "buffer {buffer} is stored at bytes {offset}..{offset}+{size}, beyond the end \
                 of the {file_len}-byte file"
            ),
            ReadError::BufferSizeMismatch {
                tensor,
                name,
                shape,
                dtype,
                buffer,
                expected,
                actual,
            } => write!(
                f,
                "tensor {tensor} '{name}' needs {expected} bytes for shape {} {dtype} but its \
                 buffer {buffer} has {actual}",
                shape_str(shape), name = crate::names::shown(name)),
            ReadError::TooMuchConstantData {
                tensor,
                name,
                limit,
            } => write!(
                f,
                "tensor {tensor} '{name}' brings the constant data to more than {limit} bytes \
                 ({MAX_DATA_AMPLIFICATION}x the file size; are many tensors sharing a buffer?)", name = crate::names::shown(name)),
            ReadError::InvalidQuantization {
                tensor,
                name,
                reason,
            } => write!(
                f,
                "tensor {tensor} '{name}' has invalid quantization: {reason}", name = crate::names::shown(name)),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads a `.tflite` model (its subgraph 0) into an [`ir::Graph`](crate::ir::Graph).
pub fn read(bytes: &[u8]) -> Result<Graph, ReadError> {
    let model = verify(bytes)?;
    let subgraph = model
        .subgraphs()
        .and_then(|s| s.iter().next())
        .ok_or(ReadError::NoSubgraph)?;
    let opcodes: Vec<schema::OperatorCode<'_>> = model
        .operator_codes()
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let buffers: Vec<schema::Buffer<'_>> = model
        .buffers()
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let operators: Vec<schema::Operator<'_>> = subgraph
        .operators()
        .map(|v| v.iter().collect())
        .unwrap_or_default();

    // Operators first: an unsupported operator is the most useful thing to report.
    let mut kinds: Vec<(OpKind, &'static str)> = Vec::with_capacity(operators.len());
    for (index, op) in operators.iter().enumerate() {
        kinds.push(read_op_kind(*op, index, &opcodes)?);
    }

    let mut data_budget = bytes
        .len()
        .max(1 << 20)
        .saturating_mul(MAX_DATA_AMPLIFICATION);
    let tensors = subgraph
        .tensors()
        .map(|v| {
            v.iter()
                .enumerate()
                .map(|(i, t)| read_tensor(i, t, &buffers, bytes, &mut data_budget))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let count = tensors.len();

    let mut ops = Vec::with_capacity(operators.len());
    for (index, (op, (kind, name))) in operators.iter().zip(kinds).enumerate() {
        let inputs = op
            .inputs()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(slot, t)| match t {
                -1 => Ok(None),
                _ => tensor_id(
                    t,
                    count,
                    TensorSlot::OpInput {
                        op: index,
                        name,
                        slot,
                    },
                )
                .map(Some),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = op
            .outputs()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(slot, t)| {
                tensor_id(
                    t,
                    count,
                    TensorSlot::OpOutput {
                        op: index,
                        name,
                        slot,
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        ops.push(Op {
            kind,
            name,
            inputs,
            outputs,
        });
    }

    let inputs = subgraph
        .inputs()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, t)| tensor_id(t, count, TensorSlot::GraphInput(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = subgraph
        .outputs()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, t)| tensor_id(t, count, TensorSlot::GraphOutput(i)))
        .collect::<Result<Vec<_>, _>>()?;

    let variables = subgraph
        .tensors()
        .map(|v| {
            v.iter()
                .enumerate()
                .filter(|(_, t)| t.is_variable())
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();

    Ok(Graph {
        tensors,
        ops,
        inputs,
        outputs,
        variables,
        arithmetic: crate::ir::Arithmetic::Tflm,
        folded: Vec::new(),
    })
}

/// Checks the identifier and verifies the whole flatbuffer.
fn verify(bytes: &[u8]) -> Result<schema::Model<'_>, ReadError> {
    let Some(ident) = bytes.get(4..8) else {
        return Err(ReadError::NotTflite {
            reason: format!(
                "the file is only {} bytes long, too short for a flatbuffer header",
                bytes.len()
            ),
        });
    };
    if ident != b"TFL3" {
        return Err(ReadError::NotTflite {
            reason: format!(
                "the file identifier (bytes 4..8) is \"{}\", expected \"TFL3\"",
                ident.escape_ascii()
            ),
        });
    }
    // Legitimate models have an "apparent size" (bytes visited, counting shared parts again)
    // close to their length; a far larger one means heavily shared tables, a DoS pattern.
    let opts = flatbuffers::VerifierOptions {
        max_apparent_size: bytes.len().saturating_mul(8).clamp(1 << 16, 1 << 31),
        ..Default::default()
    };
    flatbuffers::root_with_opts::<schema::Model>(&opts, bytes).map_err(|e| {
        let text = e.to_string();
        let lines: Vec<&str> = text
            .lines()
            .map(|l| l.trim().trim_end_matches('.'))
            .filter(|l| !l.is_empty())
            .collect();
        ReadError::InvalidFlatbuffer {
            message: lines.join("; "),
        }
    })
}

/// Resolves an operator's code and parses its options.
fn read_op_kind(
    op: schema::Operator<'_>,
    index: usize,
    opcodes: &[schema::OperatorCode<'_>],
) -> Result<(OpKind, &'static str), ReadError> {
    let opcode_index = op.opcode_index();
    let opcode = usize::try_from(opcode_index)
        .ok()
        .and_then(|i| opcodes.get(i))
        .ok_or(ReadError::OpcodeIndexOutOfRange {
            op: index,
            opcode_index,
            count: opcodes.len(),
        })?;
    let code = opcode.code();
    let custom = ops::builtin(code)
        .filter(|row| row.name == "CUSTOM")
        .and_then(|_| ops::custom(opcode.custom_code()?));
    if let Some(custom) = custom {
        let cx = ops::OpContext {
            op,
            index,
            name: custom.name,
        };
        // TFLM hands an operator without options an empty buffer; the operators that read
        // options then fail, which the parsers report as a missing entry.
        let map = match op.custom_options() {
            Some(bytes) => flexbuffers::read_map(bytes)
                .map_err(|e| cx.invalid(format!("custom_options: {e}")))?,
            None => flexbuffers::FlexMap::default(),
        };
        return Ok(((custom.parse)(&cx, &map)?, custom.name));
    }
    let Some((name, parse)) = ops::builtin(code).and_then(|row| Some((row.name, row.parse?)))
    else {
        return Err(ReadError::UnsupportedOp {
            index,
            name: ops::op_name(code, opcode.custom_code()),
            supported: SUPPORTED_OPS,
        });
    };
    let kind = parse(&ops::OpContext { op, index, name })?;
    Ok((kind, name))
}

/// Checks a tensor index from the file.
fn tensor_id(index: i32, count: usize, slot: TensorSlot) -> Result<TensorId, ReadError> {
    usize::try_from(index)
        .ok()
        .filter(|&i| i < count)
        .ok_or(ReadError::TensorIndexOutOfRange { slot, index, count })
}

/// Maps a `TensorType` value to a [`DType`], or to its schema name when unsupported.
fn dtype(tensor_type: i8) -> Result<DType, String> {
    Ok(match tensor_type {
        0 => DType::F32,
        2 => DType::I32,
        3 => DType::U8,
        4 => DType::I64,
        7 => DType::I16,
        9 => DType::I8,
        6 => DType::Bool,
        12 => DType::U64,
        15 => DType::U32,
        other => {
            const NAMES: [&str; 23] = [
                "FLOAT32",
                "FLOAT16",
                "INT32",
                "UINT8",
                "INT64",
                "STRING",
                "BOOL",
                "INT16",
                "COMPLEX64",
                "INT8",
                "FLOAT64",
                "COMPLEX128",
                "UINT64",
                "RESOURCE",
                "VARIANT",
                "UINT32",
                "UINT16",
                "INT4",
                "BFLOAT16",
                "INT2",
                "UINT4",
                "FLOAT8_E4M3FN",
                "FLOAT8_E5M2",
            ];
            return Err(usize::try_from(other)
                .ok()
                .and_then(|i| NAMES.get(i))
                .map_or_else(|| format!("unknown type {other}"), |n| n.to_string()));
        }
    })
}

/// Reads one tensor: type, shape, quantization, constant data.
fn read_tensor(
    index: usize,
    t: schema::Tensor<'_>,
    buffers: &[schema::Buffer<'_>],
    file: &[u8],
    data_budget: &mut usize,
) -> Result<Tensor, ReadError> {
    let name = t.name().unwrap_or("").to_string();
    let dtype = dtype(t.tensor_type()).map_err(|type_name| ReadError::UnsupportedTensorType {
        tensor: index,
        name: name.clone(),
        type_name,
    })?;
    let unsupported = |feature| ReadError::UnsupportedTensor {
        tensor: index,
        name: name.clone(),
        feature,
    };
    if t.has_sparsity() {
        return Err(unsupported("sparse storage"));
    }
    if t.external_buffer() != 0 {
        return Err(unsupported("an external buffer"));
    }

    let invalid_shape = |reason: String| ReadError::InvalidShape {
        tensor: index,
        name: name.clone(),
        reason,
    };
    let dims = t.shape();
    let rank = dims.map_or(0, |d| d.len());
    if rank > MAX_RANK {
        return Err(invalid_shape(format!(
            "rank {rank} is above the maximum {MAX_RANK}"
        )));
    }
    let mut shape = Vec::with_capacity(rank);
    for d in dims.into_iter().flatten() {
        shape.push(
            usize::try_from(d)
                .map_err(|_| invalid_shape(format!("dimension {} is {d}", shape.len())))?,
        );
    }
    let bytes = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_mul(dtype.size()))
        .filter(|&b| b <= MAX_TENSOR_BYTES)
        .ok_or_else(|| {
            invalid_shape(format!(
                "{} {dtype} is larger than {MAX_TENSOR_BYTES} bytes",
                shape_str(&shape)
            ))
        })?;

    let quant = read_quant(index, &name, t.quantization(), &shape)?;

    let buffer_index = t.buffer();
    let raw = match usize::try_from(buffer_index)
        .ok()
        .and_then(|i| buffers.get(i).map(|b| (i, b)))
    {
        Some((i, b)) => buffer_data(i, b, file)?.map(|d| (i, d)),
        None if buffer_index == 0 => None,
        None => {
            return Err(ReadError::BufferIndexOutOfRange {
                tensor: index,
                name,
                buffer: buffer_index,
                count: buffers.len(),
            })
        }
    };
    let data = match raw {
        None => None,
        Some((_, d)) if d.len() == bytes => {
            *data_budget =
                data_budget
                    .checked_sub(d.len())
                    .ok_or_else(|| ReadError::TooMuchConstantData {
                        tensor: index,
                        name: name.clone(),
                        limit: file
                            .len()
                            .max(1 << 20)
                            .saturating_mul(MAX_DATA_AMPLIFICATION),
                    })?;
            Some(d.to_vec())
        }
        Some((buffer, d)) => {
            return Err(ReadError::BufferSizeMismatch {
                tensor: index,
                name,
                shape,
                dtype,
                buffer,
                expected: bytes,
                actual: d.len(),
            })
        }
    };

    Ok(Tensor {
        name,
        shape,
        dtype,
        quant,
        data,
    })
}

/// The non-empty data of a buffer: inside the flatbuffer, or at `offset`/`size` in the file.
fn buffer_data<'a>(
    index: usize,
    b: &schema::Buffer<'a>,
    file: &'a [u8],
) -> Result<Option<&'a [u8]>, ReadError> {
    if let Some(data) = b.data().filter(|d| !d.is_empty()) {
        return Ok(Some(data));
    }
    // As in TFLite: offset 1 is a placeholder written during export, not a location.
    let (offset, size) = (b.offset(), b.size());
    if offset <= 1 || size == 0 {
        return Ok(None);
    }
    let range = usize::try_from(offset)
        .ok()
        .zip(usize::try_from(size).ok())
        .and_then(|(start, len)| Some(start..start.checked_add(len)?));
    match range.and_then(|r| file.get(r)) {
        Some(data) => Ok(Some(data)),
        None => Err(ReadError::BufferOutOfBounds {
            buffer: index,
            offset,
            size,
            file_len: file.len(),
        }),
    }
}

/// Reads quantization parameters; `None` when there are no scales.
fn read_quant(
    index: usize,
    name: &str,
    q: Option<schema::QuantizationParameters<'_>>,
    shape: &[usize],
) -> Result<Option<Quant>, ReadError> {
    let Some(q) = q else { return Ok(None) };
    let scales: Vec<f32> = q.scale().into_iter().flatten().collect();
    if scales.is_empty() {
        return Ok(None);
    }
    let invalid = |reason: String| ReadError::InvalidQuantization {
        tensor: index,
        name: name.to_string(),
        reason,
    };
    let zero_points: Vec<i64> = q.zero_point().into_iter().flatten().collect();
    if zero_points.len() != scales.len() {
        return Err(invalid(format!(
            "{} scales but {} zero points",
            scales.len(),
            zero_points.len()
        )));
    }
    if let Some(bad) = scales.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
        return Err(invalid(format!(
            "scale {bad} is not a finite non-negative number"
        )));
    }
    if let Some(bad) = zero_points.iter().find(|z| i32::try_from(**z).is_err()) {
        return Err(invalid(format!("zero point {bad} does not fit in 32 bits")));
    }
    let axis = if scales.len() == 1 {
        0
    } else {
        let dim = q.quantized_dimension();
        let axis = usize::try_from(dim)
            .ok()
            .filter(|&a| a < shape.len())
            // Some converters copy the filter's quantized_dimension (e.g. 3) onto rank-1
            // per-channel biases (person_detect does); TFLite ignores it, and axis 0 is the
            // only possible one.
            .or((shape.len() == 1).then_some(0))
            .ok_or_else(|| {
                invalid(format!(
                    "quantized_dimension {dim} is outside shape {}",
                    shape_str(shape)
                ))
            })?;
        let extent = shape.get(axis).copied().unwrap_or(0);
        if extent != scales.len() {
            return Err(invalid(format!(
                "{} per-channel scales but dimension {axis} of shape {} is {extent}",
                scales.len(),
                shape_str(shape)
            )));
        }
        axis
    };
    Ok(Some(Quant {
        scales,
        zero_points,
        axis,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Activation, Conv2dOptions, FullyConnectedOptions, Padding, Pool2dOptions};
    use flatbuffers::{FlatBufferBuilder, WIPOffset};

    // ---- a tiny test-only model builder ------------------------------------------------------

    /// A scalar field of an options table.
    #[derive(Clone, Copy)]
    enum Val {
        I8(i8),
        I32(i32),
        F32(f32),
        Bool(bool),
    }

    /// Builtin options: union type and `(field id, value)` pairs.
    type OptSpec = (u8, Vec<(u16, Val)>);

    #[derive(Clone)]
    struct TensorSpec {
        name: Option<&'static str>,
        shape: Option<Vec<i32>>,
        ty: i8,
        buffer: u32,
        /// scales, zero points, quantized dimension
        quant: Option<(Vec<f32>, Vec<i64>, i32)>,
    }

    #[derive(Clone)]
    struct OpSpec {
        opcode_index: u32,
        inputs: Vec<i32>,
        outputs: Vec<i32>,
        options: Option<OptSpec>,
    }

    #[derive(Clone)]
    enum BufSpec {
        Data(Vec<u8>),
        External { offset: u64, size: u64 },
    }

    #[derive(Clone)]
    struct ModelSpec {
        /// (deprecated_builtin_code, builtin_code, custom_code)
        opcodes: Vec<(Option<i8>, Option<i32>, Option<&'static str>)>,
        tensors: Vec<TensorSpec>,
        buffers: Vec<BufSpec>,
        ops: Vec<OpSpec>,
        inputs: Vec<i32>,
        outputs: Vec<i32>,
        with_subgraph: bool,
    }

    const fn slot(id: u16) -> u16 {
        4 + 2 * id
    }

    impl ModelSpec {
        fn build(&self) -> Vec<u8> {
            let mut b = FlatBufferBuilder::new();

            let mut opcodes = Vec::new();
            for &(dep, code, custom) in &self.opcodes {
                let custom = custom.map(|c| b.create_string(c));
                let t = b.start_table();
                if let Some(d) = dep {
                    b.push_slot_always::<i8>(slot(0), d);
                }
                if let Some(c) = custom {
                    b.push_slot_always(slot(1), c);
                }
                if let Some(c) = code {
                    b.push_slot_always::<i32>(slot(3), c);
                }
                opcodes.push(b.end_table(t));
            }

            let mut buffers = Vec::new();
            for buf in &self.buffers {
                let data = match buf {
                    BufSpec::Data(d) if !d.is_empty() => Some(b.create_vector(d)),
                    _ => None,
                };
                let t = b.start_table();
                if let Some(d) = data {
                    b.push_slot_always(slot(0), d);
                }
                if let BufSpec::External { offset, size } = *buf {
                    b.push_slot_always::<u64>(slot(1), offset);
                    b.push_slot_always::<u64>(slot(2), size);
                }
                buffers.push(b.end_table(t));
            }

            let mut tensors = Vec::new();
            for ts in &self.tensors {
                let shape = ts.shape.as_ref().map(|s| b.create_vector(s));
                let name = ts.name.map(|n| b.create_string(n));
                let quant = ts.quant.as_ref().map(|(scales, zps, dim)| {
                    let s = b.create_vector(scales);
                    let z = b.create_vector(zps);
                    let t = b.start_table();
                    b.push_slot_always(slot(2), s);
                    b.push_slot_always(slot(3), z);
                    b.push_slot_always::<i32>(slot(6), *dim);
                    b.end_table(t)
                });
                let t = b.start_table();
                if let Some(s) = shape {
                    b.push_slot_always(slot(0), s);
                }
                b.push_slot_always::<i8>(slot(1), ts.ty);
                b.push_slot_always::<u32>(slot(2), ts.buffer);
                if let Some(n) = name {
                    b.push_slot_always(slot(3), n);
                }
                if let Some(q) = quant {
                    b.push_slot_always(slot(4), q);
                }
                tensors.push(b.end_table(t));
            }

            let mut ops = Vec::new();
            for op in &self.ops {
                let inputs = b.create_vector(&op.inputs);
                let outputs = b.create_vector(&op.outputs);
                let options = op.options.as_ref().map(|(ty, fields)| {
                    let t = b.start_table();
                    for &(id, v) in fields {
                        match v {
                            Val::I8(x) => b.push_slot_always::<i8>(slot(id), x),
                            Val::I32(x) => b.push_slot_always::<i32>(slot(id), x),
                            Val::F32(x) => b.push_slot_always::<f32>(slot(id), x),
                            Val::Bool(x) => b.push_slot_always::<bool>(slot(id), x),
                        }
                    }
                    (*ty, b.end_table(t))
                });
                let t = b.start_table();
                b.push_slot_always::<u32>(slot(0), op.opcode_index);
                b.push_slot_always(slot(1), inputs);
                b.push_slot_always(slot(2), outputs);
                if let Some((ty, o)) = options {
                    b.push_slot_always::<u8>(slot(3), ty);
                    b.push_slot_always(slot(4), o.as_union_value());
                }
                ops.push(b.end_table(t));
            }

            let subgraphs = if self.with_subgraph {
                let tensors = b.create_vector(&tensors);
                let inputs = b.create_vector(&self.inputs);
                let outputs = b.create_vector(&self.outputs);
                let ops = b.create_vector(&ops);
                let t = b.start_table();
                b.push_slot_always(slot(0), tensors);
                b.push_slot_always(slot(1), inputs);
                b.push_slot_always(slot(2), outputs);
                b.push_slot_always(slot(3), ops);
                vec![b.end_table(t)]
            } else {
                Vec::new()
            };
            let subgraphs = b.create_vector(&subgraphs);
            let opcodes = b.create_vector(&opcodes);
            let buffers = b.create_vector(&buffers);
            let t = b.start_table();
            b.push_slot_always::<u32>(slot(0), 3);
            b.push_slot_always(slot(1), opcodes);
            b.push_slot_always(slot(2), subgraphs);
            b.push_slot_always(slot(4), buffers);
            let root: WIPOffset<_> = b.end_table(t);
            b.finish(root, Some("TFL3"));
            b.finished_data().to_vec()
        }
    }

    const WEIGHTS: [i8; 12] = [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -128];
    const BIAS: [i32; 3] = [100, -200, i32::MAX];

    fn weight_bytes() -> Vec<u8> {
        WEIGHTS.iter().map(|&w| w as u8).collect()
    }

    fn bias_bytes() -> Vec<u8> {
        BIAS.iter().flat_map(|b| b.to_le_bytes()).collect()
    }

    /// One int8 FULLY_CONNECTED: input [1,4] x weights [3,4] + bias [3] -> output [1,3].
    fn fc_model() -> ModelSpec {
        ModelSpec {
            opcodes: vec![(None, Some(9), None)],
            tensors: vec![
                TensorSpec {
                    name: Some("input"),
                    shape: Some(vec![1, 4]),
                    ty: 9,
                    buffer: 0,
                    quant: Some((vec![0.5], vec![-1], 0)),
                },
                TensorSpec {
                    name: Some("fc/weights"),
                    shape: Some(vec![3, 4]),
                    ty: 9,
                    buffer: 1,
                    quant: Some((vec![0.125, 0.25, 0.375], vec![0, 0, 0], 0)),
                },
                TensorSpec {
                    name: Some("fc/bias"),
                    shape: Some(vec![3]),
                    ty: 2,
                    buffer: 2,
                    quant: Some((vec![0.0625, 0.125, 0.1875], vec![0, 0, 0], 0)),
                },
                TensorSpec {
                    name: None,
                    shape: Some(vec![1, 3]),
                    ty: 9,
                    buffer: 3,
                    quant: Some((vec![0.25], vec![3], 0)),
                },
            ],
            buffers: vec![
                BufSpec::Data(vec![]),
                BufSpec::Data(weight_bytes()),
                BufSpec::Data(bias_bytes()),
                BufSpec::Data(vec![]),
            ],
            ops: vec![OpSpec {
                opcode_index: 0,
                inputs: vec![0, 1, 2],
                outputs: vec![3],
                options: Some((8, vec![(0, Val::I8(1)), (2, Val::Bool(true))])),
            }],
            inputs: vec![0],
            outputs: vec![3],
            with_subgraph: true,
        }
    }

    fn expected_fc_graph() -> Graph {
        let per_tensor = |scale: f32, zp: i64| {
            Some(Quant {
                scales: vec![scale],
                zero_points: vec![zp],
                axis: 0,
            })
        };
        Graph {
            tensors: vec![
                Tensor {
                    name: "input".into(),
                    shape: vec![1, 4],
                    dtype: DType::I8,
                    quant: per_tensor(0.5, -1),
                    data: None,
                },
                Tensor {
                    name: "fc/weights".into(),
                    shape: vec![3, 4],
                    dtype: DType::I8,
                    quant: Some(Quant {
                        scales: vec![0.125, 0.25, 0.375],
                        zero_points: vec![0, 0, 0],
                        axis: 0,
                    }),
                    data: Some(weight_bytes()),
                },
                Tensor {
                    name: "fc/bias".into(),
                    shape: vec![3],
                    dtype: DType::I32,
                    quant: Some(Quant {
                        scales: vec![0.0625, 0.125, 0.1875],
                        zero_points: vec![0, 0, 0],
                        axis: 0,
                    }),
                    data: Some(bias_bytes()),
                },
                Tensor {
                    name: String::new(),
                    shape: vec![1, 3],
                    dtype: DType::I8,
                    quant: per_tensor(0.25, 3),
                    data: None,
                },
            ],
            ops: vec![Op {
                kind: OpKind::FullyConnected(FullyConnectedOptions {
                    activation: Activation::Relu,
                    keep_num_dims: true,
                }),
                name: "FULLY_CONNECTED",
                inputs: vec![Some(0), Some(1), Some(2)],
                outputs: vec![3],
            }],
            inputs: vec![0],
            outputs: vec![3],
            variables: vec![],
            arithmetic: Default::default(),
            folded: Vec::new(),
        }
    }

    /// Reads `spec` with its single operator replaced by `code` with `options`.
    fn read_single_op(code: i32, options: Option<OptSpec>) -> Result<Graph, ReadError> {
        let mut spec = fc_model();
        spec.opcodes = vec![(None, Some(code), None)];
        spec.ops[0].options = options;
        read(&spec.build())
    }

    fn single_kind(code: i32, options: Option<OptSpec>) -> Result<OpKind, ReadError> {
        read_single_op(code, options).map(|g| g.ops[0].kind.clone())
    }

    // ---- valid models ------------------------------------------------------------------------

    #[test]
    fn reads_fully_connected_model() {
        let g = read(&fc_model().build()).unwrap();
        assert_eq!(g, expected_fc_graph());
        assert_eq!(g.tensors[1].data_i8(), WEIGHTS);
        assert_eq!(g.tensors[2].data_i32(), BIAS);
    }

    #[test]
    fn omitted_optional_input_is_none() {
        let mut spec = fc_model();
        spec.ops[0].inputs = vec![0, 1, -1];
        let g = read(&spec.build()).unwrap();
        assert_eq!(g.ops[0].inputs, vec![Some(0), Some(1), None]);
        assert_eq!(g.ops[0].input(2), None);
    }

    #[test]
    fn op_code_is_max_of_deprecated_and_builtin() {
        for opcode in [
            (Some(9), None, None),
            (Some(9), Some(0), None),
            (None, Some(9), None),
            (Some(0), Some(9), None),
            (Some(9), Some(9), None),
        ] {
            let mut spec = fc_model();
            spec.opcodes = vec![opcode];
            let g = read(&spec.build()).unwrap();
            assert_eq!(g.ops[0].name, "FULLY_CONNECTED");
        }
        // deprecated 127 = "look at builtin_code"; 150 = GELU.
        let mut spec = fc_model();
        spec.opcodes = vec![(Some(127), Some(150), None)];
        match read(&spec.build()) {
            Err(ReadError::UnsupportedOp { name, .. }) => assert_eq!(name, "GELU"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unused_unsupported_opcodes_are_fine() {
        let mut spec = fc_model();
        spec.opcodes = vec![
            (None, Some(114), None),
            (None, Some(9), None),
            (None, Some(28), None),
        ];
        spec.ops[0].opcode_index = 1;
        assert_eq!(read(&spec.build()).unwrap(), expected_fc_graph());
    }

    #[test]
    fn missing_optional_fields_use_defaults() {
        let mut spec = fc_model();
        spec.ops[0].options = None;
        spec.tensors[0].quant = None;
        spec.tensors[3].shape = None;
        spec.tensors[3].quant = Some((vec![], vec![], 0));
        let g = read(&spec.build()).unwrap();
        assert_eq!(
            g.ops[0].kind,
            OpKind::FullyConnected(FullyConnectedOptions {
                activation: Activation::None,
                keep_num_dims: false
            })
        );
        assert_eq!(g.tensors[0].quant, None);
        assert_eq!(g.tensors[3].quant, None);
        assert!(g.tensors[3].shape.is_empty());
    }

    #[test]
    fn rank_one_per_channel_quant_with_foreign_axis_uses_axis_0() {
        // As in person_detect: depthwise biases carry the filter's quantized_dimension 3.
        let mut spec = fc_model();
        spec.tensors[2].quant = Some((vec![0.0625, 0.125, 0.1875], vec![0, 0, 0], 3));
        let g = read(&spec.build()).unwrap();
        assert_eq!(g.tensors[2].quant.as_ref().unwrap().axis, 0);
    }

    #[test]
    fn per_channel_axis_is_kept() {
        let mut spec = fc_model();
        spec.tensors[1].shape = Some(vec![4, 3]);
        spec.tensors[1].quant = Some((vec![0.125, 0.25, 0.375], vec![0, 0, 0], 1));
        let g = read(&spec.build()).unwrap();
        assert_eq!(g.tensors[1].quant.as_ref().unwrap().axis, 1);
    }

    #[test]
    fn parses_supported_options() {
        let conv = single_kind(
            3,
            Some((
                1,
                vec![
                    (0, Val::I8(1)),
                    (1, Val::I32(2)),
                    (2, Val::I32(3)),
                    (3, Val::I8(3)),
                ],
            )),
        );
        assert_eq!(
            conv,
            Ok(OpKind::Conv2d(Conv2dOptions {
                padding: Padding::Valid,
                stride_w: 2,
                stride_h: 3,
                dilation_w: 1,
                dilation_h: 1,
                activation: Activation::Relu6,
            }))
        );
        let dw = single_kind(
            4,
            Some((
                2,
                vec![
                    (1, Val::I32(1)),
                    (2, Val::I32(1)),
                    (3, Val::I32(8)),
                    (4, Val::I8(2)),
                    (5, Val::I32(2)),
                    (6, Val::I32(4)),
                ],
            )),
        );
        assert_eq!(
            dw,
            Ok(OpKind::DepthwiseConv2d(crate::ir::DepthwiseConv2dOptions {
                conv: Conv2dOptions {
                    padding: Padding::Same,
                    stride_w: 1,
                    stride_h: 1,
                    dilation_w: 2,
                    dilation_h: 4,
                    activation: Activation::ReluN1To1,
                },
                depth_multiplier: 8,
            }))
        );
        let pool_opts = Some((
            5,
            vec![
                (0, Val::I8(1)),
                (1, Val::I32(2)),
                (2, Val::I32(2)),
                (3, Val::I32(3)),
                (4, Val::I32(4)),
            ],
        ));
        let pool = Pool2dOptions {
            padding: Padding::Valid,
            stride_w: 2,
            stride_h: 2,
            filter_w: 3,
            filter_h: 4,
            activation: Activation::None,
        };
        assert_eq!(
            single_kind(1, pool_opts.clone()),
            Ok(OpKind::AveragePool2d(pool))
        );
        assert_eq!(single_kind(17, pool_opts), Ok(OpKind::MaxPool2d(pool)));
        assert_eq!(
            single_kind(0, None),
            Ok(OpKind::Add {
                activation: Activation::None
            })
        );
        assert_eq!(
            single_kind(0, Some((11, vec![(0, Val::I8(1))]))),
            Ok(OpKind::Add {
                activation: Activation::Relu
            })
        );
        assert_eq!(single_kind(22, None), Ok(OpKind::Reshape));
        // ReshapeOptions (union type 17) is ignored, not an error.
        assert_eq!(single_kind(22, Some((17, vec![]))), Ok(OpKind::Reshape));
        assert_eq!(single_kind(25, None), Ok(OpKind::Softmax { beta: 1.0 }));
        assert_eq!(
            single_kind(25, Some((9, vec![(0, Val::F32(0.5))]))),
            Ok(OpKind::Softmax { beta: 0.5 })
        );
        assert_eq!(single_kind(114, None), Ok(OpKind::Quantize));
        assert_eq!(single_kind(6, None), Ok(OpKind::Dequantize));
    }

    #[test]
    fn reads_external_buffer() {
        let mut spec = fc_model();
        spec.buffers[1] = BufSpec::External {
            offset: 0,
            size: 12,
        };
        let len = spec.build().len();
        spec.buffers[1] = BufSpec::External {
            offset: len as u64,
            size: 12,
        };
        let mut bytes = spec.build();
        assert_eq!(bytes.len(), len);
        bytes.extend(weight_bytes());
        assert_eq!(read(&bytes).unwrap(), expected_fc_graph());
        bytes.pop();
        assert!(matches!(
            read(&bytes),
            Err(ReadError::BufferOutOfBounds {
                buffer: 1,
                size: 12,
                ..
            })
        ));
        spec.buffers[1] = BufSpec::External {
            offset: u64::MAX,
            size: u64::MAX,
        };
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::BufferOutOfBounds { .. })
        ));
    }

    // ---- errors ------------------------------------------------------------------------------

    #[test]
    fn unsupported_op_is_named() {
        let mut spec = fc_model();
        spec.opcodes.push((None, Some(119), None));
        let mut while_op = spec.ops[0].clone();
        while_op.opcode_index = 1;
        while_op.options = None;
        while_op.inputs = vec![3];
        spec.ops.push(while_op);
        let err = read(&spec.build()).unwrap_err();
        assert_eq!(
            err,
            ReadError::UnsupportedOp {
                index: 1,
                name: "WHILE".into(),
                supported: SUPPORTED_OPS
            }
        );
        // The supported list is the op table's, sorted by name, then the custom operators.
        let mut names = SUPPORTED_OPS.to_vec();
        names.sort_unstable();
        assert_eq!(names.first(), Some(&"ABS"));
        assert_eq!(
            err.to_string(),
            format!(
                "operator 1 is WHILE, which kiln does not support yet (supported: {}; \
                 custom: {})",
                names.join(", "),
                ops::SUPPORTED_CUSTOM.join(", ")
            )
        );
    }

    #[test]
    fn custom_and_unknown_ops_are_named() {
        let mut spec = fc_model();
        spec.opcodes = vec![(None, Some(32), Some("MyOp"))];
        match read(&spec.build()) {
            Err(ReadError::UnsupportedOp { name, index: 0, .. }) => assert_eq!(name, "CUSTOM:MyOp"),
            other => panic!("{other:?}"),
        }
        // A supported custom operator is read by its custom code; its options come from
        // `custom_options` (none here: an operator that needs them says which).
        spec.opcodes = vec![(None, Some(32), Some("SignalFftAutoScale"))];
        let g = read(&spec.build()).unwrap();
        assert_eq!(
            g.ops[0].kind,
            OpKind::Signal(crate::ir::SignalOp::FftAutoScale)
        );
        assert_eq!(g.ops[0].name, "SignalFftAutoScale");
        spec.opcodes = vec![(None, Some(32), Some("SignalWindow"))];
        let err = read(&spec.build()).unwrap_err().to_string();
        assert!(
            err.contains("operator 0 (SignalWindow) has invalid options")
                && err.contains("'shift'"),
            "{err}"
        );
        spec.opcodes = vec![(None, Some(1000), None)];
        match read(&spec.build()) {
            Err(ReadError::UnsupportedOp { name, .. }) => {
                assert_eq!(name, "unknown builtin operator 1000")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_options_are_errors() {
        let err = single_kind(3, None).unwrap_err();
        assert_eq!(
            err,
            ReadError::MissingOptions {
                op: 0,
                name: "CONV_2D",
                expected: "Conv2DOptions",
                found: 0
            }
        );
        assert_eq!(err.to_string(), "operator 0 (CONV_2D) has no Conv2DOptions");
        assert!(matches!(
            single_kind(3, Some((5, vec![]))),
            Err(ReadError::MissingOptions { found: 5, .. })
        ));
        assert!(matches!(
            single_kind(9, Some((1, vec![]))),
            Err(ReadError::MissingOptions { found: 1, .. })
        ));
        assert!(matches!(
            single_kind(1, None),
            Err(ReadError::MissingOptions { .. })
        ));
        assert!(matches!(
            single_kind(4, None),
            Err(ReadError::MissingOptions { .. })
        ));
        // (op code, options union type, valid positive i32 fields); each field is zeroed in turn.
        let cases: [(i32, u8, &[u16]); 3] = [
            (3, 1, &[1, 2, 4, 5]),
            (4, 2, &[1, 2, 5, 6]),
            (17, 5, &[1, 2, 3, 4]),
        ];
        for (code, ty, ids) in cases {
            for &bad in ids {
                for bad_value in [0, -3] {
                    let fields = ids
                        .iter()
                        .map(|&id| (id, Val::I32(if id == bad { bad_value } else { 1 })))
                        .collect();
                    match single_kind(code, Some((ty, fields))) {
                        Err(e @ ReadError::InvalidOptions { .. }) => assert!(
                            e.to_string()
                                .contains(&format!("is {bad_value}, must be at least 1")),
                            "{e}"
                        ),
                        other => panic!("op {code} field {bad}: {other:?}"),
                    }
                }
            }
        }
        assert!(matches!(
            single_kind(
                4,
                Some((
                    2,
                    vec![(1, Val::I32(1)), (2, Val::I32(1)), (3, Val::I32(-1))]
                ))
            ),
            Err(ReadError::InvalidOptions { .. })
        ));
        assert!(matches!(
            single_kind(
                3,
                Some((1, vec![(0, Val::I8(2)), (1, Val::I32(1)), (2, Val::I32(1))]))
            ),
            Err(ReadError::InvalidOptions { .. })
        ));
        let err = single_kind(9, Some((8, vec![(1, Val::I8(1))]))).unwrap_err();
        assert!(err.to_string().contains("weights_format is 1"), "{err}");
        let err = single_kind(9, Some((8, vec![(0, Val::I8(4))]))).unwrap_err();
        assert_eq!(
            err,
            ReadError::UnsupportedActivation {
                op: 0,
                name: "FULLY_CONNECTED",
                activation: "TANH".into()
            }
        );
        assert!(err.to_string().starts_with(
            "operator 0 (FULLY_CONNECTED) uses fused activation TANH, which kiln does not support"
        ));
        assert!(matches!(
            single_kind(0, Some((11, vec![(0, Val::I8(5))]))),
            Err(ReadError::UnsupportedActivation { .. })
        ));
    }

    #[test]
    fn bad_tensor_indices_are_errors() {
        let mut spec = fc_model();
        spec.ops[0].inputs[1] = 99;
        let err = read(&spec.build()).unwrap_err();
        assert_eq!(
            err,
            ReadError::TensorIndexOutOfRange {
                slot: TensorSlot::OpInput {
                    op: 0,
                    name: "FULLY_CONNECTED",
                    slot: 1
                },
                index: 99,
                count: 4
            }
        );
        assert_eq!(
            err.to_string(),
            "input 1 of operator 0 (FULLY_CONNECTED) refers to tensor 99, but the model has \
             only 4 tensors"
        );
        let mut spec = fc_model();
        spec.ops[0].inputs[0] = -2;
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::TensorIndexOutOfRange { .. })
        ));
        let mut spec = fc_model();
        spec.ops[0].outputs[0] = -1;
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::TensorIndexOutOfRange {
                slot: TensorSlot::OpOutput { .. },
                ..
            })
        ));
        let mut spec = fc_model();
        spec.inputs = vec![4];
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::TensorIndexOutOfRange {
                slot: TensorSlot::GraphInput(0),
                ..
            })
        ));
        let mut spec = fc_model();
        spec.outputs = vec![3, -1];
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::TensorIndexOutOfRange {
                slot: TensorSlot::GraphOutput(1),
                ..
            })
        ));
        let mut spec = fc_model();
        spec.ops[0].opcode_index = 1;
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::OpcodeIndexOutOfRange {
                op: 0,
                opcode_index: 1,
                count: 1
            })
        ));
    }

    #[test]
    fn buffer_errors() {
        let mut spec = fc_model();
        spec.buffers[1] = BufSpec::Data(vec![0; 11]);
        let err = read(&spec.build()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tensor 1 'fc/weights' needs 12 bytes for shape [3,4] int8 but its buffer 1 has 11"
        );
        let mut spec = fc_model();
        spec.tensors[2].buffer = 4;
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::BufferIndexOutOfRange {
                tensor: 2,
                buffer: 4,
                count: 4,
                ..
            })
        ));
        // Buffer 0 missing entirely: tolerated as "no data".
        let mut spec = fc_model();
        spec.buffers.clear();
        spec.tensors[1].buffer = 0;
        spec.tensors[2].buffer = 0;
        spec.tensors[3].buffer = 0;
        assert!(read(&spec.build()).is_ok());
    }

    #[test]
    fn tensor_errors() {
        let mut spec = fc_model();
        spec.tensors[3].ty = 1;
        let err = read(&spec.build()).unwrap_err();
        assert_eq!(
            err,
            ReadError::UnsupportedTensorType {
                tensor: 3,
                name: String::new(),
                type_name: "FLOAT16".into()
            }
        );
        spec.tensors[3].ty = -7;
        assert!(read(&spec.build())
            .unwrap_err()
            .to_string()
            .contains("unknown type -7"));

        let mut spec = fc_model();
        spec.tensors[0].shape = Some(vec![1, -4]);
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::InvalidShape { tensor: 0, .. })
        ));
        spec.tensors[0].shape = Some(vec![i32::MAX, i32::MAX, i32::MAX]);
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::InvalidShape { tensor: 0, .. })
        ));
        spec.tensors[0].shape = Some(vec![1 << 16, 1 << 15, 2]);
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::InvalidShape { tensor: 0, .. })
        ));
        // Exactly at the limit is fine (no data is allocated for it).
        spec.tensors[0].shape = Some(vec![1 << 16, 1 << 15]);
        assert!(read(&spec.build()).is_ok());
    }

    #[test]
    fn rank_and_shared_data_limits() {
        let mut spec = fc_model();
        spec.tensors[0].shape = Some(vec![1; MAX_RANK]);
        assert!(read(&spec.build()).is_ok());
        spec.tensors[0].shape = Some(vec![1; MAX_RANK + 1]);
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::InvalidShape { tensor: 0, .. })
        ));

        // 300 tensors sharing one 64 KiB buffer: 19.2 MiB of copies from a ~70 KiB file.
        let mut spec = fc_model();
        spec.buffers.push(BufSpec::Data(vec![7; 1 << 16]));
        let shared = TensorSpec {
            name: None,
            shape: Some(vec![1 << 16]),
            ty: 9,
            buffer: 4,
            quant: None,
        };
        spec.tensors.extend(std::iter::repeat_n(shared, 300));
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::TooMuchConstantData { limit, .. }) if limit == 16 << 20
        ));
        spec.tensors.truncate(4 + 200);
        assert_eq!(read(&spec.build()).unwrap().tensors.len(), 204);
    }

    #[test]
    fn quantization_errors() {
        let mut spec = fc_model();
        spec.tensors[1].quant = Some((vec![0.1, 0.2, 0.3], vec![0, 0], 0));
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::InvalidQuantization { tensor: 1, .. })
        ));
        spec.tensors[1].quant = Some((vec![0.1, 0.2, 0.3], vec![0, 0, 0], 1));
        let err = read(&spec.build()).unwrap_err();
        assert!(
            err.to_string()
                .contains("3 per-channel scales but dimension 1 of shape [3,4] is 4"),
            "{err}"
        );
        spec.tensors[1].quant = Some((vec![0.1, 0.2, 0.3], vec![0, 0, 0], 2));
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::InvalidQuantization { tensor: 1, .. })
        ));
        spec.tensors[1].quant = Some((vec![0.1, 0.2, 0.3], vec![0, 0, 0], -1));
        assert!(matches!(
            read(&spec.build()),
            Err(ReadError::InvalidQuantization { tensor: 1, .. })
        ));
    }

    #[test]
    fn not_tflite_and_structural_errors() {
        let mut bytes = fc_model().build();
        bytes[4..8].copy_from_slice(b"TFL2");
        let err = read(&bytes).unwrap_err();
        assert!(matches!(err, ReadError::NotTflite { .. }));
        assert!(
            err.to_string().starts_with("not a TensorFlow Lite model: "),
            "{err}"
        );
        assert!(err.to_string().contains("TFL2"), "{err}");
        assert!(matches!(read(b""), Err(ReadError::NotTflite { .. })));
        assert!(matches!(read(b"1234TFL"), Err(ReadError::NotTflite { .. })));
        let err = read(b"\xff\xff\xff\xffTFL3").unwrap_err();
        assert!(
            matches!(err, ReadError::InvalidFlatbuffer { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("malformed TensorFlow Lite model"),
            "{err}"
        );

        let mut spec = fc_model();
        spec.with_subgraph = false;
        assert_eq!(read(&spec.build()), Err(ReadError::NoSubgraph));
    }

    #[test]
    fn read_error_is_an_error() {
        fn is_error<E: std::error::Error + Clone + PartialEq + fmt::Debug>() {}
        is_error::<ReadError>();
    }

    // ---- robustness --------------------------------------------------------------------------

    use kiln_fixtures::rng::Rng;

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = fc_model().build();
        for len in 0..bytes.len() {
            assert!(read(&bytes[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
        for i in 0..4000 {
            let len = (rng.next_u64() % 512) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            if i % 2 == 0 && len >= 8 {
                bytes[4..8].copy_from_slice(b"TFL3");
                // Point the root somewhere plausible.
                let root = (rng.next_u64() % len as u64) as u32 & !3;
                bytes[..4].copy_from_slice(&root.to_le_bytes());
            }
            let _ = read(&bytes);
        }
    }

    #[test]
    fn corrupted_models_never_panic() {
        let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
        let valid = fc_model().build();
        for pos in 0..valid.len() {
            for _ in 0..8 {
                let mut bytes = valid.clone();
                bytes[pos] ^= (rng.next_u64() as u8) | 1;
                let _ = read(&bytes);
            }
            for value in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut bytes = valid.clone();
                bytes[pos] = value;
                let _ = read(&bytes);
            }
        }
        // Multi-byte corruptions.
        for _ in 0..3000 {
            let mut bytes = valid.clone();
            for _ in 0..1 + rng.next_u64() % 4 {
                let pos = (rng.next_u64() % bytes.len() as u64) as usize;
                bytes[pos] = rng.next_u64() as u8;
            }
            let _ = read(&bytes);
        }
    }
}
