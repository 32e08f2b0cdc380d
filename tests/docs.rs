//! README.md's operator lists are generated: the supported-op list from the front-end's op
//! table (the table that dispatches the parsers and that errors print), and the op ×
//! element-type table from that table and the committed fixtures. Each test fails when its
//! block is stale; `KILN_UPDATE_README=1` rewrites it.

use kiln_e2e::repo_root;

const BEGIN: &str = "<!-- ops:begin -->\n";
const END: &str = "<!-- ops:end -->";

#[test]
fn readme_lists_the_ops_of_the_op_table() {
    let mut ops = kiln_codegen::front::tflite::SUPPORTED_OPS.to_vec();
    ops.sort_unstable();
    let mut custom = kiln_codegen::front::tflite::ops::SUPPORTED_CUSTOM.to_vec();
    custom.sort_unstable();
    check_readme_block(
        BEGIN,
        END,
        &format!(
            "{}\n\nCustom operators (TFLM's signal library, the audio front-end): {}\n",
            ops.join(", "),
            custom.join(", ")
        ),
        "supported-op list",
    );
}

const TABLE_BEGIN: &str = "<!-- op-table:begin -->\n";
const TABLE_END: &str = "<!-- op-table:end -->";

/// The builtin operators TFLite Micro's `MicroMutableOpResolver` can register (its `Add*`
/// methods, custom signal ops aside), as of its 2025 sources.
const TFLM_OPS: &[&str] = &[
    "ABS",
    "ADD",
    "ADD_N",
    "ARG_MAX",
    "ARG_MIN",
    "ASSIGN_VARIABLE",
    "AVERAGE_POOL_2D",
    "BATCH_MATMUL",
    "BATCH_TO_SPACE_ND",
    "BROADCAST_ARGS",
    "BROADCAST_TO",
    "CALL_ONCE",
    "CAST",
    "CEIL",
    "CONCATENATION",
    "CONV_2D",
    "COS",
    "CUMSUM",
    "DEPTH_TO_SPACE",
    "DEPTHWISE_CONV_2D",
    "DEQUANTIZE",
    "DIV",
    "ELU",
    "EMBEDDING_LOOKUP",
    "EQUAL",
    "EXP",
    "EXPAND_DIMS",
    "FILL",
    "FLOOR",
    "FLOOR_DIV",
    "FLOOR_MOD",
    "FULLY_CONNECTED",
    "GATHER",
    "GATHER_ND",
    "GREATER",
    "GREATER_EQUAL",
    "HARD_SWISH",
    "IF",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LEAKY_RELU",
    "LESS",
    "LESS_EQUAL",
    "LOG",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "LOGICAL_OR",
    "LOGISTIC",
    "LOG_SOFTMAX",
    "MAXIMUM",
    "MAX_POOL_2D",
    "MEAN",
    "MINIMUM",
    "MIRROR_PAD",
    "MUL",
    "NEG",
    "NOT_EQUAL",
    "PACK",
    "PAD",
    "PADV2",
    "PRELU",
    "QUANTIZE",
    "READ_VARIABLE",
    "REDUCE_MAX",
    "REDUCE_MIN",
    "RELU",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR",
    "REVERSE_V2",
    "ROUND",
    "RSQRT",
    "SELECT_V2",
    "SHAPE",
    "SIN",
    "SLICE",
    "SOFTMAX",
    "SPACE_TO_BATCH_ND",
    "SPACE_TO_DEPTH",
    "SPLIT",
    "SPLIT_V",
    "SQRT",
    "SQUARE",
    "SQUARED_DIFFERENCE",
    "SQUEEZE",
    "STRIDED_SLICE",
    "SUB",
    "SUM",
    "SVDF",
    "TANH",
    "TRANSPOSE",
    "TRANSPOSE_CONV",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "UNPACK",
    "VAR_HANDLE",
    "WHILE",
    "ZEROS_LIKE",
];

/// Control flow and resource variables: kiln's op table may leave these out for now.
const CONTROL_FLOW: &[&str] = &[
    "CALL_ONCE",
    "IF",
    "WHILE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
];

/// The op × element-type marks the real models prove (their goldens and streams pass the
/// golden test, which runs them when `KILN_REAL_MODELS=1`, as CI does): the model, then
/// `(operator, column)` pairs. Checked against the model itself whenever the real models are
/// there, so the list cannot claim more than the model shows.
const REAL_MODEL_MARKS: &[(&str, &[(&str, &str)])] = &[(
    "audio_preprocessor_int8",
    &[
        ("ADD", "int32"),
        ("CAST", "int16"),
        ("CAST", "int32"),
        ("CAST", "int8"),
        ("CAST", "uint32"),
        ("CONCATENATION", "int32"),
        ("DIV", "int32"),
        ("MAXIMUM", "int32"),
        ("MINIMUM", "int32"),
        ("MUL", "int32"),
        ("RESHAPE", "int16"),
        ("STRIDED_SLICE", "int32"),
        ("SignalEnergy", "int16"),
        ("SignalFftAutoScale", "int16"),
        ("SignalFilterBank", "uint32"),
        ("SignalFilterBankLog", "uint32"),
        ("SignalFilterBankSpectralSubtraction", "uint32"),
        ("SignalFilterBankSquareRoot", "uint64"),
        ("SignalPCAN", "uint32"),
        ("SignalRfft", "int16"),
        ("SignalWindow", "int16"),
    ],
)];

/// The columns of the op tables: the quantized forms, then unquantized integers.
const COLUMNS: [&str; 4] = ["int8", "int16x8", "float32", "bool"];

/// The marks a compiled model shows: per operator, its quantized forms (`int8`, `int16x8`,
/// `float32`: any tensor it reads or writes of that type; an LSTM's int16 cell state, a
/// variable tensor, is part of its int8 form) and, when its first input (its output, when it
/// reads no tensor) is an unquantized integer, that type's name.
fn marks(model: &kiln_codegen::compiled::Compiled) -> Vec<(String, String)> {
    use kiln_codegen::ir::DType;
    let mut out = Vec::new();
    for layer in &model.layers {
        let activations = layer.inputs.iter().chain([&layer.output]);
        for &t in activations.filter(|t| !model.graph.variables.contains(t)) {
            let tensor = &model.graph.tensors[t];
            let column = match tensor.dtype {
                DType::I8 => "int8",
                DType::I16 if tensor.quant.is_some() => "int16x8",
                DType::F32 => "float32",
                DType::Bool => "bool",
                _ => continue,
            };
            out.push((layer.op_name.to_string(), column.to_string()));
        }
        let first = layer.inputs.first().unwrap_or(&layer.output);
        let tensor = &model.graph.tensors[*first];
        let plain = match tensor.dtype {
            DType::I16 => tensor.quant.is_none(),
            DType::I32 | DType::U32 | DType::U64 | DType::I64 => true,
            _ => false,
        };
        if plain {
            out.push((layer.op_name.to_string(), tensor.dtype.to_string()));
        }
    }
    // Operators folded at compile time (SHAPE, BROADCAST_ARGS) run as no layer: their input
    // types count.
    for op in &model.graph.ops {
        if op
            .outputs
            .iter()
            .all(|&t| model.graph.tensors[t].is_const())
        {
            for &t in op.inputs.iter().flatten() {
                let column = match model.graph.tensors[t].dtype {
                    DType::I8 => "int8",
                    DType::F32 => "float32",
                    DType::I32 => "int32",
                    _ => continue,
                };
                out.push((op.name.to_string(), column.to_string()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// README.md's op × element-type tables (builtin operators, then the custom ones): a mark for
/// each form an op has a committed fixture of (kiln's own fixtures, the TFLite converter's and
/// the trained model) or a real model proves ([`REAL_MODEL_MARKS`]), all of which the golden
/// test checks against TFLM byte for byte; then TFLM's operators kiln does not have. Fails when
/// the table is stale (`KILN_UPDATE_README=1` rewrites it) or a supported op has no proof.
#[test]
fn readme_op_table_is_the_tested_element_types() {
    use std::collections::{BTreeMap, BTreeSet};

    let root = repo_root();
    let mut cases = kiln_e2e::fixture_cases(&[]);
    cases.extend(kiln_e2e::cases_in(
        &root.join("fixtures/converter/models"),
        "cv_",
        &[],
    ));
    cases.extend(kiln_e2e::cases_in(
        &root.join("fixtures/trained"),
        "tr_",
        &[],
    ));
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for case in &cases {
        let bytes = std::fs::read(&case.model).unwrap();
        let Ok(model) = kiln_codegen::compile(&bytes) else {
            continue; // the error fixtures
        };
        for (op, column) in marks(&model) {
            seen.entry(op).or_default().insert(column);
        }
    }
    let real = kiln_e2e::real_models(&[]);
    for (name, declared) in REAL_MODEL_MARKS {
        if let Some(case) = real.iter().flatten().find(|c| c.name == *name) {
            let bytes = std::fs::read(&case.model).unwrap();
            let model = kiln_codegen::compile(&bytes).unwrap();
            let shown = marks(&model);
            let declared: Vec<(String, String)> = declared
                .iter()
                .map(|(op, c)| (op.to_string(), c.to_string()))
                .collect();
            assert_eq!(
                declared, shown,
                "{name}: REAL_MODEL_MARKS is not what it shows"
            );
        }
        for (op, column) in declared.iter() {
            seen.entry(op.to_string())
                .or_default()
                .insert(column.to_string());
        }
    }
    let table = |ops: &[&str]| {
        let mut ops = ops.to_vec();
        ops.sort_unstable();
        let mut out = String::new();
        for op in ops {
            let marks = &seen[op];
            let cells: Vec<&str> = COLUMNS
                .iter()
                .map(|c| if marks.contains(*c) { "✓" } else { "" })
                .collect();
            let plain: Vec<&str> = marks
                .iter()
                .map(String::as_str)
                .filter(|m| !COLUMNS.contains(m))
                .collect();
            out.push_str(&format!(
                "| {op} | {} | {} |\n",
                cells.join(" | "),
                plain.join(", ")
            ));
        }
        out
    };
    let supported = kiln_codegen::front::tflite::SUPPORTED_OPS;
    let custom = kiln_codegen::front::tflite::ops::SUPPORTED_CUSTOM;
    let untested: Vec<&&str> = supported
        .iter()
        .chain(custom)
        .filter(|op| !seen.contains_key(**op))
        .collect();
    assert!(
        untested.is_empty(),
        "supported ops without a fixture: {untested:?}"
    );
    let header = |what: &str| {
        format!(
            "| {what} | int8 | int16x8 | float32 | bool | unquantized integers |\n|---|:-:|:-:|:-:|:-:|:-:|\n"
        )
    };
    let mut want = header("op");
    want.push_str(&table(supported));
    want.push('\n');
    want.push_str(&header("custom op"));
    want.push_str(&table(custom));
    let missing: Vec<&str> = TFLM_OPS
        .iter()
        .copied()
        .filter(|op| !supported.contains(op))
        .collect();
    let (control, other): (Vec<&str>, Vec<&str>) =
        missing.iter().partition(|op| CONTROL_FLOW.contains(op));
    let lacking = if other.is_empty() {
        "kiln has every other TFLM operator.".to_string()
    } else {
        format!(
            "TFLM operators kiln does not have yet ({}): {}.",
            other.len(),
            other.join(", ")
        )
    };
    want.push_str(&format!(
        "\n{lacking}\nControl flow and resource variables, not planned yet: {}.\n",
        control.join(", ")
    ));
    check_readme_block(TABLE_BEGIN, TABLE_END, &want, "op table");
}

/// Fails unless README.md holds `want` between the markers `begin` and `end`; with
/// `KILN_UPDATE_README=1` writes it there instead.
fn check_readme_block(begin: &str, end: &str, want: &str, what: &str) {
    let path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(begin)
        .unwrap_or_else(|| panic!("README.md has no {begin:?} marker"))
        + begin.len();
    let stop = start
        + readme[start..]
            .find(end)
            .unwrap_or_else(|| panic!("README.md has no {end:?} marker"));
    if readme[start..stop] == *want {
        return;
    }
    if std::env::var("KILN_UPDATE_README").as_deref() == Ok("1") {
        let updated = format!("{}{want}{}", &readme[..start], &readme[stop..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "README.md's {what} is stale; run KILN_UPDATE_README=1 cargo test -p kiln-e2e --test docs\nREADME:\n{}\nwant:\n{want}",
        &readme[start..stop]
    );
}
