//! The generated `quantize_input` and `dequantize_output` against the TFLM oracle: the
//! `quantize_f32` fixture's goldens are the oracle's QUANTIZE of random floats, and the
//! `dequantize` fixture's are its DEQUANTIZE of int8 values. A model whose input has the
//! quantize fixture's output parameters, and whose output has the dequantize fixture's input
//! parameters, is generated and built as a crate; a runner calls its helpers on the fixtures'
//! golden inputs and compares with their golden outputs, byte for byte. Its second output is
//! uint8 with the `dequantize_u8` fixture's input parameters, for the uint8 helper.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use kiln_e2e::{fixture_cases, golden_sets, run, Case};
use kiln_fixtures::graph::Graph;

/// The fixture's only case (panics if it is missing: the fixtures are committed).
fn fixture(name: &str) -> Case {
    fixture_cases(&[])
        .into_iter()
        .find(|c| c.name == format!("fx_{name}"))
        .unwrap_or_else(|| panic!("fixture {name} is missing"))
}

/// (scale, zero point) of `tensor` in the model at `path`.
fn quant_of(path: &Path, tensor: impl Fn(&kiln_codegen::ir::Graph) -> usize) -> (f32, i32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let model = kiln_codegen::compile(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let q = model.graph.tensors[tensor(&model.graph)]
        .quant
        .clone()
        .expect("a quantized tensor");
    (q.scales[0], q.zero_points[0] as i32)
}

#[test]
fn quantize_helpers_match_tflm() {
    let quantize = fixture("quantize_f32");
    let dequantize = fixture("dequantize");
    let dequantize_u8 = fixture("dequantize_u8");
    let (in_scale, in_zp) = quant_of(&quantize.model, |g| g.outputs[0]);
    let (out_scale, out_zp) = quant_of(&dequantize.model, |g| g.inputs[0]);
    let (u8_scale, u8_zp) = quant_of(&dequantize_u8.model, |g| g.inputs[0]);

    // int8[1, 16] with the oracle's QUANTIZE parameters in, requantized to the DEQUANTIZE
    // fixture's parameters out; and a uint8[1, 32] output with DEQUANTIZE uint8's.
    let mut g = Graph::new("helpers");
    let x = g.input_i8(&[1, 16], in_scale, in_zp);
    let y = g.quantize(x, Some((out_scale, out_zp)));
    g.output(y);
    let x = g.input_i8(&[1, 32], u8_scale, u8_zp - 128);
    let y = g.quantize_u8(x, (u8_scale, u8_zp));
    g.output(y);
    let krate = kiln_codegen::build_crate(&g.finish(), "helpers", "helpers.tflite", None)
        .unwrap_or_else(|e| panic!("{e}"));

    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("quantize_helpers");
    let _ = std::fs::remove_dir_all(&work);
    for (rel, contents) in &krate.files {
        let path = work.join("helpers").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
    }
    let mut checks = String::new();
    for (tag, ins, outs) in golden_sets(&quantize, 1, 1) {
        writeln!(
            checks,
            "    check({:?}, &helpers::quantize_input0(&floats(&read({:?}))).map(|q| q as u8), &read({:?}));",
            format!("quantize_input {tag}"),
            ins[0],
            outs[0]
        )
        .unwrap();
    }
    for (tag, ins, outs) in golden_sets(&dequantize, 1, 1) {
        writeln!(
            checks,
            "    check({:?}, &helpers::dequantize_output0(&ints(&read({:?}))).map(f32::to_bits).iter().flat_map(|b| b.to_le_bytes()).collect::<Vec<u8>>(), &read({:?}));",
            format!("dequantize_output {tag}"),
            ins[0],
            outs[0]
        )
        .unwrap();
    }
    for (tag, ins, outs) in golden_sets(&dequantize_u8, 1, 1) {
        writeln!(
            checks,
            "    check({:?}, &helpers::dequantize_output1(&read({:?}).try_into().unwrap()).map(f32::to_bits).iter().flat_map(|b| b.to_le_bytes()).collect::<Vec<u8>>(), &read({:?}));",
            format!("dequantize_output (uint8) {tag}"),
            ins[0],
            outs[0]
        )
        .unwrap();
    }
    assert!(checks.lines().count() >= 3, "no golden sets found");
    let main = format!(
        r#"fn read(path: &str) -> Vec<u8> {{ std::fs::read(path).unwrap() }}
fn floats(b: &[u8]) -> [f32; 16] {{ core::array::from_fn(|i| f32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap())) }}
fn ints(b: &[u8]) -> [i8; 16] {{ core::array::from_fn(|i| b[i] as i8) }}
fn check(what: &str, got: &[u8], want: &[u8]) {{
    if got == want {{ println!("PASS {{what}}") }} else {{ println!("FAIL {{what}}: got {{got:?}}, TFLM {{want:?}}") }}
}}
fn main() {{
{checks}}}
"#
    );
    std::fs::create_dir_all(work.join("runner/src")).unwrap();
    std::fs::write(work.join("runner/src/main.rs"), main).unwrap();
    std::fs::write(
        work.join("runner/Cargo.toml"),
        "[package]\nname = \"runner\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\nhelpers = { path = \"../helpers\" }\n\n[workspace]\n",
    )
    .unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let stdout = run(Command::new(cargo)
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(work.join("runner/Cargo.toml"))
        .env("RUSTFLAGS", "-D warnings"))
    .unwrap_or_else(|e| panic!("{e}"));
    let fails: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("PASS")).collect();
    assert!(
        fails.is_empty(),
        "helpers differ from TFLM:\n{}",
        fails.join("\n")
    );
    assert_eq!(stdout.lines().count(), checks.lines().count());
}
