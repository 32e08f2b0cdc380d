//! `kiln-bench mcu`: for each (model, board), generate the model's crate for the board's kiln
//! target, build it into the measurement firmware with `../shared/tools/mcu/build.sh`, run it in
//! QEMU with `run.sh`, and collect instructions, sizes and the on-target golden check.
//!
//! Work directory (default `target/kiln-bench/`, reused between runs so builds are
//! incremental):
//! - `fw/<board>/`: one firmware crate per board (a copy of the template; `src/main.rs`,
//!   `Cargo.toml` and `golden/` are rewritten per model), so `core` and the runtime crates are
//!   compiled once per board; cargo's output is in `fw/<board>/target/<board>/`.
//! - `models/<kiln target>/<model>/`: the generated crates (files rewritten only when changed).
//! - `elf/<board>/<model>.{elf,key}`: built firmware and a hash of everything it was built from;
//!   an unchanged (model, board) is not rebuilt.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Instant;

use crate::firmware::{self, Firmware, Variant};

/// QEMU boards measured, in table order, with the kiln target (core or board profile) each one
/// is compiled for. `microbit` is the board profile (256 KiB flash, 16 KiB RAM): the fit check
/// applies.
pub const BOARDS: &[(&str, &str)] = &[
    ("mps2-an386", "cortex-m4f"),
    ("mps2-an500", "cortex-m7"),
    ("mps2-an505", "cortex-m33"),
    ("microbit", "microbit"),
    ("riscv32-virt", "riscv32imc"),
];

/// What to run.
pub struct Options {
    /// Model folder names under `<shared>/models`; empty = every int8 model there.
    pub models: Vec<String>,
    /// QEMU board names; empty = all of [`BOARDS`].
    pub boards: Vec<String>,
    /// Golden case tag: `in_<tag>.bin` / `out_<tag>.bin`.
    pub golden: String,
    /// The `shared/` folder (models and tools/mcu).
    pub shared: PathBuf,
    /// Work directory.
    pub work: PathBuf,
    /// Boards built and run concurrently.
    pub jobs: usize,
    /// QEMU timeout per run, seconds.
    pub timeout: u64,
    /// Also build and run the unmodified template per board (harness baseline).
    pub baseline: bool,
    /// Ignore cached firmware: build everything again (cargo stays incremental).
    pub rebuild: bool,
    /// Also build each model with the peer microflow 0.1.3 into the same template and run it
    /// on the same board (`--peer microflow`).
    pub microflow: bool,
}

/// Figures from one QEMU run.
#[derive(Clone, Debug, Default)]
pub struct Measure {
    /// Instructions inside the counted region.
    pub instructions: u64,
    /// Flash bytes of the whole firmware.
    pub flash: u64,
    /// `.data + .bss + .uninit` bytes.
    pub ram_static: u64,
    /// Stack high-water mark, bytes.
    pub stack_peak: u64,
    /// Flash bytes of the model's own symbols (its crate's functions and `kiln_infer`; its
    /// weights and tables), from `llvm-nm`: (code, read-only data). `None` for the baseline.
    pub model_symbols: Option<(u64, u64)>,
}

/// The outcome of one (model, board).
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Built, ran, and the output matched the golden bytes on the target.
    Ok(Measure),
    /// The fit check rejected the model for the board (an expected result, not a failure).
    NoFit(String),
    /// Something failed: a one-line summary, and details (compiler errors, QEMU output).
    Failed {
        summary: String,
        details: String,
        measure: Option<Measure>,
    },
}

/// One table row.
#[derive(Clone, Debug)]
pub struct Row {
    pub model: String,
    pub board: String,
    pub target: String,
    pub macs: Option<u64>,
    pub arena: Option<usize>,
    pub outcome: Outcome,
    /// Seconds spent building (0 when the cached firmware was reused) and running.
    pub build_secs: f64,
    pub run_secs: f64,
}

/// The harness baseline of one board (the template's own firmware).
#[derive(Clone, Debug)]
pub struct Baseline {
    pub board: String,
    pub result: Result<Measure, String>,
}

/// The peer microflow on one (model, board), next to kiln's row.
#[derive(Clone, Debug)]
pub struct PeerRow {
    pub model: String,
    pub board: String,
    /// kiln's figures for the same (model, board), when its row is `ok`.
    pub kiln: Option<Measure>,
    /// microflow's figures and its `golden:` line; or why it did not run (`unsupported: …` when
    /// its macro rejects the model), with details.
    pub result: Result<(Measure, String), (String, String)>,
}

/// Everything a run produced.
pub struct Report {
    pub rows: Vec<Row>,
    /// `--peer microflow`: one per (model, board), in the order of `rows`.
    pub peers: Vec<PeerRow>,
    pub baselines: Vec<Baseline>,
    /// Models left out of the default set, with the reason.
    pub left_out: Vec<String>,
}

impl Report {
    /// True when every row is a golden match or a fit-check rejection.
    pub fn all_ok(&self) -> bool {
        self.rows
            .iter()
            .all(|r| !matches!(r.outcome, Outcome::Failed { .. }))
    }
}

/// Paths of the measurement tools and the facts every cache key includes.
struct Tools {
    dir: PathBuf,
    template: PathBuf,
    /// `rustc -vV` of the compiler build.sh uses, plus build.sh itself.
    fingerprint: String,
}

/// Runs the matrix.
pub fn run(opts: &Options) -> Result<Report, String> {
    let tools_dir = opts.shared.join("tools/mcu");
    for f in ["build.sh", "run.sh", "size.sh", "template/Cargo.toml"] {
        if !tools_dir.join(f).is_file() {
            return Err(format!(
                "{} is missing: kiln-bench needs ../shared/tools/mcu next to the repository",
                tools_dir.join(f).display()
            ));
        }
    }
    let rustc = Command::new("/usr/bin/rustc")
        .arg("-vV")
        .output()
        .map_err(|e| {
            format!("cannot run /usr/bin/rustc ({e}): run ../shared/tools/mcu/setup.sh first")
        })?;
    let build_sh = std::fs::read(tools_dir.join("build.sh")).map_err(|e| e.to_string())?;
    let tools = Tools {
        template: tools_dir.join("template"),
        fingerprint: format!(
            "{}\n{}",
            String::from_utf8_lossy(&rustc.stdout),
            String::from_utf8_lossy(&build_sh)
        ),
        dir: tools_dir,
    };

    let models_dir = opts.shared.join("models");
    let mut left_out = Vec::new();
    let models = if opts.models.is_empty() {
        default_models(&models_dir, &mut left_out)?
    } else {
        opts.models.clone()
    };
    let boards: Vec<(&str, &str)> = if opts.boards.is_empty() {
        BOARDS.to_vec()
    } else {
        opts.boards
            .iter()
            .map(|b| {
                BOARDS
                    .iter()
                    .find(|(name, _)| name == b)
                    .copied()
                    .ok_or_else(|| {
                        let names: Vec<&str> = BOARDS.iter().map(|(n, _)| *n).collect();
                        format!("unknown board '{b}' (boards: {})", names.join(", "))
                    })
            })
            .collect::<Result<_, _>>()?
    };
    for m in &models {
        if !models_dir.join(m).join("model.tflite").is_file() {
            return Err(format!(
                "no model '{m}' in {} (expected {m}/model.tflite)",
                models_dir.display()
            ));
        }
    }

    // Boards run in parallel (each has its own firmware crate); models of a board in sequence.
    let queue = Mutex::new(boards.clone());
    let rows = Mutex::new(Vec::new());
    let peers = Mutex::new(Vec::new());
    let baselines = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| loop {
                let next = queue.lock().unwrap().pop();
                let Some((board, target)) = next else { break };
                let bench = BoardBench {
                    opts,
                    tools: &tools,
                    board,
                    target,
                    fw: opts.work.join("fw").join(board),
                };
                if opts.baseline {
                    let result = bench.baseline();
                    baselines.lock().unwrap().push(Baseline {
                        board: board.to_string(),
                        result,
                    });
                }
                // microflow's firmware crate is separate: its own Cargo.lock and target dir.
                let peer = BoardBench {
                    fw: opts.work.join("fw").join(format!("{board}-microflow")),
                    ..bench
                };
                for model in &models {
                    let row = bench.model(model, &models_dir.join(model));
                    progress(&row);
                    if opts.microflow {
                        let p = peer.microflow(model, &models_dir.join(model), &row);
                        let what = match &p.result {
                            Ok((m, g)) => format!("golden {g}, {} instructions", m.instructions),
                            Err((summary, _)) => summary.clone(),
                        };
                        eprintln!("[{board}] {model} (microflow): {what}");
                        peers.lock().unwrap().push(p);
                    }
                    rows.lock().unwrap().push(row);
                }
            });
        }
    });

    let order = |b: &str| boards.iter().position(|(n, _)| *n == b);
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by_key(|r| (models.iter().position(|m| *m == r.model), order(&r.board)));
    let mut peers = peers.into_inner().unwrap();
    peers.sort_by_key(|r| (models.iter().position(|m| *m == r.model), order(&r.board)));
    let mut baselines = baselines.into_inner().unwrap();
    baselines.sort_by_key(|b| order(&b.board));
    Ok(Report {
        rows,
        peers,
        baselines,
        left_out,
    })
}

/// Every model folder with a `model.tflite` and a `golden/` that has an int8 tensor (or that
/// kiln cannot even read: it then shows up as a failed row rather than vanishing). Models with
/// an operator kiln does not support yet are left out, and the report says which op.
fn default_models(dir: &Path, left_out: &mut Vec<String>) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join("model.tflite").is_file() && e.path().join("golden").is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut models = Vec::new();
    for name in names {
        let bytes = std::fs::read(dir.join(&name).join("model.tflite"))
            .map_err(|e| format!("{name}: {e}"))?;
        match kiln_codegen::front::tflite::read(&bytes) {
            Ok(g)
                if !g
                    .tensors
                    .iter()
                    .any(|t| t.dtype == kiln_codegen::ir::DType::I8) =>
            {
                left_out.push(format!("{name} (no int8 tensor)"));
            }
            // A model with an op kiln lacks is reported as left out, with the op; any other
            // read error still makes a failed row.
            Err(kiln_codegen::ReadError::UnsupportedOp {
                index, name: op, ..
            }) => {
                left_out.push(format!("{name} (unsupported: operator {index} is {op})"));
            }
            _ => models.push(name),
        }
    }
    if models.is_empty() {
        return Err(format!("no int8 models in {}", dir.display()));
    }
    Ok(models)
}

fn progress(row: &Row) {
    let what = match &row.outcome {
        Outcome::Ok(m) => format!("golden ok, {} instructions", m.instructions),
        Outcome::NoFit(e) => format!("does not fit: {e}"),
        Outcome::Failed { summary, .. } => summary.clone(),
    };
    eprintln!(
        "[{}] {}: {what} (build {:.1} s, run {:.1} s)",
        row.board, row.model, row.build_secs, row.run_secs
    );
}

/// The work for one board.
struct BoardBench<'a> {
    opts: &'a Options,
    tools: &'a Tools,
    board: &'a str,
    target: &'a str,
    fw: PathBuf,
}

impl BoardBench<'_> {
    /// Builds and runs the unmodified template (its own main.rs and 64x64 kernel).
    fn baseline(&self) -> Result<Measure, String> {
        let t = Instant::now();
        let result = self.baseline_inner();
        let what = match &result {
            Ok(m) => format!("flash {} bytes", m.flash),
            Err(e) => format!("FAILED: {}", first_line(e)),
        };
        eprintln!(
            "[{}] template baseline: {what} ({:.1} s)",
            self.board,
            t.elapsed().as_secs_f64()
        );
        result
    }

    fn baseline_inner(&self) -> Result<Measure, String> {
        let template_toml = read_string(&self.tools.template.join("Cargo.toml"))?;
        let main = read_string(&self.tools.template.join("src/main.rs"))?;
        let toml = firmware::baseline_cargo_toml(&template_toml);
        let files = vec![
            ("Cargo.toml".to_string(), toml.into_bytes()),
            ("src/main.rs".to_string(), main.into_bytes()),
        ];
        let (elf, _) = self.build("template-baseline", &files, &[])?;
        let out = self.run(&elf)?;
        match (out.measure, out.status) {
            (Some(m), 0) => Ok(m),
            (_, status) => Err(format!(
                "template run failed (exit {status}):\n{}",
                out.text
            )),
        }
    }

    /// Generates, builds, runs and checks one model.
    fn model(&self, name: &str, dir: &Path) -> Row {
        let mut row = Row {
            model: name.to_string(),
            board: self.board.to_string(),
            target: self.target.to_string(),
            macs: None,
            arena: None,
            outcome: Outcome::NoFit(String::new()),
            build_secs: 0.0,
            run_secs: 0.0,
        };
        row.outcome = match self.model_inner(name, dir, &mut row) {
            Ok(o) => o,
            Err((summary, details)) => Outcome::Failed {
                summary,
                details,
                measure: None,
            },
        };
        row
    }

    fn model_inner(
        &self,
        name: &str,
        dir: &Path,
        row: &mut Row,
    ) -> Result<Outcome, (String, String)> {
        let plain = |s: String| (s, String::new());
        let bytes = std::fs::read(dir.join("model.tflite"))
            .map_err(|e| plain(format!("cannot read model: {e}")))?;
        let compiled = kiln_codegen::compile(&bytes)
            .map_err(|e| plain(format!("kiln cannot compile it: {e}")))?;
        row.macs = Some(compiled.macs());
        row.arena = Some(compiled.plan.arena_bytes);
        let g = &compiled.graph;
        if g.inputs.len() != 1 || g.outputs.len() != 1 {
            return Err(plain(format!(
                "{} inputs / {} outputs: the benchmark firmware handles one of each",
                g.inputs.len(),
                g.outputs.len()
            )));
        }
        let input_elem = g.tensors[g.inputs[0]].dtype.rust_name();

        let krate = match kiln_codegen::build_crate(&bytes, name, "model.tflite", Some(self.target))
        {
            Ok(k) => k,
            Err(kiln_codegen::Error::Fit(e)) => {
                let msg = e.to_string();
                let msg = msg.split_once(": ").map_or(msg.as_str(), |(_, m)| m.trim());
                return Ok(Outcome::NoFit(msg.to_string()));
            }
            Err(e) => return Err(plain(format!("kiln cannot generate the crate: {e}"))),
        };
        let crate_dir = self.opts.work.join("models").join(self.target).join(name);
        sync_dir(&crate_dir, &krate.files).map_err(plain)?;

        let golden = dir.join("golden");
        let tag = &self.opts.golden;
        let input = std::fs::read(golden.join(format!("in_{tag}.bin")))
            .map_err(|e| plain(format!("golden in_{tag}.bin: {e}")))?;
        let output = std::fs::read(golden.join(format!("out_{tag}.bin")))
            .map_err(|e| plain(format!("golden out_{tag}.bin: {e}")))?;

        let template_toml = read_string(&self.tools.template.join("Cargo.toml")).map_err(plain)?;
        let rel = Path::new("../../models").join(self.target).join(name);
        let fw = Firmware {
            model: name,
            tag,
            board: self.board,
            variant: Variant::Kiln {
                path: &rel,
                input_elem,
            },
        };
        let files = vec![
            (
                "Cargo.toml".to_string(),
                fw.cargo_toml(&template_toml).into_bytes(),
            ),
            ("src/main.rs".to_string(), fw.main_rs().into_bytes()),
            ("golden/in.bin".to_string(), input),
            ("golden/out.bin".to_string(), output),
        ];

        let t = Instant::now();
        let (elf, built) = self
            .build(name, &files, &krate.files)
            .map_err(|e| ("build failed".to_string(), e))?;
        row.build_secs = if built {
            t.elapsed().as_secs_f64()
        } else {
            0.0
        };

        let t = Instant::now();
        let mut out = self.run(&elf).map_err(plain)?;
        row.run_secs = t.elapsed().as_secs_f64();
        if let Some(m) = &mut out.measure {
            m.model_symbols = model_symbols(&elf, name);
        }
        let golden_line = out.golden.clone();
        match (&out.measure, out.status, golden_line.as_deref()) {
            (Some(m), 0, Some("ok")) => Ok(Outcome::Ok(m.clone())),
            (measure, status, golden) => {
                let summary = match (status, golden) {
                    (_, Some(g)) if g != "ok" => format!("golden: {g}"),
                    (124, _) => format!("QEMU timed out after {} s", self.opts.timeout),
                    (134, _) => "QEMU aborted (core lockup: stack overflow?)".to_string(),
                    (s, _) => format!("run failed (exit {s})"),
                };
                Ok(Outcome::Failed {
                    summary,
                    details: out.text.clone(),
                    measure: measure.clone(),
                })
            }
        }
    }

    /// Builds the model with microflow 0.1.3 (`#[microflow::model]`) into this board's firmware
    /// crate (`self.fw` is `fw/<board>-microflow`) and runs it; `kiln` is kiln's row.
    fn microflow(&self, name: &str, dir: &Path, kiln: &Row) -> PeerRow {
        let mut row = PeerRow {
            model: name.to_string(),
            board: self.board.to_string(),
            kiln: match &kiln.outcome {
                Outcome::Ok(m) => Some(m.clone()),
                _ => None,
            },
            result: Err((String::new(), String::new())),
        };
        row.result = self.microflow_inner(name, dir);
        row
    }

    fn microflow_inner(
        &self,
        name: &str,
        dir: &Path,
    ) -> Result<(Measure, String), (String, String)> {
        let plain = |s: String| (s, String::new());
        let model = dir.join("model.tflite");
        let bytes = std::fs::read(&model).map_err(|e| plain(format!("cannot read model: {e}")))?;
        let g = kiln_codegen::front::tflite::read(&bytes)
            .map_err(|e| plain(format!("unreadable: {e}")))?;
        let io = crate::microflow::support(&g).map_err(|e| plain(format!("unsupported: {e}")))?;
        let model = model.canonicalize().unwrap_or(model);
        let golden = dir.join("golden");
        let tag = &self.opts.golden;
        let input = std::fs::read(golden.join(format!("in_{tag}.bin")))
            .map_err(|e| plain(format!("golden in_{tag}.bin: {e}")))?;
        let output = std::fs::read(golden.join(format!("out_{tag}.bin")))
            .map_err(|e| plain(format!("golden out_{tag}.bin: {e}")))?;
        let template_toml = read_string(&self.tools.template.join("Cargo.toml")).map_err(plain)?;
        let fw = Firmware {
            model: name,
            tag,
            board: self.board,
            variant: Variant::Microflow {
                io: &io,
                model: &model,
            },
        };
        let files = vec![
            (
                "Cargo.toml".to_string(),
                fw.cargo_toml(&template_toml).into_bytes(),
            ),
            ("src/main.rs".to_string(), fw.main_rs().into_bytes()),
            ("golden/in.bin".to_string(), input),
            ("golden/out.bin".to_string(), output),
        ];
        let model_files = vec![("model.tflite".to_string(), bytes)];
        let (elf, _) = self
            .build(&format!("microflow-{name}"), &files, &model_files)
            .map_err(|e| ("build failed".to_string(), e))?;
        let out = self.run(&elf).map_err(plain)?;
        match (&out.measure, out.status, &out.golden) {
            (Some(m), 0, Some(g)) => {
                let mut m = m.clone();
                m.model_symbols = microflow_symbols(&elf);
                Ok((m, g.clone()))
            }
            (_, status, _) => Err((
                match status {
                    124 => format!("QEMU timed out after {} s", self.opts.timeout),
                    134 => "QEMU aborted (core lockup: stack overflow?)".to_string(),
                    s => format!("run failed (exit {s})"),
                },
                out.text.clone(),
            )),
        }
    }

    /// Writes the firmware crate (template files + `files`), builds it with build.sh unless the
    /// cached ELF for `key_name` was built from the same inputs. Returns the ELF path and
    /// whether it was built now.
    fn build(
        &self,
        key_name: &str,
        files: &[(String, Vec<u8>)],
        model_files: &[(String, Vec<u8>)],
    ) -> Result<(PathBuf, bool), String> {
        let mut hasher = DefaultHasher::new();
        self.tools.fingerprint.hash(&mut hasher);
        self.board.hash(&mut hasher);
        for rel in firmware::TEMPLATE_FILES.iter().chain(&["src/kernel.rs"]) {
            let bytes = std::fs::read(self.tools.template.join(rel))
                .map_err(|e| format!("template {rel}: {e}"))?;
            // Cargo.lock is only seeded: cargo adds the model's path dependency to it.
            let path = self.fw.join(rel);
            if *rel != "Cargo.lock" || !path.exists() {
                write_if_changed(&path, &bytes)?;
            }
            (rel, bytes).hash(&mut hasher);
        }
        for (rel, bytes) in files {
            write_if_changed(&self.fw.join(rel), bytes)?;
        }
        files.hash(&mut hasher);
        model_files.hash(&mut hasher);
        let key = format!("{:016x}\n", hasher.finish());

        let cache = self.opts.work.join("elf").join(self.board);
        let (cached_elf, cached_key) = (
            cache.join(format!("{key_name}.elf")),
            cache.join(format!("{key_name}.key")),
        );
        if !self.opts.rebuild
            && cached_elf.is_file()
            && std::fs::read_to_string(&cached_key).ok().as_deref() == Some(key.as_str())
        {
            return Ok((cached_elf, false));
        }

        let out = tool(self.tools.dir.join("build.sh"))
            .arg(self.board)
            .arg(&self.fw)
            .output()
            .map_err(|e| format!("cannot run build.sh: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let elf = stdout.lines().last().unwrap_or("").trim();
        if !out.status.success() || elf.is_empty() {
            return Err(build_errors(&out));
        }
        std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
        std::fs::copy(elf, &cached_elf).map_err(|e| format!("{elf}: {e}"))?;
        std::fs::write(&cached_key, key).map_err(|e| e.to_string())?;
        Ok((cached_elf, true))
    }

    fn run(&self, elf: &Path) -> Result<RunOut, String> {
        let out = tool(self.tools.dir.join("run.sh"))
            .arg(self.board)
            .arg(elf)
            .env("MCU_TIMEOUT", self.opts.timeout.to_string())
            .output()
            .map_err(|e| format!("cannot run run.sh: {e}"))?;
        Ok(RunOut::parse(&out))
    }
}

/// A shell script of the tools, with the environment of `cargo run` (rustup's toolchain, build
/// flags, target dir) removed so build.sh's own cargo and rustc are not redirected.
fn tool(script: PathBuf) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(script);
    for var in [
        "RUSTUP_TOOLCHAIN",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The compiler's error messages from a failed build.sh (cargo's rendered diagnostics are on
/// stderr), without the `Compiling …` progress lines.
fn build_errors(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("Compiling ")
                || t.starts_with("Downloaded ")
                || t.starts_with("Downloading ")
                || t.starts_with("Updating ")
                || t.starts_with("Locking ")
                || t.starts_with("Adding ")
                || t.starts_with("Blocking "))
        })
        .collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("error") || l.starts_with("warning"))
        .unwrap_or(0);
    let mut s = lines[start..].join("\n");
    if s.len() > 20_000 {
        let mut cut = 20_000;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n[… cut]");
    }
    format!("{}\n(build.sh exit status {})", s.trim_end(), out.status)
}

/// Parsed output of run.sh.
struct RunOut {
    status: i32,
    measure: Option<Measure>,
    /// The firmware's `golden:` line, without the prefix.
    golden: Option<String>,
    text: String,
}

impl RunOut {
    fn parse(out: &Output) -> RunOut {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let value = |key: &str| -> Option<u64> {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
        };
        let measure = (|| {
            Some(Measure {
                instructions: value("instructions:")?,
                flash: value("flash_bytes:")?,
                ram_static: value("ram_static_bytes:")?,
                stack_peak: value("stack_peak_bytes:")?,
                model_symbols: None,
            })
        })();
        let golden = text
            .lines()
            .find_map(|l| l.strip_prefix("golden:"))
            .map(|g| g.trim().to_string());
        RunOut {
            status: out.status.code().unwrap_or(-1),
            measure,
            golden,
            text,
        }
    }
}

/// Sizes of the model's symbols in `elf`: functions and read-only data whose demangled name is
/// in the generated crate `krate` (or is the firmware's `kiln_infer` wrapper, into which
/// `predict` may be inlined). `None` when `llvm-nm` is missing or fails.
fn model_symbols(elf: &Path, krate: &str) -> Option<(u64, u64)> {
    let nm = newest_llvm_tool("llvm-nm")?;
    let out = Command::new(nm)
        .args(["-S", "--size-sort", "--radix=d", "--demangle"])
        .arg(elf)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let ident = krate.replace('-', "_");
    let prefix = format!("{ident}::");
    let (mut code, mut data) = (0, 0);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = line.splitn(4, ' ');
        let (Some(_), Some(size), Some(kind), Some(name)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let Ok(size) = size.parse::<u64>() else {
            continue;
        };
        let ours = name.starts_with(&prefix)
            || name.contains(&format!("<{prefix}"))
            || name.ends_with("::kiln_infer");
        if !ours {
            continue;
        }
        match kind {
            "t" | "T" => code += size,
            "r" | "R" => data += size,
            _ => {}
        }
    }
    Some((code, data))
}

/// Sizes of microflow's symbols in `elf` (its runtime crate, nalgebra, the macro-generated
/// `MicroflowModel` impl and the `microflow_infer` wrapper): (code, read-only data).
fn microflow_symbols(elf: &Path) -> Option<(u64, u64)> {
    let nm = newest_llvm_tool("llvm-nm")?;
    let out = Command::new(nm)
        .args(["-S", "--size-sort", "--radix=d", "--demangle"])
        .arg(elf)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let (mut code, mut data) = (0, 0);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = line.splitn(4, ' ');
        let (Some(_), Some(size), Some(kind), Some(name)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let Ok(size) = size.parse::<u64>() else {
            continue;
        };
        let ours = [
            "microflow::",
            "nalgebra::",
            "simba::",
            "MicroflowModel",
            "microflow_infer",
        ]
        .iter()
        .any(|p| name.contains(p));
        if !ours {
            continue;
        }
        match kind {
            "t" | "T" => code += size,
            "r" | "R" | "d" | "D" => data += size,
            _ => {}
        }
    }
    Some((code, data))
}

/// `/usr/bin/<name>-<N>` with the highest N (Debian's versioned LLVM tools, as size.sh uses).
fn newest_llvm_tool(name: &str) -> Option<PathBuf> {
    let prefix = format!("{name}-");
    std::fs::read_dir("/usr/bin")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().to_string();
            let version: u32 = file.strip_prefix(&prefix)?.parse().ok()?;
            Some((version, e.path()))
        })
        .max()
        .map(|(_, path)| path)
}

fn read_string(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `bytes` to `path` unless it already holds them (keeps mtimes, so cargo does not
/// rebuild unchanged crates). Creates parent folders; replaces read-only files.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let _ = std::fs::remove_file(path);
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Makes `dir` hold exactly `files` under `src/` and `data/` (stale data files removed),
/// rewriting only what changed.
fn sync_dir(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    let wanted: BTreeSet<PathBuf> = files.iter().map(|(rel, _)| dir.join(rel)).collect();
    for sub in ["src", "data"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            for e in entries.flatten() {
                if e.path().is_file() && !wanted.contains(&e.path()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
    for (rel, bytes) in files {
        write_if_changed(&dir.join(rel), bytes)?;
    }
    Ok(())
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string().into_bytes();
    let groups: Vec<&str> = digits
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).unwrap_or("?"))
        .collect();
    groups.join(",")
}

/// The report as Markdown: the table, the harness baselines, and details of failures.
pub fn markdown(report: &Report) -> String {
    let mut s = String::new();
    s.push_str(
        "| model | board (kiln target) | MACs | instructions | instr/MAC | flash bytes | of which model code + data | RAM bytes | = static + stack peak | arena bytes | golden |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let opt = |v: Option<u64>| v.map_or("—".to_string(), thousands);
    for r in &report.rows {
        let measure = match &r.outcome {
            Outcome::Ok(m) => Some(m),
            Outcome::Failed { measure, .. } => measure.as_ref(),
            Outcome::NoFit(_) => None,
        };
        let result = match &r.outcome {
            Outcome::Ok(_) => "ok".to_string(),
            Outcome::NoFit(e) => format!("does not fit: {e}"),
            Outcome::Failed { summary, .. } => format!("**FAILED**: {summary}"),
        };
        let per_mac = match (measure, r.macs) {
            (Some(m), Some(macs)) if macs > 0 => {
                format!("{:.2}", m.instructions as f64 / macs as f64)
            }
            _ => "—".to_string(),
        };
        writeln!(
            s,
            "| {} | {} ({}) | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.model,
            r.board,
            r.target,
            opt(r.macs),
            opt(measure.map(|m| m.instructions)),
            per_mac,
            opt(measure.map(|m| m.flash)),
            measure
                .and_then(|m| m.model_symbols)
                .map_or("—".to_string(), |(c, d)| format!(
                    "{} + {}",
                    thousands(c),
                    thousands(d)
                )),
            opt(measure.map(|m| m.ram_static + m.stack_peak)),
            measure.map_or("—".to_string(), |m| format!(
                "{} + {}",
                thousands(m.ram_static),
                thousands(m.stack_peak)
            )),
            opt(r.arena.map(|a| a as u64)),
            result
        )
        .unwrap();
    }
    if !report.baselines.is_empty() {
        s.push_str(
            "\nHarness baseline: the template's own firmware (cortex-m-rt/riscv-rt, semihosting, \
             core::fmt, stack painting, and its 64x64 int8 mat-vec with 4,096 bytes of weights):\n\n\
             | board | flash bytes | RAM static bytes | stack peak bytes |\n|---|---:|---:|---:|\n",
        );
        for b in &report.baselines {
            match &b.result {
                Ok(m) => writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    b.board,
                    thousands(m.flash),
                    thousands(m.ram_static),
                    thousands(m.stack_peak)
                ),
                Err(e) => writeln!(s, "| {} | failed: {} | | |", b.board, first_line(e)),
            }
            .unwrap();
        }
    }
    if !report.peers.is_empty() {
        s.push_str(
            "\n### kiln vs microflow 0.1.3 (same template, same QEMU board, same golden input)\n\n\
             | model | board | kiln instructions | microflow instructions | microflow/kiln | \
             kiln flash bytes | microflow flash bytes | kiln RAM bytes | microflow RAM bytes | microflow golden |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
        );
        for p in &report.peers {
            let k = p.kiln.as_ref();
            let (mf, result) = match &p.result {
                Ok((m, g)) => (Some(m), g.clone()),
                Err((summary, _)) => (None, summary.clone()),
            };
            let ratio = match (k, mf) {
                (Some(k), Some(m)) if k.instructions > 0 => {
                    format!("{:.2}x", m.instructions as f64 / k.instructions as f64)
                }
                _ => "—".to_string(),
            };
            let opt = |m: Option<&Measure>, f: fn(&Measure) -> u64| {
                m.map_or("—".to_string(), |m| thousands(f(m)))
            };
            writeln!(
                s,
                "| {} | {} | {} | {} | {ratio} | {} | {} | {} | {} | {result} |",
                p.model,
                p.board,
                opt(k, |m| m.instructions),
                opt(mf, |m| m.instructions),
                opt(k, |m| m.flash),
                opt(mf, |m| m.flash),
                opt(k, |m| m.ram_static + m.stack_peak),
                opt(mf, |m| m.ram_static + m.stack_peak),
            )
            .unwrap();
        }
        for p in &report.peers {
            if let Err((summary, details)) = &p.result {
                if !details.is_empty() {
                    writeln!(
                        s,
                        "\n### microflow: {} on {}: {summary}\n\n```\n{}\n```",
                        p.model,
                        p.board,
                        details.trim_end()
                    )
                    .unwrap();
                }
            }
        }
    }
    if !report.left_out.is_empty() {
        writeln!(s, "\nLeft out: {}", report.left_out.join(", ")).unwrap();
    }
    let failures: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .collect();
    for r in failures {
        if let Outcome::Failed {
            summary, details, ..
        } = &r.outcome
        {
            if !details.is_empty() {
                writeln!(
                    s,
                    "\n### {} on {} ({}): {summary}\n\n```\n{}\n```",
                    r.model,
                    r.board,
                    r.target,
                    details.trim_end()
                )
                .unwrap();
            }
        }
    }
    for b in &report.baselines {
        if let Err(e) = &b.result {
            writeln!(s, "\n### template baseline on {}\n\n```\n{e}\n```", b.board).unwrap();
        }
    }
    s
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_501_632), "12,501,632");
    }

    #[test]
    fn every_board_maps_to_a_kiln_target() {
        for (board, target) in BOARDS {
            let t = kiln_targets::lookup(target).unwrap_or_else(|| panic!("{board} -> {target}"));
            // Only microbit is a board profile (fit-checked); the mps2/virt boards have 4 MiB
            // memories, so they are compiled for the bare core.
            assert_eq!(
                matches!(t, kiln_targets::Target::Board(_)),
                *board == "microbit",
                "{board}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn run_output_is_parsed() {
        let text =
            "stack_peak_bytes: 700\ngolden: ok\nregion 0: 10\nregions: 1\ninstructions: 10\n\
                    total_instructions: 99\nflash_bytes: 1234\nram_static_bytes: 16\n";
        let out = Output {
            status: exit_status(0),
            stdout: text.as_bytes().to_vec(),
            stderr: Vec::new(),
        };
        let r = RunOut::parse(&out);
        assert_eq!(r.golden.as_deref(), Some("ok"));
        let m = r.measure.unwrap();
        assert_eq!(
            (m.instructions, m.flash, m.ram_static, m.stack_peak),
            (10, 1234, 16, 700)
        );
    }

    #[cfg(unix)]
    #[test]
    fn build_errors_keep_the_compiler_messages() {
        let stderr = "   Compiling core v0.0.0\n   Compiling mlperf_kws v0.1.0\n\
                      error[E0425]: cannot find value `x`\n --> src/lib.rs:1:1\n\n\
                      error: could not compile `mlperf_kws`\n";
        let out = Output {
            status: exit_status(101),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        };
        let e = build_errors(&out);
        assert!(
            e.starts_with("error[E0425]: cannot find value `x`\n --> src/lib.rs:1:1"),
            "{e}"
        );
        assert!(!e.contains("Compiling"), "{e}");
        assert!(e.contains("could not compile `mlperf_kws`"), "{e}");
    }

    #[cfg(unix)]
    fn exit_status(code: i32) -> std::process::ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        std::process::ExitStatus::from_raw(code << 8)
    }
}
