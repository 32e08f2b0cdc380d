//! Which of onnxruntime's two ways of running int8 QDQ models a graph's reference is.
//!
//! On x86-64, onnxruntime's default session rewrites int8 Q/DQ pairs to uint8
//! (`QDQS8ToU8Transformer`, as `QDQIsInt8Allowed()` is false there) before it fuses QDQ
//! groups: the fused QLinearAdd, QLinearMul, QLinearAveragePool and QLinearSoftmax then run
//! MLAS's uint8 kernels. That rewrite skips a `QuantizeLinear` whose value is read more than
//! once (a `DequantizeLinear` shared by several nodes, as a skip connection has, or also a
//! graph output), and the nodes around it, no longer matching in type, run in float32 in
//! MLAS's host-dependent summation order: no reproducible reference.
//!
//! On Arm (onnxruntime's aarch64 builds, what firmware targets look like) int8 stays int8:
//! every consumer gets its own copy of a shared `DequantizeLinear`
//! (`EnsureUniqueDQForNodeUnit`) and every group fuses, the four operators above running
//! MLAS's int8 kernels. The session option `session.qdqisint8allowed = 1` does the same on
//! x86-64. kiln reads a graph with such a shared int8 activation that way, all of it; other
//! graphs as the x86-64 default session runs them (the same but for those four kernels).

use super::super::proto::NodeProto;
use super::{Importer, Value};
use crate::ir::DType;
use std::collections::HashSet;

impl Importer<'_> {
    /// Whether onnxruntime's reference for this graph keeps int8 Q/DQ (its Arm default,
    /// `session.qdqisint8allowed = 1` on x86-64): some `DequantizeLinear` of an int8
    /// activation is read more than once (by several nodes after onnxruntime's merging of
    /// identical ones, or by a node and as a graph output).
    pub(super) fn shares_int8_activation(&self) -> bool {
        let constants: HashSet<&str> = self
            .nodes
            .iter()
            .filter(|n| n.op_type.as_deref() == Some("Constant"))
            .filter_map(|n| n.output.first().map(String::as_str))
            .collect();
        self.nodes.iter().any(|n| {
            let is_dequantize = n.op_type.as_deref() == Some("DequantizeLinear")
                && matches!(n.domain.as_deref(), None | Some("" | "ai.onnx"));
            let (true, Some(x), Some(out)) = (is_dequantize, n.input.first(), n.output.first())
            else {
                return false;
            };
            let activation = !self.values.contains_key(x) && !constants.contains(x.as_str());
            activation && self.int8_zero_point(n) && self.reads(out) > 1
        })
    }

    /// Whether the zero point of Q/DQ node `n` is an int8 initializer.
    fn int8_zero_point(&self, n: &NodeProto) -> bool {
        let zero_point = n.input.get(2).and_then(|z| self.values.get(z));
        matches!(zero_point, Some(Value::Const(c)) if c.dtype == DType::I8)
    }

    /// How many times value `name` is read: by nodes (a `Shape` not counted, and identical
    /// Q/DQ nodes merged as onnxruntime merges them) and as a graph output.
    pub(super) fn reads(&self, name: &str) -> usize {
        let canonical = self.same_as.get(name).copied().unwrap_or(name);
        let nodes = self.consumers.get(canonical).map_or(0, Vec::len);
        nodes + usize::from(self.outputs.contains(name))
    }
}
