//! What `quantize_dynamic` writes for MatMul and Gemm, read as onnxruntime's fused
//! `DynamicQuantizeMatMul`, and for Conv (ConvInteger, which onnxruntime runs unfused in the
//! same order):
//!
//! ```text
//! DynamicQuantizeLinear(x) → (q, scale, zero_point)
//! Mul(scale, weight_scale) → s
//! MatMulInteger | ConvInteger(q, W, zero_point[, w_zero_point]) → Cast(float) → Mul(·, s)
//!     [→ Add(·, bias)]
//! ```
//!
//! onnxruntime fuses the chain and computes `acc as f32 · (scale · weight_scale) + bias` in
//! float32, the unfused graph's order. The whole chain becomes one IR operator; its float32
//! input and output live beside kiln's float32 kernels (Reshape, Relu).

use super::{Importer, Layout, NodeCx, Value};
use crate::front::onnx::constant::Constant;
use crate::front::onnx::proto::NodeProto;
use crate::front::onnx::ReadError;
use crate::ir::{DType, DynamicConvOptions, OpKind, Quant, TensorId};
use crate::names::shown;

/// The nodes after a `DynamicQuantizeLinear`.
struct Chain<'p> {
    /// The MatMulInteger or ConvInteger.
    integer: &'p NodeProto,
    /// The weight scale the input scale is multiplied by.
    weight_scale: Constant,
    /// The constant the Add at the end adds, if there is one.
    bias: Option<Constant>,
    /// The chain's float32 output.
    output: String,
    /// The nodes the chain absorbs (the integer node first).
    nodes: Vec<usize>,
}

/// The first output of `n`.
fn out_name(n: &NodeProto) -> String {
    n.output.first().cloned().unwrap_or_default()
}

/// The error for a `DynamicQuantizeLinear` that does not start the chain kiln reads.
fn chain_err(cx: &NodeCx, what: &str) -> ReadError {
    cx.err(format!(
        "kiln reads DynamicQuantizeLinear only as quantize_dynamic writes it for MatMul, Gemm \
         and Conv: {what}"
    ))
}

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

    /// A `MatMulInteger` or `ConvInteger` outside the chain above.
    pub(super) fn lone_integer_product(&self, cx: &NodeCx) -> Result<Value, ReadError> {
        Err(cx.err(
            "kiln reads MatMulInteger and ConvInteger only as quantize_dynamic writes them: \
             of a DynamicQuantizeLinear's output, cast to float and multiplied by the product \
             of the scales",
        ))
    }

    /// A `DynamicQuantizeLinear` and the chain it starts, as one DynamicQuantizeMatMul or
    /// DynamicQuantizeConv.
    pub(super) fn dynamic_quantize(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let Value::Tensor(x, layout) = self.value(cx, 0)? else {
            return Err(chain_err(cx, "its input must be a float32 activation"));
        };
        if self.graph.tensors[x].dtype != DType::F32 {
            return Err(chain_err(cx, "its input must be float32"));
        }
        let chain = self.chain(cx)?;
        let integer = chain.integer;
        let weights = self.named_constant(integer, 1, cx, "weights")?;
        let (kind, x, w, out_c, out_shape, out_layout) =
            if integer.op_type.as_deref() == Some("MatMulInteger") {
                let x = self.relaid(x, layout, Layout::Onnx);
                let (w, cols, shape) = self.matmul_weights(cx, x, &chain, weights)?;
                (
                    OpKind::DynamicQuantizeMatMul,
                    x,
                    w,
                    cols,
                    shape,
                    Layout::Onnx,
                )
            } else {
                let x = self.relaid(x, layout, Layout::Nhwc);
                let (kind, w, out_c, shape) = self.conv_weights(cx, x, &chain, weights)?;
                (kind, x, w, out_c, shape, Layout::Nhwc)
            };
        let mut inputs: Vec<Option<TensorId>> = vec![Some(x), Some(w)];
        if let Some(bias) = &chain.bias {
            if bias.dtype != DType::F32 || bias.data.len() != out_c * 4 {
                return Err(chain_err(
                    cx,
                    "the bias must be float32, one per output channel",
                ));
            }
            let name = format!("{}_bias", shown(&chain.output));
            let id = self.add(
                &name,
                vec![out_c],
                DType::F32,
                None,
                Some(bias.data.clone()),
            );
            inputs.push(Some(id));
        }
        let out = self.add(&chain.output, out_shape, DType::F32, None, None);
        let name = match kind {
            OpKind::DynamicQuantizeMatMul => "DynamicQuantizeMatMul",
            _ => "ConvInteger",
        };
        self.graph.ops.push(crate::ir::Op {
            kind,
            name,
            inputs,
            outputs: vec![out],
        });
        for &i in &chain.nodes {
            self.absorbed[i] = true;
        }
        let value = Value::Tensor(out, out_layout);
        self.values.insert(chain.output.clone(), value.clone());
        Ok(value)
    }

    /// The chain `cx` (a DynamicQuantizeLinear) starts, checked.
    fn chain(&self, cx: &NodeCx) -> Result<Chain<'p>, ReadError> {
        let err = |what: &str| chain_err(cx, what);
        let (q, scale, zp) = match &cx.node.output[..] {
            [q, s, z] => (q.as_str(), s.as_str(), z.as_str()),
            _ => return Err(err("it must have three outputs")),
        };
        let (mm_index, mm) = ["MatMulInteger", "ConvInteger"]
            .iter()
            .find_map(|op| self.only_reader(q, op))
            .filter(|(_, n)| n.input.first().map(String::as_str) == Some(q))
            .ok_or_else(|| err("its output must feed one MatMulInteger or ConvInteger"))?;
        if mm.input.get(2).map(String::as_str) != Some(zp) || self.readers(zp) != [mm_index] {
            return Err(err(
                "its zero point must feed the MatMulInteger or ConvInteger only",
            ));
        }
        let (cast_index, cast) = self
            .only_reader(&out_name(mm), "Cast")
            .ok_or_else(|| err("the integer product must feed one Cast"))?;
        let to_float = cast
            .attribute
            .iter()
            .any(|a| a.name.as_deref() == Some("to") && a.i == Some(1));
        if !to_float {
            return Err(err("the Cast must be to float"));
        }
        let (mul_index, mul) = self
            .only_reader(&out_name(cast), "Mul")
            .ok_or_else(|| err("the Cast must feed one Mul"))?;
        let (scale_mul_index, scale_mul) = self
            .only_reader(scale, "Mul")
            .ok_or_else(|| err("its scale must feed one Mul"))?;
        let product = out_name(scale_mul);
        if !mul.input.contains(&product) || self.readers(&product) != [mul_index] {
            return Err(err("the scale product must multiply the cast sums only"));
        }
        let slot = usize::from(scale_mul.input.first().map(String::as_str) == Some(scale));
        let weight_scale = self.named_constant(scale_mul, slot, cx, "weight scale")?;
        if weight_scale.dtype != DType::F32 {
            return Err(err("the weight scale must be float32"));
        }
        let mut nodes = vec![mm_index, cast_index, mul_index, scale_mul_index];
        // An Add of a constant bias ends the chain when there is one.
        let mul_out = out_name(mul);
        let add = self.only_reader(&mul_out, "Add").and_then(|(i, n)| {
            let slot = usize::from(n.input.first() == Some(&mul_out));
            match self.values.get(n.input.get(slot)?) {
                Some(Value::Const(c)) => Some((i, n, c.clone())),
                _ => None,
            }
        });
        let (bias, output) = match add {
            Some((i, n, c)) => {
                nodes.push(i);
                (Some(c), out_name(n))
            }
            None => (None, mul_out),
        };
        Ok(Chain {
            integer: mm,
            weight_scale,
            bias,
            output,
            nodes,
        })
    }

    /// MatMulInteger's int8 `depth × cols` weights as an IR tensor: its id, `cols` and the
    /// output shape.
    fn matmul_weights(
        &mut self,
        cx: &NodeCx,
        x: TensorId,
        chain: &Chain,
        weights: Constant,
    ) -> Result<(TensorId, usize, Vec<usize>), ReadError> {
        let err = |what: &str| chain_err(cx, what);
        if weights.dtype != DType::I8 || weights.dims.len() != 2 {
            return Err(err(
                "its MatMulInteger's weights must be an int8 matrix (quantize with \
                 weight_type=QuantType.QInt8)",
            ));
        }
        let (depth, cols) = (weights.dims[0], weights.dims[1]);
        let scales = chain.weight_scale.floats();
        if !(scales.len() == 1 || scales.len() == cols) {
            return Err(err("the weight scale must be one, or one per column"));
        }
        let zero_points = self.weight_zero_points(cx, chain)?;
        if zero_points.iter().any(|&z| z != 0) {
            return Err(err("its weights must be symmetric (zero points 0)"));
        }
        let x_shape = self.graph.tensors[x].shape.clone();
        if x_shape.last() != Some(&depth) {
            return Err(err(&format!(
                "input {x_shape:?} does not match weights of {depth}×{cols}"
            )));
        }
        let quant = Quant {
            zero_points: vec![0; scales.len()],
            scales,
            axis: 1,
        };
        let name = format!("{}_weights", shown(&chain.output));
        let w = self.add(
            &name,
            vec![depth, cols],
            DType::I8,
            Some(quant),
            Some(weights.data),
        );
        let mut shape = x_shape;
        if let Some(last) = shape.last_mut() {
            *last = cols;
        }
        Ok((w, cols, shape))
    }

    /// ConvInteger's uint8 OIHW weights as an HWIO IR tensor: the operator, the weights' id,
    /// the output channels and the (NHWC) output shape.
    fn conv_weights(
        &mut self,
        cx: &NodeCx,
        x: TensorId,
        chain: &Chain,
        weights: Constant,
    ) -> Result<(OpKind, TensorId, usize, Vec<usize>), ReadError> {
        let err = |what: &str| chain_err(cx, what);
        let x_shape = self.graph.tensors[x].shape.clone();
        let (&[out_c, k_c, k_h, k_w], &[batches, in_h, in_w, in_c]) =
            (&weights.dims[..], &x_shape[..])
        else {
            return Err(err("its ConvInteger must be 2-D (4-D input and weights)"));
        };
        if weights.dtype != DType::U8 {
            return Err(err(
                "its ConvInteger's weights must be uint8 (onnxruntime runs ConvInteger with \
                 uint8 weights only: quantize with weight_type=QuantType.QUInt8)",
            ));
        }
        let integer = chain.integer;
        let icx = NodeCx {
            index: chain.nodes[0],
            node: integer,
            op_type: "ConvInteger",
            name: "ConvInteger",
        };
        if icx.int("group", 1) != 1 || k_c != in_c {
            return Err(err("its ConvInteger must have one group"));
        }
        let scales = chain.weight_scale.floats();
        let zero_points = self.weight_zero_points(cx, chain)?;
        if scales.len() != 1 || zero_points.len() != 1 {
            return Err(err(
                "its ConvInteger's weights must be quantized per tensor",
            ));
        }
        let geometry = super::Window::of(&icx, [in_h, in_w], [k_h, k_w])?;
        // OIHW → HWIO: a tap's output channels side by side.
        let mut filter = Vec::with_capacity(weights.data.len());
        for y in 0..k_h {
            for xx in 0..k_w {
                for i in 0..k_c {
                    for o in 0..out_c {
                        filter.push(weights.data[((o * k_c + i) * k_h + y) * k_w + xx]);
                    }
                }
            }
        }
        let quant = Quant {
            scales,
            zero_points,
            axis: 3,
        };
        let name = format!("{}_weights", shown(&chain.output));
        let w = self.add(
            &name,
            vec![k_h, k_w, k_c, out_c],
            DType::U8,
            Some(quant),
            Some(filter),
        );
        let options = DynamicConvOptions {
            strides: geometry.strides,
            dilations: geometry.dilations,
            pad_top_left: [geometry.pads[0], geometry.pads[1]],
        };
        let [out_h, out_w] = geometry.out;
        Ok((
            OpKind::DynamicQuantizeConv(options),
            w,
            out_c,
            vec![batches, out_h, out_w, out_c],
        ))
    }

    /// The integer node's weight zero points (`[0]` without input 3).
    fn weight_zero_points(&self, cx: &NodeCx, chain: &Chain) -> Result<Vec<i64>, ReadError> {
        Ok(match chain.integer.input.get(3).filter(|s| !s.is_empty()) {
            Some(_) => self
                .named_constant(chain.integer, 3, cx, "weight zero point")?
                .ints(),
            None => vec![0],
        })
    }

    /// Input `slot` of node `n` (read while importing `cx`) as a constant.
    fn named_constant(
        &self,
        n: &NodeProto,
        slot: usize,
        cx: &NodeCx,
        what: &str,
    ) -> Result<Constant, ReadError> {
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
            text.contains("(MatMulInteger)")
                && text.contains("only as quantize_dynamic writes them"),
            "{text}"
        );
    }

    #[test]
    fn a_conv_integer_chain_imports_with_uint8_weights_only() {
        // The chain with ConvInteger over x [1, 4, 2, 2] and 1x1 weights [3, 4, 1, 1].
        let conv = |w_type: i32| {
            let mut m = ModelProto::decode(&model(vec![])[..]).unwrap();
            let g = m.graph.as_mut().unwrap();
            g.node[2].op_type = Some("ConvInteger".into());
            g.input = vec![value("x", &[1, 4, 2, 2])];
            g.output = vec![value("y", &[1, 3, 2, 2])];
            let w = g
                .initializer
                .iter_mut()
                .find(|t| t.name.as_deref() == Some("w"));
            let w = w.unwrap();
            (w.data_type, w.dims) = (Some(w_type), vec![3, 4, 1, 1]);
            let ws = g
                .initializer
                .iter_mut()
                .find(|t| t.name.as_deref() == Some("ws"));
            let ws = ws.unwrap();
            (ws.dims, ws.raw_data) = (vec![], Some(0.5f32.to_le_bytes().to_vec()));
            let wz = g
                .initializer
                .iter_mut()
                .find(|t| t.name.as_deref() == Some("wz"));
            let wz = wz.unwrap();
            (wz.data_type, wz.dims, wz.raw_data) = (Some(w_type), vec![], Some(vec![3]));
            crate::front::onnx::read(&m.encode_to_vec())
        };
        let graph = conv(data_type::UINT8).unwrap();
        let kinds: Vec<_> = graph.ops.iter().map(|o| &o.kind).collect();
        assert!(
            matches!(
                kinds[..],
                [
                    OpKind::Transpose,
                    OpKind::DynamicQuantizeConv(_),
                    OpKind::Transpose
                ]
            ),
            "{kinds:?}"
        );
        let text = conv(data_type::INT8).expect_err("an error").to_string();
        assert!(text.contains("weights must be uint8"), "{text}");
    }
}
