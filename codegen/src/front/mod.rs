//! Front-ends: model formats -> ir::Graph.

pub mod tflite;
