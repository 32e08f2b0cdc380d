//! [`Compiled`]: a model read, validated, prepared and planned, with the summaries the
//! back-ends and tools print (layer table, plan table, MACs, weight bytes).

use crate::ir;
use crate::layer;
use crate::plan;

/// A model read, validated, prepared and planned: everything the back-ends need.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The model graph.
    pub graph: ir::Graph,
    /// One validated layer per operator, with its constants.
    pub layers: Vec<layer::Layer>,
    /// Where every tensor lives.
    pub plan: plan::Plan,
    /// The first layers' patch-based execution, when they run band by band.
    pub banding: Option<crate::bands::Banding>,
}

impl Compiled {
    /// The model with its first layers run band by band ([`crate::bands`]) when that makes
    /// the arena smaller for at most `budget_per_mille` ‰ more MACs; unchanged otherwise.
    pub fn banded(self, budget_per_mille: u32) -> Compiled {
        if budget_per_mille == 0 || self.banding.is_some() {
            return self;
        }
        match crate::bands::choose(
            &self.graph,
            &self.layers,
            &self.plan,
            budget_per_mille.into(),
        ) {
            Some((banding, graph, layers, plan)) => Compiled {
                graph,
                layers,
                plan,
                banding: Some(banding),
            },
            None => self,
        }
    }

    /// Total multiply-accumulates per inference.
    pub fn macs(&self) -> u64 {
        self.layers.iter().map(|l| l.macs).sum()
    }

    /// Bytes of constant data in flash (weights, biases, requantization tables).
    pub fn weight_bytes(&self) -> usize {
        // Band layers share their operator's weights: counted once.
        self.layers
            .iter()
            .filter(|l| l.band.unwrap_or(0) == 0)
            .map(|l| l.weight_bytes())
            .sum()
    }

    /// A sentence on patch-based execution (with a leading line break), or nothing.
    pub fn banding_note(&self) -> String {
        let Some(b) = self.banding else {
            return String::new();
        };
        let (first, last) = (b.first, b.last);
        format!(
            "\n\nPatch-based execution: layers {first} to {last} run in {} bands of rows, so their\n\
             largest activation never exists whole; the rows adjacent bands share are computed\n\
             twice: {} more multiply-accumulates ({:.1}%).",
            b.bands,
            b.extra_macs,
            100.0 * b.extra_macs as f64 / (self.macs() - b.extra_macs).max(1) as f64
        )
    }

    /// A Markdown table of the layers: op, shapes, MACs, weight bytes, output location.
    pub fn layer_table(&self) -> String {
        let g = &self.graph;
        let mut s = String::from("| # | op | input | output | MACs | weight bytes | output in |\n|---|---|---|---|---|---|---|\n");
        for (i, l) in self.layers.iter().enumerate() {
            let ins: Vec<String> = l
                .inputs
                .iter()
                .map(|&t| ir::shape_str(&g.tensors[t]))
                .collect();
            let place = match self.plan.locations[l.output] {
                plan::Location::Arena { offset, bytes, .. } if self.plan.in_place[i].is_some() => {
                    format!("arena {offset}..{}, over its input", offset + bytes)
                }
                plan::Location::Arena { offset, bytes, .. } if self.plan.runs[i] => {
                    format!("arena {offset}..{}", offset + bytes)
                }
                plan::Location::Arena { .. } | plan::Location::Input(_) => "alias of input".into(),
                plan::Location::Output(k) => format!("output {k}"),
                other => format!("{other:?}"),
            };
            let index = match (l.band, l.part) {
                (Some(b), _) => format!("{} (band {b})", l.index),
                (None, Some(p)) => format!("{} (output {p})", l.index),
                (None, None) => l.index.to_string(),
            };
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                index,
                l.op_name,
                ins.join(" + "),
                ir::shape_str(&g.tensors[l.output]),
                l.macs,
                l.weight_bytes(),
                place
            ));
        }
        s.push_str(&self.folded_note());
        s
    }

    /// The operators folded at compile time ([`crate::fold`]; also SHAPE, BROADCAST_ARGS), as
    /// a line after the layer table; empty when none was.
    pub fn folded_note(&self) -> String {
        let g = &self.graph;
        if g.folded.is_empty() {
            return String::new();
        }
        let ops: Vec<String> = g
            .folded
            .iter()
            .map(|&i| format!("{i} ({})", g.ops[i].name))
            .collect();
        format!(
            "\nFolded at compile time (their outputs are constants in flash, no layer runs them): \
             operators {}.\n",
            ops.join(", ")
        )
    }

    /// Bytes of the model's state: its variable tensors, kept in the model from one call to
    /// the next (outside the arena).
    pub fn state_bytes(&self) -> usize {
        let variables: usize = self
            .graph
            .variables
            .iter()
            .map(|&t| self.graph.tensors[t].bytes())
            .sum();
        let layers: usize = self
            .layer_state()
            .iter()
            .map(|(_, s)| s.len * s.dtype.size())
            .sum();
        variables + layers
    }

    /// The arrays layers keep between calls (`Layer::state`), once each (the layers of one
    /// operator share theirs), with their `State` field names.
    pub fn layer_state(&self) -> Vec<(String, crate::layer::LayerState)> {
        let mut out: Vec<(String, crate::layer::LayerState)> = Vec::new();
        for layer in &self.layers {
            for s in &layer.state {
                let field = format!("layer_{:02}_{}", layer.index, s.name);
                if !out.iter().any(|(f, _)| *f == field) {
                    out.push((field, s.clone()));
                }
            }
        }
        out
    }

    /// A table of the arena plan: buffer, tensor, offset, size, live layers; then the state
    /// (variable tensors), when the model has any.
    pub fn plan_table(&self) -> String {
        let mut s = format!(
            "arena: {} bytes\n| tensor | name | offset | bytes | live (layers) |\n|---|---|---|---|---|\n",
            self.plan.arena_bytes
        );
        if self.banding.is_some() {
            s.insert_str(
                0,
                &format!("{}\n", self.banding_note().trim().replace('\n', " ")),
            );
        }
        for b in &self.plan.buffers {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {}..={} |\n",
                b.tensor,
                crate::names::shown(&self.graph.tensors[b.tensor].name),
                b.offset,
                b.bytes,
                self.layers[b.first].index,
                self.layers[b.last].index
            ));
        }
        let layer_state = self.layer_state();
        if !self.graph.variables.is_empty() || !layer_state.is_empty() {
            s.push_str(&format!(
                "\nstate: {} bytes, kept across calls (`Model::reset` restores it)\n\
                 | tensor | name | type | bytes | starts at |\n|---|---|---|---|---|\n",
                self.state_bytes()
            ));
            for &t in &self.graph.variables {
                let tensor = &self.graph.tensors[t];
                let start = match (tensor.dtype, &tensor.quant) {
                    (ir::DType::I8, Some(q)) => q.zero_point(),
                    _ => 0,
                };
                s.push_str(&format!(
                    "| {t} | {} | {} | {} | {start} |\n",
                    crate::names::shown(&tensor.name),
                    ir::shape_str(tensor),
                    tensor.bytes()
                ));
            }
            for (field, st) in &layer_state {
                s.push_str(&format!(
                    "| - | {field} | {}[{}] | {} | {} |\n",
                    st.dtype,
                    st.len,
                    st.len * st.dtype.size(),
                    st.initial
                ));
            }
        }
        s
    }
}
