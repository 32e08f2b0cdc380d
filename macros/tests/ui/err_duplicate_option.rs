kiln::include_model!("fixtures/tiny_kws/model.tflite", name = a, name = b);

fn main() {}
