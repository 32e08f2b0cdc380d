//! ONNX graph → IR: QDQ groups folded into quantized operators, NCHW values moved to NHWC
//! where an operator needs it.
//!
//! Every ONNX value maps to a [`Value`]: an IR tensor (in the model's own layout, or, for a 4-D
//! value, transposed to NHWC), the not yet materialized `DequantizeLinear` of a quantized IR
//! tensor, or a constant (possibly dequantized: weights and biases). A compute node (Conv,
//! Gemm, MatMul) reads dequantized values and must feed exactly one `QuantizeLinear`, which it
//! absorbs: the pair becomes one int8 IR operator whose output has the `QuantizeLinear`'s
//! quantization. Data-movement nodes and MaxPool run on the quantized tensor directly (they
//! commute with dequantization), and a `QuantizeLinear` of a dequantized value with the same
//! parameters is the tensor itself. Shape arithmetic on constants is folded at import.

use super::constant::{self, Constant};
use super::proto::{AttributeProto, GraphProto, NodeProto};
use super::ReadError;
use crate::ir::{
    Activation, Arithmetic, Conv2dOptions, DType, FullyConnectedOptions, Graph, Op, OpKind,
    Padding, Pool2dOptions, Quant, Tensor, TensorId,
};
use crate::names::shown;
use std::collections::{HashMap, HashSet};

mod dynamic;
mod int8_qdq;
mod qdq_ops;

/// The ONNX operators (default domain) kiln imports.
pub const SUPPORTED: &[&str] = &[
    "Add",
    "AveragePool",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "Conv",
    "ConvInteger",
    "DequantizeLinear",
    "DynamicQuantizeLinear",
    "Flatten",
    "Gather",
    "Gemm",
    "GlobalAveragePool",
    "Identity",
    "MatMul",
    "MatMulInteger",
    "MaxPool",
    "Mul",
    "Pad",
    "QuantizeLinear",
    "Relu",
    "Reshape",
    "Shape",
    "Sigmoid",
    "Slice",
    "Softmax",
    "Squeeze",
    "Transpose",
    "Unsqueeze",
];

/// How an IR tensor holds a (4-D) ONNX value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Layout {
    /// As the model has it.
    Onnx,
    /// An NCHW value with its channels moved last.
    Nhwc,
}

/// What an ONNX value is in the IR.
#[derive(Clone, Debug)]
enum Value {
    /// An IR tensor.
    Tensor(TensorId, Layout),
    /// `DequantizeLinear` of a quantized IR tensor (not materialized).
    Dequantized(TensorId, Layout),
    /// A constant.
    Const(Constant),
    /// `DequantizeLinear` of a constant (weights, biases).
    DequantizedConst(Constant, Quant),
}

/// The node being imported.
struct NodeCx<'p> {
    index: usize,
    node: &'p NodeProto,
    op_type: &'p str,
    /// The operator's name as IR ops keep it.
    name: &'static str,
}

impl NodeCx<'_> {
    fn err(&self, reason: impl Into<String>) -> ReadError {
        ReadError::Node {
            index: self.index,
            node: self.node.name.clone().unwrap_or_default(),
            op_type: self.op_type.to_string(),
            reason: reason.into(),
        }
    }

    fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.node
            .attribute
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
    }

    fn int(&self, name: &str, default: i64) -> i64 {
        self.attr(name).and_then(|a| a.i).unwrap_or(default)
    }

    /// The operator's name: `signed` (one of [`crate::ir::MLAS_SIGNED_OPS`]) when the QOperator
    /// rewrite marked the node as an int8 one onnxruntime runs with MLAS's signed kernel.
    fn name_or_signed(&self, signed: &'static str) -> &'static str {
        if self.int(super::qoperator::MLAS_SIGNED_ATTRIBUTE, 0) == 1 {
            signed
        } else {
            self.name
        }
    }

    fn float(&self, name: &str, default: f32) -> f32 {
        self.attr(name).and_then(|a| a.f).unwrap_or(default)
    }

    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.attr(name).map(|a| a.ints.clone())
    }

    fn string(&self, name: &str) -> Option<String> {
        self.attr(name)
            .and_then(|a| a.s.as_ref())
            .map(|s| String::from_utf8_lossy(s).into_owned())
    }

    /// The name of input `slot`, when present (an empty name is an omitted input).
    fn input_name(&self, slot: usize) -> Option<&str> {
        self.node
            .input
            .get(slot)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The name of output 0.
    fn output_name(&self) -> Result<&str, ReadError> {
        self.node
            .output
            .first()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.err("it has no output"))
    }

    /// Non-negative `usize`s from an attribute's or constant's values.
    fn sizes(&self, what: &str, values: &[i64]) -> Result<Vec<usize>, ReadError> {
        values
            .iter()
            .map(|&v| {
                usize::try_from(v)
                    .ok()
                    .filter(|&v| v <= 1 << 20)
                    .ok_or_else(|| self.err(format!("{what} {values:?} out of range")))
            })
            .collect()
    }
}

/// The graph being built.
struct Importer<'p> {
    graph: Graph,
    values: HashMap<String, Value>,
    nodes: &'p [NodeProto],
    consumers: HashMap<&'p str, Vec<usize>>,
    outputs: HashSet<&'p str>,
    absorbed: Vec<bool>,
    relaid: HashMap<(TensorId, Layout), TensorId>,
    /// Values written by a `DequantizeLinear` node itself (not moved since).
    from_dequantize: HashSet<String>,
    /// Tensors holding uint8 values as int8 shifted by 128.
    unsigned: HashSet<TensorId>,
    /// The first tensor added with more than `MAX_CONSTANT_BYTES` bytes.
    oversized: Option<String>,
    /// Outputs of Q/DQ nodes that onnxruntime merges into an earlier identical node's.
    same_as: HashMap<&'p str, &'p str>,
    /// Whether onnxruntime's reference keeps int8 Q/DQ (its Arm default), so that int8 Add,
    /// Mul, AveragePool and Softmax run MLAS's int8 kernels: see [`int8_qdq`].
    int8_kernels: bool,
}

/// Imports a decoded graph.
pub fn import(g: &GraphProto) -> Result<Graph, ReadError> {
    let mut imp = Importer::new(g)?;
    for (index, node) in g.node.iter().enumerate() {
        if !imp.absorbed[index] {
            imp.node(index, node)?;
        }
        // Checked after every node, before a later one multiplies its dimensions.
        if let Some(name) = imp.oversized.take() {
            return Err(model_err(format!(
                "tensor '{}' (made at node {index}) would hold more than {} bytes",
                shown(&name),
                constant::MAX_CONSTANT_BYTES
            )));
        }
    }
    imp.finish(g)
}

/// A graph-level error.
fn model_err(reason: impl Into<String>) -> ReadError {
    ReadError::Model {
        reason: reason.into(),
    }
}

impl<'p> Importer<'p> {
    fn new(g: &'p GraphProto) -> Result<Self, ReadError> {
        let mut values = HashMap::new();
        for t in &g.initializer {
            let name = t.name.clone().unwrap_or_default();
            let c = constant::decode(t)
                .map_err(|e| model_err(format!("initializer '{}': {e}", shown(&name))))?;
            values.insert(name, Value::Const(c));
        }
        let same_as = merged_quantize_nodes(&g.node);
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            // onnxruntime folds a Shape of a fixed-shape value before it fuses QDQ groups: a
            // Shape reader does not count.
            if n.op_type.as_deref() == Some("Shape") {
                continue;
            }
            for input in n.input.iter().filter(|s| !s.is_empty()) {
                let canonical = same_as.get(input.as_str()).copied().unwrap_or(input);
                consumers.entry(canonical).or_default().push(i);
            }
        }
        let mut imp = Importer {
            graph: Graph {
                arithmetic: Arithmetic::Onnxruntime,
                folded: Vec::new(),
                ..Graph::default()
            },
            values,
            nodes: &g.node,
            consumers,
            outputs: g.output.iter().filter_map(|o| o.name.as_deref()).collect(),
            absorbed: vec![false; g.node.len()],
            relaid: HashMap::new(),
            from_dequantize: HashSet::new(),
            unsigned: HashSet::new(),
            oversized: None,
            same_as,
            int8_kernels: false,
        };
        // Before the graph inputs join `values`: only initializers count as constants.
        imp.int8_kernels = imp.shares_int8_activation();
        for input in &g.input {
            let name = input.name.clone().unwrap_or_default();
            if imp.values.contains_key(&name) {
                continue; // an initializer listed as an input (older exporters)
            }
            let bad = |why: &str| model_err(format!("graph input '{}' {why}", shown(&name)));
            let tensor_type = input
                .r#type
                .as_ref()
                .and_then(|t| t.tensor_type.as_ref())
                .ok_or_else(|| bad("is not a tensor"))?;
            let code = tensor_type.elem_type.unwrap_or(0);
            let dtype = constant::dtype_of(code)
                .ok_or_else(|| bad(&format!("has unsupported element type {code}")))?;
            let dims = tensor_type
                .shape
                .as_ref()
                .ok_or_else(|| bad("has no shape"))?;
            let mut shape = Vec::new();
            for d in &dims.dim {
                match (d.dim_value, &d.dim_param) {
                    (Some(v), _) if v > 0 => shape.push(v),
                    (_, Some(p)) => {
                        return Err(bad(&format!(
                            "has the symbolic dimension '{}'; kiln needs fixed shapes (fix \
                             it, e.g. with onnxruntime.tools.make_dynamic_shape_fixed)",
                            shown(p)
                        )))
                    }
                    _ => return Err(bad("has a dimension that is not positive")),
                }
            }
            let shape = constant::checked_dims(&shape, dtype.size()).map_err(|e| bad(&e))?;
            let id = imp.add(&name, shape, dtype, None, None);
            imp.graph.inputs.push(id);
            imp.values.insert(name, Value::Tensor(id, Layout::Onnx));
        }
        Ok(imp)
    }

    /// Adds a tensor.
    fn add(
        &mut self,
        name: &str,
        shape: Vec<usize>,
        dtype: DType,
        quant: Option<Quant>,
        data: Option<Vec<u8>>,
    ) -> TensorId {
        let bytes = checked_product(&shape).and_then(|n| n.checked_mul(dtype.size()));
        if bytes.is_none_or(|b| b > constant::MAX_CONSTANT_BYTES) && self.oversized.is_none() {
            self.oversized = Some(name.to_string());
        }
        self.graph.tensors.push(Tensor {
            name: name.to_string(),
            shape,
            dtype,
            quant,
            data,
        });
        self.graph.tensors.len() - 1
    }

    /// Adds a constant int32 vector.
    fn add_i32(&mut self, name: &str, values: &[i32]) -> TensorId {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.add(name, vec![values.len()], DType::I32, None, Some(data))
    }

    /// Adds an operator.
    fn op(&mut self, kind: OpKind, name: &'static str, inputs: &[Option<TensorId>], out: TensorId) {
        self.graph.ops.push(Op {
            kind,
            name,
            inputs: inputs.to_vec(),
            outputs: vec![out],
        });
    }

    /// A tensor like `id` (type and quantization) with another name and shape.
    fn like(&mut self, id: TensorId, name: &str, shape: Vec<usize>) -> TensorId {
        let t = &self.graph.tensors[id];
        let (dtype, quant) = (t.dtype, t.quant.clone());
        let out = self.add(name, shape, dtype, quant, None);
        let unsigned = self.unsigned.contains(&id);
        self.mark_unsigned(out, unsigned);
        out
    }

    /// Records that tensor `id` holds uint8 values as shifted int8 (when `unsigned`).
    fn mark_unsigned(&mut self, id: TensorId, unsigned: bool) {
        if unsigned {
            self.unsigned.insert(id);
        }
    }

    /// Tensor `id` (in layout `from`) in layout `to`, through a cached inserted transpose.
    fn relaid(&mut self, id: TensorId, from: Layout, to: Layout) -> TensorId {
        if from == to || self.graph.tensors[id].shape.len() != 4 {
            return id;
        }
        if let Some(&done) = self.relaid.get(&(id, to)) {
            return done;
        }
        let (perm, suffix) = match to {
            Layout::Nhwc => ([0, 2, 3, 1], "nhwc"),
            Layout::Onnx => ([0, 3, 1, 2], "nchw"),
        };
        let shape = &self.graph.tensors[id].shape;
        let new_shape = perm.iter().map(|&p| shape[p]).collect();
        let name = format!("{}_{suffix}", self.graph.tensors[id].name);
        let perm_id = self.add_i32(&format!("{name}_perm"), &perm.map(|p| p as i32));
        let out = self.like(id, &name, new_shape);
        self.op(
            OpKind::Transpose,
            "Transpose",
            &[Some(id), Some(perm_id)],
            out,
        );
        self.relaid.insert((id, to), out);
        out
    }

    /// The value of input `slot`.
    fn value(&self, cx: &NodeCx, slot: usize) -> Result<Value, ReadError> {
        let name = cx
            .input_name(slot)
            .ok_or_else(|| cx.err(format!("input {slot} is missing")))?;
        self.values.get(name).cloned().ok_or_else(|| {
            cx.err(format!(
                "input {slot} '{}' is neither a graph input, an initializer nor an earlier \
                 node's output",
                crate::names::shown(name)
            ))
        })
    }

    /// Input `slot` as a constant.
    fn constant(&self, cx: &NodeCx, slot: usize, what: &str) -> Result<Constant, ReadError> {
        match self.value(cx, slot)? {
            Value::Const(c) => Ok(c),
            _ => Err(cx.err(format!("its {what} (input {slot}) must be a constant"))),
        }
    }

    /// The quantization given by inputs 1 (scale) and 2 (zero point) of a Q/DQ node, the
    /// quantized element type (the zero point's; uint8 without one) and whether it is uint8
    /// (then given as int8 shifted by 128).
    fn qparams(&self, cx: &NodeCx, rank: usize) -> Result<(Quant, DType, bool), ReadError> {
        let scale = self.constant(cx, 1, "scale")?;
        let scales = scale.floats();
        if scales.is_empty() || scale.dims.len() > 1 {
            return Err(cx.err("its scale must be a float32 scalar or vector"));
        }
        if let Some(s) = scales.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(cx.err(format!("scale {s} is not a positive number")));
        }
        let (zero_points, dtype) = match cx.input_name(2) {
            Some(_) => {
                let zp = self.constant(cx, 2, "zero point")?;
                (zp.ints(), zp.dtype)
            }
            None => (vec![0; scales.len()], DType::U8),
        };
        if !matches!(dtype, DType::I8 | DType::U8 | DType::I32) {
            return Err(cx.err(format!(
                "its zero point is {dtype}; kiln reads int8 and uint8"
            )));
        }
        if zero_points.len() != scales.len() {
            return Err(cx.err(format!(
                "{} scales but {} zero points",
                scales.len(),
                zero_points.len()
            )));
        }
        let axis = if scales.len() > 1 {
            let axis = cx.int("axis", 1);
            let a = if axis < 0 { axis + rank as i64 } else { axis };
            usize::try_from(a)
                .ok()
                .filter(|&a| a < rank)
                .ok_or_else(|| cx.err(format!("axis {axis} is outside rank {rank}")))?
        } else {
            0
        };
        // uint8 runs as int8 shifted by 128 (`q - 128`, zero point - 128): the integer
        // arithmetic of every operator kiln imports gives the same values shifted.
        let unsigned = dtype == DType::U8;
        let (zero_points, dtype) = if unsigned {
            (zero_points.iter().map(|z| z - 128).collect(), DType::I8)
        } else {
            (zero_points, dtype)
        };
        Ok((
            Quant {
                scales,
                zero_points,
                axis,
            },
            dtype,
            unsigned,
        ))
    }

    fn node(&mut self, index: usize, node: &'p NodeProto) -> Result<(), ReadError> {
        let op_type = node.op_type.as_deref().unwrap_or("");
        let domain = node.domain.as_deref().unwrap_or("");
        let supported = SUPPORTED.iter().find(|&&s| s == op_type);
        let (Some(&name), "" | "ai.onnx") = (supported, domain) else {
            return Err(ReadError::UnsupportedOp {
                index,
                node: node.name.clone().unwrap_or_default(),
                op_type: if domain.is_empty() {
                    op_type.to_string()
                } else {
                    format!("{domain}.{op_type}")
                },
            });
        };
        let cx = NodeCx {
            index,
            node,
            op_type,
            name,
        };
        let out_name = cx.output_name()?.to_string();
        let value = match op_type {
            "QuantizeLinear" => self.quantize(&cx)?,
            "DequantizeLinear" => self.dequantize(&cx)?,
            "Add" | "Mul" => self.binary_op(&cx)?,
            "Sigmoid" => self.sigmoid(&cx)?,
            "Relu" if self.is_float_activation(&cx) => self.float_relu(&cx)?,
            "Relu" | "Clip" => self.relu_clip(&cx)?,
            "DynamicQuantizeLinear" => self.dynamic_quantize(&cx)?,
            "MatMulInteger" | "ConvInteger" => self.lone_integer_product(&cx)?,
            "Softmax" => self.softmax(&cx)?,
            "Concat" if !self.all_constant(&cx) => self.concat(&cx)?,
            "Pad" => self.pad_op(&cx)?,
            "Slice" => self.slice_op(&cx)?,
            "Conv" => self.conv(&cx)?,
            "Gemm" => self.gemm(&cx)?,
            "MatMul" => self.matmul(&cx)?,
            "MaxPool" => self.max_pool(&cx)?,
            "AveragePool" | "GlobalAveragePool" => self.average_pool(&cx)?,
            "Identity" => self.value(&cx, 0)?,
            "Constant" | "Shape" | "Gather" | "Concat" | "Cast" => {
                Value::Const(self.fold_constant(&cx)?)
            }
            "Transpose" => self.transpose(&cx)?,
            // Reshape, Flatten, Squeeze, Unsqueeze.
            _ => self.reshape(&cx)?,
        };
        if op_type == "DequantizeLinear" {
            self.from_dequantize.insert(out_name.clone());
        }
        self.values.insert(out_name, value);
        Ok(())
    }

    fn quantize(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let x = self.value(cx, 0)?;
        let rank = match &x {
            Value::Tensor(id, _) | Value::Dequantized(id, _) => self.graph.tensors[*id].shape.len(),
            _ => 0,
        };
        let (quant, dtype, unsigned) = self.qparams(cx, rank)?;
        if !quant.is_per_tensor() {
            return Err(cx.err("kiln quantizes activations per tensor only"));
        }
        match x {
            Value::Tensor(id, layout) if self.graph.tensors[id].dtype == DType::F32 => {
                let shape = self.graph.tensors[id].shape.clone();
                let out = self.add(cx.output_name()?, shape, dtype, Some(quant), None);
                if unsigned {
                    self.unsigned.insert(out);
                }
                self.op(OpKind::Quantize, cx.name, &[Some(id)], out);
                Ok(Value::Tensor(out, layout))
            }
            Value::Dequantized(id, layout) => {
                let t = &self.graph.tensors[id];
                let moved = !cx
                    .input_name(0)
                    .is_some_and(|n| self.from_dequantize.contains(n));
                if t.dtype == dtype && t.quant.as_ref() == Some(&quant) {
                    Ok(Value::Tensor(id, layout))
                } else if moved && dtype == DType::I8 {
                    self.requantize_through_float(cx, id, quant, unsigned)
                        .map(|out| Value::Tensor(out, layout))
                } else if t.dtype == DType::I8 && dtype == DType::I8 {
                    // onnxruntime's float32 dequantize-then-quantize, as a table.
                    Ok(Value::Tensor(
                        self.requantized(id, &quant, unsigned),
                        layout,
                    ))
                } else {
                    Err(cx.err(format!(
                        "it requantizes {} {:?} to {dtype} {quant:?}, which kiln does not support",
                        t.dtype, t.quant
                    )))
                }
            }
            _ => Err(cx.err("its input must be a float32 activation or a dequantized value")),
        }
    }

    /// `QuantizeLinear` of a dequantized value moved since (`DequantizeLinear → Flatten →
    /// QuantizeLinear`, where quantize_static calibrates the Flatten's output on its own,
    /// e.g. after an AveragePool that kept its input's parameters): onnxruntime runs the
    /// group unfused, so kiln dequantizes to float32 and quantizes again, as it does.
    fn requantize_through_float(
        &mut self,
        cx: &NodeCx,
        id: TensorId,
        quant: Quant,
        unsigned: bool,
    ) -> Result<TensorId, ReadError> {
        let name = cx.output_name()?.to_string();
        let shape = self.graph.tensors[id].shape.clone();
        let float = self.add(
            &format!("{name}_float"),
            shape.clone(),
            DType::F32,
            None,
            None,
        );
        self.op(OpKind::Dequantize, "DequantizeLinear", &[Some(id)], float);
        let out = self.add(&name, shape, DType::I8, Some(quant), None);
        self.mark_unsigned(out, unsigned);
        self.op(OpKind::Quantize, cx.name, &[Some(float)], out);
        Ok(out)
    }

    fn dequantize(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let x = self.value(cx, 0)?;
        let rank = match &x {
            Value::Tensor(id, _) => self.graph.tensors[*id].shape.len(),
            Value::Const(c) => c.dims.len(),
            _ => 0,
        };
        let (quant, dtype, unsigned) = self.qparams(cx, rank)?;
        match x {
            Value::Const(mut c) if unsigned && c.dtype == DType::U8 => {
                c.data.iter_mut().for_each(|b| *b ^= 0x80);
                c.dtype = DType::I8;
                Ok(Value::DequantizedConst(c, quant))
            }
            Value::Const(c) if c.dtype == dtype && !unsigned => {
                Ok(Value::DequantizedConst(c, quant))
            }
            Value::Tensor(id, _) if unsigned != self.unsigned.contains(&id) => Err(cx.err(
                "its input's signedness differs from its zero point's (kiln reads uint8 \
                 activations only as a QuantizeLinear wrote them)",
            )),
            Value::Tensor(id, layout) if self.graph.tensors[id].dtype == dtype => {
                let t = &mut self.graph.tensors[id];
                if !quant.is_per_tensor() {
                    return Err(cx.err("kiln dequantizes activations per tensor only"));
                }
                match &t.quant {
                    None => t.quant = Some(quant),
                    Some(q) if *q == quant => {}
                    Some(q) => {
                        return Err(cx.err(format!(
                            "it dequantizes with {quant:?}, but its input was quantized with {q:?}"
                        )))
                    }
                }
                Ok(Value::Dequantized(id, layout))
            }
            _ => Err(cx.err(format!(
                "its input must be a {dtype} constant or activation (the zero point's type)"
            ))),
        }
    }

    /// The `QuantizeLinear` that the float output of compute node `cx` must feed, absorbed:
    /// its output name, quantization, element type and whether it is uint8 (as shifted int8).
    fn absorb_quantize(&mut self, cx: &NodeCx) -> Result<(String, Quant, DType, bool), ReadError> {
        let y = cx.output_name()?;
        let readers = self.consumers.get(y).map(Vec::as_slice).unwrap_or(&[]);
        let q = match readers {
            [q] if !self.outputs.contains(y) => *q,
            _ => {
                return Err(cx.err(format!(
                    "its float output '{}' must feed exactly one QuantizeLinear (kiln reads \
                     quantized models in QDQ form, as onnxruntime's quantize_static writes them)",
                    crate::names::shown(y)
                )))
            }
        };
        let node = &self.nodes[q];
        let qcx = NodeCx {
            index: q,
            node,
            op_type: node.op_type.as_deref().unwrap_or(""),
            name: "QuantizeLinear",
        };
        if qcx.op_type != "QuantizeLinear"
            || !matches!(node.domain.as_deref(), None | Some("" | "ai.onnx"))
            || qcx.input_name(0) != Some(y)
        {
            return Err(cx.err(format!(
                "its float output '{}' feeds {} (node {q}), not a QuantizeLinear",
                crate::names::shown(y),
                crate::names::shown(qcx.op_type)
            )));
        }
        let (quant, dtype, unsigned) = self.qparams(&qcx, 0)?;
        if !quant.is_per_tensor() {
            return Err(qcx.err("kiln quantizes activations per tensor only"));
        }
        let out = qcx.output_name()?.to_string();
        self.absorbed[q] = true;
        Ok((out, quant, dtype, unsigned))
    }

    /// Input `slot` as a dequantized activation, written by a `DequantizeLinear` itself (only
    /// then does onnxruntime fuse the group into a quantized operator; else it computes in
    /// float32): its tensor and layout.
    fn dequantized(&self, cx: &NodeCx, slot: usize) -> Result<(TensorId, Layout), ReadError> {
        self.expect_own_dequantize(cx, slot)?;
        match self.value(cx, slot)? {
            Value::Dequantized(..)
                if !cx
                    .input_name(slot)
                    .is_some_and(|n| self.from_dequantize.contains(n)) =>
            {
                Err(cx.err(format!(
                    "input {slot} is dequantized, but not by a DequantizeLinear of its own: \
                     onnxruntime then computes this {} in float32, which kiln does not \
                     reproduce (quantize its input again, as quantize_static does)",
                    cx.op_type
                )))
            }
            Value::Dequantized(id, layout) => Ok((id, layout)),
            _ => Err(cx.err(format!(
                "input {slot} must be a DequantizeLinear of a quantized activation"
            ))),
        }
    }

    /// A `DequantizeLinear` of a constant must feed its node alone (kiln folds it into that
    /// node's weights or bias). One of an activation may be shared (a skip connection):
    /// onnxruntime gives every consumer its own copy and fuses each group, with uint8
    /// activations and with int8 ones where it keeps int8 Q/DQ (see [`int8_qdq`], which
    /// picks that reference for such a graph).
    fn expect_own_dequantize(&self, cx: &NodeCx, slot: usize) -> Result<(), ReadError> {
        let Some(name) = cx.input_name(slot) else {
            return Ok(());
        };
        let constant = matches!(self.values.get(name), Some(Value::DequantizedConst(..)));
        if constant && self.reads(name) > 1 {
            return Err(cx.err(format!(
                "the DequantizeLinear of its constant input {slot} also feeds other nodes or \
                 is a graph output; kiln needs a DequantizeLinear of its own for each \
                 node's weights and bias"
            )));
        }
        Ok(())
    }

    /// The name of the Add, Mul, AveragePool or Softmax `cx` writing `out`: `signed` (one
    /// of [`crate::ir::MLAS_SIGNED_OPS`]) where onnxruntime runs it with MLAS's int8 kernel
    /// (an int8 QOperator node, or an int8 group where it keeps int8 Q/DQ).
    fn kernel_name(&self, cx: &NodeCx, signed: &'static str, out: TensorId) -> &'static str {
        if self.int8_kernels && !self.unsigned.contains(&out) {
            signed
        } else {
            cx.name_or_signed(signed)
        }
    }

    /// Input `slot` as dequantized constant weights of element type `dtype`.
    fn weights(
        &self,
        cx: &NodeCx,
        slot: usize,
        dtype: DType,
    ) -> Result<(Constant, Quant), ReadError> {
        self.expect_own_dequantize(cx, slot)?;
        match self.value(cx, slot)? {
            Value::DequantizedConst(c, q) if c.dtype == dtype => Ok((c, q)),
            _ => Err(cx.err(format!(
                "input {slot} must be a DequantizeLinear of a constant {dtype} tensor"
            ))),
        }
    }

    /// The optional int32 bias at `slot` of `channels` elements, as an IR constant.
    fn bias(
        &mut self,
        cx: &NodeCx,
        slot: usize,
        channels: usize,
    ) -> Result<Option<TensorId>, ReadError> {
        if cx.input_name(slot).is_none() {
            return Ok(None);
        }
        let (c, q) = self.weights(cx, slot, DType::I32)?;
        if c.elements() != channels {
            return Err(cx.err(format!(
                "its bias has {} elements; expected {channels}",
                c.elements()
            )));
        }
        let name = format!("{}_bias", cx.output_name()?);
        Ok(Some(self.add(
            &name,
            vec![channels],
            DType::I32,
            Some(q),
            Some(c.data),
        )))
    }

    fn conv(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (x, layout) = self.dequantized(cx, 0)?;
        let (w, wq) = self.weights(cx, 1, DType::I8)?;
        if self.graph.tensors[x].shape.len() != 4 || w.dims.len() != 4 {
            return Err(cx.err("kiln supports 2-D convolutions only (4-D input and weights)"));
        }
        let (out_c, k_c, k_h, k_w) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3]);
        if !wq.is_per_tensor() && wq.axis != 0 {
            return Err(cx.err("per-channel weights must be quantized along axis 0"));
        }
        let bias = self.bias(cx, 2, out_c)?;
        let x = self.relaid(x, layout, Layout::Nhwc);
        let [batches, in_h, in_w, in_c] = self.shape4(x);
        let group = cx.int("group", 1);
        if group < 1 || k_c == 0 || in_c != k_c * group as usize {
            return Err(cx.err(format!(
                "{in_c} input channels, group {group} and weights of {k_c} input channels do not agree"
            )));
        }
        if let Some(k) = cx.ints("kernel_shape") {
            if k != [k_h as i64, k_w as i64] {
                return Err(cx.err(format!(
                    "kernel_shape {k:?} differs from the weights' {:?}",
                    [k_h, k_w]
                )));
            }
        }
        let geometry = Window::of(cx, [in_h, in_w], [k_h, k_w])?;
        let (padding, x) = match geometry.padding() {
            Some(p) => (p, x),
            None => (Padding::Valid, self.pad(cx, x, &geometry)?),
        };
        let [out_h, out_w] = geometry.out;
        // OIHW → OHWI.
        let mut filter = Vec::with_capacity(w.data.len());
        for o in 0..out_c {
            for y in 0..k_h {
                for xx in 0..k_w {
                    for i in 0..k_c {
                        filter.push(w.data[((o * k_c + i) * k_h + y) * k_w + xx]);
                    }
                }
            }
        }
        let name = cx.output_name()?.to_string();
        let filter_id = self.add(
            &format!("{name}_weights"),
            vec![out_c, k_h, k_w, k_c],
            DType::I8,
            Some(wq),
            Some(filter),
        );
        let (q_out, quant, dtype, unsigned) = self.absorb_quantize(cx)?;
        let out = self.add(
            &q_out,
            vec![batches, out_h, out_w, out_c],
            dtype,
            Some(quant),
            None,
        );
        self.mark_unsigned(out, unsigned);
        let options = Conv2dOptions {
            padding,
            stride_h: geometry.strides[0],
            stride_w: geometry.strides[1],
            dilation_h: geometry.dilations[0],
            dilation_w: geometry.dilations[1],
            activation: Activation::None,
        };
        self.op(
            OpKind::Conv2d(options),
            cx.name,
            &[Some(x), Some(filter_id), bias],
            out,
        );
        self.values.insert(q_out, Value::Tensor(out, Layout::Nhwc));
        Ok(Value::Tensor(out, Layout::Nhwc))
    }

    /// An inserted PAD of NHWC tensor `x` by `window`'s explicit pads (with the input's zero
    /// point, as onnxruntime pads a quantized convolution's input).
    fn pad(&mut self, cx: &NodeCx, x: TensorId, window: &Window) -> Result<TensorId, ReadError> {
        let [b, h, w, c] = self.shape4(x);
        let [top, left, bottom, right] = window.pads;
        let paddings = [0, 0, top, bottom, left, right, 0, 0].map(|p| p as i32);
        let name = format!("{}_padded", self.graph.tensors[x].name);
        let pad_id = self.add_i32(&format!("{name}_paddings"), &paddings);
        let out = self.like(x, &name, vec![b, h + top + bottom, w + left + right, c]);
        if self.graph.tensors[x].dtype == DType::F32 {
            return Err(cx.err("explicit padding of a float32 input is not supported"));
        }
        self.op(OpKind::Pad, "Pad", &[Some(x), Some(pad_id)], out);
        Ok(out)
    }

    fn shape4(&self, id: TensorId) -> [usize; 4] {
        let s = &self.graph.tensors[id].shape;
        [0, 1, 2, 3].map(|i| s.get(i).copied().unwrap_or(0))
    }

    /// A fully connected layer of dequantized `x` by constant weights `[out, in]` (already in
    /// that order) and an optional bias, through the absorbed `QuantizeLinear`.
    fn fully_connected(
        &mut self,
        cx: &NodeCx,
        x: TensorId,
        (w, wq): (Constant, Quant),
        bias: Option<TensorId>,
        keep_num_dims: bool,
    ) -> Result<Value, ReadError> {
        let out_features = w.dims[0];
        let name = cx.output_name()?.to_string();
        let filter_id = self.add(
            &format!("{name}_weights"),
            w.dims.clone(),
            DType::I8,
            Some(wq),
            Some(w.data),
        );
        let mut shape = self.graph.tensors[x].shape.clone();
        if let Some(last) = shape.last_mut() {
            *last = out_features;
        }
        let (q_out, quant, dtype, unsigned) = self.absorb_quantize(cx)?;
        let out = self.add(&q_out, shape, dtype, Some(quant), None);
        self.mark_unsigned(out, unsigned);
        let options = FullyConnectedOptions {
            activation: Activation::None,
            keep_num_dims,
        };
        self.op(
            OpKind::FullyConnected(options),
            cx.name,
            &[Some(x), Some(filter_id), bias],
            out,
        );
        self.values.insert(q_out, Value::Tensor(out, Layout::Onnx));
        Ok(Value::Tensor(out, Layout::Onnx))
    }

    fn gemm(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        if cx.float("alpha", 1.0) != 1.0 || cx.float("beta", 1.0) != 1.0 || cx.int("transA", 0) != 0
        {
            return Err(cx.err("kiln supports Gemm with alpha 1, beta 1 and transA 0 only"));
        }
        let (x, layout) = self.dequantized(cx, 0)?;
        let x = self.relaid(x, layout, Layout::Onnx);
        let (w, wq) = self.weights(cx, 1, DType::I8)?;
        if self.graph.tensors[x].shape.len() != 2 || w.dims.len() != 2 {
            return Err(cx.err("Gemm's input and weights must be 2-D"));
        }
        let trans_b = cx.int("transB", 0) != 0;
        let w = if trans_b {
            (w, wq)
        } else {
            transpose_weights(cx, w, wq)?
        };
        if !w.1.is_per_tensor() && w.1.axis != 0 {
            return Err(cx.err("per-channel weights must be quantized along the output axis"));
        }
        if self.graph.tensors[x].shape[1] != w.0.dims[1] {
            return Err(cx.err(format!(
                "input {:?} and weights {:?} do not multiply",
                self.graph.tensors[x].shape, w.0.dims
            )));
        }
        let bias = self.bias(cx, 2, w.0.dims[0])?;
        self.fully_connected(cx, x, w, bias, false)
    }

    fn matmul(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (x, layout) = self.dequantized(cx, 0)?;
        let x = self.relaid(x, layout, Layout::Onnx);
        let (w, wq) = self.weights(cx, 1, DType::I8)?;
        let rank = self.graph.tensors[x].shape.len();
        if rank < 2 || w.dims.len() != 2 || self.graph.tensors[x].shape[rank - 1] != w.dims[0] {
            return Err(cx.err(format!(
                "kiln supports MatMul of an activation by constant 2-D weights; input {:?} and \
                 weights {:?} do not",
                self.graph.tensors[x].shape, w.dims
            )));
        }
        let w = transpose_weights(cx, w, wq)?;
        self.fully_connected(cx, x, w, None, true)
    }

    fn max_pool(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (x, layout, dequantized) = match self.value(cx, 0)? {
            Value::Dequantized(id, l) => (id, l, true),
            Value::Tensor(id, l) => (id, l, false),
            _ => return Err(cx.err("its input must be an activation")),
        };
        if self.graph.tensors[x].shape.len() != 4 {
            return Err(cx.err("kiln supports 2-D pooling only (a 4-D input)"));
        }
        if cx.node.output.len() > 1 && cx.node.output.iter().skip(1).any(|o| !o.is_empty()) {
            return Err(cx.err("its Indices output is not supported"));
        }
        if cx.int("ceil_mode", 0) != 0 || cx.int("storage_order", 0) != 0 {
            return Err(cx.err("ceil_mode and storage_order must be 0"));
        }
        let x = self.relaid(x, layout, Layout::Nhwc);
        let [batches, in_h, in_w, channels] = self.shape4(x);
        let k = cx.ints("kernel_shape").unwrap_or_default();
        let k = cx.sizes("kernel_shape", &k)?;
        let [k_h, k_w] =
            <[usize; 2]>::try_from(k).map_err(|_| cx.err("kernel_shape must have two values"))?;
        let window = Window::of(cx, [in_h, in_w], [k_h, k_w])?;
        if window.dilations != [1, 1] {
            return Err(cx.err("dilated pooling is not supported"));
        }
        let padding = window.padding().ok_or_else(|| {
            cx.err(format!(
                "pads {:?} are neither none nor SAME_UPPER's; kiln pools with those only",
                window.pads
            ))
        })?;
        let [out_h, out_w] = window.out;
        let out = self.like(x, cx.output_name()?, vec![batches, out_h, out_w, channels]);
        let options = Pool2dOptions {
            padding,
            stride_h: window.strides[0],
            stride_w: window.strides[1],
            filter_h: k_h,
            filter_w: k_w,
            activation: Activation::None,
        };
        self.op(OpKind::MaxPool2d(options), cx.name, &[Some(x)], out);
        Ok(if dequantized {
            Value::Dequantized(out, Layout::Nhwc)
        } else {
            Value::Tensor(out, Layout::Nhwc)
        })
    }

    /// AveragePool / GlobalAveragePool of a dequantized activation (onnxruntime's
    /// QLinearAveragePool / QLinearGlobalAveragePool).
    fn average_pool(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (x, layout) = self.dequantized(cx, 0)?;
        if self.graph.tensors[x].shape.len() != 4 {
            return Err(cx.err("kiln supports 2-D pooling only (a 4-D input)"));
        }
        let x = self.relaid(x, layout, Layout::Nhwc);
        let [batches, in_h, in_w, channels] = self.shape4(x);
        let (window, [k_h, k_w]) = if cx.op_type == "GlobalAveragePool" {
            (Window::of(cx, [in_h, in_w], [in_h, in_w])?, [in_h, in_w])
        } else {
            if cx.int("ceil_mode", 0) != 0 || cx.int("count_include_pad", 0) != 0 {
                return Err(cx.err("ceil_mode and count_include_pad must be 0"));
            }
            let k = cx.ints("kernel_shape").unwrap_or_default();
            let k = cx.sizes("kernel_shape", &k)?;
            let k = <[usize; 2]>::try_from(k)
                .map_err(|_| cx.err("kernel_shape must have two values"))?;
            (Window::of(cx, [in_h, in_w], k)?, k)
        };
        if window.dilations != [1, 1] {
            return Err(cx.err("dilated pooling is not supported"));
        }
        let padding = window.padding().ok_or_else(|| {
            cx.err(format!(
                "pads {:?} are neither none nor SAME_UPPER's; kiln pools with those only",
                window.pads
            ))
        })?;
        let [out_h, out_w] = window.out;
        let (q_out, quant, dtype, unsigned) = self.absorb_quantize(cx)?;
        let shape = vec![batches, out_h, out_w, channels];
        let out = self.add(&q_out, shape, dtype, Some(quant), None);
        self.mark_unsigned(out, unsigned);
        let options = Pool2dOptions {
            padding,
            stride_h: window.strides[0],
            stride_w: window.strides[1],
            filter_h: k_h,
            filter_w: k_w,
            activation: Activation::None,
        };
        let name = self.kernel_name(cx, "QLinearAveragePool", out);
        self.op(OpKind::AveragePool2d(options), name, &[Some(x)], out);
        self.values.insert(q_out, Value::Tensor(out, Layout::Nhwc));
        Ok(Value::Tensor(out, Layout::Nhwc))
    }

    fn transpose(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (x, layout, dequantized) = match self.value(cx, 0)? {
            Value::Dequantized(id, l) => (id, l, true),
            Value::Tensor(id, l) => (id, l, false),
            _ => return Err(cx.err("transposing a constant is not supported")),
        };
        let mut x = self.relaid(x, layout, Layout::Onnx);
        // A float32 transpose feeding a QuantizeLinear alone: quantized first (as onnxruntime
        // reorders them; exact, quantization is element-wise), then moved as int8.
        let mut quantized_out = None;
        if self.graph.tensors[x].dtype == DType::F32 {
            let (q_out, quant, dtype, unsigned) = self.absorb_quantize(cx)?;
            let shape = self.graph.tensors[x].shape.clone();
            let name = format!("{}_quantized", self.graph.tensors[x].name);
            let q = self.add(&name, shape, dtype, Some(quant), None);
            self.mark_unsigned(q, unsigned);
            self.op(OpKind::Quantize, "QuantizeLinear", &[Some(x)], q);
            x = q;
            quantized_out = Some(q_out);
        }
        let shape = self.graph.tensors[x].shape.clone();
        let rank = shape.len();
        let perm = match cx.ints("perm") {
            Some(p) => cx.sizes("perm", &p)?,
            None => (0..rank).rev().collect(),
        };
        let mut seen = vec![false; rank];
        for &p in &perm {
            if p >= rank || std::mem::replace(&mut seen[p], true) {
                return Err(cx.err(format!("perm {perm:?} is not a permutation of 0..{rank}")));
            }
        }
        if perm.len() != rank {
            return Err(cx.err(format!("perm {perm:?} is not a permutation of 0..{rank}")));
        }
        let out_shape = perm.iter().map(|&p| shape[p]).collect();
        let perm32: Vec<i32> = perm.iter().map(|&p| p as i32).collect();
        let name = cx.output_name()?.to_string();
        let perm_id = self.add_i32(&format!("{name}_perm"), &perm32);
        let out = self.like(x, &name, out_shape);
        self.op(OpKind::Transpose, cx.name, &[Some(x), Some(perm_id)], out);
        if let Some(q_out) = quantized_out {
            self.values.insert(q_out, Value::Tensor(out, Layout::Onnx));
        }
        Ok(if dequantized {
            Value::Dequantized(out, Layout::Onnx)
        } else {
            Value::Tensor(out, Layout::Onnx)
        })
    }

    /// Reshape, Flatten, Squeeze, Unsqueeze: a new shape for the same elements (folded on
    /// constants).
    fn reshape(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let x = self.value(cx, 0)?;
        let shape = self.onnx_shape(&x);
        let new_shape = self.new_shape(cx, &shape)?;
        if checked_product(&new_shape) != checked_product(&shape) {
            return Err(cx.err(format!("cannot reshape {shape:?} to {new_shape:?}")));
        }
        Ok(match x {
            Value::Tensor(id, layout) | Value::Dequantized(id, layout) => {
                let dequantized = matches!(x, Value::Dequantized(..));
                let id = self.relaid(id, layout, Layout::Onnx);
                let out = self.like(id, cx.output_name()?, new_shape);
                self.op(OpKind::Reshape, cx.name, &[Some(id)], out);
                if dequantized {
                    Value::Dequantized(out, Layout::Onnx)
                } else {
                    Value::Tensor(out, Layout::Onnx)
                }
            }
            Value::Const(mut c) => {
                c.dims = new_shape;
                Value::Const(c)
            }
            Value::DequantizedConst(mut c, q) => {
                if !q.is_per_tensor() {
                    return Err(cx.err("reshaping per-channel weights is not supported"));
                }
                c.dims = new_shape;
                Value::DequantizedConst(c, q)
            }
        })
    }

    /// The constant a shape-arithmetic node computes (`Constant`, `Shape` of any value,
    /// `Gather`, `Concat` and `Cast` of constants), folded at import.
    fn fold_constant(&self, cx: &NodeCx) -> Result<Constant, ReadError> {
        let vector = |values: Vec<i64>| i64_constant(vec![values.len()], &values);
        match cx.op_type {
            "Constant" => {
                if let Some(t) = cx.attr("value").and_then(|a| a.t.as_ref()) {
                    return constant::decode(t).map_err(|e| cx.err(format!("its value: {e}")));
                }
                if let Some(i) = cx.attr("value_int").and_then(|a| a.i) {
                    return Ok(i64_constant(vec![], &[i]));
                }
                if let Some(a) = cx.attr("value_ints") {
                    return Ok(vector(a.ints.clone()));
                }
                Err(cx.err("kiln reads a Constant's value, value_int or value_ints only"))
            }
            "Shape" => {
                let dims = self.onnx_shape(&self.value(cx, 0)?);
                let rank = dims.len() as i64;
                let bound = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
                let start = bound(cx.int("start", 0));
                let end = bound(cx.int("end", rank));
                let dims = dims.get(start..end.max(start)).unwrap_or(&[]);
                Ok(vector(dims.iter().map(|&d| d as i64).collect()))
            }
            "Gather" => {
                let data = self.constant(cx, 0, "data")?;
                let indices = self.constant(cx, 1, "indices")?;
                if data.dims.len() != 1 || cx.int("axis", 0) != 0 {
                    return Err(cx.err(
                        "kiln gathers from constant vectors only (shape arithmetic); Gather of \
                         activations is not supported yet",
                    ));
                }
                let values = data.ints();
                let n = values.len() as i64;
                let picked = indices
                    .ints()
                    .iter()
                    .map(|&i| {
                        let at = if i < 0 { i + n } else { i };
                        usize::try_from(at)
                            .ok()
                            .and_then(|at| values.get(at).copied())
                            .ok_or_else(|| cx.err(format!("index {i} outside {n} elements")))
                    })
                    .collect::<Result<Vec<i64>, _>>()?;
                Ok(i64_constant(indices.dims.clone(), &picked))
            }
            "Concat" => {
                let mut values = Vec::new();
                for slot in 0..cx.node.input.len() {
                    let c = self.constant(cx, slot, "input").map_err(|_| {
                        cx.err("kiln concatenates constants only (shape arithmetic) so far")
                    })?;
                    if c.dims.len() != 1 {
                        return Err(cx.err("kiln concatenates constant vectors only so far"));
                    }
                    values.extend(c.ints());
                }
                Ok(vector(values))
            }
            _ => {
                // Cast of an integer constant to an integer type.
                let c = self.constant(cx, 0, "input")?;
                let to = cx.int("to", 0);
                let dtype = i32::try_from(to)
                    .ok()
                    .and_then(constant::dtype_of)
                    .filter(|d| !matches!(d, DType::F32 | DType::Bool))
                    .ok_or_else(|| {
                        cx.err(format!(
                            "kiln casts constants to integer types only, not to type {to}"
                        ))
                    })?;
                if c.dtype == DType::F32 {
                    return Err(cx.err("kiln casts integer constants only"));
                }
                let size = dtype.size();
                let data = c
                    .ints()
                    .iter()
                    .flat_map(|v| v.to_le_bytes().into_iter().take(size))
                    .collect();
                Ok(Constant {
                    dtype,
                    dims: c.dims,
                    data,
                })
            }
        }
    }

    /// The ONNX shape of an activation value.
    fn onnx_shape(&self, v: &Value) -> Vec<usize> {
        match v {
            Value::Tensor(id, layout) | Value::Dequantized(id, layout) => {
                let s = self.graph.tensors[*id].shape.clone();
                match layout {
                    Layout::Nhwc if s.len() == 4 => vec![s[0], s[3], s[1], s[2]],
                    _ => s,
                }
            }
            Value::Const(c) | Value::DequantizedConst(c, _) => c.dims.clone(),
        }
    }

    /// The output shape of a Reshape, Flatten, Squeeze or Unsqueeze of `shape`.
    fn new_shape(&self, cx: &NodeCx, shape: &[usize]) -> Result<Vec<usize>, ReadError> {
        let rank = shape.len() as i64;
        // Axes from the attribute (older opsets) or from constant input 1.
        let axes = |out_rank: i64| -> Result<Vec<usize>, ReadError> {
            let raw = match cx.input_name(1) {
                Some(_) => self.constant(cx, 1, "axes")?.ints(),
                None => cx.ints("axes").unwrap_or_default(),
            };
            let mut axes: Vec<usize> = raw
                .iter()
                .map(|&a| {
                    let a = if a < 0 { a + out_rank } else { a };
                    usize::try_from(a)
                        .ok()
                        .filter(|&a| (a as i64) < out_rank)
                        .ok_or_else(|| cx.err(format!("axis {a} outside rank {out_rank}")))
                })
                .collect::<Result<_, _>>()?;
            axes.sort_unstable();
            axes.dedup();
            Ok(axes)
        };
        Ok(match cx.op_type {
            "Reshape" => {
                let target = self.constant(cx, 1, "shape")?.ints();
                let allow_zero = cx.int("allowzero", 0) != 0;
                let mut out = Vec::with_capacity(target.len());
                let mut infer = None;
                for (i, &d) in target.iter().enumerate() {
                    match d {
                        -1 if infer.is_none() => {
                            infer = Some(i);
                            out.push(1);
                        }
                        0 if !allow_zero => out.push(*shape.get(i).ok_or_else(|| {
                            cx.err(format!("shape {target:?}: no dimension {i} to copy"))
                        })?),
                        d => out.push(cx.sizes("shape", &[d])?[0]),
                    }
                }
                if let Some(i) = infer {
                    let known = checked_product(&out).unwrap_or(0);
                    let total: usize = shape.iter().product();
                    if known == 0 || !total.is_multiple_of(known) {
                        return Err(cx.err(format!("cannot reshape {shape:?} to {target:?}")));
                    }
                    out[i] = total / known;
                }
                out
            }
            "Flatten" => {
                let axis = cx.int("axis", 1);
                let axis = if axis < 0 { axis + rank } else { axis };
                if !(0..=rank).contains(&axis) {
                    return Err(cx.err(format!("axis {axis} outside rank {rank}")));
                }
                let (a, b) = shape.split_at(axis as usize);
                vec![a.iter().product(), b.iter().product()]
            }
            "Squeeze" => {
                let axes = axes(rank)?;
                if axes.iter().any(|&a| shape[a] != 1) {
                    return Err(cx.err(format!("axes {axes:?} of {shape:?} are not all 1")));
                }
                shape
                    .iter()
                    .enumerate()
                    .filter(|&(i, &d)| {
                        if axes.is_empty() {
                            d != 1
                        } else {
                            !axes.contains(&i)
                        }
                    })
                    .map(|(_, &d)| d)
                    .collect()
            }
            _ => {
                // Unsqueeze.
                let n = cx
                    .input_name(1)
                    .map(|_| self.constant(cx, 1, "axes").map(|c| c.elements()))
                    .transpose()?
                    .unwrap_or_else(|| cx.ints("axes").map_or(0, |a| a.len()));
                if n > 64 {
                    return Err(cx.err(format!("{n} axes to insert")));
                }
                let axes = axes(rank + n as i64)?;
                let mut rest = shape.iter();
                (0..shape.len() + axes.len())
                    .map(|i| {
                        if axes.contains(&i) {
                            1
                        } else {
                            rest.next().copied().unwrap_or(1)
                        }
                    })
                    .collect()
            }
        })
    }

    /// The graph outputs: in the model's layout, dequantized where the model dequantizes.
    fn finish(mut self, g: &GraphProto) -> Result<Graph, ReadError> {
        for output in &g.output {
            let name = output.name.clone().unwrap_or_default();
            let value = self.values.get(&name).cloned().ok_or_else(|| {
                model_err(format!(
                    "graph output '{}' is not computed by any node",
                    shown(&name)
                ))
            })?;
            let id = match value {
                Value::Tensor(id, layout) => {
                    let id = self.relaid(id, layout, Layout::Onnx);
                    if !self.graph.inputs.contains(&id) {
                        self.graph.tensors[id].name = name;
                    }
                    id
                }
                Value::Dequantized(id, layout) => {
                    let id = self.relaid(id, layout, Layout::Onnx);
                    let shape = self.graph.tensors[id].shape.clone();
                    let out = self.add(&name, shape, DType::F32, None, None);
                    self.op(OpKind::Dequantize, "DequantizeLinear", &[Some(id)], out);
                    out
                }
                Value::Const(_) | Value::DequantizedConst(..) => {
                    return Err(model_err(format!(
                        "graph output '{}' is a constant",
                        shown(&name)
                    )))
                }
            };
            self.graph.outputs.push(id);
        }
        Ok(self.graph)
    }
}

/// onnxruntime's common-subexpression elimination, as it affects QDQ fusion: a
/// `QuantizeLinear` or `DequantizeLinear` with the same inputs (after merging) and attributes
/// as an earlier one is merged into it. Returns each merged output's surviving name.
fn merged_quantize_nodes(nodes: &[NodeProto]) -> HashMap<&str, &str> {
    let mut same_as: HashMap<&str, &str> = HashMap::new();
    let mut seen: HashMap<String, &str> = HashMap::new();
    for n in nodes {
        let op = n.op_type.as_deref().unwrap_or("");
        let default_domain = matches!(n.domain.as_deref(), None | Some("" | "ai.onnx"));
        let (Some(out), true, "QuantizeLinear" | "DequantizeLinear") =
            (n.output.first(), default_domain, op)
        else {
            continue;
        };
        let inputs: Vec<&str> = n
            .input
            .iter()
            .map(|i| same_as.get(i.as_str()).copied().unwrap_or(i))
            .collect();
        let key = format!("{op} {inputs:?} {:?}", n.attribute);
        match seen.get(&key) {
            Some(&first) => {
                same_as.insert(out, first);
            }
            None => {
                seen.insert(key, out);
            }
        }
    }
    same_as
}

/// An int64 constant of `dims` holding `values`.
fn i64_constant(dims: Vec<usize>, values: &[i64]) -> Constant {
    Constant {
        dtype: DType::I64,
        dims,
        data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// The product of `dims`, unless it overflows.
fn checked_product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |p, &d| p.checked_mul(d))
}

/// Weights `[K, N]` (and their per-channel quantization along axis 1) as `[N, K]` (along 0).
fn transpose_weights(cx: &NodeCx, w: Constant, q: Quant) -> Result<(Constant, Quant), ReadError> {
    if !q.is_per_tensor() && q.axis != 1 {
        return Err(cx.err("per-channel weights must be quantized along the output axis"));
    }
    let (k, n) = (w.dims[0], w.dims[1]);
    let size = w.dtype.size();
    let mut data = Vec::with_capacity(w.data.len());
    for j in 0..n {
        for i in 0..k {
            let at = (i * n + j) * size;
            data.extend_from_slice(&w.data[at..at + size]);
        }
    }
    let q = Quant { axis: 0, ..q };
    Ok((
        Constant {
            dtype: w.dtype,
            dims: vec![n, k],
            data,
        },
        q,
    ))
}

/// A 2-D window's geometry from a Conv's or pool's attributes.
struct Window {
    strides: [usize; 2],
    dilations: [usize; 2],
    /// top, left, bottom, right.
    pads: [usize; 4],
    out: [usize; 2],
    input: [usize; 2],
    kernel: [usize; 2],
}

impl Window {
    fn of(cx: &NodeCx, input: [usize; 2], kernel: [usize; 2]) -> Result<Window, ReadError> {
        let pair = |name: &str| -> Result<[usize; 2], ReadError> {
            match cx.ints(name) {
                None => Ok([1, 1]),
                Some(v) => {
                    let v = cx.sizes(name, &v)?;
                    <[usize; 2]>::try_from(v)
                        .ok()
                        .filter(|v| v.iter().all(|&x| x >= 1))
                        .ok_or_else(|| cx.err(format!("{name} must be two positive values")))
                }
            }
        };
        let strides = pair("strides")?;
        let dilations = pair("dilations")?;
        if kernel.contains(&0) {
            return Err(cx.err("the kernel is empty"));
        }
        let effective = [0, 1].map(|i| (kernel[i] - 1) * dilations[i] + 1);
        let auto_pad = cx.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
        let pads = match auto_pad.as_str() {
            "NOTSET" => match cx.ints("pads") {
                None => [0; 4],
                Some(p) => {
                    let p = cx.sizes("pads", &p)?;
                    let [t, l, b, r] = <[usize; 4]>::try_from(p)
                        .map_err(|_| cx.err("pads must have four values"))?;
                    [t, l, b, r]
                }
            },
            "VALID" => [0; 4],
            "SAME_UPPER" => {
                let total = [0, 1].map(|i| {
                    let out = input[i].div_ceil(strides[i]);
                    ((out - 1) * strides[i] + effective[i]).saturating_sub(input[i])
                });
                [
                    total[0] / 2,
                    total[1] / 2,
                    total[0] - total[0] / 2,
                    total[1] - total[1] / 2,
                ]
            }
            other => {
                return Err(cx.err(format!(
                    "auto_pad {} is not supported (NOTSET, VALID, SAME_UPPER are)",
                    shown(other)
                )))
            }
        };
        let mut out = [0; 2];
        for i in 0..2 {
            let padded = input[i] + pads[i] + pads[i + 2];
            if padded < effective[i] {
                return Err(cx.err(format!(
                    "the window ({} with dilation) is larger than the padded input ({padded})",
                    effective[i]
                )));
            }
            out[i] = (padded - effective[i]) / strides[i] + 1;
        }
        Ok(Window {
            strides,
            dilations,
            pads,
            out,
            input,
            kernel,
        })
    }

    /// The IR padding scheme giving these pads and output size, if one does.
    fn padding(&self) -> Option<Padding> {
        if self.pads == [0; 4] {
            return Some(Padding::Valid);
        }
        let same = (0..2).all(|i| {
            let effective = (self.kernel[i] - 1) * self.dilations[i] + 1;
            let out = self.input[i].div_ceil(self.strides[i]);
            let total = ((out - 1) * self.strides[i] + effective).saturating_sub(self.input[i]);
            out == self.out[i] && self.pads[i] == total / 2 && self.pads[i + 2] == total - total / 2
        });
        same.then_some(Padding::Same)
    }
}

#[cfg(test)]
mod tests {
    use super::super::proto::{
        data_type, Dimension, ModelProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
        TypeProto, TypeProtoTensor, ValueInfoProto,
    };
    use super::*;
    use prost::Message;

    /// A float32 value of `shape` (a graph input or output).
    fn value(name: &str, shape: &[i64]) -> ValueInfoProto {
        ValueInfoProto {
            name: Some(name.into()),
            r#type: Some(TypeProto {
                tensor_type: Some(TypeProtoTensor {
                    elem_type: Some(data_type::FLOAT),
                    shape: Some(TensorShapeProto {
                        dim: shape
                            .iter()
                            .map(|&d| Dimension {
                                dim_value: Some(d),
                                dim_param: None,
                            })
                            .collect(),
                    }),
                }),
            }),
        }
    }

    fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: Some(format!("{output}_node")),
            op_type: Some(op.into()),
            ..Default::default()
        }
    }

    fn scalar(name: &str, data_type: i32, raw: Vec<u8>, dims: Vec<i64>) -> TensorProto {
        TensorProto {
            name: Some(name.into()),
            data_type: Some(data_type),
            dims,
            raw_data: Some(raw),
            ..Default::default()
        }
    }

    /// `x` [1, 4] → Q → DQ → `body` nodes → graph output `y`, with int8 weights `w` [3, 4],
    /// int32 bias `b` and quantization parameters `s`/`z`.
    fn model(body: Vec<NodeProto>, input_shape: &[i64]) -> Vec<u8> {
        let mut nodes = vec![
            node("QuantizeLinear", &["x", "s", "z"], "xq"),
            node("DequantizeLinear", &["xq", "s", "z"], "xd"),
            node("DequantizeLinear", &["w", "s", "z"], "wd"),
        ];
        nodes.extend(body);
        let graph = GraphProto {
            node: nodes,
            name: Some("test".into()),
            initializer: vec![
                scalar(
                    "s",
                    data_type::FLOAT,
                    0.25f32.to_le_bytes().to_vec(),
                    vec![],
                ),
                scalar("z", data_type::INT8, vec![0], vec![]),
                scalar("w", data_type::INT8, vec![1; 12], vec![3, 4]),
            ],
            input: vec![value("x", input_shape)],
            output: vec![value("y", &[1, 3])],
        };
        ModelProto {
            ir_version: Some(8),
            producer_name: None,
            graph: Some(graph),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(13),
            }],
        }
        .encode_to_vec()
    }

    fn error(bytes: &[u8]) -> String {
        super::super::read(bytes).expect_err("an error").to_string()
    }

    /// Gemm by the weights, requantized, dequantized into `y`.
    fn gemm_body(input: &str) -> Vec<NodeProto> {
        let mut gemm = node("Gemm", &[input, "wd"], "g");
        gemm.attribute.push(AttributeProto {
            name: Some("transB".into()),
            i: Some(1),
            ..Default::default()
        });
        vec![
            gemm,
            node("QuantizeLinear", &["g", "s", "z"], "gq"),
            node("DequantizeLinear", &["gq", "s", "z"], "y"),
        ]
    }

    #[test]
    fn a_qdq_gemm_imports_as_one_fully_connected_layer() {
        let graph = super::super::read(&model(gemm_body("xd"), &[1, 4])).unwrap();
        let ops: Vec<&str> = graph.ops.iter().map(|o| o.name).collect();
        assert_eq!(ops, ["QuantizeLinear", "Gemm", "DequantizeLinear"]);
        assert!(matches!(graph.ops[1].kind, OpKind::FullyConnected(_)));
        assert_eq!(graph.arithmetic, Arithmetic::Onnxruntime);
    }

    /// The names of the operators of an imported model.
    fn op_names(bytes: &[u8]) -> Vec<&'static str> {
        let graph = super::super::read(bytes).unwrap();
        graph.ops.iter().map(|o| o.name).collect()
    }

    /// `body` after the test model's nodes, with a second quantization of `x` (`xd2`, scale
    /// `s2`: not merged with `xd`) and `y` an Add of `a` and `b`, requantized.
    fn add_model(a: &str, b: &str, extra_outputs: &[&str]) -> Vec<u8> {
        let body = vec![
            node("QuantizeLinear", &["x", "s2", "z"], "xq2"),
            node("DequantizeLinear", &["xq2", "s2", "z"], "xd2"),
            node("Add", &[a, b], "sum"),
            node("QuantizeLinear", &["sum", "s", "z"], "sumq"),
            node("DequantizeLinear", &["sumq", "s", "z"], "y"),
        ];
        let mut m = ModelProto::decode(model(body, &[1, 4]).as_slice()).unwrap();
        let g = m.graph.as_mut().unwrap();
        g.initializer.push(scalar(
            "s2",
            data_type::FLOAT,
            0.5f32.to_le_bytes().to_vec(),
            vec![],
        ));
        g.output[0] = value("y", &[1, 4]);
        for name in extra_outputs {
            g.output.push(value(name, &[1, 4]));
        }
        m.encode_to_vec()
    }

    #[test]
    fn a_shared_int8_dequantize_is_imported_with_mlas_int8_kernels() {
        // Each DequantizeLinear read once: the x86-64 default session's uint8 QLinearAdd.
        let names = op_names(&add_model("xd", "xd2", &[]));
        assert!(
            names.contains(&"Add") && !names.contains(&"QLinearAdd"),
            "{names:?}"
        );
        // `xd` read twice (a skip connection): onnxruntime's Arm default, MLAS's int8 kernel.
        let names = op_names(&add_model("xd", "xd", &[]));
        assert!(names.contains(&"QLinearAdd"), "{names:?}");
        // Read once by a node and once as a graph output: the same.
        let names = op_names(&add_model("xd", "xd2", &["xd"]));
        assert!(names.contains(&"QLinearAdd"), "{names:?}");
        // Through two identical DequantizeLinear nodes, which onnxruntime merges.
        let mut m = ModelProto::decode(add_model("xd", "xd2", &[]).as_slice()).unwrap();
        let g = m.graph.as_mut().unwrap();
        g.node
            .push(node("DequantizeLinear", &["xq", "s", "z"], "xd3"));
        g.node.push(node("Identity", &["xd3"], "copy"));
        g.output.push(value("copy", &[1, 4]));
        let names = op_names(&m.encode_to_vec());
        assert!(names.contains(&"QLinearAdd"), "{names:?}");
    }

    #[test]
    fn a_shared_dequantize_of_a_constant_is_refused() {
        // `wd` (the weights) also feeds an Identity: kiln folds it into one node's weights.
        let mut body = gemm_body("xd");
        body.push(node("Identity", &["wd"], "unused"));
        let text = error(&model(body, &[1, 4]));
        assert!(
            text.contains("ONNX node 3 'g_node' (Gemm)")
                && text.contains("DequantizeLinear of its constant input 1 also feeds"),
            "{text}"
        );
    }

    #[test]
    fn a_dequantize_of_uint8_shared_by_two_nodes_is_imported() {
        // `xd` feeds the Gemm and an Identity (the graph output `y2`): fine with uint8.
        let mut body = gemm_body("xd");
        body.push(node("Identity", &["xd"], "y2"));
        let mut m = ModelProto::decode(model(body, &[1, 4]).as_slice()).unwrap();
        let g = m.graph.as_mut().unwrap();
        for n in &mut g.node[..2] {
            n.input[2] = "zu".into();
        }
        g.initializer
            .push(scalar("zu", data_type::UINT8, vec![128], vec![]));
        g.output.push(value("y2", &[1, 4]));
        let graph = super::super::read(&m.encode_to_vec()).unwrap();
        let ops: Vec<&str> = graph.ops.iter().map(|o| o.name).collect();
        assert_eq!(
            ops,
            [
                "QuantizeLinear",
                "Gemm",
                "DequantizeLinear",
                "DequantizeLinear"
            ]
        );
    }

    #[test]
    fn a_float_compute_node_must_feed_a_quantize() {
        let mut body = gemm_body("xd");
        body.truncate(1);
        body[0].output[0] = "y".into();
        let text = error(&model(body, &[1, 4]));
        assert!(
            text.contains("must feed exactly one QuantizeLinear"),
            "{text}"
        );
    }

    #[test]
    fn a_moved_dequantized_input_is_refused_for_compute_nodes() {
        let mut body = vec![node("Identity", &["xd"], "moved")];
        body.extend(gemm_body("moved"));
        let text = error(&model(body, &[1, 4]));
        assert!(
            text.contains("not by a DequantizeLinear of its own"),
            "{text}"
        );
    }

    #[test]
    fn symbolic_and_mismatched_shapes_are_errors() {
        let mut bytes = model(gemm_body("xd"), &[1, 4]);
        let mut m = ModelProto::decode(bytes.as_slice()).unwrap();
        let dims = &mut m.graph.as_mut().unwrap().input[0]
            .r#type
            .as_mut()
            .unwrap()
            .tensor_type
            .as_mut()
            .unwrap()
            .shape
            .as_mut()
            .unwrap()
            .dim;
        dims[0] = Dimension {
            dim_value: None,
            dim_param: Some("batch".into()),
        };
        bytes = m.encode_to_vec();
        assert!(error(&bytes).contains("symbolic dimension 'batch'"));
        // A graph input too large to address.
        let huge = error(&model(gemm_body("xd"), &[1 << 20, 1 << 20]));
        assert!(huge.contains("exceed 2147483648 bytes"), "{huge}");
        // Names from the file are shown escaped: a message stays one line.
        let mut hostile = ModelProto::decode(bytes.as_slice()).unwrap();
        hostile.graph.as_mut().unwrap().input[0].name = Some("x\n\u{1b}[2J".into());
        let text = error(&hostile.encode_to_vec());
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text}");
        let text = error(&model(gemm_body("xd"), &[1, 5]));
        assert!(text.contains("do not multiply"), "{text}");
    }
}
