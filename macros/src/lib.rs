//! `kiln::include_model!`: compiles a quantized TensorFlow Lite model into a `no_std` Rust
//! module at build time.
//!
//! ```ignore
//! kiln::include_model!("models/kws.tflite");                       // -> pub mod kws { .. }
//! kiln::include_model!("models/kws.tflite", name = wake, target = "cortex-m4");
//! kiln::include_model!("models/vww.tflite", weight_section = ".qspi_weights"); // weights in a link section
//! kiln::include_model!("models/vww.tflite", band_budget = 60);  // first layers band by band: less RAM, ≤6% more MACs
//!
//! let mut model = kws::Model::new();
//! let output: &kws::Output = model.predict(&input);
//! ```
//!
//! The path is relative to the calling crate's `CARGO_MANIFEST_DIR`. The module holds the same
//! items as a crate written by `kiln build` (`Model`, `Input`, `Output`, shapes, scales,
//! `ARENA_BYTES`). Every failure is a compile error pointing at the path literal. This crate
//! only parses the arguments and calls `kiln-codegen`.

use std::path::PathBuf;

use proc_macro::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

/// The macro's arguments: a path literal, then `name = ident`, `target = "..."`,
/// `weight_section = "..."`, `table_section = "..."` and `band_budget = N` (per mille).
struct Args {
    path: LitStr,
    name: Option<Ident>,
    target: Option<LitStr>,
    weight_section: Option<LitStr>,
    table_section: Option<LitStr>,
    band_budget: Option<syn::LitInt>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the model path as a string literal, e.g. include_model!(\"models/kws.tflite\")",
            )
        })?;
        let mut args = Args {
            path,
            name: None,
            target: None,
            weight_section: None,
            table_section: None,
            band_budget: None,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "name" if args.name.is_none() => {
                    args.name = Some(input.parse().map_err(|e| {
                        syn::Error::new(e.span(), "`name` takes an identifier, e.g. `name = kws`")
                    })?)
                }
                "target" if args.target.is_none() => {
                    args.target = Some(input.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "`target` takes a string literal, e.g. `target = \"cortex-m4\"`",
                        )
                    })?)
                }
                "weight_section" if args.weight_section.is_none() => {
                    args.weight_section = Some(section_literal(input, "weight_section")?)
                }
                "table_section" if args.table_section.is_none() => {
                    args.table_section = Some(section_literal(input, "table_section")?)
                }
                "band_budget" if args.band_budget.is_none() => {
                    args.band_budget = Some(input.parse().map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "`band_budget` takes an integer (per mille of extra MACs; 0 turns patch-based execution off), e.g. `band_budget = 30`",
                        )
                    })?)
                }
                "name" | "target" | "weight_section" | "table_section" | "band_budget" => {
                    return Err(syn::Error::new(key.span(), format!("option `{key}` given twice")))
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{key}`; the options are `name = ident`, `target = \"core or board\"`, `weight_section = \"section\"`, `table_section = \"section\"` and `band_budget = per_mille`"),
                    ))
                }
            }
        }
        Ok(args)
    }
}

/// A link-section option's string literal.
fn section_literal(input: ParseStream, key: &str) -> syn::Result<LitStr> {
    input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes a string literal, e.g. `{key} = \".qspi_weights\"`"),
        )
    })
}

/// Compiles a .tflite model into `pub mod NAME { .. }` at build time. See the crate docs.
#[proc_macro]
pub fn include_model(input: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(input as Args);
    expand(&args)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

fn expand(args: &Args) -> syn::Result<proc_macro2::TokenStream> {
    // The options first, each error on its own token: a bad option is not the model's fault.
    if let Some(ident) = &args.name {
        kiln_codegen::check_name(&ident.to_string())
            .map_err(|e| syn::Error::new(ident.span(), format!("`name`: {e}")))?;
    }
    if let Some(target) = &args.target {
        kiln_codegen::lookup_target(&target.value())
            .map_err(|e| syn::Error::new(target.span(), format!("`target`: {e}")))?;
    }
    let placement = kiln_codegen::Placement {
        weights: args.weight_section.as_ref().map(LitStr::value),
        tables: args.table_section.as_ref().map(LitStr::value),
    };
    for (key, lit) in [
        ("weight_section", &args.weight_section),
        ("table_section", &args.table_section),
    ] {
        if let Some(lit) = lit {
            let alone = if key == "weight_section" {
                kiln_codegen::Placement {
                    weights: Some(lit.value()),
                    tables: None,
                }
            } else {
                kiln_codegen::Placement {
                    weights: None,
                    tables: Some(lit.value()),
                }
            };
            alone
                .check()
                .map_err(|e| syn::Error::new(lit.span(), format!("`{key}`: {e}")))?;
        }
    }
    let band_budget = args
        .band_budget
        .as_ref()
        .map(|lit| {
            lit.base10_parse::<u32>()
                .ok()
                .filter(|&v| v <= 1000)
                .ok_or_else(|| {
                    syn::Error::new(
                        lit.span(),
                        "`band_budget`: per mille of extra MACs, 0 to 1000 (0 turns patch-based execution off)",
                    )
                })
        })
        .transpose()?;
    let span = args.path.span();
    let err = |msg: String| syn::Error::new(span, msg);
    let rel = PathBuf::from(args.path.value());
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or_else(|| err("CARGO_MANIFEST_DIR is not set; build with cargo".into()))?;
    let path = base.join(&rel);
    let bytes = std::fs::read(&path)
        .map_err(|e| err(format!("cannot read model file {}: {e}", path.display())))?;
    let name = match &args.name {
        Some(ident) => ident.to_string(),
        None => kiln_codegen::default_name(&rel),
    };
    let source_name = rel
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("model.tflite");
    let target = args.target.as_ref().map(LitStr::value);
    let track = path.to_str();
    kiln_codegen::generate_module_with(
        &bytes,
        &name,
        source_name,
        target.as_deref(),
        track,
        &kiln_codegen::BuildOptions {
            placement,
            band_budget_per_mille: band_budget,
        },
    )
    .map_err(|e| err(format!("{}: {e}", rel.display())))
}
