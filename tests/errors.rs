//! Error paths of the compiler library: every bad input gives an `Err` naming the problem,
//! never a panic. Truncated, random and corrupted files (byte-level and structured), the
//! unsupported-op fixture, one model per TFLM `Prepare` rule kiln enforces, and bad crate
//! names for `generate_crate`.

use std::collections::HashSet;
use std::panic::catch_unwind;

use kiln_codegen::{compile, generate_crate, Compiled, Error, ReadError};
use kiln_e2e::repo_root;
use kiln_fixtures::models;
use kiln_fixtures::rng::Rng;
use kiln_fixtures::writer::{
    serialize, Activation, BuiltinOptions, Model, Padding, Quantization, TensorType,
};

// ---- helpers --------------------------------------------------------------------------------

/// The bytes of `fixtures/models/<name>/model.tflite`.
fn fixture_file(name: &str) -> Vec<u8> {
    let path = repo_root()
        .join("fixtures/models")
        .join(name)
        .join("model.tflite");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The writer-level model of fixture `name` (to mutate and serialize).
fn fixture_model(name: &str) -> Model {
    let fixture = models::find(name).unwrap_or_else(|| panic!("no fixture {name}"));
    fixture.graph().model().clone()
}

/// What happened to one input, for the robustness tests.
enum Outcome {
    Compiled(Box<Compiled>),
    Failed(Error),
    Panicked(String),
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string panic payload>".into())
}

/// `compile(bytes)`, with a panic caught and turned into [`Outcome::Panicked`].
fn try_compile(bytes: &[u8]) -> Outcome {
    match catch_unwind(|| compile(bytes)) {
        Ok(Ok(c)) => Outcome::Compiled(Box::new(c)),
        Ok(Err(e)) => Outcome::Failed(e),
        Err(payload) => Outcome::Panicked(panic_text(&*payload)),
    }
}

/// Generates the crate of a model that compiled (the back-end must not panic either).
fn try_emit(bytes: &[u8]) -> Result<(), String> {
    match catch_unwind(|| generate_crate(bytes, "fuzz", "fuzz.tflite")) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "generate_crate failed after compile succeeded: {e}"
        )),
        Err(payload) => Err(format!(
            "generate_crate panicked: {}",
            panic_text(&*payload)
        )),
    }
}

/// Fails the test with the first few problems (and their count).
fn assert_no_problems(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s), first ones:\n{}",
        problems.len(),
        problems
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// An error's message must be one non-empty line (the CLI prints it after `error: `).
fn check_message(e: &Error) -> Result<(), String> {
    let text = e.to_string();
    if text.trim().is_empty() || text.contains('\n') {
        return Err(format!("message is not one non-empty line: {text:?}"));
    }
    Ok(())
}

/// The model without its constant data, and with each scale and zero point reduced to its
/// class (finite positive, zero, negative, non-finite; inside or outside int8): two models
/// with the same key take the same paths through the back-end, so only one is emitted.
fn structure_key(c: &Compiled) -> String {
    let mut graph = c.graph.clone();
    for t in &mut graph.tensors {
        if let Some(d) = &mut t.data {
            d.clear();
        }
        if let Some(q) = &mut t.quant {
            for s in &mut q.scales {
                if s.is_finite() {
                    *s = s.signum() * f32::from(*s != 0.0);
                }
            }
            for z in &mut q.zero_points {
                if (-128..=127).contains(z) {
                    *z = 0;
                }
            }
        }
    }
    format!("{graph:?}")
}

/// Counts of the outcomes of a robustness run.
#[derive(Default)]
struct Tally {
    /// Models already emitted, by [`structure_key`].
    emitted: HashSet<String>,
    compiled: usize,
    read: usize,
    validate: usize,
    plan: usize,
}

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "compiled {} (distinct structures emitted {}), read errors {}, validation errors \
             {}, plan errors {}",
            self.compiled,
            self.emitted.len(),
            self.read,
            self.validate,
            self.plan
        )
    }
}

impl Tally {
    /// Records `outcome` of input `label`, pushing a description of anything wrong to
    /// `problems`: a panic, a multi-line message, an `Emit` error (a kiln bug), or a back-end
    /// failure on a model that compiled (when `emit` is set).
    fn record(
        &mut self,
        label: &str,
        bytes: &[u8],
        outcome: Outcome,
        emit: bool,
        problems: &mut Vec<String>,
    ) {
        match outcome {
            Outcome::Panicked(msg) => problems.push(format!("{label}: compile panicked: {msg}")),
            Outcome::Compiled(c) => {
                self.compiled += 1;
                // Emitting is slow: do it once per distinct structure (not per weight value).
                if emit && self.emitted.insert(structure_key(&c)) {
                    match try_emit(bytes) {
                        Ok(()) => {}
                        Err(e) => problems.push(format!("{label}: {e}")),
                    }
                }
            }
            Outcome::Failed(e) => {
                if let Err(m) = check_message(&e) {
                    problems.push(format!("{label}: {m}"));
                }
                match e {
                    Error::Read(_) | Error::ReadOnnx(_) => self.read += 1,
                    Error::Validate(_) => self.validate += 1,
                    Error::Plan(_) => self.plan += 1,
                    // `compile` has no other stage; anything else (an `Emit` error
                    // is a kiln bug) is a problem.
                    other => problems.push(format!("{label}: unexpected error {other:?}")),
                }
            }
        }
    }
}

/// Index of the `slot`-th input of operator `op`.
fn op_input(m: &Model, op: usize, slot: usize) -> usize {
    usize::try_from(m.operators[op].inputs[slot]).expect("present input")
}

/// Index of the output of operator `op`.
fn op_output(m: &Model, op: usize) -> usize {
    usize::try_from(m.operators[op].outputs[0]).expect("output")
}

// ---- 1. truncated files ---------------------------------------------------------------------

/// Checks that `bytes[..len]` is a specific read error.
fn check_truncation(name: &str, bytes: &[u8], len: usize) -> Result<(), String> {
    let label = format!("{name} truncated to {len} of {} bytes", bytes.len());
    let e = match try_compile(&bytes[..len]) {
        Outcome::Panicked(msg) => return Err(format!("{label}: panicked: {msg}")),
        Outcome::Compiled(_) => return Err(format!("{label}: compiled")),
        Outcome::Failed(e) => e,
    };
    check_message(&e).map_err(|m| format!("{label}: {m}"))?;
    let text = e.to_string();
    let specific = match &e {
        Error::Read(ReadError::NotTflite { .. }) if len < 8 => {
            text.starts_with("not a TensorFlow Lite model: ")
                && text.contains(&format!("only {len} bytes long"))
                && text.contains("too short")
        }
        Error::Read(ReadError::InvalidFlatbuffer { .. }) if len >= 8 => {
            text.starts_with("malformed TensorFlow Lite model")
                && text.contains("flatbuffer verification failed: ")
                && text.contains("out of bounds")
        }
        _ => false,
    };
    if specific {
        Ok(())
    } else {
        Err(format!("{label}: unexpected error {e:?} ({text})"))
    }
}

#[test]
fn every_truncation_of_tiny_kws_is_a_read_error() {
    let bytes = fixture_file("tiny_kws");
    assert!(compile(&bytes).is_ok(), "the intact file must compile");
    let problems: Vec<String> = (0..bytes.len())
        .filter_map(|len| check_truncation("tiny_kws", &bytes, len).err())
        .collect();
    assert_no_problems("truncated tiny_kws", &problems);
}

#[test]
fn truncations_of_sine_mlp_are_read_errors() {
    let bytes = fixture_file("sine_mlp");
    assert!(compile(&bytes).is_ok(), "the intact file must compile");
    let n = bytes.len();
    let lengths = (0..16).chain((16..n).step_by(7)).chain(n - 16..n);
    let problems: Vec<String> = lengths
        .filter_map(|len| check_truncation("sine_mlp", &bytes, len).err())
        .collect();
    assert_no_problems("truncated sine_mlp", &problems);
}

// ---- 2. random and corrupted bytes ----------------------------------------------------------

#[test]
fn random_bytes_are_errors() {
    let mut rng = Rng::new(0x5EED_0000_C0FF_EE01);
    let mut problems = Vec::new();
    let mut tally = Tally::default();
    for i in 0..4000 {
        let len = rng.index(768);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let with_header = i % 2 == 0 && len >= 8;
        if with_header {
            // A valid header: root offset inside the buffer, 4-aligned, then "TFL3".
            let root = (rng.index(len) as u32) & !3;
            bytes[..4].copy_from_slice(&root.to_le_bytes());
            bytes[4..8].copy_from_slice(b"TFL3");
        }
        let label = format!("buffer {i} of the stream, {len} bytes");
        let outcome = try_compile(&bytes);
        if let Outcome::Compiled(_) = outcome {
            problems.push(format!("{label}: random bytes compiled"));
            continue;
        }
        if !with_header && bytes.get(4..8) != Some(b"TFL3") {
            // No identifier: rejected up front, and the message says what was expected; or,
            // starting as ONNX files do (byte 0x08), an ONNX read error.
            match &outcome {
                Outcome::Failed(Error::Read(ReadError::NotTflite { reason })) => {
                    if len >= 8 && !reason.contains("expected \"TFL3\"") {
                        problems.push(format!("{label}: reason does not name TFL3: {reason}"));
                    }
                }
                Outcome::Failed(Error::ReadOnnx(_)) if bytes.first() == Some(&0x08) => {}
                _ => problems.push(format!("{label}: not a NotTflite error")),
            }
        }
        tally.record(&label, &bytes, outcome, false, &mut problems);
    }
    assert_no_problems("random bytes", &problems);
    assert_eq!(tally.compiled, 0);
    assert_eq!(tally.read, 4000, "{tally:?}");
}

#[test]
fn single_byte_corruptions_of_tiny_kws_never_panic() {
    let valid = fixture_file("tiny_kws");
    let mut rng = Rng::new(0xC0AA_0B7E_D00D_F00D);
    let mut problems = Vec::new();
    let mut tally = Tally::default();
    for pos in 0..valid.len() {
        let original = valid[pos];
        let random = original ^ (rng.next_u64() as u8 | 1);
        // Zero (a shape or stride of 0), all ones (-1, NaN exponents), off by one (a stride
        // of 2 -> 3, a dimension 8 -> 7), and one random value.
        let mut values = vec![
            0x00,
            0xff,
            original.wrapping_add(1),
            original.wrapping_sub(1),
            random,
        ];
        values.sort_unstable();
        values.dedup();
        for value in values.into_iter().filter(|&v| v != original) {
            let mut bytes = valid.clone();
            bytes[pos] = value;
            let label = format!("byte {pos} {original:#04x} -> {value:#04x}");
            tally.record(
                &label,
                &bytes,
                try_compile(&bytes),
                pos % 16 == 0,
                &mut problems,
            );
        }
    }
    eprintln!("{tally:?}");
    assert_no_problems("corrupted tiny_kws", &problems);
    // The corruptions must reach every stage, or this test checks less than it claims.
    assert!(tally.read > 1000, "{tally:?}");
    assert!(tally.validate > 20, "{tally:?}");
    assert!(tally.compiled > 100, "{tally:?}");
}

/// Structured corruptions: one field of the model changed at a time (a shape, a scale, a
/// zero point, a stride, an index, ...), then written with a valid flatbuffer, so that the
/// reader accepts it and prepare/plan/emit see the damage.
fn mutations(base: &Model) -> Vec<(String, Model)> {
    let mut out: Vec<(String, Model)> = Vec::new();
    let mut push = |label: String, f: &dyn Fn(&mut Model)| {
        let mut m = base.clone();
        f(&mut m);
        out.push((label, m));
    };
    let n_tensors = base.tensors.len() as i32;

    for (t, tensor) in base.tensors.iter().enumerate() {
        for d in 0..tensor.shape.len() {
            for v in [0, 1, 2, 3, 5, 1000, 1 << 20, i32::MAX, -1] {
                push(format!("tensor {t} dim {d} = {v}"), &|m| {
                    m.tensors[t].shape[d] = v
                });
            }
            push(format!("tensor {t} drops dim {d}"), &|m| {
                m.tensors[t].shape.remove(d);
            });
        }
        push(format!("tensor {t} gains a dim"), &|m| {
            m.tensors[t].shape.insert(0, 1)
        });
        push(format!("tensor {t} is a scalar"), &|m| {
            m.tensors[t].shape.clear()
        });
        for ty in [TensorType::Float32, TensorType::Int32, TensorType::Int8] {
            push(format!("tensor {t} type {ty:?}"), &|m| m.tensors[t].ty = ty);
        }
        push(format!("tensor {t} not quantized"), &|m| {
            m.tensors[t].quantization = None
        });
        push(format!("tensor {t} without data"), &|m| {
            m.tensors[t].buffer = 0
        });
        if tensor.quantization.is_none() {
            for s in [f32::NAN, f32::INFINITY, 0.5] {
                push(format!("tensor {t} gets scale {s}"), &|m| {
                    m.tensors[t].quantization = Some(Quantization::per_tensor(s, 0))
                });
            }
        }
        if let Some(q) = &tensor.quantization {
            for s in [
                0.0,
                -0.5,
                f32::NAN,
                f32::INFINITY,
                1e-30,
                1e-9,
                1e30,
                f32::MIN_POSITIVE,
                1.0,
                1.0 / 256.0,
            ] {
                push(format!("tensor {t} scales = {s}"), &|m| {
                    let q = m.tensors[t].quantization.as_mut().unwrap();
                    q.scale.iter_mut().for_each(|x| *x = s);
                });
                push(format!("tensor {t} scale 0 = {s}"), &|m| {
                    m.tensors[t].quantization.as_mut().unwrap().scale[0] = s
                });
            }
            for z in [-129, -128, 0, 127, 128, i64::MAX, i64::MIN] {
                push(format!("tensor {t} zero point 0 = {z}"), &|m| {
                    m.tensors[t].quantization.as_mut().unwrap().zero_point[0] = z
                });
            }
            for axis in -1..5 {
                push(format!("tensor {t} quantized_dimension {axis}"), &|m| {
                    m.tensors[t]
                        .quantization
                        .as_mut()
                        .unwrap()
                        .quantized_dimension = axis
                });
            }
            if q.scale.len() > 1 {
                push(format!("tensor {t} per-tensor"), &|m| {
                    let q = m.tensors[t].quantization.as_mut().unwrap();
                    q.scale.truncate(1);
                    q.zero_point.truncate(1);
                });
            }
        }
    }

    for (b, data) in base
        .buffers
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.is_empty())
    {
        push(format!("buffer {b} emptied"), &|m| m.buffers[b].clear());
        push(format!("buffer {b} one byte short"), &|m| {
            m.buffers[b].pop();
        });
        push(format!("buffer {b} one byte long"), &|m| {
            m.buffers[b].push(0)
        });
        if data.len() % 4 == 0 {
            for v in [i32::MAX, i32::MIN, -1] {
                push(format!("buffer {b} word 0 = {v}"), &|m| {
                    m.buffers[b][..4].copy_from_slice(&v.to_le_bytes())
                });
            }
        }
    }

    for (o, op) in base.operators.iter().enumerate() {
        for s in 0..op.inputs.len() {
            for v in -1..n_tensors {
                push(format!("op {o} input {s} = {v}"), &|m| {
                    m.operators[o].inputs[s] = v
                });
            }
            push(format!("op {o} drops input {s}"), &|m| {
                m.operators[o].inputs.remove(s);
            });
        }
        push(format!("op {o} gains an input"), &|m| {
            let first = m.operators[o].inputs[0];
            m.operators[o].inputs.push(first)
        });
        for v in -1..n_tensors {
            push(format!("op {o} output = {v}"), &|m| {
                m.operators[o].outputs[0] = v
            });
        }
        push(format!("op {o} has no output"), &|m| {
            m.operators[o].outputs.clear()
        });
        push(format!("op {o} has two outputs"), &|m| {
            let out = m.operators[o].outputs[0];
            m.operators[o].outputs.push(out)
        });
        push(format!("op {o} removed"), &|m| {
            m.operators.remove(o);
        });
        push(format!("op {o} duplicated"), &|m| {
            let op = m.operators[o].clone();
            m.operators.insert(o, op)
        });
        if o + 1 < base.operators.len() {
            push(format!("ops {o} and {} swapped", o + 1), &|m| {
                m.operators.swap(o, o + 1)
            });
        }
        push(format!("op {o} without options"), &|m| {
            m.operators[o].options = BuiltinOptions::None
        });
        for v in [1, 2, 3, 7, 1000, i32::MAX] {
            push(format!("op {o} geometry options = {v}"), &|m| {
                set_geometry(&mut m.operators[o].options, v)
            });
        }
        for act in [
            Activation::None,
            Activation::Relu,
            Activation::Relu6,
            Activation::ReluN1To1,
        ] {
            push(format!("op {o} activation {act:?}"), &|m| {
                set_activation(&mut m.operators[o].options, act)
            });
        }
        push(format!("op {o} padding flipped"), &|m| {
            flip_padding(&mut m.operators[o].options)
        });
        for v in [0, 2, 8, 1000] {
            push(
                format!("op {o} depth_multiplier/beta {v}"),
                &|m| match &mut m.operators[o].options {
                    BuiltinOptions::DepthwiseConv2d {
                        depth_multiplier, ..
                    } => *depth_multiplier = v,
                    BuiltinOptions::Softmax { beta } => *beta = v as f32,
                    _ => {}
                },
            );
        }
    }

    push("no graph inputs".into(), &|m| m.inputs.clear());
    push("no graph outputs".into(), &|m| m.outputs.clear());
    push("input duplicated".into(), &|m| {
        let i = m.inputs[0];
        m.inputs.push(i)
    });
    push("output duplicated".into(), &|m| {
        let o = m.outputs[0];
        m.outputs.push(o)
    });
    push("output is the input".into(), &|m| {
        m.outputs = m.inputs.clone()
    });
    push("input is the output".into(), &|m| {
        m.inputs = m.outputs.clone()
    });
    for t in 0..n_tensors {
        push(format!("graph input = {t}"), &|m| m.inputs = vec![t]);
        push(format!("graph output = {t}"), &|m| m.outputs = vec![t]);
        push(format!("extra graph output {t}"), &|m| m.outputs.push(t));
    }
    out
}

/// Sets every stride, dilation and window size of a geometry-carrying options table.
fn set_geometry(options: &mut BuiltinOptions, v: i32) {
    match options {
        BuiltinOptions::Conv2d {
            stride_w,
            stride_h,
            dilation_w,
            dilation_h,
            ..
        }
        | BuiltinOptions::DepthwiseConv2d {
            stride_w,
            stride_h,
            dilation_w,
            dilation_h,
            ..
        } => {
            *stride_w = v;
            *stride_h = v;
            *dilation_w = v;
            *dilation_h = v;
        }
        BuiltinOptions::Pool2d {
            stride_w,
            stride_h,
            filter_w,
            filter_h,
            ..
        } => {
            *stride_w = v;
            *stride_h = v;
            *filter_w = v;
            *filter_h = v;
        }
        _ => {}
    }
}

fn set_activation(options: &mut BuiltinOptions, act: Activation) {
    match options {
        BuiltinOptions::Conv2d { activation, .. }
        | BuiltinOptions::DepthwiseConv2d { activation, .. }
        | BuiltinOptions::FullyConnected { activation, .. }
        | BuiltinOptions::Pool2d { activation, .. }
        | BuiltinOptions::Add { activation } => *activation = act,
        _ => {}
    }
}

fn flip_padding(options: &mut BuiltinOptions) {
    match options {
        BuiltinOptions::Conv2d { padding, .. }
        | BuiltinOptions::DepthwiseConv2d { padding, .. }
        | BuiltinOptions::Pool2d { padding, .. } => {
            *padding = match padding {
                Padding::Same => Padding::Valid,
                Padding::Valid => Padding::Same,
            }
        }
        _ => {}
    }
}

/// Fixtures whose every field is corrupted in turn: together they use every operator kind of
/// the original op set, each fused activation, both paddings, per-channel and per-tensor
/// weights, float and int8 graph I/O. (Kept short: each costs about 0.2 s.)
const STRUCTURED_FIXTURES: &[&str] = &[
    "tiny_kws",
    "sine_mlp",
    "conv_rect_s2x1",
    "conv_valid_dilated",
    "dw_mult2",
    "fc_per_channel",
    "maxpool_same_s2_relu",
    "add_relu",
    "add_const",
    "reshape",
    "reshape_no_options",
    "softmax_rows",
    "requantize_i8",
    "ad_mini",
];

#[test]
fn structured_corruptions_never_panic() {
    let mut problems = Vec::new();
    let mut tally = Tally::default();
    let mut fuzzed = 0;
    for name in STRUCTURED_FIXTURES {
        let base = fixture_model(name);
        assert!(
            compile(&serialize(&base)).is_ok(),
            "{name} must compile unchanged"
        );
        fuzzed += 1;
        for (label, m) in mutations(&base) {
            let label = format!("{name}: {label}");
            let bytes = serialize(&m);
            tally.record(&label, &bytes, try_compile(&bytes), true, &mut problems);
        }
    }
    eprintln!("{fuzzed} fixtures: {tally:?}");
    assert_no_problems("structured corruptions", &problems);
    // The corruptions must reach every stage, or this test checks less than it claims.
    assert!(tally.read > 20 * fuzzed, "{tally:?}");
    assert!(tally.validate > 50 * fuzzed, "{tally:?}");
    assert!(tally.plan > 0, "{tally:?}");
    assert!(tally.compiled > 20 * fuzzed, "{tally:?}");
}

// ---- 3. unsupported operator ----------------------------------------------------------------

#[test]
fn unsupported_op_names_the_op_and_the_supported_ones() {
    let err = compile(&fixture_file("unsupported_op")).unwrap_err();
    let Error::Read(ReadError::UnsupportedOp {
        index,
        name,
        supported,
    }) = &err
    else {
        panic!("expected UnsupportedOp, got {err:?}");
    };
    assert_eq!((*index, name.as_str()), (1, "VAR_HANDLE"));
    assert!(supported.contains(&"FULLY_CONNECTED"), "{supported:?}");
    assert!(!supported.contains(&"VAR_HANDLE"), "{supported:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("operator 1 is VAR_HANDLE, which kiln does not support"),
        "{text}"
    );
    for op in [
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "FULLY_CONNECTED",
        "AVERAGE_POOL_2D",
        "SOFTMAX",
    ] {
        assert!(text.contains(op), "{op} not listed in: {text}");
    }
    // generate_crate reports the same error.
    match generate_crate(
        &fixture_file("unsupported_op"),
        "unsupported",
        "model.tflite",
    ) {
        Err(e) => assert_eq!(e, err),
        Ok(_) => panic!("generate_crate accepted VAR_HANDLE"),
    }
}

// ---- 4. validation errors (TFLM Prepare rules) ----------------------------------------------
//
// Each op's rules are tested beside it (`codegen/src/prepare/<op>.rs`); here only what spans
// the stages: graph-level errors through `compile` and its one-line `Display`.

/// tiny_kws: 0 CONV_2D, 1 DEPTHWISE_CONV_2D, 2 AVERAGE_POOL_2D, 3 RESHAPE, 4 FULLY_CONNECTED,
/// 5 SOFTMAX.
fn tiny_kws() -> Model {
    fixture_model("tiny_kws")
}

#[test]
fn graph_level_errors_have_no_operator() {
    let mut m = tiny_kws();
    let last = op_output(&m, 5);
    m.outputs = vec![last as i32, 0];
    // Tensor 0 is the graph input: both an input and an output.
    match compile(&serialize(&m)) {
        Err(Error::Plan(e)) => assert_eq!(
            Error::Plan(e).to_string(),
            "cannot plan memory: tensor 0 is both a graph input and a graph output"
        ),
        other => panic!("expected a plan error, got {:?}", other.err()),
    }

    let mut m = tiny_kws();
    m.operators.pop();
    m.outputs = vec![last as i32];
    match compile(&serialize(&m)) {
        Err(Error::Validate(e)) => {
            assert_eq!(e.op_index, None);
            assert_eq!(
                Error::Validate(e).to_string(),
                format!("invalid model: model: graph output tensor {last} is never written")
            );
        }
        other => panic!("expected a validation error, got {:?}", other.err()),
    }
}

// ---- 5. generate_crate ----------------------------------------------------------------------

#[test]
fn generate_crate_rejects_bad_crate_names() {
    let bytes = fixture_file("sine_mlp");
    for name in [
        "",
        "my crate",
        "../evil",
        "a/b",
        "crate\"name",
        "naïve",
        "x\ny",
        "1abc",
        "-x",
        "_",
    ] {
        let Err(e) = generate_crate(&bytes, name, "model.tflite") else {
            panic!("crate name {name:?} accepted");
        };
        assert!(
            matches!(e, Error::BadName(ref n) if n == name),
            "{name:?}: {e:?}"
        );
        let text = e.to_string();
        assert!(
            text.contains(&format!("{name:?}"))
                && text.contains("not a valid crate or module name"),
            "{name:?}: {text}"
        );
        check_message(&e).unwrap_or_else(|m| panic!("{name:?}: {m}"));
    }
    // The name is checked before the model is read: a bad name on a bad file reports the name.
    let e = generate_crate(b"junk", "bad name", "junk.tflite")
        .err()
        .unwrap();
    assert!(matches!(e, Error::BadName(_)), "{e}");
    // Good names pass.
    for name in ["sine", "sine_mlp", "_sine", "Sine2"] {
        let krate =
            generate_crate(&bytes, name, "model.tflite").unwrap_or_else(|e| panic!("{name}: {e}"));
        let cargo = krate
            .files
            .iter()
            .find(|(p, _)| p == "Cargo.toml")
            .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
            .unwrap();
        assert!(cargo.contains(&format!("name = \"{name}\"")), "{cargo}");
    }
}

// ---- former panics (regression tests) ------------------------------------------------------

/// A CONV_2D input with 0 channels once divided by zero while checking groups.
#[test]
fn conv_with_zero_input_channels_is_an_error() {
    let mut m = tiny_kws();
    let input = op_input(&m, 0, 0);
    m.tensors[input].shape[3] = 0;
    let bytes = serialize(&m);
    match try_compile(&bytes) {
        Outcome::Failed(Error::Validate(e)) => {
            assert_eq!((e.op_index, e.op_name), (Some(0), "CONV_2D"), "{e}");
            assert!(e.message.contains("channels"), "{e}");
        }
        Outcome::Failed(e) => panic!("expected a validation error, got {e:?}"),
        Outcome::Compiled(_) => panic!("a conv with 0 input channels compiled"),
        Outcome::Panicked(msg) => panic!("compile panicked: {msg}"),
    }
}

/// A non-finite scale on a graph input or output that no operator checks (RESHAPE copies
/// bytes) once reached the emitter, which panicked writing `INPUT_SCALE`.
#[test]
fn non_finite_io_scale_is_an_error() {
    for (fixture, tensor) in [("reshape", 0), ("quantize_f32", 0)] {
        let mut m = fixture_model(fixture);
        for s in [f32::NAN, f32::INFINITY] {
            m.tensors[tensor].quantization = Some(Quantization::per_tensor(s, 0));
            let bytes = serialize(&m);
            match catch_unwind(|| generate_crate(&bytes, "m", "m.tflite")) {
                Ok(Err(e)) => assert!(e.to_string().contains("scale"), "{fixture}: {e}"),
                Ok(Ok(_)) => panic!("{fixture}: scale {s} accepted"),
                Err(p) => panic!("{fixture}: scale {s}: panicked: {}", panic_text(&*p)),
            }
        }
    }
}
