//! The prepared model's vocabulary: one [`Layer`] per operator, the [`Kernel`] it runs with all
//! its compile-time constants, and its [`Weights`]. [`crate::prepare`] makes them; the planner,
//! the tuner and the back-ends read them.

use crate::ir::{Comparison, DType, TensorId, UnaryMath};
use crate::runtime as rt;

/// An int32 arithmetic operator without quantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOp {
    /// ADD (wrapping).
    Add,
    /// MUL (wrapping).
    Mul,
    /// DIV (truncating).
    Div,
}

/// A float32 binary arithmetic operator with a fused activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatArith {
    /// ADD.
    Add,
    /// SUB (first input minus second).
    Sub,
    /// MUL.
    Mul,
}

/// A float32 element-wise activation without parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatActivation {
    /// RELU.
    Relu,
    /// RELU6.
    Relu6,
    /// HARD_SWISH.
    HardSwish,
}

/// The runtime function of a float32 element-wise math kernel ([`Kernel::MapF32`]): its name,
/// which the generated code calls, and the function itself, which constant folding calls.
pub fn unary_math(f: UnaryMath) -> (&'static str, fn(f32) -> f32) {
    match f {
        UnaryMath::Elu => ("elu_f32", rt::elu_f32),
        UnaryMath::Exp => ("exp_f32", rt::exp_f32),
        UnaryMath::Log => ("log_f32", rt::log_f32),
        UnaryMath::Sqrt => ("sqrt_f32", rt::sqrt_f32),
        UnaryMath::Rsqrt => ("rsqrt_f32", rt::rsqrt_f32),
        UnaryMath::Floor => ("floor_f32", rt::floor_f32),
        UnaryMath::Ceil => ("ceil_f32", rt::ceil_f32),
        UnaryMath::Round => ("round_f32", rt::round_f32),
        UnaryMath::Square => ("square_f32", rt::square_f32),
        UnaryMath::Logistic => ("logistic_f32", rt::logistic_f32),
        UnaryMath::Tanh => ("tanh_f32", rt::tanh_f32),
        UnaryMath::Sin => ("sin_f32", rt::sin_f32),
        UnaryMath::Cos => ("cos_f32", rt::cos_f32),
    }
}

/// kissfft's tables for an int16 RFFT, computed at compile time.
#[derive(Clone, Debug, PartialEq)]
pub struct RfftTables {
    /// The complex FFT's radices, outermost first.
    pub factors: Vec<u16>,
    /// The complex FFT's twiddles, `re, im` interleaved.
    pub twiddles: Vec<i16>,
    /// The real split's twiddles, `re, im` interleaved.
    pub super_twiddles: Vec<i16>,
}

/// An array a layer keeps from one call to the next outside its tensors (e.g. a running noise
/// estimate): a field of the generated `State`, set to `initial` by `Model::new` and
/// `Model::reset`, as TFLM's `Prepare` and `Reset` set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerState {
    /// What it holds; the field is `layer_<operator index>_<name>`.
    pub name: &'static str,
    /// Element type.
    pub dtype: DType,
    /// Elements.
    pub len: usize,
    /// The value every element starts at.
    pub initial: i64,
    /// Whether this layer updates it (else it only reads it, e.g. to copy it out).
    pub writes: bool,
}

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
    /// Every shift is in -22..=-1 and no input can drive an accumulator to 2^30: the
    /// requantization may take the short path (`rt::requantize_small_offset`).
    pub fast_requant: bool,
}

/// Float32 weights of a convolution or fully connected layer, as little-endian f32 bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatWeights {
    /// Filter, in the layout the kernel reads.
    pub filter: Vec<u8>,
    /// Bias per output channel, when the model has one.
    pub bias: Option<Vec<u8>>,
}

/// The weights of an int8 LSTM ([`rt::lstm_i8`] documents the layout).
#[derive(Clone, Debug, PartialEq)]
pub struct LstmWeights {
    /// Per gate (forget, input, cell, output): input weights, then recurrent weights (int8).
    pub filter: Vec<u8>,
    /// Per gate: the input part's folded bias, then the recurrent part's, one per unit.
    pub bias: Vec<i32>,
}

/// The weights of a float32 LSTM ([`rt::lstm_f32`] documents the layout).
#[derive(Clone, Debug, PartialEq)]
pub struct LstmWeightsF32 {
    /// Per gate (forget, input, cell, output): input weights, then recurrent weights.
    pub filter: Vec<f32>,
    /// Per gate: its bias, one per unit.
    pub bias: Vec<f32>,
}

/// The weights of a float32 SVDF ([`rt::svdf_f32`] documents the layout).
#[derive(Clone, Debug, PartialEq)]
pub struct SvdfWeightsF32 {
    /// Feature weights `[filters, input_size]`.
    pub feature: Vec<f32>,
    /// Time weights `[filters, memory]`.
    pub time: Vec<f32>,
    /// One bias per unit (zeros when the model has none).
    pub bias: Vec<f32>,
}

/// Weights and requantization of an int16x8 convolution or fully connected layer.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightsI16 {
    /// Filter bytes (int8), as the model stores them.
    pub filter: Vec<u8>,
    /// Bias per output channel (zeros without one), widened to int64.
    pub bias: Vec<i64>,
    /// Q31 multiplier per output channel (one entry when per-tensor).
    pub multipliers: Vec<i32>,
    /// Shift per output channel (one entry when per-tensor).
    pub shifts: Vec<i32>,
}

/// Constants of a [`Kernel::DynamicQuantizeMatMul`].
#[derive(Clone, Debug, PartialEq)]
pub struct WeightsDynamic {
    /// Weight bytes (int8 `depth × cols`, row-major; a convolution's uint8 HWIO).
    pub filter: Vec<u8>,
    /// Weight scale per output column (one entry when per-tensor).
    pub scales: Vec<f32>,
    /// Float32 bias per output column (empty without one).
    pub bias: Vec<f32>,
}

/// Weights and float requantization scales of an int8 convolution or fully connected layer
/// that follows onnxruntime's arithmetic ([`rt::conv2d_qlinear`]).
#[derive(Clone, Debug, PartialEq)]
pub struct WeightsQLinear {
    /// Filter bytes (int8, OHWI; a fully connected layer's `[out, in]`).
    pub filter: Vec<u8>,
    /// Bias per output channel (zeros without one).
    pub bias: Vec<i32>,
    /// `bias[c] − input_zero_point · Σ filter[c]` (wrapping), for
    /// [`rt::conv2d_qlinear_fast`].
    pub folded_bias: Vec<i32>,
    /// `input_scale · weight_scale[c] / output_scale` in float32 per output channel (one
    /// entry when per-tensor).
    pub scales: Vec<f32>,
}

impl WeightsQLinear {
    /// A depthwise filter (`[channels, k_h, k_w, 1]`) channels-last, `[k_h, k_w, channels]`,
    /// for [`rt::depthwise_conv2d_qlinear`].
    pub fn depthwise_hwc(&self, channels: usize) -> Vec<u8> {
        let taps = self.filter.len() / channels.max(1);
        (0..taps)
            .flat_map(|t| (0..channels).map(move |c| (t, c)))
            .map(|(t, c)| self.filter.get(c * taps + t).copied().unwrap_or(0))
            .collect()
    }
}

/// The weights of an int8 SVDF ([`rt::svdf_i8`] documents the layout).
#[derive(Clone, Debug, PartialEq)]
pub struct SvdfWeights {
    /// Feature weights `[filters, input_size]` (int8).
    pub feature: Vec<u8>,
    /// Time weights `[filters, memory]` (int16).
    pub time: Vec<i16>,
    /// One bias per unit (zeros when the model has none).
    pub bias: Vec<i32>,
}

/// What a layer runs, with all its compile-time constants.
#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// Int8 CONV_2D.
    Conv2d(rt::ConvFast, Weights),
    /// Int8 DEPTHWISE_CONV_2D.
    DepthwiseConv2d(rt::ConvFast, Weights),
    /// Int8 FULLY_CONNECTED.
    FullyConnected(rt::FullyConnected, Weights),
    /// Int8 AVERAGE_POOL_2D.
    AveragePool(rt::Pool),
    /// Int8 MAX_POOL_2D.
    MaxPool(rt::Pool),
    /// Int8 ADD.
    Add(rt::Add),
    /// Int8 ADD of equal shapes through per-input tables ([`rt::add_tabled`]): the reference
    /// constants (the tables' source, and compile-time evaluation's) and the output's.
    AddTabled(rt::Add, rt::AddTabled),
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
    /// Float32 ADD, SUB or MUL with its activation's clamp (broadcast when the shapes differ).
    ArithF32 {
        /// Which operator.
        op: FloatArith,
        /// The fused activation's bounds.
        clamp: rt::ClampF32,
        /// The broadcast, when the input shapes differ.
        broadcast: Option<rt::Broadcast>,
    },
    /// Float32 SQUARED_DIFFERENCE (broadcast when the shapes differ).
    SquaredDifferenceF32(Option<rt::Broadcast>),
    /// Float32 RELU, RELU6 or HARD_SWISH.
    ActivationF32(FloatActivation),
    /// Float32 LEAKY_RELU.
    LeakyReluF32(rt::LeakyReluF32),
    /// Float32 MEAN.
    MeanF32(rt::Reduce),
    /// Float32 SOFTMAX.
    SoftmaxF32(rt::SoftmaxF32),
    /// Int8 ADD with broadcasting.
    AddBroadcast(rt::Add, rt::Broadcast),
    /// Int8 MUL (broadcast when the shapes differ).
    Mul(rt::Mul, Option<rt::Broadcast>),
    /// Int8 SUB (broadcast when the shapes differ); constants laid out as ADD's.
    Sub(rt::Add, Option<rt::Broadcast>),
    /// An int8 element-wise op (LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH, ABS,
    /// ELU, RSQRT) as the table of TFLM's reference function over all 256 inputs, indexed by
    /// `input as u8`.
    Lookup(Box<[i8; 256]>),
    /// Int8 MEAN.
    Mean(rt::Mean),
    /// PAD / PADV2: int8, int16, or float32 (`value` holding the float's bits).
    Pad(rt::Pad),
    /// CONCATENATION or PACK (any element type): one part per input, in input order.
    Concatenation(Vec<rt::ConcatPart>),
    /// STRIDED_SLICE, TRANSPOSE or SLICE (any element type), as an affine gather.
    Gather(rt::Gather),
    /// Int8 SQUARED_DIFFERENCE (broadcast when the shapes differ); constants laid out as
    /// ADD's.
    SquaredDifference(rt::Add, Option<rt::Broadcast>),
    /// A band of rows copied out of a tensor for patch-based execution ([`crate::bands`]):
    /// the output's elements from element `start` of the input, a contiguous run.
    SliceRows {
        /// First input element copied.
        start: usize,
    },
    /// MAXIMUM or MINIMUM, int8 or float32, on the raw values (broadcast when the shapes
    /// differ).
    MaxMin {
        /// MAXIMUM when true, MINIMUM when false.
        maximum: bool,
        /// The broadcast, when the input shapes differ.
        broadcast: Option<rt::Broadcast>,
    },
    /// Float32 ABS.
    AbsF32,
    /// Float32 NEG.
    NegF32,
    /// REDUCE_MAX (`maximum`) or REDUCE_MIN, int8 or float32.
    Reduce {
        /// Which elements fold into which output.
        params: rt::Reduce,
        /// REDUCE_MAX when true, REDUCE_MIN when false.
        maximum: bool,
    },
    /// ARG_MAX (`maximum`) or ARG_MIN: int8 or float32 in, int32 out.
    ArgMinMax {
        /// The input as `[outer, axis, inner]`.
        params: rt::ArgMinMax,
        /// ARG_MAX when true, ARG_MIN when false.
        maximum: bool,
    },
    /// Int8 UNIDIRECTIONAL_SEQUENCE_LSTM (int16 cell state); inputs: the input, the hidden
    /// state and the cell state (which it updates).
    LstmI8(rt::Lstm, LstmWeights),
    /// Float32 UNIDIRECTIONAL_SEQUENCE_LSTM; inputs: the input, the hidden state and the cell
    /// state (which it updates).
    LstmF32(rt::LstmF32, LstmWeightsF32),
    /// Int8 SVDF with an int16 state; inputs: the input and the state (which it updates).
    SvdfI8(rt::Svdf, SvdfWeights),
    /// Float32 SVDF; inputs: the input and the state (which it updates).
    SvdfF32(rt::SvdfF32, SvdfWeightsF32),
    /// Int16x8 CONV_2D or FULLY_CONNECTED (`depthwise` false; FC as a 1×1 convolution over its
    /// rows) or DEPTHWISE_CONV_2D.
    ConvI16 {
        /// Geometry, clamp, accumulator width.
        params: rt::ConvI16,
        /// Filter, bias, multipliers, shifts.
        weights: WeightsI16,
        /// DEPTHWISE_CONV_2D (`1HW(C·M)` filter).
        depthwise: bool,
    },
    /// Int8 CONV_2D or FULLY_CONNECTED (a 1×1 convolution over its rows) with onnxruntime's
    /// float requantization (QLinearConv, QGemm).
    ConvQLinear(rt::ConvQLinear, WeightsQLinear),
    /// onnxruntime's DynamicQuantizeMatMul: float32 in and out, the input quantized to uint8
    /// by its range at run time, int8 weights.
    DynamicQuantizeMatMul(rt::DynamicMatMul, WeightsDynamic),
    /// onnxruntime's ConvInteger chain: float32 in and out, the input quantized to uint8 by
    /// its range at run time, uint8 weights with a zero point.
    DynamicQuantizeConv(rt::DynamicConv, WeightsDynamic),
    /// QUANTIZE float32 → int8 as onnxruntime's QuantizeLinear (rounding half to even).
    QuantizeLinear(rt::Quantize),
    /// Int8 ADD of equal shapes as onnxruntime's QLinearAdd (float32 fused multiply-adds).
    AddQLinear(rt::AddQLinear),
    /// onnxruntime's QLinearAdd of broadcast inputs ([`rt::add_qlinear_broadcast`]).
    AddQLinearBroadcast(rt::AddQLinearBroadcast, rt::Broadcast),
    /// onnxruntime's QLinearMul ([`rt::mul_qlinear`]), broadcast when given.
    MulQLinear(rt::MulQLinear, Option<rt::Broadcast>),
    /// onnxruntime's QLinearSoftmax ([`rt::softmax_qlinear`]) and its float32 table of
    /// exponentials.
    SoftmaxQLinear(rt::SoftmaxQLinear, Vec<f32>),
    /// Int8 AVERAGE_POOL_2D as onnxruntime's QLinearAveragePool / QLinearGlobalAveragePool.
    AvgPoolQLinear(rt::AvgPoolQLinear),
    /// Int16 LOGISTIC (`tanh` false) or TANH.
    ActivationI16 {
        /// How the input enters the table.
        scale: rt::InputScale16,
        /// TANH when true.
        tanh: bool,
    },
    /// Int16 ADD (`subtract` false) or SUB, broadcast when the shapes differ.
    AddSubI16 {
        /// ADD's constants (left shift 15).
        params: rt::Add,
        /// The broadcast, when the input shapes differ.
        bc: Option<rt::Broadcast>,
        /// SUB when true.
        subtract: bool,
    },
    /// Int16 SQUARED_DIFFERENCE (broadcast when the shapes differ); constants laid out as
    /// ADD's.
    SquaredDifferenceI16(rt::Add, Option<rt::Broadcast>),
    /// Int16 MUL (broadcast when the shapes differ).
    MulI16(rt::Mul, Option<rt::Broadcast>),
    /// Int16 AVERAGE_POOL_2D (`average`) or MAX_POOL_2D.
    PoolI16 {
        /// Geometry and int16 clamp bounds.
        params: rt::Pool,
        /// AVERAGE_POOL_2D when true.
        average: bool,
    },
    /// Int16 MEAN.
    MeanI16(rt::Mean),
    /// Int16 LEAKY_RELU.
    LeakyReluI16(rt::LeakyRelu),
    /// Int16 RELU.
    ReluI16(rt::ReluI16),
    /// Int16 ABS.
    AbsI16(rt::AbsI16),
    /// Int16 RELU6.
    Relu6I16(rt::Relu6I16),
    /// Int16 SOFTMAX with TFLM's two interpolated tables.
    SoftmaxI16 {
        /// Rows and input scaling.
        params: rt::SoftmaxI16,
        /// `exp(x)` on `[-10, 0]`, 513 entries in Q0.15.
        exp_lut: Vec<i16>,
        /// `1 / (1 + x)` on `[0, 1]`, 513 entries in Q0.15.
        recip_lut: Vec<i16>,
    },
    /// QUANTIZE float32 → int16.
    QuantizeF32I16(rt::Quantize),
    /// QUANTIZE int8 or int16 → int16.
    RequantizeToI16(rt::Requantize),
    /// QUANTIZE int16 → int8.
    RequantizeI16ToI8(rt::Requantize),
    /// QUANTIZE uint8 → int8.
    RequantizeU8ToI8(rt::Requantize),
    /// QUANTIZE int8 → uint8.
    RequantizeI8ToU8(rt::Requantize),
    /// DEQUANTIZE uint8 → float32.
    DequantizeU8(rt::Dequantize),
    /// DEQUANTIZE int16 → float32.
    DequantizeI16(rt::Dequantize),
    /// A gather through per-axis index tables (MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR,
    /// SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND), int8 or float32.
    TableGather {
        /// The parts the output is written in, in order.
        parts: Vec<rt::TableGather>,
        /// Their tables of input offsets (negative: outside the input).
        tables: Vec<i32>,
        /// The value written outside the input (int8: a zero point; float32: 0).
        outside: i32,
    },
    /// GATHER, GATHER_ND (int8, float32): rows picked by int32 indices (input 2), constant or
    /// computed at run time.
    GatherRows(rt::GatherRows),
    /// Int8 RESIZE_BILINEAR.
    ResizeBilinear {
        /// Shapes.
        params: rt::Resize,
        /// Input rows of each output row.
        rows: Vec<rt::Lerp<i32>>,
        /// Input columns of each output column.
        cols: Vec<rt::Lerp<i32>>,
    },
    /// Float32 RESIZE_BILINEAR.
    ResizeBilinearF32 {
        /// Shapes.
        params: rt::Resize,
        /// Input rows of each output row.
        rows: Vec<rt::Lerp<f32>>,
        /// Input columns of each output column.
        cols: Vec<rt::Lerp<f32>>,
    },
    /// FILL: the output filled with its scalar input.
    Fill,
    /// ZEROS_LIKE: the output filled with zeros (no input read).
    Zeros,
    /// CUMSUM, int8 or float32.
    Cumsum(rt::Cumsum),
    /// Int8 PRELU (alpha broadcast when the shapes differ).
    Prelu(rt::Prelu, Option<rt::Broadcast>),
    /// Float32 PRELU.
    PreluF32(Option<rt::Broadcast>),
    /// A float32 element-wise function (ELU, EXP, LOG, SQRT, RSQRT, FLOOR, CEIL, ROUND,
    /// SQUARE, SIN, COS).
    MapF32(UnaryMath),
    /// Int8 DIV (broadcast when the shapes differ).
    Div(rt::Div, Option<rt::Broadcast>),
    /// Float32 DIV with its activation's clamp.
    DivF32(rt::ClampF32, Option<rt::Broadcast>),
    /// Int8 SUM (MEAN's kernel with an undivided multiplier).
    Sum(rt::Mean),
    /// Float32 SUM.
    SumF32(rt::Reduce),
    /// Int8 L2_NORMALIZATION (output in Q0.7).
    L2Normalization {
        /// Rows over the last dimension.
        rows: rt::Rows,
        /// Input zero point.
        input_zero_point: i32,
    },
    /// Float32 L2_NORMALIZATION.
    L2NormalizationF32(rt::Rows),
    /// Int8 LOG_SOFTMAX.
    LogSoftmax(rt::LogSoftmax),
    /// Float32 LOG_SOFTMAX.
    LogSoftmaxF32(rt::Rows),
    /// A comparison into bool: int8 (rescaled with `params`), float32 or bool.
    Compare {
        /// Which comparison.
        op: Comparison,
        /// Int8 rescaling; `None` for float32 and bool.
        params: Option<rt::CompareI8>,
        /// The broadcast, when the input shapes differ.
        broadcast: Option<rt::Broadcast>,
    },
    /// SELECT_V2 (int8 or float32 values, bool condition).
    Select(Option<rt::Broadcast3>),
    /// LOGICAL_AND (`and`) or LOGICAL_OR.
    Logical {
        /// LOGICAL_AND when true, LOGICAL_OR when false.
        and: bool,
        /// The broadcast, when the input shapes differ.
        broadcast: Option<rt::Broadcast>,
    },
    /// LOGICAL_NOT.
    LogicalNot,
    /// CAST between integer types.
    Cast {
        /// Input element type.
        from: DType,
        /// Output element type.
        to: DType,
    },
    /// Int32 ADD, MUL or DIV without quantization.
    IntArith {
        /// Which operator.
        op: IntOp,
        /// The output clamp.
        clamp: rt::IntClamp,
        /// The broadcast, when the input shapes differ.
        broadcast: Option<rt::Broadcast>,
    },
    /// `SignalWindow`; inputs: the frames and the window.
    SignalWindow(rt::SignalWindow),
    /// `SignalFftAutoScale`: the scaled frame (part 0), or the shift (part 1, `shift`).
    SignalFftAutoScale {
        /// Writes the shift rather than the frame.
        shift: bool,
    },
    /// Int16 `SignalRfft`, with kissfft's tables.
    SignalRfft(rt::SignalRfft, RfftTables),
    /// `SignalEnergy`.
    SignalEnergy(rt::SignalEnergy),
    /// `SignalFilterBank`; inputs: the energies and the five constant tables (weights,
    /// unweights, frequency starts, weight starts, widths).
    SignalFilterBank,
    /// `SignalFilterBankSquareRoot`; inputs: the channels and the shift.
    SignalFilterBankSquareRoot,
    /// `SignalFilterBankSpectralSubtraction`'s output (part 0); updates its noise estimate
    /// (the layer's state).
    SignalSpectralSubtraction(rt::SpectralSubtraction),
    /// `SignalFilterBankSpectralSubtraction`'s second output (part 1): a copy of the noise
    /// estimate part 0 left in the state.
    SignalNoiseEstimate,
    /// `SignalPCAN`; inputs: the channels, the noise estimate, the gain table.
    SignalPcan(rt::SignalPcan),
    /// `SignalFilterBankLog`.
    SignalFilterBankLog(rt::SignalLog),
    /// Int8 TRANSPOSE_CONV (per-channel requantization; the weights' folded bias is unused).
    TransposeConv(rt::TransposeConvI8, Weights),
    /// Float32 TRANSPOSE_CONV.
    TransposeConvF32(rt::TransposeConvF32, FloatWeights),
    /// EMBEDDING_LOOKUP of an int8 table into float32; inputs: the table and the ids.
    EmbeddingDequantized(rt::EmbeddingDequantized),
    /// Float32 L2_POOL_2D.
    L2PoolF32(rt::Pool<f32>),
    /// Float32 ADD_N; inputs: all the summed tensors.
    AddNF32,
    /// Int8 ADD_N; inputs: all the summed tensors.
    AddN(rt::AddN),
    /// Float32 FLOOR_DIV (`modulo` false) or FLOOR_MOD.
    FloorDivMod {
        /// FLOOR_MOD when true.
        modulo: bool,
        /// The broadcast, when the input shapes differ.
        broadcast: Option<rt::Broadcast>,
    },
    /// Int8 BATCH_MATMUL; inputs: the two operands (either may be constant).
    BatchMatmul(rt::BatchMatmulI8),
    /// Float32 BATCH_MATMUL; inputs: the two operands (either may be constant).
    BatchMatmulF32(rt::BatchMatmul),
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
    /// The band this layer computes when its operator runs band by band (patch-based
    /// execution, [`crate::bands`]); `None` for a layer over whole tensors.
    pub band: Option<usize>,
    /// Which output of a several-output operator (SPLIT, SPLIT_V, UNPACK) this layer
    /// writes: such an operator runs as one layer per output. `None` for single-output ops.
    pub part: Option<usize>,
    /// The arrays it keeps from one call to the next (none for most layers).
    pub state: Vec<LayerState>,
}

impl Layer {
    /// Elements of int16 gate scratch the layer needs (an LSTM's four gates of one step; 0
    /// for other layers).
    pub fn lstm_gates_len(&self) -> usize {
        match &self.kernel {
            Kernel::LstmI8(p, _) => 4 * p.units,
            _ => 0,
        }
    }

    /// Bytes of constant data this layer keeps in flash (filter, bias, multipliers, shifts).
    pub fn weight_bytes(&self) -> usize {
        match &self.kernel {
            Kernel::TransposeConv(_, w) => {
                w.filter.len()
                    + w.bias.as_ref().map_or(0, Vec::len) * 4
                    + w.multipliers.len() * 4
                    + w.shifts.len() * 4
            }
            Kernel::TransposeConvF32(_, w) => w.filter.len() + w.bias.as_ref().map_or(0, Vec::len),
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
            // One table per input, one in all when both inputs share a quantization.
            Kernel::AddTabled(p, _) if rt::add_table(p, 0) == rt::add_table(p, 1) => 1024,
            Kernel::AddTabled(..) => 2048,
            Kernel::LstmI8(_, w) => w.filter.len() + w.bias.len() * 4,
            Kernel::LstmF32(_, w) => (w.filter.len() + w.bias.len()) * 4,
            Kernel::SvdfI8(_, w) => w.feature.len() + w.time.len() * 2 + w.bias.len() * 4,
            Kernel::SvdfF32(_, w) => (w.feature.len() + w.time.len() + w.bias.len()) * 4,
            Kernel::SoftmaxI16 {
                exp_lut, recip_lut, ..
            } => (exp_lut.len() + recip_lut.len()) * 2,
            Kernel::ConvI16 { weights: w, .. } => {
                w.filter.len() + w.bias.len() * 8 + w.multipliers.len() * 4 + w.shifts.len() * 4
            }
            Kernel::ConvQLinear(_, w) => w.filter.len() + w.bias.len() * 4 + w.scales.len() * 4,
            Kernel::DynamicQuantizeMatMul(_, w) | Kernel::DynamicQuantizeConv(_, w) => {
                w.filter.len() + (w.scales.len() + w.bias.len()) * 4
            }
            Kernel::QuantizeLinear(_)
            | Kernel::AddQLinear(_)
            | Kernel::AddQLinearBroadcast(..)
            | Kernel::MulQLinear(..)
            | Kernel::AvgPoolQLinear(_) => 0,
            Kernel::SoftmaxQLinear(_, table) => table.len() * 4,
            Kernel::ActivationI16 { .. }
            | Kernel::AddSubI16 { .. }
            | Kernel::MulI16(..)
            | Kernel::SquaredDifferenceI16(..)
            | Kernel::PoolI16 { .. }
            | Kernel::MeanI16(_)
            | Kernel::LeakyReluI16(_)
            | Kernel::ReluI16(_)
            | Kernel::AbsI16(_)
            | Kernel::Relu6I16(_)
            | Kernel::QuantizeF32I16(_)
            | Kernel::RequantizeToI16(_)
            | Kernel::RequantizeI16ToI8(_)
            | Kernel::RequantizeU8ToI8(_)
            | Kernel::RequantizeI8ToU8(_)
            | Kernel::DequantizeU8(_)
            | Kernel::DequantizeI16(_) => 0,
            Kernel::TableGather { tables, .. } => tables.len() * 4,
            Kernel::ResizeBilinear { rows, cols, .. } => (rows.len() + cols.len()) * 12,
            Kernel::ResizeBilinearF32 { rows, cols, .. } => (rows.len() + cols.len()) * 12,
            Kernel::SignalRfft(_, t) => t.factors.len() * 2 + (t.twiddles.len() + t.super_twiddles.len()) * 2,
            // Parameters only: their constants are immediates in the code.
            Kernel::AveragePool(_)
            | Kernel::MaxPool(_)
            | Kernel::Add(_)
            | Kernel::Softmax(_)
            | Kernel::QuantizeF32(_)
            | Kernel::Requantize(_)
            | Kernel::Dequantize(_)
            | Kernel::Reshape
            | Kernel::PoolF32 { .. }
            | Kernel::ArithF32 { .. }
            | Kernel::SquaredDifferenceF32(_)
            | Kernel::ActivationF32(_)
            | Kernel::LeakyReluF32(_)
            | Kernel::MeanF32(_)
            | Kernel::SoftmaxF32(_)
            | Kernel::AddBroadcast(..)
            | Kernel::Mul(..)
            | Kernel::Sub(..)
            | Kernel::Mean(_)
            | Kernel::Pad(_)
            | Kernel::Concatenation(_)
            | Kernel::Gather(_)
            | Kernel::SquaredDifference(..)
            | Kernel::SliceRows { .. }
            | Kernel::MaxMin { .. }
            | Kernel::AbsF32
            | Kernel::NegF32
            | Kernel::Reduce { .. }
            | Kernel::ArgMinMax { .. }
            | Kernel::GatherRows(_)
            | Kernel::Fill
            | Kernel::Zeros
            | Kernel::Cumsum(_)
            | Kernel::BatchMatmul(_)
            | Kernel::BatchMatmulF32(_)
            | Kernel::L2PoolF32(_)
            | Kernel::EmbeddingDequantized(_)
            | Kernel::AddNF32
            | Kernel::AddN(_)
            | Kernel::FloorDivMod { .. } => 0,
            Kernel::Prelu(..)
            | Kernel::PreluF32(_)
            | Kernel::MapF32(_)
            | Kernel::Div(..)
            | Kernel::DivF32(..)
            | Kernel::Sum(_)
            | Kernel::SumF32(_)
            | Kernel::L2Normalization { .. }
            | Kernel::L2NormalizationF32(_)
            | Kernel::LogSoftmax(_)
            | Kernel::LogSoftmaxF32(_)
            | Kernel::Compare { .. }
            | Kernel::Select(_)
            | Kernel::Logical { .. }
            | Kernel::LogicalNot => 0,
            | Kernel::Cast { .. }
            | Kernel::IntArith { .. }
            // The signal operators' tables are constant tensors, counted with the model's.
            | Kernel::SignalWindow(_)
            | Kernel::SignalFftAutoScale { .. }
            | Kernel::SignalEnergy(_)
            | Kernel::SignalFilterBank
            | Kernel::SignalFilterBankSquareRoot
            | Kernel::SignalSpectralSubtraction(_)
            | Kernel::SignalNoiseEstimate
            | Kernel::SignalPcan(_)
            | Kernel::SignalFilterBankLog(_) => 0,
        }
    }
}
