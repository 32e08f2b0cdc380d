// `target` takes a string, not an identifier.
kiln::include_model!("fixtures/tiny_kws/model.tflite", target = cortex_m4);

fn main() {}
