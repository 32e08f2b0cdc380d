// A model file named after a keyword (`fn.tflite`) gets the module name `model_fn`.
kiln::include_model!("keyword/fn.tflite");

fn main() {
    let mut model = model_fn::Model::new();
    let output: &model_fn::Output = model.predict(&[0; 160]);
    assert_eq!(output.len(), 4);
}
