//! The Rust back-end: a planned model → the source of a `no_std` crate.
//!
//! The crate's `lib.rs` is built with `quote`, parsed into a `syn::File` and printed with
//! `prettyplease`. Kernels come from [`crate::runtime`]: the items a model uses are copied in
//! as `src/rt.rs` ([`runtime_items`]).

mod layers;
pub mod runtime_items;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::compiled::Compiled;
use crate::ir::{shape_str, DType, Tensor};
use crate::plan::Location;
use crate::tune::Tuning;

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
    /// The board or core the code is tuned for, resolved (`None`: portable code). Its core
    /// decides the tuning ([`crate::tune`]); its name goes into the doc header.
    pub target: Option<kiln_targets::Target>,
    /// Link sections for the weights and the lookup tables (default: none, i.e. `.rodata`).
    pub placement: Placement,
}

/// Where the generated constant data goes: the default read-only data, or named link sections
/// (e.g. external QSPI flash that the linker script maps).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// Link section of the weights: filters, biases, requantization multipliers and shifts.
    pub weights: Option<String>,
    /// Link section of the lookup tables (activation tables).
    pub tables: Option<String>,
}

impl Placement {
    /// Checks both section names: 1 to 64 ASCII letters, digits, `.`, `_` or `$`.
    pub fn check(&self) -> Result<(), String> {
        for (what, name) in [("weights", &self.weights), ("tables", &self.tables)] {
            if let Some(name) = name {
                let ok = (1..=64).contains(&name.len())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '$'));
                if !ok {
                    return Err(format!(
                        "link section for the {what} {:?} is not a section name (1 to 64 ASCII \
                         letters, digits, '.', '_' or '$', e.g. \".qspi_weights\")",
                        crate::names::shown(name)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The generated items plus the data files they include (`data/NAME.bin`).
pub struct Emitted {
    /// Inner doc attributes: what the model is, the layer table, memory.
    pub header: TokenStream,
    /// The items: API, `Model`, arena regions, per-layer statics and functions. They refer
    /// to the runtime as `rt::`.
    pub items: TokenStream,
    /// Data files referenced with `include_bytes!`, as (file name, bytes).
    pub data_files: Vec<(String, Vec<u8>)>,
    /// The runtime items the layers use: the generated `rt` module.
    pub runtime: Vec<syn::Item>,
}

/// Lints the generated items allow: long float constants and Q31 tables are exact on purpose.
fn allowed_lints() -> TokenStream {
    quote! {
        #![deny(unsafe_code)]
        #![allow(clippy::excessive_precision, clippy::unreadable_literal)]
    }
}

impl Emitted {
    /// The root of a standalone crate (`src/lib.rs`, with the runtime in `src/rt.rs`).
    pub fn crate_root(&self) -> TokenStream {
        let (header, items, lints) = (&self.header, &self.items, allowed_lints());
        quote! {
            #header
            #![no_std]
            #lints

            mod rt;

            #items
        }
    }

    /// `pub mod NAME { .. }` with the runtime inlined, for the proc macro. `track` is a path
    /// to `include_bytes!` so that editing the model file makes cargo rebuild.
    pub fn module(&self, name: &proc_macro2::Ident, track: Option<&str>) -> TokenStream {
        let (header, items, lints) = (&self.header, &self.items, allowed_lints());
        let runtime = &self.runtime;
        let track = track.map(|path| {
            quote!(
                const _: &[u8] = include_bytes!(#path);
            )
        });
        quote! {
            pub mod #name {
                #header
                #lints

                mod rt {
                    #(#runtime)*
                }

                #track

                #items
            }
        }
    }
}

/// Collects statics (weights, constants) while layers are emitted.
pub(crate) struct Statics {
    storage: WeightStorage,
    placement: Placement,
    /// Whether a byte blob (and so the `Aligned` wrapper) was emitted.
    uses_aligned: bool,
    items: Vec<TokenStream>,
    data_files: Vec<(String, Vec<u8>)>,
    /// Every static emitted so far, by name, with its contents: the band layers of
    /// patch-based execution ask for their operator's weights once per band, and get the
    /// first copy.
    emitted: std::collections::HashMap<String, String>,
}

/// Whether [`Statics::claim`] found the static already emitted.
enum Claim {
    /// New: emit it under this name.
    New(proc_macro2::Ident),
    /// Emitted before with the same contents: use this name.
    Existing(proc_macro2::Ident),
}

impl Statics {
    /// The name to emit a static `name` with these `contents` (any exact rendering) under:
    /// the earlier one when the same static was emitted before, a fresh name when an earlier
    /// static of that name differs.
    fn claim(&mut self, name: &str, contents: String) -> Claim {
        let mut unique = name.to_string();
        let mut n = 1;
        while let Some(previous) = self.emitted.get(&unique) {
            if *previous == contents {
                return Claim::Existing(format_ident!("{}", unique));
            }
            n += 1;
            unique = format!("{name}_{n}");
        }
        self.emitted.insert(unique.clone(), contents);
        Claim::New(format_ident!("{}", unique))
    }

    /// The link-section attribute of static `name` (a lookup table when it ends in `_TABLE`,
    /// else weights), if the placement names one. A link section is an `unsafe` attribute:
    /// the linker script decides what the section's addresses are.
    fn section(&self, name: &str) -> TokenStream {
        let section = if name.ends_with("_TABLE") {
            &self.placement.tables
        } else {
            &self.placement.weights
        };
        match section {
            Some(s) => quote! {
                #[allow(unsafe_code)]
                #[unsafe(link_section = #s)]
            },
            None => quote!(),
        }
    }

    /// Adds a byte blob (int8 weights) as an aligned static and returns its name.
    pub(crate) fn bytes(&mut self, name: &str, text: &str, bytes: &[u8]) -> proc_macro2::Ident {
        self.uses_aligned = true;
        let ident = match self.claim(name, format!("{bytes:?}")) {
            Claim::New(ident) => ident,
            Claim::Existing(ident) => return ident,
        };
        let name = &ident.to_string();
        let len = lit(bytes.len());
        let doc = doc(text);
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
        let section = self.section(name);
        self.items.push(quote! {
            #doc
            #section
            static #ident: Aligned<[u8; #len]> = Aligned(#init);
        });
        ident
    }

    /// Adds a table of 32-bit words (widened weights) as a static array and returns its name.
    pub(crate) fn words(&mut self, name: &str, text: &str, values: &[u32]) -> proc_macro2::Ident {
        let ident = match self.claim(name, format!("{values:?}")) {
            Claim::New(ident) => ident,
            Claim::Existing(ident) => return ident,
        };
        let name = &ident.to_string();
        let len = lit(values.len());
        let doc = doc(text);
        let lits = values.iter().map(|&v| Literal::u32_unsuffixed(v));
        let section = self.section(name);
        self.items.push(quote! {
            #doc
            #section
            static #ident: [u32; #len] = [#(#lits),*];
        });
        ident
    }

    /// Adds a bool table (one byte per element, non-zero = true) as a static array and
    /// returns its name.
    pub(crate) fn bools(&mut self, name: &str, text: &str, bytes: &[u8]) -> proc_macro2::Ident {
        let ident = match self.claim(name, format!("bool {bytes:?}")) {
            Claim::New(ident) => ident,
            Claim::Existing(ident) => return ident,
        };
        let len = lit(bytes.len());
        let doc = doc(text);
        let lits = bytes.iter().map(|&b| b != 0);
        let section = self.section(&ident.to_string());
        self.items.push(quote! {
            #doc
            #section
            static #ident: [bool; #len] = [#(#lits),*];
        });
        ident
    }

    /// Adds a small integer table as a static array and returns its name.
    pub(crate) fn ints<T: Copy + Into<i64>>(
        &mut self,
        name: &str,
        text: &str,
        ty: &str,
        values: &[T],
    ) -> proc_macro2::Ident {
        let values64: Vec<i64> = values.iter().map(|&v| v.into()).collect();
        let unsigned64 = ty == "u64";
        let ident = match self.claim(name, format!("{ty} {values64:?}")) {
            Claim::New(ident) => ident,
            Claim::Existing(ident) => return ident,
        };
        let name = &ident.to_string();
        let ty = format_ident!("{}", ty);
        let len = lit(values.len());
        let doc = doc(text);
        // A uint64 table holds its values' bit patterns (`data_ints` wraps them).
        let lits = values.iter().map(|&v| {
            let v: i64 = v.into();
            if unsigned64 {
                Literal::u64_unsuffixed(v as u64)
            } else {
                Literal::i64_unsuffixed(v)
            }
        });
        let section = self.section(name);
        self.items.push(quote! {
            #doc
            #section
            static #ident: [#ty; #len] = [#(#lits),*];
        });
        ident
    }
}

/// Doc attributes for `text`, one per line, each with the leading space rustdoc expects.
pub(crate) fn doc(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}

/// Inner doc attributes (`//!`) for `text`, one per line.
fn inner_doc(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        quote!(#![doc = #l])
    });
    quote!(#(#lines)*)
}

/// An unsuffixed `usize` literal (`8000`, not `8000usize`).
pub(crate) fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

impl Statics {
    /// Adds a small float table as a static array (exact: `f32::from_bits` where a literal
    /// could not round-trip) and returns its name.
    pub(crate) fn floats(&mut self, name: &str, text: &str, values: &[f32]) -> proc_macro2::Ident {
        let bits: Vec<u32> = values.iter().map(|v| v.to_bits()).collect();
        let ident = match self.claim(name, format!("{bits:?}")) {
            Claim::New(ident) => ident,
            Claim::Existing(ident) => return ident,
        };
        let name = &ident.to_string();
        let len = lit(values.len());
        let doc = doc(text);
        let lits = values.iter().map(|&v| {
            if v.is_finite() {
                let l = Literal::f32_unsuffixed(v);
                quote!(#l)
            } else {
                let bits = Literal::u32_unsuffixed(v.to_bits());
                quote!(f32::from_bits(#bits))
            }
        });
        let section = self.section(name);
        self.items.push(quote! {
            #doc
            #section
            static #ident: [f32; #len] = [#(#lits),*];
        });
        ident
    }
}

fn rust_type(dtype: DType) -> proc_macro2::Ident {
    format_ident!("{}", dtype.rust_name())
}

/// The zero (initial) value of an element of `dtype`.
fn zero_of(dtype: DType) -> TokenStream {
    match dtype {
        DType::F32 => quote!(0.0),
        DType::Bool => quote!(false),
        _ => quote!(0),
    }
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
    let n = lit(t.elements());
    let rank = lit(t.shape.len());
    let dims = t.shape.iter().map(|&d| lit(d));
    let doc_ty = doc(&format!(
        "The {prefix} tensor `{}`: {}, row-major.",
        crate::names::shown(&t.name),
        shape_str(t)
    ));
    let doc_shape = doc(&format!("Shape of the {prefix} tensor."));
    let mut items = quote! {
        #doc_shape
        pub const #shape_ident: [usize; #rank] = [#(#dims),*];
        #doc_ty
        pub type #ty = [#elem; #n];
    };
    if let Some(q) = t.quant.as_ref().filter(|q| q.is_per_tensor()) {
        let scale_ident = format_ident!("{}_SCALE", const_prefix);
        let zp_ident = format_ident!("{}_ZERO_POINT", const_prefix);
        let scale = float_lit(q.scale());
        let zp = Literal::i32_unsuffixed(q.zero_point());
        let doc_s = doc(&format!(
            "Quantization scale of the {prefix}: `real = scale * (q - zero_point)`."
        ));
        let doc_z = doc(&format!("Quantization zero point of the {prefix}."));
        items.extend(quote! {
            #doc_s
            pub const #scale_ident: f32 = #scale;
            #doc_z
            pub const #zp_ident: i32 = #zp;
        });
        if matches!(t.dtype, DType::I8 | DType::U8 | DType::I16) {
            items.extend(quantize_helper(prefix, k, count, t));
        }
    }
    if prefix == "output"
        && t.elements() > 1
        && matches!(t.dtype, DType::I8 | DType::U8 | DType::I16 | DType::F32)
    {
        let suffix = if count == 1 {
            String::new()
        } else {
            k.to_string()
        };
        let f = format_ident!("top_class{suffix}");
        let d = doc(&format!(
            "The index of the largest element of `{ty_name}` (the first of equals):\n\
             the class a classifier picks."
        ));
        items.extend(quote! {
            #d
            pub fn #f(output: &#ty) -> usize {
                let mut best = 0;
                for (i, v) in output.iter().enumerate() {
                    if output.get(best).is_some_and(|b| v > b) {
                        best = i;
                    }
                }
                best
            }
        });
    }
    items
}

/// `quantize_input(&[f32; N]) -> Input` for an int8, uint8 or int16 input,
/// `dequantize_output(&Output) -> [f32; N]` for such an output, with TFLite's arithmetic (the
/// QUANTIZE and DEQUANTIZE kernels' own).
fn quantize_helper(prefix: &str, k: usize, count: usize, t: &Tensor) -> TokenStream {
    let (quantize, dequantize, range) = match t.dtype {
        DType::U8 => (
            quote!(rt::quantize_f32_u8),
            quote!(rt::dequantize_u8),
            "0, 255",
        ),
        DType::I16 => (
            quote!(rt::quantize_f32_i16),
            quote!(rt::dequantize_i16),
            "-32768, 32767",
        ),
        _ => (
            quote!(rt::quantize_f32),
            quote!(rt::dequantize_i8),
            "-128, 127",
        ),
    };
    let (ty_name, const_prefix) = io_names(prefix, k, count);
    let ty = format_ident!("{}", ty_name);
    let scale = format_ident!("{}_SCALE", const_prefix);
    let zp = format_ident!("{}_ZERO_POINT", const_prefix);
    let n = lit(t.elements());
    let suffix = if count == 1 {
        String::new()
    } else {
        k.to_string()
    };
    if prefix == "input" {
        let f = format_ident!("quantize_input{suffix}");
        let d = doc(&format!(
            "`{ty_name}` from real values as TFLite quantizes them:\n\
             `q = clamp(round(x / {scale}) + {zp}, {range})`,\n\
             the division in `f32`, rounding half away from zero."
        ));
        quote! {
            #d
            pub fn #f(x: &[f32; #n]) -> #ty {
                let mut q = [0; #n];
                #quantize(&rt::Quantize { scale: #scale, zero_point: #zp }, x, &mut q);
                q
            }
        }
    } else {
        let f = format_ident!("dequantize_output{suffix}");
        let d = doc(&format!(
            "The real values of `{ty_name}` as TFLite dequantizes them:\n\
             `x = {scale} · (q - {zp})`, computed in `f64` and rounded once to `f32`."
        ));
        quote! {
            #d
            pub fn #f(q: &#ty) -> [f32; #n] {
                let mut x = [0.0; #n];
                #dequantize(&rt::Dequantize { scale: #scale, zero_point: #zp }, q, &mut x);
                x
            }
        }
    }
}

/// The name of the arena-region constant of buffer `t`.
pub(crate) fn region_ident(t: usize) -> proc_macro2::Ident {
    format_ident!("TENSOR_{}", t)
}

/// The field of `State` holding variable tensor `t`.
pub(crate) fn state_field(t: usize) -> proc_macro2::Ident {
    format_ident!("tensor_{}", t)
}

/// The `Model` field holding the arena pool of `dtype` (`arena` for int8).
pub(crate) fn pool_field(dtype: DType) -> proc_macro2::Ident {
    match dtype {
        DType::I8 => format_ident!("arena"),
        other => format_ident!("arena_{}", other.rust_name()),
    }
}

/// One `const TENSOR_<id>: rt::Region` per arena buffer (in elements of its pool),
/// documented with its lifetime.
fn region_items(model: &Compiled) -> TokenStream {
    let mut items = TokenStream::new();
    // Buffers some call carves or reads by name (an in-place layer names only its `DATA`).
    let mut named = std::collections::BTreeSet::new();
    let buffer_of = |t: usize| match model.plan.locations[t] {
        Location::Arena { buffer, .. } => Some(buffer),
        _ => None,
    };
    for (i, layer) in model.layers.iter().enumerate() {
        if !model.plan.runs[i] {
            continue;
        }
        let slot = model.plan.in_place[i];
        if slot.is_none() {
            named.extend(buffer_of(layer.output));
        }
        for (k, &t) in layer.inputs.iter().enumerate() {
            if slot != Some(k) {
                named.extend(buffer_of(t));
            }
        }
    }
    for b in model
        .plan
        .buffers
        .iter()
        .filter(|b| named.contains(&b.tensor))
    {
        let t = &model.graph.tensors[b.tensor];
        let pool = model.plan.pools.iter().find(|p| p.dtype == b.dtype);
        let base = pool.map_or(0, |p| p.base);
        let size = b.dtype.size();
        let ident = region_ident(b.tensor);
        let (offset, len) = (lit((b.offset - base) / size), lit(b.bytes / size));
        let field = pool_field(b.dtype);
        let text = format!(
            "Tensor {} `{}` ({}) in `{field}`: written by layer {}, last read by layer {}.",
            b.tensor,
            crate::names::shown(&t.name),
            shape_str(t),
            model.layers[b.first].index,
            model.layers[b.last].index
        );
        let d = doc(&text);
        items.extend(quote! {
            #d
            const #ident: rt::Region = rt::Region { offset: #offset, len: #len };
        });
    }
    items
}

/// Emits the crate root for a compiled model, with the runtime items it uses. An error is a
/// kiln bug (emitted code that does not parse).
pub fn emit(model: &Compiled, opts: &EmitOptions) -> Result<Emitted, String> {
    let graph = &model.graph;
    let mut statics = Statics {
        storage: opts.weights,
        placement: opts.placement.clone(),
        uses_aligned: false,
        items: Vec::new(),
        data_files: Vec::new(),
        emitted: Default::default(),
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
    let arena_bytes = lit(model.plan.arena_bytes);
    let regions = region_items(model);

    let tuning = Tuning::for_optional_core(opts.target.map(|t| t.core()));

    // Each layer's statics, then its function.
    let mut layer_items = TokenStream::new();
    let mut calls = TokenStream::new();
    let mut observed_calls = TokenStream::new();
    for i in 0..model.layers.len() {
        if !model.plan.runs[i] {
            continue; // an aliased RESHAPE: its output reuses its input's bytes
        }
        let emitted = layers::emit_layer(model, i, &mut statics, &tuning);
        layer_items.extend(statics.items.drain(..));
        layer_items.extend(emitted.function);
        calls.extend(emitted.call);
        observed_calls.extend(emitted.observed_call);
    }

    // Output fields and the predict signature. A tensor listed twice among the outputs has
    // one field (its first listing's), returned for each listing.
    let returned: Vec<proc_macro2::Ident> = graph
        .outputs
        .iter()
        .map(|t| output_ident(first_listing(&graph.outputs, t), n_out))
        .collect();
    let distinct: Vec<usize> = (0..n_out)
        .filter(|&k| first_listing(&graph.outputs, &graph.outputs[k]) == k)
        .collect();
    let out_fields: Vec<proc_macro2::Ident> =
        distinct.iter().map(|&k| output_ident(k, n_out)).collect();
    let out_types: Vec<proc_macro2::Ident> = distinct
        .iter()
        .map(|&k| format_ident!("{}", io_names("output", k, n_out).0))
        .collect();
    let out_zeros: Vec<TokenStream> = distinct
        .iter()
        .map(|&k| graph.outputs[k])
        .map(|t| {
            let n = lit(graph.tensors[t].elements());
            let zero = zero_of(graph.tensors[t].dtype);
            quote!([#zero; #n])
        })
        .collect();
    let layer_output_variants = DType::ALL.iter().map(|&dtype| {
        let variant = layers::layer_output_variant(dtype);
        let ty = rust_type(dtype);
        let d = doc(&format!("A tensor of `{}`.", dtype.rust_name()));
        quote!(#d #variant(&'a [#ty]),)
    });
    let in_args: Vec<TokenStream> = (0..n_in)
        .map(|k| {
            let name = input_ident(k, n_in);
            let ty = format_ident!("{}", io_names("input", k, n_in).0);
            quote!(#name: &#ty)
        })
        .collect();
    let in_names: Vec<proc_macro2::Ident> = (0..n_in).map(|k| input_ident(k, n_in)).collect();
    // Inputs no layer reads (only a SHAPE folded into a constant, or a ZEROS_LIKE, used them):
    // named once so that they are not unused variables.
    let read_inputs: Vec<usize> = model
        .layers
        .iter()
        .zip(&model.plan.runs)
        .filter(|(_, &runs)| runs)
        .flat_map(|(l, _)| &l.inputs)
        .filter_map(|&t| match model.plan.locations[t] {
            Location::Input(k) => Some(k),
            _ => None,
        })
        .collect();
    let unread: Vec<&proc_macro2::Ident> = (0..n_in)
        .filter(|k| !read_inputs.contains(k))
        .map(|k| &in_names[k])
        .collect();
    let unread_inputs = quote!(#(let _ = #unread;)*);
    let (ret_ty, ret_val) = if n_out == 1 {
        (quote!(&Output), quote!(&self.output))
    } else {
        let all_types = (0..n_out).map(|k| format_ident!("{}", io_names("output", k, n_out).0));
        (quote!((#(&#all_types),*)), quote!((#(&self.#returned),*)))
    };
    let mut predict_text = if n_out == 1 {
        "Runs the model on `input` and returns the output, valid until the next call.".to_string()
    } else {
        "Runs the model and returns its outputs, valid until the next call.".to_string()
    };
    for k in (0..n_out).filter(|k| !distinct.contains(k)) {
        let first = first_listing(&graph.outputs, &graph.outputs[k]);
        predict_text.push_str(&format!(
            "\nOutput {k} is the same tensor as output {first}: both are the same buffer."
        ));
    }
    let predict_doc = doc(&predict_text);

    // The arena's pools (one typed array per element type) and the kernel scratch: fields of
    // `Model`, borrowed by `Work` for one inference; `SharedModel` borrows the pools from its
    // caller instead.
    let mut pools = Vec::new();
    for pool in &model.plan.pools {
        let field = pool_field(pool.dtype);
        let len_const = format_ident!("{}_LEN", field.to_string().to_uppercase());
        let d = doc(&format!(
            "The {} tensors: bytes {}..{} of the arena.",
            pool.dtype,
            pool.base,
            pool.base + pool.bytes
        ));
        let len_doc = doc(&format!(
            "Elements of `{field}`, the arena's {} tensors ({} bytes): the least length of\n\
             the `{field}` array [`SharedModel::predict`] takes.",
            pool.dtype, pool.bytes
        ));
        let zero = zero_of(pool.dtype);
        pools.push(ArenaPool {
            field,
            ty: rust_type(pool.dtype),
            len: lit(pool.bytes / pool.dtype.size()),
            len_const,
            doc: d,
            len_doc,
            zero,
        });
    }
    // Kernel scratch (input patches), shared by the layers that need it, one at a time.
    let scratch_len = model
        .layers
        .iter()
        .zip(&model.plan.runs)
        .zip(&model.plan.in_place)
        .filter(|((_, &runs), _)| runs)
        .map(|((l, _), in_place)| tuning.scratch_len(l, in_place.is_some()))
        .max()
        .unwrap_or(0);
    let scratch_elem_bytes = if tuning.scratch_type() == "u32" { 4 } else { 1 };
    let mut scratch_decl = TokenStream::new();
    let mut scratch_init = TokenStream::new();
    let mut scratch_work = TokenStream::new();
    let mut scratch_borrow = TokenStream::new();
    if scratch_len > 0 {
        let n = lit(scratch_len);
        let ty = format_ident!("{}", tuning.scratch_type());
        let d = doc(&format!(
            "Kernel scratch: {} bytes of input patches for the convolutions.",
            scratch_len * scratch_elem_bytes
        ));
        scratch_decl = quote!(#d scratch: [#ty; #n],);
        scratch_init = quote!(scratch: [0; #n],);
        scratch_work = quote!(scratch: &'a mut [#ty; #n],);
        scratch_borrow = quote!(scratch: &mut self.scratch,);
    }
    // An LSTM's gate values (int16), shared by the LSTM layers like the kernel scratch.
    let gates_len = model
        .layers
        .iter()
        .zip(&model.plan.runs)
        .filter(|(_, &runs)| runs)
        .map(|(l, _)| l.lstm_gates_len())
        .max()
        .unwrap_or(0);
    if gates_len > 0 {
        let n = lit(gates_len);
        let d = doc(&format!(
            "LSTM scratch: the four gates' int16 values of one time step ({} bytes).",
            gates_len * 2
        ));
        scratch_decl.extend(quote!(#d lstm_gates: [i16; #n],));
        scratch_init.extend(quote!(lstm_gates: [0; #n],));
        scratch_work.extend(quote!(lstm_gates: &'a mut [i16; #n],));
        scratch_borrow.extend(quote!(lstm_gates: &mut self.lstm_gates,));
    }
    let scratch_bytes = lit(scratch_len * scratch_elem_bytes + gates_len * 2);
    // The variable tensors, when the model has any: a `State` in `Model` and `SharedModel`.
    let has_state = !graph.variables.is_empty() || !model.layer_state().is_empty();
    let state = if has_state {
        state_items(model)
    } else {
        quote!()
    };
    let (state_decl, state_init, state_reset, state_borrow, state_work) = if has_state {
        (
            quote!(/// The variable tensors, kept from one call to the next.
                state: State,),
            quote!(state: State::INITIAL,),
            quote!(self.state = State::INITIAL;),
            quote!(state: &mut self.state,),
            quote!(/// The model's state.
                state: &'a mut State,),
        )
    } else {
        Default::default()
    };
    let pool_decls = pools.iter().map(|p| {
        let ArenaPool {
            field,
            ty,
            len_const,
            doc,
            ..
        } = p;
        quote!(#doc #field: [#ty; #len_const],)
    });
    let pool_inits = pools.iter().map(|p| {
        let ArenaPool {
            field,
            zero,
            len_const,
            ..
        } = p;
        quote!(#field: [#zero; #len_const],)
    });
    let pool_consts = pools.iter().map(|p| {
        let ArenaPool {
            len,
            len_const,
            len_doc,
            ..
        } = p;
        quote!(#len_doc pub const #len_const: usize = #len;)
    });
    let work_pools = pools.iter().map(|p| {
        let ArenaPool {
            field,
            ty,
            len_const,
            doc,
            ..
        } = p;
        quote!(#doc #field: &'a mut [#ty; #len_const],)
    });
    let pool_fields: Vec<&proc_macro2::Ident> = pools.iter().map(|p| &p.field).collect();
    let shared_generics: Vec<proc_macro2::Ident> =
        (0..pools.len()).map(|k| format_ident!("N{}", k)).collect();
    let shared_params = pools.iter().zip(&shared_generics).map(|(p, n)| {
        let (field, ty) = (&p.field, &p.ty);
        quote!(#field: &mut [#ty; #n])
    });
    let shared_checks = pools.iter().zip(&shared_generics).map(|(p, n)| {
        let (field, len_const) = (&p.field, &p.len_const);
        let msg = format!(
            "the `{field}` array given to SharedModel::predict is shorter than {len_const}"
        );
        quote!(const { assert!(#n >= #len_const, #msg) };)
    });
    let shared_chunks: TokenStream = pools
        .iter()
        .map(|p| {
            let (field, len_const) = (&p.field, &p.len_const);
            quote!(let Some(#field) = #field.first_chunk_mut::<#len_const>() else { return #ret_val; };)
        })
        .collect();
    let out_work_fields: Vec<TokenStream> = out_fields
        .iter()
        .zip(&out_types)
        .map(|(f, t)| quote!(#f: &'a mut #t,))
        .collect();
    let aligned = if statics.uses_aligned {
        quote! {
            /// Wrapper that aligns constant data to 4 bytes.
            #[repr(C, align(4))]
            struct Aligned<T: ?Sized>(T);
        }
    } else {
        quote!()
    };
    let header = inner_doc(&header_doc(
        model,
        opts,
        scratch_len * scratch_elem_bytes + gates_len * 2,
    ));
    let stack = crate::fit::stack_bytes(opts.target.map(|t| t.core()));
    let stack_bytes = lit(stack);
    let stack_doc = doc(&match opts.target {
        Some(t) => format!(
            "Bytes of stack [`Model::predict`] needs on `{}`, at most: a bound kiln measured in\n\
             QEMU over real models (`kiln-bench mcu` fails when one needs more). RAM for a\n\
             model in a `static` is `size_of::<Model>()` plus this.",
            t.core().name
        ),
        None => "Bytes of stack [`Model::predict`] needs, at most, on the cores kiln measures\n\
                 (the largest of their bounds; portable code was not measured on a core). RAM\n\
                 for a model in a `static` is `size_of::<Model>()` plus this."
            .to_string(),
    });
    let items = quote! {
        #api

        /// Bytes of the activation arena inside [`Model`]: intermediate tensors only (the
        /// input stays in the caller's buffer, the output has its own field).
        pub const ARENA_BYTES: usize = #arena_bytes;

        /// Bytes of kernel scratch inside [`Model`] besides the arena (input patches of the
        /// convolutions on this target; 0 when no layer needs any).
        pub const SCRATCH_BYTES: usize = #scratch_bytes;

        #stack_doc
        pub const STACK_BYTES: usize = #stack_bytes;

        #(#pool_consts)*

        /// The compiled model: its activation arena and output buffer. `Model::new` is
        /// `const`, so a model can live in a `static`.
        pub struct Model {
            #(#pool_decls)*
            #scratch_decl
            #state_decl
            #(#out_fields: #out_types,)*
        }

        impl Model {
            /// A model with a zeroed arena.
            pub const fn new() -> Self {
                Model {
                    #(#pool_inits)*
                    #scratch_init
                    #state_init
                    #(#out_fields: #out_zeros,)*
                }
            }

            /// Brings the state (the variable tensors: an LSTM's hidden and cell state, …)
            /// back to its initial values, as after [`Model::new`]; a model without state has
            /// nothing to reset.
            pub fn reset(&mut self) {
                #state_reset
            }

            #predict_doc
            pub fn predict(&mut self, #(#in_args),*) -> #ret_ty {
                self.work().predict(#(#in_names),*);
                #ret_val
            }

            /// [`Model::predict`] with `observer` called before and after each layer that
            /// runs (an aliased RESHAPE runs no code and is not reported): to time layers with
            /// a cycle counter, or to look at each layer's output. The same layer functions;
            /// plain `predict` has no hooks at all. (A `dyn` observer, not a generic one: a
            /// generic method would change how the layer functions are inlined into `predict`.)
            pub fn predict_observed(&mut self, #(#in_args,)* observer: &mut dyn Observer) -> #ret_ty {
                self.work().predict_observed(#(#in_names,)* observer);
                #ret_val
            }

            /// The model's buffers, borrowed for one inference.
            #[inline(always)]
            fn work(&mut self) -> Work<'_> {
                Work {
                    #(#pool_fields: &mut self.#pool_fields,)*
                    #scratch_borrow
                    #state_borrow
                    #(#out_fields: &mut self.#out_fields,)*
                }
            }
        }

        /// [`Model`] without an arena of its own: it runs on an arena its caller owns, so
        /// models that never run at the same time can share one buffer. It keeps only its
        /// output and the kernel scratch (`SCRATCH_BYTES`).
        ///
        /// A buffer shared by two int8 models must have the length of the larger arena, e.g.
        /// `[0i8; if a::ARENA_LEN > b::ARENA_LEN { a::ARENA_LEN } else { b::ARENA_LEN }]`;
        /// a shorter one is a compile error. What the buffer holds on entry does not matter:
        /// no layer reads arena bytes it has not written in the same call.
        pub struct SharedModel {
            #scratch_decl
            #state_decl
            #(#out_fields: #out_types,)*
        }

        impl SharedModel {
            /// A model with zeroed outputs; the arena comes with each call.
            pub const fn new() -> Self {
                SharedModel {
                    #scratch_init
                    #state_init
                    #(#out_fields: #out_zeros,)*
                }
            }

            /// [`Model::reset`]: the state back to its initial values.
            pub fn reset(&mut self) {
                #state_reset
            }

            /// [`Model::predict`] with the caller's arena: the first `*_LEN` elements of each
            /// array are overwritten, the rest is left alone.
            pub fn predict<#(const #shared_generics: usize),*>(
                &mut self,
                #(#shared_params,)*
                #(#in_args),*
            ) -> #ret_ty {
                #(#shared_checks)*
                #shared_chunks
                let mut work = Work {
                    #(#pool_fields,)*
                    #scratch_borrow
                    #state_borrow
                    #(#out_fields: &mut self.#out_fields,)*
                };
                work.predict(#(#in_names),*);
                #ret_val
            }
        }

        impl Default for SharedModel {
            fn default() -> Self {
                Self::new()
            }
        }

        /// The buffers one inference works in, borrowed from a [`Model`], or from a
        /// [`SharedModel`] and its caller's arena.
        struct Work<'a> {
            #(#work_pools)*
            #scratch_work
            #state_work
            #(#out_work_fields)*
        }

        #state

        impl Work<'_> {
            /// Runs every layer, in order (inlined into the callers: one copy per caller).
            #[inline(always)]
            fn predict(&mut self, #(#in_args),*) {
                #unread_inputs
                #calls
            }

            /// [`Work::predict`] with the observer's hooks around each layer.
            #[inline(always)]
            fn predict_observed(&mut self, #(#in_args,)* observer: &mut dyn Observer) {
                #unread_inputs
                #observed_calls
            }
        }

        /// Hooks around each layer, for [`Model::predict_observed`]. Both do nothing unless
        /// overridden.
        pub trait Observer {
            /// Called before layer `index` (the operator's index in the model, as in the layer
            /// table above) runs; `op` is its operator, e.g. `"CONV_2D"`.
            fn before(&mut self, index: usize, op: &'static str) {
                let _ = (index, op);
            }

            /// Called after layer `index` ran, with the tensor it wrote.
            fn after(&mut self, index: usize, op: &'static str, output: LayerOutput<'_>) {
                let _ = (index, op, output);
            }
        }

        /// A layer's output as [`Observer::after`] sees it, by element type.
        #[derive(Clone, Copy, Debug)]
        pub enum LayerOutput<'a> {
            #(#layer_output_variants)*
        }

        impl Default for Model {
            fn default() -> Self {
                Self::new()
            }
        }

        #regions

        #aligned

        #layer_items
    };
    let selected = runtime_items::select(items)?;
    Ok(Emitted {
        header,
        items: selected.items,
        data_files: statics.data_files,
        runtime: selected.runtime,
    })
}

/// The `State` struct: one field per variable tensor, with the values TFLM starts it at (the
/// zero point for int8, else 0).
fn state_items(model: &Compiled) -> TokenStream {
    let graph = &model.graph;
    let mut fields = TokenStream::new();
    let mut inits = TokenStream::new();
    for &t in &graph.variables {
        let tensor = &graph.tensors[t];
        let field = state_field(t);
        let ty = rust_type(tensor.dtype);
        let n = lit(tensor.elements());
        let (start, start_text) = match (tensor.dtype, &tensor.quant) {
            (DType::I8, Some(q)) => {
                let zp = q.zero_point() as i8;
                let lit = proc_macro2::Literal::i8_unsuffixed(zp);
                (quote!(#lit), format!("{zp} (its zero point)"))
            }
            (DType::F32, _) => (quote!(0.0), "0".to_string()),
            _ => (quote!(0), "0".to_string()),
        };
        let d = doc(&format!(
            "Tensor {t} `{}` ({}, {} bytes), starting at {start_text}.",
            crate::names::shown(&tensor.name),
            shape_str(tensor),
            tensor.bytes()
        ));
        fields.extend(quote!(#d #field: [#ty; #n],));
        inits.extend(quote!(#field: [#start; #n],));
    }
    for (field, s) in model.layer_state() {
        let d = doc(&format!(
            "Layer state `{field}` ({}[{}], {} bytes), starting at {}.",
            s.dtype,
            s.len,
            s.len * s.dtype.size(),
            s.initial
        ));
        let (field, ty, n) = (format_ident!("{field}"), rust_type(s.dtype), lit(s.len));
        let start = Literal::i64_unsuffixed(s.initial);
        fields.extend(quote!(#d #field: [#ty; #n],));
        inits.extend(quote!(#field: [#start; #n],));
    }
    quote! {
        /// The model's variable tensors (state kept from one call to the next).
        #[derive(Clone, Copy)]
        struct State {
            #fields
        }

        impl State {
            /// The values before the first call and after [`Model::reset`].
            const INITIAL: State = State { #inits };
        }
    }
}

/// One element type's part of the arena, as the emitted items name it.
struct ArenaPool {
    /// The field of `Model` (and of `Work`, and the parameter of `SharedModel::predict`).
    field: proc_macro2::Ident,
    /// Its element type.
    ty: proc_macro2::Ident,
    /// Its length in elements.
    len: proc_macro2::Literal,
    /// The constant holding `len`, e.g. `ARENA_LEN`.
    len_const: proc_macro2::Ident,
    /// The field's doc comment.
    doc: TokenStream,
    /// The constant's doc comment.
    len_doc: TokenStream,
    /// The zero of its element type.
    zero: TokenStream,
}

/// The first position of `t` in `outputs` (where a tensor listed twice is stored).
fn first_listing(outputs: &[usize], t: &usize) -> usize {
    outputs.iter().position(|o| o == t).unwrap_or(0)
}

/// The identifier of graph input `k`.
pub(crate) fn input_ident(k: usize, count: usize) -> proc_macro2::Ident {
    if count == 1 {
        format_ident!("input")
    } else {
        format_ident!("input{}", k)
    }
}

/// The field holding graph output `k`.
pub(crate) fn output_ident(k: usize, count: usize) -> proc_macro2::Ident {
    if count == 1 {
        format_ident!("output")
    } else {
        format_ident!("output{}", k)
    }
}

/// The crate's top doc comment: what it is and the layer table.
/// A note for targets whose kernels need a compiler flag.
fn target_note(opts: &EmitOptions) -> &'static str {
    match opts.target.map(|t| t.core()) {
        Some(c)
            if c.kernels == kiln_targets::KernelStyle::ArmDsp
                && c.rust_target.starts_with("thumbv8m") =>
        {
            "\n\nThe kernels use the Arm DSP extension, which is optional in ARMv8-M: build with\n\
             `RUSTFLAGS=\"-C target-cpu=cortex-m33\"` (or `-C target-feature=+dsp`)."
        }
        _ => "",
    }
}

fn header_doc(model: &Compiled, opts: &EmitOptions, scratch_bytes: usize) -> String {
    let outputs = &model.graph.outputs;
    let out_bytes: usize = (0..outputs.len())
        .filter(|&k| first_listing(outputs, &outputs[k]) == k)
        .map(|k| model.graph.tensors[outputs[k]].bytes())
        .sum();
    format!(
        "Inference for `{}`, generated by kiln {} for {} — do not edit.\n\n\
         `no_std`, no allocation, no dependencies, no `unsafe` outside the runtime's `asm!`\n\
         blocks (Arm instructions, used only by code tuned for an Arm core, each with a portable\n\
         twin){}. Create a [`Model`] and\n\
         call [`Model::predict`].{}\n\n\
         ## Layers\n\n{}\n\
         ## Memory\n\n\
         Arena {} bytes + output {} bytes + kernel scratch {} bytes{} inside `Model`; at most {}\n\
         bytes of stack in `predict` (`STACK_BYTES`); about {} bytes of weights in flash; {}\n\
         multiply-accumulates per inference.{}",
        crate::names::shown(&opts.source_name),
        env!("CARGO_PKG_VERSION"),
        opts.target
            .map_or("any target (portable code)".to_string(), |t| format!(
                "`{}`",
                t.name()
            )),
        if opts.placement == Placement::default() {
            ""
        } else {
            " and the link-section attributes of the statics placed in named sections"
        },
        target_note(opts),
        model.layer_table(),
        model.plan.arena_bytes,
        out_bytes,
        scratch_bytes,
        match model.state_bytes() {
            0 => String::new(),
            n => format!(" + state {n} bytes (kept across calls)"),
        },
        crate::fit::stack_bytes(opts.target.map(|t| t.core())),
        model.weight_bytes(),
        model.macs(),
        model.banding_note()
    )
}

/// How a tensor is read by a layer call in `predict`.
/// `out_pool` is the pool the layer writes (whose other parts are reachable as `rest`).
pub(crate) fn read_expr(
    model: &Compiled,
    t: usize,
    statics: &mut Statics,
    layer: usize,
    out_pool: Option<DType>,
) -> TokenStream {
    let graph = &model.graph;
    match model.plan.locations[t] {
        Location::Input(k) => {
            let id = input_ident(k, graph.inputs.len());
            quote!(#id)
        }
        Location::Output(k) => {
            let f = output_ident(k, graph.outputs.len());
            quote!(&*self.#f)
        }
        Location::Arena { buffer, .. } => {
            let region = region_ident(buffer);
            let dtype = graph.tensors[buffer].dtype;
            if out_pool == Some(dtype) {
                quote!(rest.get(#region))
            } else {
                let field = pool_field(dtype);
                quote!(rt::Rest::whole(&*self.#field).get(#region))
            }
        }
        Location::State(_) => {
            let field = state_field(t);
            quote!(&mut self.state.#field)
        }
        Location::Const | Location::Unused => {
            let tensor = &graph.tensors[t];
            let name = format!("L{layer:02}_CONST_T{t}");
            let doc = format!(
                "Constant operand `{}` {}.",
                crate::names::shown(&tensor.name),
                shape_str(tensor)
            );
            let ident = match tensor.dtype {
                DType::F32 => statics.floats(&name, &doc, &tensor.data_f32()),
                DType::Bool => statics.bools(&name, &doc, tensor.data.as_deref().unwrap_or(&[])),
                DType::I8 => statics.ints(&name, &doc, "i8", &tensor.data_i8()),
                other => statics.ints(&name, &doc, other.rust_name(), &tensor.data_ints()),
            };
            quote!(&#ident)
        }
    }
}

/// Puts a blank line between top-level items of pretty-printed source (prettyplease packs
/// them), so generated code reads like hand-written code.
pub fn space_items(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 16);
    let mut prev = "";
    for line in source.lines() {
        let starts_item = !line.is_empty() && !line.starts_with([' ', '}', ')', ']']);
        let prev_top_level =
            !prev.starts_with(' ') && !prev.starts_with("//") && !prev.starts_with("#!");
        let prev_ended_item =
            prev_top_level && (prev.ends_with('}') || prev.ends_with(';') || prev.ends_with(");"));
        let after_inner_attrs = prev.starts_with("#![") && !line.starts_with("#![");
        if starts_item && (prev_ended_item || after_inner_attrs) {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        prev = line;
    }
    out
}
