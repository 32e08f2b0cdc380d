//! Typed zero-copy accessors for the subset of the TensorFlow Lite flatbuffer schema kiln reads.
//!
//! These are hand-written over the `flatbuffers` runtime crate (no generated code). Every table
//! implements [`Follow`] and [`Verifiable`]; the reader only obtains a [`Model`] through
//! [`flatbuffers::root`], which runs the verifiers below over the whole buffer first. Each
//! accessor reads a field with exactly the type its table's verifier checked at that slot, which
//! is what makes the `unsafe` reads sound.
//!
//! Field slots follow the flatbuffers rule: the vtable offset of field `id` is `4 + 2 * id`.

use flatbuffers::{
    Follow, ForwardsUOffset, InvalidFlatbuffer, Table, VOffsetT, Vector, Verifiable, Verifier,
};

/// The vtable byte offset of the field with schema id `id`.
const fn slot(id: u16) -> VOffsetT {
    4 + 2 * id
}

/// Declares a table wrapper type and its `Follow` implementation.
macro_rules! table_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name<'a> {
            tab: Table<'a>,
        }

        impl<'a> Follow<'a> for $name<'a> {
            type Inner = $name<'a>;

            #[inline]
            unsafe fn follow(buf: &'a [u8], loc: usize) -> Self::Inner {
                // SAFETY: the caller guarantees a (verified) table of this type at `loc`.
                $name { tab: unsafe { Table::new(buf, loc) } }
            }
        }

        impl<'a> $name<'a> {
            /// Reads the field at `slot`, or `default` when absent.
            #[inline]
            fn field<T: Follow<'a> + 'a>(
                &self,
                slot: VOffsetT,
                default: Option<T::Inner>,
            ) -> Option<T::Inner> {
                // SAFETY: tables are only reached through verified buffers, and every call site
                // passes the same `T` that this table's `Verifiable` impl checked at `slot`.
                unsafe { self.tab.get::<T>(slot, default) }
            }

            /// True when the field at `slot` is present in this table's vtable.
            #[inline]
            #[allow(dead_code)]
            fn has(&self, slot: VOffsetT) -> bool {
                self.tab.vtable().get(slot) != 0
            }
        }
    };
}

/// Vector of tables.
pub type TableVector<'a, T> = Vector<'a, ForwardsUOffset<T>>;

// ---------------------------------------------------------------------------------------------
// Model

table_type! {
    /// The root table of a `.tflite` file.
    Model
}

impl Model<'_> {
    const VERSION: VOffsetT = slot(0);
    const OPERATOR_CODES: VOffsetT = slot(1);
    const SUBGRAPHS: VOffsetT = slot(2);
    const BUFFERS: VOffsetT = slot(4);
}

impl<'a> Model<'a> {
    /// Schema version (3 for all current files).
    pub fn version(&self) -> u32 {
        self.field::<u32>(Self::VERSION, Some(0)).unwrap_or(0)
    }

    /// The operator codes that `Operator::opcode_index` refers to.
    pub fn operator_codes(&self) -> Option<TableVector<'a, OperatorCode<'a>>> {
        self.field::<ForwardsUOffset<TableVector<'a, OperatorCode<'a>>>>(Self::OPERATOR_CODES, None)
    }

    /// The subgraphs; the first one is the main model.
    pub fn subgraphs(&self) -> Option<TableVector<'a, SubGraph<'a>>> {
        self.field::<ForwardsUOffset<TableVector<'a, SubGraph<'a>>>>(Self::SUBGRAPHS, None)
    }

    /// The constant-data buffers that `Tensor::buffer` refers to (buffer 0 is empty).
    pub fn buffers(&self) -> Option<TableVector<'a, Buffer<'a>>> {
        self.field::<ForwardsUOffset<TableVector<'a, Buffer<'a>>>>(Self::BUFFERS, None)
    }
}

impl Verifiable for Model<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<u32>("version", Self::VERSION, false)?
            .visit_field::<ForwardsUOffset<TableVector<OperatorCode>>>(
                "operator_codes",
                Self::OPERATOR_CODES,
                false,
            )?
            .visit_field::<ForwardsUOffset<TableVector<SubGraph>>>(
                "subgraphs",
                Self::SUBGRAPHS,
                false,
            )?
            .visit_field::<ForwardsUOffset<TableVector<Buffer>>>("buffers", Self::BUFFERS, false)?
            .finish();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// OperatorCode

table_type! {
    /// One entry of the model's operator-code table.
    OperatorCode
}

impl OperatorCode<'_> {
    const DEPRECATED_BUILTIN_CODE: VOffsetT = slot(0);
    const CUSTOM_CODE: VOffsetT = slot(1);
    const VERSION: VOffsetT = slot(2);
    const BUILTIN_CODE: VOffsetT = slot(3);
}

impl<'a> OperatorCode<'a> {
    /// The pre-schema-3a builtin code (int8; 127 = "see `builtin_code`").
    pub fn deprecated_builtin_code(&self) -> i8 {
        self.field::<i8>(Self::DEPRECATED_BUILTIN_CODE, Some(0))
            .unwrap_or(0)
    }

    /// The name of a custom operator (for `CUSTOM`).
    pub fn custom_code(&self) -> Option<&'a str> {
        self.field::<ForwardsUOffset<&'a str>>(Self::CUSTOM_CODE, None)
    }

    /// The operator version.
    pub fn version(&self) -> i32 {
        self.field::<i32>(Self::VERSION, Some(1)).unwrap_or(1)
    }

    /// The builtin code (int32).
    pub fn builtin_code(&self) -> i32 {
        self.field::<i32>(Self::BUILTIN_CODE, Some(0)).unwrap_or(0)
    }

    /// The effective builtin code: `max(builtin_code, deprecated_builtin_code)`.
    pub fn code(&self) -> i32 {
        self.builtin_code()
            .max(i32::from(self.deprecated_builtin_code()))
    }
}

impl Verifiable for OperatorCode<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<i8>(
                "deprecated_builtin_code",
                Self::DEPRECATED_BUILTIN_CODE,
                false,
            )?
            .visit_field::<ForwardsUOffset<&str>>("custom_code", Self::CUSTOM_CODE, false)?
            .visit_field::<i32>("version", Self::VERSION, false)?
            .visit_field::<i32>("builtin_code", Self::BUILTIN_CODE, false)?
            .finish();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// SubGraph

table_type! {
    /// A subgraph: tensors, operators in execution order, inputs and outputs.
    SubGraph
}

impl SubGraph<'_> {
    const TENSORS: VOffsetT = slot(0);
    const INPUTS: VOffsetT = slot(1);
    const OUTPUTS: VOffsetT = slot(2);
    const OPERATORS: VOffsetT = slot(3);
    const NAME: VOffsetT = slot(4);
}

impl<'a> SubGraph<'a> {
    /// All tensors of the subgraph.
    pub fn tensors(&self) -> Option<TableVector<'a, Tensor<'a>>> {
        self.field::<ForwardsUOffset<TableVector<'a, Tensor<'a>>>>(Self::TENSORS, None)
    }

    /// Indices of the subgraph's input tensors.
    pub fn inputs(&self) -> Option<Vector<'a, i32>> {
        self.field::<ForwardsUOffset<Vector<'a, i32>>>(Self::INPUTS, None)
    }

    /// Indices of the subgraph's output tensors.
    pub fn outputs(&self) -> Option<Vector<'a, i32>> {
        self.field::<ForwardsUOffset<Vector<'a, i32>>>(Self::OUTPUTS, None)
    }

    /// Operators in execution order.
    pub fn operators(&self) -> Option<TableVector<'a, Operator<'a>>> {
        self.field::<ForwardsUOffset<TableVector<'a, Operator<'a>>>>(Self::OPERATORS, None)
    }

    /// The subgraph's name.
    pub fn name(&self) -> Option<&'a str> {
        self.field::<ForwardsUOffset<&'a str>>(Self::NAME, None)
    }
}

impl Verifiable for SubGraph<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<TableVector<Tensor>>>("tensors", Self::TENSORS, false)?
            .visit_field::<ForwardsUOffset<Vector<i32>>>("inputs", Self::INPUTS, false)?
            .visit_field::<ForwardsUOffset<Vector<i32>>>("outputs", Self::OUTPUTS, false)?
            .visit_field::<ForwardsUOffset<TableVector<Operator>>>(
                "operators",
                Self::OPERATORS,
                false,
            )?
            .visit_field::<ForwardsUOffset<&str>>("name", Self::NAME, false)?
            .finish();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Tensor

table_type! {
    /// A tensor description: shape, type, buffer index, name, quantization.
    Tensor
}

impl Tensor<'_> {
    const SHAPE: VOffsetT = slot(0);
    const TYPE: VOffsetT = slot(1);
    const BUFFER: VOffsetT = slot(2);
    const NAME: VOffsetT = slot(3);
    const QUANTIZATION: VOffsetT = slot(4);
    const IS_VARIABLE: VOffsetT = slot(5);
    const SPARSITY: VOffsetT = slot(6);
    const EXTERNAL_BUFFER: VOffsetT = slot(10);
}

impl<'a> Tensor<'a> {
    /// Dimensions (absent = scalar).
    pub fn shape(&self) -> Option<Vector<'a, i32>> {
        self.field::<ForwardsUOffset<Vector<'a, i32>>>(Self::SHAPE, None)
    }

    /// The `TensorType` enum value (0 = FLOAT32).
    pub fn tensor_type(&self) -> i8 {
        self.field::<i8>(Self::TYPE, Some(0)).unwrap_or(0)
    }

    /// Index into `Model::buffers` (0 = no data).
    pub fn buffer(&self) -> u32 {
        self.field::<u32>(Self::BUFFER, Some(0)).unwrap_or(0)
    }

    /// The tensor's name.
    pub fn name(&self) -> Option<&'a str> {
        self.field::<ForwardsUOffset<&'a str>>(Self::NAME, None)
    }

    /// Quantization parameters.
    pub fn quantization(&self) -> Option<QuantizationParameters<'a>> {
        self.field::<ForwardsUOffset<QuantizationParameters<'a>>>(Self::QUANTIZATION, None)
    }

    /// True for variable (stateful) tensors.
    pub fn is_variable(&self) -> bool {
        self.field::<bool>(Self::IS_VARIABLE, Some(false))
            .unwrap_or(false)
    }

    /// True when the tensor carries sparsity parameters (its data is not dense).
    pub fn has_sparsity(&self) -> bool {
        self.has(Self::SPARSITY)
    }

    /// Index into the model's external buffers (0 = none).
    pub fn external_buffer(&self) -> u32 {
        self.field::<u32>(Self::EXTERNAL_BUFFER, Some(0))
            .unwrap_or(0)
    }
}

impl Verifiable for Tensor<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        // `sparsity` is only tested for presence (a vtable read), so it is not visited.
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<Vector<i32>>>("shape", Self::SHAPE, false)?
            .visit_field::<i8>("type", Self::TYPE, false)?
            .visit_field::<u32>("buffer", Self::BUFFER, false)?
            .visit_field::<ForwardsUOffset<&str>>("name", Self::NAME, false)?
            .visit_field::<ForwardsUOffset<QuantizationParameters>>(
                "quantization",
                Self::QUANTIZATION,
                false,
            )?
            .visit_field::<bool>("is_variable", Self::IS_VARIABLE, false)?
            .visit_field::<u32>("external_buffer", Self::EXTERNAL_BUFFER, false)?
            .finish();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// QuantizationParameters

table_type! {
    /// Affine quantization parameters of a tensor.
    QuantizationParameters
}

impl QuantizationParameters<'_> {
    const SCALE: VOffsetT = slot(2);
    const ZERO_POINT: VOffsetT = slot(3);
    const QUANTIZED_DIMENSION: VOffsetT = slot(6);
}

impl<'a> QuantizationParameters<'a> {
    /// Scales (one, or one per channel).
    pub fn scale(&self) -> Option<Vector<'a, f32>> {
        self.field::<ForwardsUOffset<Vector<'a, f32>>>(Self::SCALE, None)
    }

    /// Zero points, same length as `scale`.
    pub fn zero_point(&self) -> Option<Vector<'a, i64>> {
        self.field::<ForwardsUOffset<Vector<'a, i64>>>(Self::ZERO_POINT, None)
    }

    /// The per-channel axis.
    pub fn quantized_dimension(&self) -> i32 {
        self.field::<i32>(Self::QUANTIZED_DIMENSION, Some(0))
            .unwrap_or(0)
    }
}

impl Verifiable for QuantizationParameters<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<Vector<f32>>>("scale", Self::SCALE, false)?
            .visit_field::<ForwardsUOffset<Vector<i64>>>("zero_point", Self::ZERO_POINT, false)?
            .visit_field::<i32>("quantized_dimension", Self::QUANTIZED_DIMENSION, false)?
            .finish();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Buffer

table_type! {
    /// Raw constant data of tensors.
    Buffer
}

impl Buffer<'_> {
    const DATA: VOffsetT = slot(0);
    const OFFSET: VOffsetT = slot(1);
    const SIZE: VOffsetT = slot(2);
}

impl<'a> Buffer<'a> {
    /// The bytes stored inside the flatbuffer.
    pub fn data(&self) -> Option<&'a [u8]> {
        self.field::<ForwardsUOffset<Vector<'a, u8>>>(Self::DATA, None)
            .map(|v| v.bytes())
    }

    /// For data stored after the flatbuffer (models > 2 GB): offset from the file start.
    pub fn offset(&self) -> u64 {
        self.field::<u64>(Self::OFFSET, Some(0)).unwrap_or(0)
    }

    /// For data stored after the flatbuffer: its size in bytes.
    pub fn size(&self) -> u64 {
        self.field::<u64>(Self::SIZE, Some(0)).unwrap_or(0)
    }
}

impl Verifiable for Buffer<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<ForwardsUOffset<Vector<u8>>>("data", Self::DATA, false)?
            .visit_field::<u64>("offset", Self::OFFSET, false)?
            .visit_field::<u64>("size", Self::SIZE, false)?
            .finish();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Operator

table_type! {
    /// One operator: opcode index, input and output tensor indices, builtin options.
    Operator
}

impl Operator<'_> {
    const OPCODE_INDEX: VOffsetT = slot(0);
    const INPUTS: VOffsetT = slot(1);
    const OUTPUTS: VOffsetT = slot(2);
    const BUILTIN_OPTIONS_TYPE: VOffsetT = slot(3);
    const BUILTIN_OPTIONS: VOffsetT = slot(4);
    const CUSTOM_OPTIONS: VOffsetT = slot(5);
}

impl<'a> Operator<'a> {
    /// Index into `Model::operator_codes`.
    pub fn opcode_index(&self) -> u32 {
        self.field::<u32>(Self::OPCODE_INDEX, Some(0)).unwrap_or(0)
    }

    /// Input tensor indices (-1 = omitted optional input).
    pub fn inputs(&self) -> Option<Vector<'a, i32>> {
        self.field::<ForwardsUOffset<Vector<'a, i32>>>(Self::INPUTS, None)
    }

    /// Output tensor indices.
    pub fn outputs(&self) -> Option<Vector<'a, i32>> {
        self.field::<ForwardsUOffset<Vector<'a, i32>>>(Self::OUTPUTS, None)
    }

    /// The `BuiltinOptions` union discriminant (0 = none).
    pub fn builtin_options_type(&self) -> u8 {
        self.field::<u8>(Self::BUILTIN_OPTIONS_TYPE, Some(0))
            .unwrap_or(0)
    }

    /// The builtin options as table type `T`, when the union holds a `T`.
    pub fn builtin_options<T: OptionsTable<'a>>(&self) -> Option<T> {
        if self.builtin_options_type() != T::UNION_TYPE {
            return None;
        }
        // The verifier checked the union value as a `T` because the discriminant says so.
        self.field::<ForwardsUOffset<T>>(Self::BUILTIN_OPTIONS, None)
    }

    /// A custom operator's options (FlexBuffers bytes), when present.
    pub fn custom_options(&self) -> Option<&'a [u8]> {
        self.field::<ForwardsUOffset<Vector<'a, u8>>>(Self::CUSTOM_OPTIONS, None)
            .map(|v| v.bytes())
    }
}

impl Verifiable for Operator<'_> {
    fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
        v.visit_table(pos)?
            .visit_field::<u32>("opcode_index", Self::OPCODE_INDEX, false)?
            .visit_field::<ForwardsUOffset<Vector<i32>>>("inputs", Self::INPUTS, false)?
            .visit_field::<ForwardsUOffset<Vector<i32>>>("outputs", Self::OUTPUTS, false)?
            .visit_union::<u8, _>(
                "builtin_options_type",
                Self::BUILTIN_OPTIONS_TYPE,
                "builtin_options",
                Self::BUILTIN_OPTIONS,
                false,
                verify_builtin_options,
            )?
            .visit_field::<ForwardsUOffset<Vector<u8>>>(
                "custom_options",
                Self::CUSTOM_OPTIONS,
                false,
            )?
            .finish();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Builtin options

/// A table that can appear in the `BuiltinOptions` union.
pub trait OptionsTable<'a>: Follow<'a, Inner = Self> + Verifiable + Sized + 'a {
    /// The union discriminant of this table type.
    const UNION_TYPE: u8;
    /// The schema name of this table type (for error messages).
    const NAME: &'static str;
}

/// Declares all builtin options tables kiln reads — each with its union discriminant and scalar
/// fields `accessor: type = schema field id, default value;` — and the union verifier
/// `verify_builtin_options`, so that every table that can be read is also verified.
macro_rules! builtin_options_tables {
    ($(
        $(#[$meta:meta])* $name:ident = $union_type:literal {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty = $id:literal, default $default:expr; )*
        }
    )*) => {
        $(
            table_type! { $(#[$meta])* $name }

            impl<'a> OptionsTable<'a> for $name<'a> {
                const UNION_TYPE: u8 = $union_type;
                const NAME: &'static str = stringify!($name);
            }

            impl $name<'_> {
                $(
                    $(#[$fmeta])*
                    pub fn $field(&self) -> $fty {
                        self.field::<$fty>(slot($id), Some($default)).unwrap_or($default)
                    }
                )*
            }

            impl Verifiable for $name<'_> {
                fn run_verifier(v: &mut Verifier, pos: usize) -> Result<(), InvalidFlatbuffer> {
                    v.visit_table(pos)?
                        $( .visit_field::<$fty>(stringify!($field), slot($id), false)? )*
                        .finish();
                    Ok(())
                }
            }
        )*

        /// Verifies a `BuiltinOptions` union value of the variants declared here; other
        /// variants are never read, so they are left unverified (as generated code does for
        /// unknown variants).
        fn verify_builtin_options(
            union_type: u8,
            v: &mut Verifier,
            pos: usize,
        ) -> Result<(), InvalidFlatbuffer> {
            match union_type {
                $(
                    $union_type => {
                        v.verify_union_variant::<ForwardsUOffset<$name>>(stringify!($name), pos)
                    }
                )*
                _ => Ok(()),
            }
        }
    };
}

builtin_options_tables! {
    /// Options of CONV_2D.
    Conv2DOptions = 1 {
        /// Padding (0 = SAME, 1 = VALID).
        padding: i8 = 0, default 0;
        /// Stride along width.
        stride_w: i32 = 1, default 0;
        /// Stride along height.
        stride_h: i32 = 2, default 0;
        /// Fused activation function.
        fused_activation_function: i8 = 3, default 0;
        /// Dilation along width.
        dilation_w_factor: i32 = 4, default 1;
        /// Dilation along height.
        dilation_h_factor: i32 = 5, default 1;
    }

    /// Options of DEPTHWISE_CONV_2D.
    DepthwiseConv2DOptions = 2 {
        /// Padding (0 = SAME, 1 = VALID).
        padding: i8 = 0, default 0;
        /// Stride along width.
        stride_w: i32 = 1, default 0;
        /// Stride along height.
        stride_h: i32 = 2, default 0;
        /// Output channels per input channel.
        depth_multiplier: i32 = 3, default 0;
        /// Fused activation function.
        fused_activation_function: i8 = 4, default 0;
        /// Dilation along width.
        dilation_w_factor: i32 = 5, default 1;
        /// Dilation along height.
        dilation_h_factor: i32 = 6, default 1;
    }

    /// Options of AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D.
    Pool2DOptions = 5 {
        /// Padding (0 = SAME, 1 = VALID).
        padding: i8 = 0, default 0;
        /// Stride along width.
        stride_w: i32 = 1, default 0;
        /// Stride along height.
        stride_h: i32 = 2, default 0;
        /// Window width.
        filter_width: i32 = 3, default 0;
        /// Window height.
        filter_height: i32 = 4, default 0;
        /// Fused activation function.
        fused_activation_function: i8 = 5, default 0;
    }

    /// Options of FULLY_CONNECTED.
    FullyConnectedOptions = 8 {
        /// Fused activation function.
        fused_activation_function: i8 = 0, default 0;
        /// Weights format (0 = DEFAULT).
        weights_format: i8 = 1, default 0;
        /// Keep the input's leading dimensions.
        keep_num_dims: bool = 2, default false;
    }

    /// Options of SOFTMAX.
    SoftmaxOptions = 9 {
        /// Input multiplier.
        beta: f32 = 0, default 0.0;
    }

    /// Options of ADD.
    AddOptions = 11 {
        /// Fused activation function.
        fused_activation_function: i8 = 0, default 0;
    }

    /// Options of CONCATENATION.
    ConcatenationOptions = 10 {
        /// The axis (negative counts from the end).
        axis: i32 = 0, default 0;
        /// Fused activation function.
        fused_activation_function: i8 = 1, default 0;
    }

    /// Options of MUL.
    MulOptions = 21 {
        /// Fused activation function.
        fused_activation_function: i8 = 0, default 0;
    }

    /// Options of L2_NORMALIZATION.
    L2NormOptions = 12 {
        /// Fused activation function.
        fused_activation_function: i8 = 0, default 0;
    }

    /// Options of DIV.
    DivOptions = 29 {
        /// Fused activation function.
        fused_activation_function: i8 = 0, default 0;
    }

    /// Options of MEAN (and the other reductions).
    ReducerOptions = 27 {
        /// Keep reduced axes as size-1 dimensions.
        keep_dims: bool = 0, default false;
    }

    /// Options of SUB.
    SubOptions = 28 {
        /// Fused activation function.
        fused_activation_function: i8 = 0, default 0;
        /// int16 only: power-of-two scales.
        pot_scale_int16: bool = 1, default true;
    }

    /// Options of STRIDED_SLICE.
    StridedSliceOptions = 32 {
        /// Axes whose begin index is ignored.
        begin_mask: i32 = 0, default 0;
        /// Axes whose end index is ignored.
        end_mask: i32 = 1, default 0;
        /// Axes replaced by all remaining ones.
        ellipsis_mask: i32 = 2, default 0;
        /// Axes inserted with size 1.
        new_axis_mask: i32 = 3, default 0;
        /// Axes sliced to one element and dropped.
        shrink_axis_mask: i32 = 4, default 0;
        /// End indices are offsets from the begin indices.
        offset: bool = 5, default false;
    }

    /// Options of UNPACK.
    UnpackOptions = 64 {
        /// Number of outputs.
        num: i32 = 0, default 0;
        /// The axis unpacked (negative counts from the end of the input).
        axis: i32 = 1, default 0;
    }

    /// Options of PACK.
    PackOptions = 59 {
        /// Number of inputs.
        values_count: i32 = 0, default 0;
        /// The new axis (negative counts from the end of the output).
        axis: i32 = 1, default 0;
    }

    /// Options of LEAKY_RELU.
    LeakyReluOptions = 75 {
        /// Slope for negative inputs.
        alpha: f32 = 0, default 0.0;
    }

    /// Options of SVDF.
    SvdfOptions = 6 {
        /// Filters per output unit.
        rank: i32 = 0, default 0;
        /// Fused activation function (float SVDF only).
        fused_activation_function: i8 = 1, default 0;
        /// Hybrid models only.
        asymmetric_quantize_inputs: bool = 2, default false;
    }

    /// Options of UNIDIRECTIONAL_SEQUENCE_LSTM.
    UnidirectionalSequenceLstmOptions = 71 {
        /// The cell gate's activation (fused activation code; 4 = TANH).
        fused_activation_function: i8 = 0, default 0;
        /// Cell state clip (0: none).
        cell_clip: f32 = 1, default 0.0;
        /// Projection clip (0: none).
        proj_clip: f32 = 2, default 0.0;
        /// Input and output are time-major.
        time_major: bool = 3, default false;
        /// Hybrid models only: quantize inputs asymmetrically.
        asymmetric_quantize_inputs: bool = 4, default false;
        /// Recurrent weights are diagonal (vectors).
        diagonal_recurrent_tensors: bool = 5, default false;
    }

    /// Options of GATHER.
    GatherOptions = 23 {
        /// The gathered axis of the params (negative counts from the end).
        axis: i32 = 0, default 0;
        /// Leading dimensions shared by params and indices.
        batch_dims: i32 = 1, default 0;
    }

    /// Options of RESIZE_BILINEAR (fields 0 and 1, new_height and new_width, are deprecated).
    ResizeBilinearOptions = 15 {
        /// Corner pixels of input and output are aligned.
        align_corners: bool = 2, default false;
        /// Pixel centres at half-integer coordinates.
        half_pixel_centers: bool = 3, default false;
    }

    /// Options of RESIZE_NEAREST_NEIGHBOR.
    ResizeNearestNeighborOptions = 74 {
        /// Corner pixels of input and output are aligned.
        align_corners: bool = 0, default false;
        /// Pixel centres at half-integer coordinates.
        half_pixel_centers: bool = 1, default false;
    }

    /// Options of SPACE_TO_DEPTH.
    SpaceToDepthOptions = 19 {
        /// Side of the square blocks moved into channels.
        block_size: i32 = 0, default 0;
    }

    /// Options of DEPTH_TO_SPACE.
    DepthToSpaceOptions = 94 {
        /// Side of the square blocks moved out of channels.
        block_size: i32 = 0, default 0;
    }

    /// Options of MIRROR_PAD.
    MirrorPadOptions = 77 {
        /// 0 = REFLECT (the edge is not repeated), 1 = SYMMETRIC (it is).
        mode: i8 = 0, default 0;
    }

    /// Options of TRANSPOSE_CONV.
    TransposeConvOptions = 49 {
        /// Padding (0 = SAME, 1 = VALID).
        padding: i8 = 0, default 0;
        /// Stride along width.
        stride_w: i32 = 1, default 0;
        /// Stride along height.
        stride_h: i32 = 2, default 0;
        /// Fused activation function.
        fused_activation_function: i8 = 3, default 0;
    }

    /// Options of BATCH_MATMUL.
    BatchMatMulOptions = 101 {
        /// Transpose the left-hand side's last two dimensions.
        adj_x: bool = 0, default false;
        /// Transpose the right-hand side's last two dimensions.
        adj_y: bool = 1, default false;
        /// Hybrid models only.
        asymmetric_quantize_inputs: bool = 2, default false;
    }

    /// Options of CUMSUM.
    CumsumOptions = 102 {
        /// Each output leaves out its own element.
        exclusive: bool = 0, default false;
        /// Sums run from the end of the axis.
        reverse: bool = 1, default false;
    }
}
