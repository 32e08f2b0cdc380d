//! The measurement firmware: a copy of `../shared/tools/mcu/template` whose `src/main.rs` runs
//! one model on one golden input inside `bench::region` and checks the output against the
//! golden bytes on the target. One harness (prelude, golden bytes, entry point, stack
//! measurement, fault handlers) serves every [`Variant`]: kiln's generated crate or the peer
//! microflow; the variant supplies only the model's declarations, input decoding, inference
//! wrapper and golden check.

use std::path::Path;

use crate::microflow;

/// Files of the template copied into every firmware crate (everything but `src/main.rs`,
/// `src/kernel.rs` and `Cargo.toml`, which are written per model).
pub const TEMPLATE_FILES: &[&str] = &[
    "Cargo.lock",
    "build.rs",
    "src/bench.rs",
    ".cargo/config.toml",
    "boards/microbit.x",
    "boards/mps2-an385.x",
    "boards/mps2-an386.x",
    "boards/mps2-an500.x",
    "boards/mps2-an505.x",
    "boards/riscv32-virt.x",
];

/// Which code the firmware runs.
pub enum Variant<'a> {
    /// kiln's generated crate, the path dependency `kiln_model` (package = the model name).
    Kiln {
        /// The crate's folder, relative to the firmware crate.
        path: &'a Path,
        /// Rust element type of each input tensor, e.g. `i8` or `f32`.
        inputs: &'a [&'static str],
        /// Rust element type of each output tensor.
        outputs: &'a [&'static str],
        /// One counted region per layer (`predict_observed` with an observer that marks them)
        /// instead of one around the whole inference.
        layers: bool,
    },
    /// The peer microflow 0.1.3: `#[microflow::model]` on the model file.
    Microflow {
        /// What microflow's buffers look like for this model.
        io: &'a microflow::Io,
        /// Absolute path of the `.tflite` (microflow's macro reads it at build time).
        model: &'a Path,
    },
}

/// One firmware crate's generated files: a model, a golden case, a board and a variant.
pub struct Firmware<'a> {
    /// Model name (for the header comment; kiln's generated package name).
    pub model: &'a str,
    /// Golden case tag, e.g. `0` for `in_0.bin` / `out_0.bin`.
    pub tag: &'a str,
    /// Board name (for the header comment).
    pub board: &'a str,
    /// Which code it runs.
    pub variant: Variant<'a>,
}

/// The `Cargo.toml` of the unmodified template (the harness baseline): no dependencies added.
pub fn baseline_cargo_toml(template: &str) -> String {
    cargo_toml(template, "")
}

/// The template's `Cargo.toml`, plus `dependencies` (lines of a `[dependencies]` table, if any)
/// and an empty `[workspace]` so the crate is its own workspace even though it sits inside
/// kiln's `target/`.
fn cargo_toml(template: &str, dependencies: &str) -> String {
    let mut s = template.trim_end().to_string();
    s.push_str("\n\n");
    if !dependencies.is_empty() {
        s.push_str(&format!("[dependencies]\n{dependencies}\n"));
    }
    s.push_str("[workspace]\n");
    s
}

impl Firmware<'_> {
    /// The firmware's `Cargo.toml`: the template's, plus the variant's dependencies (kiln: the
    /// generated crate as `kiln_model`; microflow: microflow and nalgebra, which microflow's
    /// macro expansion names directly).
    pub fn cargo_toml(&self, template: &str) -> String {
        let dependencies = match &self.variant {
            Variant::Kiln { path, .. } => format!(
                "kiln_model = {{ package = \"{}\", path = \"{}\" }}\n",
                self.model,
                path.display()
            ),
            Variant::Microflow { .. } => "microflow = \"=0.1.3\"\n\
                 nalgebra = { version = \"0.32\", default-features = false }\n"
                .to_string(),
        };
        cargo_toml(template, &dependencies)
    }

    /// The firmware's `src/main.rs`. `golden/in.bin` and `golden/out.bin` (next to `src/`)
    /// hold the golden input and output (a model with several: each one's bytes in order, one
    /// after the other); the input is decoded at compile time into a `static`
    /// (in flash), and inference runs inside `bench::region` through an `#[inline(never)]`
    /// wrapper (`kiln_infer` or `microflow_infer`), so counts do not depend on how `main` is
    /// inlined and the model's code has its own symbols.
    ///
    /// kiln: the model (arena + output buffer) is a local of `main`, so it lives on the stack:
    /// no extra code or RAM (a `static` would need a critical-section `Mutex<RefCell<_>>`),
    /// and the template's stack high-water mark covers arena + output + the kernels' frames.
    /// The output is compared byte by byte: `golden: ok`, or `golden: MISMATCH at byte i` and
    /// exit status 1.
    ///
    /// microflow: its input buffer is built outside the region; its dequantized output is
    /// requantized with the output's scale and zero point and compared element by element:
    /// `golden: ok` or `golden: K of N elements differ, max diff D` (a result: exit status 0).
    pub fn main_rs(&self) -> String {
        let p = self.parts();
        format!(
            r#"{header}
#![no_std]
#![no_main]

mod bench;

use core::hint::black_box;
{uses}#[cfg(target_arch = "arm")]
use cortex_m_semihosting::{{debug, hprintln}};
#[cfg(target_arch = "riscv32")]
use riscv_semihosting::{{debug, hprintln}};
{items}
type Elem = {elem};
{consts}const INPUT_BYTES: &[u8] = include_bytes!("../golden/in.bin");
const GOLDEN: &[u8] = include_bytes!("../golden/out.bin");
const _: () = assert!(INPUT_BYTES.len() == {input_size}, "golden input size");
const _: () = assert!(GOLDEN.len() == {output_size}, "golden output size");

{input}

{infer}

#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {{
    bench::stack_paint();
{run}    hprintln!("stack_peak_bytes: {{}}", bench::stack_peak());
{verdict}    loop {{}}
}}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {{
    hprintln!("panic: {{}}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {{}}
}}

#[cfg(target_arch = "arm")]
#[cortex_m_rt::exception]
unsafe fn HardFault(ef: &cortex_m_rt::ExceptionFrame) -> ! {{
    hprintln!("hardfault: {{:?}}", ef);
    debug::exit(debug::EXIT_FAILURE);
    loop {{}}
}}

#[cfg(target_arch = "riscv32")]
#[export_name = "ExceptionHandler"]
fn exception(tf: &riscv_rt::TrapFrame) -> ! {{
    hprintln!("exception: {{:?}}", tf);
    debug::exit(debug::EXIT_FAILURE);
    loop {{}}
}}
"#,
            header = p.header,
            uses = p.uses,
            items = p.items,
            elem = p.elem,
            consts = p.consts,
            input_size = p.input_size,
            output_size = p.output_size,
            input = p.input,
            infer = p.infer,
            run = p.run,
            verdict = p.verdict,
        )
    }

    /// The variant's pieces of `main.rs`.
    fn parts(&self) -> Parts {
        let (model, board, tag) = (self.model, self.board, self.tag);
        match &self.variant {
            Variant::Kiln {
                inputs,
                outputs,
                layers,
                ..
            } => {
                let io = KilnIo { inputs, outputs };
                let run = io.run();
                Parts {
                    header: format!(
                        "//! kiln-bench firmware: `{model}` on {board}, golden case `{tag}`. Generated by\n\
                         //! `kiln-bench mcu`; rewritten on every run."
                    ),
                    uses: "use core::mem::size_of;\n".to_string(),
                    items: format!("use kiln_model as model;\n{KILN_STACK_DEPTH}"),
                    elem: inputs.first().copied().unwrap_or("i8").to_string(),
                    consts: String::new(),
                    input_size: io.sizes("Input", inputs.len()),
                    output_size: io.sizes("Output", outputs.len()),
                    input: io.statics(),
                    infer: io.infer(*layers),
                    run: if *layers {
                        run.replace("bench::region(move || kiln_infer(", "black_box(kiln_infer(")
                    } else {
                        run
                    },
                    verdict: KILN_VERDICT.to_string(),
                }
            }
            Variant::Microflow { io, model: path } => {
                let path = format!("{:?}", path.display().to_string());
                let (in_ty, out_ty) = (io.input_type(), io.output_type());
                Parts {
                    header: format!(
                        "//! kiln-bench firmware: microflow 0.1.3 on `{model}`, {board}, golden case `{tag}`.\n\
                         //! Generated by `kiln-bench mcu --peer microflow`; rewritten on every run."
                    ),
                    uses: String::new(),
                    items: format!(
                        "\n#[microflow::model({path})]\nstruct MicroflowModel;\n\n\
                         /// microflow's macro reads the model without telling cargo: this makes cargo rebuild when the\n\
                         /// file changes.\nconst _MODEL: &[u8] = include_bytes!({path});\n"
                    ),
                    elem: io.input_elem.to_string(),
                    consts: format!(
                        "const N_IN: usize = {};\nconst N_OUT: usize = {};\n\
                         const OUTPUT_SCALE: f32 = {:?};\nconst OUTPUT_ZERO_POINT: i32 = {};\n",
                        io.input_len(),
                        io.output_len(),
                        io.output_scale,
                        io.output_zero_point
                    ),
                    input_size: "N_IN".to_string(),
                    output_size: "N_OUT".to_string(),
                    input: MICROFLOW_INPUT.to_string(),
                    infer: format!(
                        "#[inline(never)]\nfn microflow_infer(x: {in_ty}) -> {out_ty} {{\n    \
                         MicroflowModel::predict_quantized(x)\n}}"
                    ),
                    run: format!(
                        "    let input = black_box(&INPUT);\n    \
                         let x: {in_ty} = black_box({});\n    \
                         let y = bench::region(move || microflow_infer(x));\n{}",
                        io.input_expr("input"),
                        MICROFLOW_CHECK.replace("{output_at}", &io.output_at("y", "k"))
                    ),
                    verdict: MICROFLOW_VERDICT.to_string(),
                }
            }
        }
    }
}

/// The generated crate's inputs and outputs, for the kiln variant's pieces of `main.rs`: one
/// input and one output are `Input`/`Output`, several are `Input0`, `Input1`, ... and
/// `predict` returns a tuple.
struct KilnIo<'a> {
    inputs: &'a [&'static str],
    outputs: &'a [&'static str],
}

impl KilnIo<'_> {
    /// `(type, static)` names of item `k` of `count` (`Input`/`INPUT` or `Input0`/`INPUT0`).
    fn names(prefix: &str, k: usize, count: usize) -> (String, String) {
        let ty = if count == 1 {
            prefix.to_string()
        } else {
            format!("{prefix}{k}")
        };
        let upper = ty.to_uppercase();
        (ty, upper)
    }

    /// The sum of the sizes of the first `k` items in bytes (the golden file holds them one
    /// after the other); `0` for none.
    fn sizes_of_first(prefix: &str, k: usize, count: usize) -> String {
        if k == 0 {
            return "0".to_string();
        }
        (0..k)
            .map(|j| format!("size_of::<model::{}>()", Self::names(prefix, j, count).0))
            .collect::<Vec<_>>()
            .join(" + ")
    }

    /// The sum of all items' sizes in bytes.
    fn sizes(&self, prefix: &str, count: usize) -> String {
        Self::sizes_of_first(prefix, count, count)
    }

    /// One `static` per input, decoded at compile time from its slice of the golden bytes.
    fn statics(&self) -> String {
        let n = self.inputs.len();
        let mut out = String::new();
        for (k, &elem) in self.inputs.iter().enumerate() {
            let (ty, name) = Self::names("Input", k, n);
            let zero = match elem {
                "bool" => "false",
                "f32" => "0.0",
                _ => "0",
            };
            // The harness's `Elem` is the first input's element type.
            let elem = if k == 0 { "Elem" } else { elem };
            let offset = Self::sizes_of_first("Input", k, n);
            let element = if zero == "false" {
                "INPUT_BYTES[at] != 0".to_string()
            } else {
                format!(
                    "{{\n            let mut b = [0u8; size_of::<{elem}>()];\n            \
                     let mut j = 0;\n            while j < b.len() {{\n                \
                     b[j] = INPUT_BYTES[at + j];\n                j += 1;\n            }}\n            \
                     {elem}::from_le_bytes(b)\n        }}"
                )
            };
            out.push_str(&format!(
                "/// Golden input {k} decoded at compile time (little-endian elements): it lives \
                 in flash.\nstatic {name}: model::{ty} = {{\n    \
                 const N: usize = size_of::<model::{ty}>() / size_of::<{elem}>();\n    \
                 const OFFSET: usize = {offset};\n    \
                 let mut x: model::{ty} = [{zero}; N];\n    \
                 let mut i = 0;\n    \
                 while i < N {{\n        \
                 let at = OFFSET + i * size_of::<{elem}>();\n        \
                 x[i] = {element};\n        \
                 i += 1;\n    \
                 }}\n    \
                 x\n}};\n"
            ));
        }
        out
    }

    /// The `#[inline(never)]` wrapper around `predict` (or `predict_observed` with a region
    /// per layer).
    fn infer(&self, layers: bool) -> String {
        let (n_in, n_out) = (self.inputs.len(), self.outputs.len());
        let params: Vec<String> = (0..n_in)
            .map(|k| format!("input{k}: &model::{}", Self::names("Input", k, n_in).0))
            .collect();
        let args: Vec<String> = (0..n_in).map(|k| format!("input{k}")).collect();
        let outs: Vec<String> = (0..n_out)
            .map(|k| format!("&'a model::{}", Self::names("Output", k, n_out).0))
            .collect();
        let ret = if n_out == 1 {
            outs.concat()
        } else {
            format!("({})", outs.join(", "))
        };
        let (call, prelude) = if layers {
            (
                format!("model.predict_observed({}, &mut Regions)", args.join(", ")),
                KILN_REGIONS,
            )
        } else {
            (
                format!("model.predict({})", args.join(", ")),
                KILN_INFER_DOC,
            )
        };
        format!(
            "{prelude}#[inline(never)]\nfn kiln_infer<'a>(model: &'a mut model::Model, {}) -> \
             {ret} {{\n    {call}\n}}",
            params.join(", ")
        )
    }

    /// `main`'s inference in a counted region and the byte-by-byte comparison with the golden.
    fn run(&self) -> String {
        let (n_in, n_out) = (self.inputs.len(), self.outputs.len());
        let mut s = String::from(
            "    // On the stack: stack_peak_bytes covers arena + output + the kernels' frames.\n    \
             let mut model = model::Model::new();\n",
        );
        let args: Vec<String> = (0..n_in).map(|k| format!("input{k}")).collect();
        for k in 0..n_in {
            let (_, name) = Self::names("Input", k, n_in);
            s.push_str(&format!("    let input{k} = black_box(&{name});\n"));
        }
        s.push_str(&format!(
            "    // How deep the stack is where inference is called: what lies below it at the \
             peak is the\n    // stack `predict` itself needs (its callers' frames in this \
             harness included).\n    \
             let call_depth = stack_depth();\n    \
             let model = &mut model;\n    \
             let output = bench::region(move || kiln_infer(model, {}));\n    \
             // Compare on the target, byte by byte (outputs are bit-exact with TFLM).\n    \
             let mut mismatch = None;\n    \
             let mut k = 0;\n",
            args.join(", ")
        ));
        for (j, &elem) in self.outputs.iter().enumerate() {
            let got = if n_out == 1 {
                "output".to_string()
            } else {
                format!("output.{j}")
            };
            let bytes = if elem == "bool" {
                "[*v as u8]"
            } else {
                "v.to_le_bytes()"
            };
            s.push_str(&format!(
                "    for v in {got}.iter() {{\n        \
                 for &got in {bytes}.iter() {{\n            \
                 if mismatch.is_none() && got != GOLDEN[k] {{\n                \
                 mismatch = Some((k, got, GOLDEN[k]));\n            \
                 }}\n            \
                 k += 1;\n        \
                 }}\n    \
                 }}\n"
            ));
        }
        s.push_str(
            "    // Before anything prints (core::fmt's frames would count).\n    \
             let peak = bench::stack_peak();\n",
        );
        s
    }
}

/// What a variant puts into the shared `main.rs` (see [`Firmware::main_rs`]).
struct Parts {
    /// The `//!` header lines.
    header: String,
    /// `use` lines after `black_box`'s.
    uses: String,
    /// The model's declarations, after the semihosting imports.
    items: String,
    /// Rust element type of the input.
    elem: String,
    /// Constants before the golden bytes.
    consts: String,
    /// Expressions for the golden input and output sizes in bytes.
    input_size: String,
    output_size: String,
    /// The `static INPUT` decoded from the golden bytes.
    input: String,
    /// The `#[inline(never)]` inference wrapper.
    infer: String,
    /// `main` from after `stack_paint` to the stack report: inference in `bench::region` and
    /// the comparison with the golden.
    run: String,
    /// `main` after the stack report: the `golden:` line and the exit.
    verdict: String,
}

/// The stack depth at a call from `main`: the stack top minus the address of a local of a
/// function called there (its own small frame counts as used).
const KILN_STACK_DEPTH: &str = r#"
extern "C" {
    static _stack_start: u32; // top of stack (cortex-m-rt and riscv-rt link.x)
}

/// Bytes of stack in use by `main` and this call.
#[inline(never)]
fn stack_depth() -> usize {
    let here = 0u32;
    #[allow(unused_unsafe)]
    let top = unsafe { core::ptr::addr_of!(_stack_start) } as usize;
    top - black_box(core::ptr::addr_of!(here)) as usize
}
"#;

const KILN_INFER_DOC: &str =
    "/// The model's entry point, kept out of `main` (as tools/mcu/README.md advises) so counts do
/// not depend on how `main` around it is inlined, and so the model's code has one symbol.
";

const KILN_REGIONS: &str =
    "/// Marks one counted region per layer: `region K:` is the K-th layer that runs.
struct Regions;

impl model::Observer for Regions {
    #[inline(always)]
    fn before(&mut self, _index: usize, _op: &'static str) {
        bench::mcu_region_begin();
    }

    #[inline(always)]
    fn after(&mut self, _index: usize, _op: &'static str, _output: model::LayerOutput<'_>) {
        bench::mcu_region_end();
    }
}

/// The model's entry point with a region around each layer.
";

const KILN_VERDICT: &str = r#"    hprintln!("predict_stack_bytes: {}", peak.saturating_sub(call_depth));
    hprintln!("model_bytes: {}", size_of::<model::Model>());
    match mismatch {
        None => {
            hprintln!("golden: ok");
            debug::exit(debug::EXIT_SUCCESS);
        }
        Some((k, got, want)) => {
            hprintln!("golden: MISMATCH at byte {} (got {:#04x}, want {:#04x})", k, got, want);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
"#;

const MICROFLOW_INPUT: &str = r#"/// The golden input decoded at compile time: it lives in flash.
static INPUT: [Elem; N_IN] = {
    let mut x = [0 as Elem; N_IN];
    let mut i = 0;
    while i < N_IN {
        x[i] = INPUT_BYTES[i] as Elem;
        i += 1;
    }
    x
};"#;

/// Requantizes microflow's f32 output element `{output_at}` and counts the differences.
const MICROFLOW_CHECK: &str = r#"    let (mut differ, mut max_diff) = (0usize, 0i32);
    for k in 0..N_OUT {
        let f: f32 = {output_at};
        let v = f / OUTPUT_SCALE;
        let r = if v >= 0.0 { (v + 0.5) as i32 } else { (v - 0.5) as i32 };
        let got = (r + OUTPUT_ZERO_POINT).clamp(-128, 127);
        let want = GOLDEN[k] as i8 as i32;
        if got != want {
            differ += 1;
            max_diff = max_diff.max((got - want).abs());
        }
    }
"#;

const MICROFLOW_VERDICT: &str = r#"    if differ == 0 {
        hprintln!("golden: ok");
    } else {
        hprintln!("golden: {} of {} elements differ, max diff {}", differ, N_OUT, max_diff);
    }
    debug::exit(debug::EXIT_SUCCESS);
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_variants_share_the_harness() {
        let io = microflow::Io {
            input_elem: "i8",
            input_shape: vec![1, 49, 10, 1],
            output_shape: vec![1, 12],
            output_scale: 0.00390625,
            output_zero_point: -128,
        };
        let fw = |variant| Firmware {
            model: "kws",
            tag: "0",
            board: "mps2-an386",
            variant,
        };
        let kiln = fw(Variant::Kiln {
            path: Path::new("../../models/cortex-m4f/kws"),
            inputs: &["i8"],
            outputs: &["i8"],
            layers: false,
        });
        let layered = fw(Variant::Kiln {
            path: Path::new("../../models/cortex-m4f/kws"),
            inputs: &["i8"],
            outputs: &["i8"],
            layers: true,
        })
        .main_rs();
        // One region per layer, none around the whole inference.
        assert!(layered.contains("model.predict_observed(input0, &mut Regions)"));
        assert!(!layered.contains("bench::region("));
        // Two inputs (one bool) and three outputs: each decoded from its slice of the golden
        // bytes, `predict` returning a tuple, each output compared in turn.
        let several = fw(Variant::Kiln {
            path: Path::new("../../models/cortex-m4f/kws"),
            inputs: &["f32", "bool"],
            outputs: &["f32", "bool", "i32"],
            layers: false,
        })
        .main_rs();
        for part in [
            "static INPUT1: model::Input1 = {",
            "const OFFSET: usize = size_of::<model::Input0>();",
            "x[i] = INPUT_BYTES[at] != 0;",
            "-> (&'a model::Output0, &'a model::Output1, &'a model::Output2)",
            "kiln_infer(model, input0, input1)",
            "for v in output.2.iter() {",
            "for &got in [*v as u8].iter() {",
            "size_of::<model::Output0>() + size_of::<model::Output1>() + size_of::<model::Output2>()",
        ] {
            assert!(several.contains(part), "{part}\n{several}");
        }
        let peer = fw(Variant::Microflow {
            io: &io,
            model: Path::new("/m/kws/model.tflite"),
        });
        let template = "[package]\nname = \"bench\"\n";
        let (k, p) = (kiln.main_rs(), peer.main_rs());
        for main in [&k, &p] {
            for shared in [
                "#![no_std]",
                "const GOLDEN: &[u8] = include_bytes!(\"../golden/out.bin\");",
                "    bench::stack_paint();\n",
                "    hprintln!(\"stack_peak_bytes: {}\", bench::stack_peak());\n",
                "#[panic_handler]",
                "unsafe fn HardFault(",
                "fn exception(tf: &riscv_rt::TrapFrame)",
            ] {
                assert_eq!(main.matches(shared).count(), 1, "{shared}\n{main}");
            }
        }
        assert!(k.contains("bench::region(move || kiln_infer(model, input0))"));
        assert!(p.contains("bench::region(move || microflow_infer(x))"));
        assert!(p.contains("#[microflow::model(\"/m/kws/model.tflite\")]"));
        assert!(kiln
            .cargo_toml(template)
            .ends_with("[dependencies]\nkiln_model = { package = \"kws\", path = \"../../models/cortex-m4f/kws\" }\n\n[workspace]\n"));
        assert!(peer
            .cargo_toml(template)
            .contains("microflow = \"=0.1.3\"\n"));
        assert_eq!(
            baseline_cargo_toml(template),
            "[package]\nname = \"bench\"\n\n[workspace]\n"
        );
    }
}
