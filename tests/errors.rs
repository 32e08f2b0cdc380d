use kiln_codegen::compile;
#[test]
fn explore() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/models/tiny_kws/model.tflite"
    ))
    .unwrap();
    for len in [
        4, 8, 9, 16, 20, 100, 500, 1000, 1500, 2000, 2500, 2900, 2959,
    ] {
        let r = compile(&bytes[..len]);
        println!("{len}: {:?}", r.err());
    }
}
