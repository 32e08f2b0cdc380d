//! What `quantize_dynamic` writes for MatMul and Gemm, read as onnxruntime's fused
//! `DynamicQuantizeMatMul`:
//!
//! ```text
//! DynamicQuantizeLinear(x) → (q, scale, zero_point)
//! Mul(scale, weight_scale) → s
//! MatMulInteger(q, W, zero_point[, 0]) → Cast(float) → Mul(·, s) [→ Add(·, bias)]
//! ```
//!
//! onnxruntime fuses the chain and computes `acc as f32 · (scale · weight_scale) + bias` in
//! float32, the unfused graph's order. The whole chain becomes one IR operator; its float32
//! input and output live beside kiln's float32 kernels (Reshape, Relu).

use super::{Importer, Layout, NodeCx, Value};
use crate::front::onnx::proto::NodeProto;
use crate::front::onnx::ReadError;
use crate::ir::{DType, OpKind, Quant, TensorId};
use crate::names::shown;

impl<'p> Importer<'p> {
    /// The nodes reading value `name`.
    fn readers(&self, name: &str) -> &[usize] {
        self.consumers.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The only node reading `name` if it is a default-domain `op_type` (and `name` is not a
    /// graph output): its index and node.
    fn only_reader(&self, name: &str, op_type: &str) -> Option<(usize, &'p NodeProto)> {
        let nodes = self.nodes;
        match self.readers(name) {
            [i] if !self.outputs.contains(name) => {
                let n = &nodes[*i];
                let domain_ok = matches!(n.domain.as_deref(), None | Some("" | "ai.onnx"));
                (domain_ok && n.op_type.as_deref() == Some(op_type)).then_some((*i, n))
            }
            _ => None,
        }
    }

    /// Whether input 0 of `cx` is a float32 activation.
    pub(super) fn is_float_activation(&self, cx: &NodeCx) -> bool {
        matches!(self.value(cx, 0), Ok(Value::Tensor(id, _))
            if self.graph.tensors[id].dtype == DType::F32)
    }

    /// Relu of a float32 activation.
    pub(super) fn float_relu(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let Value::Tensor(x, layout) = self.value(cx, 0)? else {
            return Err(cx.err("input 0 must be a float32 activation"));
        };
        let shape = self.graph.tensors[x].shape.clone();
        let out = self.add(cx.output_name()?, shape, DType::F32, None, None);
        self.op(OpKind::Relu, cx.name, &[Some(x)], out);
        Ok(Value::Tensor(out, layout))
    }

    /// A `MatMulInteger` outside the chain above.
    pub(super) fn lone_matmul_integer(&self, cx: &NodeCx) -> Result<Value, ReadError> {
        Err(cx.err(
            "kiln reads MatMulInteger only as quantize_dynamic writes it: of a \
             DynamicQuantizeLinear's output, cast to float and multiplied by the product of \
             the scales",
        ))
    }

    /// A `DynamicQuantizeLinear` and the chain it starts, as one DynamicQuantizeMatMul.
    pub(super) fn dynamic_quantize_matmul(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let chain = |what: &str| {
            cx.err(format!(
                "kiln reads DynamicQuantizeLinear only as quantize_dynamic writes it for \
                 MatMul and Gemm: {what}"
            ))
        };
        let Value::Tensor(x, layout) = self.value(cx, 0)? else {
            return Err(chain("its input must be a float32 activation"));
        };
        if self.graph.tensors[x].dtype != DType::F32 {
            return Err(chain("its input must be float32"));
        }
        let x = self.relaid(x, layout, Layout::Onnx);
        let out_name = |n: &NodeProto| n.output.first().cloned().unwrap_or_default();
        let (q, scale, zp) = match &cx.node.output[..] {
            [q, s, z] => (q.as_str(), s.as_str(), z.as_str()),
            _ => return Err(chain("it must have three outputs")),
        };
        let (mm_index, mm) = self
            .only_reader(q, "MatMulInteger")
            .filter(|(_, n)| n.input.first().map(String::as_str) == Some(q))
            .ok_or_else(|| chain("its output must feed one MatMulInteger"))?;
        if mm.input.get(2).map(String::as_str) != Some(zp) || self.readers(zp) != [mm_index] {
            return Err(chain("its zero point must feed the MatMulInteger only"));
        }
        let (cast_index, cast) = self
            .only_reader(&out_name(mm), "Cast")
            .ok_or_else(|| chain("the MatMulInteger must feed one Cast"))?;
        let to_float = cast
            .attribute
            .iter()
            .any(|a| a.name.as_deref() == Some("to") && a.i == Some(1));
        if !to_float {
            return Err(chain("the Cast must be to float"));
        }
        let (mul_index, mul) = self
            .only_reader(&out_name(cast), "Mul")
            .ok_or_else(|| chain("the Cast must feed one Mul"))?;
        let (scale_mul_index, scale_mul) = self
            .only_reader(scale, "Mul")
            .ok_or_else(|| chain("its scale must feed one Mul"))?;
        let product = out_name(scale_mul);
        if !mul.input.contains(&product) || self.readers(&product) != [mul_index] {
            return Err(chain("the scale product must multiply the cast sums only"));
        }
        let weight_scale_slot =
            usize::from(scale_mul.input.first().map(String::as_str) == Some(scale));
        let weight_scale = self.named_constant(scale_mul, weight_scale_slot, cx, "weight scale")?;
        let weights = self.named_constant(mm, 1, cx, "weights")?;
        if weights.dtype != DType::I8 || weights.dims.len() != 2 {
            return Err(chain(
                "its MatMulInteger's weights must be an int8 matrix (quantize with \
                 weight_type=QuantType.QInt8)",
            ));
        }
        let (depth, cols) = (weights.dims[0], weights.dims[1]);
        let scales = weight_scale.floats();
        if !(scales.len() == 1 || scales.len() == cols) || weight_scale.dtype != DType::F32 {
            return Err(chain(
                "the weight scale must be float32, one or one per column",
            ));
        }
        let zero_points = match mm.input.get(3).filter(|s| !s.is_empty()) {
            Some(_) => self.named_constant(mm, 3, cx, "weight zero point")?.ints(),
            None => vec![0],
        };
        if zero_points.iter().any(|&z| z != 0) {
            return Err(chain("its weights must be symmetric (zero points 0)"));
        }
        let x_shape = self.graph.tensors[x].shape.clone();
        if x_shape.last() != Some(&depth) {
            return Err(chain(&format!(
                "input {x_shape:?} does not match weights of {depth}×{cols}"
            )));
        }
        // An Add of a constant bias vector ends the chain when there is one.
        let mul_out = out_name(mul);
        let add = self.only_reader(&mul_out, "Add").and_then(|(i, n)| {
            let slot = usize::from(n.input.first() == Some(&mul_out));
            match self.values.get(n.input.get(slot)?) {
                Some(Value::Const(c)) if c.dtype == DType::F32 && c.dims == [cols] => {
                    Some((i, n, c.clone()))
                }
                _ => None,
            }
        });
        let quant = Quant {
            scales,
            zero_points: vec![
                0;
                if weight_scale.floats().len() == 1 {
                    1
                } else {
                    cols
                }
            ],
            axis: 1,
        };
        let w = self.add(
            &format!("{}_weights", shown(&out_name(mm))),
            vec![depth, cols],
            DType::I8,
            Some(quant),
            Some(weights.data),
        );
        let mut inputs: Vec<Option<TensorId>> = vec![Some(x), Some(w)];
        let out_onnx = match &add {
            Some((_, n, bias)) => {
                let id = self.add(
                    &format!("{}_bias", shown(&out_name(n))),
                    vec![cols],
                    DType::F32,
                    None,
                    Some(bias.data.clone()),
                );
                inputs.push(Some(id));
                out_name(n)
            }
            None => mul_out,
        };
        let mut shape = x_shape;
        *shape.last_mut().unwrap_or(&mut 0) = cols;
        let out = self.add(&out_onnx, shape, DType::F32, None, None);
        self.graph.ops.push(crate::ir::Op {
            kind: OpKind::DynamicQuantizeMatMul,
            name: "DynamicQuantizeMatMul",
            inputs,
            outputs: vec![out],
        });
        for i in [mm_index, cast_index, mul_index, scale_mul_index] {
            self.absorbed[i] = true;
        }
        if let Some((i, ..)) = add {
            self.absorbed[i] = true;
        }
        self.values
            .insert(out_onnx, Value::Tensor(out, Layout::Onnx));
        Ok(Value::Tensor(out, Layout::Onnx))
    }

    /// Input `slot` of node `n` (read while importing `cx`) as a constant.
    fn named_constant(
        &self,
        n: &NodeProto,
        slot: usize,
        cx: &NodeCx,
        what: &str,
    ) -> Result<crate::front::onnx::constant::Constant, ReadError> {
        let name = n.input.get(slot).map(String::as_str).unwrap_or("");
        match self.values.get(name) {
            Some(Value::Const(c)) => Ok(c.clone()),
            _ => Err(cx.err(format!("the {what} '{}' must be a constant", shown(name)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::front::onnx::proto::{
        data_type, AttributeProto, Dimension, GraphProto, ModelProto, NodeProto,
        OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, TypeProtoTensor,
        ValueInfoProto,
    };
    use crate::ir::OpKind;
    use prost::Message;

    fn value(name: &str, shape: &[i64]) -> ValueInfoProto {
        let dim = shape
            .iter()
            .map(|&d| Dimension {
                dim_value: Some(d),
                dim_param: None,
            })
            .collect();
        ValueInfoProto {
            name: Some(name.into()),
            r#type: Some(TypeProto {
                tensor_type: Some(TypeProtoTensor {
                    elem_type: Some(data_type::FLOAT),
                    shape: Some(TensorShapeProto { dim }),
                }),
            }),
        }
    }

    fn node(op: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
        NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            name: Some(format!("{}_node", outputs[0])),
            op_type: Some(op.into()),
            ..Default::default()
        }
    }

    fn tensor(name: &str, data_type: i32, raw: Vec<u8>, dims: Vec<i64>) -> TensorProto {
        TensorProto {
            name: Some(name.into()),
            data_type: Some(data_type),
            dims,
            raw_data: Some(raw),
            ..Default::default()
        }
    }

    /// `quantize_dynamic`'s chain from `x` [2, 4] to `y` [2, 3], then `extra` nodes.
    fn model(extra: Vec<NodeProto>) -> Vec<u8> {
        let mut cast = node("Cast", &["acc"], &["accf"]);
        cast.attribute.push(AttributeProto {
            name: Some("to".into()),
            i: Some(data_type::FLOAT as i64),
            ..Default::default()
        });
        let mut nodes = vec![
            node("DynamicQuantizeLinear", &["x"], &["q", "qs", "qz"]),
            node("Mul", &["qs", "ws"], &["s"]),
            node("MatMulInteger", &["q", "w", "qz", "wz"], &["acc"]),
            cast,
            node("Mul", &["accf", "s"], &["scaled"]),
            node("Add", &["scaled", "b"], &["y"]),
        ];
        nodes.extend(extra);
        let floats = |v: &[f32]| v.iter().flat_map(|f| f.to_le_bytes()).collect();
        let graph = GraphProto {
            node: nodes,
            name: Some("test".into()),
            initializer: vec![
                tensor("ws", data_type::FLOAT, floats(&[0.5, 0.25, 1.0]), vec![3]),
                tensor("w", data_type::INT8, vec![1; 12], vec![4, 3]),
                tensor("wz", data_type::INT8, vec![0; 3], vec![3]),
                tensor("b", data_type::FLOAT, floats(&[0.1, 0.2, 0.3]), vec![3]),
            ],
            input: vec![value("x", &[2, 4])],
            output: vec![value("y", &[2, 3])],
        };
        ModelProto {
            ir_version: Some(8),
            producer_name: None,
            graph: Some(graph),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(13),
            }],
        }
        .encode_to_vec()
    }

    #[test]
    fn the_chain_imports_as_one_dynamic_quantize_matmul() {
        let graph = crate::front::onnx::read(&model(vec![])).unwrap();
        assert_eq!(graph.ops.len(), 1);
        let op = &graph.ops[0];
        assert_eq!(op.kind, OpKind::DynamicQuantizeMatMul);
        assert_eq!(op.inputs.len(), 3, "input, weights, bias");
        let w = &graph.tensors[op.inputs[1].unwrap()];
        assert_eq!(w.quant.as_ref().unwrap().scales, [0.5, 0.25, 1.0]);
        assert_eq!(graph.tensors[op.outputs[0]].shape, [2, 3]);
    }

    #[test]
    fn a_chain_with_a_second_reader_and_a_lone_matmul_integer_are_refused() {
        // The int32 sums also feed another node: not the chain onnxruntime fuses.
        let text = crate::front::onnx::read(&model(vec![node("Relu", &["accf"], &["z"])]))
            .expect_err("an error")
            .to_string();
        assert!(
            text.contains("(DynamicQuantizeLinear)") && text.contains("must feed one Mul"),
            "{text}"
        );
        let mut bytes = ModelProto::decode(&model(vec![])[..]).unwrap();
        let g = bytes.graph.as_mut().unwrap();
        g.node.drain(..2); // DynamicQuantizeLinear and the scale product: constants now
        g.initializer
            .push(tensor("q", data_type::UINT8, vec![0; 8], vec![2, 4]));
        g.initializer
            .push(tensor("qz", data_type::UINT8, vec![0], vec![]));
        g.initializer
            .push(tensor("s", data_type::FLOAT, vec![0, 0, 128, 63], vec![]));
        let text = crate::front::onnx::read(&bytes.encode_to_vec())
            .expect_err("an error")
            .to_string();
        assert!(
            text.contains("(MatMulInteger)") && text.contains("only as quantize_dynamic writes it"),
            "{text}"
        );
    }
}
