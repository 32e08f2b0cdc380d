//! What the validation tests beside each op build their models from: one-op IR graphs made
//! by hand ([`run`]), and the fixtures' writer-level models ([`fixture_model`]), mutated,
//! serialized and read back ([`validate`], [`expect_invalid`]).

pub use kiln_fixtures::graph::{Fc, Graph as FixtureGraph};
pub use kiln_fixtures::writer::{serialize, Activation, BuiltinOptions, Model, Quantization};

pub use crate::front::tflite::ReadError;
pub use crate::ir::{DType, Graph, Op, OpKind, Quant, StridedSliceOptions, Tensor};
pub use crate::prepare::{prepare, Kernel, Layer, ValidateError};

pub fn int8(shape: &[usize], scale: f32, zero_point: i64) -> Tensor {
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

/// An int16 activation tensor with per-tensor quantization.
pub fn int16(shape: &[usize], scale: f32, zero_point: i64) -> Tensor {
    Tensor {
        dtype: DType::I16,
        ..int8(shape, scale, zero_point)
    }
}

pub fn const_i32(values: &[i32]) -> Tensor {
    Tensor {
        name: String::new(),
        shape: vec![values.len()],
        dtype: DType::I32,
        quant: None,
        data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
    }
}

/// A float32 activation tensor.
pub fn float(shape: &[usize]) -> Tensor {
    Tensor {
        name: String::new(),
        shape: shape.to_vec(),
        dtype: DType::F32,
        quant: None,
        data: None,
    }
}

/// A non-constant, unquantized tensor of `dtype`.
pub fn typed(dtype: DType, shape: &[usize]) -> Tensor {
    Tensor {
        name: String::new(),
        shape: shape.to_vec(),
        dtype,
        quant: None,
        data: None,
    }
}

/// An int32 activation tensor (e.g. indices computed at run time).
pub fn int32(shape: &[usize]) -> Tensor {
    Tensor {
        name: String::new(),
        shape: shape.to_vec(),
        dtype: DType::I32,
        quant: None,
        data: None,
    }
}

/// A constant tensor of `dtype` holding `values` (little-endian, truncated to the type).
pub fn const_typed(dtype: DType, shape: &[usize], values: &[i64]) -> Tensor {
    let size = dtype.size();
    Tensor {
        data: Some(
            values
                .iter()
                .flat_map(|v| v.to_le_bytes()[..size].to_vec())
                .collect(),
        ),
        ..typed(dtype, shape)
    }
}

/// One op over `tensors`: every non-constant input is a graph input, `out` the output.
pub fn run(
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
        variables: Vec::new(),
        arithmetic: Default::default(),
        folded: Vec::new(),
    };
    prepare(&graph)
        .map(|mut layers| layers.remove(0).kernel)
        .map_err(|e| e.to_string())
}

/// The writer-level model of fixture `name` (to mutate and serialize).
pub fn fixture_model(name: &str) -> Model {
    let fixture = kiln_fixtures::models::find(name).unwrap_or_else(|| panic!("no fixture {name}"));
    fixture.graph().model().clone()
}

/// Reads `bytes` (which must read) and validates them.
pub fn validate(bytes: &[u8]) -> Result<Vec<Layer>, ValidateError> {
    let graph = crate::front::tflite::read(bytes).unwrap_or_else(|e| panic!("does not read: {e}"));
    prepare(&graph)
}

/// The validation error of `bytes`, checked to be at operator `op` (`name`) with a message
/// containing every needle, and displayed on one line as `operator OP (NAME): ..`.
pub fn expect_invalid(bytes: &[u8], op: usize, name: &str, needles: &[&str]) -> String {
    let e = match validate(bytes) {
        Err(e) => e,
        Ok(_) => panic!("expected a validation error at operator {op}, but the model validated"),
    };
    assert_eq!(e.op_index, Some(op), "{e}");
    assert_eq!(e.op_name, name, "{e}");
    for needle in needles {
        assert!(e.message.contains(needle), "{needle:?} not in: {e}");
    }
    let text = e.to_string();
    let prefix = format!("operator {op} ({name}): ");
    assert!(text.starts_with(&prefix), "{text}");
    assert!(!text.contains('\n'), "{text}");
    e.message
}

/// Index of the `slot`-th input of operator `op`.
pub fn op_input(m: &Model, op: usize, slot: usize) -> usize {
    usize::try_from(m.operators[op].inputs[slot]).expect("present input")
}

/// Index of the output of operator `op`.
pub fn op_output(m: &Model, op: usize) -> usize {
    usize::try_from(m.operators[op].outputs[0]).expect("output")
}

/// tiny_kws: 0 CONV_2D, 1 DEPTHWISE_CONV_2D, 2 AVERAGE_POOL_2D, 3 RESHAPE, 4 FULLY_CONNECTED,
/// 5 SOFTMAX.
pub fn tiny_kws() -> Model {
    let m = fixture_model("tiny_kws");
    let ops: Vec<String> = m.operators.iter().map(|o| format!("{:?}", o.op)).collect();
    assert_eq!(
        ops,
        [
            "Conv2d",
            "DepthwiseConv2d",
            "AveragePool2d",
            "Reshape",
            "FullyConnected",
            "Softmax"
        ]
    );
    assert!(validate(&serialize(&m)).is_ok());
    m
}
