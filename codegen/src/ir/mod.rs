//! The intermediate representation: an owned, format-independent graph.
//!
//! Front-ends (`front::tflite`, `front::onnx`) build a [`Graph`]; `prepare` checks it and computes each
//! layer's constants; `plan`, `tune` and `back` read it. Nothing here knows about flatbuffers or about Rust code generation.

use std::fmt;

/// Index of a tensor in [`Graph::tensors`].
pub type TensorId = usize;

/// Element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// Signed 8-bit integer (quantized activations and weights).
    I8,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer (biases, shape tensors).
    I32,
    /// Signed 64-bit integer.
    I64,
    /// IEEE-754 single precision float.
    F32,
    /// Boolean, one byte (0 or 1), as TFLite stores it.
    Bool,
    /// Unsigned 32-bit integer (audio front-end energies).
    U32,
    /// Unsigned 64-bit integer (audio front-end filter-bank sums).
    U64,
}

impl DType {
    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::I8 | DType::U8 | DType::Bool => 1,
            DType::I16 => 2,
            DType::I32 | DType::F32 | DType::U32 => 4,
            DType::I64 | DType::U64 => 8,
        }
    }

    /// Every element type, in declaration order.
    pub const ALL: [DType; 9] = [
        DType::I8,
        DType::U8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F32,
        DType::Bool,
        DType::U32,
        DType::U64,
    ];

    /// The Rust primitive type name of one element, e.g. `i8`.
    pub fn rust_name(self) -> &'static str {
        match self {
            DType::I8 => "i8",
            DType::U8 => "u8",
            DType::I16 => "i16",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::Bool => "bool",
            DType::U32 => "u32",
            DType::U64 => "u64",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::Bool => "bool",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
        };
        f.write_str(name)
    }
}

/// Affine quantization: `real = scale * (q - zero_point)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quant {
    /// One scale (per-tensor) or one per slice along `axis` (per-channel).
    pub scales: Vec<f32>,
    /// Same length as `scales`.
    pub zero_points: Vec<i64>,
    /// The quantized dimension for per-channel quantization (0 for per-tensor).
    pub axis: usize,
}

impl Quant {
    /// True when a single scale applies to the whole tensor.
    pub fn is_per_tensor(&self) -> bool {
        self.scales.len() == 1
    }

    /// The per-tensor scale (the first one).
    pub fn scale(&self) -> f32 {
        self.scales[0]
    }

    /// The per-tensor zero point (the first one).
    pub fn zero_point(&self) -> i32 {
        self.zero_points[0] as i32
    }
}

/// A tensor: shape, element type, quantization and, for constants, its data.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Name from the model file (may be empty).
    pub name: String,
    /// Dimensions, outermost first (row-major).
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// Quantization parameters, when the tensor is quantized.
    pub quant: Option<Quant>,
    /// Little-endian element bytes for constant tensors (weights, biases, shape constants).
    pub data: Option<Vec<u8>>,
}

impl Tensor {
    /// Number of elements.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// Size in bytes.
    pub fn bytes(&self) -> usize {
        self.elements() * self.dtype.size()
    }

    /// True for tensors with constant data.
    pub fn is_const(&self) -> bool {
        self.data.is_some()
    }

    /// Constant data as i8 (empty when not constant).
    pub fn data_i8(&self) -> Vec<i8> {
        self.data.iter().flatten().map(|&b| b as i8).collect()
    }

    /// Constant data as little-endian f32 (empty when not constant).
    pub fn data_f32(&self) -> Vec<f32> {
        self.data
            .iter()
            .flat_map(|d| d.chunks_exact(4))
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    /// Constant data as little-endian i16 (empty when not constant).
    pub fn data_i16(&self) -> Vec<i16> {
        self.data
            .iter()
            .flat_map(|d| d.chunks_exact(2))
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect()
    }

    /// Constant integer data widened to i64, by element type (a uint64 above `i64::MAX`
    /// wraps; empty when not constant or of a float type).
    pub fn data_ints(&self) -> Vec<i64> {
        let size = self.dtype.size();
        let Some(data) = &self.data else {
            return Vec::new();
        };
        data.chunks_exact(size)
            .filter_map(|c| {
                let mut le = [0u8; 8];
                le[..size].copy_from_slice(c);
                let raw = u64::from_le_bytes(le);
                let unused = 64 - 8 * size as u32;
                Some(match self.dtype {
                    DType::I8 | DType::I16 | DType::I32 | DType::I64 => {
                        ((raw << unused) as i64) >> unused
                    }
                    DType::U8 | DType::U32 | DType::U64 | DType::Bool => raw as i64,
                    DType::F32 => return None,
                })
            })
            .collect()
    }

    /// Constant data as little-endian i32 (empty when not constant).
    pub fn data_i32(&self) -> Vec<i32> {
        self.data
            .iter()
            .flat_map(|d| d.chunks_exact(4))
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

/// Activation fused into an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// No clamping beyond the output type range.
    None,
    /// `max(x, 0)`.
    Relu,
    /// `clamp(x, -1, 1)`.
    ReluN1To1,
    /// `clamp(x, 0, 6)`.
    Relu6,
}

/// Padding scheme of convolutions and pools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output size `ceil(in / stride)`, input padded as evenly as possible.
    Same,
    /// No padding: output size `ceil((in - effective_filter + 1) / stride)`.
    Valid,
}

/// Options of CONV_2D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dOptions {
    /// Padding scheme.
    pub padding: Padding,
    /// Stride along width.
    pub stride_w: usize,
    /// Stride along height.
    pub stride_h: usize,
    /// Dilation along width.
    pub dilation_w: usize,
    /// Dilation along height.
    pub dilation_h: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// Geometry of a [`OpKind::DynamicQuantizeConv`] (ONNX's explicit pads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DynamicConvOptions {
    /// Strides (height, width).
    pub strides: [usize; 2],
    /// Dilations (height, width).
    pub dilations: [usize; 2],
    /// Rows above and columns left of the input padded (with values that quantize to the
    /// zero point).
    pub pad_top_left: [usize; 2],
}

/// Options of DEPTHWISE_CONV_2D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthwiseConv2dOptions {
    /// Padding, strides, dilations and activation, as for CONV_2D.
    pub conv: Conv2dOptions,
    /// Output channels per input channel (as stored in the model; validated against shapes).
    pub depth_multiplier: usize,
}

/// Options of FULLY_CONNECTED.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FullyConnectedOptions {
    /// Fused activation.
    pub activation: Activation,
    /// Keep the input's leading dimensions in the output.
    pub keep_num_dims: bool,
}

/// Options of TRANSPOSE_CONV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransposeConvOptions {
    /// Padding scheme (of the convolution it is the gradient of).
    pub padding: Padding,
    /// Stride along width.
    pub stride_w: usize,
    /// Stride along height.
    pub stride_h: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// Options of AVERAGE_POOL_2D and MAX_POOL_2D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dOptions {
    /// Padding scheme.
    pub padding: Padding,
    /// Stride along width.
    pub stride_w: usize,
    /// Stride along height.
    pub stride_h: usize,
    /// Window width.
    pub filter_w: usize,
    /// Window height.
    pub filter_h: usize,
    /// Fused activation.
    pub activation: Activation,
}

/// What an operator computes, with its options.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// 2-D convolution, NHWC input, OHWI filter, optional bias.
    Conv2d(Conv2dOptions),
    /// Depthwise 2-D convolution, 1HW(C*M) filter, optional bias.
    DepthwiseConv2d(DepthwiseConv2dOptions),
    /// Matrix product with a constant weight matrix, optional bias.
    FullyConnected(FullyConnectedOptions),
    /// onnxruntime's `DynamicQuantizeMatMul`: a float32 input quantized to uint8 by its own
    /// range at run time, times constant int8 weights (`depth × cols`), float32 output
    /// (inputs: input, weights, optional float32 bias).
    DynamicQuantizeMatMul,
    /// onnxruntime's ConvInteger chain from `quantize_dynamic`: a float32 NHWC input quantized
    /// to uint8 by its range at run time, uint8 HWIO weights with a zero point, float32
    /// output (inputs: input, weights, optional float32 bias).
    DynamicQuantizeConv(DynamicConvOptions),
    /// Average pooling over windows.
    AveragePool2d(Pool2dOptions),
    /// Max pooling over windows.
    MaxPool2d(Pool2dOptions),
    /// Element-wise addition (int8: numpy-style broadcasting; float32: equal shapes).
    Add {
        /// Fused activation.
        activation: Activation,
    },
    /// Same data, new shape (taken from the output tensor).
    Reshape,
    /// Softmax over the last dimension.
    Softmax {
        /// Input multiplier.
        beta: f32,
    },
    /// Float or int8 to int8 requantization.
    Quantize,
    /// Int8 to float.
    Dequantize,
    /// Element-wise multiplication with numpy-style broadcasting.
    Mul {
        /// Fused activation.
        activation: Activation,
    },
    /// Element-wise subtraction (first minus second) with numpy-style broadcasting.
    Sub {
        /// Fused activation.
        activation: Activation,
    },
    /// `1 / (1 + exp(-x))`.
    Logistic,
    /// `tanh(x)`.
    Tanh,
    /// `max(x, 0)` (standalone, with requantization).
    Relu,
    /// `clamp(x, 0, 6)` (standalone).
    Relu6,
    /// `x` for `x >= 0`, `alpha * x` otherwise.
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// `x * relu6(x + 3) / 6`.
    HardSwish,
    /// Mean over the axes given by a constant int32 tensor (input 1).
    Mean {
        /// Keep reduced axes as size-1 dimensions.
        keep_dims: bool,
    },
    /// Constant padding (PAD: with the output zero point; PADV2: with input 2).
    Pad,
    /// Concatenation along one axis.
    Concatenation {
        /// The axis (negative counts from the end).
        axis: i32,
    },
    /// Strided slice with constant begin/end/strides (inputs 1..=3).
    StridedSlice(StridedSliceOptions),
    /// Permutation of the dimensions by a constant int32 tensor (input 1).
    Transpose,
    /// `(a - b)²` element-wise, numpy-style broadcasting.
    SquaredDifference,
    /// Element-wise maximum, numpy-style broadcasting (no requantization).
    Maximum,
    /// Element-wise minimum, numpy-style broadcasting (no requantization).
    Minimum,
    /// `|x|` (int8: requantized when the scales differ).
    Abs,
    /// `-x`.
    Neg,
    /// Maximum over the axes given by a constant int32 tensor (input 1).
    ReduceMax {
        /// Keep reduced axes as size-1 dimensions.
        keep_dims: bool,
    },
    /// Minimum over the axes given by a constant int32 tensor (input 1).
    ReduceMin {
        /// Keep reduced axes as size-1 dimensions.
        keep_dims: bool,
    },
    /// Index of the largest element along the axis given by a constant tensor (input 1).
    ArgMax,
    /// Index of the smallest element along the axis given by a constant tensor (input 1).
    ArgMin,
    /// A block cut out by constant `begin` and `size` tensors (inputs 1 and 2).
    Slice,
    /// Cuts its input (input 1) along the axis of a constant tensor (input 0) into its
    /// outputs, sized by their shapes.
    Split,
    /// Cuts its input (input 0) along the axis of a constant tensor (input 2) into its
    /// outputs, sized by a constant tensor (input 1).
    SplitV,
    /// Cuts its input along `axis` into its outputs, dropping the axis.
    Unpack {
        /// The axis (negative counts from the end of the input).
        axis: i32,
    },
    /// Stacks its inputs along a new axis.
    Pack {
        /// The new axis (negative counts from the end of the output).
        axis: i32,
    },
    /// An LSTM over a sequence (inputs as TFLite's 24-input layout: input, 8 weight
    /// matrices, 3 peepholes, 4 gate biases, projection weights and bias, hidden and cell
    /// state, 4 layer-norm coefficients), its state in variable tensors.
    UnidirectionalSequenceLstm(LstmOptions),
    /// A rank-decomposed 1-D convolution over time, its memory in a variable tensor
    /// (input 4); inputs: input, feature weights, time weights, optional bias.
    Svdf {
        /// Filters per output unit.
        rank: i32,
        /// The fused activation the float32 SVDF applies (`None` for TANH or SIGN_BIT, which
        /// kiln does not apply; the integer SVDF applies none).
        activation: Option<Activation>,
    },
    /// Picks slices of input 0 along `axis` by the int32 indices of input 1.
    Gather {
        /// The gathered axis (negative counts from the end of input 0).
        axis: i32,
        /// Leading dimensions shared by input 0 and the indices.
        batch_dims: i32,
    },
    /// Picks slices of input 0 by the int32 index rows of input 1 (its last dimension).
    GatherNd,
    /// Moves `block_size`×`block_size` blocks of pixels into channels (NHWC).
    SpaceToDepth {
        /// Side of the blocks.
        block_size: usize,
    },
    /// Moves channels out into `block_size`×`block_size` blocks of pixels (NHWC).
    DepthToSpace {
        /// Side of the blocks.
        block_size: usize,
    },
    /// Pads the spatial dimensions (constant paddings, input 2) and moves blocks of them
    /// (constant block shape, input 1) into the batch.
    SpaceToBatchNd,
    /// Moves the batch out into blocks of the spatial dimensions (constant block shape,
    /// input 1) and crops them (constant crops, input 2).
    BatchToSpaceNd,
    /// Padding by mirroring the input at its edges (constant paddings, input 1).
    MirrorPad {
        /// SYMMETRIC (the edge element is repeated) when true, REFLECT when false.
        symmetric: bool,
    },
    /// Repeats the input along its size-1 dimensions up to the output's shape.
    BroadcastTo,
    /// Nearest-neighbour resize of the height and width of an NHWC tensor.
    ResizeNearestNeighbor(ResizeOptions),
    /// Bilinear resize of the height and width of an NHWC tensor.
    ResizeBilinear(ResizeOptions),
    /// Reverses the axes given by a constant int32 tensor (input 1).
    ReverseV2,
    /// A tensor of zeros shaped like the input.
    ZerosLike,
    /// A tensor of the output's shape filled with the scalar input 1.
    Fill,
    /// The input's shape as a 1-D int32 tensor (a constant: folded at compile time).
    Shape,
    /// Cumulative sum along the axis given by a constant int32 tensor (input 1).
    Cumsum {
        /// Each output leaves out its own element.
        exclusive: bool,
        /// Sums run from the end of the axis.
        reverse: bool,
    },
    /// `x` for `x >= 0`, `alpha * x` otherwise, with `alpha` (input 1) broadcast to `x`.
    Prelu,
    /// An element-wise function of one input (ELU, EXP, LOG, SQRT, RSQRT, FLOOR, CEIL,
    /// ROUND, SQUARE).
    Math(UnaryMath),
    /// Element-wise division (first by second), numpy-style broadcasting.
    /// Element type conversion (C `static_cast` between integer types).
    Cast,
    /// Element-wise division (first by second) with numpy-style broadcasting.
    Div {
        /// Fused activation.
        activation: Activation,
    },
    /// Sum over the axes given by a constant int32 tensor (input 1).
    Sum {
        /// Keep reduced axes as size-1 dimensions.
        keep_dims: bool,
    },
    /// `x / sqrt(sum(x²))` over the last dimension.
    L2Normalization {
        /// Fused activation (TFLM supports none).
        activation: Activation,
    },
    /// `x - max - log(sum(exp(x - max)))` over the last dimension.
    LogSoftmax,
    /// A comparison of two inputs (numpy-style broadcasting) into a bool tensor.
    Compare(Comparison),
    /// `condition ? x : y` element-wise (inputs 0, 1, 2), numpy-style broadcasting.
    SelectV2,
    /// LOGICAL_AND (`and`) or LOGICAL_OR of two bool tensors, numpy-style broadcasting.
    Logical {
        /// LOGICAL_AND when true, LOGICAL_OR when false.
        and: bool,
    },
    /// `!x` of a bool tensor.
    LogicalNot,
    /// The gradient of a 2-D convolution: inputs the output shape (ignored, as TFLM does), the
    /// OHWI filter, the NHWC input and an optional bias.
    TransposeConv(TransposeConvOptions),
    /// `sqrt(mean(x²))` over windows (float32).
    L2Pool2d(Pool2dOptions),
    /// The element-wise sum of all its inputs (of one shape).
    AddN,
    /// `floor(a / b)` element-wise, numpy-style broadcasting.
    FloorDiv,
    /// `a - floor(a / b) · b` element-wise (the remainder with the divisor's sign),
    /// numpy-style broadcasting.
    FloorMod,
    /// Rows of a table (input 1) picked by int32 ids (input 0).
    EmbeddingLookup,
    /// The broadcast of two int32 shapes (folded at compile time when both are constant).
    BroadcastArgs,
    /// Matrix products of the last two dimensions of two inputs, batch dimensions broadcast.
    BatchMatmul {
        /// The left-hand side's last two dimensions are transposed.
        adj_x: bool,
        /// The right-hand side's last two dimensions are transposed.
        adj_y: bool,
    },
    /// A TFLM signal-library operator (a custom operator of the audio front-end).
    Signal(SignalOp),
}

/// The TFLM signal-library operators (`signal/micro/kernels`), with their options as their
/// FlexBuffers `custom_options` give them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalOp {
    /// `SignalWindow`: `(x · w) >> shift`, saturated to int16.
    Window {
        /// Right shift after the product.
        shift: i32,
    },
    /// `SignalFftAutoScale`: shifts the frame up to use all 16 bits; outputs the frame and the
    /// shift.
    FftAutoScale,
    /// `SignalRfft` (int16): kissfft's fixed-point real FFT of the zero-padded frame.
    Rfft {
        /// FFT length (the frame is zero-padded to it).
        fft_length: i32,
    },
    /// `SignalEnergy`: `re² + im²` of the bins `start_index..end_index`.
    Energy {
        /// First bin computed.
        start_index: i32,
        /// One past the last bin computed.
        end_index: i32,
    },
    /// `SignalFilterBank`: weighted sums of the energies into overlapping channels.
    FilterBank {
        /// Channels out.
        num_channels: i32,
    },
    /// `SignalFilterBankSquareRoot`: integer square root, shifted down by input 1.
    FilterBankSquareRoot,
    /// `SignalFilterBankSpectralSubtraction`: subtracts a running noise estimate (its state).
    FilterBankSpectralSubtraction(SpectralSubtractionOptions),
    /// `SignalPCAN`: per-channel automatic gain control by the noise estimate.
    Pcan {
        /// Right shift of the signal-to-noise product.
        snr_shift: i32,
    },
    /// `SignalFilterBankLog`: scaled natural logarithm, saturated to int16.
    FilterBankLog {
        /// Left shift of the input before the logarithm.
        input_correction_bits: i32,
        /// Multiplier of the logarithm (Q16 result scale).
        output_scale: i32,
    },
}

/// Options of `SignalFilterBankSpectralSubtraction` (names as in its `custom_options`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpectralSubtractionOptions {
    /// Smoothing of odd channels' noise estimate.
    pub alternate_smoothing: i32,
    /// `(1 << spectral_subtraction_bits) - alternate_smoothing`, as stored.
    pub alternate_one_minus_smoothing: i32,
    /// Whether the noise estimate is clamped to the signal.
    pub clamping: bool,
    /// Fraction of the signal always kept (scale `1 << spectral_subtraction_bits`).
    pub min_signal_remaining: i32,
    /// Channels.
    pub num_channels: i32,
    /// Smoothing of even channels' noise estimate.
    pub smoothing: i32,
    /// `(1 << spectral_subtraction_bits) - smoothing`, as stored.
    pub one_minus_smoothing: i32,
    /// Extra fraction bits of the noise estimate.
    pub smoothing_bits: i32,
    /// Scale bits of the smoothing coefficients.
    pub spectral_subtraction_bits: i32,
}

/// Options of UNIDIRECTIONAL_SEQUENCE_LSTM.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmOptions {
    /// The cell gate's activation (TFLite's fused activation field; `Tanh` in Keras models).
    pub cell_activation: LstmActivation,
    /// Bound of the cell state, `|c| <= cell_clip` (0: no clipping).
    pub cell_clip: f32,
    /// Bound of the projection (0: none; kiln supports no projection).
    pub proj_clip: f32,
    /// Input and output are `[time, batch, features]` (else `[batch, time, features]`).
    pub time_major: bool,
}

/// The activation of an LSTM's cell gate, as TFLM applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LstmActivation {
    /// `tanh` (fused activation TANH, what converters write).
    Tanh,
    /// None: TFLM's kernel squashes the cell gate only for TANH (and a SIGMOID the schema
    /// cannot express); for any other fused activation it passes the gate's sum through.
    Identity,
}

/// Options of RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResizeOptions {
    /// The corner pixels of input and output are aligned.
    pub align_corners: bool,
    /// Pixel centres at half-integer coordinates.
    pub half_pixel_centers: bool,
}

/// The element-wise functions of [`OpKind::Math`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryMath {
    /// `x` for `x >= 0`, `exp(x) - 1` otherwise.
    Elu,
    /// `exp(x)`.
    Exp,
    /// `ln(x)`.
    Log,
    /// `sqrt(x)`.
    Sqrt,
    /// `1 / sqrt(x)`.
    Rsqrt,
    /// Round toward minus infinity.
    Floor,
    /// Round toward plus infinity.
    Ceil,
    /// Round to nearest, ties to even.
    Round,
    /// `x * x`.
    Square,
    /// `1 / (1 + exp(-x))` with TFLite's cutoffs.
    Logistic,
    /// `tanh(x)`.
    Tanh,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
}

/// The comparisons of [`OpKind::Compare`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `a == b`.
    Equal,
    /// `a != b`.
    NotEqual,
    /// `a < b`.
    Less,
    /// `a <= b`.
    LessEqual,
    /// `a > b`.
    Greater,
    /// `a >= b`.
    GreaterEqual,
}

/// Options of STRIDED_SLICE (bit `i` of a mask refers to axis `i`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StridedSliceOptions {
    /// Axes whose begin index is ignored (start from the first element in stride order).
    pub begin_mask: u32,
    /// Axes whose end index is ignored (run to the last element in stride order).
    pub end_mask: u32,
    /// Axes that are sliced to one element and dropped from the output shape.
    pub shrink_axis_mask: u32,
}

/// One operator in execution order.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// What it computes.
    pub kind: OpKind,
    /// The operator's name as the model format spells it (e.g. `CONV_2D`).
    pub name: &'static str,
    /// Input tensors; `None` for an omitted optional input (index -1 in .tflite).
    pub inputs: Vec<Option<TensorId>>,
    /// Output tensors.
    pub outputs: Vec<TensorId>,
}

impl Op {
    /// The input at `slot`, when present.
    pub fn input(&self, slot: usize) -> Option<TensorId> {
        self.inputs.get(slot).copied().flatten()
    }
}

/// A model: tensors, operators in execution order, graph inputs and outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// All tensors.
    pub tensors: Vec<Tensor>,
    /// Operators in execution order.
    pub ops: Vec<Op>,
    /// Graph input tensors, in order.
    pub inputs: Vec<TensorId>,
    /// Graph output tensors, in order.
    pub outputs: Vec<TensorId>,
    /// Variable tensors: state an operator reads and updates, kept from one inference to the
    /// next (LSTM hidden and cell state). TFLM starts each at its zero point (int8) or 0.
    pub variables: Vec<TensorId>,
    /// Whose quantized arithmetic the model's operators follow (set by the front-end).
    pub arithmetic: Arithmetic,
    /// Operators evaluated at compile time (`crate::fold`), in order: their outputs are
    /// constants now and they run as no layer. Empty as the front-ends read a model.
    pub folded: Vec<usize>,
}

/// The reference runtime whose integer arithmetic a graph's quantized operators reproduce:
/// the model format decides it, `prepare` picks the kernels that match it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Arithmetic {
    /// TFLite Micro's (from .tflite): fixed-point Q31 multipliers and shifts, rounding half
    /// away from zero.
    #[default]
    Tflm,
    /// onnxruntime's (from .onnx): float32 requantization scales (`acc as f32 · scale`),
    /// rounding half to even.
    Onnxruntime,
}

/// The operator names the ONNX front end gives to int8 operators that onnxruntime runs with
/// MLAS's signed (int8) kernels, whose arithmetic `prepare` then follows: int8 QOperator
/// nodes, and int8 QDQ groups of a model read as onnxruntime runs it keeping int8 Q/DQ (one
/// with a shared DequantizeLinear of an activation). Every other quantized ONNX operator runs
/// as onnxruntime's default session runs QDQ groups on x86-64, in uint8.
pub const MLAS_SIGNED_OPS: [&str; 4] = [
    "QLinearAdd",
    "QLinearMul",
    "QLinearAveragePool",
    "QLinearSoftmax",
];

/// Elements × type of a tensor, e.g. `int8[1, 49, 10, 1]`.
pub fn shape_str(t: &Tensor) -> String {
    let dims: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
    format!("{}[{}]", t.dtype, dims.join(", "))
}
