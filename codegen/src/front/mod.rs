//! Front-ends: model formats -> ir::Graph (TFLite and, first slice, quantized ONNX).

pub mod tflite;
pub mod onnx;
