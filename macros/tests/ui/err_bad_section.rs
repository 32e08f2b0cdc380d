kiln::include_model!("fixtures/tiny_kws/model.tflite", weight_section = "not a section");

fn main() {}
