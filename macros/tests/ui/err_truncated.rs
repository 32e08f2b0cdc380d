// The first half of a valid model (built by ui.rs).
kiln::include_model!("generated/truncated.tflite");

fn main() {}
