// A shared arena shorter than the model's ARENA_LEN is a compile error, not a runtime panic.
kiln::include_model!("fixtures/tiny_kws/model.tflite", name = kws);

fn main() {
    let mut arena = [0_i8; 8];
    let mut model = kws::SharedModel::new();
    let _ = model.predict(&mut arena, &[0; 160]);
}
