//! The Rust back-end: a planned model → the source of a `no_std` crate.
//!
//! The crate's `lib.rs` is built with `quote`, parsed into a `syn::File` and printed with
//! `prettyplease`. Kernels come from [`runtime`], whose source is copied in as `src/rt.rs`.

mod layers;
pub mod runtime;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{DType, Tensor};
use crate::plan::Location;
use crate::Compiled;

/// The runtime's source, as copied into generated crates (its unit tests stripped).
pub fn runtime_source() -> String {
    let full = include_str!("runtime.rs");
    let cut = full.find("#[cfg(test)]\nmod tests").unwrap_or(full.len());
    format!(
        "// Copied from kiln-codegen's runtime by `kiln build`; do not edit.\n{}",
        full[..cut].trim_end()
    ) + "\n"
}

/// How weights are stored in the generated source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightStorage {
    /// `include_bytes!` of `.bin` files under `data/` (for crates on disk).
    Files,
    /// Byte-string literals in the source (for the proc macro).
    Inline,
}

/// Options of the generated code.
#[derive(Clone, Debug)]
pub struct EmitOptions {
    /// How weights are stored.
    pub weights: WeightStorage,
    /// The model file name, for the doc header.
    pub source_name: String,
}

/// The generated `lib.rs` tokens plus the data files it includes (`data/NAME.bin`).
pub struct Emitted {
    /// The crate root (`#![no_std]`, API, layers).
    pub lib: TokenStream,
    /// Data files referenced with `include_bytes!`, as (file name, bytes).
    pub data_files: Vec<(String, Vec<u8>)>,
}

/// Collects statics (weights, constants) while layers are emitted.
pub(crate) struct Statics {
    storage: WeightStorage,
    items: Vec<TokenStream>,
    data_files: Vec<(String, Vec<u8>)>,
}

impl Statics {
    /// Adds a byte blob (int8 weights) as an aligned static and returns its name.
    pub(crate) fn bytes(&mut self, name: &str, doc: &str, bytes: &[u8]) -> proc_macro2::Ident {
        let ident = format_ident!("{}", name);
        let len = bytes.len();
        let init = match self.storage {
            WeightStorage::Files => {
                let file = format!("{}.bin", name.to_lowercase());
                let path = format!("../data/{file}");
                self.data_files.push((file, bytes.to_vec()));
                quote!(*include_bytes!(#path))
            }
            WeightStorage::Inline => {
                let lit = Literal::byte_string(bytes);
                quote!(*#lit)
            }
        };
        self.items.push(quote! {
            #[doc = #doc]
            static #ident: Aligned<[u8; #len]> = Aligned(#init);
        });
        ident
    }

    /// Adds a small integer table as a static array and returns its name.
    pub(crate) fn ints<T: Copy + Into<i64>>(
        &mut self,
        name: &str,
        doc: &str,
        ty: &str,
        values: &[T],
    ) -> proc_macro2::Ident {
        let ident = format_ident!("{}", name);
        let ty = format_ident!("{}", ty);
        let len = values.len();
        let lits = values.iter().map(|&v| {
            let v: i64 = v.into();
            Literal::i64_unsuffixed(v)
        });
        self.items.push(quote! {
            #[doc = #doc]
            static #ident: [#ty; #len] = [#(#lits),*];
        });
        ident
    }
}

/// Elements × type of a tensor, e.g. `int8[1, 49, 10, 1]`.
pub(crate) fn shape_str(t: &Tensor) -> String {
    let dims: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
    format!("{}[{}]", t.dtype, dims.join(", "))
}

fn rust_type(dtype: DType) -> proc_macro2::Ident {
    format_ident!("{}", dtype.rust_name())
}

fn float_lit(x: f32) -> Literal {
    Literal::f32_unsuffixed(x)
}

/// Names of the I/O items: `Input`/`INPUT_` for one tensor, `Input0`/`INPUT0_` for several.
fn io_names(prefix: &str, k: usize, count: usize) -> (String, String) {
    let ty = if prefix == "input" { "Input" } else { "Output" };
    let up = prefix.to_uppercase();
    if count == 1 {
        (ty.to_string(), up)
    } else {
        (format!("{ty}{k}"), format!("{up}{k}"))
    }
}

/// Items describing one graph input or output: type alias, shape, quantization.
fn io_items(prefix: &str, k: usize, count: usize, t: &Tensor) -> TokenStream {
    let (ty_name, const_prefix) = io_names(prefix, k, count);
    let ty = format_ident!("{}", ty_name);
    let shape_ident = format_ident!("{}_SHAPE", const_prefix);
    let elem = rust_type(t.dtype);
    let n = t.elements();
    let rank = t.shape.len();
    let dims = t.shape.iter().map(|&d| Literal::usize_unsuffixed(d));
    let what = if prefix == "input" { "input" } else { "output" };
    let doc_ty = format!(
        "The {what} tensor `{}`: {}, row-major.",
        t.name,
        shape_str(t)
    );
    let doc_shape = format!("Shape of the {what} tensor.");
    let mut items = quote! {
        #[doc = #doc_shape]
        pub const #shape_ident: [usize; #rank] = [#(#dims),*];
        #[doc = #doc_ty]
        pub type #ty = [#elem; #n];
    };
    if let Some(q) = t.quant.as_ref().filter(|q| q.is_per_tensor()) {
        let scale_ident = format_ident!("{}_SCALE", const_prefix);
        let zp_ident = format_ident!("{}_ZERO_POINT", const_prefix);
        let scale = float_lit(q.scale());
        let zp = Literal::i32_unsuffixed(q.zero_point());
        let doc_s = format!("Quantization scale of the {what}: `real = scale * (q - zero_point)`.");
        let doc_z = format!("Quantization zero point of the {what}.");
        items.extend(quote! {
            #[doc = #doc_s]
            pub const #scale_ident: f32 = #scale;
            #[doc = #doc_z]
            pub const #zp_ident: i32 = #zp;
        });
    }
    items
}

/// Emits the crate root for a compiled model.
pub fn emit(model: &Compiled, opts: &EmitOptions) -> Emitted {
    let graph = &model.graph;
    let mut statics = Statics {
        storage: opts.weights,
        items: Vec::new(),
        data_files: Vec::new(),
    };
    let n_in = graph.inputs.len();
    let n_out = graph.outputs.len();

    let mut api = TokenStream::new();
    for (k, &t) in graph.inputs.iter().enumerate() {
        api.extend(io_items("input", k, n_in, &graph.tensors[t]));
    }
    for (k, &t) in graph.outputs.iter().enumerate() {
        api.extend(io_items("output", k, n_out, &graph.tensors[t]));
    }
    let arena_bytes = model.plan.arena_bytes;

    let mut layer_fns = TokenStream::new();
    let mut calls = TokenStream::new();
    for (i, layer) in model.layers.iter().enumerate() {
        if !model.plan.runs[i] {
            continue; // an aliased RESHAPE: its output reuses its input's bytes
        }
        let emitted = layers::emit_layer(model, layer, &mut statics);
        layer_fns.extend(emitted.function);
        calls.extend(emitted.call);
    }

    // Output fields and the predict signature.
    let out_fields: Vec<proc_macro2::Ident> = (0..n_out)
        .map(|k| {
            if n_out == 1 {
                format_ident!("output")
            } else {
                format_ident!("output{}", k)
            }
        })
        .collect();
    let out_types: Vec<proc_macro2::Ident> = (0..n_out)
        .map(|k| format_ident!("{}", io_names("output", k, n_out).0))
        .collect();
    let out_zeros: Vec<TokenStream> = graph
        .outputs
        .iter()
        .map(|&t| {
            let n = graph.tensors[t].elements();
            if graph.tensors[t].dtype == DType::F32 {
                quote!([0.0; #n])
            } else {
                quote!([0; #n])
            }
        })
        .collect();
    let in_args: Vec<TokenStream> = (0..n_in)
        .map(|k| {
            let name = input_ident(k, n_in);
            let ty = format_ident!("{}", io_names("input", k, n_in).0);
            quote!(#name: &#ty)
        })
        .collect();
    let (ret_ty, ret_val) = if n_out == 1 {
        (quote!(&Output), quote!(&self.output))
    } else {
        (quote!((#(&#out_types),*)), quote!((#(&self.#out_fields),*)))
    };
    let predict_doc = if n_out == 1 {
        "Runs the model on `input` and returns a reference to the output, which stays valid until the next call."
    } else {
        "Runs the model and returns references to its outputs, valid until the next call."
    };

    let header = header_doc(model, opts);
    let statics_items = statics.items;
    let lib = quote! {
        #![doc = #header]
        #![no_std]
        #![forbid(unsafe_code)]
        #![allow(clippy::excessive_precision, clippy::unreadable_literal, clippy::too_many_arguments)]

        mod rt;

        #api

        /// Bytes of the activation arena inside [`Model`] (intermediate tensors only: the
        /// input stays in the caller's buffer and the output has its own field).
        pub const ARENA_BYTES: usize = #arena_bytes;

        /// The compiled model: its activation arena and output buffer. `Model::new` is `const`,
        /// so a model can live in a `static`.
        pub struct Model {
            arena: [i8; ARENA_BYTES],
            #(#out_fields: #out_types,)*
        }

        impl Model {
            /// A model with a zeroed arena.
            pub const fn new() -> Self {
                Model {
                    arena: [0; ARENA_BYTES],
                    #(#out_fields: #out_zeros,)*
                }
            }

            #[doc = #predict_doc]
            pub fn predict(&mut self, #(#in_args),*) -> #ret_ty {
                #calls
                #ret_val
            }
        }

        impl Default for Model {
            fn default() -> Self {
                Self::new()
            }
        }

        /// Wrapper that aligns constant data to 4 bytes.
        #[repr(C, align(4))]
        struct Aligned<T: ?Sized>(T);

        #(#statics_items)*

        #layer_fns
    };
    Emitted {
        lib,
        data_files: statics.data_files,
    }
}

/// The identifier of graph input `k`.
pub(crate) fn input_ident(k: usize, count: usize) -> proc_macro2::Ident {
    if count == 1 {
        format_ident!("input")
    } else {
        format_ident!("input{}", k)
    }
}

/// The crate's top doc comment: what it is and the layer table.
fn header_doc(model: &Compiled, opts: &EmitOptions) -> String {
    let mut s = format!(
        " Inference for `{}`, generated by kiln {} — do not edit.\n\n\
         `no_std`, no allocation, no dependencies, no `unsafe`. Call [`Model::predict`].\n\n",
        opts.source_name,
        env!("CARGO_PKG_VERSION")
    );
    s.push_str(" Layers:\n\n");
    for line in model.layer_table().lines() {
        s.push_str(&format!(" {line}\n"));
    }
    let out_bytes: usize = model
        .graph
        .outputs
        .iter()
        .map(|&t| model.graph.tensors[t].bytes())
        .sum();
    s.push_str(&format!(
        "\n Memory: arena {} bytes + output {} bytes in `Model`; weights {} bytes in flash.\n",
        model.plan.arena_bytes,
        out_bytes,
        model.weight_bytes()
    ));
    s
}

/// How a tensor is read by a layer call in `predict`.
pub(crate) fn read_expr(
    model: &Compiled,
    t: usize,
    statics: &mut Statics,
    layer: usize,
) -> TokenStream {
    let graph = &model.graph;
    match model.plan.locations[t] {
        Location::Input(k) => {
            let id = input_ident(k, graph.inputs.len());
            quote!(#id)
        }
        Location::Output(k) => {
            let f = if graph.outputs.len() == 1 {
                format_ident!("output")
            } else {
                format_ident!("output{}", k)
            };
            quote!(&self.#f)
        }
        Location::Arena { offset, bytes } => quote!(rest.get(#offset, #bytes)),
        Location::Const | Location::Unused => {
            let tensor = &graph.tensors[t];
            let name = format!("L{layer:02}_CONST_T{t}");
            let doc = format!("Constant operand `{}` {}.", tensor.name, shape_str(tensor));
            let ident = statics.ints(&name, &doc, "i8", &tensor.data_i8());
            quote!(&#ident)
        }
    }
}
