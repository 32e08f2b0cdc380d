//! One function per layer: its constants, its weights as statics, and its call in `predict`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{doc, output_ident, read_expr, region_ident, shape_str, Statics};
use crate::back::rust::runtime as rt;
use crate::ir::DType;
use crate::plan::Location;
use crate::prepare::{Kernel, Layer, Weights};
use crate::Compiled;

/// A layer's function and the statement in `predict` that calls it.
pub(crate) struct EmittedLayer {
    pub function: TokenStream,
    pub call: TokenStream,
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
    quote!(&#filter.0, #bias, &#mult, &#shift)
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
        Kernel::Conv2d(p, _) | Kernel::DepthwiseConv2d(p, _) => format!(
            "{}{}.",
            conv_details(&p.shape),
            clamp(p.act_min, p.act_max)
        ),
        Kernel::AveragePool(p) | Kernel::MaxPool(p) => format!(
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
        _ => return None,
    })
}

/// Emits one layer.
pub(crate) fn emit_layer(model: &Compiled, layer: &Layer, statics: &mut Statics) -> EmittedLayer {
    let graph = &model.graph;
    let fn_name = format_ident!("layer_{:02}_{}", layer.index, layer.op_name.to_lowercase());
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
    } else {
        (1..=layer.inputs.len())
            .map(|k| format_ident!("input{}", k))
            .collect()
    };
    let in_params = in_names.iter().zip(&in_types).map(|(n, ty)| {
        let ty = format_ident!("{}", ty.rust_name());
        quote!(#n: &[#ty])
    });
    let out_ty = format_ident!("{}", out_t.dtype.rust_name());

    let body = match &layer.kernel {
        Kernel::Conv2d(p, w) => {
            let params = params_expr(p);
            let args = weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::Conv = #params;
                rt::conv2d(&PARAMS, input, #args, output);
            }
        }
        Kernel::DepthwiseConv2d(p, w) => {
            let params = params_expr(p);
            let args = weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::Conv = #params;
                rt::depthwise_conv2d(&PARAMS, input, #args, output);
            }
        }
        Kernel::FullyConnected(p, w) => {
            let params = params_expr(p);
            let args = weight_args(&prefix, w, statics, &what);
            quote! {
                const PARAMS: rt::FullyConnected = #params;
                rt::fully_connected(&PARAMS, input, #args, output);
            }
        }
        Kernel::AveragePool(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Pool = #params;
                rt::average_pool(&PARAMS, input, output);
            }
        }
        Kernel::MaxPool(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Pool = #params;
                rt::max_pool(&PARAMS, input, output);
            }
        }
        Kernel::Add(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Add = #params;
                rt::add(&PARAMS, input1, input2, output);
            }
        }
        Kernel::Softmax(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Softmax = #params;
                rt::softmax(&PARAMS, input, output);
            }
        }
        Kernel::QuantizeF32(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Quantize = #params;
                rt::quantize_f32(&PARAMS, input, output);
            }
        }
        Kernel::Requantize(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Requantize = #params;
                rt::requantize_i8(&PARAMS, input, output);
            }
        }
        Kernel::Dequantize(p) => {
            let params = params_expr(p);
            quote! {
                const PARAMS: rt::Dequantize = #params;
                rt::dequantize_i8(&PARAMS, input, output);
            }
        }
        Kernel::Reshape => quote! { rt::copy(input, output); },
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
    let function = quote! {
        #doc
        fn #fn_name(#(#in_params,)* output: &mut [#out_ty]) {
            #body
        }
    };

    // The call in predict: carve the output region, read the inputs around it.
    let args: Vec<TokenStream> = layer
        .inputs
        .iter()
        .map(|&t| read_expr(model, t, statics, layer.index))
        .collect();
    let reads_arena = layer
        .inputs
        .iter()
        .any(|&t| matches!(model.plan.locations[t], Location::Arena { .. }));
    let rest = if reads_arena { quote!(rest) } else { quote!(_) };
    let call = match model.plan.locations[layer.output] {
        Location::Arena { buffer, .. } => {
            let region = region_ident(buffer);
            quote! {
                let (output, #rest) = rt::carve(&mut self.arena, #region);
                #fn_name(#(#args,)* output);
            }
        }
        Location::Output(k) => {
            let field = output_ident(k, graph.outputs.len());
            let rest_binding = if reads_arena {
                quote!(let rest = rt::Rest::whole(&self.arena);)
            } else {
                quote!()
            };
            quote! {
                #rest_binding
                #fn_name(#(#args,)* &mut self.#field);
            }
        }
        other => {
            let msg = format!("kiln bug: layer {} writes to {other:?}", layer.index);
            quote!(compile_error!(#msg);)
        }
    };
    let call = quote!({ #call });
    EmittedLayer { function, call }
}
