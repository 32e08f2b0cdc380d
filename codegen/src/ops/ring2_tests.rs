//! Validation rules of the second ring of int8 ops, on hand-built graphs.

use crate::ir::{DType, Graph, Op, OpKind, Quant, StridedSliceOptions, Tensor};
use crate::prepare::{prepare, Kernel};

fn int8(shape: &[usize], scale: f32, zero_point: i64) -> Tensor {
    Tensor {
        name: String::new(),
        shape: shape.to_vec(),
        dtype: DType::I8,
        quant: Some(Quant {
            scales: vec![scale],
            zero_points: vec![zero_point],
            axis: 0,
        }),
        data: None,
    }
}

fn const_i32(values: &[i32]) -> Tensor {
    Tensor {
        name: String::new(),
        shape: vec![values.len()],
        dtype: DType::I32,
        quant: None,
        data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
    }
}

/// One op over `tensors`: every non-constant input is a graph input, `out` the output.
fn run(
    kind: OpKind,
    name: &'static str,
    tensors: Vec<Tensor>,
    ins: &[usize],
    out: usize,
) -> Result<Kernel, String> {
    let inputs = ins
        .iter()
        .copied()
        .filter(|&t| !tensors[t].is_const())
        .collect();
    let graph = Graph {
        tensors,
        ops: vec![Op {
            kind,
            name,
            inputs: ins.iter().map(|&t| Some(t)).collect(),
            outputs: vec![out],
        }],
        inputs,
        outputs: vec![out],
    };
    prepare(&graph)
        .map(|mut layers| layers.remove(0).kernel)
        .map_err(|e| e.to_string())
}

#[test]
fn concatenation_requires_the_output_quantization() {
    let ok = run(
        OpKind::Concatenation { axis: -1 },
        "CONCATENATION",
        vec![
            int8(&[1, 2], 0.1, 3),
            int8(&[1, 3], 0.1, 3),
            int8(&[1, 5], 0.1, 3),
        ],
        &[0, 1],
        2,
    );
    assert!(
        matches!(ok, Ok(Kernel::Concatenation(ref parts)) if parts.len() == 2),
        "{ok:?}"
    );
    let err = run(
        OpKind::Concatenation { axis: 1 },
        "CONCATENATION",
        vec![
            int8(&[1, 2], 0.1, 3),
            int8(&[1, 3], 0.2, 3),
            int8(&[1, 5], 0.1, 3),
        ],
        &[0, 1],
        2,
    )
    .unwrap_err();
    assert!(err.contains("does not rescale"), "{err}");
    let err = run(
        OpKind::Concatenation { axis: 0 },
        "CONCATENATION",
        vec![
            int8(&[1, 2], 0.1, 3),
            int8(&[1, 3], 0.1, 3),
            int8(&[1, 5], 0.1, 3),
        ],
        &[0, 1],
        2,
    )
    .unwrap_err();
    assert!(err.contains("does not fit"), "{err}");
}

#[test]
fn binary_ops_check_broadcasting() {
    for kind in [
        OpKind::Mul {
            activation: crate::ir::Activation::None,
        },
        OpKind::Sub {
            activation: crate::ir::Activation::None,
        },
        OpKind::Add {
            activation: crate::ir::Activation::None,
        },
    ] {
        let err = run(
            kind.clone(),
            "BINARY",
            vec![
                int8(&[2, 3], 0.1, 0),
                int8(&[2, 4], 0.1, 0),
                int8(&[2, 4], 0.1, 0),
            ],
            &[0, 1],
            2,
        )
        .unwrap_err();
        assert!(err.contains("do not broadcast"), "{err}");
        let err = run(
            kind.clone(),
            "BINARY",
            vec![
                int8(&[2, 3], 0.1, 0),
                int8(&[3], 0.1, 0),
                int8(&[3, 3], 0.1, 0),
            ],
            &[0, 1],
            2,
        )
        .unwrap_err();
        assert!(err.contains("broadcast to [2, 3]"), "{err}");
        let ok = run(
            kind,
            "BINARY",
            vec![
                int8(&[2, 3], 0.1, 0),
                int8(&[3], 0.1, 0),
                int8(&[2, 3], 0.1, 0),
            ],
            &[0, 1],
            2,
        )
        .unwrap();
        let bc = match ok {
            Kernel::Mul(_, bc) | Kernel::Sub(_, bc) => bc,
            Kernel::AddBroadcast(_, bc) => Some(bc),
            other => panic!("{other:?}"),
        };
        assert_eq!(bc.map(|b| b.strides2), Some([0, 0, 0, 0, 0, 1]));
    }
}

#[test]
fn logistic_output_zero_point_must_be_minus_128() {
    let err = run(
        OpKind::Logistic,
        "LOGISTIC",
        vec![int8(&[4], 0.1, 0), int8(&[4], 1.0 / 256.0, 0)],
        &[0],
        1,
    )
    .unwrap_err();
    assert!(err.contains("requires -128"), "{err}");
    let ok = run(
        OpKind::Logistic,
        "LOGISTIC",
        vec![int8(&[4], 0.1, 0), int8(&[4], 1.0 / 256.0, -128)],
        &[0],
        1,
    );
    assert!(matches!(ok, Ok(Kernel::Lookup(_))), "{ok:?}");
}

#[test]
fn hard_swish_needs_a_non_positive_output_exponent() {
    // input scale / 128 / output scale >= 1: TFLM's Prepare refuses it
    let err = run(
        OpKind::HardSwish,
        "HARD_SWISH",
        vec![int8(&[4], 1.0, 0), int8(&[4], 0.001, 0)],
        &[0],
        1,
    )
    .unwrap_err();
    assert!(err.contains("exponent"), "{err}");
}

#[test]
fn mean_axes_and_output_shape() {
    let mean = |axes: &[i32], out: &[usize]| {
        run(
            OpKind::Mean { keep_dims: false },
            "MEAN",
            vec![int8(&[2, 3, 4], 0.1, 0), const_i32(axes), int8(out, 0.1, 0)],
            &[0, 1],
            2,
        )
    };
    assert!(mean(&[1, -1], &[2]).is_ok());
    assert!(mean(&[1, 1], &[2, 4]).is_ok()); // duplicates dropped
    let err = mean(&[3], &[2, 3]).unwrap_err();
    assert!(err.contains("out of range"), "{err}");
    // the output shape is not checked beyond its size (TFLM writes the same bytes)
    assert!(mean(&[0], &[4, 3]).is_ok());
    let err = mean(&[0], &[3, 5]).unwrap_err();
    assert!(err.contains("gives [3, 4]"), "{err}");
}

#[test]
fn pad_rules() {
    let pad = |paddings: &[i32], out: &[usize]| {
        run(
            OpKind::Pad,
            "PAD",
            vec![
                int8(&[2, 3], 0.1, 5),
                const_i32(paddings),
                int8(out, 0.1, 5),
            ],
            &[0, 1],
            2,
        )
    };
    assert!(matches!(pad(&[1, 0, 0, 2], &[3, 5]), Ok(Kernel::Pad(p)) if p.value == 5));
    assert!(pad(&[1, 0, 0, 2], &[3, 4])
        .unwrap_err()
        .contains("padding 0 + 2"));
    assert!(pad(&[-1, 0, 0, 2], &[1, 5])
        .unwrap_err()
        .contains("negative"));
    assert!(pad(&[1, 0], &[3, 3]).unwrap_err().contains("needs 4"));
}

#[test]
fn transpose_and_strided_slice_rules() {
    let transpose = |perm: &[i32], out: &[usize]| {
        run(
            OpKind::Transpose,
            "TRANSPOSE",
            vec![int8(&[2, 3, 4], 0.1, 0), const_i32(perm), int8(out, 0.1, 0)],
            &[0, 1],
            2,
        )
    };
    assert!(transpose(&[2, 0, 1], &[4, 2, 3]).is_ok());
    assert!(transpose(&[0, 0, 1], &[2, 2, 3])
        .unwrap_err()
        .contains("not a permutation"));
    assert!(transpose(&[2, 0, 1], &[2, 3, 4])
        .unwrap_err()
        .contains("gives [4, 2, 3]"));
    let slice = |begin: &[i32], end: &[i32], strides: &[i32], out: &[usize]| {
        run(
            OpKind::StridedSlice(StridedSliceOptions {
                begin_mask: 0,
                end_mask: 0,
                shrink_axis_mask: 0,
            }),
            "STRIDED_SLICE",
            vec![
                int8(&[4, 6], 0.1, 0),
                const_i32(begin),
                const_i32(end),
                const_i32(strides),
                int8(out, 0.1, 0),
            ],
            &[0, 1, 2, 3],
            4,
        )
    };
    assert!(slice(&[0, 5], &[4, 0], &[2, -2], &[2, 3]).is_ok());
    assert!(slice(&[0, 0], &[4, 6], &[1, 0], &[4, 6])
        .unwrap_err()
        .contains("stride on axis 1 is 0"));
    assert!(slice(&[0, 0], &[4, 6], &[1, 1], &[4, 5])
        .unwrap_err()
        .contains("gives [4, 6]"));
}
