// Reads fine, breaks a TFLM rule: the softmax output scale is 1/128, not 1/256 (built by ui.rs).
kiln::include_model!("generated/softmax_bad_scale.tflite");

fn main() {}
