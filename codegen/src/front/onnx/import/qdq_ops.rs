//! The QDQ element-wise and data-movement operators beyond convolutions and pools: Add and
//! Mul with broadcasting (QLinearAdd, QLinearMul), Sigmoid (QLinearSigmoid), Softmax
//! (QLinearSoftmax), and Concat, Pad and Slice of activations.
//!
//! Concat and Pad of dequantized values run in float32 between their `DequantizeLinear`s and
//! `QuantizeLinear` (or as QLinearConcat, which builds the same tables): each input whose
//! quantization differs from the output's is requantized first by an int8 QUANTIZE, which
//! `prepare` computes as onnxruntime's dequantize-then-quantize table; then the values move.

use super::{Importer, Layout, NodeCx, Value};
use crate::front::onnx::ReadError;
use crate::ir::{Activation, DType, OpKind, Quant, StridedSliceOptions, TensorId};

/// Where axis `axis` of an NCHW value sits in its NHWC form.
fn nhwc_axis(axis: usize) -> usize {
    [0, 3, 1, 2][axis.min(3)]
}

impl Importer<'_> {
    /// Input `slot` as an activation read in float32 (a dequantized value, whether or not its
    /// `DequantizeLinear` is its own): its tensor and layout.
    fn float_input(&self, cx: &NodeCx, slot: usize) -> Result<(TensorId, Layout), ReadError> {
        match self.value(cx, slot)? {
            Value::Dequantized(id, layout) => Ok((id, layout)),
            _ => Err(cx.err(format!(
                "input {slot} must be a DequantizeLinear of a quantized activation"
            ))),
        }
    }

    /// Tensor `id` requantized to `quant` (an inserted int8 QUANTIZE: onnxruntime's float32
    /// dequantize-then-quantize) unless it has that quantization already.
    pub(super) fn requantized(&mut self, id: TensorId, quant: &Quant, unsigned: bool) -> TensorId {
        if self.graph.tensors[id].quant.as_ref() == Some(quant) {
            return id;
        }
        let t = &self.graph.tensors[id];
        let (name, shape) = (format!("{}_requantized", t.name), t.shape.clone());
        let out = self.add(&name, shape, DType::I8, Some(quant.clone()), None);
        self.mark_unsigned(out, unsigned);
        self.op(OpKind::Quantize, "QuantizeLinear", &[Some(id)], out);
        out
    }

    /// The quantized output of compute node `cx` (through its absorbed `QuantizeLinear`), of
    /// `shape`, in `layout`: its tensor, after registering the value.
    fn quantized_output(
        &mut self,
        cx: &NodeCx,
        shape: Vec<usize>,
        layout: Layout,
    ) -> Result<(TensorId, Quant, bool), ReadError> {
        let (q_out, quant, dtype, unsigned) = self.absorb_quantize(cx)?;
        let out = self.add(&q_out, shape, dtype, Some(quant.clone()), None);
        self.mark_unsigned(out, unsigned);
        self.values.insert(q_out, Value::Tensor(out, layout));
        Ok((out, quant, unsigned))
    }

    /// Input `slot` of Add or Mul: a dequantized activation or dequantized constant.
    fn binary_input(&mut self, cx: &NodeCx, slot: usize) -> Result<(TensorId, Layout), ReadError> {
        if let Value::DequantizedConst(c, q) = self.value(cx, slot)? {
            self.expect_own_dequantize(cx, slot)?;
            if c.dtype != DType::I8 || !q.is_per_tensor() {
                return Err(cx.err(format!(
                    "input {slot} must be a per-tensor int8 or uint8 constant or activation"
                )));
            }
            let name = format!("{}_input{slot}", cx.output_name()?);
            let id = self.add(&name, c.dims.clone(), DType::I8, Some(q), Some(c.data));
            return Ok((id, Layout::Onnx));
        }
        self.dequantized(cx, slot)
    }

    /// Add or Mul of two dequantized values, numpy-broadcast (onnxruntime's QLinearAdd,
    /// QLinearMul).
    pub(super) fn binary_op(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (a, a_layout) = self.binary_input(cx, 0)?;
        let (b, b_layout) = self.binary_input(cx, 1)?;
        let ranks = [a, b].map(|t| self.graph.tensors[t].shape.len());
        // NHWC when both are 4-D and either is NHWC already; else as the model has them.
        let layout = if ranks == [4, 4] && (a_layout == Layout::Nhwc || b_layout == Layout::Nhwc) {
            Layout::Nhwc
        } else {
            Layout::Onnx
        };
        let a = self.relaid(a, a_layout, layout);
        let b = self.relaid(b, b_layout, layout);
        let (sa, sb) = (&self.graph.tensors[a].shape, &self.graph.tensors[b].shape);
        let rank = sa.len().max(sb.len());
        let pad = |s: &[usize]| {
            let mut v = vec![1; rank - s.len()];
            v.extend_from_slice(s);
            v
        };
        let (pa, pb) = (pad(sa), pad(sb));
        let mut shape = Vec::with_capacity(rank);
        for (&x, &y) in pa.iter().zip(&pb) {
            shape.push(match (x, y) {
                _ if x == y => x,
                (1, _) => y,
                (_, 1) => x,
                _ => {
                    return Err(cx.err(format!(
                        "inputs of shapes {sa:?} and {sb:?} do not broadcast"
                    )))
                }
            });
        }
        let (out, _, _) = self.quantized_output(cx, shape, layout)?;
        let activation = Activation::None;
        let (kind, name) = match cx.op_type {
            "Mul" => (
                OpKind::Mul { activation },
                self.kernel_name(cx, "QLinearMul", out),
            ),
            _ => (
                OpKind::Add { activation },
                self.kernel_name(cx, "QLinearAdd", out),
            ),
        };
        self.op(kind, name, &[Some(a), Some(b)], out);
        Ok(Value::Tensor(out, layout))
    }

    /// Sigmoid of a dequantized value (onnxruntime's QLinearSigmoid).
    pub(super) fn sigmoid(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (x, layout) = self.dequantized(cx, 0)?;
        let shape = self.graph.tensors[x].shape.clone();
        let (out, _, _) = self.quantized_output(cx, shape, layout)?;
        self.op(OpKind::Logistic, cx.name, &[Some(x)], out);
        Ok(Value::Tensor(out, layout))
    }

    /// Softmax of a dequantized value along its last axis (onnxruntime's QLinearSoftmax).
    pub(super) fn softmax(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (x, layout) = self.dequantized(cx, 0)?;
        let x = self.relaid(x, layout, Layout::Onnx);
        let shape = self.graph.tensors[x].shape.clone();
        let rank = shape.len() as i64;
        let axis = cx.int("axis", -1);
        if axis != -1 && axis != rank - 1 {
            return Err(cx.err(format!(
                "axis {axis}: kiln computes Softmax along the last axis only"
            )));
        }
        let (out, _, _) = self.quantized_output(cx, shape, Layout::Onnx)?;
        let name = self.kernel_name(cx, "QLinearSoftmax", out);
        self.op(OpKind::Softmax { beta: 1.0 }, name, &[Some(x)], out);
        Ok(Value::Tensor(out, Layout::Onnx))
    }

    /// Whether every input of `cx` is a constant (shape arithmetic, folded at import).
    pub(super) fn all_constant(&self, cx: &NodeCx) -> bool {
        cx.node
            .input
            .iter()
            .all(|name| name.is_empty() || matches!(self.values.get(name), Some(Value::Const(_))))
    }

    /// Concat of dequantized activations, each requantized to the output's parameters where
    /// they differ (onnxruntime's QLinearConcat, or its float32 Concat between Q/DQ).
    pub(super) fn concat(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let mut inputs = Vec::new();
        for slot in 0..cx.node.input.len() {
            inputs.push(self.float_input(cx, slot)?);
        }
        let first = self.graph.tensors[inputs[0].0].shape.len();
        let same_rank = inputs
            .iter()
            .all(|&(t, _)| self.graph.tensors[t].shape.len() == first);
        if !same_rank {
            return Err(cx.err("its inputs differ in rank"));
        }
        let rank = first as i64;
        let axis = cx.int("axis", 1);
        let axis = usize::try_from(if axis < 0 { axis + rank } else { axis })
            .ok()
            .filter(|&a| a < first)
            .ok_or_else(|| cx.err(format!("axis {axis} outside rank {rank}")))?;
        let layout = if first == 4 && inputs.iter().any(|&(_, l)| l == Layout::Nhwc) {
            Layout::Nhwc
        } else {
            Layout::Onnx
        };
        let ir_axis = if layout == Layout::Nhwc {
            nhwc_axis(axis)
        } else {
            axis
        };
        let ids: Vec<TensorId> = inputs
            .iter()
            .map(|&(t, l)| self.relaid(t, l, layout))
            .collect();
        let mut shape = self.graph.tensors[ids[0]].shape.clone();
        shape[ir_axis] = 0;
        for &t in &ids {
            let s = &self.graph.tensors[t].shape;
            let agrees = s
                .iter()
                .zip(&shape)
                .enumerate()
                .all(|(k, (a, b))| k == ir_axis || a == b);
            if !agrees {
                return Err(cx.err(format!(
                    "input of shape {s:?} does not fit the others outside axis {axis}"
                )));
            }
            shape[ir_axis] += s[ir_axis];
        }
        let (out, quant, unsigned) = self.quantized_output(cx, shape, layout)?;
        let ins: Vec<Option<TensorId>> = ids
            .into_iter()
            .map(|t| Some(self.requantized(t, &quant, unsigned)))
            .collect();
        let kind = OpKind::Concatenation {
            axis: ir_axis as i32,
        };
        self.op(kind, cx.name, &ins, out);
        Ok(Value::Tensor(out, layout))
    }

    /// Pad (constant mode) of a dequantized activation, run in float32 between its
    /// `DequantizeLinear` and `QuantizeLinear` as onnxruntime does: the values requantized to
    /// the output's parameters where they differ, the padding the quantized constant.
    pub(super) fn pad_op(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let mode = cx.string("mode").unwrap_or_else(|| "constant".into());
        if mode != "constant" {
            return Err(cx.err(format!(
                "mode '{}': kiln pads in constant mode only",
                crate::names::shown(&mode)
            )));
        }
        if cx.input_name(3).is_some() {
            return Err(cx.err("its axes input is not supported"));
        }
        if let Value::Tensor(x, layout) = self.value(cx, 0)? {
            if self.graph.tensors[x].dtype == DType::I8 {
                return self.pad_quantized(cx, x, layout);
            }
        }
        let (x, layout) = self.float_input(cx, 0)?;
        let rank = self.graph.tensors[x].shape.len();
        let pads = self.constant(cx, 1, "pads")?.ints();
        let pads = cx.sizes("pads", &pads)?;
        if pads.len() != 2 * rank {
            return Err(cx.err(format!(
                "{} pads for a rank-{rank} input (negative pads are not supported)",
                pads.len()
            )));
        }
        let value = match cx.input_name(2) {
            Some(_) => self.float_scalar(cx, 2, "constant value")?,
            None => 0.0,
        };
        let (paddings, shape) = self.paddings(cx, x, layout, &pads)?;
        let (out, quant, unsigned) = self.quantized_output(cx, shape, layout)?;
        let x = self.requantized(x, &quant, unsigned);
        let name = cx.output_name()?.to_string();
        let pad_id = self.add_i32(&format!("{name}_paddings"), &paddings);
        let mut inputs = vec![Some(x), Some(pad_id)];
        if value != 0.0 {
            let c = self.quantized_scalar(&format!("{name}_value"), value, &quant);
            inputs.push(Some(c));
        }
        self.op(OpKind::Pad, cx.name, &inputs, out);
        Ok(Value::Tensor(out, layout))
    }

    /// The IR paddings (before, after per axis of the tensor's layout) and padded shape of
    /// ONNX `pads` (all begins, then all ends) on `x`.
    fn paddings(
        &self,
        cx: &NodeCx,
        x: TensorId,
        layout: Layout,
        pads: &[usize],
    ) -> Result<(Vec<i32>, Vec<usize>), ReadError> {
        let mut shape = self.graph.tensors[x].shape.clone();
        let rank = shape.len();
        if pads.len() != 2 * rank {
            return Err(cx.err(format!(
                "{} pads for a rank-{rank} input (negative pads are not supported)",
                pads.len()
            )));
        }
        let mut paddings = vec![0i32; 2 * rank];
        for k in 0..rank {
            let a = if layout == Layout::Nhwc {
                nhwc_axis(k)
            } else {
                k
            };
            let (lo, hi) = (pads[k], pads[k + rank]);
            paddings[2 * a] = lo as i32;
            paddings[2 * a + 1] = hi as i32;
            shape[a] += lo + hi;
        }
        Ok((paddings, shape))
    }

    /// Pad (constant mode) of a quantized activation (QOperator models pad the quantized
    /// values): the padding is the constant's integer (0 when absent), as given.
    fn pad_quantized(
        &mut self,
        cx: &NodeCx,
        x: TensorId,
        layout: Layout,
    ) -> Result<Value, ReadError> {
        let pads = self.constant(cx, 1, "pads")?.ints();
        let pads = cx.sizes("pads", &pads)?;
        let (paddings, shape) = self.paddings(cx, x, layout, &pads)?;
        let unsigned = self.unsigned.contains(&x);
        let value = match cx.input_name(2) {
            Some(_) => {
                let c = self.constant(cx, 2, "constant value")?;
                let expected = if unsigned { DType::U8 } else { DType::I8 };
                match c.ints().as_slice() {
                    [v] if c.dtype == expected => *v,
                    _ => return Err(cx.err(format!("its constant value must be one {expected}"))),
                }
            }
            None => 0,
        };
        let value = if unsigned { value - 128 } else { value } as i8;
        let name = cx.output_name()?.to_string();
        let quant = self.graph.tensors[x].quant.clone();
        let pad_id = self.add_i32(&format!("{name}_paddings"), &paddings);
        let data = Some(vec![value as u8]);
        let c = self.add(&format!("{name}_value"), vec![], DType::I8, quant, data);
        let out = self.like(x, &name, shape);
        self.op(OpKind::Pad, cx.name, &[Some(x), Some(pad_id), Some(c)], out);
        Ok(Value::Tensor(out, layout))
    }

    /// Input `slot` as one float32 value: a float32 constant, or a quantized constant
    /// dequantized as onnxruntime does.
    fn float_scalar(&self, cx: &NodeCx, slot: usize, what: &str) -> Result<f32, ReadError> {
        match self.value(cx, slot)? {
            Value::Const(c) if c.dtype == DType::F32 && c.elements() == 1 => Ok(c.floats()[0]),
            Value::DequantizedConst(c, q) if c.elements() == 1 && q.is_per_tensor() => {
                let zero_point = q.zero_points[0] as i32;
                Ok(q.scales[0] * (c.ints()[0] as i32 - zero_point) as f32)
            }
            _ => Err(cx.err(format!("its {what} must be one (dequantized) float32"))),
        }
    }

    /// An int8 scalar constant: `value` quantized by `quant` (MLAS's QuantizeLinear).
    fn quantized_scalar(&mut self, name: &str, value: f32, quant: &Quant) -> TensorId {
        let (scale, zero_point) = (quant.scales[0], quant.zero_points[0] as i32);
        let q = crate::runtime::Quantize { scale, zero_point };
        let mut v = [0i8];
        crate::runtime::quantize_linear_f32(&q, &[value], &mut v);
        let data = Some(vec![v[0] as u8]);
        self.add(name, vec![], DType::I8, Some(quant.clone()), data)
    }

    /// Relu or Clip of a dequantized activation, in float32 between its `DequantizeLinear` and
    /// `QuantizeLinear` (or removed by onnxruntime where the output range makes it a no-op):
    /// quantization is monotonic, so this is the values requantized to the output's
    /// parameters, then MAXIMUM and MINIMUM with the quantized bounds.
    pub(super) fn relu_clip(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (x, layout) = self.float_input(cx, 0)?;
        let (lo, hi) = match cx.op_type {
            "Relu" => (Some(0.0), None),
            _ => {
                let bound = |slot: usize, what: &str| {
                    cx.input_name(slot)
                        .map(|_| self.float_scalar(cx, slot, what))
                        .transpose()
                };
                (bound(1, "min")?, bound(2, "max")?)
            }
        };
        let shape = self.graph.tensors[x].shape.clone();
        let (out, quant, unsigned) = self.quantized_output(cx, shape.clone(), layout)?;
        let mut current = self.requantized(x, &quant, unsigned);
        let steps: Vec<(f32, bool)> = [(lo, true), (hi, false)]
            .into_iter()
            .filter_map(|(v, maximum)| v.map(|v| (v, maximum)))
            .collect();
        let name = cx.output_name()?.to_string();
        if steps.is_empty() {
            self.op(OpKind::Reshape, cx.name, &[Some(current)], out);
        }
        for (i, &(v, maximum)) in steps.iter().enumerate() {
            let what = if maximum { "min" } else { "max" };
            let bound = self.quantized_scalar(&format!("{name}_{what}"), v, &quant);
            let target = if i + 1 == steps.len() {
                out
            } else {
                self.like(out, &format!("{name}_{what}_clipped"), shape.clone())
            };
            let kind = if maximum {
                OpKind::Maximum
            } else {
                OpKind::Minimum
            };
            self.op(kind, cx.name, &[Some(current), Some(bound)], target);
            current = target;
        }
        Ok(Value::Tensor(out, layout))
    }

    /// Slice of an activation (positive steps): a STRIDED_SLICE on the quantized values
    /// (which onnxruntime slices before dequantizing).
    pub(super) fn slice_op(&mut self, cx: &NodeCx) -> Result<Value, ReadError> {
        let (x, layout, dequantized) = match self.value(cx, 0)? {
            Value::Dequantized(id, l) => (id, l, true),
            Value::Tensor(id, l) => (id, l, false),
            _ => return Err(cx.err("slicing a constant is not supported")),
        };
        let x = self.relaid(x, layout, Layout::Onnx);
        let shape = self.graph.tensors[x].shape.clone();
        let rank = shape.len();
        let starts = self.constant(cx, 1, "starts")?.ints();
        let ends = self.constant(cx, 2, "ends")?.ints();
        let axes = match cx.input_name(3) {
            Some(_) => self.constant(cx, 3, "axes")?.ints(),
            None => (0..starts.len() as i64).collect(),
        };
        let steps = match cx.input_name(4) {
            Some(_) => self.constant(cx, 4, "steps")?.ints(),
            None => vec![1; starts.len()],
        };
        if [ends.len(), axes.len(), steps.len()] != [starts.len(); 3] {
            return Err(cx.err("starts, ends, axes and steps differ in length"));
        }
        let mut begin: Vec<i32> = vec![0; rank];
        let mut end: Vec<i32> = shape.iter().map(|&d| d as i32).collect();
        let mut stride = vec![1i32; rank];
        let mut out_shape = shape.clone();
        let mut seen = vec![false; rank];
        for i in 0..starts.len() {
            let a = axes[i];
            let a = usize::try_from(if a < 0 { a + rank as i64 } else { a })
                .ok()
                .filter(|&a| a < rank && !seen[a])
                .ok_or_else(|| cx.err(format!("axis {a} outside rank {rank} or repeated")))?;
            seen[a] = true;
            let step = steps[i];
            if !(1..=1 << 20).contains(&step) {
                return Err(cx.err(format!("step {step}: kiln slices with positive steps only")));
            }
            let dim = shape[a] as i64;
            let fix = |v: i64| (if v < 0 { v + dim } else { v }).clamp(0, dim);
            let (s, e) = (fix(starts[i]), fix(ends[i]));
            let n = if e > s { (e - s + step - 1) / step } else { 0 };
            if n == 0 {
                return Err(cx.err(format!("axis {a} is sliced to nothing")));
            }
            begin[a] = s as i32;
            end[a] = e as i32;
            stride[a] = step as i32;
            out_shape[a] = n as usize;
        }
        let name = cx.output_name()?.to_string();
        let ids = [("begin", &begin), ("end", &end), ("strides", &stride)]
            .map(|(what, v)| self.add_i32(&format!("{name}_{what}"), v));
        let out = self.like(x, &name, out_shape);
        let options = StridedSliceOptions {
            begin_mask: 0,
            end_mask: 0,
            shrink_axis_mask: 0,
        };
        let inputs = [Some(x), Some(ids[0]), Some(ids[1]), Some(ids[2])];
        self.op(OpKind::StridedSlice(options), cx.name, &inputs, out);
        Ok(if dequantized {
            Value::Dequantized(out, Layout::Onnx)
        } else {
            Value::Tensor(out, Layout::Onnx)
        })
    }
}
