//! The runtime a generated crate gets: exactly the items of [`crate::runtime`] its layers use.
//!
//! The runtime's source files are parsed with `syn`; starting from the `rt::NAME` paths in the
//! emitted items, every runtime item whose name is mentioned by an item already taken is taken
//! too (functions, types, constants, the `dsp` module's functions, the methods of inherent
//! impls, trait methods), until nothing changes. Struct fields that no taken code reads are
//! dropped from the struct and from the emitted struct literals. Test-only items
//! (`#[cfg(test)]`) and the files' `use` lines never reach the output, so the generated `rt`
//! module needs no `allow(dead_code)`.
//!
//! Names are compared as identifiers, so a local variable that shares an item's name would
//! pull that item in: the runtime's item names are kept distinct from its local names, and the
//! golden test builds every generated crate with dead code denied.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::VisitMut;

use crate::runtime::SOURCES;

/// The selected runtime and the emitted items adjusted to it.
pub struct Selection {
    /// The runtime items, in source order, for the generated `rt` module.
    pub runtime: Vec<syn::Item>,
    /// The emitted items with the dropped fields removed from their `rt::` struct literals.
    pub items: TokenStream,
}

/// Selects the runtime that `items` (emitted code referring to the runtime as `rt::`) needs.
pub fn select(items: TokenStream) -> Result<Selection, String> {
    let mut file: syn::File = syn::parse2(items).map_err(|e| format!("emitted items: {e}"))?;
    let mut sources = Vec::new();
    for (name, text) in SOURCES {
        let parsed = syn::parse_file(text).map_err(|e| format!("runtime {name}: {e}"))?;
        sources.extend(parsed.items.into_iter().filter(|i| !skipped(i)));
    }

    // Take what the emitted code needs; drop the fields nothing reads (from the runtime's
    // structs and the emitted literals); again, until no field is dropped (a struct whose
    // fields all went may then not be needed at all).
    loop {
        let out = closure(&sources, &file);
        let dropped = unread_fields(&out, &file);
        if dropped.is_empty() {
            let items = file.items.iter().map(ToTokens::to_token_stream).collect();
            return Ok(Selection {
                runtime: out,
                items,
            });
        }
        for item in &mut sources {
            if let syn::Item::Struct(st) = item {
                if let (Some(unread), syn::Fields::Named(fields)) =
                    (dropped.get(&st.ident.to_string()), &mut st.fields)
                {
                    fields.named = std::mem::take(&mut fields.named)
                        .into_iter()
                        .filter(|f| {
                            f.ident
                                .as_ref()
                                .is_none_or(|i| !unread.contains(&i.to_string()))
                        })
                        .collect();
                }
            }
        }
        DropFields(&dropped).visit_file_mut(&mut file);
    }
}

/// The runtime items (trimmed to the members used) that the emitted `file` needs: `rt::X` in
/// the emitted code, then everything taken code mentions, until nothing new is mentioned.
fn closure(sources: &[syn::Item], file: &syn::File) -> Vec<syn::Item> {
    let mut mentioned = rt_paths(&file.to_token_stream());
    let mut taken = vec![Taken::default(); sources.len()];
    loop {
        let before = mentioned.len();
        let mut changed = false;
        for (item, t) in sources.iter().zip(taken.iter_mut()) {
            changed |= take(item, t, &mut mentioned);
        }
        if !changed && mentioned.len() == before {
            break;
        }
    }
    sources
        .iter()
        .zip(&taken)
        .filter_map(|(item, t)| t.apply(item))
        .collect()
}

/// Per struct of `runtime`, its fields that neither the taken runtime code nor the emitted
/// code (`.field`) reads.
fn unread_fields(runtime: &[syn::Item], file: &syn::File) -> BTreeMap<String, BTreeSet<String>> {
    let mut reads = field_accesses(&file.to_token_stream());
    for item in runtime
        .iter()
        .filter(|i| !matches!(i, syn::Item::Struct(_)))
    {
        reads.extend(idents(&item.to_token_stream()));
        reads.extend(field_accesses(&item.to_token_stream()));
    }
    let mut dropped = BTreeMap::new();
    for item in runtime {
        if let syn::Item::Struct(st) = item {
            if let syn::Fields::Named(fields) = &st.fields {
                let unread: BTreeSet<String> = fields
                    .named
                    .iter()
                    .filter_map(|f| f.ident.as_ref().map(ToString::to_string))
                    .filter(|f| !reads.contains(f))
                    .collect();
                if !unread.is_empty() {
                    dropped.insert(st.ident.to_string(), unread);
                }
            }
        }
    }
    dropped
}

/// The source text of a generated crate's `src/rt.rs` for `runtime`.
pub fn source(runtime: &[syn::Item]) -> String {
    let file = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: runtime.to_vec(),
    };
    format!(
        "// The parts of kiln's runtime this model uses, copied by `kiln build`; do not edit.\n\n{}",
        super::space_items(&prettyplease::unparse(&file))
    )
}

/// Which parts of one runtime item are taken.
#[derive(Clone, Debug, Default)]
struct Taken {
    /// The item itself (for impls and modules: at least one of its members).
    whole: bool,
    /// Members taken: methods of an impl or trait, functions of a module.
    members: BTreeSet<String>,
}

impl Taken {
    /// The item as it appears in the generated runtime, or `None` if it is not taken.
    fn apply(&self, item: &syn::Item) -> Option<syn::Item> {
        if !self.whole {
            return None;
        }
        let mut item = item.clone();
        match &mut item {
            syn::Item::Impl(i) => i.items.retain(|m| match m {
                syn::ImplItem::Fn(f) => self.members.contains(&f.sig.ident.to_string()),
                _ => true,
            }),
            syn::Item::Trait(t) => t.items.retain(|m| match m {
                syn::TraitItem::Fn(f) => self.members.contains(&f.sig.ident.to_string()),
                _ => true,
            }),
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &mut m.content {
                    items.retain(|i| {
                        item_name(i).is_none_or(|n| self.members.contains(&n)) && !skipped(i)
                    });
                }
            }
            _ => {}
        }
        Some(item)
    }
}

/// What a function mentions: its generics, parameter and return types and body, but not its
/// own name (a method named like a free function must not pull that function in).
fn fn_mentions(sig: &syn::Signature, body: Option<&syn::Block>) -> TokenStream {
    let (generics, inputs, output) = (&sig.generics, &sig.inputs, &sig.output);
    let where_clause = &sig.generics.where_clause;
    let mut t = quote::quote!(#generics #inputs #output #where_clause);
    if let Some(b) = body {
        t.extend(b.to_token_stream());
    }
    t
}

/// What an item mentions (for functions, without their own names).
fn item_mentions(item: &syn::Item) -> TokenStream {
    match item {
        syn::Item::Fn(f) => fn_mentions(&f.sig, Some(&f.block)),
        other => other.to_token_stream(),
    }
}

/// Takes what `mentioned` asks of `item`; adds what the taken parts mention. Returns whether
/// anything new was taken.
fn take(item: &syn::Item, t: &mut Taken, mentioned: &mut BTreeSet<String>) -> bool {
    let mut changed = false;
    let mention = |tokens: TokenStream, mentioned: &mut BTreeSet<String>| {
        mentioned.extend(idents(&tokens));
    };
    match item {
        syn::Item::Impl(i) => {
            let self_ty = last_ident(&i.self_ty.to_token_stream());
            let trait_name = i
                .trait_
                .as_ref()
                .and_then(|(_, p, _)| p.segments.last().map(|s| s.ident.to_string()));
            let wanted = self_ty.is_some_and(|s| mentioned.contains(&s))
                && trait_name.as_ref().is_none_or(|n| mentioned.contains(n));
            if !wanted {
                return false;
            }
            if !t.whole {
                t.whole = true;
                changed = true;
                mention(i.self_ty.to_token_stream(), mentioned);
                mention(i.generics.to_token_stream(), mentioned);
            }
            for m in &i.items {
                let name = match m {
                    syn::ImplItem::Fn(f) => f.sig.ident.to_string(),
                    other => {
                        mention(other.to_token_stream(), mentioned);
                        continue;
                    }
                };
                // A trait impl keeps the methods the trait keeps; an inherent impl the ones
                // called somewhere.
                if mentioned.contains(&method_key(&name)) && t.members.insert(name) {
                    changed = true;
                    if let syn::ImplItem::Fn(f) = m {
                        mention(fn_mentions(&f.sig, Some(&f.block)), mentioned);
                    }
                }
            }
        }
        syn::Item::Trait(tr) => {
            if !mentioned.contains(&tr.ident.to_string()) {
                return false;
            }
            if !t.whole {
                t.whole = true;
                changed = true;
                mention(tr.generics.to_token_stream(), mentioned);
            }
            for m in &tr.items {
                if let syn::TraitItem::Fn(f) = m {
                    let name = f.sig.ident.to_string();
                    if mentioned.contains(&method_key(&name)) && t.members.insert(name) {
                        changed = true;
                        mention(fn_mentions(&f.sig, f.default.as_ref()), mentioned);
                    }
                }
            }
        }
        syn::Item::Mod(m) => {
            let Some((_, items)) = &m.content else {
                return false;
            };
            for inner in items.iter().filter(|i| !skipped(i)) {
                let Some(name) = item_name(inner) else {
                    continue;
                };
                if mentioned.contains(&name) && t.members.insert(name) {
                    t.whole = true;
                    changed = true;
                    mention(item_mentions(inner), mentioned);
                }
            }
        }
        other => {
            if !t.whole && item_name(other).is_some_and(|n| mentioned.contains(&n)) {
                t.whole = true;
                changed = true;
                mention(item_mentions(other), mentioned);
            }
        }
    }
    changed
}

/// Items that never reach generated code: `use` lines and `#[cfg(test)]` items.
fn skipped(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Use(_) => return true,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Const(i) => &i.attrs,
        _ => return false,
    };
    attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && a.meta.to_token_stream().to_string().contains("test"))
}

/// The name an item defines (`None` for impls).
fn item_name(item: &syn::Item) -> Option<String> {
    Some(match item {
        syn::Item::Fn(i) => i.sig.ident.to_string(),
        syn::Item::Struct(i) => i.ident.to_string(),
        syn::Item::Enum(i) => i.ident.to_string(),
        syn::Item::Trait(i) => i.ident.to_string(),
        syn::Item::Const(i) => i.ident.to_string(),
        syn::Item::Static(i) => i.ident.to_string(),
        syn::Item::Type(i) => i.ident.to_string(),
        syn::Item::Mod(i) => i.ident.to_string(),
        _ => return None,
    })
}

/// How a method name is recorded among the mentions: apart from plain identifiers.
fn method_key(name: &str) -> String {
    format!(".{name}")
}

/// Every identifier in `tokens` that can name an item: all but field accesses (`.f` not
/// followed by `(`), which name fields (see [`field_accesses`]); and, as [`method_key`]s,
/// those in method position (called after a `.`, or after `::`).
fn idents(tokens: &TokenStream) -> BTreeSet<String> {
    let mut lists = Vec::new();
    collect_lists(tokens, &mut lists);
    let mut out = BTreeSet::new();
    for list in lists {
        for (i, tt) in list.iter().enumerate() {
            let TokenTree::Ident(ident) = tt else {
                continue;
            };
            let after_dot =
                i > 0 && matches!(&list[i - 1], TokenTree::Punct(p) if p.as_char() == '.');
            let called = matches!(list.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis)
                || matches!(list.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
            if !after_dot || called {
                out.insert(ident.to_string());
            }
            // A method is named only by a call (`.m(`, `.m::<`) or a path (`T::m`): a local
            // variable or parameter of the same name does not pull it in.
            let after_path =
                i > 0 && matches!(&list[i - 1], TokenTree::Punct(p) if p.as_char() == ':');
            if (after_dot && called) || after_path {
                out.insert(method_key(&ident.to_string()));
            }
        }
    }
    out
}

/// The segments after `rt` of every `rt::X` / `rt::X::y` path in `tokens`.
fn rt_paths(tokens: &TokenStream) -> BTreeSet<String> {
    let mut lists = Vec::new();
    collect_lists(tokens, &mut lists);
    let mut out = BTreeSet::new();
    for list in lists {
        let is_sep = |i: usize| {
            matches!((list.get(i), list.get(i + 1)),
                (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
        };
        for (start, tt) in list.iter().enumerate() {
            if !matches!(tt, TokenTree::Ident(i) if i == "rt") {
                continue;
            }
            let mut at = start + 1;
            while is_sep(at) {
                let Some(TokenTree::Ident(seg)) = list.get(at + 2) else {
                    break;
                };
                out.insert(seg.to_string());
                if at > start + 1 {
                    // `rt::T::m`: `m` names a method (or an associated item) of `T`.
                    out.insert(method_key(&seg.to_string()));
                }
                at += 3;
            }
            // `rt::T::f(..).m(..)`: a method called on what a runtime call returns (the
            // runtime's own code may never call it, e.g. `Rest::get` in a float model).
            let paren = |i: usize| matches!(list.get(i), Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis);
            if at > start + 1
                && paren(at)
                && matches!(list.get(at + 1), Some(TokenTree::Punct(p)) if p.as_char() == '.')
                && paren(at + 3)
            {
                if let Some(TokenTree::Ident(m)) = list.get(at + 2) {
                    out.insert(method_key(&m.to_string()));
                }
            }
        }
    }
    out
}

/// `f` of every `.f` (field access) in `tokens`.
fn field_accesses(tokens: &TokenStream) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    walk(tokens, &mut |prev, tt| {
        if let (Some(TokenTree::Punct(p)), TokenTree::Ident(i)) = (prev, tt) {
            if p.as_char() == '.' {
                out.insert(i.to_string());
            }
        }
    });
    out
}

/// Calls `f(previous token, token)` for every token, depth first.
fn walk(tokens: &TokenStream, f: &mut impl FnMut(Option<&TokenTree>, &TokenTree)) {
    let mut prev: Option<TokenTree> = None;
    for tt in tokens.clone() {
        f(prev.as_ref(), &tt);
        if let TokenTree::Group(g) = &tt {
            walk(&g.stream(), f);
        }
        prev = Some(tt);
    }
}

/// Every token list (the top level and each group's contents).
fn collect_lists(tokens: &TokenStream, out: &mut Vec<Vec<TokenTree>>) {
    let list: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for tt in &list {
        if let TokenTree::Group(g) = tt {
            collect_lists(&g.stream(), out);
        }
    }
    out.push(list);
}

/// The last identifier of a type's tokens before its generics (`Rest<'a, T>` → `Rest`).
fn last_ident(tokens: &TokenStream) -> Option<String> {
    let mut last = None;
    for tt in tokens.clone() {
        match tt {
            TokenTree::Ident(i) => last = Some(i.to_string()),
            TokenTree::Punct(p) if p.as_char() == '<' => break,
            _ => {}
        }
    }
    last
}

/// Removes dropped fields from `rt::Name { .. }` literals.
struct DropFields<'a>(&'a BTreeMap<String, BTreeSet<String>>);

impl VisitMut for DropFields<'_> {
    fn visit_expr_struct_mut(&mut self, e: &mut syn::ExprStruct) {
        syn::visit_mut::visit_expr_struct_mut(self, e);
        let name = e.path.segments.last().map(|s| s.ident.to_string());
        if let Some(dropped) = name.and_then(|n| self.0.get(&n)) {
            e.fields = std::mem::take(&mut e.fields)
                .into_iter()
                .filter(|f| match &f.member {
                    syn::Member::Named(i) => !dropped.contains(&i.to_string()),
                    syn::Member::Unnamed(_) => true,
                })
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn takes_what_is_used_and_drops_unread_fields() {
        let items = quote! {
            const PARAMS: rt::ConvFast = rt::ConvFast {
                shape: rt::ConvShape {
                    batches: 1, in_h: 1, in_w: 1, in_c: 4, out_h: 1, out_w: 1, out_c: 2,
                    k_h: 1, k_w: 1, k_c: 4, stride_h: 1, stride_w: 1, dilation_h: 1,
                    dilation_w: 1, pad_top: 0, pad_left: 0, depth_multiplier: 1,
                },
                input_zero_point: 0, output_offset: 0, per_channel: true, act_min: -128,
                act_max: 127,
            };
            fn layer(input: &[i8], output: &mut [i8]) {
                rt::conv2d_fast::<rt::Scalar>(&PARAMS, input, &[], &[], &[], &[], output);
            }
        };
        let sel = select(items).unwrap();
        let names: BTreeSet<String> = sel.runtime.iter().filter_map(item_name).collect();
        for want in ["conv2d_fast", "ConvFast", "ConvShape", "Scalar", "Dot"] {
            assert!(names.contains(want), "{want} missing from {names:?}");
        }
        // Not used by this layer: other kernels, the DSP path, test-only reference kernels.
        for unwanted in [
            "depthwise_conv2d_fast",
            "Dsp",
            "dsp",
            "conv2d",
            "softmax",
            "Region",
        ] {
            assert!(!names.contains(unwanted), "{unwanted} taken: {names:?}");
        }
        let text = source(&sel.runtime);
        assert!(!text.contains("cfg(test)") && !text.contains("allow(dead_code)"));
        // The 1×1 convolution never reads the depth multiplier: gone from struct and literal.
        assert!(!text.contains("depth_multiplier"));
        assert!(!sel.items.to_string().contains("depth_multiplier"));
        assert!(sel.items.to_string().contains("stride_w"));
    }

    #[test]
    fn a_struct_whose_fields_all_go_goes_too() {
        // An unrolled layer only stores through `rt::store`, which never reads the geometry.
        let items = quote! {
            const PARAMS: rt::ConvFast = rt::ConvFast {
                shape: rt::ConvShape {
                    batches: 1, in_h: 1, in_w: 1, in_c: 4, out_h: 1, out_w: 1, out_c: 2,
                    k_h: 1, k_w: 1, k_c: 4, stride_h: 1, stride_w: 1, dilation_h: 1,
                    dilation_w: 1, pad_top: 0, pad_left: 0, depth_multiplier: 1,
                },
                input_zero_point: 0, output_offset: 0, per_channel: true, act_min: -128,
                act_max: 127,
            };
            fn layer(output: &mut [i8]) {
                rt::store(&PARAMS, &[1], &[0], output, 0, 0, 5);
            }
        };
        let sel = select(items).unwrap();
        let names: BTreeSet<String> = sel.runtime.iter().filter_map(item_name).collect();
        assert!(
            names.contains("ConvFast") && !names.contains("ConvShape"),
            "{names:?}"
        );
        assert!(!sel.items.to_string().contains("shape"));
    }

    #[test]
    fn a_local_named_like_a_method_does_not_name_it() {
        // `block` is also `Dot::block`: as a local it must not pull the method in.
        let local = idents(&quote! { let block = out.get_mut(0); block.get_mut(1); });
        assert!(local.contains("block") && !local.contains(&method_key("block")));
        for call in [
            quote! { D::block::<1, 2>(x) },
            quote! { d.block(x) },
            quote! { d.block::<1>(x) },
        ] {
            assert!(idents(&call).contains(&method_key("block")), "{call}");
        }
        // Field reads name neither.
        let field = idents(&quote! { p.block + 1 });
        assert!(!field.contains("block") && !field.contains(&method_key("block")));
        // Generated code names methods by path.
        assert!(rt_paths(&quote! { rt::Rest::whole(a) }).contains(&method_key("whole")));
        let chained = rt_paths(&quote! { rt::Rest::whole(a).get(b) });
        assert!(chained.contains(&method_key("get")));
        assert!(!rt_paths(&quote! { output.get(b) }).contains(&method_key("get")));
    }
}
