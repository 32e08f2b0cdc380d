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
    check_readme_block(
        BEGIN,
        END,
        &format!("{}\n", ops.join(", ")),
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

/// README.md's op × element-type table: a mark for each type an op has a committed fixture of
/// (kiln's own fixtures, the TFLite converter's and the trained model), all of which the golden
/// test checks against TFLM byte for byte; then TFLM's operators kiln does not have. Fails when
/// the table is stale (`KILN_UPDATE_README=1` rewrites it) or a supported op has no fixture.
#[test]
fn readme_op_table_is_the_tested_element_types() {
    use kiln_codegen::ir::DType;
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
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for case in &cases {
        let bytes = std::fs::read(&case.model).unwrap();
        let Ok(model) = kiln_codegen::compile(&bytes) else {
            continue; // the error fixtures
        };
        // An op's element types are those of its activations; an LSTM's int16 cell state
        // (a variable tensor) is part of its int8 form.
        let variables = model.graph.variables.clone();
        let mut mark = |op: &'static str, tensors: &mut dyn Iterator<Item = usize>| {
            let types = seen.entry(op).or_default();
            for t in tensors.filter(|t| !variables.contains(t)) {
                match model.graph.tensors[t].dtype {
                    DType::I8 => types.insert("int8"),
                    DType::I16 => types.insert("int16x8"),
                    DType::F32 => types.insert("float32"),
                    DType::Bool => types.insert("bool"),
                    _ => false,
                };
            }
        };
        for layer in &model.layers {
            mark(
                layer.op_name,
                &mut layer.inputs.iter().copied().chain([layer.output]),
            );
        }
        // Operators folded at compile time (SHAPE) run as no layer: their input types count.
        for op in &model.graph.ops {
            if op
                .outputs
                .iter()
                .all(|&t| model.graph.tensors[t].is_const())
            {
                mark(op.name, &mut op.inputs.iter().flatten().copied());
            }
        }
    }
    let supported = kiln_codegen::front::tflite::SUPPORTED_OPS;
    let untested: Vec<&&str> = supported
        .iter()
        .filter(|op| !seen.contains_key(**op))
        .collect();
    assert!(
        untested.is_empty(),
        "supported ops without a fixture: {untested:?}"
    );
    let mut want =
        String::from("| op | int8 | int16x8 | float32 | bool |\n|---|:-:|:-:|:-:|:-:|\n");
    let mut ops = supported.to_vec();
    ops.sort_unstable();
    for op in ops {
        let mark = |t: &str| if seen[op].contains(t) { "✓" } else { "" };
        want.push_str(&format!(
            "| {op} | {} | {} | {} | {} |\n",
            mark("int8"),
            mark("int16x8"),
            mark("float32"),
            mark("bool")
        ));
    }
    let missing: Vec<&str> = TFLM_OPS
        .iter()
        .copied()
        .filter(|op| !supported.contains(op))
        .collect();
    let (control, other): (Vec<&str>, Vec<&str>) =
        missing.iter().partition(|op| CONTROL_FLOW.contains(op));
    want.push_str(&format!(
        "\nTFLM operators kiln does not have yet ({}): {}.\nControl flow and resource variables, not planned yet: {}.\n",
        other.len(),
        other.join(", "),
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
