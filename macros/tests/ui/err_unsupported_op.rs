// fixtures/models/unsupported_op: float32 ABS, then VAR_HANDLE (a resource variable).
kiln::include_model!("fixtures/unsupported_op/model.tflite");

fn main() {}
