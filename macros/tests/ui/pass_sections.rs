// Weights and tables in link sections of their own, for a linker script to place.
kiln::include_model!(
    "fixtures/tiny_kws/model.tflite",
    name = placed,
    weight_section = ".qspi_weights",
    table_section = ".qspi_tables"
);

fn main() {
    let mut model = placed::Model::new();
    let output = model.predict(&[0; 160]);
    assert_eq!(output.len(), 4);
}
