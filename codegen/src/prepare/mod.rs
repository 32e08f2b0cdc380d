//! Validation and compile-time math: checked [`Graph`] → one [`Layer`] per operator.
//!
//! Each check TFLM's `Prepare` makes for a supported op is an error here, and every
//! multiplier, shift, padding and clamp bound is computed here, so the generated code holds
//! only integer constants. The per-op rules live in [`crate::ops`].

pub mod quant;

use std::fmt;

use crate::back::rust::runtime as rt;
use crate::ir::{DType, Graph, OpKind, Quant, Tensor, TensorId};
use crate::ops;

/// A model that reads fine but breaks a rule of the op it feeds (TFLM `Prepare` checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidateError {
    /// Index of the operator in execution order (`None` for graph-level problems).
    pub op_index: Option<usize>,
    /// The operator's name, e.g. `CONV_2D`.
    pub op_name: &'static str,
    /// What is wrong, naming the tensor where one is at fault.
    pub message: String,
}

impl fmt::Display for ValidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op_index {
            Some(i) => write!(f, "operator {i} ({}): {}", self.op_name, self.message),
            None => write!(f, "model: {}", self.message),
        }
    }
}

impl std::error::Error for ValidateError {}

/// Integer weights and requantization constants of a convolution or fully connected layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// Filter bytes (int8), in the layout the kernel reads.
    pub filter: Vec<u8>,
    /// Bias per output channel, when the model has one.
    pub bias: Option<Vec<i32>>,
    /// `bias + input_offset · Σ filter` per output channel (wrapping): the bias of the fast
    /// kernels, which then accumulate plain `Σ w·x`.
    pub folded_bias: Vec<i32>,
    /// Q31 multiplier per output channel (one entry when per-tensor).
    pub multipliers: Vec<i32>,
    /// Shift per output channel (one entry when per-tensor).
    pub shifts: Vec<i32>,
}

/// Float32 weights of a convolution or fully connected layer, as little-endian f32 bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatWeights {
    /// Filter, in the layout the kernel reads.
    pub filter: Vec<u8>,
    /// Bias per output channel, when the model has one.
    pub bias: Option<Vec<u8>>,
}

/// What a layer runs, with all its compile-time constants.
#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// Int8 CONV_2D.
    Conv2d(rt::Conv, Weights),
    /// Int8 DEPTHWISE_CONV_2D.
    DepthwiseConv2d(rt::Conv, Weights),
    /// Int8 FULLY_CONNECTED.
    FullyConnected(rt::FullyConnected, Weights),
    /// Int8 AVERAGE_POOL_2D.
    AveragePool(rt::Pool),
    /// Int8 MAX_POOL_2D.
    MaxPool(rt::Pool),
    /// Int8 ADD.
    Add(rt::Add),
    /// Int8 SOFTMAX.
    Softmax(rt::Softmax),
    /// QUANTIZE float32 → int8.
    QuantizeF32(rt::Quantize),
    /// QUANTIZE int8 → int8.
    Requantize(rt::Requantize),
    /// DEQUANTIZE int8 → float32.
    Dequantize(rt::Dequantize),
    /// RESHAPE: no computation (aliased by the planner, or copied into a graph output).
    Reshape,
    /// Float32 CONV_2D.
    Conv2dF32(rt::ConvF32, FloatWeights),
    /// Float32 DEPTHWISE_CONV_2D.
    DepthwiseConv2dF32(rt::ConvF32, FloatWeights),
    /// Float32 FULLY_CONNECTED.
    FullyConnectedF32(rt::FullyConnectedF32, FloatWeights),
    /// Float32 AVERAGE_POOL_2D (`average`) or MAX_POOL_2D.
    PoolF32 {
        /// Geometry and clamp bounds.
        params: rt::Pool<f32>,
        /// AVERAGE_POOL_2D when true, MAX_POOL_2D when false.
        average: bool,
    },
    /// Float32 ADD.
    AddF32(rt::AddF32),
    /// Float32 SOFTMAX.
    SoftmaxF32(rt::SoftmaxF32),
    /// Int8 ADD with broadcasting.
    AddBroadcast(rt::Add, rt::Broadcast),
    /// Int8 MUL (broadcast when the shapes differ).
    Mul(rt::Mul, Option<rt::Broadcast>),
    /// Int8 SUB (broadcast when the shapes differ); constants laid out as ADD's.
    Sub(rt::Add, Option<rt::Broadcast>),
    /// An int8 element-wise op (LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH) as the
    /// table of TFLM's reference function over all 256 inputs, indexed by `input as u8`.
    Lookup(Box<[i8; 256]>),
    /// Int8 MEAN.
    Mean(rt::Mean),
    /// Int8 PAD / PADV2.
    Pad(rt::Pad),
    /// Int8 CONCATENATION: one part per input, in input order.
    Concatenation(Vec<rt::ConcatPart>),
    /// Int8 STRIDED_SLICE or TRANSPOSE as an affine gather.
    Gather(rt::Gather),
}

/// One operator, validated, with its constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Index of the operator in the model.
    pub index: usize,
    /// Operator name, e.g. `CONV_2D`.
    pub op_name: &'static str,
    /// What it runs.
    pub kernel: Kernel,
    /// Non-constant (activation) inputs read by the kernel, in kernel argument order.
    /// Constant inputs that are not weights (e.g. an ADD operand) are listed too.
    pub inputs: Vec<TensorId>,
    /// The tensor it writes.
    pub output: TensorId,
    /// Multiply-accumulates per inference.
    pub macs: u64,
}

impl Layer {
    /// Bytes of constant data this layer keeps in flash (filter, bias, multipliers, shifts).
    pub fn weight_bytes(&self) -> usize {
        match &self.kernel {
            Kernel::Conv2d(_, w) | Kernel::FullyConnected(_, w) => {
                w.filter.len()
                    + w.folded_bias.len() * 4
                    + w.multipliers.len() * 4
                    + w.shifts.len() * 4
            }
            // Depthwise keeps the plain bias too, for border pixels.
            Kernel::DepthwiseConv2d(_, w) => {
                w.filter.len()
                    + w.folded_bias.len() * 8
                    + w.multipliers.len() * 4
                    + w.shifts.len() * 4
            }
            Kernel::Conv2dF32(_, w)
            | Kernel::DepthwiseConv2dF32(_, w)
            | Kernel::FullyConnectedF32(_, w) => {
                w.filter.len() + w.bias.as_ref().map_or(0, Vec::len)
            }
            Kernel::Lookup(table) => table.len(),
            _ => 0,
        }
    }
}

/// Context for one operator's checks: the graph, the op's index and name.
pub struct OpCx<'g> {
    /// The whole graph.
    pub graph: &'g Graph,
    /// Index of the operator.
    pub index: usize,
    /// Name of the operator.
    pub name: &'static str,
    op: &'g crate::ir::Op,
}

impl<'g> OpCx<'g> {
    /// An error for this op.
    pub fn err(&self, message: impl Into<String>) -> ValidateError {
        ValidateError {
            op_index: Some(self.index),
            op_name: self.name,
            message: message.into(),
        }
    }

    /// Describes tensor `t` for messages: `tensor 5 'conv/weights'`.
    pub fn describe(&self, t: TensorId) -> String {
        let name = &self.graph.tensors[t].name;
        if name.is_empty() {
            format!("tensor {t}")
        } else {
            format!("tensor {t} '{}'", crate::names::shown(name))
        }
    }

    /// The tensor id at input `slot`, which must be present.
    pub fn input_id(&self, slot: usize, what: &str) -> Result<TensorId, ValidateError> {
        self.op
            .input(slot)
            .ok_or_else(|| self.err(format!("missing {what} (input {slot})")))
    }

    /// The tensor at input `slot`, which must be present.
    pub fn input(&self, slot: usize, what: &str) -> Result<(TensorId, &'g Tensor), ValidateError> {
        let id = self.input_id(slot, what)?;
        Ok((id, &self.graph.tensors[id]))
    }

    /// Number of input slots of the operator (present or omitted).
    pub fn input_count(&self) -> usize {
        self.op.inputs.len()
    }

    /// The tensor at optional input `slot`.
    pub fn optional_input(&self, slot: usize) -> Option<(TensorId, &'g Tensor)> {
        self.op.input(slot).map(|id| (id, &self.graph.tensors[id]))
    }

    /// The single output tensor.
    pub fn output(&self) -> Result<(TensorId, &'g Tensor), ValidateError> {
        match self.op.outputs.as_slice() {
            [id] => Ok((*id, &self.graph.tensors[*id])),
            other => Err(self.err(format!("expects 1 output, has {}", other.len()))),
        }
    }

    /// Requires `t` to have element type `dtype`.
    pub fn expect_dtype(
        &self,
        (id, t): (TensorId, &Tensor),
        dtype: DType,
        role: &str,
    ) -> Result<(), ValidateError> {
        if t.dtype == dtype {
            Ok(())
        } else {
            Err(self.err(format!(
                "{role} {} is {}, but kiln supports only {dtype} here",
                self.describe(id),
                t.dtype
            )))
        }
    }

    /// Requires `t` to have rank `rank`.
    pub fn expect_rank(
        &self,
        (id, t): (TensorId, &Tensor),
        rank: usize,
        role: &str,
    ) -> Result<(), ValidateError> {
        if t.shape.len() == rank {
            Ok(())
        } else {
            Err(self.err(format!(
                "{role} {} must have rank {rank}, has shape {:?}",
                self.describe(id),
                t.shape
            )))
        }
    }

    /// Per-tensor quantization of `t` as `(scale, zero_point)`.
    pub fn per_tensor(
        &self,
        (id, t): (TensorId, &'g Tensor),
        role: &str,
    ) -> Result<(f32, i32), ValidateError> {
        match &t.quant {
            Some(q) if q.is_per_tensor() => {
                let (scale, zp) = (q.scale(), q.zero_points[0]);
                if !(scale.is_finite() && scale > 0.0) {
                    return Err(self.err(format!(
                        "{role} {} has invalid scale {scale}",
                        self.describe(id)
                    )));
                }
                if !(-128..=127).contains(&zp) && t.dtype == DType::I8 {
                    return Err(self.err(format!(
                        "{role} {} has zero point {zp} outside int8",
                        self.describe(id)
                    )));
                }
                Ok((scale, zp as i32))
            }
            Some(_) => Err(self.err(format!(
                "{role} {} must be quantized per tensor, not per channel",
                self.describe(id)
            ))),
            None => Err(self.err(format!("{role} {} is not quantized", self.describe(id)))),
        }
    }

    /// Quantization of a weight tensor: per-tensor or per-channel along `axis` with `channels`
    /// entries, symmetric (all zero points 0). Returns the scales.
    pub fn weight_scales(
        &self,
        (id, t): (TensorId, &'g Tensor),
        axis: usize,
        channels: usize,
    ) -> Result<&'g Quant, ValidateError> {
        let q = t
            .quant
            .as_ref()
            .ok_or_else(|| self.err(format!("weights {} are not quantized", self.describe(id))))?;
        if !q.is_per_tensor() && (q.axis != axis || q.scales.len() != channels) {
            return Err(self.err(format!(
                "weights {} are per-channel along axis {} with {} scales; expected axis {axis} with {channels}",
                self.describe(id),
                q.axis,
                q.scales.len()
            )));
        }
        if let Some(s) = q.scales.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
            return Err(self.err(format!(
                "weights {} have invalid scale {s}",
                self.describe(id)
            )));
        }
        Ok(q)
    }

    /// Requires `t` to be a constant tensor.
    pub fn expect_const(
        &self,
        (id, t): (TensorId, &Tensor),
        role: &str,
    ) -> Result<(), ValidateError> {
        if t.is_const() {
            Ok(())
        } else {
            Err(self.err(format!(
                "{role} {} must be a constant tensor (kiln compiles weights into flash)",
                self.describe(id)
            )))
        }
    }

    /// The fused activation's clamp bounds for an int8 output.
    pub fn activation_range(
        &self,
        activation: crate::ir::Activation,
        scale: f32,
        zero_point: i32,
    ) -> Result<(i32, i32), ValidateError> {
        quant::activation_range_i8(activation, scale, zero_point).ok_or_else(|| {
            self.err(format!(
                "activation {activation:?} bound overflows int32 at scale {scale}"
            ))
        })
    }

    /// TFLite `QuantizeMultiplier` with an error for invalid multipliers.
    pub fn multiplier(&self, m: f64, what: &str) -> Result<(i32, i32), ValidateError> {
        match quant::quantize_multiplier(m) {
            Some((q, s)) if (-31..=30).contains(&s) => Ok((q, s)),
            _ => Err(self.err(format!("{what} multiplier {m} cannot be represented"))),
        }
    }
}

/// Validates every operator and computes its constants.
pub fn prepare(graph: &Graph) -> Result<Vec<Layer>, ValidateError> {
    let graph_err = |message: String| ValidateError {
        op_index: None,
        op_name: "",
        message,
    };
    if graph.inputs.is_empty() || graph.outputs.is_empty() {
        return Err(graph_err("the model has no inputs or no outputs".into()));
    }
    for &t in graph.inputs.iter().chain(&graph.outputs) {
        if graph.tensors[t].is_const() {
            return Err(graph_err(format!(
                "graph input/output tensor {t} is a constant"
            )));
        }
    }
    // Every non-constant op input must be a graph input or written by an earlier op.
    let mut written: Vec<bool> = vec![false; graph.tensors.len()];
    for &t in &graph.inputs {
        written[t] = true;
    }
    let mut layers = Vec::with_capacity(graph.ops.len());
    for (index, op) in graph.ops.iter().enumerate() {
        let cx = OpCx {
            graph,
            index,
            name: op.name,
            op,
        };
        for t in op.inputs.iter().flatten() {
            let tensor = &graph.tensors[*t];
            if !tensor.is_const() && !written[*t] {
                return Err(cx.err(format!(
                    "reads {} before any operator writes it (operators must be in execution order)",
                    cx.describe(*t)
                )));
            }
        }
        let (output, out_tensor) = cx.output()?;
        if written[output] {
            return Err(cx.err(format!("writes {} a second time", cx.describe(output))));
        }
        if out_tensor.is_const() {
            return Err(cx.err(format!("writes constant {}", cx.describe(output))));
        }
        written[output] = true;
        let (kernel, inputs, macs) = match &op.kind {
            OpKind::Conv2d(o) => ops::conv2d::prepare(&cx, o)?,
            OpKind::DepthwiseConv2d(o) => ops::depthwise_conv2d::prepare(&cx, o)?,
            OpKind::FullyConnected(o) => ops::fully_connected::prepare(&cx, o)?,
            OpKind::AveragePool2d(o) => ops::pool2d::prepare(&cx, o, true)?,
            OpKind::MaxPool2d(o) => ops::pool2d::prepare(&cx, o, false)?,
            OpKind::Add { activation } => ops::add::prepare(&cx, *activation)?,
            OpKind::Reshape => ops::reshape::prepare(&cx)?,
            OpKind::Softmax { beta } => ops::softmax::prepare(&cx, *beta)?,
            OpKind::Quantize => ops::quantize::prepare(&cx)?,
            OpKind::Dequantize => ops::dequantize::prepare(&cx)?,
            OpKind::Mul { activation } => ops::mul::prepare(&cx, *activation)?,
            OpKind::Sub { activation } => ops::sub::prepare(&cx, *activation)?,
            OpKind::Logistic => ops::activations::logistic(&cx)?,
            OpKind::Tanh => ops::activations::tanh(&cx)?,
            OpKind::Relu => ops::activations::relu(&cx)?,
            OpKind::Relu6 => ops::activations::relu6(&cx)?,
            OpKind::LeakyRelu { alpha } => ops::activations::leaky_relu(&cx, *alpha)?,
            OpKind::HardSwish => ops::activations::hard_swish(&cx)?,
            OpKind::Mean { keep_dims } => ops::mean::prepare(&cx, *keep_dims)?,
            OpKind::Pad => ops::pad::prepare(&cx)?,
            OpKind::Concatenation { axis } => ops::concatenation::prepare(&cx, *axis)?,
            OpKind::StridedSlice(o) => ops::strided_slice::prepare(&cx, o)?,
            OpKind::Transpose => ops::transpose::prepare(&cx)?,
        };
        layers.push(Layer {
            index,
            op_name: op.name,
            kernel,
            inputs,
            output,
            macs,
        });
    }
    for &t in &graph.outputs {
        if !written[t] {
            return Err(graph_err(format!(
                "graph output tensor {t} is never written"
            )));
        }
    }
    Ok(layers)
}
