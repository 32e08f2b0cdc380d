//! One function per layer: its constants, its weights as statics, and its call in `predict`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{doc, lit, output_ident, pool_field, read_expr, region_ident, Statics};
use crate::compiled::Compiled;
use crate::ir::shape_str;
use crate::ir::{Comparison, DType, UnaryMath};
use crate::layer::{FloatActivation, FloatArith, FloatWeights, Kernel, Layer, Weights};
use crate::plan::Location;
use crate::runtime as rt;
use crate::tune::{DotProduct, Tuning};

/// A layer's function and the statement in `predict` that calls it.
pub(crate) struct EmittedLayer {
    pub function: TokenStream,
    pub call: TokenStream,
    /// The call with the observer's hooks around it, for `predict_observed`.
    pub observed_call: TokenStream,
}

/// A runtime parameter struct as a Rust expression (`rt::Conv { .. }`): its `Debug` form is
/// valid struct-literal syntax, so the constants come from the one definition in the runtime.
fn params_expr<T: std::fmt::Debug>(params: &T) -> TokenStream {
    let text = qualify_structs(&format!("{params:?}"));
    syn::parse_str::<syn::Expr>(&text)
        .map(|e| quote!(#e))
        .unwrap_or_else(|e| {
            let msg = format!("kiln bug: cannot print parameters {text}: {e}");
            quote!(compile_error!(#msg))
        })
}

/// A layer body that is one runtime call on its constants:
/// `const PARAMS: ty = ..; f(&PARAMS, input, output);`.
fn params_call<T: std::fmt::Debug>(params: &T, ty: TokenStream, f: TokenStream) -> TokenStream {
    let p = params_expr(params);
    quote! {
        const PARAMS: #ty = #p;
        #f(&PARAMS, input, output);
    }
}

/// Prefixes every struct name in a `Debug` rendering (`Conv { shape: ConvShape { .. } }`)
/// with `rt::`, where the generated code finds the runtime's types.
fn qualify_structs(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len() + 16);
    let mut word_start = true;
    for c in debug.chars() {
        if word_start && c.is_ascii_uppercase() {
            out.push_str("rt::");
        }
        word_start = !(c.is_ascii_alphanumeric() || c == '_' || c == '.');
        out.push(c);
    }
    out
}

/// Statics for a weighted layer; returns the arguments `filter, bias, multipliers, shifts`.
fn weight_args(prefix: &str, w: &Weights, statics: &mut Statics, what: &str) -> TokenStream {
    let filter = statics.bytes(
        &format!("{prefix}_FILTER"),
        &format!("{what}: int8 weights ({} bytes).", w.filter.len()),
        &w.filter,
    );
    let bias = match &w.bias {
        Some(b) => {
            let id = statics.ints(
                &format!("{prefix}_BIAS"),
                &format!("{what}: int32 bias per output channel."),
                "i32",
                b,
            );
            quote!(Some(&#id))
        }
        None => quote!(None),
    };
    let (mult, shift) = requantization_statics(prefix, w, statics, what);
    quote!(&#filter.0, #bias, &#mult, &#shift)
}

/// The fast kernels' parameters for a FULLY_CONNECTED layer run as a 1×1 convolution.
fn fc_as_conv(p: &rt::FullyConnected, w: &Weights) -> rt::ConvFast {
    rt::ConvFast {
        shape: crate::prepare::common::fc_conv_shape(p.batches, p.in_features, p.out_features),
        input_zero_point: -p.input_offset,
        output_offset: p.output_offset,
        per_channel: p.per_channel,
        act_min: p.act_min,
        act_max: p.act_max,
        fast_requant: w.fast_requant,
    }
}

/// Statics for a fast-kernel layer; returns the arguments `filter, folded_bias, multipliers,
/// shifts`.
fn fast_weight_args(prefix: &str, w: &Weights, statics: &mut Statics, what: &str) -> TokenStream {
    let filter = statics.bytes(
        &format!("{prefix}_FILTER"),
        &format!("{what}: int8 weights ({} bytes).", w.filter.len()),
        &w.filter,
    );
    let bias = statics.ints(
        &format!("{prefix}_BIAS"),
        &format!("{what}: bias + input offset × Σ weights, per output channel."),
        "i32",
        &w.folded_bias,
    );
    let (mult, shift) = requantization_statics(prefix, w, statics, what);
    quote!(&#filter.0, &#bias, &#mult, &#shift)
}

/// The multiplier and shift tables of a layer.
fn requantization_statics(
    prefix: &str,
    w: &Weights,
    statics: &mut Statics,
    what: &str,
) -> (proc_macro2::Ident, proc_macro2::Ident) {
    let mult = statics.ints(
        &format!("{prefix}_MULTIPLIER"),
        &format!("{what}: requantization multipliers (Q31)."),
        "i32",
        &w.multipliers,
    );
    let shift = statics.ints(
        &format!("{prefix}_SHIFT"),
        &format!("{what}: requantization shifts (positive = left)."),
        "i32",
        &w.shifts,
    );
    (mult, shift)
}

/// Filter, stride and cut-off of a TRANSPOSE_CONV, for its doc comment.
fn transpose_conv_details(s: &rt::TransposeConvShape) -> String {
    format!(
        "{}×{} filter scattered at stride {}×{}, {} top / {} left output rows cut off.",
        s.k_h, s.k_w, s.stride_h, s.stride_w, s.pad_top, s.pad_left
    )
}

/// The matrix sizes of a BATCH_MATMUL, for its doc comment.
fn matmul_details(s: &rt::BatchMatmul) -> String {
    format!(
        "{} products of [{}×{}] by [{}×{}]{}{}.",
        s.batch.iter().product::<usize>(),
        s.rows,
        s.depth,
        s.depth,
        s.cols,
        if s.lhs_transposed {
            ", left-hand side stored transposed"
        } else {
            ""
        },
        if s.rhs_transposed {
            ", right-hand side stored transposed"
        } else {
            ""
        },
    )
}

/// Filter, stride, dilation and padding of a convolution, for its doc comment.
fn conv_details(s: &rt::ConvShape) -> String {
    format!(
        "{}×{} filter, stride {}×{}, dilation {}×{}, padding {} top / {} left",
        s.k_h, s.k_w, s.stride_h, s.stride_w, s.dilation_h, s.dilation_w, s.pad_top, s.pad_left
    )
}

/// A sentence on a layer's window, strides and clamp, for its doc comment.
fn details(kernel: &Kernel) -> Option<String> {
    let clamp = |min: i32, max: i32| {
        if (min, max) == (-128, 127) {
            String::new()
        } else {
            format!(", output clamped to {min}..={max}")
        }
    };
    Some(match kernel {
        Kernel::Conv2d(p, _) | Kernel::DepthwiseConv2d(p, _) => {
            format!("{}{}.", conv_details(&p.shape), clamp(p.act_min, p.act_max))
        }
        Kernel::AveragePool(p) | Kernel::MaxPool(p) | Kernel::PoolI16 { params: p, .. } => format!(
            "{}×{} window, stride {}×{}, padding {} top / {} left{}.",
            p.filter_h,
            p.filter_w,
            p.stride_h,
            p.stride_w,
            p.pad_top,
            p.pad_left,
            clamp(p.act_min, p.act_max)
        ),
        Kernel::FullyConnected(p, _) => format!(
            "{} rows of {} features → {} features, {} requantization{}.",
            p.batches,
            p.in_features,
            p.out_features,
            if p.per_channel {
                "per-channel"
            } else {
                "per-tensor"
            },
            clamp(p.act_min, p.act_max)
        ),
        Kernel::Add(p) => format!("Rescaled sum{}.", clamp(p.act_min, p.act_max)),
        Kernel::AddTabled(p, _) => format!(
            "Rescaled sum, each input's rescaled term from a table{}.",
            clamp(p.act_min, p.act_max)
        ),
        Kernel::Conv2dF32(p, _) | Kernel::DepthwiseConv2dF32(p, _) => {
            format!("{}.", conv_details(&p.shape))
        }
        Kernel::AddBroadcast(p, _) => {
            format!("Rescaled sum, broadcast{}.", clamp(p.act_min, p.act_max))
        }
        Kernel::Sub(p, bc) => format!(
            "Rescaled difference{}{}.",
            if bc.is_some() { ", broadcast" } else { "" },
            clamp(p.act_min, p.act_max)
        ),
        Kernel::SquaredDifference(_, bc) | Kernel::SquaredDifferenceI16(_, bc) => format!(
            "Rescaled squared difference{}.",
            if bc.is_some() { ", broadcast" } else { "" }
        ),
        Kernel::Mul(p, bc) => format!(
            "Rescaled product{}{}.",
            if bc.is_some() { ", broadcast" } else { "" },
            clamp(p.act_min, p.act_max)
        ),
        Kernel::Lookup(_) => {
            "A 256-entry table: TFLM's int8 reference function evaluated at every input."
                .to_string()
        }
        Kernel::Mean(p) | Kernel::MeanI16(p) => format!(
            "Mean of {} elements per output, requantized (TFLM's QuantizedMeanOrSum).",
            p.count
        ),
        // The layer line says it all.
        Kernel::Softmax(_)
        | Kernel::QuantizeF32(_)
        | Kernel::Requantize(_)
        | Kernel::Dequantize(_)
        | Kernel::Reshape
        | Kernel::FullyConnectedF32(..)
        | Kernel::PoolF32 { .. }
        | Kernel::ArithF32 { .. }
        | Kernel::SquaredDifferenceF32(_)
        | Kernel::ActivationF32(_)
        | Kernel::LeakyReluF32(_)
        | Kernel::SoftmaxF32(_)
        | Kernel::Pad(_)
        | Kernel::Concatenation(_)
        | Kernel::Gather(_)
        | Kernel::AbsF32
        | Kernel::NegF32
        | Kernel::QuantizeF32I16(_)
        | Kernel::LeakyReluI16(_)
        | Kernel::ReluI16(_)
        | Kernel::AbsI16(_)
        | Kernel::Relu6I16(_)
        | Kernel::SoftmaxI16 { .. }
        | Kernel::RequantizeToI16(_)
        | Kernel::RequantizeI16ToI8(_)
        | Kernel::RequantizeU8ToI8(_)
        | Kernel::RequantizeI8ToU8(_)
        | Kernel::DequantizeU8(_)
        | Kernel::DequantizeI16(_)
        | Kernel::GatherRows(_)
        | Kernel::Fill
        | Kernel::Zeros
        | Kernel::PreluF32(_)
        | Kernel::DivF32(..)
        | Kernel::L2NormalizationF32(_)
        | Kernel::LogSoftmax(_)
        | Kernel::LogSoftmaxF32(_)
        | Kernel::Select(_)
        | Kernel::Logical { .. }
        | Kernel::LogicalNot => return None,
        Kernel::ConvQLinear(p, w) => format!(
            "onnxruntime's arithmetic: int32 accumulators times a float32 scale{}, rounded half \
             to even; {}.",
            if w.scales.len() == 1 { "" } else { " per channel" },
            conv_details(&p.shape)
        ),
        Kernel::QuantizeLinear(_) => "onnxruntime's QuantizeLinear: rounded half to even.".into(),
        Kernel::DynamicQuantizeConv(p, _) => format!(
            "onnxruntime's ConvInteger after DynamicQuantizeLinear: the input quantized to uint8 \
             by its range at run time, int32 sums times input scale · weight scale plus bias in \
             float32; {}.",
            conv_details(&p.shape)
        ),
        Kernel::DynamicQuantizeMatMul(p, w) => format!(
            "onnxruntime's DynamicQuantizeMatMul: the input quantized to uint8 by its range at run \
             time, int32 sums times input scale · weight scale{}{} in float32; {} rows of {} \
             features → {}.",
            if w.scales.len() == 1 { "" } else { " per column" },
            if w.bias.is_empty() { "" } else { ", plus bias" },
            p.rows,
            p.depth,
            p.cols
        ),
        Kernel::AddQLinear(_) => {
            "onnxruntime's QLinearAdd: float32 fused multiply-adds, rounded half to even.".into()
        }
        Kernel::AddQLinearBroadcast(..) => {
            "onnxruntime's QLinearAdd, broadcast: float32 multiply-adds, rounded half to even."
                .into()
        }
        Kernel::SoftmaxQLinear(p, _) => format!(
            "onnxruntime's QLinearSoftmax: a float32 table of exponentials, rows of {}.",
            p.depth
        ),
        Kernel::MulQLinear(_, bc) => format!(
            "onnxruntime's QLinearMul: the int32 product times a float32 scale, rounded half to \
             even{}.",
            if bc.is_some() { "; broadcast" } else { "" }
        ),
        Kernel::AvgPoolQLinear(p) => format!(
            "onnxruntime's {}; {}×{} window, stride {}×{}, padding {} top / {} left.",
            if p.global {
                "QLinearGlobalAveragePool: an int32 sum times a float32 scale"
            } else {
                "QLinearAveragePool: a float32 average"
            },
            p.filter_h,
            p.filter_w,
            p.stride_h,
            p.stride_w,
            p.pad_top,
            p.pad_left
        ),
        Kernel::ConvI16 { params, .. } => format!(
            "int16 activations, int8 weights, {}-bit accumulators; {}{}.",
            if params.wide { 64 } else { 32 },
            conv_details(&params.shape),
            clamp(params.act_min, params.act_max)
        ),
        Kernel::ActivationI16 { scale, .. } => format!(
            "TFLite's int16 table interpolation; input scaled by {} >> {}.",
            scale.multiplier, scale.shift
        ),
        Kernel::AddSubI16 {
            params,
            bc,
            subtract,
        } => format!(
            "Rescaled {}{}{}.",
            if *subtract { "difference" } else { "sum" },
            if bc.is_some() { ", broadcast" } else { "" },
            clamp(params.act_min, params.act_max)
        ),
        Kernel::MulI16(p, bc) => format!(
            "Rescaled product{}{}.",
            if bc.is_some() { ", broadcast" } else { "" },
            clamp(p.act_min, p.act_max)
        ),

        Kernel::TableGather { parts, .. } => format!(
            "Each output element copies the input element its position's table entries add up to{}.",
            if parts.len() > 1 {
                format!(", in {} parts", parts.len())
            } else {
                String::new()
            }
        ),
        Kernel::ResizeBilinear { params, .. } | Kernel::ResizeBilinearF32 { params, .. } => {
            format!(
                "{}×{} → {}×{} pixels, each mixing four input pixels.",
                params.in_h, params.in_w, params.out_h, params.out_w
            )
        }
        Kernel::Cumsum(p) => format!(
            "Running sums along an axis of {}{}{}.",
            p.depth,
            if p.exclusive { ", exclusive" } else { "" },
            if p.reverse { ", from its end" } else { "" }
        ),
        Kernel::Prelu(_, bc) => format!(
            "Non-negative inputs rescaled, negative ones times alpha and rescaled{}.",
            if bc.is_some() {
                ", alpha broadcast"
            } else {
                ""
            }
        ),
        Kernel::MapF32(f) => format!("`{}` of each element.", math_fn(*f)),
        Kernel::Div(p, bc) => format!(
            "Quotient by the divisor's fixed-point reciprocal, rescaled{}{}.",
            if bc.is_some() { ", broadcast" } else { "" },
            clamp(p.act_min, p.act_max)
        ),
        Kernel::Sum(p) => format!(
            "Sum of {} elements per output, requantized (TFLM's QuantizedMeanOrSum).",
            p.count
        ),
        Kernel::SumF32(p) => format!("Sum of {} elements per output.", p.reduced_count),
        Kernel::MeanF32(p) => format!("Mean of {} elements per output.", p.reduced_count),
        Kernel::L2Normalization { rows, .. } => format!(
            "{} rows of {} divided by their L2 norm (integer inverse square root), output in Q0.7.",
            rows.rows, rows.depth
        ),
        Kernel::Compare { op, params, .. } => format!(
            "`a {} b`{}.",
            comparison_operator(*op),
            if params.is_some() {
                " on the inputs rescaled to a common scale"
            } else {
                ""
            }
        ),
        Kernel::Reduce { params, maximum } => format!(
            "{} of {} elements per output.",
            if *maximum { "Maximum" } else { "Minimum" },
            params.reduced_count
        ),
        Kernel::LstmI8(p, _) => format!(
            "{} sequence(s) of {} steps × {} features through {} units ({}); int16 gates \
             and cell state; hidden and cell state kept in `State` across calls.",
            p.batches,
            p.time_steps,
            p.input_size,
            p.units,
            if p.time_major {
                "time-major"
            } else {
                "batch-major"
            }
        ),
        Kernel::LstmF32(p, _) => format!(
            "{} sequence(s) of {} steps × {} features through {} units ({}), float32; hidden \
             and cell state kept in `State` across calls.",
            p.batches,
            p.time_steps,
            p.input_size,
            p.units,
            if p.time_major {
                "time-major"
            } else {
                "batch-major"
            }
        ),
        Kernel::SvdfI8(p, _) => format!(
            "{} filters of rank {} remembering {} steps; the int16 state is kept in `State` \
             across calls.",
            p.filters, p.rank, p.memory
        ),
        Kernel::SvdfF32(p, _) => format!(
            "{} filters of rank {} remembering {} steps, float32; the state is kept in `State` \
             across calls.",
            p.filters, p.rank, p.memory
        ),
        Kernel::ArgMinMax { params, maximum } => format!(
            "Index of the {} of {} elements along the axis (the first on ties).",
            if *maximum { "largest" } else { "smallest" },
            params.axis_len
        ),
        Kernel::MaxMin { maximum, broadcast } => format!(
            "Element-wise {} of the raw values (no requantization){}.",
            if *maximum { "maximum" } else { "minimum" },
            if broadcast.is_some() {
                ", broadcast"
            } else {
                ""
            }
        ),
        Kernel::SliceRows { start } => format!(
            "The rows of this band: the input's elements from {start} on (patch-based execution)."
        ),
        Kernel::Cast { from, to } => format!("Each {from} converted to {to} as C's static_cast."),
        Kernel::IntArith { op, broadcast, .. } => format!(
            "Int32 {} without quantization{}.",
            match op {
                crate::layer::IntOp::Add => "sum (wrapping)",
                crate::layer::IntOp::Mul => "product (wrapping)",
                crate::layer::IntOp::Div => "quotient (truncating)",
            },
            if broadcast.is_some() { ", broadcast" } else { "" }
        ),
        Kernel::SignalRfft(p, t) => format!(
            "kissfft's 16-bit fixed-point real FFT: {} frame(s) of {} samples, zero-padded to              {} points; radices {:?}.",
            p.frames,
            p.input_length,
            2 * p.n,
            t.factors
        ),
        Kernel::SignalEnergy(p) => format!("Energies of bins {}..{} (0 elsewhere).", p.start, p.end),
        Kernel::SignalSpectralSubtraction(_) => {
            "Subtracts the running noise estimate, kept in `State` across calls.".to_string()
        }
        Kernel::SignalNoiseEstimate => {
            "The noise estimate the operator's first output left in `State`.".to_string()
        }
        Kernel::TransposeConv(p, _) => transpose_conv_details(&p.shape),
        Kernel::TransposeConvF32(p, _) => transpose_conv_details(&p.shape),
        Kernel::BatchMatmul(p) => matmul_details(&p.shape),
        Kernel::L2PoolF32(p) => format!(
            "sqrt of the mean square over {}×{} windows, stride {}×{}.",
            p.filter_h, p.filter_w, p.stride_h, p.stride_w
        ),
        Kernel::AddNF32 | Kernel::AddN(_) => return None,
        Kernel::EmbeddingDequantized(p) => {
            format!("Rows of {} values times {}.", p.row_len, p.scale)
        }
        Kernel::FloorDivMod { modulo, broadcast } => format!(
            "{}{}.",
            if *modulo { "floor(a / b) remainder" } else { "floor(a / b)" },
            if broadcast.is_some() { ", broadcast" } else { "" }
        ),
        Kernel::BatchMatmulF32(p) => matmul_details(p),
        Kernel::SignalWindow(_)
        | Kernel::SignalFftAutoScale { .. }
        | Kernel::SignalFilterBank
        | Kernel::SignalFilterBankSquareRoot
        | Kernel::SignalPcan(_)
        | Kernel::SignalFilterBankLog(_) => return None,
    })
}

/// `value` as a literal of element type `dtype` (a table gather's outside value, a zero).
fn scalar_lit(value: i32, dtype: DType) -> TokenStream {
    match dtype {
        DType::F32 => {
            let l = proc_macro2::Literal::f32_unsuffixed(value as f32);
            quote!(#l)
        }
        _ => {
            let l = proc_macro2::Literal::i32_unsuffixed(value);
            quote!(#l)
        }
    }
}

/// The body of a RESIZE_BILINEAR layer: its shape, rows and columns as constants
/// (`frac` of type `frac`), and the call to `kernel`.
fn resize_bilinear<W: std::fmt::Debug>(
    params: &rt::Resize,
    rows: &[rt::Lerp<W>],
    cols: &[rt::Lerp<W>],
    frac: TokenStream,
    kernel: TokenStream,
) -> TokenStream {
    let p = params_expr(params);
    let (r, nr) = (params_expr(&rows), lit(rows.len()));
    let (c, nc) = (params_expr(&cols), lit(cols.len()));
    quote! {
        const PARAMS: rt::Resize = #p;
        const ROWS: [rt::Lerp<#frac>; #nr] = #r;
        const COLS: [rt::Lerp<#frac>; #nc] = #c;
        #kernel(&PARAMS, &ROWS, &COLS, input, output);
    }
}

/// Statics for a float layer; returns the arguments `filter, bias` (f32 bytes).
fn float_weight_args(
    prefix: &str,
    w: &FloatWeights,
    statics: &mut Statics,
    what: &str,
) -> TokenStream {
    let filter = statics.bytes(
        &format!("{prefix}_FILTER"),
        &format!(
            "{what}: float32 weights, little-endian ({} bytes).",
            w.filter.len()
        ),
        &w.filter,
    );
    let bias = match &w.bias {
        Some(b) => {
            let id = statics.bytes(
                &format!("{prefix}_BIAS"),
                &format!("{what}: float32 bias per output channel, little-endian."),
                b,
            );
            quote!(Some(&#id.0))
        }
        None => quote!(None),
    };
    quote!(&#filter.0, #bias)
}

/// The broadcast constant of a binary op, if any, and the argument passing it.
fn broadcast_arg(bc: Option<&crate::runtime::Broadcast>) -> (TokenStream, TokenStream) {
    match bc {
        Some(bc) => {
            let bc = params_expr(bc);
            (
                quote!(const BROADCAST: rt::Broadcast = #bc;),
                quote!(Some(&BROADCAST)),
            )
        }
        None => (quote!(), quote!(None)),
    }
}

/// The statics of a convolution with onnxruntime's arithmetic ([`Kernel::ConvQLinear`]): its
/// filter bytes, one int32 per output channel (the bias, or the folded bias of the fast
/// kernels) and the float32 requantization scales.
struct QLinearStatics<'a> {
    /// Filter bytes, in the layout the kernel reads.
    filter: &'a [u8],
    /// What the filter bytes are, for its doc comment.
    filter_doc: &'a str,
    /// The per-channel int32 vector: name suffix, what it holds, values.
    bias: (&'a str, &'a str, &'a [i32]),
    /// Requantization scale per output channel.
    scales: &'a [f32],
}

impl QLinearStatics<'_> {
    /// Emits the three statics; returns their names (filter, int32 vector, scales).
    fn emit(
        &self,
        statics: &mut Statics,
        prefix: &str,
        what: &str,
    ) -> (proc_macro2::Ident, proc_macro2::Ident, proc_macro2::Ident) {
        let (suffix, bias_doc, bias) = self.bias;
        let filter = statics.bytes(
            &format!("{prefix}_FILTER"),
            &format!("{what}: {} ({} bytes).", self.filter_doc, self.filter.len()),
            self.filter,
        );
        let bias = statics.ints(
            &format!("{prefix}_{suffix}"),
            &format!("{what}: {bias_doc} per output channel."),
            "i32",
            bias,
        );
        let scales = statics.floats(
            &format!("{prefix}_SCALE"),
            &format!("{what}: float32 requantization scale per output channel."),
            self.scales,
        );
        (filter, bias, scales)
    }
}

/// Emits one layer, tuned by `tuning` (its dot-product flavour and what to unroll).
pub(crate) fn emit_layer(
    model: &Compiled,
    position: usize,
    statics: &mut Statics,
    tuning: &Tuning,
) -> EmittedLayer {
    let layer = &model.layers[position];
    let dot = format_ident!("{}", tuning.dot.runtime_type());
    let fma = format_ident!("{}", tuning.fused_mul_add());
    let graph = &model.graph;
    // Writes its output over its input (the planner chose it): both in one region, `data`.
    let in_place = model
        .plan
        .in_place
        .get(position)
        .copied()
        .flatten()
        .and_then(|slot| in_place_data(model, layer, slot));
    // What the tuning is told (the kernel choice and its scratch must agree).
    let planned_in_place = model
        .plan
        .in_place
        .get(position)
        .copied()
        .flatten()
        .is_some();
    let fn_name = match (layer.band, layer.part) {
        (None, None) => format_ident!("layer_{:02}_{}", layer.index, layer.op_name.to_lowercase()),
        (None, Some(part)) => format_ident!(
            "layer_{:02}_{}_output_{}",
            layer.index,
            layer.op_name.to_lowercase(),
            part
        ),
        (Some(band), _) => format_ident!(
            "layer_{:02}_{}_band_{}",
            layer.index,
            layer.op_name.to_lowercase(),
            band
        ),
    };
    let prefix = format!("L{:02}", layer.index);
    let what = format!("Layer {} ({})", layer.index, layer.op_name);
    let out_t = &graph.tensors[layer.output];
    let in_types: Vec<DType> = layer
        .inputs
        .iter()
        .map(|&t| graph.tensors[t].dtype)
        .collect();

    // Signature: activation inputs then the output.
    let in_names: Vec<proc_macro2::Ident> = if layer.inputs.len() == 1 {
        vec![format_ident!("input")]
    } else if let Kernel::SvdfI8(..) | Kernel::SvdfF32(..) = layer.kernel {
        vec![format_ident!("input"), format_ident!("state")]
    } else if let Kernel::LstmI8(..) | Kernel::LstmF32(..) = layer.kernel {
        vec![
            format_ident!("input"),
            format_ident!("hidden_state"),
            format_ident!("cell_state"),
        ]
    } else {
        (1..=layer.inputs.len())
            .map(|k| format_ident!("input{}", k))
            .collect()
    };
    // State (variable tensors) is updated in place: `&mut`.
    let in_params = in_names
        .iter()
        .zip(&in_types)
        .zip(&layer.inputs)
        .map(|((n, ty), &t)| {
            let ty = format_ident!("{}", ty.rust_name());
            if matches!(model.plan.locations[t], Location::State(_)) {
                quote!(#n: &mut [#ty])
            } else {
                quote!(#n: &[#ty])
            }
        });
    // The layer's own state arrays (`Layer::state`), after the inputs: `&mut` when it
    // updates them.
    let state_params: Vec<TokenStream> = layer
        .state
        .iter()
        .map(|s| {
            let (name, ty) = (
                format_ident!("{}", s.name),
                format_ident!("{}", s.dtype.rust_name()),
            );
            if s.writes {
                quote!(#name: &mut [#ty],)
            } else {
                quote!(#name: &[#ty],)
            }
        })
        .collect();
    let state_args: Vec<TokenStream> = layer
        .state
        .iter()
        .map(|s| {
            let field = format_ident!("layer_{:02}_{}", layer.index, s.name);
            if s.writes {
                quote!(&mut self.state.#field,)
            } else {
                quote!(&self.state.#field,)
            }
        })
        .collect();
    let out_ty = format_ident!("{}", out_t.dtype.rust_name());
    let uses_scratch = tuning.scratch_len(layer, planned_in_place) > 0;
    let scratch_ty = format_ident!("{}", tuning.scratch_type());
    let scratch_param = if uses_scratch {
        quote!(scratch: &mut [#scratch_ty],)
    } else {
        quote!()
    };
    let scratch_arg = if uses_scratch {
        quote!(&mut *self.scratch,)
    } else {
        quote!()
    };
    // An LSTM's int16 gate values live in their own scratch.
    let (scratch_param, scratch_arg) = if layer.lstm_gates_len() > 0 {
        (
            quote!(#scratch_param gates: &mut [i16],),
            quote!(#scratch_arg &mut *self.lstm_gates,),
        )
    } else {
        (scratch_param, scratch_arg)
    };

    let body = match &layer.kernel {
        Kernel::Conv2d(p, w) | Kernel::DepthwiseConv2d(p, w)
            if tuning.conv_patch_row(layer).is_some() =>
        {
            patch_conv(
                layer,
                p,
                w,
                tuning,
                statics,
                &prefix,
                &what,
                in_place.as_ref().map(|d| d.input_at),
            )
        }
        Kernel::Conv2d(p, w) => {
            let params = params_expr(p);
            let args = fast_weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::ConvFast = #params;
                rt::conv2d_fast::<rt::#dot>(&PARAMS, input, #args, output);
            }
        }
        Kernel::DepthwiseConv2d(p, w)
            if tuning.depthwise_rows6(layer, planned_in_place)
                || tuning.depthwise_rows_out(layer, planned_in_place) =>
        {
            // Both fused row kernels read the same table: rows of 3-6 pixels (whose ring may
            // run in chunks of channels) or wider rows of an even width.
            let (kernel, kernel_in_place, scratch_arg) =
                if tuning.depthwise_rows6(layer, planned_in_place) {
                    // Channels per chunk of the ring (all of them when it fits the scratch).
                    let chunk = lit(tuning.depthwise_rows_chunk(&p.shape));
                    (
                        quote!(depthwise_conv2d_rows6),
                        quote!(depthwise_conv2d_rows6_in_place),
                        quote!((scratch, #chunk)),
                    )
                } else {
                    (
                        quote!(depthwise_conv2d_rows_out),
                        quote!(depthwise_conv2d_rows_out_in_place),
                        quote!(scratch),
                    )
                };
            let params = params_expr(p);
            let table: Vec<u32> = rows6_table(w, p).collect();
            let table = statics.words(
                &format!("{prefix}_TABLE"),
                &format!(
                    "{what}: per channel, the int8 weights doubled as i16 pairs (w0, w1), \
                     (w1, w2) per filter row, then the folded bias doubled (bias + input \
                     offset × Σ weights), the requantization multiplier, offset constant and \
                     right shift."
                ),
                &table,
            );
            let in_len = lit(graph.tensors[layer.inputs[0]].elements());
            let out_len = lit(out_t.elements());
            let ring_w = lit(rt::depthwise_rows_width(p.shape.out_w, p.shape.stride_w));
            if let Some(d) = &in_place {
                let input_at = lit(d.input_at);
                quote! {
                    const PARAMS: rt::ConvFast = #params;
                    // The output from byte 0 of `data`, the input from byte INPUT_AT.
                    const INPUT_AT: usize = #input_at;
                    rt::#kernel_in_place::<#in_len, #out_len, #ring_w>(&PARAMS, data, INPUT_AT, &#table, scratch);
                }
            } else {
                quote! {
                    const PARAMS: rt::ConvFast = #params;
                    // Fixed lengths, so the kernel's index bounds are known to the compiler.
                    let (Ok(input), Ok(output)) = (
                        <&[i8; #in_len]>::try_from(input),
                        <&mut [i8; #out_len]>::try_from(output),
                    ) else {
                        return;
                    };
                    rt::#kernel::<#in_len, #out_len, #ring_w>(&PARAMS, input, &#table, #scratch_arg, output);
                }
            }
        }
        Kernel::DepthwiseConv2d(p, w) if tuning.depthwise_single(layer) => {
            // The table holds one offset constant per channel, which needs right shifts of at
            // most 22 (`rt::small_offset_split`); beyond, the general requantization.
            let single = rt::ConvFast {
                fast_requant: p.fast_requant && w.shifts.iter().all(|&s| s >= -22),
                ..*p
            };
            let params = params_expr(&single);
            let table: Vec<u32> = single_table(w, &single).collect();
            let table = statics.words(
                &format!("{prefix}_TABLE"),
                &format!(
                    "{what}: per output channel, the folded bias, the int8 weights as i16 pairs \
                     (w00, w02), (w10, w12), (w20, w22), (w01, w11), (w21, 0) (doubled with the \
                     bias when requantized fast), the requantization multiplier, offset \
                     constant and right shift (bit 8 set on the last channel)."
                ),
                &table,
            );
            let in_len = lit(graph.tensors[layer.inputs[0]].elements());
            let out_len = lit(out_t.elements());
            if let Some(d) = &in_place {
                let input_at = lit(d.input_at);
                quote! {
                    const PARAMS: rt::ConvFast = #params;
                    // The output from byte 0 of `data`, the input from byte INPUT_AT.
                    const INPUT_AT: usize = #input_at;
                    rt::depthwise_conv2d_single_in_place::<#in_len, #out_len>(&PARAMS, data, INPUT_AT, &#table);
                }
            } else {
                quote! {
                    const PARAMS: rt::ConvFast = #params;
                    // Fixed lengths, so the kernel's index bounds are known to the compiler.
                    let (Ok(input), Ok(output)) = (
                        <&[i8; #in_len]>::try_from(input),
                        <&mut [i8; #out_len]>::try_from(output),
                    ) else {
                        return;
                    };
                    rt::depthwise_conv2d_single::<#in_len, #out_len>(&PARAMS, input, &#table, output);
                }
            }
        }
        Kernel::DepthwiseConv2d(p, w) => {
            let params = params_expr(p);
            let folded = statics.ints(
                &format!("{prefix}_FOLDED_BIAS"),
                &format!("{what}: bias + input offset × Σ weights."),
                "i32",
                &w.folded_bias,
            );
            if tuning.depthwise_rows(layer, planned_in_place) {
                let (mult, shift) = requantization_statics(&prefix, w, statics, &what);
                let paired: Vec<u32> =
                    pair_depthwise(&w.filter, p.shape.out_c, p.fast_requant).collect();
                let paired = statics.words(
                    &format!("{prefix}_FILTER"),
                    &format!(
                        "{what}: int8 weights{} as i16 pairs (w0, w1), (w1, w2) per channel and \
                         filter row.",
                        if p.fast_requant { ", doubled," } else { "" }
                    ),
                    &paired,
                );
                let in_len = lit(graph.tensors[layer.inputs[0]].elements());
                let out_len = lit(out_t.elements());
                let ring_w = lit(rt::depthwise_rows_width(p.shape.out_w, p.shape.stride_w));
                // Channels per chunk of the ring (all of them when it fits the scratch).
                let chunk = lit(tuning.depthwise_rows_chunk(&p.shape));
                if let Some(d) = &in_place {
                    let input_at = lit(d.input_at);
                    quote! {
                        const PARAMS: rt::ConvFast = #params;
                        // The output from byte 0 of `data`, the input from byte INPUT_AT.
                        const INPUT_AT: usize = #input_at;
                        rt::depthwise_conv2d_rows_in_place::<#in_len, #out_len, #ring_w>(&PARAMS, data, INPUT_AT, &#paired, &#folded, &#mult, &#shift, scratch);
                    }
                } else {
                    quote! {
                        const PARAMS: rt::ConvFast = #params;
                        // Fixed lengths, so the kernel's index bounds are known to the compiler.
                        let (Ok(input), Ok(output)) = (
                            <&[i8; #in_len]>::try_from(input),
                            <&mut [i8; #out_len]>::try_from(output),
                        ) else {
                            return;
                        };
                        rt::depthwise_conv2d_rows::<#in_len, #out_len, #ring_w>(&PARAMS, input, &#paired, &#folded, &#mult, &#shift, (scratch, #chunk), output);
                    }
                }
            } else if tuning.depthwise_wide(layer) {
                let (mult, shift) = requantization_statics(&prefix, w, statics, &what);
                let wide: Vec<u32> = widen_depthwise(&w.filter, p.shape.out_c).collect();
                let wide = statics.words(
                    &format!("{prefix}_FILTER"),
                    &format!(
                        "{what}: int8 weights widened to i16 pairs (w0, w2), (w1, w3) per tap \
                         and group of four channels."
                    ),
                    &wide,
                );
                let in_len = lit(graph.tensors[layer.inputs[0]].elements());
                let out_len = lit(out_t.elements());
                let wide_len = lit(widen_depthwise(&w.filter, p.shape.out_c).count());
                let (k_h, k_w) = (lit(p.shape.k_h), lit(p.shape.k_w));
                if let Some(d) = &in_place {
                    let input_at = lit(d.input_at);
                    quote! {
                        const PARAMS: rt::ConvFast = #params;
                        // The output from byte 0 of `data`, the input from byte INPUT_AT.
                        const INPUT_AT: usize = #input_at;
                        rt::depthwise_conv2d_wide_in_place::<#in_len, #out_len, #wide_len, #k_h, #k_w>(&PARAMS, data, INPUT_AT, &#wide, &#folded, &#mult, &#shift, scratch);
                    }
                } else {
                    quote! {
                        const PARAMS: rt::ConvFast = #params;
                        // Fixed lengths, so the kernel's index bounds are known to the compiler.
                        let (Ok(input), Ok(output)) = (
                            <&[i8; #in_len]>::try_from(input),
                            <&mut [i8; #out_len]>::try_from(output),
                        ) else {
                            return;
                        };
                        rt::depthwise_conv2d_wide::<#in_len, #out_len, #wide_len, #k_h, #k_w>(&PARAMS, input, &#wide, &#folded, &#mult, &#shift, scratch, output);
                    }
                }
            } else {
                let (mult, shift) = requantization_statics(&prefix, w, statics, &what);
                let ring = tuning.depthwise_ring(layer);
                // The ring kernel reads its filter by channel and has no border pixels (no
                // plain bias): it takes neither of these.
                let filter = if ring {
                    quote!()
                } else {
                    let id = statics.bytes(
                        &format!("{prefix}_FILTER"),
                        &format!("{what}: int8 weights ({} bytes).", w.filter.len()),
                        &w.filter,
                    );
                    quote!(#id)
                };
                let bias = if ring {
                    quote!()
                } else {
                    let id = statics.ints(
                        &format!("{prefix}_BIAS"),
                        &format!("{what}: bias per output channel (for border pixels)."),
                        "i32",
                        &w.bias
                            .clone()
                            .unwrap_or_else(|| vec![0; w.folded_bias.len()]),
                    );
                    quote!(#id)
                };
                if ring {
                    let in_len = graph.tensors[layer.inputs[0]].elements();
                    let lens = (in_len, out_t.elements());
                    let per_channel: Vec<u8> =
                        rt::depthwise_ring_filter(&w.filter, p.shape.out_c).collect();
                    let per_channel = statics.bytes(
                        &format!("{prefix}_FILTER_BY_CHANNEL"),
                        &format!("{what}: int8 weights, per channel its 3×3 window row by row."),
                        &per_channel,
                    );
                    let weights = quote!(&#per_channel.0, &#folded, &#mult, &#shift);
                    depthwise_ring_call(p, lens, in_place.as_ref(), weights)
                } else if let (true, Some(d)) = (tuning.depthwise_scalar(layer), &in_place) {
                    let input_at = lit(d.input_at);
                    quote! {
                        const PARAMS: rt::ConvFast = #params;
                        // The output from byte 0 of `data`, the input from byte INPUT_AT.
                        const INPUT_AT: usize = #input_at;
                        rt::depthwise_conv2d_scalar_in_place(&PARAMS, data, INPUT_AT, &#filter.0, &#folded, &#bias, &#mult, &#shift);
                    }
                } else if tuning.depthwise_scalar(layer) {
                    quote! {
                        const PARAMS: rt::ConvFast = #params;
                        rt::depthwise_conv2d_scalar(&PARAMS, input, &#filter.0, &#folded, &#bias, &#mult, &#shift, output);
                    }
                } else if let Some(d) = &in_place {
                    let input_at = lit(d.input_at);
                    quote! {
                        const PARAMS: rt::ConvFast = #params;
                        // The output from byte 0 of `data`, the input from byte INPUT_AT.
                        const INPUT_AT: usize = #input_at;
                        rt::depthwise_conv2d_fast_in_place::<rt::#dot>(&PARAMS, data, INPUT_AT, &#filter.0, &#folded, &#bias, &#mult, &#shift);
                    }
                } else {
                    quote! {
                        const PARAMS: rt::ConvFast = #params;
                        rt::depthwise_conv2d_fast::<rt::#dot>(&PARAMS, input, &#filter.0, &#folded, &#bias, &#mult, &#shift, output);
                    }
                }
            }
        }
        Kernel::FullyConnected(p, w) if tuning.unrolls(layer) => {
            // Small layer: straight-line code, weights as immediates, zero weights skipped.
            let params = params_expr(&fc_as_conv(p, w));
            let (mult, shift) = requantization_statics(&prefix, w, statics, &what);
            let n = p.in_features;
            let channels = (0..p.out_features).map(|o| {
                let bias = proc_macro2::Literal::i32_unsuffixed(w.folded_bias[o]);
                let terms = (0..n).filter_map(|i| {
                    let wv = w.filter[o * n + i] as i8 as i32;
                    (wv != 0).then(|| {
                        let i = proc_macro2::Literal::usize_unsuffixed(i);
                        // ±1 as an add or a subtract: `x * 1` and `x * -1` read as mistakes
                        // (clippy's identity_op and neg_multiply) in code users lint.
                        match wv {
                            1 => quote!(acc = acc.wrapping_add(x[#i] as i32);),
                            -1 => quote!(acc = acc.wrapping_sub(x[#i] as i32);),
                            _ => {
                                let wv = proc_macro2::Literal::i32_unsuffixed(wv);
                                quote!(acc = acc.wrapping_add(x[#i] as i32 * #wv);)
                            }
                        }
                    })
                });
                let o = proc_macro2::Literal::usize_unsuffixed(o);
                quote! {
                    let mut acc: i32 = #bias;
                    #(#terms)*
                    rt::store(&PARAMS, &#mult, &#shift, output, #o, #o, acc);
                }
            });
            let n = proc_macro2::Literal::usize_unsuffixed(n);
            quote! {
                const PARAMS: rt::ConvFast = #params;
                let Ok(x) = <&[i8; #n]>::try_from(input) else {
                    return;
                };
                #(#channels)*
            }
        }
        Kernel::FullyConnected(p, w) if tuning.fc_pairs(layer) => {
            // Four outputs per tile, one packed weight word per pair of outputs.
            let params = params_expr(&fc_as_conv(p, w));
            let (mult, shift) = requantization_statics(&prefix, w, statics, &what);
            let (n, m) = (p.in_features, p.out_features);
            let packed: Vec<u32> = (0..rt::fc_pairs_words(n, m))
                .map(|k| rt::fc_pair_word(&w.filter, n, m, k))
                .collect();
            let packed = statics.words(
                &format!("{prefix}_FILTER"),
                &format!(
                    "{what}: int8 weights packed by pairs of outputs (a, b): per tile of four \
                     outputs (the last maybe two) and group of four inputs, one word per output \
                     of (w_a, w_b - borrow) byte pairs, each half 256·w_b + w_a as an i16."
                ),
                &packed,
            );
            let bias = statics.ints(
                &format!("{prefix}_BIAS"),
                &format!("{what}: bias + input offset × Σ weights, per output."),
                "i32",
                &w.folded_bias,
            );
            let chunk = lit(rt::fc_pairs_chunk(&w.filter, n, m));
            quote! {
                const PARAMS: rt::ConvFast = #params;
                // Inputs per chunk of the reduction: its sums of `w_b·x` stay below 2^23.
                const CHUNK: usize = #chunk;
                rt::fully_connected_pairs(&PARAMS, CHUNK, input, &#packed, &#bias, &#mult, &#shift, output);
            }
        }
        Kernel::FullyConnected(p, w) if p.weights_offset == 0 => {
            // A 1×1 convolution over the rows.
            let params = params_expr(&fc_as_conv(p, w));
            let args = fast_weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::ConvFast = #params;
                rt::conv2d_fast::<rt::#dot>(&PARAMS, input, #args, output);
            }
        }
        Kernel::FullyConnected(p, w) => {
            // Asymmetric weights (rare): the reference kernel applies the weight offset.
            let params = params_expr(p);
            let args = weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::FullyConnected = #params;
                rt::fully_connected(&PARAMS, input, #args, output);
            }
        }
        Kernel::AveragePool(p) => params_call(p, quote!(rt::Pool), quote!(rt::average_pool)),
        Kernel::MaxPool(p) => params_call(p, quote!(rt::Pool), quote!(rt::max_pool)),
        Kernel::Add(p) => {
            let params = params_expr(p);
            match &in_place {
                Some(d) => {
                    let (other, slot) = other_input(d.slot);
                    quote! {
                        const PARAMS: rt::Add = #params;
                        rt::add_in_place(&PARAMS, data, #other, #slot);
                    }
                }
                None => quote! {
                    const PARAMS: rt::Add = #params;
                    rt::add(&PARAMS, input1, input2, output);
                },
            }
        }
        Kernel::AddTabled(p, output) => {
            let params = params_expr(output);
            let (input1, input2) = (rt::add_table(p, 0), rt::add_table(p, 1));
            let mut table = |name: &str, inputs: &str, values: &[i32; 256]| {
                statics.ints(
                    &format!("{prefix}_{name}_TABLE"),
                    &format!(
                        "{what}: {inputs} rescaled to the common scale, for each input byte \
                         (`x as u8`)."
                    ),
                    "i32",
                    values,
                )
            };
            // Inputs with one quantization share one table.
            let tables = if input1 == input2 {
                let shared = table("INPUTS", "both inputs", &input1);
                [shared.clone(), shared]
            } else {
                [
                    table("INPUT1", "input 1", &input1),
                    table("INPUT2", "input 2", &input2),
                ]
            };
            match &in_place {
                Some(d) => {
                    let (other, _) = other_input(d.slot);
                    let (data_table, other_table) =
                        (&tables[d.slot & 1], &tables[(d.slot + 1) & 1]);
                    quote! {
                        const PARAMS: rt::AddTabled = #params;
                        rt::add_tabled_in_place(&PARAMS, &#data_table, &#other_table, data, #other);
                    }
                }
                None => {
                    let [t1, t2] = &tables;
                    quote! {
                        const PARAMS: rt::AddTabled = #params;
                        rt::add_tabled(&PARAMS, &#t1, &#t2, input1, input2, output);
                    }
                }
            }
        }
        Kernel::Softmax(p) => params_call(p, quote!(rt::Softmax), quote!(rt::softmax)),
        Kernel::QuantizeF32(p) => params_call(p, quote!(rt::Quantize), quote!(rt::quantize_f32)),
        Kernel::Requantize(p) => {
            let params = params_expr(p);
            if in_place.is_some() {
                quote! {
                    const PARAMS: rt::Requantize = #params;
                    rt::requantize_i8_in_place(&PARAMS, data);
                }
            } else {
                quote! {
                    const PARAMS: rt::Requantize = #params;
                    rt::requantize_i8(&PARAMS, input, output);
                }
            }
        }
        Kernel::Dequantize(p) => params_call(p, quote!(rt::Dequantize), quote!(rt::dequantize_i8)),
        Kernel::Reshape => quote! { rt::copy(input, output); },
        Kernel::SliceRows { start } => {
            let start = lit(*start);
            quote! { rt::copy(input.get(#start..).unwrap_or(&[]), output); }
        }
        Kernel::Conv2dF32(p, w) => {
            let params = params_expr(p);
            let args = float_weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::ConvF32 = #params;
                rt::conv2d_f32(&PARAMS, input, #args, output);
            }
        }
        Kernel::DepthwiseConv2dF32(p, w) => {
            let params = params_expr(p);
            let args = float_weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::ConvF32 = #params;
                rt::depthwise_conv2d_f32(&PARAMS, input, #args, output);
            }
        }
        Kernel::FullyConnectedF32(p, w) => {
            let params = params_expr(p);
            let args = float_weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::FullyConnectedF32 = #params;
                rt::fully_connected_f32(&PARAMS, input, #args, output);
            }
        }
        Kernel::PoolF32 { params, average } => {
            let params = params_expr(params);
            quote! {
                const PARAMS: rt::Pool<f32> = #params;
                rt::pool_f32(&PARAMS, #average, input, output);
            }
        }
        Kernel::ArithF32 {
            op,
            clamp,
            broadcast,
        } => {
            let (params, (bc_item, bc_arg)) =
                (params_expr(clamp), broadcast_arg(broadcast.as_ref()));
            let f = match op {
                FloatArith::Add => quote!(rt::add_f32),
                FloatArith::Sub => quote!(rt::sub_f32),
                FloatArith::Mul => quote!(rt::mul_f32),
            };
            quote! {
                const PARAMS: rt::ClampF32 = #params;
                #bc_item
                #f(&PARAMS, #bc_arg, input1, input2, output);
            }
        }
        Kernel::SquaredDifferenceF32(bc) => {
            let (bc_item, bc_arg) = broadcast_arg(bc.as_ref());
            quote! {
                #bc_item
                rt::squared_difference_f32(#bc_arg, input1, input2, output);
            }
        }
        Kernel::LeakyReluF32(p) => {
            params_call(p, quote!(rt::LeakyReluF32), quote!(rt::leaky_relu_f32))
        }
        Kernel::ActivationF32(f) => {
            let f = match f {
                FloatActivation::Relu => quote!(rt::relu_f32),
                FloatActivation::Relu6 => quote!(rt::relu6_f32),
                FloatActivation::HardSwish => quote!(rt::hard_swish_f32),
            };
            quote! { rt::map_f32(input, output, #f); }
        }
        Kernel::MeanF32(p) => params_call(p, quote!(rt::Reduce), quote!(rt::mean_f32)),
        Kernel::SoftmaxF32(p) => params_call(p, quote!(rt::SoftmaxF32), quote!(rt::softmax_f32)),
        Kernel::AddBroadcast(p, bc) => {
            let (params, bc) = (params_expr(p), params_expr(bc));
            quote! {
                const PARAMS: rt::Add = #params;
                const BROADCAST: rt::Broadcast = #bc;
                rt::add_broadcast(&PARAMS, &BROADCAST, input1, input2, output);
            }
        }
        Kernel::Mul(p, bc) => {
            let (params, (bc_item, bc_arg)) = (params_expr(p), broadcast_arg(bc.as_ref()));
            match &in_place {
                Some(d) => {
                    let (other, slot) = other_input(d.slot);
                    quote! {
                        const PARAMS: rt::Mul = #params;
                        rt::mul_in_place(&PARAMS, data, #other, #slot);
                    }
                }
                None => quote! {
                    const PARAMS: rt::Mul = #params;
                    #bc_item
                    rt::mul(&PARAMS, #bc_arg, input1, input2, output);
                },
            }
        }
        Kernel::Sub(p, bc) => {
            let (params, (bc_item, bc_arg)) = (params_expr(p), broadcast_arg(bc.as_ref()));
            quote! {
                const PARAMS: rt::Add = #params;
                #bc_item
                rt::sub(&PARAMS, #bc_arg, input1, input2, output);
            }
        }
        Kernel::SquaredDifference(p, bc) => {
            let (params, (bc_item, bc_arg)) = (params_expr(p), broadcast_arg(bc.as_ref()));
            quote! {
                const PARAMS: rt::Add = #params;
                #bc_item
                rt::squared_difference(&PARAMS, #bc_arg, input1, input2, output);
            }
        }
        Kernel::SquaredDifferenceI16(p, bc) => {
            let (params, (bc_item, bc_arg)) = (params_expr(p), broadcast_arg(bc.as_ref()));
            quote! {
                const PARAMS: rt::Add = #params;
                #bc_item
                rt::squared_difference_i16(&PARAMS, #bc_arg, input1, input2, output);
            }
        }
        Kernel::Lookup(table) => {
            let bytes: Vec<u8> = table.iter().map(|&v| v as u8).collect();
            let id = statics.bytes(
                &format!("{prefix}_TABLE"),
                &format!("{what}: the output byte for each input byte (`input as u8`)."),
                &bytes,
            );
            if in_place.is_some() {
                quote! { rt::lookup_in_place(&#id.0, data); }
            } else {
                quote! { rt::lookup(&#id.0, input, output); }
            }
        }
        Kernel::Mean(p) => params_call(p, quote!(rt::Mean), quote!(rt::mean)),
        Kernel::Pad(p) => {
            let params = params_expr(p);
            let value = match out_t.dtype {
                DType::F32 => quote!(f32::from_bits(PARAMS.value as u32)),
                DType::I16 => quote!(PARAMS.value as i16),
                _ => quote!(PARAMS.value as i8),
            };
            quote! {
                const PARAMS: rt::Pad = #params;
                rt::pad(&PARAMS, #value, input, output);
            }
        }
        Kernel::Concatenation(parts) => {
            let calls = parts.iter().zip(&in_names).map(|(part, input)| {
                let part = params_expr(part);
                quote! {
                    {
                        const PART: rt::ConcatPart = #part;
                        rt::concat_part(&PART, #input, output);
                    }
                }
            });
            quote! { #(#calls)* }
        }
        Kernel::Gather(p) => params_call(p, quote!(rt::Gather), quote!(rt::gather)),
        Kernel::MaxMin { maximum, broadcast } => {
            let (bc_item, bc_arg) = broadcast_arg(broadcast.as_ref());
            let f = if *maximum {
                quote!(rt::elementwise_max)
            } else {
                quote!(rt::elementwise_min)
            };
            quote! {
                #bc_item
                #f(#bc_arg, input1, input2, output);
            }
        }
        Kernel::Reduce { params, maximum } => {
            let p = params_expr(params);
            let ty = format_ident!("{}", out_t.dtype.rust_name());
            let (f, init) = if *maximum {
                (quote!(rt::reduce_max), quote!(#ty::MIN))
            } else {
                (quote!(rt::reduce_min), quote!(#ty::MAX))
            };
            quote! {
                const PARAMS: rt::Reduce = #p;
                #f(&PARAMS, #init, input, output);
            }
        }
        Kernel::ArgMinMax { params, maximum } => {
            let p = params_expr(params);
            let f = if *maximum {
                quote!(rt::arg_max)
            } else {
                quote!(rt::arg_min)
            };
            quote! {
                const PARAMS: rt::ArgMinMax = #p;
                #f(&PARAMS, input, output);
            }
        }
        Kernel::LstmF32(p, w) => {
            let params = params_expr(p);
            let filter = statics.floats(
                &format!("{prefix}_FILTER"),
                &format!(
                    "{what}: float32 weights per gate (forget, input, cell, output): input \
                     weights then recurrent weights ({} values).",
                    w.filter.len()
                ),
                &w.filter,
            );
            let bias = statics.floats(
                &format!("{prefix}_BIAS"),
                &format!("{what}: float32 bias per gate (forget, input, cell, output)."),
                &w.bias,
            );
            quote! {
                const PARAMS: rt::LstmF32 = #params;
                rt::lstm_f32(&PARAMS, input, &#filter, &#bias, hidden_state, cell_state, output);
            }
        }
        Kernel::LstmI8(p, w) => {
            let params = params_expr(p);
            let filter = statics.bytes(
                &format!("{prefix}_FILTER"),
                &format!(
                    "{what}: int8 weights per gate (forget, input, cell, output): input \
                     weights then recurrent weights ({} bytes).",
                    w.filter.len()
                ),
                &w.filter,
            );
            let bias = statics.ints(
                &format!("{prefix}_BIAS"),
                &format!(
                    "{what}: per gate, the input part's bias (+ input offset × Σ weights), then \
                     the recurrent part's (hidden offset × Σ weights)."
                ),
                "i32",
                &w.bias,
            );
            quote! {
                const PARAMS: rt::Lstm = #params;
                rt::lstm_i8(&PARAMS, input, &#filter.0, &#bias, hidden_state, cell_state, gates, output);
            }
        }
        Kernel::SvdfI8(p, w) => {
            let params = params_expr(p);
            let feature = statics.bytes(
                &format!("{prefix}_FEATURE_WEIGHTS"),
                &format!("{what}: int8 feature weights, one row per filter."),
                &w.feature,
            );
            let time = statics.ints(
                &format!("{prefix}_TIME_WEIGHTS"),
                &format!("{what}: int16 time weights, one row of the memory per filter."),
                "i16",
                &w.time,
            );
            let bias = statics.ints(
                &format!("{prefix}_BIAS"),
                &format!("{what}: int32 bias per unit."),
                "i32",
                &w.bias,
            );
            quote! {
                const PARAMS: rt::Svdf = #params;
                rt::svdf_i8(&PARAMS, input, &#feature.0, &#time, &#bias, state, output);
            }
        }
        Kernel::SvdfF32(p, w) => {
            let params = params_expr(p);
            let feature = statics.floats(
                &format!("{prefix}_FEATURE_WEIGHTS"),
                &format!("{what}: float32 feature weights, one row per filter."),
                &w.feature,
            );
            let time = statics.floats(
                &format!("{prefix}_TIME_WEIGHTS"),
                &format!("{what}: float32 time weights, one row of the memory per filter."),
                &w.time,
            );
            let bias = statics.floats(
                &format!("{prefix}_BIAS"),
                &format!("{what}: float32 bias per unit."),
                &w.bias,
            );
            quote! {
                const PARAMS: rt::SvdfF32 = #params;
                rt::svdf_f32(&PARAMS, input, &#feature, &#time, &#bias, state, output);
            }
        }
        Kernel::ConvI16 {
            params,
            weights: w,
            depthwise,
        } => {
            let p = params_expr(params);
            let filter = statics.bytes(
                &format!("{prefix}_FILTER"),
                &format!("{what}: int8 weights ({} bytes).", w.filter.len()),
                &w.filter,
            );
            let bias = statics.ints(
                &format!("{prefix}_BIAS"),
                &format!("{what}: bias per output channel (widened to int64)."),
                "i64",
                &w.bias,
            );
            let mult = statics.ints(
                &format!("{prefix}_MULTIPLIER"),
                &format!("{what}: requantization multipliers (Q31)."),
                "i32",
                &w.multipliers,
            );
            let shift = statics.ints(
                &format!("{prefix}_SHIFT"),
                &format!("{what}: requantization shifts."),
                "i32",
                &w.shifts,
            );
            let f = if *depthwise {
                quote!(rt::depthwise_conv2d_i16)
            } else {
                quote!(rt::conv2d_i16)
            };
            quote! {
                const PARAMS: rt::ConvI16 = #p;
                #f(&PARAMS, input, &#filter.0, &#bias, &#mult, &#shift, output);
            }
        }
        // One group: the TFLite kernels' blocked integer accumulation (dot products by the
        // core's flavour), onnxruntime's requantization.
        Kernel::ConvQLinear(params, w) if params.shape.k_c == params.shape.in_c => {
            let p = params_expr(params);
            let (filter, folded, scales) = QLinearStatics {
                filter: &w.filter,
                filter_doc: "int8 weights",
                bias: (
                    "FOLDED_BIAS",
                    "bias − input zero point × Σ weights",
                    &w.folded_bias,
                ),
                scales: &w.scales,
            }
            .emit(statics, &prefix, &what);
            quote! {
                const PARAMS: rt::ConvQLinear = #p;
                rt::conv2d_qlinear_fast::<rt::#dot>(&PARAMS, input, &#filter.0, &#folded, &#scales, output);
            }
        }
        // Depthwise: four channels per step, filter channels-last.
        Kernel::ConvQLinear(params, w)
            if params.shape.k_c == 1
                && params.shape.out_c == params.shape.in_c
                && params.shape.in_c % 4 == 0 =>
        {
            let p = params_expr(params);
            let hwc = w.depthwise_hwc(params.shape.in_c);
            let (filter, bias, scales) = QLinearStatics {
                filter: &hwc,
                filter_doc: "int8 depthwise weights, channels last",
                bias: ("BIAS", "int32 bias", &w.bias),
                scales: &w.scales,
            }
            .emit(statics, &prefix, &what);
            quote! {
                const PARAMS: rt::ConvQLinear = #p;
                rt::depthwise_conv2d_qlinear::<rt::#dot>(&PARAMS, input, &#filter.0, &#bias, &#scales, output);
            }
        }
        Kernel::ConvQLinear(params, w) => {
            let p = params_expr(params);
            let (filter, bias, scales) = QLinearStatics {
                filter: &w.filter,
                filter_doc: "int8 weights",
                bias: ("BIAS", "int32 bias", &w.bias),
                scales: &w.scales,
            }
            .emit(statics, &prefix, &what);
            quote! {
                const PARAMS: rt::ConvQLinear = #p;
                rt::conv2d_qlinear(&PARAMS, input, &#filter.0, &#bias, &#scales, output);
            }
        }
        Kernel::QuantizeLinear(p) => {
            params_call(p, quote!(rt::Quantize), quote!(rt::quantize_linear_f32))
        }
        Kernel::DynamicQuantizeConv(params, w) => {
            let p = params_expr(params);
            let texts = [
                format!("uint8 weights, HWIO ({} bytes)", w.filter.len()),
                "float32 weight scale".into(),
                "float32 bias per output channel".into(),
            ];
            let (filter, scales, bias) = dynamic_statics(&prefix, &what, w, texts, statics);
            quote! {
                const PARAMS: rt::DynamicConv = #p;
                rt::dynamic_quantize_conv(&PARAMS, input, &#filter.0, &#scales, &#bias, output);
            }
        }
        Kernel::DynamicQuantizeMatMul(params, w) => {
            let p = params_expr(params);
            let texts = [
                format!("int8 weights, depth × cols ({} bytes)", w.filter.len()),
                "float32 weight scale per output column".into(),
                "float32 bias per output column".into(),
            ];
            let (filter, scales, bias) = dynamic_statics(&prefix, &what, w, texts, statics);
            quote! {
                const PARAMS: rt::DynamicMatMul = #p;
                rt::dynamic_quantize_matmul(&PARAMS, input, &#filter.0, &#scales, &#bias, output);
            }
        }
        Kernel::AddQLinear(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::AddQLinear = #params;
                rt::add_qlinear::<rt::#fma>(&PARAMS, input1, input2, output);
            }
        }
        Kernel::AvgPoolQLinear(p) => {
            params_call(p, quote!(rt::AvgPoolQLinear), quote!(rt::avg_pool_qlinear))
        }
        Kernel::AddQLinearBroadcast(p, bc) => {
            let (params, bc) = (params_expr(p), params_expr(bc));
            quote! {
                const PARAMS: rt::AddQLinearBroadcast = #params;
                const BROADCAST: rt::Broadcast = #bc;
                rt::add_qlinear_broadcast(&PARAMS, &BROADCAST, input1, input2, output);
            }
        }
        Kernel::SoftmaxQLinear(p, table) => {
            let params = params_expr(p);
            let table = statics.floats(
                &format!("{prefix}_EXP"),
                &format!("{what}: float32 exponentials by `x - row max + 255`."),
                table,
            );
            quote! {
                const PARAMS: rt::SoftmaxQLinear = #params;
                rt::softmax_qlinear(&PARAMS, &#table, input, output);
            }
        }
        Kernel::MulQLinear(p, bc) => {
            let (params, (bc_item, bc_arg)) = (params_expr(p), broadcast_arg(bc.as_ref()));
            quote! {
                const PARAMS: rt::MulQLinear = #params;
                #bc_item
                rt::mul_qlinear(&PARAMS, #bc_arg, input1, input2, output);
            }
        }
        Kernel::ActivationI16 { scale, tanh } => {
            let s = params_expr(scale);
            quote! {
                const SCALE: rt::InputScale16 = #s;
                rt::activation_i16(&SCALE, #tanh, input, output);
            }
        }
        Kernel::AddSubI16 {
            params,
            bc,
            subtract,
        } => {
            let (params, (bc_item, bc_arg)) = (params_expr(params), broadcast_arg(bc.as_ref()));
            quote! {
                const PARAMS: rt::Add = #params;
                #bc_item
                rt::add_sub_i16(&PARAMS, #bc_arg, #subtract, input1, input2, output);
            }
        }
        Kernel::MulI16(p, bc) => {
            let (params, (bc_item, bc_arg)) = (params_expr(p), broadcast_arg(bc.as_ref()));
            quote! {
                const PARAMS: rt::Mul = #params;
                #bc_item
                rt::mul_i16(&PARAMS, #bc_arg, input1, input2, output);
            }
        }
        Kernel::PoolI16 { params, average } => {
            let params = params_expr(params);
            let call = if *average {
                quote!(rt::average_pool_of(&PARAMS, input, output, |v| v as i16))
            } else {
                quote!(rt::max_pool_of(
                    &PARAMS,
                    i16::MIN as i32,
                    input,
                    output,
                    |v| v as i16
                ))
            };
            quote! {
                const PARAMS: rt::Pool = #params;
                #call;
            }
        }
        Kernel::SoftmaxI16 {
            params,
            exp_lut,
            recip_lut,
        } => {
            let p = params_expr(params);
            let exp = statics.ints(
                "SOFTMAX_I16_EXP_LUT",
                "Int16 SOFTMAX: exp(x) on [-10, 0] in Q0.15, 512 entries and one for the last slope (TFLM's gen_lut).",
                "i16",
                exp_lut,
            );
            let recip = statics.ints(
                "SOFTMAX_I16_RECIP_LUT",
                "Int16 SOFTMAX: 1 / (1 + x) on [0, 1] in Q0.15, 512 entries and one for the last slope (TFLM's gen_lut).",
                "i16",
                recip_lut,
            );
            quote! {
                const PARAMS: rt::SoftmaxI16 = #p;
                rt::softmax_i16(&PARAMS, &#exp, &#recip, input, output);
            }
        }
        Kernel::LeakyReluI16(p) => {
            params_call(p, quote!(rt::LeakyRelu), quote!(rt::leaky_relu_i16))
        }
        Kernel::ReluI16(p) => params_call(p, quote!(rt::ReluI16), quote!(rt::relu_i16)),
        Kernel::AbsI16(p) => params_call(p, quote!(rt::AbsI16), quote!(rt::abs_i16)),
        Kernel::Relu6I16(p) => params_call(p, quote!(rt::Relu6I16), quote!(rt::relu6_i16)),
        Kernel::MeanI16(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Mean = #params;
                rt::mean_of(&PARAMS, input, output, rt::clamp_i16);
            }
        }
        Kernel::QuantizeF32I16(p) => {
            params_call(p, quote!(rt::Quantize), quote!(rt::quantize_f32_i16))
        }
        Kernel::RequantizeToI16(p) => {
            params_call(p, quote!(rt::Requantize), quote!(rt::requantize_to_i16))
        }
        Kernel::RequantizeI16ToI8(p) => {
            params_call(p, quote!(rt::Requantize), quote!(rt::requantize_i16_to_i8))
        }
        Kernel::RequantizeU8ToI8(p) => {
            params_call(p, quote!(rt::Requantize), quote!(rt::requantize_u8_to_i8))
        }
        Kernel::RequantizeI8ToU8(p) => {
            params_call(p, quote!(rt::Requantize), quote!(rt::requantize_i8_to_u8))
        }
        Kernel::DequantizeU8(p) => {
            params_call(p, quote!(rt::Dequantize), quote!(rt::dequantize_u8))
        }
        Kernel::DequantizeI16(p) => {
            params_call(p, quote!(rt::Dequantize), quote!(rt::dequantize_i16))
        }
        Kernel::TableGather {
            parts,
            tables,
            outside,
        } => {
            let (list, n) = (params_expr(parts), lit(parts.len()));
            let tables = statics.ints(
                &format!("{prefix}_TABLES"),
                &format!(
                    "{what}: the input offset of each position along each output axis \
                     (negative: outside the input)."
                ),
                "i32",
                tables,
            );
            let outside = scalar_lit(*outside, out_t.dtype);
            quote! {
                const PARTS: [rt::TableGather; #n] = #list;
                rt::table_gather(&PARTS, &#tables, #outside, input, output);
            }
        }
        Kernel::GatherRows(p) => {
            let params = params_expr(p);
            let zero = scalar_lit(0, out_t.dtype);
            quote! {
                const PARAMS: rt::GatherRows = #params;
                rt::gather_rows(&PARAMS, #zero, input1, input2, output);
            }
        }
        Kernel::ResizeBilinear { params, rows, cols } => resize_bilinear(
            params,
            rows,
            cols,
            quote!(i32),
            quote!(rt::resize_bilinear_i8),
        ),
        Kernel::ResizeBilinearF32 { params, rows, cols } => resize_bilinear(
            params,
            rows,
            cols,
            quote!(f32),
            quote!(rt::resize_bilinear_f32),
        ),
        Kernel::Fill => quote! {
            let Some(&value) = input.first() else {
                return;
            };
            rt::fill_with(value, output);
        },
        Kernel::Zeros => {
            let zero = scalar_lit(0, out_t.dtype);
            quote! { rt::fill_with(#zero, output); }
        }
        Kernel::Cumsum(p) => {
            let params = params_expr(p);
            let f = if out_t.dtype == DType::F32 {
                quote!(rt::cumsum_f32)
            } else {
                quote!(rt::cumsum_i8)
            };
            quote! {
                const PARAMS: rt::Cumsum = #params;
                #f(&PARAMS, input, output);
            }
        }
        Kernel::AbsF32 => quote! { rt::abs_f32(input, output); },
        Kernel::Prelu(p, bc) => {
            let (params, (bc_item, bc_arg)) = (params_expr(p), broadcast_arg(bc.as_ref()));
            quote! {
                const PARAMS: rt::Prelu = #params;
                #bc_item
                rt::prelu(&PARAMS, #bc_arg, input1, input2, output);
            }
        }
        Kernel::PreluF32(bc) => {
            let (bc_item, bc_arg) = broadcast_arg(bc.as_ref());
            quote! {
                #bc_item
                rt::prelu_f32(#bc_arg, input1, input2, output);
            }
        }
        Kernel::MapF32(f) => {
            let f = format_ident!("{}", math_fn(*f));
            quote! { rt::map_f32(input, output, rt::#f); }
        }
        Kernel::Div(p, bc) => {
            let (params, (bc_item, bc_arg)) = (params_expr(p), broadcast_arg(bc.as_ref()));
            quote! {
                const PARAMS: rt::Div = #params;
                #bc_item
                rt::div_i8(&PARAMS, #bc_arg, input1, input2, output);
            }
        }
        Kernel::DivF32(p, bc) => {
            let (params, (bc_item, bc_arg)) = (params_expr(p), broadcast_arg(bc.as_ref()));
            quote! {
                const PARAMS: rt::ClampF32 = #params;
                #bc_item
                rt::div_f32(&PARAMS, #bc_arg, input1, input2, output);
            }
        }
        Kernel::Sum(p) => params_call(p, quote!(rt::Mean), quote!(rt::mean)),
        Kernel::SumF32(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Reduce = #params;
                rt::reduce_with(&PARAMS, 0.0, input, output, |current, next| next + current);
            }
        }
        Kernel::L2Normalization {
            rows,
            input_zero_point,
        } => {
            let rows = params_expr(rows);
            let zp = proc_macro2::Literal::i32_unsuffixed(*input_zero_point);
            quote! {
                const ROWS: rt::Rows = #rows;
                rt::l2_normalization(&ROWS, #zp, input, output);
            }
        }
        Kernel::L2NormalizationF32(rows) => {
            let rows = params_expr(rows);
            quote! {
                const ROWS: rt::Rows = #rows;
                rt::l2_normalization_f32(&ROWS, input, output);
            }
        }
        Kernel::LogSoftmax(p) => params_call(p, quote!(rt::LogSoftmax), quote!(rt::log_softmax)),
        Kernel::LogSoftmaxF32(rows) => {
            let rows = params_expr(rows);
            quote! {
                const ROWS: rt::Rows = #rows;
                rt::log_softmax_f32(&ROWS, input, output);
            }
        }
        Kernel::Compare {
            op,
            params,
            broadcast,
        } => {
            let (bc_item, bc_arg) = broadcast_arg(broadcast.as_ref());
            let cmp: TokenStream = comparison_operator(*op).parse().unwrap_or_default();
            match params {
                Some(p) => {
                    let p = params_expr(p);
                    quote! {
                        const PARAMS: rt::CompareI8 = #p;
                        #bc_item
                        rt::compare_i8(&PARAMS, #bc_arg, input1, input2, output, |a, b| a #cmp b);
                    }
                }
                None => quote! {
                    #bc_item
                    rt::compare(#bc_arg, input1, input2, output, |a, b| a #cmp b);
                },
            }
        }
        Kernel::Select(bc) => match bc {
            Some(bc) => {
                let bc = params_expr(bc);
                quote! {
                    const BROADCAST: rt::Broadcast3 = #bc;
                    rt::select(Some(&BROADCAST), input1, input2, input3, output);
                }
            }
            None => quote! { rt::select(None, input1, input2, input3, output); },
        },
        Kernel::Logical { and, broadcast } => {
            let (bc_item, bc_arg) = broadcast_arg(broadcast.as_ref());
            quote! {
                #bc_item
                rt::logical(#bc_arg, #and, input1, input2, output);
            }
        }
        Kernel::LogicalNot => quote! { rt::logical_not(input, output); },
        Kernel::NegF32 => quote! { rt::neg_f32(input, output); },
        Kernel::Cast { to, .. } => {
            let to = format_ident!("{}", to.rust_name());
            quote! { rt::cast(input, output, |x| x as #to); }
        }
        Kernel::IntArith {
            op,
            clamp,
            broadcast,
        } => {
            let clamp = params_expr(clamp);
            let (bc_item, bc_arg) = broadcast_arg(broadcast.as_ref());
            let f = match op {
                crate::layer::IntOp::Add => quote!(rt::add_i32),
                crate::layer::IntOp::Mul => quote!(rt::mul_i32),
                crate::layer::IntOp::Div => quote!(rt::div_i32),
            };
            quote! {
                const CLAMP: rt::IntClamp = #clamp;
                #bc_item
                #f(&CLAMP, #bc_arg, input1, input2, output);
            }
        }
        Kernel::SignalWindow(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::SignalWindow = #params;
                rt::signal_window(&PARAMS, input1, input2, output);
            }
        }
        Kernel::SignalFftAutoScale { shift: false } => {
            quote! { rt::signal_fft_auto_scale(input, output); }
        }
        Kernel::SignalFftAutoScale { shift: true } => {
            quote! { rt::signal_fft_auto_scale_shift(input, output); }
        }
        Kernel::SignalRfft(p, t) => {
            let params = params_expr(p);
            let factors = statics.ints(
                &format!("{prefix}_FACTORS"),
                &format!("{what}: kissfft's radices, outermost first."),
                "u16",
                &t.factors,
            );
            let twiddles = statics.ints(
                &format!("{prefix}_TWIDDLES"),
                &format!(
                    "{what}: kissfft's twiddles, floor(0.5 + 32767·(cos, sin)(-2πk/{})).",
                    p.n
                ),
                "i16",
                &t.twiddles,
            );
            let super_twiddles = statics.ints(
                &format!("{prefix}_SUPER_TWIDDLES"),
                &format!(
                    "{what}: kiss_fftr's split twiddles, floor(0.5 + 32767·(cos, sin)(-π((k + 1)/{} + 1/2)))."
                    ,
                    p.n
                ),
                "i16",
                &t.super_twiddles,
            );
            quote! {
                const PARAMS: rt::SignalRfft = #params;
                rt::signal_rfft(&PARAMS, &#factors, &#twiddles, &#super_twiddles, input, output);
            }
        }
        Kernel::SignalEnergy(p) => {
            params_call(p, quote!(rt::SignalEnergy), quote!(rt::signal_energy))
        }
        Kernel::SignalFilterBank => quote! {
            let tables = rt::FilterBankTables {
                weights: input2,
                unweights: input3,
                freq_starts: input4,
                weight_starts: input5,
                widths: input6,
            };
            rt::signal_filter_bank(&tables, input1, output);
        },
        Kernel::SignalFilterBankSquareRoot => {
            quote! { rt::signal_filter_bank_square_root(input1, input2, output); }
        }
        Kernel::SignalSpectralSubtraction(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::SpectralSubtraction = #params;
                rt::signal_spectral_subtraction(&PARAMS, input, noise_estimate, output);
            }
        }
        Kernel::SignalNoiseEstimate => quote! { rt::copy(noise_estimate, output); },
        Kernel::SignalPcan(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::SignalPcan = #params;
                rt::signal_pcan(&PARAMS, input1, input2, input3, output);
            }
        }
        Kernel::TransposeConv(p, w) => {
            let params = params_expr(p);
            let args = weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::TransposeConvI8 = #params;
                rt::transpose_conv_i8(&PARAMS, input, #args, output);
            }
        }
        Kernel::TransposeConvF32(p, w) => {
            let params = params_expr(p);
            let args = float_weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::TransposeConvF32 = #params;
                rt::transpose_conv_f32(&PARAMS, input, #args, output);
            }
        }
        Kernel::L2PoolF32(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Pool<f32> = #params;
                rt::l2_pool_f32(&PARAMS, input, output);
            }
        }
        Kernel::EmbeddingDequantized(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::EmbeddingDequantized = #params;
                rt::embedding_lookup_dequantized(&PARAMS, input1, input2, output);
            }
        }
        Kernel::AddNF32 => {
            let names = in_names.iter();
            quote! { rt::add_n_f32(&[#(#names),*], output); }
        }
        Kernel::AddN(p) => {
            let params = params_expr(p);
            let names = in_names.iter();
            quote! {
                const PARAMS: rt::AddN = #params;
                rt::add_n_i8(&PARAMS, &[#(#names),*], output);
            }
        }
        Kernel::FloorDivMod { modulo, broadcast } => {
            let (bc_item, bc_arg) = broadcast_arg(broadcast.as_ref());
            let f = if *modulo {
                quote!(rt::floor_mod_f32)
            } else {
                quote!(rt::floor_div_f32)
            };
            quote! {
                #bc_item
                #f(#bc_arg, input1, input2, output);
            }
        }
        Kernel::BatchMatmul(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::BatchMatmulI8 = #params;
                rt::batch_matmul_i8(&PARAMS, input1, input2, output);
            }
        }
        Kernel::BatchMatmulF32(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::BatchMatmul = #params;
                rt::batch_matmul_f32(&PARAMS, input1, input2, output);
            }
        }
        Kernel::SignalFilterBankLog(p) => {
            params_call(p, quote!(rt::SignalLog), quote!(rt::signal_filter_bank_log))
        }
    };

    let ins: Vec<String> = layer
        .inputs
        .iter()
        .map(|&t| shape_str(&graph.tensors[t]))
        .collect();
    let mut text = format!(
        "Layer {}: {} {} → {}.",
        layer.index,
        layer.op_name,
        ins.join(" + "),
        shape_str(out_t)
    );
    if let Some(details) = details(&layer.kernel) {
        text.push_str(&format!("\n\n{details}"));
    }
    if layer.macs > 0 {
        text.push_str(&format!(" {} multiply-accumulates.", layer.macs));
    }
    let doc = doc(&text);
    // Never inlined: one function per layer in the binary too (the kernel, with the layer's
    // constants, is inlined into it), whichever of `predict` and `predict_observed` calls it.
    let function = if let Some(d) = &in_place {
        // The inputs besides the one the output overwrites.
        let others = in_names
            .iter()
            .zip(&in_types)
            .enumerate()
            .filter(|&(k, _)| k != d.slot)
            .map(|(_, (n, ty))| {
                let ty = format_ident!("{}", ty.rust_name());
                quote!(#n: &[#ty])
            });
        quote! {
            #doc
            #[inline(never)]
            fn #fn_name(data: &mut [#out_ty], #(#others,)* #scratch_param) {
                #body
            }
        }
    } else {
        quote! {
            #doc
            #[inline(never)]
            fn #fn_name(#(#in_params,)* #(#state_params)* #scratch_param output: &mut [#out_ty]) {
                #body
            }
        }
    };
    if let Some(d) = in_place {
        // The call in predict: carve the region holding input and output; the output is its
        // first part.
        let field = pool_field(out_t.dtype);
        let (offset, len) = (lit(d.offset), lit(d.len));
        let out_len = lit(out_t.elements());
        let text = format!(
            "Layer {}'s output (from its start) and input (from element {}), overlapping.",
            layer.index, d.input_at
        );
        let region_doc = super::doc(&text);
        let out_pool = Some(out_t.dtype);
        let others: Vec<TokenStream> = layer
            .inputs
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != d.slot)
            .map(|(_, &t)| read_expr(model, t, statics, layer.index, out_pool))
            .collect();
        let reads_rest = layer.inputs.iter().enumerate().any(|(k, &t)| {
            k != d.slot
                && matches!(model.plan.locations[t],
                    Location::Arena { buffer, .. } if Some(graph.tensors[buffer].dtype) == out_pool)
        });
        let rest = if reads_rest { quote!(rest) } else { quote!(_) };
        let call = quote! {
            #region_doc
            const DATA: rt::Region = rt::Region { offset: #offset, len: #len };
            let (data, #rest) = rt::carve(&mut *self.#field, DATA);
            #fn_name(data, #(#others,)* #scratch_arg);
        };
        let len = out_len;
        let index = proc_macro2::Literal::usize_unsuffixed(layer.index);
        let op = layer.op_name;
        let variant = layer_output_variant(out_t.dtype);
        return EmittedLayer {
            function,
            observed_call: quote!({
                observer.before(#index, #op);
                #call
                observer.after(#index, #op, LayerOutput::#variant(data.get(..#len).unwrap_or(&[])));
            }),
            call: quote!({ #call }),
        };
    }

    // The call in predict: carve the output region, read the inputs around it.
    let out_pool = match model.plan.locations[layer.output] {
        Location::Arena { buffer, .. } => Some(graph.tensors[buffer].dtype),
        _ => None,
    };
    let args: Vec<TokenStream> = layer
        .inputs
        .iter()
        .map(|&t| read_expr(model, t, statics, layer.index, out_pool))
        .collect();
    let reads_rest = layer.inputs.iter().any(|&t| match model.plan.locations[t] {
        Location::Arena { buffer, .. } => Some(graph.tensors[buffer].dtype) == out_pool,
        _ => false,
    });
    let rest = if reads_rest { quote!(rest) } else { quote!(_) };
    let (call, output_ref) = match model.plan.locations[layer.output] {
        Location::Arena { buffer, .. } => {
            let region = region_ident(buffer);
            let field = pool_field(graph.tensors[buffer].dtype);
            (
                quote! {
                    let (output, #rest) = rt::carve(&mut *self.#field, #region);
                    #fn_name(#(#args,)* #(#state_args)* #scratch_arg output);
                },
                quote!(output),
            )
        }
        Location::Output(k) => {
            let field = output_ident(k, graph.outputs.len());
            (
                quote! {
                    #fn_name(#(#args,)* #(#state_args)* #scratch_arg &mut *self.#field);
                },
                quote!(&*self.#field),
            )
        }
        other => {
            let msg = format!("kiln bug: layer {} writes to {other:?}", layer.index);
            (quote!(compile_error!(#msg);), quote!(&[]))
        }
    };
    // The observer's hooks around the same call, for `predict_observed`.
    let index = proc_macro2::Literal::usize_unsuffixed(layer.index);
    let op = layer.op_name;
    let variant = layer_output_variant(out_t.dtype);
    let observed_call = quote!({
        observer.before(#index, #op);
        #call
        observer.after(#index, #op, LayerOutput::#variant(#output_ref));
    });
    let call = quote!({ #call });
    EmittedLayer {
        function,
        call,
        observed_call,
    }
}

/// Where an in-place layer's input and output lie in their pool, in elements: the region from
/// the output's start to the end of whichever ends later, and the input's start in it.
#[derive(Clone, Copy)]
pub(crate) struct InPlaceData {
    /// Start of the region (the output's start) in the pool.
    pub offset: usize,
    /// Length of the region.
    pub len: usize,
    /// Where the input starts in the region.
    pub input_at: usize,
    /// Which input the output overwrites.
    pub slot: usize,
}

/// The [`InPlaceData`] of `layer` (`None` if its tensors are not both in the arena with the
/// output first, which the planner guarantees for the layers it puts in place).
fn in_place_data(model: &Compiled, layer: &Layer, slot: usize) -> Option<InPlaceData> {
    let loc = |t: usize| match model.plan.locations[t] {
        Location::Arena { offset, bytes, .. } => Some((offset, bytes)),
        _ => None,
    };
    let (out_at, out_bytes) = loc(layer.output)?;
    let (in_at, in_bytes) = loc(*layer.inputs.get(slot)?)?;
    let dtype = model.graph.tensors[layer.output].dtype;
    let base = model
        .plan
        .pools
        .iter()
        .find(|p| p.dtype == dtype)
        .map_or(0, |p| p.base);
    let size = dtype.size();
    let end = (out_at + out_bytes).max(in_at + in_bytes);
    Some(InPlaceData {
        offset: (out_at.checked_sub(base)?) / size,
        len: (end - out_at) / size,
        input_at: in_at.checked_sub(out_at)? / size,
        slot,
    })
}

/// For a binary layer writing over input `slot`: the other input's parameter name and the
/// slot as a literal.
fn other_input(slot: usize) -> (TokenStream, proc_macro2::Literal) {
    if slot == 0 {
        (quote!(input2), lit(0))
    } else {
        (quote!(input1), lit(1))
    }
}

/// The statics of a dynamically quantized layer: its weights, weight scales and float32 bias
/// (`[]` when it has none), described by `texts` (weights, scales, bias).
fn dynamic_statics(
    prefix: &str,
    what: &str,
    w: &crate::layer::WeightsDynamic,
    [weights, scales, bias]: [String; 3],
    statics: &mut Statics,
) -> (proc_macro2::Ident, proc_macro2::Ident, TokenStream) {
    let filter = statics.bytes(
        &format!("{prefix}_FILTER"),
        &format!("{what}: {weights}."),
        &w.filter,
    );
    let scales = statics.floats(
        &format!("{prefix}_SCALE"),
        &format!("{what}: {scales}."),
        &w.scales,
    );
    let bias = if w.bias.is_empty() {
        quote!([])
    } else {
        let id = statics.floats(
            &format!("{prefix}_BIAS"),
            &format!("{what}: {bias}."),
            &w.bias,
        );
        quote!(#id)
    };
    (filter, scales, bias)
}

/// The call of `rt::depthwise_conv2d_ring` (or its in-place twin) for a layer of shape
/// `p.shape` with `(input, output)` lengths `lens`; `weights` are its filter, folded bias,
/// multiplier and shift arguments.
fn depthwise_ring_call(
    p: &rt::ConvFast,
    (in_len, out_len): (usize, usize),
    in_place: Option<&InPlaceData>,
    weights: TokenStream,
) -> TokenStream {
    let params = params_expr(p);
    let (in_len, out_len) = (lit(in_len), lit(out_len));
    let ring_w = lit(rt::depthwise_ring_width(p.shape.out_w, p.shape.stride_w));
    match in_place {
        Some(d) => {
            let input_at = lit(d.input_at);
            quote! {
                const PARAMS: rt::ConvFast = #params;
                // The output from byte 0 of `data`, the input from byte INPUT_AT.
                const INPUT_AT: usize = #input_at;
                rt::depthwise_conv2d_ring_in_place::<#in_len, #out_len, #ring_w>(&PARAMS, data, INPUT_AT, #weights, scratch);
            }
        }
        None => quote! {
            const PARAMS: rt::ConvFast = #params;
            // Fixed lengths, so the kernel's index bounds are known to the compiler.
            let (Ok(input), Ok(output)) = (
                <&[i8; #in_len]>::try_from(input),
                <&mut [i8; #out_len]>::try_from(output),
            ) else {
                return;
            };
            rt::depthwise_conv2d_ring::<#in_len, #out_len, #ring_w>(&PARAMS, input, #weights, scratch, output);
        },
    }
}

/// The runtime function a float32 element-wise math kernel calls.
fn math_fn(f: UnaryMath) -> &'static str {
    crate::layer::unary_math(f).0
}

/// The Rust operator of a comparison.
fn comparison_operator(op: Comparison) -> &'static str {
    match op {
        Comparison::Equal => "==",
        Comparison::NotEqual => "!=",
        Comparison::Less => "<",
        Comparison::LessEqual => "<=",
        Comparison::Greater => ">",
        Comparison::GreaterEqual => ">=",
    }
}

/// The `LayerOutput` variant for a tensor of `dtype`.
pub(crate) fn layer_output_variant(dtype: DType) -> proc_macro2::Ident {
    format_ident!("{}", layer_output_name(dtype))
}

/// `LayerOutput` variant names, by element type.
pub(crate) fn layer_output_name(dtype: DType) -> String {
    let rust = dtype.rust_name();
    let mut name = rust.to_uppercase();
    name.truncate(1);
    name + &rust[1..]
}

/// The weights of `rt::depthwise_conv2d_wide` from a depthwise filter (`1HWC` bytes,
/// `channels` per tap): per tap, per group of four channels, `(w0, w2)` and `(w1, w3)` as i16
/// pairs, channels padded to a multiple of 4 with zeros. Compile-time only.
fn widen_depthwise(filter: &[u8], channels: usize) -> impl Iterator<Item = u32> + '_ {
    let groups = channels.div_ceil(4);
    let taps = filter.len() / channels.max(1);
    (0..taps).flat_map(move |t| {
        (0..groups).flat_map(move |g| {
            let w = |j: usize| {
                let c = 4 * g + j;
                if c < channels {
                    filter.get(t * channels + c).copied().unwrap_or(0) as i8 as i16 as u16 as u32
                } else {
                    0
                }
            };
            [w(0) | (w(2) << 16), w(1) | (w(3) << 16)]
        })
    })
}

/// The weights of `rt::depthwise_conv2d_rows` from a 3×3 depthwise filter (`1HWC` bytes,
/// `channels` per tap): per channel, per filter row, `(w0, w1)` and `(w1, w2)` as i16 pairs,
/// doubled when `doubled` (the layer's `fast_requant`).
/// Compile-time only.
fn pair_depthwise(filter: &[u8], channels: usize, doubled: bool) -> impl Iterator<Item = u32> + '_ {
    let scale = if doubled { 2 } else { 1 };
    (0..channels).flat_map(move |c| {
        (0..3).flat_map(move |ky| {
            let w = |kx: usize| {
                let w = filter
                    .get((ky * 3 + kx) * channels + c)
                    .copied()
                    .unwrap_or(0) as i8;
                (w as i16 * scale) as u16 as u32
            };
            [w(0) | (w(1) << 16), w(1) | (w(2) << 16)]
        })
    })
}

/// The table of `rt::depthwise_conv2d_rows6`: per channel the weights of
/// [`pair_depthwise`] (doubled: the layer requantizes fast), the folded bias doubled, the
/// multiplier, `small_offset_constant(right, output offset)` and the right shift.
/// Compile-time only.
fn rows6_table<'a>(w: &'a Weights, p: &'a rt::ConvFast) -> impl Iterator<Item = u32> + 'a {
    let channels = p.shape.out_c;
    let mut pairs = pair_depthwise(&w.filter, channels, true);
    (0..channels).flat_map(move |c| {
        let mut words = [0u32; rt::ROWS6_WORDS];
        for (d, v) in words.iter_mut().take(6).zip(&mut pairs) {
            *d = v;
        }
        let q = if p.per_channel { c } else { 0 };
        let right = -w.shifts.get(q).copied().unwrap_or(0);
        words[6] = (w.folded_bias.get(c).copied().unwrap_or(0) << 1) as u32;
        words[7] = w.multipliers.get(q).copied().unwrap_or(0) as u32;
        words[8] = rt::small_offset_constant(right, p.output_offset) as u32;
        words[9] = right as u32;
        words
    })
}

/// The table of `rt::depthwise_conv2d_single` from a 3×3 depthwise layer over one input
/// channel (`rt::SINGLE_WORDS` per output channel): the folded bias, the weights as i16 pairs
/// `(w00, w02)`, `(w10, w12)`, `(w20, w22)`, `(w01, w11)`, `(w21, 0)` (bias and weights
/// doubled when `p.fast_requant`), the multiplier, `small_offset_constant(right, output
/// offset)` and the right shift word (`rt::single_shift_word`). Compile-time only.
fn single_table<'a>(w: &'a Weights, p: &'a rt::ConvFast) -> impl Iterator<Item = u32> + 'a {
    let channels = p.shape.out_c;
    let scale = if p.fast_requant { 2 } else { 1 };
    (0..channels).flat_map(move |c| {
        let tap = move |ky: usize, kx: usize| {
            let v = w
                .filter
                .get((ky * 3 + kx) * channels + c)
                .copied()
                .unwrap_or(0) as i8;
            (i16::from(v) * scale) as u16 as u32
        };
        let q = if p.per_channel { c } else { 0 };
        let m = w.multipliers.get(q).copied().unwrap_or(0);
        let right = -w.shifts.get(q).copied().unwrap_or(0);
        let start = w
            .folded_bias
            .get(c)
            .copied()
            .unwrap_or(0)
            .wrapping_mul(i32::from(scale));
        [
            start as u32,
            tap(0, 0) | (tap(0, 2) << 16),
            tap(1, 0) | (tap(1, 2) << 16),
            tap(2, 0) | (tap(2, 2) << 16),
            tap(0, 1) | (tap(1, 1) << 16),
            tap(2, 1),
            m as u32,
            rt::small_offset_constant(right, p.output_offset) as u32,
            rt::single_shift_word(right, c + 1 == channels),
        ]
    })
}

/// A 1×1 convolution run as `rt::conv2d_pointwise`: its filter `rows` (`in_c` bytes per
/// output channel) and a table of three constants per output channel, or, with few input
/// channels (`rt::pointwise_small_fits`), as `rt::conv2d_pointwise_small`.
fn pointwise_conv(
    p: &rt::ConvFast,
    w: &Weights,
    rows: &[u8],
    statics: &mut Statics,
    prefix: &str,
    what: &str,
    in_place: Option<usize>,
) -> TokenStream {
    let channel = |oc: usize| {
        let at = |v: &[i32]| v.get(oc).copied().unwrap_or(0);
        rt::pointwise_channel(
            at(&w.folded_bias),
            at(&w.multipliers),
            at(&w.shifts),
            p.output_offset,
        )
    };
    if rt::pointwise_small_fits(p, &w.shifts) {
        return pointwise_small_conv(p, rows, &channel, statics, prefix, what, in_place);
    }
    let filter = statics.bytes(
        &format!("{prefix}_FILTER"),
        &format!(
            "{what}: int8 weights, one row of {} bytes per output channel (its patch, \
             zero-padded to a multiple of 4).",
            p.shape.in_c
        ),
        rows,
    );
    let table: Vec<i32> = (0..p.shape.out_c).flat_map(channel).collect();
    let channels = statics.ints(
        &format!("{prefix}_CHANNELS"),
        &format!(
            "{what}: per output channel, 2 × (bias + input offset × Σ weights), the \
             requantization multiplier (Q31) and the rounding constant 2^(r-1) + output \
             offset × 2^r of its right shift r (`rt::pointwise_channel`)."
        ),
        "i32",
        &table,
    );
    constants_call(
        p,
        format_ident!("conv2d_pointwise"),
        quote!(&#filter.0, &#channels),
        in_place,
    )
}

/// The call of a convolution kernel that takes its constants (`consts`: filter, table)
/// between the layer's buffers and its scratch: `rt::{kernel}(&PARAMS, input, consts,
/// scratch, output)`, or over one buffer (`in_place`: the input's byte offset)
/// `rt::{kernel}_in_place(&PARAMS, data, INPUT_AT, consts, scratch)`.
fn constants_call(
    p: &rt::ConvFast,
    kernel: proc_macro2::Ident,
    consts: TokenStream,
    in_place: Option<usize>,
) -> TokenStream {
    let params = params_expr(p);
    if let Some(input_at) = in_place {
        let input_at = lit(input_at);
        let kernel = format_ident!("{}_in_place", kernel);
        return quote! {
            const PARAMS: rt::ConvFast = #params;
            // The output from byte 0 of `data`, the input from byte INPUT_AT.
            const INPUT_AT: usize = #input_at;
            rt::#kernel(&PARAMS, data, INPUT_AT, #consts, scratch);
        };
    }
    quote! {
        const PARAMS: rt::ConvFast = #params;
        rt::#kernel(&PARAMS, input, #consts, scratch, output);
    }
}

/// A convolution run as `rt::conv2d_tile6`: its filter `rows` (`rt::tile6_row` bytes per
/// output channel: the patch, zero-padded) and a table of four constants per output channel
/// (`rt::tile6_channel`).
fn tile6_conv(
    p: &rt::ConvFast,
    w: &Weights,
    rows: &[u8],
    statics: &mut Statics,
    prefix: &str,
    what: &str,
    in_place: Option<usize>,
) -> TokenStream {
    let row = rt::tile6_row(&p.shape);
    let filter = statics.bytes(
        &format!("{prefix}_FILTER"),
        &format!(
            "{what}: int8 weights, one row of {row} bytes per output channel (its patch, \
             zero-padded to a multiple of 4)."
        ),
        rows,
    );
    let table: Vec<i32> = (0..p.shape.out_c)
        .flat_map(|oc| {
            let at = |v: &[i32]| v.get(oc).copied().unwrap_or(0);
            rt::tile6_channel(
                at(&w.folded_bias),
                at(&w.multipliers),
                at(&w.shifts),
                p.output_offset,
            )
        })
        .collect();
    let channels = statics.ints(
        &format!("{prefix}_CHANNELS"),
        &format!(
            "{what}: per output channel, 2 × (bias + input offset × Σ weights), the \
             requantization multiplier (Q31), the rounding constant 2^(r-1) + output offset \
             × 2^r of its right shift r, and r (`rt::tile6_channel`)."
        ),
        "i32",
        &table,
    );
    constants_call(
        p,
        format_ident!("conv2d_tile6"),
        quote!(&#filter.0, &#channels),
        in_place,
    )
}

/// A 1×1 convolution run as `rt::conv2d_pointwise_small`: one table holding, per output
/// channel, its start value, doubled weights and requantization constants
/// (`rt::pointwise_small_channel` of its filter row in `rows` and its `channel` constants).
fn pointwise_small_conv(
    p: &rt::ConvFast,
    rows: &[u8],
    channel: &dyn Fn(usize) -> [i32; 3],
    statics: &mut Statics,
    prefix: &str,
    what: &str,
    in_place: Option<usize>,
) -> TokenStream {
    let in_c = p.shape.in_c;
    let table: Vec<i32> = rows
        .chunks_exact(in_c)
        .take(p.shape.out_c)
        .enumerate()
        .flat_map(|(oc, row)| rt::pointwise_small_channel(row, channel(oc)).collect::<Vec<_>>())
        .collect();
    let table = statics.ints(
        &format!("{prefix}_TABLE"),
        &format!(
            "{what}: per output channel, 2 × (bias + input offset × Σ weights) five times, \
             the weights doubled as i16 pairs (bytes 0 and 2, 1 and 3 of each group of four \
             input channels), the requantization multiplier (Q31), the rounding constant \
             2^(r-1) + output offset × 2^r and the right shift r \
             (`rt::pointwise_small_channel`)."
        ),
        "i32",
        &table,
    );
    constants_call(
        p,
        format_ident!("conv2d_pointwise_small"),
        quote!(&#table),
        in_place,
    )
}

/// A convolution run as `rt::conv2d_patches`: its filter as rows of patch bytes (OHWI; for a
/// depthwise layer over one input channel, its `1HWC` filter transposed), zero-padded to the
/// row length the tuning chose.
#[allow(clippy::too_many_arguments)]
fn patch_conv(
    layer: &Layer,
    p: &rt::ConvFast,
    w: &Weights,
    tuning: &Tuning,
    statics: &mut Statics,
    prefix: &str,
    what: &str,
    in_place: Option<usize>,
) -> TokenStream {
    let row_len = tuning.conv_patch_row(layer).unwrap_or(4);
    let params = params_expr(p);
    let s = &p.shape;
    let patch = s.k_h * s.k_w * s.k_c;
    let depthwise = matches!(layer.kernel, Kernel::DepthwiseConv2d(..));
    let channels = tuning.patch_channels(layer);
    let mut rows = vec![0u8; s.out_c * row_len];
    for oc in 0..s.out_c {
        for k in 0..patch {
            let at = if depthwise {
                k * s.out_c + oc
            } else {
                oc * patch + k
            };
            let to = rt::patch_tile_index(oc, k, row_len, s.out_c, channels);
            rows[to] = w.filter.get(at).copied().unwrap_or(0);
        }
    }
    if tuning.conv_tile6(layer, &w.shifts) && row_len == rt::tile6_row(s) {
        return tile6_conv(p, w, &rows, statics, prefix, what, in_place);
    }
    let pointwise =
        tuning.conv_pointwise(layer, &w.shifts) || tuning.conv_pointwise_small(layer, &w.shifts);
    if pointwise && row_len == s.in_c {
        return pointwise_conv(p, w, &rows, statics, prefix, what, in_place);
    }
    let filter = statics.bytes(
        &format!("{prefix}_FILTER"),
        &if channels > 1 {
            format!(
                "{what}: int8 weights, one row of {row_len} bytes per output channel \
                 (its patch, zero-padded to a multiple of 4), interleaved in tiles of \
                 {channels} channels (`rt::patch_tile_index`)."
            )
        } else {
            format!(
                "{what}: int8 weights, one row of {row_len} bytes per output channel \
                 (its patch, zero-padded to a multiple of 4)."
            )
        },
        &rows,
    );
    let thumb1 = tuning.patch_thumb1(layer);
    let bias = if thumb1 {
        // Patch bytes are read offset by 128: take 128·Σw back out of the bias.
        let unsigned: Vec<i32> = (0..s.out_c)
            .map(|oc| {
                let sum = rows
                    .get(oc * row_len..(oc + 1) * row_len)
                    .unwrap_or(&[])
                    .iter()
                    .fold(0i32, |t, &v| t.wrapping_add(v as i8 as i32));
                let b = w.folded_bias.get(oc).copied().unwrap_or(0);
                b.wrapping_sub(sum.wrapping_mul(128))
            })
            .collect();
        statics.ints(
            &format!("{prefix}_BIAS"),
            &format!(
                "{what}: bias + input offset × Σ weights − 128 × Σ weights, per output \
                 channel (the patch bytes are read offset by 128)."
            ),
            "i32",
            &unsigned,
        )
    } else {
        statics.ints(
            &format!("{prefix}_BIAS"),
            &format!("{what}: bias + input offset × Σ weights, per output channel."),
            "i32",
            &w.folded_bias,
        )
    };
    let (mult, shift) = requantization_statics(prefix, w, statics, what);
    let (pixels, row_len_lit) = (lit(tuning.patch_pixels(layer)), lit(row_len));
    if thumb1 {
        if let Some(input_at) = in_place {
            let input_at = lit(input_at);
            return quote! {
                const PARAMS: rt::ConvFast = #params;
                // The output from byte 0 of `data`, the input from byte INPUT_AT.
                const INPUT_AT: usize = #input_at;
                rt::conv2d_patches_thumb1_in_place(&PARAMS, #row_len_lit, data, INPUT_AT, &#filter.0, &#bias, &#mult, &#shift, scratch);
            };
        }
        return quote! {
            const PARAMS: rt::ConvFast = #params;
            rt::conv2d_patches_thumb1(&PARAMS, #row_len_lit, input, &#filter.0, &#bias, &#mult, &#shift, scratch, output);
        };
    }
    let row_len = row_len_lit;
    let (kernel, generics) = match tuning.dot {
        DotProduct::Dsp => ("conv2d_patches", quote!(#pixels)),
        DotProduct::Scalar => {
            let channels = lit(channels);
            let pairs = tuning.patch_pairs(layer);
            ("conv2d_patches_scalar", quote!(#pixels, #channels, #pairs))
        }
    };
    if let Some(input_at) = in_place {
        let kernel = format_ident!("{kernel}_in_place");
        let input_at = lit(input_at);
        return quote! {
            const PARAMS: rt::ConvFast = #params;
            // The output from byte 0 of `data`, the input from byte INPUT_AT.
            const INPUT_AT: usize = #input_at;
            rt::#kernel::<#generics>(&PARAMS, #row_len, data, INPUT_AT, &#filter.0, &#bias, &#mult, &#shift, scratch);
        };
    }
    let kernel = format_ident!("{kernel}");
    quote! {
        const PARAMS: rt::ConvFast = #params;
        rt::#kernel::<#generics>(&PARAMS, #row_len, input, &#filter.0, &#bias, &#mult, &#shift, scratch, output);
    }
}
