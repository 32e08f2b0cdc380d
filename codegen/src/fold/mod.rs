//! Constant folding: an operator whose inputs are all constants is evaluated at compile time,
//! by the same runtime kernel the generated code would call, and its output becomes a
//! constant in flash. It then runs as no layer, needs no arena bytes, and the operators
//! reading it see a constant (a FULLY_CONNECTED whose weights a DEQUANTIZE computes gets
//! constant weights).
//!
//! [`fold_constants`] walks the operators in order, so chains fold (a RESHAPE of a
//! CONCATENATION of constants). An operator stays a layer, computed at run time as before,
//! when one of its outputs is a graph output, it touches state (variable tensors, or a
//! kernel's own arrays), its kernel has no compile-time evaluation here ([`eval`]: the
//! element-wise, movement, quantization and reduction kernels have one; convolutions, pools,
//! softmax and recurrent layers do not), or its output would exceed [`MAX_FOLDED_BYTES`].
//! The values are TFLM's: the kernels are the ones the golden tests check against it.

pub mod eval;

use crate::ir::Graph;
use crate::prepare::{prepare_op, OpCx};

/// The largest output (bytes) folded into a constant; a larger one stays a layer, so that a
/// hostile FILL or BROADCAST_TO cannot make the compiler write gigabytes of flash.
pub const MAX_FOLDED_BYTES: usize = 1 << 20;

/// Evaluates every operator whose inputs are all constants (see the module docs), makes its
/// outputs constants and lists it in [`Graph::folded`]. An operator that fails to prepare is
/// left alone: `prepare` reports its error.
pub fn fold_constants(mut graph: Graph) -> Graph {
    for index in 0..graph.ops.len() {
        if let Some(values) = evaluate_op(&graph, index) {
            for (output, bytes) in values {
                graph.tensors[output].data = Some(bytes);
            }
            graph.folded.push(index);
        }
    }
    graph
}

/// The bytes of each output of operator `index`, when it folds.
fn evaluate_op(graph: &Graph, index: usize) -> Option<Vec<(usize, Vec<u8>)>> {
    let op = graph.ops.get(index)?;
    if graph.folded.contains(&index) || op.outputs.is_empty() {
        return None;
    }
    let touches_state = |t: &usize| graph.variables.contains(t) || graph.inputs.contains(t);
    let inputs: Vec<usize> = op.inputs.iter().flatten().copied().collect();
    if inputs.is_empty()
        || inputs.iter().any(touches_state)
        || !inputs.iter().all(|&t| graph.tensors[t].is_const())
    {
        return None;
    }
    for t in &op.outputs {
        let out = graph.tensors.get(*t)?;
        if out.is_const() || graph.outputs.contains(t) || touches_state(t) {
            return None;
        }
        if out.bytes() > MAX_FOLDED_BYTES {
            return None;
        }
    }
    let layers = prepare_op(&OpCx::new(graph, index)?).ok()?;
    if layers.len() != op.outputs.len() {
        return None;
    }
    layers
        .iter()
        .map(|layer| {
            if !layer.state.is_empty() {
                return None;
            }
            Some((layer.output, eval::evaluate(graph, layer)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DType, Op, OpKind, Tensor};

    fn tensor(name: &str, shape: &[usize], dtype: DType, data: Option<Vec<u8>>) -> Tensor {
        Tensor {
            name: name.into(),
            shape: shape.to_vec(),
            dtype,
            quant: None,
            data,
        }
    }

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// input + (a + b): the constant ADD folds, the other stays a layer.
    fn graph(sum_is_output: bool) -> Graph {
        let op = |kind: OpKind, name, inputs: Vec<usize>, output| Op {
            kind,
            name,
            inputs: inputs.into_iter().map(Some).collect(),
            outputs: vec![output],
        };
        let add = |activation| OpKind::Add { activation };
        let none = crate::ir::Activation::None;
        Graph {
            tensors: vec![
                tensor("x", &[4], DType::F32, None),
                tensor(
                    "a",
                    &[4],
                    DType::F32,
                    Some(f32_bytes(&[1.0, 2.0, 3.0, 4.0])),
                ),
                tensor("b", &[1], DType::F32, Some(f32_bytes(&[0.5]))),
                tensor("a_plus_b", &[4], DType::F32, None),
                tensor("y", &[4], DType::F32, None),
            ],
            ops: vec![
                op(add(none), "ADD", vec![1, 2], 3),
                op(add(none), "ADD", vec![0, 3], 4),
            ],
            inputs: vec![0],
            outputs: if sum_is_output { vec![4, 3] } else { vec![4] },
            variables: vec![],
            arithmetic: Default::default(),
            folded: Vec::new(),
        }
    }

    #[test]
    fn an_operator_of_constants_becomes_a_constant() {
        let folded = fold_constants(graph(false));
        assert_eq!(folded.folded, vec![0]);
        assert_eq!(
            folded.tensors[3].data.as_deref(),
            Some(&f32_bytes(&[1.5, 2.5, 3.5, 4.5])[..])
        );
        assert!(folded.tensors[4].data.is_none());
        let layers = crate::prepare::prepare(&folded).expect("prepares");
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0].index, 1);
    }

    #[test]
    fn a_graph_output_is_not_folded() {
        let kept = fold_constants(graph(true));
        assert!(kept.folded.is_empty());
        assert!(kept.tensors[3].data.is_none());
        assert_eq!(crate::prepare::prepare(&kept).expect("prepares").len(), 2);
    }
}
