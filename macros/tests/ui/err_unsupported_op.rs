// fixtures/models/unsupported_l2norm: FULLY_CONNECTED then L2_NORMALIZATION.
kiln::include_model!("fixtures/unsupported_l2norm/model.tflite");

fn main() {}
