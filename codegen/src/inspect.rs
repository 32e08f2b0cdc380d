//! Machine- and human-readable views of a compiled model for `kiln inspect`: a JSON document
//! ([`Compiled::inspect_json`]) and an SVG drawing of the arena over time
//! ([`Compiled::arena_svg`]). Both are written by hand (no dependencies): this crate is also
//! compiled into the `include_model!` proc macro.
//!
//! JSON layout (numbers are plain integers unless noted; layer positions index `layers`):
//!
//! ```text
//! { "model": NAME, "arena_bytes": N, "macs": N, "weight_bytes": N,
//!   "live_peak_bytes": N,   // most bytes live at one layer (counting an in-place layer's
//!                           // overlapping input and output twice)
//!   "no_reuse_bytes": N,    // sum of all arena buffers: the arena without reuse
//!   "inputs": [TENSOR], "outputs": [TENSOR],
//!   "layers": [{ "index": N, "op": "CONV_2D", "runs": BOOL, "in_place": null | N,
//!                "inputs": [TENSOR], "output": TENSOR, "macs": N, "weight_bytes": N }],
//!   "buffers": [{ "tensor": ID, "name": S, "offset": N, "bytes": N, "first": N, "last": N,
//!                 "aliases": [ID] }] }
//! TENSOR = { "tensor": ID, "name": S, "dtype": "int8", "shape": [N], "bytes": N,
//!            "quant": null | { "scales": [F], "zero_points": [N], "axis": N },
//!            "location": { "kind": "input" | "output", "index": N }
//!                      | { "kind": "arena", "buffer": ID, "offset": N, "bytes": N }
//!                      | { "kind": "const" } | { "kind": "unused" } }
//! ```
//!
//! `runs` is false for a RESHAPE the planner aliased (no code); `in_place` is the input a layer
//! writes its output over (their buffers overlap); `first`/`last` are the first
//! layer writing a buffer and the last one reading it; `aliases` are the other tensors stored
//! in it.

use std::fmt::Write as _;

use crate::compiled::Compiled;
use crate::ir::{Tensor, TensorId};
use crate::plan::{Buffer, Location};

impl Compiled {
    /// Most bytes of arena buffers live during one layer: no plan without in-place layers can
    /// use a smaller arena (an in-place layer's input and output overlap).
    pub fn live_peak_bytes(&self) -> usize {
        (0..self.layers.len())
            .map(|i| {
                self.plan
                    .buffers
                    .iter()
                    .filter(|b| b.first <= i && i <= b.last)
                    .map(|b| b.bytes)
                    .sum()
            })
            .max()
            .unwrap_or(0)
    }

    /// Sum of all arena buffers: the arena if nothing were reused.
    pub fn no_reuse_bytes(&self) -> usize {
        self.plan.buffers.iter().map(|b| b.bytes).sum()
    }

    /// The layers, tensors and arena plan as a JSON document (layout in the module docs).
    pub fn inspect_json(&self, model: &str) -> String {
        let g = &self.graph;
        let tensor = |t: TensorId| self.tensor_json(t);
        let layers = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Json::Obj(vec![
                    ("index", Json::Num(l.index as u64)),
                    ("op", Json::Str(l.op_name.to_string())),
                    ("runs", Json::Bool(self.plan.runs[i])),
                    (
                        "in_place",
                        self.plan.in_place[i].map_or(Json::Null, |k| Json::Num(k as u64)),
                    ),
                    (
                        "inputs",
                        Json::Arr(l.inputs.iter().map(|&t| tensor(t)).collect()),
                    ),
                    ("output", tensor(l.output)),
                    ("macs", Json::Num(l.macs)),
                    ("weight_bytes", Json::Num(l.weight_bytes() as u64)),
                ])
            })
            .collect();
        let buffers = self
            .plan
            .buffers
            .iter()
            .map(|b| {
                Json::Obj(vec![
                    ("tensor", Json::Num(b.tensor as u64)),
                    ("name", Json::Str(g.tensors[b.tensor].name.clone())),
                    ("offset", Json::Num(b.offset as u64)),
                    ("bytes", Json::Num(b.bytes as u64)),
                    ("first", Json::Num(b.first as u64)),
                    ("last", Json::Num(b.last as u64)),
                    (
                        "aliases",
                        Json::Arr(self.aliases(b).map(|t| Json::Num(t as u64)).collect()),
                    ),
                ])
            })
            .collect();
        let doc = Json::Obj(vec![
            ("model", Json::Str(model.to_string())),
            ("arena_bytes", Json::Num(self.plan.arena_bytes as u64)),
            ("macs", Json::Num(self.macs())),
            ("weight_bytes", Json::Num(self.weight_bytes() as u64)),
            ("live_peak_bytes", Json::Num(self.live_peak_bytes() as u64)),
            ("no_reuse_bytes", Json::Num(self.no_reuse_bytes() as u64)),
            (
                "inputs",
                Json::Arr(g.inputs.iter().map(|&t| tensor(t)).collect()),
            ),
            (
                "outputs",
                Json::Arr(g.outputs.iter().map(|&t| tensor(t)).collect()),
            ),
            ("layers", Json::Arr(layers)),
            ("buffers", Json::Arr(buffers)),
        ]);
        let mut out = String::new();
        doc.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn tensor_json(&self, t: TensorId) -> Json {
        let tensor = &self.graph.tensors[t];
        let quant = match &tensor.quant {
            None => Json::Null,
            Some(q) => Json::Obj(vec![
                (
                    "scales",
                    Json::Arr(q.scales.iter().map(|&s| Json::Float(s)).collect()),
                ),
                (
                    "zero_points",
                    Json::Arr(q.zero_points.iter().map(|&z| Json::Int(z)).collect()),
                ),
                ("axis", Json::Num(q.axis as u64)),
            ]),
        };
        let location = match self.plan.locations[t] {
            Location::Input(k) => Json::Obj(vec![
                ("kind", Json::Str("input".into())),
                ("index", Json::Num(k as u64)),
            ]),
            Location::Output(k) => Json::Obj(vec![
                ("kind", Json::Str("output".into())),
                ("index", Json::Num(k as u64)),
            ]),
            Location::Arena {
                buffer,
                offset,
                bytes,
            } => Json::Obj(vec![
                ("kind", Json::Str("arena".into())),
                ("buffer", Json::Num(buffer as u64)),
                ("offset", Json::Num(offset as u64)),
                ("bytes", Json::Num(bytes as u64)),
            ]),
            Location::State(k) => Json::Obj(vec![
                ("kind", Json::Str("state".into())),
                ("index", Json::Num(k as u64)),
            ]),
            Location::Const => Json::Obj(vec![("kind", Json::Str("const".into()))]),
            Location::Unused => Json::Obj(vec![("kind", Json::Str("unused".into()))]),
        };
        Json::Obj(vec![
            ("tensor", Json::Num(t as u64)),
            ("name", Json::Str(tensor.name.clone())),
            ("dtype", Json::Str(tensor.dtype.to_string())),
            (
                "shape",
                Json::Arr(tensor.shape.iter().map(|&d| Json::Num(d as u64)).collect()),
            ),
            ("bytes", Json::Num(tensor.bytes() as u64)),
            ("quant", quant),
            ("location", location),
        ])
    }

    /// Tensors other than `b.tensor` stored in buffer `b` (aliased RESHAPE outputs).
    fn aliases<'a>(&'a self, b: &'a Buffer) -> impl Iterator<Item = TensorId> + 'a {
        self.plan
            .locations
            .iter()
            .enumerate()
            .filter(move |&(t, loc)| {
                t != b.tensor
                    && matches!(loc, Location::Arena { buffer, .. } if *buffer == b.tensor)
            })
            .map(|(t, _)| t)
    }

    /// The arena over time as a standalone SVG image: x = layer, y = arena offset, one
    /// rectangle (`class="buffer"`, with `data-tensor`, `data-offset`, `data-bytes`,
    /// `data-first`, `data-last`) per arena buffer over the layers it is live, labelled when
    /// the label fits and with a tooltip (`<title>`) always; the peak is a line
    /// (`class="peak"`, `data-bytes` = the arena size).
    pub fn arena_svg(&self, model: &str) -> String {
        Drawing::new(self).render(model)
    }
}

/// A JSON value, written with two-space indentation (flat arrays and objects on one line).
enum Json {
    Null,
    Bool(bool),
    Num(u64),
    Int(i64),
    Float(f32),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

impl Json {
    fn is_scalar(&self) -> bool {
        !matches!(self, Json::Arr(_) | Json::Obj(_))
    }

    /// Scalars and arrays of scalars: written on one line, and so are objects of them.
    fn is_flat(&self) -> bool {
        match self {
            Json::Arr(items) => items.iter().all(Json::is_scalar),
            _ => self.is_scalar(),
        }
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = |out: &mut String, n: usize| out.push_str(&" ".repeat(n));
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(&n.to_string()),
            Json::Int(n) => out.push_str(&n.to_string()),
            // `{:?}` is the shortest round-trip form (`0.5`, `1e-7`): valid JSON when finite.
            Json::Float(f) if f.is_finite() => out.push_str(&format!("{f:?}")),
            Json::Float(_) => out.push_str("null"),
            Json::Str(s) => json_string(out, s),
            Json::Arr(items) if items.iter().all(Json::is_scalar) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out, indent);
                }
                out.push(']');
            }
            Json::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    pad(out, indent + 2);
                    item.write(out, indent + 2);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push(']');
            }
            Json::Obj(fields) if fields.iter().all(|(_, v)| v.is_flat()) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    json_string(out, key);
                    out.push_str(": ");
                    value.write(out, indent);
                }
                out.push('}');
            }
            Json::Obj(fields) => {
                out.push_str("{\n");
                for (i, (key, value)) in fields.iter().enumerate() {
                    pad(out, indent + 2);
                    json_string(out, key);
                    out.push_str(": ");
                    value.write(out, indent + 2);
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push('}');
            }
        }
    }
}

/// `s` as a JSON string literal.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` escaped for XML text and attribute values; characters XML 1.0 forbids become U+FFFD.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `n` with thousands separators: `49,152`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).unwrap_or_default())
        .collect();
    groups.join(",")
}

/// `1 layer`, `3 layers`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A short size for labels: `320 B`, `16 KiB`, `1.5 KiB`.
fn short_size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes.trailing_zeros() >= 10 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// A readable label for a (often very long, `;`-joined) TFLite tensor name: the last two
/// path components of its shortest `;`-alternative (`conv2d_2/Conv2D`, `Conv2d_0/Relu6`).
fn short_name(name: &str) -> &str {
    let shortest = name.split(';').min_by_key(|a| a.len()).unwrap_or(name);
    match shortest.rmatch_indices('/').nth(1) {
        Some((i, _)) => &shortest[i + 1..],
        None => shortest,
    }
}

/// `int8[1, 8, 5, 8]`.
fn type_str(t: &Tensor) -> String {
    let dims: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
    format!("{}[{}]", t.dtype, dims.join(", "))
}

/// Layout constants of the drawing (pixels).
const LEFT: f64 = 84.0;
const RIGHT: f64 = 28.0;
const TOP: f64 = 78.0;
const BOTTOM: f64 = 128.0;
const PLOT_H: f64 = 520.0;
const MIN_W: f64 = 760.0;
const FONT: f64 = 11.0;
/// Conservative average advance of a sans-serif glyph, in ems (digits are ~0.56).
const CHAR_EM: f64 = 0.62;
const LINE: f64 = FONT + 3.0;

/// Colours of buffer rectangles (fill, stroke), cycled.
const PALETTE: [(&str, &str); 10] = [
    ("#aec7e8", "#1f77b4"),
    ("#ffbb78", "#ff7f0e"),
    ("#98df8a", "#2ca02c"),
    ("#ff9896", "#d62728"),
    ("#c5b0d5", "#9467bd"),
    ("#c49c94", "#8c564b"),
    ("#f7b6d2", "#e377c2"),
    ("#dbdb8d", "#bcbd22"),
    ("#9edae5", "#17becf"),
    ("#d9d9d9", "#7f7f7f"),
];

/// An axis-aligned box in pixels: left, top, width, height.
#[derive(Clone, Copy, Debug)]
struct Bbox {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Bbox {
    fn overlaps(&self, o: &Bbox) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// Width in pixels of `text` at the label font size (an upper estimate).
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * FONT * CHAR_EM
}

struct Drawing<'c> {
    c: &'c Compiled,
    /// The rectangle of each arena buffer.
    boxes: Vec<Bbox>,
    /// The short name of each arena buffer's tensor.
    names: Vec<String>,
    /// Width of one layer column.
    col: f64,
    /// Bytes at the top of the plot.
    max_y: usize,
    /// Distance between y ticks, in bytes.
    step: usize,
}

impl<'c> Drawing<'c> {
    fn new(c: &'c Compiled) -> Self {
        let n = c.layers.len().max(1) as f64;
        let col = ((MIN_W - LEFT - RIGHT) / n).max(56.0);
        let arena = c.plan.arena_bytes.max(1);
        // Power-of-two ticks line up with typical tensor sizes; about 4 to 8 of them.
        let step = (arena / 8).max(1).next_power_of_two();
        // Leave at least 22 px above the peak for its label.
        let needed = (arena as f64 / (1.0 - 22.0 / PLOT_H)).ceil() as usize;
        let max_y = needed.div_ceil(step) * step;
        let mut d = Drawing {
            c,
            boxes: Vec::new(),
            names: Vec::new(),
            col,
            max_y,
            step,
        };
        d.boxes = c
            .plan
            .buffers
            .iter()
            .map(|b| {
                let top = d.y(b.offset + b.bytes);
                Bbox {
                    x: d.x(b.first) + 1.5,
                    y: top,
                    w: d.x(b.last + 1) - d.x(b.first) - 3.0,
                    // At least 1.5 px tall so tiny buffers stay visible (data-* are exact).
                    h: (d.y(b.offset) - top).max(1.5),
                }
            })
            .collect();
        d.names = c
            .plan
            .buffers
            .iter()
            .map(|b| short_name(&c.graph.tensors[b.tensor].name).to_string())
            .collect();
        d
    }

    fn plot_w(&self) -> f64 {
        self.col * self.c.layers.len().max(1) as f64
    }

    fn x(&self, layer: usize) -> f64 {
        LEFT + self.col * layer as f64
    }

    fn y(&self, bytes: usize) -> f64 {
        TOP + PLOT_H - PLOT_H * bytes as f64 / self.max_y as f64
    }

    fn render(&self, model: &str) -> String {
        let c = self.c;
        let width = (LEFT + self.plot_w() + RIGHT).max(MIN_W).round();
        let height = TOP + PLOT_H + BOTTOM;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{FONT}">"#
        );
        let _ = writeln!(
            s,
            r#"<title>{} arena plan: {} bytes</title>"#,
            xml_escape(model),
            c.plan.arena_bytes
        );
        let _ = writeln!(
            s,
            r#"<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
        );
        self.caption(&mut s, model);
        self.grid(&mut s);
        // Boxes labels must not cover: the buffers, the peak label, labels placed so far.
        let (peak, peak_box) = self.peak();
        let mut taken = self.boxes.clone();
        taken.push(peak_box);
        for (k, b) in c.plan.buffers.iter().enumerate() {
            self.buffer(&mut s, k, b, &mut taken);
        }
        if c.plan.buffers.is_empty() {
            let _ = writeln!(
                s,
                r##"<text class="note" x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">No arena buffers: every tensor is a graph input, a graph output or a constant.</text>"##,
                LEFT + self.plot_w() / 2.0,
                TOP + PLOT_H / 2.0
            );
        }
        s.push_str(&peak);
        self.axes(&mut s);
        s.push_str("</svg>\n");
        s
    }

    fn caption(&self, s: &mut String, model: &str) {
        let c = self.c;
        let _ = writeln!(
            s,
            r#"<text class="caption" x="{LEFT}" y="24" font-size="16" font-weight="bold">{} — arena plan</text>"#,
            xml_escape(model)
        );
        let _ = writeln!(
            s,
            r#"<text class="caption" x="{LEFT}" y="44">arena (peak): {} B · {} over {} · most bytes live at one layer: {} B · without reuse: {} B</text>"#,
            thousands(c.plan.arena_bytes),
            plural(c.plan.buffers.len(), "buffer"),
            plural(c.layers.len(), "layer"),
            thousands(c.live_peak_bytes()),
            thousands(c.no_reuse_bytes()),
        );
        let _ = writeln!(
            s,
            r##"<text class="caption" x="{LEFT}" y="60" fill="#555">Graph inputs (caller's buffer) and outputs (fields of Model) are not in the arena. Hover a buffer for details.</text>"##
        );
    }

    fn grid(&self, s: &mut String) {
        let (x0, x1) = (LEFT, LEFT + self.plot_w());
        let (y0, y1) = (TOP, TOP + PLOT_H);
        for i in 0..=self.c.layers.len() {
            let x = self.x(i);
            let _ = writeln!(
                s,
                r##"<line class="grid" x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="#eee"/>"##
            );
        }
        let mut b = self.step;
        while b <= self.max_y {
            let y = self.y(b);
            let _ = writeln!(
                s,
                r##"<line class="grid" x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#eee"/>"##
            );
            b += self.step;
        }
    }

    fn buffer(&self, s: &mut String, k: usize, b: &Buffer, taken: &mut Vec<Bbox>) {
        let c = self.c;
        let g = &c.graph;
        let tensor = &g.tensors[b.tensor];
        let (fill, stroke) = PALETTE[k % PALETTE.len()];
        let layer = |i: usize| {
            let l = &c.layers[i];
            format!("#{} {}", l.index, l.op_name)
        };
        let readers: Vec<String> = (b.first..=b.last)
            .filter(|&i| {
                c.layers[i].inputs.iter().any(|&t| {
                    t == b.tensor
                        || matches!(c.plan.locations[t], Location::Arena { buffer, .. } if buffer == b.tensor)
                })
            })
            .map(layer)
            .collect();
        let mut title = format!(
            "tensor {}: {}\n{}\narena {}..{} ({} bytes)\nlive during layers {}..={}: written by {}, read by {}",
            b.tensor,
            tensor.name,
            type_str(tensor),
            b.offset,
            b.offset + b.bytes,
            thousands(b.bytes),
            b.first,
            b.last,
            layer(b.first),
            if readers.is_empty() {
                "none".to_string()
            } else {
                readers.join(", ")
            },
        );
        let aliases: Vec<String> = c.aliases(b).map(|t| format!("tensor {t}")).collect();
        if !aliases.is_empty() {
            let _ = write!(
                title,
                "\nalso holds (RESHAPE alias): {}",
                aliases.join(", ")
            );
        }
        let r = self.boxes[k];
        let _ = writeln!(s, r#"<g class="buffer-group">"#);
        let _ = writeln!(s, "<title>{}</title>", xml_escape(&title));
        let _ = writeln!(
            s,
            r#"<rect class="buffer" data-tensor="{}" data-offset="{}" data-bytes="{}" data-first="{}" data-last="{}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="2" fill="{fill}" stroke="{stroke}"/>"#,
            b.tensor, b.offset, b.bytes, b.first, b.last, r.x, r.y, r.w, r.h
        );
        if let Some(lines) = label(b.tensor, &self.names[k], b.bytes, r.w - 6.0, r.h - 4.0) {
            let cx = r.x + r.w / 2.0;
            let first = r.y + r.h / 2.0 - LINE * (lines.len() as f64 - 1.0) / 2.0 + FONT * 0.35;
            let _ = write!(
                s,
                r##"<text class="label" text-anchor="middle" fill="#222">"##
            );
            for (i, line) in lines.iter().enumerate() {
                let _ = write!(
                    s,
                    r#"<tspan x="{cx:.1}" y="{:.1}">{}</tspan>"#,
                    first + LINE * i as f64,
                    xml_escape(line)
                );
            }
            s.push_str("</text>\n");
        } else {
            // Too thin for a label inside: one line just above it, if that space is free.
            let text = format!("t{} · {}", b.tensor, short_size(b.bytes));
            let spot = Bbox {
                x: r.x + 2.0,
                y: r.y - LINE - 1.0,
                w: text_width(&text),
                h: LINE,
            };
            let inside = spot.y >= TOP && spot.x + spot.w <= LEFT + self.plot_w();
            if inside && !taken.iter().any(|t| t.overlaps(&spot)) {
                let _ = writeln!(
                    s,
                    r##"<text class="label" x="{:.1}" y="{:.1}" fill="#222">{}</text>"##,
                    spot.x,
                    spot.y + LINE - 3.5,
                    xml_escape(&text)
                );
                taken.push(spot);
            }
        }
        s.push_str("</g>\n");
    }

    /// The peak line and its label (drawn over the buffers), and the label's box.
    fn peak(&self) -> (String, Bbox) {
        let arena = self.c.plan.arena_bytes;
        let y = self.y(arena);
        let (x0, x1) = (LEFT, LEFT + self.plot_w());
        let text = format!("peak = ARENA_BYTES = {} B", thousands(arena));
        // Bold glyphs are wider: 10% on top of the estimate.
        let w = text_width(&text) * 1.1;
        let svg = format!(
            r##"<line class="peak" data-bytes="{arena}" x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6 3"/>
<text class="peak-label" x="{:.1}" y="{:.1}" text-anchor="end" fill="#d62728" font-weight="bold">{text}</text>
"##,
            x1 - 4.0,
            y - 5.0,
        );
        let bbox = Bbox {
            x: x1 - 4.0 - w,
            y: y - 5.0 - FONT,
            w,
            h: FONT + 5.0,
        };
        (svg, bbox)
    }

    fn axes(&self, s: &mut String) {
        let c = self.c;
        let (x0, x1) = (LEFT, LEFT + self.plot_w());
        let y1 = TOP + PLOT_H;
        let _ = writeln!(
            s,
            r##"<path class="axis" d="M{x0},{TOP} V{y1} H{x1}" fill="none" stroke="#333"/>"##
        );
        // y: offsets in bytes.
        let mut b = 0;
        while b <= self.max_y {
            let y = self.y(b);
            let _ = writeln!(
                s,
                r##"<line x1="{}" y1="{y}" x2="{x0}" y2="{y}" stroke="#333"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                x0 - 4.0,
                x0 - 7.0,
                y + FONT * 0.35,
                thousands(b)
            );
            b += self.step;
        }
        let mid = TOP + PLOT_H / 2.0;
        let _ = writeln!(
            s,
            r#"<text class="axis-title" x="18" y="{mid}" text-anchor="middle" transform="rotate(-90 18 {mid})">arena offset (bytes)</text>"#
        );
        // x: one column per layer, its index and op name.
        for (i, l) in c.layers.iter().enumerate() {
            let cx = self.x(i) + self.col / 2.0;
            let colour = match (c.plan.runs[i], c.plan.in_place[i]) {
                (false, _) => "#999",
                (true, Some(_)) => "#1a7f37",
                (true, None) => "#222",
            };
            let op = match (c.plan.runs[i], c.plan.in_place[i]) {
                (false, _) => format!("{} (alias)", l.op_name),
                (true, Some(_)) => format!("{} (in place)", l.op_name),
                (true, None) => l.op_name.to_string(),
            };
            let ty = y1 + 26.0;
            let _ = writeln!(
                s,
                r##"<line x1="{cx}" y1="{y1}" x2="{cx}" y2="{}" stroke="#333"/><text class="tick" x="{cx}" y="{}" text-anchor="middle" fill="{colour}">{}</text><text class="op" x="{cx}" y="{ty}" text-anchor="end" fill="{colour}" transform="rotate(-35 {cx} {ty})">{}</text>"##,
                y1 + 4.0,
                y1 + 15.0,
                l.index,
                xml_escape(&op)
            );
        }
        let _ = writeln!(
            s,
            r#"<text class="axis-title" x="{:.1}" y="{}" text-anchor="middle">layer (operator index) — a buffer spans the layers from its writer to its last reader</text>"#,
            x0 + (x1 - x0) / 2.0,
            TOP + PLOT_H + BOTTOM - 10.0
        );
    }
}

/// The most informative label for a `width` × `height` px box, or `None` if none fits.
fn label(
    tensor: TensorId,
    name: &str,
    bytes: usize,
    width: f64,
    height: f64,
) -> Option<Vec<String>> {
    let fits_w = |line: &str| line.chars().count() as f64 * FONT * CHAR_EM <= width;
    let max_chars = (width / (FONT * CHAR_EM)).floor() as usize;
    // `name` cut to fit a line of its own (with an ellipsis), if at least 4 characters stay.
    let cut = |prefix: &str| -> Option<String> {
        let room = max_chars.checked_sub(prefix.chars().count())?;
        let n = name.chars().count();
        if n <= room {
            Some(format!("{prefix}{name}"))
        } else if room >= 5 {
            let kept: String = name.chars().take(room - 1).collect();
            Some(format!("{prefix}{kept}…"))
        } else {
            None
        }
    };
    let id = format!("t{tensor}");
    let size = short_size(bytes);
    let mut candidates: Vec<Vec<String>> = Vec::new();
    if let Some(first) = cut(&format!("{id} ")) {
        candidates.push(vec![first, size.clone()]);
    }
    if let Some(named) = cut("").filter(|_| !name.is_empty()) {
        candidates.push(vec![id.clone(), named, size.clone()]);
    }
    candidates.push(vec![id.clone(), size.clone()]);
    candidates.push(vec![format!("{id} · {size}")]);
    candidates.push(vec![id]);
    candidates
        .into_iter()
        .find(|lines| lines.len() as f64 * LINE <= height && lines.iter().all(|l| fits_w(l)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            xml_escape("a<b>&\"'\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{fffd}"
        );
        let mut s = String::new();
        json_string(&mut s, "a\"\\\n\u{1}é");
        assert_eq!(s, r#""a\"\\\n\u0001é""#);
    }

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(640), "640");
        assert_eq!(thousands(49152), "49,152");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(short_size(320), "320 B");
        assert_eq!(short_size(16384), "16 KiB");
        assert_eq!(short_size(1536), "1.5 KiB");
        assert_eq!(short_name("model/conv/Relu;model/bn/Xy"), "bn/Xy");
        assert_eq!(short_name("Net/Net/Conv2d_0/Relu6"), "Conv2d_0/Relu6");
        assert_eq!(short_name("a/b"), "a/b");
        assert_eq!(short_name("x"), "x");
        assert_eq!(short_name(""), "");
    }

    #[test]
    fn labels_shrink_then_vanish() {
        let full = label(22, "activation/Relu", 16384, 400.0, 100.0).unwrap();
        assert_eq!(full, ["t22 activation/Relu", "16 KiB"]);
        let narrow = label(22, "activation/Relu", 16384, 60.0, 100.0).unwrap();
        assert_eq!(narrow, ["t22", "activat…", "16 KiB"]);
        let flat = label(22, "activation/Relu", 16384, 400.0, 15.0).unwrap();
        assert_eq!(flat, ["t22 · 16 KiB"]);
        assert_eq!(label(22, "x", 10, 400.0, 1.0), None);
        assert_eq!(label(22, "x", 10, 10.0, 100.0), None);
    }
}
