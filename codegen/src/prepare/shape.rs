//! SHAPE: its output is known at compile time, so it is folded into a constant before
//! `prepare` ([`fold_shapes`]) and runs as no layer; the operators reading it see a constant
//! (TFLM computes it at run time: the same values).

use super::common::Prepared;
use super::movement::expect_shape;
use crate::ir::{DType, Graph, OpKind};
use crate::prepare::OpCx;

/// Makes the output of every SHAPE operator a constant holding its input's shape (int32, or
/// int64 when the output is), so that the operators reading it see a constant; `prepare`
/// then skips the SHAPE. A SHAPE whose output is a graph output, or is of another type,
/// is left for `prepare` to reject.
pub fn fold_shapes(mut graph: Graph) -> Graph {
    for op in &graph.ops {
        let (OpKind::Shape, Some(input), [output]) = (&op.kind, op.input(0), op.outputs.as_slice())
        else {
            continue;
        };
        if graph.outputs.contains(output) {
            continue;
        }
        let dims = graph.tensors[input].shape.clone();
        let out = &graph.tensors[*output];
        let data: Vec<u8> = match out.dtype {
            DType::I32 => dims
                .iter()
                .flat_map(|&d| (d as i32).to_le_bytes())
                .collect(),
            DType::I64 => dims
                .iter()
                .flat_map(|&d| (d as i64).to_le_bytes())
                .collect(),
            _ => continue,
        };
        if out.shape != [dims.len()] {
            continue;
        }
        graph.tensors[*output].data = Some(data);
    }
    graph
}

/// Validates a SHAPE that [`fold_shapes`] could not fold.
pub fn shape(cx: &OpCx) -> Prepared {
    let input = cx.input(0, "input")?;
    let output = cx.output()?;
    if !matches!(output.1.dtype, DType::I32 | DType::I64) {
        cx.expect_dtype(output, DType::I32, "output")?;
    }
    expect_shape(cx, output, &[input.1.shape.len()], "SHAPE")?;
    Err(cx.err(format!(
        "output {} is a graph output: kiln folds SHAPE into a constant, which cannot be a graph output",
        cx.describe(output.0)
    )))
}

#[cfg(test)]
mod rule_tests {
    use super::super::test_models::*;

    #[test]
    fn shape_folds_into_a_constant() {
        // SHAPE(x) as the indices of GATHER(table): the SHAPE runs nothing.
        let graph = |shape_is_output: bool| Graph {
            tensors: vec![
                int8(&[2, 3, 4], 0.1, 0),
                int8(&[6, 5], 0.1, 0),
                int32(&[3]),
                int8(&[3, 5], 0.1, 0),
            ],
            ops: vec![
                Op {
                    kind: OpKind::Shape,
                    name: "SHAPE",
                    inputs: vec![Some(0)],
                    outputs: vec![2],
                },
                Op {
                    kind: OpKind::Gather {
                        axis: 0,
                        batch_dims: 0,
                    },
                    name: "GATHER",
                    inputs: vec![Some(1), Some(2)],
                    outputs: vec![3],
                },
            ],
            inputs: vec![0, 1],
            outputs: if shape_is_output { vec![3, 2] } else { vec![3] },
            variables: Vec::new(),
            arithmetic: Default::default(),
        };
        let folded = super::super::shape::fold_shapes(graph(false));
        assert_eq!(folded.tensors[2].data_i32(), [2, 3, 4]);
        let layers = prepare(&folded).unwrap();
        assert_eq!(layers.len(), 1);
        assert_eq!(
            (layers[0].op_name, &layers[0].inputs),
            ("GATHER", &vec![1, 2])
        );
        let err = prepare(&super::super::shape::fold_shapes(graph(true))).unwrap_err();
        assert!(err.message.contains("graph output"), "{err}");
    }
}
