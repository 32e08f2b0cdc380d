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
}

impl Compiled {
    /// Total multiply-accumulates per inference.
    pub fn macs(&self) -> u64 {
        self.layers.iter().map(|l| l.macs).sum()
    }

    /// Bytes of constant data in flash (weights, biases, requantization tables).
    pub fn weight_bytes(&self) -> usize {
        self.layers.iter().map(|l| l.weight_bytes()).sum()
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
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                l.index,
                l.op_name,
                ins.join(" + "),
                ir::shape_str(&g.tensors[l.output]),
                l.macs,
                l.weight_bytes(),
                place
            ));
        }
        s
    }

    /// A table of the arena plan: buffer, tensor, offset, size, live layers.
    pub fn plan_table(&self) -> String {
        let mut s = format!(
            "arena: {} bytes\n| tensor | name | offset | bytes | live (layers) |\n|---|---|---|---|---|\n",
            self.plan.arena_bytes
        );
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
        s
    }
}
