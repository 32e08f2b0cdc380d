// A path that does not exist: the message names the path that was tried.
kiln::include_model!("/nonexistent/kiln/model.tflite");

fn main() {}
