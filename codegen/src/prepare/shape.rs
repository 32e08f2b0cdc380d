//! SHAPE, and BROADCAST_ARGS of constant shapes: their outputs are known at compile time, so
//! they are folded into constants before `prepare` ([`fold_shapes`]) and run as no layer; the
//! operators reading them see a constant (TFLM computes them at run time: the same values).

use super::common::Prepared;
use super::movement::expect_shape;
use crate::ir::{DType, Graph, OpKind, Tensor};
use crate::prepare::OpCx;

/// Makes the output of every SHAPE operator a constant holding its input's shape (int32, or
/// int64 when the output is), so that the operators reading it see a constant; `prepare`
/// then skips the SHAPE. A SHAPE whose output is a graph output, or is of another type,
/// is left for `prepare` to reject.
pub fn fold_shapes(mut graph: Graph) -> Graph {
    let mut folded = Vec::new();
    for (index, op) in graph.ops.iter().enumerate() {
        if op.kind == OpKind::BroadcastArgs {
            if fold_broadcast_args(&mut graph.tensors, &graph.outputs, op) {
                folded.push(index);
            }
            continue;
        }
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
        folded.push(index);
    }
    graph.folded.extend(folded);
    graph
}

/// The values of a constant int32 or int64 shape tensor.
fn shape_values(t: &Tensor) -> Option<Vec<i64>> {
    match t.dtype {
        DType::I32 if t.is_const() => Some(t.data_i32().iter().map(|&d| d as i64).collect()),
        DType::I64 if t.is_const() => Some(
            t.data
                .as_ref()?
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                .collect(),
        ),
        _ => None,
    }
}

/// The numpy-style broadcast of two shapes (`None` when they do not broadcast).
fn broadcast_shapes(a: &[i64], b: &[i64]) -> Option<Vec<i64>> {
    let rank = a.len().max(b.len());
    let at = |s: &[i64], k: usize| (k + s.len()).checked_sub(rank).map_or(1, |i| s[i]);
    (0..rank)
        .map(|k| match (at(a, k), at(b, k)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// Folds a BROADCAST_ARGS of two constant shapes into its output (of their type), unless the
/// output is a graph output or the shapes do not broadcast (left for `prepare` to reject).
/// True when it folded.
fn fold_broadcast_args(
    tensors: &mut [Tensor],
    graph_outputs: &[usize],
    op: &crate::ir::Op,
) -> bool {
    let (Some(a), Some(b), [output]) = (op.input(0), op.input(1), op.outputs.as_slice()) else {
        return false;
    };
    if graph_outputs.contains(output) {
        return false;
    }
    let (Some(sa), Some(sb)) = (shape_values(&tensors[a]), shape_values(&tensors[b])) else {
        return false;
    };
    let Some(dims) = broadcast_shapes(&sa, &sb) else {
        return false;
    };
    let out = &tensors[*output];
    if out.shape != [dims.len()] {
        return false;
    }
    let data: Vec<u8> = match out.dtype {
        DType::I32 => dims
            .iter()
            .flat_map(|&d| (d as i32).to_le_bytes())
            .collect(),
        DType::I64 => dims.iter().flat_map(|&d| d.to_le_bytes()).collect(),
        _ => return false,
    };
    tensors[*output].data = Some(data);
    true
}

/// Rejects a BROADCAST_ARGS that [`fold_shapes`] could not fold, saying why.
pub fn broadcast_args(cx: &OpCx) -> Prepared {
    let a = cx.input(0, "first shape")?;
    let b = cx.input(1, "second shape")?;
    let output = cx.output()?;
    for (t, role) in [(a, "first shape"), (b, "second shape"), (output, "output")] {
        if !matches!(t.1.dtype, DType::I32 | DType::I64) {
            cx.expect_dtype(t, DType::I32, role)?;
        }
    }
    for t in [a, b] {
        if !t.1.is_const() {
            return Err(cx.err(format!(
                "shape {} is computed at run time: kiln folds BROADCAST_ARGS at compile time \
                 and needs constant shapes",
                cx.describe(t.0)
            )));
        }
    }
    let (sa, sb) = (shape_values(a.1), shape_values(b.1));
    let Some(dims) = sa.zip(sb).and_then(|(x, y)| broadcast_shapes(&x, &y)) else {
        return Err(cx.err(format!(
            "shapes {} and {} do not broadcast",
            cx.describe(a.0),
            cx.describe(b.0)
        )));
    };
    expect_shape(cx, output, &[dims.len()], "BROADCAST_ARGS")?;
    Err(cx.err(format!(
        "output {} is a graph output: kiln folds BROADCAST_ARGS into a constant, which cannot be \
         a graph output",
        cx.describe(output.0)
    )))
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

    #[test]
    fn broadcast_args_folds_constant_shapes_and_rejects_the_others() {
        use super::broadcast_shapes;
        assert_eq!(broadcast_shapes(&[3, 1, 4], &[5, 1]), Some(vec![3, 5, 4]));
        assert_eq!(broadcast_shapes(&[2], &[3]), None);
        // A run-time shape cannot be folded.
        let err = run(
            OpKind::BroadcastArgs,
            "BROADCAST_ARGS",
            vec![int32(&[2]), const_i32(&[5, 1]), int32(&[2])],
            &[0, 1],
            2,
        )
        .unwrap_err();
        assert!(err.contains("computed at run time"), "{err}");
    }
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
            folded: Vec::new(),
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
