// The band budget is per mille of extra MACs: 0 to 1000.
kiln::include_model!("fixtures/tiny_kws/model.tflite", band_budget = 2000);

fn main() {}
