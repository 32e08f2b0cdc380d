// A built-in crate's name (`std`, `core`, `alloc`) would shadow it: rejected like a keyword.
kiln::include_model!("fixtures/tiny_kws/model.tflite", name = std);

fn main() {}
