//! Models in onnxruntime's QOperator form (what `quantize_static(...,
//! quant_format=QuantFormat.QOperator)` writes: QLinearConv, QLinearMatMul and the
//! `com.microsoft` QGemm, QLinearAdd, QLinearMul, QLinearSigmoid, QLinearSoftmax,
//! QLinearAveragePool, QLinearGlobalAveragePool, QLinearConcat), rewritten before import into
//! the QDQ form that onnxruntime fuses into exactly these operators: each becomes
//! `DequantizeLinear`s of its inputs, the float operator and a `QuantizeLinear` of its output.
//!
//! onnxruntime runs uint8 QOperator models with the kernels it runs QDQ models with, so their
//! arithmetic follows. With int8 activations it runs QLinearAdd, QLinearMul,
//! QLinearAveragePool and QLinearSoftmax with MLAS's signed kernels, whose rounding differs:
//! their float operator is marked ([`MLAS_SIGNED_ATTRIBUTE`]) and imported under the QOperator
//! name ([`crate::ir::MLAS_SIGNED_OPS`]), whose arithmetic `prepare` follows (the
//! convolutions, QGemm, the tables and the global average pool compute the same in either).
//! `quantize_dynamic`'s MatMulInteger and ConvInteger chains pass through unchanged
//! (imported by `import::dynamic`).

use super::constant::{self, Constant};
use super::proto::{data_type, AttributeProto, GraphProto, NodeProto, TensorProto};
use super::ReadError;
use crate::ir::DType;

/// The QOperator nodes kiln rewrites, as `domain.op_type` outside the default domain.
pub const QOPERATOR_OPS: &[&str] = &[
    "QLinearConv",
    "QLinearMatMul",
    "com.microsoft.QGemm",
    "com.microsoft.QLinearAdd",
    "com.microsoft.QLinearAveragePool",
    "com.microsoft.QLinearConcat",
    "com.microsoft.QLinearGlobalAveragePool",
    "com.microsoft.QLinearMul",
    "com.microsoft.QLinearSigmoid",
    "com.microsoft.QLinearSoftmax",
];

/// The qualified operator name of `n` (`domain.op_type` outside the default domain).
fn qualified(n: &NodeProto) -> String {
    let op = n.op_type.as_deref().unwrap_or("");
    match n.domain.as_deref() {
        None | Some("" | "ai.onnx") => op.to_string(),
        Some(d) => format!("{d}.{op}"),
    }
}

/// Whether the graph has a QOperator node (and must be rewritten).
pub fn has_qoperator_nodes(g: &GraphProto) -> bool {
    g.node.iter().any(|n| {
        let op = qualified(n);
        QOPERATOR_OPS.contains(&op.as_str())
    })
}

/// The attribute (value 1) marking a rewritten float operator as an int8 QOperator node's,
/// which onnxruntime runs with MLAS's signed kernel.
pub const MLAS_SIGNED_ATTRIBUTE: &str = "kiln_mlas_signed";

/// The rewriting of one graph.
struct Rewrite<'g> {
    graph: &'g GraphProto,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    /// Numbers the inserted Q/DQ nodes (an attribute that keeps onnxruntime-style merging of
    /// identical Q/DQ nodes from joining them).
    count: i64,
}

/// `g` with every QOperator node replaced by its QDQ form.
pub fn to_qdq(g: &GraphProto) -> Result<GraphProto, ReadError> {
    let mut r = Rewrite {
        graph: g,
        nodes: Vec::with_capacity(g.node.len() * 4),
        initializers: Vec::new(),
        count: 0,
    };
    for (index, n) in g.node.iter().enumerate() {
        r.node(index, n)?;
    }
    let mut out = g.clone();
    out.node = r.nodes;
    out.initializer.extend(r.initializers);
    Ok(out)
}

impl Rewrite<'_> {
    fn node(&mut self, index: usize, n: &NodeProto) -> Result<(), ReadError> {
        let op = qualified(n);
        let err = |reason: String| ReadError::Node {
            index,
            node: n.name.clone().unwrap_or_default(),
            op_type: op.clone(),
            reason,
        };
        let input = |slot: usize| -> String { n.input.get(slot).cloned().unwrap_or_default() };
        let output = n.output.first().cloned().unwrap_or_default();
        if output.is_empty() && QOPERATOR_OPS.contains(&op.as_str()) {
            return Err(err("it has no output".into()));
        }
        let name = n.name.clone().unwrap_or_else(|| output.clone());
        let attrs = |skip: &[&str]| -> Vec<AttributeProto> {
            n.attribute
                .iter()
                .filter(|a| !skip.contains(&a.name.as_deref().unwrap_or("")))
                .cloned()
                .collect()
        };
        // The int8 forms run MLAS's signed kernels, which round differently: marked.
        let signed_kernel = matches!(
            op.as_str(),
            "com.microsoft.QLinearAdd"
                | "com.microsoft.QLinearMul"
                | "com.microsoft.QLinearAveragePool"
                | "com.microsoft.QLinearSoftmax"
        ) && self.zero_point_type(&input(2)) == Some(DType::I8);
        let marks = || -> Vec<AttributeProto> {
            if !signed_kernel {
                return vec![];
            }
            vec![AttributeProto {
                name: Some(MLAS_SIGNED_ATTRIBUTE.into()),
                i: Some(1),
                ..Default::default()
            }]
        };
        match op.as_str() {
            "QLinearConv" => {
                let x = self.dq(&name, &input(0), &input(1), &input(2), None);
                let w = self.dq(&name, &input(3), &input(4), &input(5), Some(0));
                let mut inputs = vec![x, w];
                if !input(8).is_empty() {
                    inputs.push(self.bias(
                        &name,
                        &input(8),
                        &input(1),
                        &input(4),
                        Some(0),
                        &err,
                    )?);
                }
                self.compute(
                    &name,
                    "Conv",
                    inputs,
                    attrs(&[]),
                    &output,
                    (&input(6), &input(7)),
                );
                Ok(())
            }
            "QLinearMatMul" => {
                let a = self.dq(&name, &input(0), &input(1), &input(2), None);
                let b = self.dq(&name, &input(3), &input(4), &input(5), Some(1));
                let ins = vec![a, b];
                self.compute(
                    &name,
                    "MatMul",
                    ins,
                    vec![],
                    &output,
                    (&input(6), &input(7)),
                );
                Ok(())
            }
            "com.microsoft.QGemm" => {
                if input(7).is_empty() {
                    return Err(err(
                        "its output is float32 (no y_scale): not supported".into()
                    ));
                }
                let trans_b = n
                    .attribute
                    .iter()
                    .any(|a| a.name.as_deref() == Some("transB") && a.i == Some(1));
                let a = self.dq(&name, &input(0), &input(1), &input(2), None);
                let axis = if trans_b { 0 } else { 1 };
                let b = self.dq(&name, &input(3), &input(4), &input(5), Some(axis));
                let mut inputs = vec![a, b];
                if !input(6).is_empty() {
                    let c = self.bias(&name, &input(6), &input(1), &input(4), Some(0), &err)?;
                    inputs.push(c);
                }
                self.compute(
                    &name,
                    "Gemm",
                    inputs,
                    attrs(&[]),
                    &output,
                    (&input(7), &input(8)),
                );
                Ok(())
            }
            "com.microsoft.QLinearAdd" | "com.microsoft.QLinearMul" => {
                let a = self.dq(&name, &input(0), &input(1), &input(2), None);
                let b = self.dq(&name, &input(3), &input(4), &input(5), None);
                let float_op = if op.ends_with("Add") { "Add" } else { "Mul" };
                let ins = vec![a, b];
                self.compute(
                    &name,
                    float_op,
                    ins,
                    marks(),
                    &output,
                    (&input(6), &input(7)),
                );
                Ok(())
            }
            "com.microsoft.QLinearSigmoid"
            | "com.microsoft.QLinearSoftmax"
            | "com.microsoft.QLinearAveragePool"
            | "com.microsoft.QLinearGlobalAveragePool" => {
                let channels_last = n
                    .attribute
                    .iter()
                    .any(|a| a.name.as_deref() == Some("channels_last") && a.i == Some(1));
                if channels_last {
                    return Err(err("channels_last is not supported".into()));
                }
                let float_op = op.trim_start_matches("com.microsoft.QLinear");
                let x = self.dq(&name, &input(0), &input(1), &input(2), None);
                let mut kept = attrs(&["channels_last", "opset"]);
                kept.extend(marks());
                self.compute(
                    &name,
                    float_op,
                    vec![x],
                    kept,
                    &output,
                    (&input(3), &input(4)),
                );
                Ok(())
            }
            "com.microsoft.QLinearConcat" => {
                let mut inputs = Vec::new();
                for slot in (2..n.input.len()).step_by(3) {
                    let x = self.dq(
                        &name,
                        &input(slot),
                        &input(slot + 1),
                        &input(slot + 2),
                        None,
                    );
                    inputs.push(x);
                }
                if inputs.is_empty() || !(n.input.len() - 2).is_multiple_of(3) {
                    return Err(err(
                        "its inputs must come in (value, scale, zero point) triples".into(),
                    ));
                }
                self.compute(
                    &name,
                    "Concat",
                    inputs,
                    attrs(&[]),
                    &output,
                    (&input(0), &input(1)),
                );
                Ok(())
            }
            _ => {
                self.nodes.push(n.clone());
                Ok(())
            }
        }
    }

    /// The element type of zero-point initializer `name`, if it is one.
    fn zero_point_type(&self, name: &str) -> Option<DType> {
        let t = self
            .graph
            .initializer
            .iter()
            .find(|t| t.name.as_deref() == Some(name))?;
        constant::dtype_of(t.data_type.unwrap_or(0))
    }

    /// A float32 initializer's values.
    fn floats(&self, name: &str) -> Option<Vec<f32>> {
        let t = self
            .graph
            .initializer
            .iter()
            .find(|t| t.name.as_deref() == Some(name))?;
        constant::decode(t)
            .ok()
            .filter(|c: &Constant| c.dtype == DType::F32)
            .map(|c| c.floats())
    }

    /// A fresh name derived from node `name`.
    fn fresh(&mut self, name: &str, what: &str) -> String {
        self.count += 1;
        format!("{name}/kiln_{what}_{}", self.count)
    }

    /// A Q or DQ node, tagged so that no two are merged.
    fn qdq_node(&mut self, op: &str, inputs: [&str; 3], axis: Option<i64>, out: &str) {
        let mut attribute = vec![AttributeProto {
            name: Some("kiln_qoperator".into()),
            i: Some(self.count),
            ..Default::default()
        }];
        if let Some(axis) = axis {
            attribute.push(AttributeProto {
                name: Some("axis".into()),
                i: Some(axis),
                ..Default::default()
            });
        }
        self.nodes.push(NodeProto {
            input: inputs
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.to_string())
                .collect(),
            output: vec![out.to_string()],
            name: Some(out.to_string()),
            op_type: Some(op.into()),
            attribute,
            domain: None,
        });
    }

    /// `DequantizeLinear(x, scale, zero_point)` (along `axis` when per channel): its output.
    fn dq(&mut self, name: &str, x: &str, scale: &str, zp: &str, axis: Option<i64>) -> String {
        let out = self.fresh(name, "dequantized");
        self.qdq_node("DequantizeLinear", [x, scale, zp], axis, &out);
        out
    }

    /// The int32 bias `b` dequantized by `x_scale · w_scale` (per channel).
    fn bias(
        &mut self,
        name: &str,
        b: &str,
        x_scale: &str,
        w_scale: &str,
        axis: Option<i64>,
        err: &dyn Fn(String) -> ReadError,
    ) -> Result<String, ReadError> {
        let (Some(xs), Some(ws)) = (self.floats(x_scale), self.floats(w_scale)) else {
            return Err(err("its scales must be float32 initializers".into()));
        };
        let [xs] = xs.as_slice() else {
            return Err(err("its input scale must be one value".into()));
        };
        let scales: Vec<f32> = ws.iter().map(|w| xs * w).collect();
        let scale_name = self.fresh(name, "bias_scale");
        let zp_name = self.fresh(name, "bias_zero_point");
        let n = scales.len() as i64;
        self.initializers.push(TensorProto {
            name: Some(scale_name.clone()),
            data_type: Some(data_type::FLOAT),
            dims: vec![n],
            raw_data: Some(scales.iter().flat_map(|s| s.to_le_bytes()).collect()),
            ..Default::default()
        });
        self.initializers.push(TensorProto {
            name: Some(zp_name.clone()),
            data_type: Some(data_type::INT32),
            dims: vec![n],
            raw_data: Some(vec![0; scales.len() * 4]),
            ..Default::default()
        });
        Ok(self.dq(name, b, &scale_name, &zp_name, axis))
    }

    /// The float operator `op` on `inputs`, quantized into `output` by `scale`/`zero_point`.
    fn compute(
        &mut self,
        name: &str,
        op: &str,
        inputs: Vec<String>,
        attribute: Vec<AttributeProto>,
        output: &str,
        (scale, zero_point): (&str, &str),
    ) {
        let float_out = self.fresh(name, "float");
        self.nodes.push(NodeProto {
            input: inputs,
            output: vec![float_out.clone()],
            name: Some(name.to_string()),
            op_type: Some(op.into()),
            attribute,
            domain: None,
        });
        self.qdq_node(
            "QuantizeLinear",
            [&float_out, scale, zero_point],
            None,
            output,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::proto::{ModelProto, OperatorSetIdProto};
    use super::*;
    use prost::Message;

    fn scalar(name: &str, data_type: i32, raw: Vec<u8>) -> TensorProto {
        TensorProto {
            name: Some(name.into()),
            data_type: Some(data_type),
            raw_data: Some(raw),
            ..Default::default()
        }
    }

    /// The error reading a one-node graph: `op` (in `domain`) on inputs `a`, `s`, `z` twice
    /// then `s`, `z`, with zero point `z` of `zp_type`.
    fn error(op: &str, domain: Option<&str>, zp_type: i32) -> String {
        let n = NodeProto {
            input: ["a", "s", "z", "a", "s", "z", "s", "z"]
                .map(String::from)
                .to_vec(),
            output: vec!["y".into()],
            name: Some("the_node".into()),
            op_type: Some(op.into()),
            attribute: vec![],
            domain: domain.map(String::from),
        };
        let graph = GraphProto {
            node: vec![n],
            name: None,
            initializer: vec![
                scalar("s", data_type::FLOAT, 0.5f32.to_le_bytes().to_vec()),
                scalar("z", zp_type, vec![0]),
            ],
            input: vec![],
            output: vec![],
        };
        let model = ModelProto {
            ir_version: Some(8),
            producer_name: None,
            graph: Some(graph),
            opset_import: vec![OperatorSetIdProto {
                domain: None,
                version: Some(13),
            }],
        };
        super::super::read(&model.encode_to_vec())
            .expect_err("an error")
            .to_string()
    }

    #[test]
    fn a_lone_conv_integer_is_refused_by_name_and_int8_qlinear_add_is_not() {
        let text = error("ConvInteger", None, data_type::UINT8);
        assert!(
            text.contains("ONNX node 0 'the_node' (ConvInteger)")
                && text.contains("only as quantize_dynamic writes them"),
            "{text}"
        );
        // An int8 QLinearAdd is rewritten (this graph fails later, for its missing inputs).
        let text = error("QLinearAdd", Some("com.microsoft"), data_type::INT8);
        assert!(
            !text.contains("QLinearAdd") && !text.contains("signed"),
            "{text}"
        );
    }
}
