//! kiln-codegen: the kiln compiler library.
//!
//! Data flow: model bytes → [`front::tflite`] or [`front::onnx`] → [`ir::Graph`] → [`prepare`] (TFLM's checks
//! and quantization math at compile time) → [`plan`] (tensor lifetimes, arena offsets) →
//! [`back::rust`] (a `no_std` crate). [`compile`] runs the first three stages;
//! [`generate_crate`] all of them. The CLI and the proc macro are thin shells over these.

pub mod back;
pub mod bands;
pub mod compiled;
pub mod exercise;
pub mod fit;
pub mod fold;
pub mod front;
pub mod inspect;
pub mod ir;
pub mod kernel_checks;
pub mod layer;
#[cfg(test)]
mod layering_tests;
pub mod limits;
pub mod names;
pub mod plan;
pub mod prepare;
pub mod runtime;
pub mod tune;

use std::fmt;

pub use back::rust::{EmitOptions, Placement, WeightStorage};
pub use compiled::Compiled;
pub use front::tflite::ReadError;
pub use plan::PlanError;
pub use prepare::ValidateError;

/// Any failure of the compiler, by stage.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The file is not a readable .tflite model, or uses something kiln does not support.
    Read(ReadError),
    /// The file is an ONNX model kiln cannot read, or uses something kiln does not support.
    ReadOnnx(front::onnx::ReadError),
    /// The model breaks a rule of one of its operators.
    Validate(ValidateError),
    /// The tensors cannot be placed in memory.
    Plan(PlanError),
    /// The generated tokens did not parse as a Rust file (a kiln bug), or a bad name.
    Emit(String),
    /// A crate or module name that is not a valid Rust/Cargo name.
    BadName(String),
    /// The `--target` name is not a known board or core.
    UnknownTarget(String),
    /// The model does not fit the target board.
    Fit(fit::FitError),
    /// A size the target's pointer width cannot express.
    Size(limits::SizeError),
    /// A link section name that is not one.
    BadSection(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read(e) => write!(f, "{e}"),
            Error::ReadOnnx(e) => write!(f, "{e}"),
            Error::Validate(e) => write!(f, "invalid model: {e}"),
            Error::Plan(e) => write!(f, "cannot plan memory: {e}"),
            Error::Emit(e) => write!(f, "cannot emit code: {e}"),
            Error::BadName(name) if names::is_reserved(name) => write!(
                f,
                "{name:?} is not a valid crate or module name: it is a Rust keyword or a built-in crate's name"
            ),
            Error::BadName(name) => write!(
                f,
                "{name:?} is not a valid crate or module name (use ASCII letters, digits and '_', starting with a letter or '_')"
            ),
            Error::UnknownTarget(name) => write!(
                f,
                "unknown target '{}' (boards and cores: {})",
                names::shown(name),
                kiln_targets::names().join(", ")
            ),
            Error::Size(e) => write!(f, "{e}"),
            Error::Fit(e) => write!(f, "{e}"),
            Error::BadSection(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for Error {}

impl From<ReadError> for Error {
    fn from(e: ReadError) -> Self {
        Error::Read(e)
    }
}

impl From<front::onnx::ReadError> for Error {
    fn from(e: front::onnx::ReadError) -> Self {
        Error::ReadOnnx(e)
    }
}

impl From<ValidateError> for Error {
    fn from(e: ValidateError) -> Self {
        Error::Validate(e)
    }
}

impl From<PlanError> for Error {
    fn from(e: PlanError) -> Self {
        Error::Plan(e)
    }
}

/// Reads a model into the IR: the file's contents decide the front-end (`TFL3` at bytes 4..8:
/// TFLite; else ONNX when [`front::onnx::is_onnx`] takes it; else the TFLite reader's error,
/// which says what was expected, with ONNX's decoding error added).
pub fn read_model(bytes: &[u8]) -> Result<ir::Graph, Error> {
    if bytes.get(4..8) == Some(b"TFL3") || !front::onnx::is_onnx(bytes) {
        return front::tflite::read(bytes).map_err(|e| match e {
            ReadError::NotTflite { reason } => {
                let onnx = match front::onnx::decode(bytes) {
                    Err(front::onnx::ReadError::Decode { message }) => message,
                    Err(e) => e.to_string(),
                    Ok(_) => "a protobuf without a graph".into(),
                };
                Error::Read(ReadError::NotTflite {
                    reason: format!("{reason}; nor is it an ONNX model ({onnx})"),
                })
            }
            e => Error::Read(e),
        });
    }
    Ok(front::onnx::read(bytes)?)
}

/// Reads (TFLite or ONNX, see [`read_model`]), validates, prepares and plans a model.
pub fn compile(tflite: &[u8]) -> Result<Compiled, Error> {
    let graph = fold::fold_constants(prepare::shape::fold_shapes(read_model(tflite)?));
    let layers = prepare::prepare(&graph)?;
    let plan = plan::plan(&graph, &layers)?;
    Ok(Compiled {
        graph,
        layers,
        plan,
        banding: None,
    })
}

impl Compiled {
    /// The generated crate root and its runtime (`src/lib.rs`, `src/rt.rs`), pretty-printed,
    /// plus its data files.
    pub fn emit_source(&self, opts: &EmitOptions) -> Result<EmittedSource, Error> {
        let emitted = back::rust::emit(self, opts).map_err(Error::Emit)?;
        let file: syn::File =
            syn::parse2(emitted.crate_root()).map_err(|e| Error::Emit(e.to_string()))?;
        Ok(EmittedSource {
            lib: back::rust::space_items(&prettyplease::unparse(&file)),
            runtime: back::rust::runtime_items::source(&emitted.runtime),
            data_files: emitted.data_files,
        })
    }
}

/// A generated crate's source files.
pub struct EmittedSource {
    /// `src/lib.rs`.
    pub lib: String,
    /// `src/rt.rs`: the runtime items the model uses.
    pub runtime: String,
    /// Files under `data/`.
    pub data_files: DataFiles,
}

/// Data files of a generated crate: (file name under `data/`, bytes).
pub type DataFiles = Vec<(String, Vec<u8>)>;

/// Accepts names that are both a Cargo package name and a Rust identifier (see
/// [`names::is_valid_crate_name`]: no keywords, no built-in crate names).
pub fn check_name(name: &str) -> Result<(), Error> {
    if names::is_valid_crate_name(name) {
        Ok(())
    } else {
        Err(Error::BadName(name.to_string()))
    }
}

/// Resolves a board or core name (before any model is read: a bad option is the option's
/// fault).
pub fn lookup_target(name: &str) -> Result<kiln_targets::Target, Error> {
    kiln_targets::lookup(name).ok_or_else(|| Error::UnknownTarget(name.to_string()))
}

/// What `kiln build` and `include_model!` take besides the model, its name and its target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Link sections of the weights and lookup tables.
    pub placement: Placement,
    /// Patch-based execution's budget ([`bands`]): at most this many per mille more MACs for
    /// a smaller arena; `Some(0)` turns it off. `None`: the target core's
    /// [`kiln_targets::Core::band_budget_per_mille`], and [`AUTO_BAND_BUDGET_PER_MILLE`] when a
    /// model does not fit its board otherwise.
    pub band_budget_per_mille: Option<u32>,
}

/// The band budget tried when a model does not fit its board's RAM as it is (see
/// [`BuildOptions::band_budget_per_mille`]).
pub const AUTO_BAND_BUDGET_PER_MILLE: u32 = 50;

/// Compiles `tflite` for `target` (a board or core name): reads, prepares and plans it, runs
/// its first layers band by band when `options` or the target ask for it (or when that makes it
/// fit its board), and checks it against the board.
fn compile_for(
    tflite: &[u8],
    target: Option<&str>,
    options: &BuildOptions,
) -> Result<(Compiled, Option<kiln_targets::Target>), Error> {
    let found = target.map(lookup_target).transpose()?;
    let compiled = compile(tflite)?;
    let budget = options
        .band_budget_per_mille
        .or(found.map(|t| t.core().band_budget_per_mille))
        .unwrap_or(0);
    let compiled = compiled.banded(budget);
    let Some(name) = target else {
        return Ok((compiled, None));
    };
    let explicit = options.band_budget_per_mille.is_some();
    let (compiled, target) = fit_or_band(compiled, explicit, |c| check_target(c, name))?;
    Ok((compiled, Some(target)))
}

/// `compiled` if `check` accepts it; else, when it does not fit (`Error::Fit`) and the user
/// chose no band budget (`explicit` false), the model with patch-based execution at
/// [`AUTO_BAND_BUDGET_PER_MILLE`] if `check` accepts that. The first error otherwise.
fn fit_or_band<T>(
    compiled: Compiled,
    explicit: bool,
    check: impl Fn(&Compiled) -> Result<T, Error>,
) -> Result<(Compiled, T), Error> {
    match check(&compiled) {
        Ok(t) => Ok((compiled, t)),
        Err(Error::Fit(too_big)) if !explicit => {
            let banded = compiled.banded(AUTO_BAND_BUDGET_PER_MILLE);
            match check(&banded) {
                Ok(t) if banded.banding.is_some() => Ok((banded, t)),
                _ => Err(Error::Fit(too_big)),
            }
        }
        Err(e) => Err(e),
    }
}

/// Resolves a board or core name; for a board, checks that `model` fits it.
pub fn check_target(model: &Compiled, name: &str) -> Result<kiln_targets::Target, Error> {
    let target = lookup_target(name)?;
    if let kiln_targets::Target::Board(board) = target {
        fit::check(model, board).map_err(Error::Fit)?;
    }
    Ok(target)
}

/// Checks every size the generated code holds against the pointer width of `target`'s core
/// (or [`limits::DEFAULT_POINTER_WIDTH`] without a target).
fn check_sizes(model: &Compiled, target: Option<kiln_targets::Target>) -> Result<(), Error> {
    let bits = target.map_or(limits::DEFAULT_POINTER_WIDTH, |t| t.core().pointer_width);
    limits::check(model, bits).map_err(Error::Size)
}

/// Compiles `tflite` into `pub mod NAME { .. }` tokens with weights as byte strings and the
/// runtime inlined (what `include_model!` expands to). `track` is the model file's absolute
/// path, included with `include_bytes!` so cargo rebuilds when it changes.
pub fn generate_module(
    tflite: &[u8],
    name: &str,
    source_name: &str,
    target: Option<&str>,
    track: Option<&str>,
) -> Result<proc_macro2::TokenStream, Error> {
    generate_module_with(
        tflite,
        name,
        source_name,
        target,
        track,
        &BuildOptions::default(),
    )
}

/// [`generate_module`] with `options`: the weights and lookup tables in the link sections
/// they name, patch-based execution's budget.
pub fn generate_module_with(
    tflite: &[u8],
    name: &str,
    source_name: &str,
    target: Option<&str>,
    track: Option<&str>,
    options: &BuildOptions,
) -> Result<proc_macro2::TokenStream, Error> {
    check_name(name)?;
    options.placement.check().map_err(Error::BadSection)?;
    let ident: syn::Ident = syn::parse_str(name).map_err(|_| Error::BadName(name.to_string()))?;
    let (compiled, target) = compile_for(tflite, target, options)?;
    check_sizes(&compiled, target)?;
    let opts = EmitOptions {
        weights: WeightStorage::Inline,
        source_name: source_name.to_string(),
        target,
        placement: options.placement.clone(),
    };
    let emitted = back::rust::emit(&compiled, &opts).map_err(Error::Emit)?;
    Ok(emitted.module(&ident, track))
}

/// The default crate/module name for a model file: its stem (or, for `model.tflite`, its
/// folder's name), lowercased, with `_` for anything not ASCII alphanumeric, and prefixed
/// with `model_` when it would not start with a letter or would be a keyword (`fn.tflite` →
/// `model_fn`).
pub fn default_name(path: &std::path::Path) -> String {
    let mut stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    if stem == "model" {
        if let Some(dir) = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
        {
            stem = dir;
        }
    }
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) || names::is_reserved(&name) {
        name.insert_str(0, "model_");
    }
    name
}

/// A generated crate: relative paths and contents.
pub struct GeneratedCrate {
    /// Files to write, relative to the crate directory.
    pub files: Vec<(String, Vec<u8>)>,
    /// The compiled model the crate was made from (for summaries).
    pub compiled: Compiled,
}

/// Compiles `tflite` into a standalone crate named `name` with portable kernels; see
/// [`build_crate`].
pub fn generate_crate(
    tflite: &[u8],
    name: &str,
    source_name: &str,
) -> Result<GeneratedCrate, Error> {
    build_crate(tflite, name, source_name, None)
}

/// Compiles `tflite` into a standalone crate named `name` (`Cargo.toml`, `src/lib.rs`,
/// `src/rt.rs`, `data/*.bin`, `README.md`), tuned for `target` (a board or core name; a
/// board's flash and RAM are checked).
pub fn build_crate(
    tflite: &[u8],
    name: &str,
    source_name: &str,
    target: Option<&str>,
) -> Result<GeneratedCrate, Error> {
    build_crate_with(tflite, name, source_name, target, &BuildOptions::default())
}

/// [`build_crate`] with `options`: link sections for the weights and tables, patch-based execution.
pub fn build_crate_with(
    tflite: &[u8],
    name: &str,
    source_name: &str,
    target: Option<&str>,
    options: &BuildOptions,
) -> Result<GeneratedCrate, Error> {
    check_name(name)?;
    options.placement.check().map_err(Error::BadSection)?;
    let (compiled, target) = compile_for(tflite, target, options)?;
    check_sizes(&compiled, target)?;
    let opts = EmitOptions {
        weights: WeightStorage::Files,
        source_name: source_name.to_string(),
        target,
        placement: options.placement.clone(),
    };
    let EmittedSource {
        lib,
        runtime,
        data_files: data,
    } = compiled.emit_source(&opts)?;
    // The file name is shown like a model-derived name, then escaped for a TOML string.
    let source_name = names::shown(source_name);
    let toml_source = source_name.replace('\\', "\\\\").replace('"', "\\\"");
    let cargo_toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
         description = \"Inference for {toml_source}, generated by kiln\"\npublish = false\n\n[dependencies]\n"
    );
    let tuned = match &opts.target {
        Some(t) => format!(" for `{}`", t.name()),
        None => " as portable code".to_string(),
    };
    let readme = format!(
        "# {name}\n\nInference for `{source_name}`, generated by kiln {}{tuned}. `no_std`, no allocation, \
         no dependencies; no `unsafe` outside `src/rt.rs`'s `asm!` blocks (Arm instructions, used only \
         by code tuned for an Arm core, each with a portable twin).\n\n```rust\nlet mut model = {}::Model::new();\nlet output = model.predict(&input);\n```\n\n\
         ## Layers\n\n{}\n## Memory\n\n{}\nWeights in flash: {} bytes. MACs per inference: {}.\n",
        env!("CARGO_PKG_VERSION"),
        name.replace('-', "_"),
        compiled.layer_table(),
        compiled.plan_table(),
        compiled.weight_bytes(),
        compiled.macs()
    );
    let mut files = vec![
        ("Cargo.toml".to_string(), cargo_toml.into_bytes()),
        ("README.md".to_string(), readme.into_bytes()),
        ("src/lib.rs".to_string(), lib.into_bytes()),
        ("src/rt.rs".to_string(), runtime.into_bytes()),
    ];
    for (file, bytes) in data {
        files.push((format!("data/{file}"), bytes));
    }
    Ok(GeneratedCrate { files, compiled })
}

#[cfg(test)]
mod fit_tests {
    use kiln_fixtures::writer::serialize;
    use kiln_targets::{Board, CORTEX_M4F};

    use crate::fit::{check, Footprint};

    #[test]
    fn the_stack_of_predict_counts_against_ram() {
        let fixture = kiln_fixtures::models::find("tiny_kws").expect("fixture tiny_kws");
        let model = crate::compile(&serialize(fixture.graph().model())).unwrap();
        let probe = Board {
            name: "probe",
            description: "a board exactly as large as the model",
            core: &CORTEX_M4F,
            flash_bytes: 1 << 30,
            ram_bytes: 1 << 30,
        };
        let footprint = Footprint::of(&model, &probe);
        assert_eq!(footprint.stack_bytes, CORTEX_M4F.stack_bytes);
        assert_eq!(
            footprint.ram(),
            footprint.arena_bytes
                + footprint.io_bytes
                + footprint.scratch_bytes
                + CORTEX_M4F.stack_bytes
        );
        let exact: &'static Board = Box::leak(Box::new(Board {
            ram_bytes: footprint.ram(),
            ..probe
        }));
        assert!(check(&model, exact).is_ok());
        let short: &'static Board = Box::leak(Box::new(Board {
            ram_bytes: footprint.ram() - 1,
            ..probe
        }));
        let err = check(&model, short).unwrap_err().to_string();
        assert!(
            err.contains(&format!("+ stack {})", CORTEX_M4F.stack_bytes)),
            "{err}"
        );
    }
}

#[cfg(test)]
mod fit_or_band_tests {
    use kiln_fixtures::graph::{Conv, DwConv, Fc, Graph, Pool, ReshapeStyle};
    use kiln_fixtures::writer::Activation::Relu6;

    use crate::{compile, fit, fit_or_band, Error};

    /// A Cortex-M4 board with RAM for the stem below only when it runs band by band (about
    /// 17.6 KB then, 24.7 KB whole, 3.4 KB of either the stride-2 depthwise layer's row ring).
    static TIGHT: kiln_targets::Board = kiln_targets::Board {
        name: "tight",
        description: "test board",
        core: &kiln_targets::CORTEX_M4F,
        flash_bytes: 1 << 20,
        ram_bytes: 20_000,
    };

    #[test]
    fn a_model_too_big_for_its_board_is_retried_band_by_band() {
        // A person_detect-like stem over 64×64: banding it costs little.
        let mut g = Graph::new("stem");
        let x = g.input_i8(&[1, 64, 64, 1], 0.02, -5);
        let x = g.conv2d(x, Conv::new(8, 3, 3).stride(2, 2).same().act(Relu6));
        let x = g.depthwise_conv2d(x, DwConv::new(3, 3).same().act(Relu6));
        let x = g.conv2d(x, Conv::new(16, 1, 1).act(Relu6));
        let x = g.depthwise_conv2d(x, DwConv::new(3, 3).stride(2, 2).same().act(Relu6));
        let x = g.conv2d(x, Conv::new(8, 1, 1).act(Relu6));
        let [_, h, w, c] = g.shape(x).try_into().unwrap();
        let x = g.avg_pool(x, Pool::new(h, w).stride(h, w));
        let x = g.reshape(x, &[1, c], ReshapeStyle::ShapeTensorAndOptions);
        let y = g.fully_connected(x, Fc::new(2));
        g.output(y);
        let compiled = compile(&g.finish()).unwrap();
        let check = |c: &crate::Compiled| fit::check(c, &TIGHT).map_err(Error::Fit);
        assert!(
            check(&compiled).is_err(),
            "the fixture must not fit as it is"
        );
        let (fitted, _) = fit_or_band(compiled.clone(), false, check).expect("fits banded");
        assert!(fitted.banding.is_some());
        assert!(fitted.plan.arena_bytes < compiled.plan.arena_bytes);
        // A budget the user chose is kept: no retry.
        assert!(matches!(
            fit_or_band(compiled.clone(), true, check),
            Err(Error::Fit(_))
        ));
        // Other errors pass through untouched.
        let other = fit_or_band(compiled, false, |_| -> Result<(), Error> {
            Err(Error::UnknownTarget("x".into()))
        });
        assert!(matches!(other, Err(Error::UnknownTarget(_))));
    }
}

#[cfg(test)]
mod placement_tests {
    use kiln_fixtures::writer::serialize;

    use crate::{build_crate_with, BuildOptions, Error, Placement};

    /// Options with `placement` only.
    fn placed(placement: Placement) -> BuildOptions {
        BuildOptions {
            placement,
            ..BuildOptions::default()
        }
    }

    #[test]
    fn weights_and_tables_go_to_their_sections() {
        let fixture = kiln_fixtures::models::find("fc_tanh").expect("fixture fc_tanh");
        let bytes = serialize(fixture.graph().model());
        let placement = Placement {
            weights: Some(".qspi_weights".into()),
            tables: Some(".qspi_tables".into()),
        };
        let krate =
            build_crate_with(&bytes, "placed", "model.tflite", None, &placed(placement)).unwrap();
        let lib = krate
            .files
            .iter()
            .find(|(p, _)| p == "src/lib.rs")
            .map(|(_, b)| String::from_utf8_lossy(b).to_string())
            .unwrap();
        let table = lib.find("static L01_TABLE").expect("a lookup table");
        let before = &lib[..table];
        assert!(
            before.ends_with("#[unsafe(link_section = \".qspi_tables\")]\n"),
            "{}",
            &before[before.len().saturating_sub(200)..]
        );
        let filter = lib.find("static L00_FILTER").expect("weights");
        assert!(lib[..filter].ends_with("#[unsafe(link_section = \".qspi_weights\")]\n"));
        // Without a placement, no section attribute at all.
        let plain = build_crate_with(
            &bytes,
            "plain",
            "model.tflite",
            None,
            &BuildOptions::default(),
        )
        .unwrap();
        assert!(plain
            .files
            .iter()
            .all(|(_, b)| !String::from_utf8_lossy(b).contains("link_section")));
    }

    #[test]
    fn bad_section_names_are_errors() {
        let fixture = kiln_fixtures::models::find("fc_tanh").expect("fixture fc_tanh");
        let bytes = serialize(fixture.graph().model());
        for bad in ["", "has space", "quote\"", &"x".repeat(65)] {
            let placement = Placement {
                weights: Some(bad.to_string()),
                tables: None,
            };
            match build_crate_with(&bytes, "placed", "model.tflite", None, &placed(placement)) {
                Err(Error::BadSection(e)) => assert!(e.contains("is not a section name"), "{e}"),
                other => panic!("{bad:?}: {:?}", other.err()),
            }
        }
    }
}

#[cfg(test)]
mod fold_fixture_tests {
    /// The `fold_constants` fixture (made by `fixtures/make.sh`): its four constant
    /// operators fold, the three others stay layers.
    #[test]
    fn the_fold_constants_fixture_keeps_three_layers() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/models/fold_constants/model.tflite"
        );
        let bytes = std::fs::read(path).expect("the fixture exists");
        let compiled = crate::compile(&bytes).expect("compiles");
        assert_eq!(compiled.graph.folded, vec![0, 2, 4, 5]);
        let ops: Vec<(usize, &str)> = compiled
            .layers
            .iter()
            .map(|l| (l.index, l.op_name))
            .collect();
        assert_eq!(ops, vec![(1, "FULLY_CONNECTED"), (3, "MUL"), (6, "ADD")]);
        assert!(compiled
            .layer_table()
            .contains("operators 0 (DEQUANTIZE), 2 (RSQRT)"));
    }
}
