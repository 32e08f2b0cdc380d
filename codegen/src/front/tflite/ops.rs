//! The operator table: every TFLite builtin operator code with its name and, for the operators
//! kiln supports, the parser that turns the operator's builtin options into an [`OpKind`].
//!
//! Supporting a new operator means changing its row in [`BUILTIN_OPS`] from `None` to
//! `Some(parser)` and writing that parser below; [`SUPPORTED`] follows automatically.

use super::flexbuffers::{self, FlexMap};
use super::schema::{
    AddOptions, BatchMatMulOptions, ConcatenationOptions, Conv2DOptions, CumsumOptions,
    DepthToSpaceOptions, DepthwiseConv2DOptions, DivOptions, FullyConnectedOptions, GatherOptions,
    L2NormOptions, LeakyReluOptions, MirrorPadOptions, MulOptions, Operator, OptionsTable,
    PackOptions, Pool2DOptions, ReducerOptions, ResizeBilinearOptions,
    ResizeNearestNeighborOptions, SoftmaxOptions, SpaceToDepthOptions, StridedSliceOptions,
    SubOptions, SvdfOptions, TransposeConvOptions, UnidirectionalSequenceLstmOptions,
    UnpackOptions,
};
use super::ReadError;
use crate::ir::{
    Activation, Comparison, Conv2dOptions, DepthwiseConv2dOptions,
    FullyConnectedOptions as FcOptions, LstmActivation, LstmOptions, OpKind, Padding,
    Pool2dOptions, ResizeOptions, SignalOp, SpectralSubtractionOptions,
    StridedSliceOptions as StridedSliceOpts, UnaryMath,
};
use std::fmt;

/// Parses the builtin options of one operator into its [`OpKind`].
pub type Parser = fn(&OpContext<'_>) -> Result<OpKind, ReadError>;

/// One row of the builtin-operator table.
#[derive(Clone, Copy)]
pub struct BuiltinOp {
    /// The `BuiltinOperator` code.
    pub code: i32,
    /// The schema's name for the operator (e.g. `CONV_2D`).
    pub name: &'static str,
    /// The options parser, for operators kiln supports.
    pub parse: Option<Parser>,
}

impl fmt::Debug for BuiltinOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltinOp")
            .field("code", &self.code)
            .field("name", &self.name)
            .field("supported", &self.parse.is_some())
            .finish()
    }
}

const fn row(code: i32, name: &'static str, parse: Option<Parser>) -> BuiltinOp {
    BuiltinOp { code, name, parse }
}

/// All builtin operators, indexed by code (row `i` has code `i`; checked at compile time).
pub const BUILTIN_OPS: &[BuiltinOp] = &[
    row(0, "ADD", Some(parse_add)),
    row(1, "AVERAGE_POOL_2D", Some(parse_average_pool_2d)),
    row(2, "CONCATENATION", Some(parse_concatenation)),
    row(3, "CONV_2D", Some(parse_conv_2d)),
    row(4, "DEPTHWISE_CONV_2D", Some(parse_depthwise_conv_2d)),
    row(5, "DEPTH_TO_SPACE", Some(parse_depth_to_space)),
    row(6, "DEQUANTIZE", Some(parse_dequantize)),
    row(7, "EMBEDDING_LOOKUP", Some(parse_embedding_lookup)),
    row(8, "FLOOR", Some(parse_floor)),
    row(9, "FULLY_CONNECTED", Some(parse_fully_connected)),
    row(10, "HASHTABLE_LOOKUP", None),
    row(11, "L2_NORMALIZATION", Some(parse_l2_normalization)),
    row(12, "L2_POOL_2D", Some(parse_l2_pool_2d)),
    row(13, "LOCAL_RESPONSE_NORMALIZATION", None),
    row(14, "LOGISTIC", Some(parse_logistic)),
    row(15, "LSH_PROJECTION", None),
    row(16, "LSTM", None),
    row(17, "MAX_POOL_2D", Some(parse_max_pool_2d)),
    row(18, "MUL", Some(parse_mul)),
    row(19, "RELU", Some(parse_relu)),
    row(20, "RELU_N1_TO_1", None),
    row(21, "RELU6", Some(parse_relu6)),
    row(22, "RESHAPE", Some(parse_reshape)),
    row(23, "RESIZE_BILINEAR", Some(parse_resize_bilinear)),
    row(24, "RNN", None),
    row(25, "SOFTMAX", Some(parse_softmax)),
    row(26, "SPACE_TO_DEPTH", Some(parse_space_to_depth)),
    row(27, "SVDF", Some(parse_svdf)),
    row(28, "TANH", Some(parse_tanh)),
    row(29, "CONCAT_EMBEDDINGS", None),
    row(30, "SKIP_GRAM", None),
    row(31, "CALL", None),
    row(32, "CUSTOM", None),
    row(33, "EMBEDDING_LOOKUP_SPARSE", None),
    row(34, "PAD", Some(parse_pad)),
    row(35, "UNIDIRECTIONAL_SEQUENCE_RNN", None),
    row(36, "GATHER", Some(parse_gather)),
    row(37, "BATCH_TO_SPACE_ND", Some(parse_batch_to_space_nd)),
    row(38, "SPACE_TO_BATCH_ND", Some(parse_space_to_batch_nd)),
    row(39, "TRANSPOSE", Some(parse_transpose)),
    row(40, "MEAN", Some(parse_mean)),
    row(41, "SUB", Some(parse_sub)),
    row(42, "DIV", Some(parse_div)),
    row(43, "SQUEEZE", Some(parse_reshape)),
    row(
        44,
        "UNIDIRECTIONAL_SEQUENCE_LSTM",
        Some(parse_unidirectional_sequence_lstm),
    ),
    row(45, "STRIDED_SLICE", Some(parse_strided_slice)),
    row(46, "BIDIRECTIONAL_SEQUENCE_RNN", None),
    row(47, "EXP", Some(parse_exp)),
    row(48, "TOPK_V2", None),
    row(49, "SPLIT", Some(parse_split)),
    row(50, "LOG_SOFTMAX", Some(parse_log_softmax)),
    row(51, "DELEGATE", None),
    row(52, "BIDIRECTIONAL_SEQUENCE_LSTM", None),
    row(53, "CAST", Some(parse_cast)),
    row(54, "PRELU", Some(parse_prelu)),
    row(55, "MAXIMUM", Some(parse_maximum)),
    row(56, "ARG_MAX", Some(parse_arg_max)),
    row(57, "MINIMUM", Some(parse_minimum)),
    row(58, "LESS", Some(parse_less)),
    row(59, "NEG", Some(parse_neg)),
    row(60, "PADV2", Some(parse_pad)),
    row(61, "GREATER", Some(parse_greater)),
    row(62, "GREATER_EQUAL", Some(parse_greater_equal)),
    row(63, "LESS_EQUAL", Some(parse_less_equal)),
    row(64, "SELECT", None),
    row(65, "SLICE", Some(parse_slice)),
    row(66, "SIN", Some(parse_sin)),
    row(67, "TRANSPOSE_CONV", Some(parse_transpose_conv)),
    row(68, "SPARSE_TO_DENSE", None),
    row(69, "TILE", None),
    row(70, "EXPAND_DIMS", Some(parse_reshape)),
    row(71, "EQUAL", Some(parse_equal)),
    row(72, "NOT_EQUAL", Some(parse_not_equal)),
    row(73, "LOG", Some(parse_log)),
    row(74, "SUM", Some(parse_sum)),
    row(75, "SQRT", Some(parse_sqrt)),
    row(76, "RSQRT", Some(parse_rsqrt)),
    row(77, "SHAPE", Some(parse_shape)),
    row(78, "POW", None),
    row(79, "ARG_MIN", Some(parse_arg_min)),
    row(80, "FAKE_QUANT", None),
    row(81, "REDUCE_PROD", None),
    row(82, "REDUCE_MAX", Some(parse_reduce_max)),
    row(83, "PACK", Some(parse_pack)),
    row(84, "LOGICAL_OR", Some(parse_logical_or)),
    row(85, "ONE_HOT", None),
    row(86, "LOGICAL_AND", Some(parse_logical_and)),
    row(87, "LOGICAL_NOT", Some(parse_logical_not)),
    row(88, "UNPACK", Some(parse_unpack)),
    row(89, "REDUCE_MIN", Some(parse_reduce_min)),
    row(90, "FLOOR_DIV", Some(parse_floor_div)),
    row(91, "REDUCE_ANY", None),
    row(92, "SQUARE", Some(parse_square)),
    row(93, "ZEROS_LIKE", Some(parse_zeros_like)),
    row(94, "FILL", Some(parse_fill)),
    row(95, "FLOOR_MOD", Some(parse_floor_mod)),
    row(96, "RANGE", None),
    row(
        97,
        "RESIZE_NEAREST_NEIGHBOR",
        Some(parse_resize_nearest_neighbor),
    ),
    row(98, "LEAKY_RELU", Some(parse_leaky_relu)),
    row(99, "SQUARED_DIFFERENCE", Some(parse_squared_difference)),
    row(100, "MIRROR_PAD", Some(parse_mirror_pad)),
    row(101, "ABS", Some(parse_abs)),
    row(102, "SPLIT_V", Some(parse_split_v)),
    row(103, "UNIQUE", None),
    row(104, "CEIL", Some(parse_ceil)),
    row(105, "REVERSE_V2", Some(parse_reverse_v2)),
    row(106, "ADD_N", Some(parse_add_n)),
    row(107, "GATHER_ND", Some(parse_gather_nd)),
    row(108, "COS", Some(parse_cos)),
    row(109, "WHERE", None),
    row(110, "RANK", None),
    row(111, "ELU", Some(parse_elu)),
    row(112, "REVERSE_SEQUENCE", None),
    row(113, "MATRIX_DIAG", None),
    row(114, "QUANTIZE", Some(parse_quantize)),
    row(115, "MATRIX_SET_DIAG", None),
    row(116, "ROUND", Some(parse_round)),
    row(117, "HARD_SWISH", Some(parse_hard_swish)),
    row(118, "IF", None),
    row(119, "WHILE", None),
    row(120, "NON_MAX_SUPPRESSION_V4", None),
    row(121, "NON_MAX_SUPPRESSION_V5", None),
    row(122, "SCATTER_ND", None),
    row(123, "SELECT_V2", Some(parse_select_v2)),
    row(124, "DENSIFY", None),
    row(125, "SEGMENT_SUM", None),
    row(126, "BATCH_MATMUL", Some(parse_batch_matmul)),
    row(127, "PLACEHOLDER_FOR_GREATER_OP_CODES", None),
    row(128, "CUMSUM", Some(parse_cumsum)),
    row(129, "CALL_ONCE", None),
    row(130, "BROADCAST_TO", Some(parse_broadcast_to)),
    row(131, "RFFT2D", None),
    row(132, "CONV_3D", None),
    row(133, "IMAG", None),
    row(134, "REAL", None),
    row(135, "COMPLEX_ABS", None),
    row(136, "HASHTABLE", None),
    row(137, "HASHTABLE_FIND", None),
    row(138, "HASHTABLE_IMPORT", None),
    row(139, "HASHTABLE_SIZE", None),
    row(140, "REDUCE_ALL", None),
    row(141, "CONV_3D_TRANSPOSE", None),
    row(142, "VAR_HANDLE", None),
    row(143, "READ_VARIABLE", None),
    row(144, "ASSIGN_VARIABLE", None),
    row(145, "BROADCAST_ARGS", Some(parse_broadcast_args)),
    row(146, "RANDOM_STANDARD_NORMAL", None),
    row(147, "BUCKETIZE", None),
    row(148, "RANDOM_UNIFORM", None),
    row(149, "MULTINOMIAL", None),
    row(150, "GELU", None),
    row(151, "DYNAMIC_UPDATE_SLICE", None),
    row(152, "RELU_0_TO_1", None),
    row(153, "UNSORTED_SEGMENT_PROD", None),
    row(154, "UNSORTED_SEGMENT_MAX", None),
    row(155, "UNSORTED_SEGMENT_SUM", None),
    row(156, "ATAN2", None),
    row(157, "UNSORTED_SEGMENT_MIN", None),
    row(158, "SIGN", None),
    row(159, "BITCAST", None),
    row(160, "BITWISE_XOR", None),
    row(161, "RIGHT_SHIFT", None),
    row(162, "STABLEHLO_LOGISTIC", None),
    row(163, "STABLEHLO_ADD", None),
    row(164, "STABLEHLO_DIVIDE", None),
    row(165, "STABLEHLO_MULTIPLY", None),
    row(166, "STABLEHLO_MAXIMUM", None),
    row(167, "STABLEHLO_RESHAPE", None),
    row(168, "STABLEHLO_CLAMP", None),
    row(169, "STABLEHLO_CONCATENATE", None),
    row(170, "STABLEHLO_BROADCAST_IN_DIM", None),
    row(171, "STABLEHLO_CONVOLUTION", None),
    row(172, "STABLEHLO_SLICE", None),
    row(173, "STABLEHLO_CUSTOM_CALL", None),
    row(174, "STABLEHLO_REDUCE", None),
    row(175, "STABLEHLO_ABS", None),
    row(176, "STABLEHLO_AND", None),
    row(177, "STABLEHLO_COSINE", None),
    row(178, "STABLEHLO_EXPONENTIAL", None),
    row(179, "STABLEHLO_FLOOR", None),
    row(180, "STABLEHLO_LOG", None),
    row(181, "STABLEHLO_MINIMUM", None),
    row(182, "STABLEHLO_NEGATE", None),
    row(183, "STABLEHLO_OR", None),
    row(184, "STABLEHLO_POWER", None),
    row(185, "STABLEHLO_REMAINDER", None),
    row(186, "STABLEHLO_RSQRT", None),
    row(187, "STABLEHLO_SELECT", None),
    row(188, "STABLEHLO_SUBTRACT", None),
    row(189, "STABLEHLO_TANH", None),
    row(190, "STABLEHLO_SCATTER", None),
    row(191, "STABLEHLO_COMPARE", None),
    row(192, "STABLEHLO_CONVERT", None),
    row(193, "STABLEHLO_DYNAMIC_SLICE", None),
    row(194, "STABLEHLO_DYNAMIC_UPDATE_SLICE", None),
    row(195, "STABLEHLO_PAD", None),
    row(196, "STABLEHLO_IOTA", None),
    row(197, "STABLEHLO_DOT_GENERAL", None),
    row(198, "STABLEHLO_REDUCE_WINDOW", None),
    row(199, "STABLEHLO_SORT", None),
    row(200, "STABLEHLO_WHILE", None),
    row(201, "STABLEHLO_GATHER", None),
    row(202, "STABLEHLO_TRANSPOSE", None),
    row(203, "DILATE", None),
    row(204, "STABLEHLO_RNG_BIT_GENERATOR", None),
    row(205, "REDUCE_WINDOW", None),
    row(206, "STABLEHLO_COMPOSITE", None),
    row(207, "STABLEHLO_SHIFT_LEFT", None),
    row(208, "STABLEHLO_CBRT", None),
    row(209, "STABLEHLO_CASE", None),
];

// Row `i` must describe code `i`, so that lookup by code is an index.
const _: () = {
    let mut i = 0;
    while i < BUILTIN_OPS.len() {
        assert!(
            BUILTIN_OPS[i].code as usize == i,
            "BUILTIN_OPS rows must be in code order"
        );
        i += 1;
    }
};

const SUPPORTED_COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < BUILTIN_OPS.len() {
        if BUILTIN_OPS[i].parse.is_some() {
            n += 1;
        }
        i += 1;
    }
    n
};

const SUPPORTED_ARRAY: [&str; SUPPORTED_COUNT] = {
    let mut out = [""; SUPPORTED_COUNT];
    let mut n = 0;
    let mut i = 0;
    while i < BUILTIN_OPS.len() {
        if BUILTIN_OPS[i].parse.is_some() {
            out[n] = BUILTIN_OPS[i].name;
            n += 1;
        }
        i += 1;
    }
    out
};

/// Names of the operators kiln supports, in code order (derived from [`BUILTIN_OPS`]).
pub const SUPPORTED: &[&str] = &SUPPORTED_ARRAY;

/// Parses a custom operator's FlexBuffers options into its [`OpKind`].
pub type CustomParser = fn(&OpContext<'_>, &FlexMap) -> Result<OpKind, ReadError>;

/// One supported custom operator: its `custom_code` and its options parser.
#[derive(Clone, Copy)]
pub struct CustomOp {
    /// The operator's `custom_code`, e.g. `SignalWindow`.
    pub name: &'static str,
    /// The options parser.
    pub parse: CustomParser,
}

impl fmt::Debug for CustomOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomOp")
            .field("name", &self.name)
            .finish()
    }
}

/// The custom operators kiln supports: TFLM's signal library (its audio front-end), whose
/// options are FlexBuffers maps read by [`flexbuffers`].
pub const CUSTOM_OPS: &[CustomOp] = &[
    CustomOp {
        name: "SignalWindow",
        parse: parse_signal_window,
    },
    CustomOp {
        name: "SignalFftAutoScale",
        parse: parse_signal_fft_auto_scale,
    },
    CustomOp {
        name: "SignalRfft",
        parse: parse_signal_rfft,
    },
    CustomOp {
        name: "SignalEnergy",
        parse: parse_signal_energy,
    },
    CustomOp {
        name: "SignalFilterBank",
        parse: parse_signal_filter_bank,
    },
    CustomOp {
        name: "SignalFilterBankSquareRoot",
        parse: parse_signal_filter_bank_square_root,
    },
    CustomOp {
        name: "SignalFilterBankSpectralSubtraction",
        parse: parse_signal_spectral_subtraction,
    },
    CustomOp {
        name: "SignalPCAN",
        parse: parse_signal_pcan,
    },
    CustomOp {
        name: "SignalFilterBankLog",
        parse: parse_signal_filter_bank_log,
    },
];

const CUSTOM_ARRAY: [&str; CUSTOM_OPS.len()] = {
    let mut out = [""; CUSTOM_OPS.len()];
    let mut i = 0;
    while i < CUSTOM_OPS.len() {
        out[i] = CUSTOM_OPS[i].name;
        i += 1;
    }
    out
};

/// The `custom_code`s of the custom operators kiln supports (from [`CUSTOM_OPS`]).
pub const SUPPORTED_CUSTOM: &[&str] = &CUSTOM_ARRAY;

/// The supported custom operator with `custom_code` `name`.
pub fn custom(name: &str) -> Option<&'static CustomOp> {
    CUSTOM_OPS.iter().find(|c| c.name == name)
}

/// The table row for builtin `code`, if the code is known.
pub fn builtin(code: i32) -> Option<&'static BuiltinOp> {
    let row = BUILTIN_OPS.get(usize::try_from(code).ok()?)?;
    (row.code == code).then_some(row)
}

/// A display name for an operator code: the builtin name, `CUSTOM:<custom_code>` for custom
/// operators, or a description of an unknown code.
pub fn op_name(code: i32, custom_code: Option<&str>) -> String {
    match builtin(code) {
        Some(row) if row.name == "CUSTOM" => match custom_code {
            Some(custom) => format!("CUSTOM:{custom}"),
            None => "CUSTOM".to_string(),
        },
        Some(row) => row.name.to_string(),
        None => format!("unknown builtin operator {code}"),
    }
}

/// What a [`Parser`] gets: the operator, its index in the subgraph and its name.
#[derive(Clone, Copy, Debug)]
pub struct OpContext<'a> {
    /// The operator table.
    pub op: Operator<'a>,
    /// The operator's index in the subgraph (for error messages).
    pub index: usize,
    /// The operator's name from [`BUILTIN_OPS`].
    pub name: &'static str,
}

impl<'a> OpContext<'a> {
    /// The options table `T`; an error when the operator has none or another type.
    pub fn required<T: OptionsTable<'a>>(&self) -> Result<T, ReadError> {
        match self.optional::<T>()? {
            Some(options) => Ok(options),
            None => Err(ReadError::MissingOptions {
                op: self.index,
                name: self.name,
                expected: T::NAME,
                found: 0,
            }),
        }
    }

    /// The options table `T`, or `None` when the operator has no options; an error when it
    /// has options of another type.
    pub fn optional<T: OptionsTable<'a>>(&self) -> Result<Option<T>, ReadError> {
        let found = self.op.builtin_options_type();
        if found != 0 && found != T::UNION_TYPE {
            return Err(ReadError::MissingOptions {
                op: self.index,
                name: self.name,
                expected: T::NAME,
                found,
            });
        }
        Ok(self.op.builtin_options::<T>())
    }

    /// An [`ReadError::InvalidOptions`] for this operator.
    pub fn invalid(&self, reason: String) -> ReadError {
        ReadError::InvalidOptions {
            op: self.index,
            name: self.name,
            reason,
        }
    }

    /// Converts a `ActivationFunctionType` value.
    pub fn activation(&self, value: i8) -> Result<Activation, ReadError> {
        match value {
            0 => Ok(Activation::None),
            1 => Ok(Activation::Relu),
            2 => Ok(Activation::ReluN1To1),
            3 => Ok(Activation::Relu6),
            other => Err(ReadError::UnsupportedActivation {
                op: self.index,
                name: self.name,
                activation: match other {
                    4 => "TANH".to_string(),
                    5 => "SIGN_BIT".to_string(),
                    _ => format!("unknown activation {other}"),
                },
            }),
        }
    }

    /// Converts a `Padding` value.
    pub fn padding(&self, value: i8) -> Result<Padding, ReadError> {
        match value {
            0 => Ok(Padding::Same),
            1 => Ok(Padding::Valid),
            other => Err(self.invalid(format!("unknown padding {other}"))),
        }
    }

    /// Option `key` of a custom operator, which TFLM reads as value number `index` of the
    /// key-sorted map (`FlexbufferWrapper::ElementAs*(index)`): the key must be there, at that
    /// position, so that kiln reads the value TFLM reads.
    pub fn flex<'m>(
        &self,
        map: &'m FlexMap,
        index: usize,
        key: &str,
    ) -> Result<&'m flexbuffers::FlexValue, ReadError> {
        match map.entries.get(index) {
            Some((k, v)) if k == key => Ok(v),
            Some((k, _)) => Err(self.invalid(format!(
                "TFLM reads option '{key}' as entry {index} of the options map, which is '{}'",
                crate::names::shown(k)
            ))),
            None => Err(self.invalid(format!(
                "the options map has {} entries, no '{key}' (entry {index})",
                map.entries.len()
            ))),
        }
    }

    /// Integer option `key` at `index` (see [`OpContext::flex`]), as TFLM's `ElementAsInt32`.
    pub fn flex_i32(&self, map: &FlexMap, index: usize, key: &str) -> Result<i32, ReadError> {
        let v = self.flex(map, index, key)?;
        v.as_i32()
            .ok_or_else(|| self.invalid(format!("option '{key}' is {v:?}, not an integer")))
    }

    /// Boolean option `key` at `index`, as TFLM's `ElementAsBool`.
    pub fn flex_bool(&self, map: &FlexMap, index: usize, key: &str) -> Result<bool, ReadError> {
        let v = self.flex(map, index, key)?;
        v.as_bool()
            .ok_or_else(|| self.invalid(format!("option '{key}' is {v:?}, not a boolean")))
    }

    /// A stride, filter size or dilation: must be at least 1.
    pub fn positive(&self, value: i32, what: &str) -> Result<usize, ReadError> {
        match usize::try_from(value) {
            Ok(v) if v >= 1 => Ok(v),
            _ => Err(self.invalid(format!("{what} is {value}, must be at least 1"))),
        }
    }

    /// A count that may be zero but not negative.
    pub fn non_negative(&self, value: i32, what: &str) -> Result<usize, ReadError> {
        usize::try_from(value)
            .map_err(|_| self.invalid(format!("{what} is {value}, must not be negative")))
    }
}

fn parse_conv_2d(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let o = cx.required::<Conv2DOptions>()?;
    Ok(OpKind::Conv2d(Conv2dOptions {
        padding: cx.padding(o.padding())?,
        stride_w: cx.positive(o.stride_w(), "stride_w")?,
        stride_h: cx.positive(o.stride_h(), "stride_h")?,
        dilation_w: cx.positive(o.dilation_w_factor(), "dilation_w_factor")?,
        dilation_h: cx.positive(o.dilation_h_factor(), "dilation_h_factor")?,
        activation: cx.activation(o.fused_activation_function())?,
    }))
}

fn parse_transpose_conv(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let o = cx.required::<TransposeConvOptions>()?;
    Ok(OpKind::TransposeConv(crate::ir::TransposeConvOptions {
        padding: cx.padding(o.padding())?,
        stride_w: cx.positive(o.stride_w(), "stride_w")?,
        stride_h: cx.positive(o.stride_h(), "stride_h")?,
        activation: cx.activation(o.fused_activation_function())?,
    }))
}

fn parse_batch_matmul(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let (adj_x, adj_y) = match cx.optional::<BatchMatMulOptions>()? {
        Some(o) => (o.adj_x(), o.adj_y()),
        None => (false, false),
    };
    Ok(OpKind::BatchMatmul { adj_x, adj_y })
}

fn parse_depthwise_conv_2d(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let o = cx.required::<DepthwiseConv2DOptions>()?;
    Ok(OpKind::DepthwiseConv2d(DepthwiseConv2dOptions {
        conv: Conv2dOptions {
            padding: cx.padding(o.padding())?,
            stride_w: cx.positive(o.stride_w(), "stride_w")?,
            stride_h: cx.positive(o.stride_h(), "stride_h")?,
            dilation_w: cx.positive(o.dilation_w_factor(), "dilation_w_factor")?,
            dilation_h: cx.positive(o.dilation_h_factor(), "dilation_h_factor")?,
            activation: cx.activation(o.fused_activation_function())?,
        },
        depth_multiplier: cx.non_negative(o.depth_multiplier(), "depth_multiplier")?,
    }))
}

fn parse_fully_connected(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let Some(o) = cx.optional::<FullyConnectedOptions>()? else {
        return Ok(OpKind::FullyConnected(FcOptions {
            activation: Activation::None,
            keep_num_dims: false,
        }));
    };
    if o.weights_format() != 0 {
        return Err(cx.invalid(format!(
            "weights_format is {} (only DEFAULT = 0 is supported)",
            o.weights_format()
        )));
    }
    Ok(OpKind::FullyConnected(FcOptions {
        activation: cx.activation(o.fused_activation_function())?,
        keep_num_dims: o.keep_num_dims(),
    }))
}

fn pool_options(cx: &OpContext<'_>) -> Result<Pool2dOptions, ReadError> {
    let o = cx.required::<Pool2DOptions>()?;
    Ok(Pool2dOptions {
        padding: cx.padding(o.padding())?,
        stride_w: cx.positive(o.stride_w(), "stride_w")?,
        stride_h: cx.positive(o.stride_h(), "stride_h")?,
        filter_w: cx.positive(o.filter_width(), "filter_width")?,
        filter_h: cx.positive(o.filter_height(), "filter_height")?,
        activation: cx.activation(o.fused_activation_function())?,
    })
}

fn parse_average_pool_2d(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::AveragePool2d(pool_options(cx)?))
}

fn parse_max_pool_2d(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::MaxPool2d(pool_options(cx)?))
}

fn parse_l2_pool_2d(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::L2Pool2d(pool_options(cx)?))
}

fn parse_add_n(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::AddN)
}

fn parse_floor_div(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::FloorDiv)
}

fn parse_floor_mod(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::FloorMod)
}

fn parse_embedding_lookup(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::EmbeddingLookup)
}

fn parse_broadcast_args(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::BroadcastArgs)
}

fn parse_add(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let activation = match cx.optional::<AddOptions>()? {
        Some(o) => cx.activation(o.fused_activation_function())?,
        None => Activation::None,
    };
    Ok(OpKind::Add { activation })
}

fn parse_reshape(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // RESHAPE, SQUEEZE and EXPAND_DIMS move no data: their options (new_shape, squeeze_dims)
    // and shape or axis inputs are ignored, the output tensor's shape is authoritative.
    Ok(OpKind::Reshape)
}

fn parse_softmax(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let beta = match cx.optional::<SoftmaxOptions>()? {
        Some(o) => o.beta(),
        None => 1.0,
    };
    Ok(OpKind::Softmax { beta })
}

fn parse_quantize(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Quantize)
}

fn parse_dequantize(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Dequantize)
}

fn parse_mul(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let activation = match cx.optional::<MulOptions>()? {
        Some(o) => cx.activation(o.fused_activation_function())?,
        None => Activation::None,
    };
    Ok(OpKind::Mul { activation })
}

fn parse_sub(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let activation = match cx.optional::<SubOptions>()? {
        Some(o) => cx.activation(o.fused_activation_function())?,
        None => Activation::None,
    };
    Ok(OpKind::Sub { activation })
}

fn parse_logistic(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Logistic)
}

fn parse_tanh(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Tanh)
}

fn parse_squared_difference(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::SquaredDifference)
}

fn parse_relu(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Relu)
}

fn parse_relu6(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Relu6)
}

fn parse_leaky_relu(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // Without an options table TFLite's parser leaves alpha zero-initialised.
    let alpha = cx
        .optional::<LeakyReluOptions>()?
        .map_or(0.0, |o| o.alpha());
    if !alpha.is_finite() {
        return Err(cx.invalid(format!("alpha is {alpha}")));
    }
    Ok(OpKind::LeakyRelu { alpha })
}

fn parse_hard_swish(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::HardSwish)
}

fn keep_dims(cx: &OpContext<'_>) -> Result<bool, ReadError> {
    Ok(cx
        .optional::<ReducerOptions>()?
        .is_some_and(|o| o.keep_dims()))
}

fn parse_mean(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Mean {
        keep_dims: keep_dims(cx)?,
    })
}

fn parse_reduce_max(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::ReduceMax {
        keep_dims: keep_dims(cx)?,
    })
}

fn parse_reduce_min(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::ReduceMin {
        keep_dims: keep_dims(cx)?,
    })
}

fn parse_arg_max(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // ArgMaxOptions.output_type is ignored: the output tensor's type is authoritative.
    Ok(OpKind::ArgMax)
}

fn parse_arg_min(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::ArgMin)
}

fn parse_pad(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // PadOptions and PadV2Options are empty tables.
    Ok(OpKind::Pad)
}

fn parse_concatenation(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let Some(o) = cx.optional::<ConcatenationOptions>()? else {
        return Ok(OpKind::Concatenation { axis: 0 });
    };
    // TFLM's Prepare: TF_LITE_ENSURE_EQ(params->activation, kTfLiteActNone).
    if o.fused_activation_function() != 0 {
        return Err(cx.invalid(format!(
            "fused activation {} is set; TFLM's CONCATENATION accepts only NONE",
            o.fused_activation_function()
        )));
    }
    Ok(OpKind::Concatenation { axis: o.axis() })
}

fn parse_strided_slice(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let Some(o) = cx.optional::<StridedSliceOptions>()? else {
        return Ok(OpKind::StridedSlice(StridedSliceOpts {
            begin_mask: 0,
            end_mask: 0,
            shrink_axis_mask: 0,
        }));
    };
    // TFLM builds its parameters with ellipsis_mask = new_axis_mask = 0 and offset = false
    // whatever the model says, so a model using them would not run as written: refuse.
    if o.ellipsis_mask() != 0 || o.new_axis_mask() != 0 || o.offset() {
        return Err(cx.invalid(format!(
            "ellipsis_mask {}, new_axis_mask {}, offset {}: TFLM ignores these, kiln supports only 0, 0, false",
            o.ellipsis_mask(),
            o.new_axis_mask(),
            o.offset()
        )));
    }
    Ok(OpKind::StridedSlice(StridedSliceOpts {
        begin_mask: o.begin_mask() as u32,
        end_mask: o.end_mask() as u32,
        shrink_axis_mask: o.shrink_axis_mask() as u32,
    }))
}

fn parse_transpose(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Transpose)
}

fn parse_maximum(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Maximum)
}

fn parse_minimum(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Minimum)
}

fn parse_abs(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Abs)
}

fn parse_neg(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Neg)
}

fn parse_slice(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Slice)
}

fn parse_split(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // SplitOptions.num_splits is ignored: TFLM sizes the pieces by the output tensors.
    Ok(OpKind::Split)
}

fn parse_split_v(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::SplitV)
}

fn parse_unpack(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // TFLM unpacks `num` outputs (zero without options), so it must be there.
    let o = cx.required::<UnpackOptions>()?;
    let outputs = cx.op.outputs().map_or(0, |v| v.len());
    if usize::try_from(o.num()).ok() != Some(outputs) {
        return Err(cx.invalid(format!(
            "num is {}, but the operator has {outputs} outputs",
            o.num()
        )));
    }
    Ok(OpKind::Unpack { axis: o.axis() })
}

fn parse_pack(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // TFLM packs `values_count` inputs (zero without options), so it must be there.
    let o = cx.required::<PackOptions>()?;
    let inputs = cx.op.inputs().map_or(0, |v| v.len());
    if usize::try_from(o.values_count()).ok() != Some(inputs) {
        return Err(cx.invalid(format!(
            "values_count is {}, but the operator has {inputs} inputs",
            o.values_count()
        )));
    }
    Ok(OpKind::Pack { axis: o.axis() })
}

fn parse_cast(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // CastOptions' types are ignored: the tensors' types are authoritative (as in TFLM).
    Ok(OpKind::Cast)
}

fn parse_div(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let activation = match cx.optional::<DivOptions>()? {
        Some(o) => cx.activation(o.fused_activation_function())?,
        None => Activation::None,
    };
    Ok(OpKind::Div { activation })
}

fn parse_signal_window(cx: &OpContext<'_>, m: &FlexMap) -> Result<OpKind, ReadError> {
    Ok(OpKind::Signal(SignalOp::Window {
        shift: cx.flex_i32(m, 0, "shift")?,
    }))
}

fn parse_signal_fft_auto_scale(_cx: &OpContext<'_>, _m: &FlexMap) -> Result<OpKind, ReadError> {
    Ok(OpKind::Signal(SignalOp::FftAutoScale))
}

fn parse_signal_rfft(cx: &OpContext<'_>, m: &FlexMap) -> Result<OpKind, ReadError> {
    // 'T' is the element type as a TensorType; TFLM also has int32 and float32 FFTs.
    let t = cx.flex_i32(m, 0, "T")?;
    if t != 7 {
        return Err(cx.invalid(format!(
            "T is TensorType {t}; kiln implements the int16 RFFT (T = 7) only"
        )));
    }
    Ok(OpKind::Signal(SignalOp::Rfft {
        fft_length: cx.flex_i32(m, 1, "fft_length")?,
    }))
}

fn parse_signal_energy(cx: &OpContext<'_>, m: &FlexMap) -> Result<OpKind, ReadError> {
    Ok(OpKind::Signal(SignalOp::Energy {
        end_index: cx.flex_i32(m, 0, "end_index")?,
        start_index: cx.flex_i32(m, 1, "start_index")?,
    }))
}

fn parse_signal_filter_bank(cx: &OpContext<'_>, m: &FlexMap) -> Result<OpKind, ReadError> {
    Ok(OpKind::Signal(SignalOp::FilterBank {
        num_channels: cx.flex_i32(m, 0, "num_channels")?,
    }))
}

fn parse_signal_filter_bank_square_root(
    _cx: &OpContext<'_>,
    _m: &FlexMap,
) -> Result<OpKind, ReadError> {
    Ok(OpKind::Signal(SignalOp::FilterBankSquareRoot))
}

fn parse_signal_spectral_subtraction(cx: &OpContext<'_>, m: &FlexMap) -> Result<OpKind, ReadError> {
    Ok(OpKind::Signal(SignalOp::FilterBankSpectralSubtraction(
        SpectralSubtractionOptions {
            alternate_one_minus_smoothing: cx.flex_i32(m, 0, "alternate_one_minus_smoothing")?,
            alternate_smoothing: cx.flex_i32(m, 1, "alternate_smoothing")?,
            clamping: cx.flex_bool(m, 2, "clamping")?,
            min_signal_remaining: cx.flex_i32(m, 3, "min_signal_remaining")?,
            num_channels: cx.flex_i32(m, 4, "num_channels")?,
            one_minus_smoothing: cx.flex_i32(m, 5, "one_minus_smoothing")?,
            smoothing: cx.flex_i32(m, 6, "smoothing")?,
            smoothing_bits: cx.flex_i32(m, 7, "smoothing_bits")?,
            spectral_subtraction_bits: cx.flex_i32(m, 8, "spectral_subtraction_bits")?,
        },
    )))
}

fn parse_signal_pcan(cx: &OpContext<'_>, m: &FlexMap) -> Result<OpKind, ReadError> {
    Ok(OpKind::Signal(SignalOp::Pcan {
        snr_shift: cx.flex_i32(m, 0, "snr_shift")?,
    }))
}

fn parse_signal_filter_bank_log(cx: &OpContext<'_>, m: &FlexMap) -> Result<OpKind, ReadError> {
    Ok(OpKind::Signal(SignalOp::FilterBankLog {
        input_correction_bits: cx.flex_i32(m, 0, "input_correction_bits")?,
        output_scale: cx.flex_i32(m, 1, "output_scale")?,
    }))
}

fn parse_svdf(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // TFLM reads the rank from the options, so they must be there.
    let o = cx.required::<SvdfOptions>()?;
    Ok(OpKind::Svdf {
        rank: o.rank(),
        activation: cx.activation(o.fused_activation_function()).ok(),
    })
}

fn parse_unidirectional_sequence_lstm(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // TFLM requires the options (its Prepare reads them unconditionally).
    let o = cx.required::<UnidirectionalSequenceLstmOptions>()?;
    // TFLM squashes the cell gate with tanh for TANH and passes it through otherwise (the
    // schema's activations have no SIGMOID, the other value its kernel handles).
    let cell_activation = match o.fused_activation_function() {
        4 => LstmActivation::Tanh,
        0..=5 => LstmActivation::Identity,
        other => {
            return Err(cx.invalid(format!(
                "cell gate activation {other} is not a TFLite activation function"
            )))
        }
    };
    if o.diagonal_recurrent_tensors() {
        return Err(cx.invalid("diagonal recurrent weights (TFLM's LSTM has none)".into()));
    }
    Ok(OpKind::UnidirectionalSequenceLstm(LstmOptions {
        cell_activation,
        cell_clip: o.cell_clip(),
        proj_clip: o.proj_clip(),
        time_major: o.time_major(),
    }))
}

fn parse_gather(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // Without options TFLite's parser leaves axis and batch_dims zero.
    let (axis, batch_dims) = cx
        .optional::<GatherOptions>()?
        .map_or((0, 0), |o| (o.axis(), o.batch_dims()));
    Ok(OpKind::Gather { axis, batch_dims })
}

fn parse_gather_nd(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::GatherNd)
}

fn parse_space_to_depth(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let o = cx.required::<SpaceToDepthOptions>()?;
    Ok(OpKind::SpaceToDepth {
        block_size: cx.positive(o.block_size(), "block_size")?,
    })
}

fn parse_depth_to_space(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let o = cx.required::<DepthToSpaceOptions>()?;
    Ok(OpKind::DepthToSpace {
        block_size: cx.positive(o.block_size(), "block_size")?,
    })
}

fn parse_space_to_batch_nd(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::SpaceToBatchNd)
}

fn parse_batch_to_space_nd(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::BatchToSpaceNd)
}

fn parse_mirror_pad(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // TFLM fails without options; the mode defaults to REFLECT.
    let o = cx.required::<MirrorPadOptions>()?;
    match o.mode() {
        0 => Ok(OpKind::MirrorPad { symmetric: false }),
        1 => Ok(OpKind::MirrorPad { symmetric: true }),
        other => Err(cx.invalid(format!(
            "mode is {other} (0 = REFLECT and 1 = SYMMETRIC are defined)"
        ))),
    }
}

fn parse_broadcast_to(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::BroadcastTo)
}

fn resize_options(align_corners: bool, half_pixel_centers: bool) -> ResizeOptions {
    ResizeOptions {
        align_corners,
        half_pixel_centers,
    }
}

fn parse_resize_nearest_neighbor(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let o = cx
        .optional::<ResizeNearestNeighborOptions>()?
        .map_or(resize_options(false, false), |o| {
            resize_options(o.align_corners(), o.half_pixel_centers())
        });
    Ok(OpKind::ResizeNearestNeighbor(o))
}

fn parse_resize_bilinear(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let o = cx
        .optional::<ResizeBilinearOptions>()?
        .map_or(resize_options(false, false), |o| {
            resize_options(o.align_corners(), o.half_pixel_centers())
        });
    Ok(OpKind::ResizeBilinear(o))
}

fn parse_reverse_v2(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::ReverseV2)
}

fn parse_zeros_like(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::ZerosLike)
}

fn parse_fill(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Fill)
}

fn parse_shape(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    // ShapeOptions.out_type is ignored: the output tensor's type is authoritative.
    Ok(OpKind::Shape)
}

fn parse_cumsum(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let (exclusive, reverse) = cx
        .optional::<CumsumOptions>()?
        .map_or((false, false), |o| (o.exclusive(), o.reverse()));
    Ok(OpKind::Cumsum { exclusive, reverse })
}

fn parse_prelu(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Prelu)
}

fn parse_elu(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Elu))
}

fn parse_exp(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Exp))
}

fn parse_log(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Log))
}

fn parse_sqrt(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Sqrt))
}

fn parse_rsqrt(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Rsqrt))
}

fn parse_floor(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Floor))
}

fn parse_ceil(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Ceil))
}

fn parse_round(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Round))
}

fn parse_square(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Square))
}

fn parse_sin(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Sin))
}

fn parse_cos(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Math(UnaryMath::Cos))
}

fn parse_sum(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Sum {
        keep_dims: keep_dims(cx)?,
    })
}

fn parse_l2_normalization(cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    let activation = match cx.optional::<L2NormOptions>()? {
        Some(o) => cx.activation(o.fused_activation_function())?,
        None => Activation::None,
    };
    Ok(OpKind::L2Normalization { activation })
}

fn parse_log_softmax(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::LogSoftmax)
}

// The comparisons', SELECT_V2's and the logical ops' options tables are empty.

fn parse_equal(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Compare(Comparison::Equal))
}

fn parse_not_equal(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Compare(Comparison::NotEqual))
}

fn parse_less(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Compare(Comparison::Less))
}

fn parse_less_equal(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Compare(Comparison::LessEqual))
}

fn parse_greater(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Compare(Comparison::Greater))
}

fn parse_greater_equal(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Compare(Comparison::GreaterEqual))
}

fn parse_select_v2(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::SelectV2)
}

fn parse_logical_and(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Logical { and: true })
}

fn parse_logical_or(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::Logical { and: false })
}

fn parse_logical_not(_cx: &OpContext<'_>) -> Result<OpKind, ReadError> {
    Ok(OpKind::LogicalNot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_code() {
        assert_eq!(BUILTIN_OPS.len(), 210);
        for (i, row) in BUILTIN_OPS.iter().enumerate() {
            assert_eq!(row.code as usize, i);
            assert!(!row.name.is_empty());
        }
        let names: Vec<_> = [0, 1, 3, 4, 6, 9, 17, 22, 25, 28, 32, 114, 209]
            .iter()
            .map(|&c| builtin(c).map(|r| r.name))
            .collect();
        assert_eq!(
            names,
            [
                "ADD",
                "AVERAGE_POOL_2D",
                "CONV_2D",
                "DEPTHWISE_CONV_2D",
                "DEQUANTIZE",
                "FULLY_CONNECTED",
                "MAX_POOL_2D",
                "RESHAPE",
                "SOFTMAX",
                "TANH",
                "CUSTOM",
                "QUANTIZE",
                "STABLEHLO_CASE"
            ]
            .map(Some)
        );
    }

    /// The rows whose parser produces each IR op. An exhaustive match: an IR op added without
    /// a front-end row here does not compile.
    fn rows_of(kind: &OpKind) -> &'static [&'static str] {
        match kind {
            OpKind::Conv2d(_) => &["CONV_2D"],
            OpKind::DepthwiseConv2d(_) => &["DEPTHWISE_CONV_2D"],
            OpKind::FullyConnected(_) => &["FULLY_CONNECTED"],
            OpKind::AveragePool2d(_) => &["AVERAGE_POOL_2D"],
            OpKind::MaxPool2d(_) => &["MAX_POOL_2D"],
            OpKind::Add { .. } => &["ADD"],
            OpKind::Reshape => &["RESHAPE", "SQUEEZE", "EXPAND_DIMS"],
            OpKind::Softmax { .. } => &["SOFTMAX"],
            OpKind::Quantize => &["QUANTIZE"],
            OpKind::Dequantize => &["DEQUANTIZE"],
            OpKind::Mul { .. } => &["MUL"],
            OpKind::Sub { .. } => &["SUB"],
            OpKind::Logistic => &["LOGISTIC"],
            OpKind::Tanh => &["TANH"],
            OpKind::Relu => &["RELU"],
            OpKind::Relu6 => &["RELU6"],
            OpKind::LeakyRelu { .. } => &["LEAKY_RELU"],
            OpKind::HardSwish => &["HARD_SWISH"],
            OpKind::Mean { .. } => &["MEAN"],
            OpKind::Pad => &["PAD", "PADV2"],
            OpKind::Concatenation { .. } => &["CONCATENATION"],
            OpKind::StridedSlice(_) => &["STRIDED_SLICE"],
            OpKind::Transpose => &["TRANSPOSE"],
            OpKind::SquaredDifference => &["SQUARED_DIFFERENCE"],
            OpKind::TransposeConv(_) => &["TRANSPOSE_CONV"],
            OpKind::L2Pool2d(_) => &["L2_POOL_2D"],
            OpKind::AddN => &["ADD_N"],
            OpKind::FloorDiv => &["FLOOR_DIV"],
            OpKind::FloorMod => &["FLOOR_MOD"],
            OpKind::EmbeddingLookup => &["EMBEDDING_LOOKUP"],
            OpKind::BroadcastArgs => &["BROADCAST_ARGS"],
            OpKind::BatchMatmul { .. } => &["BATCH_MATMUL"],
            OpKind::Maximum => &["MAXIMUM"],
            OpKind::Minimum => &["MINIMUM"],
            OpKind::Abs => &["ABS"],
            OpKind::Neg => &["NEG"],
            OpKind::ReduceMax { .. } => &["REDUCE_MAX"],
            OpKind::ReduceMin { .. } => &["REDUCE_MIN"],
            OpKind::ArgMax => &["ARG_MAX"],
            OpKind::ArgMin => &["ARG_MIN"],
            OpKind::Slice => &["SLICE"],
            OpKind::Pack { .. } => &["PACK"],
            OpKind::Split => &["SPLIT"],
            OpKind::SplitV => &["SPLIT_V"],
            OpKind::Unpack { .. } => &["UNPACK"],
            OpKind::UnidirectionalSequenceLstm(_) => &["UNIDIRECTIONAL_SEQUENCE_LSTM"],
            OpKind::Svdf { .. } => &["SVDF"],
            OpKind::Gather { .. } => &["GATHER"],
            OpKind::GatherNd => &["GATHER_ND"],
            OpKind::SpaceToDepth { .. } => &["SPACE_TO_DEPTH"],
            OpKind::DepthToSpace { .. } => &["DEPTH_TO_SPACE"],
            OpKind::SpaceToBatchNd => &["SPACE_TO_BATCH_ND"],
            OpKind::BatchToSpaceNd => &["BATCH_TO_SPACE_ND"],
            OpKind::MirrorPad { .. } => &["MIRROR_PAD"],
            OpKind::BroadcastTo => &["BROADCAST_TO"],
            OpKind::ResizeNearestNeighbor(_) => &["RESIZE_NEAREST_NEIGHBOR"],
            OpKind::ResizeBilinear(_) => &["RESIZE_BILINEAR"],
            OpKind::ReverseV2 => &["REVERSE_V2"],
            OpKind::ZerosLike => &["ZEROS_LIKE"],
            OpKind::Fill => &["FILL"],
            OpKind::Shape => &["SHAPE"],
            OpKind::Cumsum { .. } => &["CUMSUM"],
            OpKind::Prelu => &["PRELU"],
            OpKind::Math(f) => match f {
                UnaryMath::Elu => &["ELU"],
                UnaryMath::Exp => &["EXP"],
                UnaryMath::Log => &["LOG"],
                UnaryMath::Sqrt => &["SQRT"],
                UnaryMath::Rsqrt => &["RSQRT"],
                UnaryMath::Floor => &["FLOOR"],
                UnaryMath::Ceil => &["CEIL"],
                UnaryMath::Round => &["ROUND"],
                UnaryMath::Square => &["SQUARE"],
                UnaryMath::Logistic => &["LOGISTIC"],
                UnaryMath::Tanh => &["TANH"],
                UnaryMath::Sin => &["SIN"],
                UnaryMath::Cos => &["COS"],
            },
            OpKind::Div { .. } => &["DIV"],
            OpKind::Sum { .. } => &["SUM"],
            OpKind::L2Normalization { .. } => &["L2_NORMALIZATION"],
            OpKind::LogSoftmax => &["LOG_SOFTMAX"],
            OpKind::Compare(c) => match c {
                Comparison::Equal => &["EQUAL"],
                Comparison::NotEqual => &["NOT_EQUAL"],
                Comparison::Less => &["LESS"],
                Comparison::LessEqual => &["LESS_EQUAL"],
                Comparison::Greater => &["GREATER"],
                Comparison::GreaterEqual => &["GREATER_EQUAL"],
            },
            OpKind::SelectV2 => &["SELECT_V2"],
            OpKind::Logical { and: true } => &["LOGICAL_AND"],
            OpKind::Logical { and: false } => &["LOGICAL_OR"],
            OpKind::LogicalNot => &["LOGICAL_NOT"],
            OpKind::Cast => &["CAST"],
            // Custom operators have no builtin row (see `custom_rows_parse_their_options`).
            OpKind::Signal(_) => &[],
            // Made by the ONNX front end only (quantize_dynamic's MatMulInteger chains).
            OpKind::DynamicQuantizeMatMul | OpKind::DynamicQuantizeConv(_) => &[],
        }
    }

    #[test]
    fn every_ir_op_has_a_supported_row_and_every_supported_row_an_ir_op() {
        use crate::ir::{
            Activation::None as Act, Conv2dOptions, DepthwiseConv2dOptions, Padding, Pool2dOptions,
            StridedSliceOptions,
        };
        let conv = Conv2dOptions {
            padding: Padding::Same,
            stride_w: 1,
            stride_h: 1,
            dilation_w: 1,
            dilation_h: 1,
            activation: Act,
        };
        let pool = Pool2dOptions {
            padding: Padding::Same,
            stride_w: 1,
            stride_h: 1,
            filter_w: 1,
            filter_h: 1,
            activation: Act,
        };
        // One of each IR op (a new one fails `rows_of` first, then the coverage check below
        // until it is listed here).
        let samples = [
            OpKind::Conv2d(conv),
            OpKind::DepthwiseConv2d(DepthwiseConv2dOptions {
                conv,
                depth_multiplier: 1,
            }),
            OpKind::FullyConnected(FcOptions {
                activation: Act,
                keep_num_dims: false,
            }),
            OpKind::AveragePool2d(pool),
            OpKind::MaxPool2d(pool),
            OpKind::Add { activation: Act },
            OpKind::Reshape,
            OpKind::Softmax { beta: 1.0 },
            OpKind::Quantize,
            OpKind::Dequantize,
            OpKind::Mul { activation: Act },
            OpKind::Sub { activation: Act },
            OpKind::Logistic,
            OpKind::Tanh,
            OpKind::Relu,
            OpKind::Relu6,
            OpKind::LeakyRelu { alpha: 0.1 },
            OpKind::HardSwish,
            OpKind::Mean { keep_dims: false },
            OpKind::Pad,
            OpKind::Concatenation { axis: 0 },
            OpKind::StridedSlice(StridedSliceOptions {
                begin_mask: 0,
                end_mask: 0,
                shrink_axis_mask: 0,
            }),
            OpKind::Transpose,
            OpKind::SquaredDifference,
            OpKind::TransposeConv(crate::ir::TransposeConvOptions {
                padding: Padding::Same,
                stride_w: 2,
                stride_h: 2,
                activation: Act,
            }),
            OpKind::BatchMatmul {
                adj_x: false,
                adj_y: true,
            },
            OpKind::L2Pool2d(pool),
            OpKind::AddN,
            OpKind::FloorDiv,
            OpKind::FloorMod,
            OpKind::EmbeddingLookup,
            OpKind::BroadcastArgs,
            OpKind::Maximum,
            OpKind::Minimum,
            OpKind::Abs,
            OpKind::Neg,
            OpKind::ReduceMax { keep_dims: false },
            OpKind::ReduceMin { keep_dims: true },
            OpKind::ArgMax,
            OpKind::ArgMin,
            OpKind::Slice,
            OpKind::Pack { axis: 0 },
            OpKind::Split,
            OpKind::SplitV,
            OpKind::Unpack { axis: 0 },
            OpKind::UnidirectionalSequenceLstm(crate::ir::LstmOptions {
                cell_activation: crate::ir::LstmActivation::Tanh,
                cell_clip: 0.0,
                proj_clip: 0.0,
                time_major: false,
            }),
            OpKind::Svdf {
                rank: 1,
                activation: Some(Activation::None),
            },
            OpKind::Gather {
                axis: 0,
                batch_dims: 0,
            },
            OpKind::GatherNd,
            OpKind::SpaceToDepth { block_size: 2 },
            OpKind::DepthToSpace { block_size: 2 },
            OpKind::SpaceToBatchNd,
            OpKind::BatchToSpaceNd,
            OpKind::MirrorPad { symmetric: false },
            OpKind::BroadcastTo,
            OpKind::ResizeNearestNeighbor(resize_options(false, false)),
            OpKind::ResizeBilinear(resize_options(true, false)),
            OpKind::ReverseV2,
            OpKind::ZerosLike,
            OpKind::Fill,
            OpKind::Shape,
            OpKind::Cumsum {
                exclusive: false,
                reverse: false,
            },
            OpKind::Prelu,
            OpKind::Div { activation: Act },
            OpKind::Sum { keep_dims: false },
            OpKind::L2Normalization { activation: Act },
            OpKind::LogSoftmax,
            OpKind::SelectV2,
            OpKind::Logical { and: true },
            OpKind::Logical { and: false },
            OpKind::LogicalNot,
            OpKind::Cast,
        ];
        let math = [
            UnaryMath::Elu,
            UnaryMath::Exp,
            UnaryMath::Log,
            UnaryMath::Sqrt,
            UnaryMath::Rsqrt,
            UnaryMath::Floor,
            UnaryMath::Ceil,
            UnaryMath::Round,
            UnaryMath::Square,
            UnaryMath::Sin,
            UnaryMath::Cos,
        ];
        let comparisons = [
            Comparison::Equal,
            Comparison::NotEqual,
            Comparison::Less,
            Comparison::LessEqual,
            Comparison::Greater,
            Comparison::GreaterEqual,
        ];
        let samples: Vec<OpKind> = samples
            .into_iter()
            .chain(math.map(OpKind::Math))
            .chain(comparisons.map(OpKind::Compare))
            .collect();
        let mut named: Vec<&str> = samples.iter().flat_map(rows_of).copied().collect();
        for name in &named {
            let row = BUILTIN_OPS.iter().find(|r| r.name == *name);
            assert!(
                row.is_some_and(|r| r.parse.is_some()),
                "IR op row {name} has no parser in BUILTIN_OPS"
            );
        }
        named.sort_unstable();
        let mut supported = SUPPORTED.to_vec();
        supported.sort_unstable();
        assert_eq!(
            named, supported,
            "supported rows without an IR op (or the reverse)"
        );
    }

    #[test]
    fn custom_rows_are_the_signal_ops() {
        assert_eq!(SUPPORTED_CUSTOM.len(), CUSTOM_OPS.len());
        for name in SUPPORTED_CUSTOM {
            assert_eq!(custom(name).map(|c| c.name), Some(*name));
            assert!(name.starts_with("Signal"), "{name}");
        }
        assert!(custom("SignalDelay").is_none());
    }

    #[test]
    fn names_of_odd_codes() {
        assert!(builtin(-1).is_none());
        assert!(builtin(210).is_none());
        assert!(builtin(i32::MAX).is_none());
        assert_eq!(op_name(28, None), "TANH");
        assert_eq!(
            op_name(32, Some("TFLite_Detection_PostProcess")),
            "CUSTOM:TFLite_Detection_PostProcess"
        );
        assert_eq!(op_name(32, None), "CUSTOM");
        assert_eq!(op_name(-5, None), "unknown builtin operator -5");
    }
}
