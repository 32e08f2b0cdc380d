//! Validation and compile-time math: checked [`Graph`] → one [`Layer`] per operator.
//!
//! Each check TFLM's `Prepare` makes for a supported op is an error here, and every
//! multiplier, shift, padding and clamp bound is computed here, so the generated code holds
//! only integer constants. Each operator's rules live in its own file here (`conv2d.rs`, …,
//! with their tests beside them), dispatched by [`prepare`]; [`OpCx`] holds the checks they
//! share, [`common`] the constant computations several ops share.

pub mod abs_neg;
pub mod activations;
pub mod add;
pub mod add_n;
pub mod arg_min_max;
pub mod batch_matmul;
pub mod broadcast_reverse;
pub mod cast;
pub mod common;
pub mod compare;
pub mod concatenation;
mod context;
pub mod conv2d;
pub mod cumsum;
pub mod depthwise_conv2d;
pub mod dequantize;
pub mod div;
pub mod dynamic_quant;
pub mod fill;
pub mod float_ops;
pub mod floor_div_mod;
pub mod fully_connected;
pub mod gather;
pub mod int16;
pub mod int_arith;
pub mod l2_normalization;
pub mod log_softmax;
pub mod lookup_tables;
pub mod lstm;
pub mod math;
pub mod maximum_minimum;
pub mod mean;
pub mod mirror_pad;
pub mod movement;
pub mod mul;
pub mod pack;
pub mod pad;
pub mod pool2d;
pub mod prelu;
pub mod qlinear;
pub mod qlinear_elementwise;
pub mod quant;
pub mod quantize;
pub mod reduce_min_max;
pub mod reshape;
pub mod resize;
pub mod shape;
pub mod shapes;
pub mod signal_energy;
pub mod signal_fft_auto_scale;
pub mod signal_filter_bank;
pub mod signal_filter_bank_log;
pub mod signal_filter_bank_square_root;
pub mod signal_pcan;
pub mod signal_rfft;
pub mod signal_spectral_subtraction;
pub mod signal_window;
pub mod slice;
pub mod softmax;
pub mod softmax_i16;
pub mod space_batch;
pub mod space_depth;
pub mod split;
pub mod squared_difference;
pub mod strided_slice;
pub mod sub;
pub mod svdf;
#[cfg(test)]
mod test_models;
pub mod transpose;
pub mod transpose_conv;

use std::fmt;

use crate::ir::{Arithmetic, DType, Graph, OpKind, SignalOp, TensorId};
use crate::layer::{FloatActivation, FloatArith};
pub use crate::layer::{FloatWeights, IntOp, Kernel, Layer, LayerState, Weights};
pub use context::OpCx;
use float_ops::is_f32;

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

/// The layers of a several-output operator, one per output: its output, kernel, inputs and
/// the state it keeps.
pub type StatefulParts =
    Result<Vec<(TensorId, Kernel, Vec<TensorId>, Vec<LayerState>)>, ValidateError>;

/// Stateless parts (of [`split`] and the like) as [`StatefulParts`].
fn without_state(parts: split::Parts) -> StatefulParts {
    Ok(parts?
        .into_iter()
        .map(|(output, kernel, inputs)| (output, kernel, inputs, Vec::new()))
        .collect())
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
    // Variable tensors (state) hold their values from the last inference, or their initial
    // ones.
    for &t in graph.inputs.iter().chain(&graph.variables) {
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
        // Evaluated at compile time (`crate::fold`): its outputs are constants now.
        if graph.folded.contains(&index) {
            continue;
        }
        for t in op.inputs.iter().flatten() {
            let tensor = &graph.tensors[*t];
            if !tensor.is_const() && !written[*t] {
                return Err(cx.err(format!(
                    "reads {} before any operator writes it (operators must be in execution order)",
                    cx.describe(*t)
                )));
            }
        }
        let mut mark_written = |output: TensorId| {
            if written[output] {
                return Err(cx.err(format!("writes {} a second time", cx.describe(output))));
            }
            if graph.tensors[output].is_const() {
                return Err(cx.err(format!("writes constant {}", cx.describe(output))));
            }
            written[output] = true;
            Ok(())
        };
        for layer in prepare_op(&cx)? {
            mark_written(layer.output)?;
            layers.push(layer);
        }
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

/// Validates one operator and computes its constants: its layers, one per output (most
/// operators have one). The caller checks what the graph as a whole must hold (every input
/// written before it is read, every tensor written once).
pub fn prepare_op(cx: &OpCx) -> Result<Vec<Layer>, ValidateError> {
    let (graph, index, op) = (cx.graph, cx.index, cx.op);
    // Several-output operators run as one layer per output.
    let parts = match &op.kind {
        OpKind::Split => Some(without_state(split::split(cx))?),
        OpKind::SplitV => Some(without_state(split::split_v(cx))?),
        OpKind::Unpack { axis } => Some(without_state(split::unpack(cx, *axis))?),
        OpKind::Signal(SignalOp::FftAutoScale) => {
            Some(without_state(signal_fft_auto_scale::prepare(cx))?)
        }
        OpKind::Signal(SignalOp::FilterBankSpectralSubtraction(o)) => {
            Some(signal_spectral_subtraction::prepare(cx, o)?)
        }
        _ => None,
    };
    if let Some(parts) = parts {
        return Ok(parts
            .into_iter()
            .enumerate()
            .map(|(part, (output, kernel, inputs, state))| Layer {
                index,
                op_name: op.name,
                kernel,
                inputs,
                output,
                macs: 0,
                band: None,
                part: Some(part),
                state,
            })
            .collect());
    }
    let (output, _) = cx.output()?;
    let (kernel, inputs, macs) = match &op.kind {
        OpKind::Conv2d(o) => conv2d::prepare(cx, o)?,
        OpKind::DepthwiseConv2d(o) => depthwise_conv2d::prepare(cx, o)?,
        OpKind::FullyConnected(o) => fully_connected::prepare(cx, o)?,
        OpKind::DynamicQuantizeMatMul => dynamic_quant::prepare(cx)?,
        OpKind::DynamicQuantizeConv(o) => dynamic_quant::conv(cx, o)?,
        OpKind::AveragePool2d(o) if graph.arithmetic == Arithmetic::Onnxruntime => {
            qlinear::avg_pool(cx, o)?
        }
        OpKind::AveragePool2d(o) => pool2d::prepare(cx, o, true)?,
        OpKind::MaxPool2d(o) => pool2d::prepare(cx, o, false)?,
        OpKind::Add { activation } if output_is_i32(cx) => {
            int_arith::prepare(cx, IntOp::Add, *activation)?
        }
        OpKind::Add { activation } if is_f32(cx) => {
            float_ops::arith(cx, FloatArith::Add, *activation)?
        }
        OpKind::Add { activation } if graph.arithmetic == Arithmetic::Onnxruntime => {
            qlinear::add(cx, *activation)?
        }
        OpKind::Add { activation } => add::prepare(cx, *activation)?,
        OpKind::Reshape => reshape::prepare(cx)?,
        OpKind::Softmax { beta } if input_is_i16(cx) => softmax_i16::prepare(cx, *beta)?,
        OpKind::Softmax { beta } if graph.arithmetic == Arithmetic::Onnxruntime => {
            qlinear_elementwise::softmax(cx, *beta)?
        }
        OpKind::Softmax { beta } => softmax::prepare(cx, *beta)?,
        OpKind::Quantize => quantize::prepare(cx)?,
        OpKind::Dequantize => dequantize::prepare(cx)?,
        OpKind::Mul { activation } if output_is_i32(cx) => {
            int_arith::prepare(cx, IntOp::Mul, *activation)?
        }
        OpKind::Mul { activation } if is_f32(cx) => {
            float_ops::arith(cx, FloatArith::Mul, *activation)?
        }
        OpKind::Mul { activation } if graph.arithmetic == Arithmetic::Onnxruntime => {
            qlinear_elementwise::mul(cx, *activation)?
        }
        OpKind::Mul { activation } => mul::prepare(cx, *activation)?,
        OpKind::Div { activation } if output_is_i32(cx) => {
            int_arith::prepare(cx, IntOp::Div, *activation)?
        }
        OpKind::Cast => cast::prepare(cx)?,
        OpKind::Signal(SignalOp::Window { shift }) => signal_window::prepare(cx, *shift)?,
        OpKind::Signal(SignalOp::Rfft { fft_length }) => signal_rfft::prepare(cx, *fft_length)?,
        OpKind::Signal(SignalOp::Energy {
            start_index,
            end_index,
        }) => signal_energy::prepare(cx, *start_index, *end_index)?,
        OpKind::Signal(SignalOp::FilterBank { num_channels }) => {
            signal_filter_bank::prepare(cx, *num_channels)?
        }
        OpKind::Signal(SignalOp::FilterBankSquareRoot) => {
            signal_filter_bank_square_root::prepare(cx)?
        }
        OpKind::Signal(SignalOp::Pcan { snr_shift }) => signal_pcan::prepare(cx, *snr_shift)?,
        OpKind::Signal(SignalOp::FilterBankLog {
            input_correction_bits,
            output_scale,
        }) => signal_filter_bank_log::prepare(cx, *input_correction_bits, *output_scale)?,
        OpKind::Sub { activation } if is_f32(cx) => {
            float_ops::arith(cx, FloatArith::Sub, *activation)?
        }
        OpKind::Sub { activation } => sub::prepare(cx, *activation)?,
        OpKind::Logistic if graph.arithmetic == Arithmetic::Onnxruntime && !is_f32(cx) => {
            qlinear_elementwise::sigmoid(cx)?
        }
        OpKind::Logistic => activations::logistic(cx)?,
        OpKind::Tanh => activations::tanh(cx)?,
        OpKind::Relu if is_f32(cx) => float_ops::activation(cx, FloatActivation::Relu)?,
        OpKind::Relu => activations::relu(cx)?,
        OpKind::Relu6 if is_f32(cx) => float_ops::activation(cx, FloatActivation::Relu6)?,
        OpKind::Relu6 => activations::relu6(cx)?,
        OpKind::LeakyRelu { alpha } if is_f32(cx) => float_ops::leaky_relu(cx, *alpha)?,
        OpKind::LeakyRelu { alpha } => activations::leaky_relu(cx, *alpha)?,
        OpKind::HardSwish if is_f32(cx) => float_ops::activation(cx, FloatActivation::HardSwish)?,
        OpKind::HardSwish => activations::hard_swish(cx)?,
        OpKind::Mean { keep_dims } => mean::prepare(cx, *keep_dims)?,
        OpKind::Pad => pad::prepare(cx)?,
        OpKind::Concatenation { axis } => concatenation::prepare(cx, *axis)?,
        OpKind::StridedSlice(o) => strided_slice::prepare(cx, o)?,
        OpKind::Transpose => transpose::prepare(cx)?,
        OpKind::SquaredDifference if is_f32(cx) => float_ops::squared_difference(cx)?,
        OpKind::SquaredDifference => squared_difference::prepare(cx)?,
        OpKind::Maximum => maximum_minimum::prepare(cx, true)?,
        OpKind::Minimum => maximum_minimum::prepare(cx, false)?,
        OpKind::Abs => abs_neg::abs(cx)?,
        OpKind::Neg => abs_neg::neg(cx)?,
        OpKind::ReduceMax { keep_dims } => reduce_min_max::prepare(cx, *keep_dims, true)?,
        OpKind::ReduceMin { keep_dims } => reduce_min_max::prepare(cx, *keep_dims, false)?,
        OpKind::ArgMax => arg_min_max::prepare(cx, true)?,
        OpKind::ArgMin => arg_min_max::prepare(cx, false)?,
        OpKind::Slice => slice::prepare(cx)?,
        OpKind::Pack { axis } => pack::prepare(cx, *axis)?,
        OpKind::UnidirectionalSequenceLstm(o) => lstm::prepare(cx, o)?,
        OpKind::Svdf { rank, activation } => svdf::prepare(cx, *rank, *activation)?,
        OpKind::Gather { axis, batch_dims } => gather::gather(cx, *axis, *batch_dims)?,
        OpKind::GatherNd => gather::gather_nd(cx)?,
        OpKind::SpaceToDepth { block_size } => space_depth::space_to_depth(cx, *block_size)?,
        OpKind::DepthToSpace { block_size } => space_depth::depth_to_space(cx, *block_size)?,
        OpKind::SpaceToBatchNd => space_batch::space_to_batch(cx)?,
        OpKind::BatchToSpaceNd => space_batch::batch_to_space(cx)?,
        OpKind::MirrorPad { symmetric } => mirror_pad::prepare(cx, *symmetric)?,
        OpKind::BroadcastTo => broadcast_reverse::broadcast_to(cx)?,
        OpKind::ResizeNearestNeighbor(o) => resize::nearest_neighbor(cx, o)?,
        OpKind::ResizeBilinear(o) => resize::bilinear(cx, o)?,
        OpKind::ReverseV2 => broadcast_reverse::reverse_v2(cx)?,
        OpKind::ZerosLike => fill::zeros_like(cx)?,
        OpKind::Fill => fill::fill(cx)?,
        OpKind::Shape => shape::shape(cx)?,
        OpKind::Cumsum { exclusive, reverse } => cumsum::prepare(cx, *exclusive, *reverse)?,
        OpKind::Prelu => prelu::prepare(cx)?,
        OpKind::Math(f) => math::prepare(cx, *f)?,
        OpKind::Div { activation } => div::prepare(cx, *activation)?,
        OpKind::Sum { keep_dims } => mean::sum(cx, *keep_dims)?,
        OpKind::L2Normalization { activation } => l2_normalization::prepare(cx, *activation)?,
        OpKind::LogSoftmax => log_softmax::prepare(cx)?,
        OpKind::Compare(op) => compare::compare(cx, *op)?,
        OpKind::SelectV2 => compare::select(cx)?,
        OpKind::Logical { and } => compare::logical(cx, *and)?,
        OpKind::LogicalNot => compare::logical_not(cx)?,
        OpKind::TransposeConv(o) => transpose_conv::prepare(cx, o)?,
        OpKind::L2Pool2d(o) => pool2d::l2(cx, o)?,
        OpKind::AddN => add_n::prepare(cx)?,
        OpKind::FloorDiv => floor_div_mod::prepare(cx, false)?,
        OpKind::FloorMod => floor_div_mod::prepare(cx, true)?,
        OpKind::EmbeddingLookup => gather::embedding_lookup(cx)?,
        OpKind::BroadcastArgs => shape::broadcast_args(cx)?,
        OpKind::BatchMatmul { adj_x, adj_y } => batch_matmul::prepare(cx, *adj_x, *adj_y)?,
        OpKind::Split
        | OpKind::SplitV
        | OpKind::Unpack { .. }
        | OpKind::Signal(SignalOp::FftAutoScale)
        | OpKind::Signal(SignalOp::FilterBankSpectralSubtraction(_)) => {
            return Err(cx.err("kiln bug: a several-output operator taken for a single-output one"))
        }
    };
    Ok(vec![Layer {
        index,
        op_name: op.name,
        kernel,
        inputs,
        output,
        macs,
        band: None,
        part: None,
        state: Vec::new(),
    }])
}

/// Whether the operator's first input is int16 (SOFTMAX then takes its int16 form).
fn input_is_i16(cx: &OpCx) -> bool {
    cx.input(0, "input")
        .is_ok_and(|(_, t)| t.dtype == DType::I16)
}

/// Whether the operator writes an int32 tensor (ADD and MUL then take their unquantized int32
/// forms).
fn output_is_i32(cx: &OpCx) -> bool {
    cx.output().is_ok_and(|(_, t)| t.dtype == DType::I32)
}

#[cfg(test)]
mod rule_tests {
    use super::test_models::*;

    #[test]
    fn reading_a_tensor_nothing_wrote_is_rejected() {
        // ADD(FC(a), b) where b is no longer a graph input and no operator writes it.
        let mut g = FixtureGraph::new("errors_unwritten");
        let a = g.input_i8(&[1, 10], 0.05, 3);
        let b = g.input_i8(&[1, 10], 0.04, -7);
        let x = g.fully_connected(a, Fc::new(10));
        let y = g.add(x, b, Activation::None);
        g.output(y);
        let mut m = g.model().clone();
        let b = op_input(&m, 1, 1);
        m.inputs.retain(|&t| t as usize != b);
        let msg = expect_invalid(&serialize(&m), 1, "ADD", &["before any operator writes it"]);
        assert!(
            msg.contains(&format!("reads tensor {b} 'input_1'")),
            "{msg}"
        );

        // Operators out of execution order are the same error.
        let mut m = tiny_kws();
        m.operators.swap(3, 4);
        let reshaped = op_output(&m, 4);
        let msg = expect_invalid(
            &serialize(&m),
            3,
            "FULLY_CONNECTED",
            &["before any operator writes it", "execution order"],
        );
        assert!(msg.contains(&format!("tensor {reshaped} '")), "{msg}");
    }
}
