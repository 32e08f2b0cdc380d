// An unknown target is the option's fault: reported on the option, before the model is read
// (this path does not exist).
kiln::include_model!("/nonexistent/kiln/model.tflite", target = "z80");

fn main() {}
