// Patch-based execution through the macro: the first layers run band by band (a smaller
// arena) and the output is still TFLM's, byte for byte.
kiln::include_model!("fixtures/image_stem/model.tflite", name = whole);
kiln::include_model!("fixtures/image_stem/model.tflite", name = banded, band_budget = 1000);

static IN_0: &[u8] = include_bytes!("../../../fixtures/models/image_stem/golden/in_0.bin");
static OUT_0: &[u8] = include_bytes!("../../../fixtures/models/image_stem/golden/out_0.bin");

fn main() {
    assert!(banded::ARENA_BYTES < whole::ARENA_BYTES);
    let input: banded::Input = core::array::from_fn(|i| IN_0[i] as i8);
    let mut model = Box::new(banded::Model::new());
    let bytes: Vec<u8> = model.predict(&input).iter().map(|&v| v as u8).collect();
    assert_eq!(bytes, OUT_0);
}
