// fixtures/models/unsupported_sin: float32 ABS then SIN.
kiln::include_model!("fixtures/unsupported_sin/model.tflite");

fn main() {}
