// `name` takes an identifier, not a string.
kiln::include_model!("fixtures/tiny_kws/model.tflite", name = "kws");

fn main() {}
