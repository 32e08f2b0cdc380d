//! The ONNX front-end: `.onnx` bytes -> [`ir::Graph`](crate::ir::Graph), for quantized models
//! in onnxruntime's QDQ form (what `onnxruntime.quantization.quantize_static` writes).
//!
//! The protobuf is decoded with `prost` (on kiln's list of chosen dependencies: a small,
//! `unsafe`-free decoder whose derive needs no code generator), through message structs
//! written by hand for the subset of `onnx.proto` kiln reads ([`proto`]), so building kiln
//! needs no `protoc`. Decoding is bounded by the input (prost's recursion limit, every size
//! checked against the bytes present), and every index, dimension and attribute taken from the
//! file is checked: any input yields a graph or a [`ReadError`], never a panic.
//!
//! [`import`] folds each `DequantizeLinear → op → QuantizeLinear` group into one quantized IR
//! operator, and keeps ONNX's NCHW layout at the model's edges while the IR runs NHWC inside
//! (weights are transposed at import; activations by inserted transposes). The graph is
//! marked [`Arithmetic::Onnxruntime`](crate::ir::Arithmetic::Onnxruntime): `prepare` then
//! picks kernels that requantize as onnxruntime does.

pub mod constant;
pub mod import;
pub mod proto;
pub mod qoperator;

use prost::Message;
use std::fmt;

/// The ONNX operators kiln reads (in QDQ form where quantized).
pub const SUPPORTED_OPS: &[&str] = import::SUPPORTED;

/// The operators of onnxruntime's QOperator form kiln reads (rewritten to QDQ on reading).
pub const QOPERATOR_OPS: &[&str] = qoperator::QOPERATOR_OPS;

/// Why an `.onnx` file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The bytes are not a decodable ONNX `ModelProto`.
    Decode {
        /// prost's message.
        message: String,
    },
    /// The model has no graph.
    NoGraph,
    /// An operator kiln does not implement.
    UnsupportedOp {
        /// Node index in the graph.
        index: usize,
        /// The node's name (may be empty).
        node: String,
        /// Its `op_type` (prefixed by its domain outside the default one).
        op_type: String,
    },
    /// A node kiln cannot import: a bad attribute or input, or a pattern kiln does not
    /// support.
    Node {
        /// Node index in the graph.
        index: usize,
        /// The node's name (may be empty).
        node: String,
        /// Its `op_type`.
        op_type: String,
        /// What is wrong.
        reason: String,
    },
    /// A graph-level problem (an input, an output, an initializer).
    Model {
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |s: &str| crate::names::shown(s);
        match self {
            ReadError::Decode { message } => write!(
                f,
                "malformed ONNX model (truncated or corrupted?): protobuf decoding failed: \
                 {message}"
            ),
            ReadError::NoGraph => write!(f, "the ONNX model has no graph"),
            ReadError::UnsupportedOp {
                index,
                node,
                op_type,
            } => {
                let mut sorted = SUPPORTED_OPS.to_vec();
                sorted.sort_unstable();
                write!(
                    f,
                    "ONNX node {index} '{}' is {}, which kiln does not support yet (supported: {}; \
                     in QOperator form: {})",
                    shown(node),
                    shown(op_type),
                    sorted.join(", "),
                    QOPERATOR_OPS.join(", ")
                )
            }
            ReadError::Node {
                index,
                node,
                op_type,
                reason,
            } => write!(
                f,
                "ONNX node {index} '{}' ({}): {reason}",
                shown(node),
                shown(op_type)
            ),
            ReadError::Model { reason } => write!(f, "ONNX model: {reason}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Decodes `bytes` as an ONNX `ModelProto`.
pub fn decode(bytes: &[u8]) -> Result<proto::ModelProto, ReadError> {
    proto::ModelProto::decode(bytes).map_err(|e| ReadError::Decode {
        message: e.to_string(),
    })
}

/// Whether `bytes` are taken for an ONNX model: they decode as a `ModelProto` with a graph, or
/// start as every ONNX file does (field 1, `ir_version`, as a varint: byte `0x08`).
pub fn is_onnx(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x08) || decode(bytes).is_ok_and(|m| m.graph.is_some())
}

/// Reads an ONNX model into the IR.
pub fn read(bytes: &[u8]) -> Result<crate::ir::Graph, ReadError> {
    let model = decode(bytes)?;
    let graph = model.graph.as_ref().ok_or(ReadError::NoGraph)?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain.as_deref(), None | Some("" | "ai.onnx")))
        .and_then(|o| o.version);
    match opset {
        Some(v) if (MIN_OPSET..=MAX_OPSET).contains(&v) => {
            if qoperator::has_qoperator_nodes(graph) {
                import::import(&qoperator::to_qdq(graph)?)
            } else {
                import::import(graph)
            }
        }
        Some(v) => Err(ReadError::Model {
            reason: format!(
                "it imports operator set {v} of the default domain; kiln reads \
                 {MIN_OPSET} to {MAX_OPSET}"
            ),
        }),
        None => Err(ReadError::Model {
            reason: "it imports no operator set of the default domain (truncated?)".into(),
        }),
    }
}

/// The oldest default-domain operator set kiln reads (per-axis `DequantizeLinear`, `Squeeze`'s
/// axes as an input).
pub const MIN_OPSET: i64 = 13;

/// The newest default-domain operator set kiln reads.
pub const MAX_OPSET: i64 = 21;
