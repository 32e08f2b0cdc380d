//! The peer `microflow` 0.1.3 (a proc-macro model compiler: `#[microflow::model("x.tflite")]`
//! on a struct generates `predict_quantized(input) -> dequantized f32 output`). Shared by
//! `kiln-bench mcu --peer microflow` and, through `#[path]`, the host benchmark's build.rs:
//! which models its macro accepts, and the Rust expressions that convert the golden tensors to
//! and from its nalgebra buffers.

use kiln_codegen::ir::{DType, Graph};

/// Operators microflow 0.1.3's `#[model]` parses; any other aborts the macro with
/// "unsupported operator: X".
pub const OPS: &[&str] = &[
    "FULLY_CONNECTED",
    "DEPTHWISE_CONV_2D",
    "CONV_2D",
    "AVERAGE_POOL_2D",
    "SOFTMAX",
    "RESHAPE",
];

/// What the generated code needs to know about a model microflow accepts.
pub struct Io {
    /// Rust element type of the input (`i8` or `u8`).
    pub input_elem: &'static str,
    /// Input and output shapes as microflow types them (rank 1 becomes `[1, n]`).
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    /// Output quantization, to requantize microflow's dequantized output.
    pub output_scale: f32,
    pub output_zero_point: i64,
}

/// `Ok` when microflow's macro accepts the model, else the reason it rejects it (as its own
/// error says: an unsupported operator, or `not implemented` for float or rank-3 I/O).
pub fn support(g: &Graph) -> Result<Io, String> {
    if let Some(op) = g.ops.iter().find(|op| !OPS.contains(&op.name)) {
        return Err(format!("unsupported operator: {}", op.name));
    }
    if g.inputs.is_empty() || g.outputs.is_empty() {
        return Err("no input or output".to_string());
    }
    let (input, output) = (&g.tensors[g.inputs[0]], &g.tensors[g.outputs[0]]);
    for (what, t) in [("input", input), ("output", output)] {
        if !matches!(t.dtype, DType::I8 | DType::U8) {
            return Err(format!(
                "{} {what}: its macro panics `not implemented` (int8/uint8 I/O only)",
                t.dtype
            ));
        }
        if ![1, 2, 4].contains(&t.shape.len()) {
            return Err(format!(
                "rank-{} {what}: its macro panics `not implemented` (rank 1, 2 or 4 only)",
                t.shape.len()
            ));
        }
    }
    if output.dtype != DType::I8 {
        return Err("uint8 output: kiln-bench compares int8 outputs only".to_string());
    }
    let q = output
        .quant
        .as_ref()
        .ok_or_else(|| "unquantized output".to_string())?;
    let shape = |s: &[usize]| {
        if s.len() == 1 {
            vec![1, s[0]]
        } else {
            s.to_vec()
        }
    };
    Ok(Io {
        input_elem: input.dtype.rust_name(),
        input_shape: shape(&input.shape),
        output_shape: shape(&output.shape),
        output_scale: q.scales[0],
        output_zero_point: q.zero_points[0],
    })
}

impl Io {
    /// Elements of the output.
    pub fn output_len(&self) -> usize {
        self.output_shape.iter().product()
    }

    /// Elements of the input.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// microflow's input buffer type (`Buffer2D<T, R, C>` or `Buffer4D<T, B, H, W, C>`).
    pub fn input_type(&self) -> String {
        buffer_type(self.input_elem, &self.input_shape)
    }

    /// microflow's (dequantized) output buffer type.
    pub fn output_type(&self) -> String {
        buffer_type("f32", &self.output_shape)
    }

    /// An expression building microflow's input buffer (`Buffer2D` = nalgebra matrix, or
    /// `Buffer4D` = array of matrices of channel arrays) from `src`, an indexable expression of
    /// the input elements in row-major (NHWC) order. `core` only.
    pub fn input_expr(&self, src: &str) -> String {
        let elem = self.input_elem;
        match self.input_shape[..] {
            [r, c] => format!(
                "microflow::buffer::Buffer2D::<{elem}, {r}, {c}>::from_fn(|i, j| {src}[i * {c} + j])"
            ),
            [b, h, w, c] => format!(
                "core::array::from_fn::<_, {b}, _>(|n| \
                 microflow::buffer::Buffer2D::<[{elem}; {c}], {h}, {w}>::from_fn(|i, j| \
                 core::array::from_fn(|ch| {src}[((n * {h} + i) * {w} + j) * {c} + ch])))"
            ),
            _ => unreachable!("support() checked the rank"),
        }
    }

    /// An expression for the `k`-th output element (row-major) of microflow's output buffer
    /// `y` (an f32).
    pub fn output_at(&self, y: &str, k: &str) -> String {
        match self.output_shape[..] {
            [_, c] => format!("{y}[({k} / {c}, {k} % {c})]"),
            [_, h, w, c] => format!(
                "{y}[{k} / ({h} * {w} * {c})][({k} / ({w} * {c}) % {h}, {k} / {c} % {w})][{k} % {c}]"
            ),
            _ => unreachable!("support() checked the rank"),
        }
    }
}

fn buffer_type(elem: &str, shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!(
        "microflow::buffer::Buffer{}D<{elem}, {}>",
        shape.len(),
        dims.join(", ")
    )
}
