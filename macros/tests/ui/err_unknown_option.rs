kiln::include_model!("fixtures/tiny_kws/model.tflite", foo = 1);

fn main() {}
