// A fixture through the macro: its golden input gives its golden output, byte for byte.
// (include_bytes! is relative to this file, which trybuild compiles in place.)
kiln::include_model!("fixtures/tiny_kws/model.tflite");
kiln::include_model!(
    "fixtures/tiny_kws/model.tflite",
    name = kws,
    target = "cortex-m4"
);

static IN_0: &[u8] = include_bytes!("../../../fixtures/models/tiny_kws/golden/in_0.bin");
static OUT_0: &[u8] = include_bytes!("../../../fixtures/models/tiny_kws/golden/out_0.bin");

fn main() {
    let input: tiny_kws::Input = core::array::from_fn(|i| IN_0[i] as i8);
    assert_eq!(IN_0.len(), input.len());
    let mut model = tiny_kws::Model::new();
    let output = model.predict(&input);
    let bytes: Vec<u8> = output.iter().map(|&v| v as u8).collect();
    assert_eq!(bytes, OUT_0);

    // The same model under another name is another module with the same items.
    let mut renamed = kws::Model::new();
    assert_eq!(renamed.predict(&input), output);
    assert_eq!(tiny_kws::INPUT_SHAPE, kws::INPUT_SHAPE);
    assert_eq!(tiny_kws::ARENA_BYTES, kws::ARENA_BYTES);
}
