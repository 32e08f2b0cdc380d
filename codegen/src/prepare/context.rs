//! [`OpCx`]: the context one operator's checks run in, with the checks they share (dtype,
//! rank, quantization, constants, activation range, multipliers).

use super::quant;
use super::ValidateError;
use crate::ir::{DType, Graph, Quant, Tensor, TensorId};

/// Context for one operator's checks: the graph, the op's index and name.
pub struct OpCx<'g> {
    /// The whole graph.
    pub graph: &'g Graph,
    /// Index of the operator.
    pub index: usize,
    /// Name of the operator.
    pub name: &'static str,
    pub(super) op: &'g crate::ir::Op,
}

impl<'g> OpCx<'g> {
    /// The context of operator `index` of `graph` (`None` when there is no such operator).
    pub fn new(graph: &'g Graph, index: usize) -> Option<Self> {
        let op = graph.ops.get(index)?;
        Some(OpCx {
            graph,
            index,
            name: op.name,
            op,
        })
    }

    /// An error for this op.
    pub fn err(&self, message: impl Into<String>) -> ValidateError {
        ValidateError {
            op_index: Some(self.index),
            op_name: self.name,
            message: message.into(),
        }
    }

    /// Describes tensor `t` for messages: `tensor 5 'conv/weights'`.
    pub fn describe(&self, t: TensorId) -> String {
        let name = &self.graph.tensors[t].name;
        if name.is_empty() {
            format!("tensor {t}")
        } else {
            format!("tensor {t} '{}'", crate::names::shown(name))
        }
    }

    /// The tensor id at input `slot`, which must be present.
    pub fn input_id(&self, slot: usize, what: &str) -> Result<TensorId, ValidateError> {
        self.op
            .input(slot)
            .ok_or_else(|| self.err(format!("missing {what} (input {slot})")))
    }

    /// The tensor at input `slot`, which must be present.
    pub fn input(&self, slot: usize, what: &str) -> Result<(TensorId, &'g Tensor), ValidateError> {
        let id = self.input_id(slot, what)?;
        Ok((id, &self.graph.tensors[id]))
    }

    /// Number of input slots of the operator (present or omitted).
    pub fn input_count(&self) -> usize {
        self.op.inputs.len()
    }

    /// The tensor at optional input `slot`.
    pub fn optional_input(&self, slot: usize) -> Option<(TensorId, &'g Tensor)> {
        self.op.input(slot).map(|id| (id, &self.graph.tensors[id]))
    }

    /// The single output tensor.
    pub fn output(&self) -> Result<(TensorId, &'g Tensor), ValidateError> {
        match self.op.outputs.as_slice() {
            [id] => Ok((*id, &self.graph.tensors[*id])),
            other => Err(self.err(format!("expects 1 output, has {}", other.len()))),
        }
    }

    /// Requires `t` to have element type `dtype`.
    pub fn expect_dtype(
        &self,
        (id, t): (TensorId, &Tensor),
        dtype: DType,
        role: &str,
    ) -> Result<(), ValidateError> {
        if t.dtype == dtype {
            Ok(())
        } else {
            Err(self.err(format!(
                "{role} {} is {}, but kiln supports only {dtype} here",
                self.describe(id),
                t.dtype
            )))
        }
    }

    /// Requires `t` to have rank `rank`.
    pub fn expect_rank(
        &self,
        (id, t): (TensorId, &Tensor),
        rank: usize,
        role: &str,
    ) -> Result<(), ValidateError> {
        if t.shape.len() == rank {
            Ok(())
        } else {
            Err(self.err(format!(
                "{role} {} must have rank {rank}, has shape {:?}",
                self.describe(id),
                t.shape
            )))
        }
    }

    /// Per-tensor quantization of `t` as `(scale, zero_point)`.
    pub fn per_tensor(
        &self,
        (id, t): (TensorId, &'g Tensor),
        role: &str,
    ) -> Result<(f32, i32), ValidateError> {
        match &t.quant {
            Some(q) if q.is_per_tensor() => {
                let (scale, zp) = (q.scale(), q.zero_points[0]);
                if !(scale.is_finite() && scale > 0.0) {
                    return Err(self.err(format!(
                        "{role} {} has invalid scale {scale}",
                        self.describe(id)
                    )));
                }
                if !(-128..=127).contains(&zp) && t.dtype == DType::I8 {
                    return Err(self.err(format!(
                        "{role} {} has zero point {zp} outside int8",
                        self.describe(id)
                    )));
                }
                Ok((scale, zp as i32))
            }
            Some(_) => Err(self.err(format!(
                "{role} {} must be quantized per tensor, not per channel",
                self.describe(id)
            ))),
            None => Err(self.err(format!("{role} {} is not quantized", self.describe(id)))),
        }
    }

    /// Quantization of a weight tensor: per-tensor or per-channel along `axis` with `channels`
    /// entries, symmetric (all zero points 0). Returns the scales.
    pub fn weight_scales(
        &self,
        (id, t): (TensorId, &'g Tensor),
        axis: usize,
        channels: usize,
    ) -> Result<&'g Quant, ValidateError> {
        let q = t
            .quant
            .as_ref()
            .ok_or_else(|| self.err(format!("weights {} are not quantized", self.describe(id))))?;
        if !q.is_per_tensor() && (q.axis != axis || q.scales.len() != channels) {
            return Err(self.err(format!(
                "weights {} are per-channel along axis {} with {} scales; expected axis {axis} with {channels}",
                self.describe(id),
                q.axis,
                q.scales.len()
            )));
        }
        if let Some(s) = q.scales.iter().find(|s| !(s.is_finite() && **s >= 0.0)) {
            return Err(self.err(format!(
                "weights {} have invalid scale {s}",
                self.describe(id)
            )));
        }
        Ok(q)
    }

    /// Requires `t` to be a constant tensor.
    pub fn expect_const(
        &self,
        (id, t): (TensorId, &Tensor),
        role: &str,
    ) -> Result<(), ValidateError> {
        if t.is_const() {
            Ok(())
        } else {
            Err(self.err(format!(
                "{role} {} must be a constant tensor (kiln compiles weights into flash)",
                self.describe(id)
            )))
        }
    }

    /// The fused activation's clamp bounds for an int8 output.
    pub fn activation_range(
        &self,
        activation: crate::ir::Activation,
        scale: f32,
        zero_point: i32,
    ) -> Result<(i32, i32), ValidateError> {
        quant::activation_range_i8(activation, scale, zero_point).ok_or_else(|| {
            self.err(format!(
                "activation {activation:?} bound overflows int32 at scale {scale}"
            ))
        })
    }

    /// TFLite `QuantizeMultiplier` with an error for invalid multipliers.
    pub fn multiplier(&self, m: f64, what: &str) -> Result<(i32, i32), ValidateError> {
        match quant::quantize_multiplier(m) {
            Some((q, s)) if (-31..=30).contains(&s) => Ok((q, s)),
            _ => Err(self.err(format!("{what} multiplier {m} cannot be represented"))),
        }
    }
}
