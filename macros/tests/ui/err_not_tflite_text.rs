// A text file with a .tflite name.
kiln::include_model!("data/text.tflite");

fn main() {}
