//! Front-ends: model formats -> ir::Graph (TFLite and, first slice, quantized ONNX).

pub mod onnx;
pub mod tflite;
