//! Host benchmark: kiln's generated code against its peers, per model, in one run.
//!
//! `cargo bench -p kiln-bench --bench host [-- FILTER]`
//!
//! For every model of `../shared/models` (see `build.rs`): kiln's generated crate (portable
//! kernels, compiled as part of this bench with the bench profile), tract (`tract-tflite`:
//! `into_optimized`, `into_runnable`, one spawned state reused across iterations) and
//! microflow 0.1.3 (`#[model]`, `predict_quantized`) on the golden input `in_0.bin`, each a
//! criterion benchmark `<model>/<engine>` (10 samples). Before timing, every engine runs every
//! golden case of the model and its output is compared with the TFLM golden bytes. At the end,
//! a Markdown table: criterion's median per engine, tract/kiln and microflow/kiln, and the
//! golden results.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{Bencher, Criterion};
use tract_tflite::prelude::*;

/// How to run and time one engine on one model.
pub struct Engine {
    /// Golden input bytes in, output bytes (little-endian, row-major) out.
    pub run: fn(&[u8]) -> Vec<u8>,
    /// Times one inference on the given golden input bytes.
    pub bench: fn(&mut Bencher, &[u8]),
}

/// One model folder (`model.tflite`, `golden/`) and the compiled-in engines, or why an engine
/// is missing.
pub struct Case {
    pub name: &'static str,
    pub dir: &'static str,
    pub macs: u64,
    pub kiln: Result<Engine, &'static str>,
    pub microflow: Result<Engine, &'static str>,
}

/// Little-endian element decoding/encoding for the golden files.
pub trait Le: Copy + Default {
    const SIZE: usize;
    fn from_le(b: &[u8]) -> Self;
    fn push_le(self, out: &mut Vec<u8>);
}

macro_rules! le {
    ($($t:ty),*) => {$(
        impl Le for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn from_le(b: &[u8]) -> Self {
                <$t>::from_le_bytes(b.try_into().expect("element size"))
            }
            fn push_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
le!(i8, u8, i16, i32, f32);

/// Golden bytes as elements.
pub fn decode_vec<T: Le>(bytes: &[u8]) -> Vec<T> {
    bytes.chunks_exact(T::SIZE).map(T::from_le).collect()
}

/// Golden bytes as a fixed-size input array (panics on a size mismatch).
pub fn decode<T: Le, const N: usize>(bytes: &[u8]) -> [T; N] {
    assert_eq!(bytes.len(), N * T::SIZE, "golden input size");
    let mut x = [T::default(); N];
    for (v, b) in x.iter_mut().zip(bytes.chunks_exact(T::SIZE)) {
        *v = T::from_le(b);
    }
    x
}

/// Output elements as golden bytes.
pub fn encode<T: Le>(out: &[T]) -> Vec<u8> {
    let mut v = Vec::with_capacity(out.len() * T::SIZE);
    for &x in out {
        x.push_le(&mut v);
    }
    v
}

/// microflow's dequantized output back to int8 bytes.
pub fn requantize(y: &[f32], scale: f32, zero_point: i64) -> Vec<u8> {
    y.iter()
        .map(|&f| ((f / scale).round() as i64 + zero_point).clamp(-128, 127) as i8 as u8)
        .collect()
}

#[allow(clippy::all)]
mod models {
    use super::*;
    include!(concat!(env!("OUT_DIR"), "/host_models.rs"));
}

/// tract: the optimized plan and a spawned state, reused across runs.
struct Tract {
    plan: Arc<TypedRunnableModel>,
    input_dt: DatumType,
    input_shape: Vec<usize>,
    /// The output type the .tflite declares (the optimized plan may produce another, e.g.
    /// QU8 for QI8: its output is cast back before the golden comparison).
    output_dt: DatumType,
}

impl Tract {
    fn load(model: &Path) -> TractResult<Tract> {
        let typed = tract_tflite::tflite().model_for_path(model)?;
        let fact = typed.input_fact(0)?.clone();
        let input_shape = fact
            .shape
            .as_concrete()
            .ok_or_else(|| {
                tract_tflite::internal::anyhow!("symbolic input shape {:?}", fact.shape)
            })?
            .to_vec();
        let output_dt = typed.output_fact(0)?.datum_type;
        let plan = typed.into_optimized()?.into_runnable()?;
        Ok(Tract {
            plan,
            input_dt: fact.datum_type,
            input_shape,
            output_dt,
        })
    }

    fn input(&self, bytes: &[u8]) -> TractResult<TValue> {
        // SAFETY: from_raw_dt copies `bytes` after checking their length against the shape.
        let t = unsafe { Tensor::from_raw_dt(self.input_dt, &self.input_shape, bytes)? };
        Ok(t.into_tvalue())
    }

    fn run(&self, bytes: &[u8]) -> TractResult<Vec<u8>> {
        let out = self.plan.run(tvec![self.input(bytes)?])?;
        if out[0].datum_type() == self.output_dt {
            Ok(out[0].as_bytes().to_vec())
        } else {
            Ok(out[0].cast_to_dt(self.output_dt)?.as_bytes().to_vec())
        }
    }
}

/// How an engine's outputs compared with the goldens.
#[derive(Default)]
struct Check {
    cases: usize,
    exact: usize,
    /// Largest element difference over all cases (int8: in quantization steps).
    max_diff: f64,
    /// Int8 elements that differ, over all cases, and elements compared.
    diff_elems: usize,
    elems: usize,
    error: Option<String>,
}

impl Check {
    fn summary(&self) -> String {
        if let Some(e) = &self.error {
            return format!("error: {e}");
        }
        if self.exact == self.cases {
            format!("{}/{} exact", self.exact, self.cases)
        } else {
            format!(
                "{}/{} exact; {} of {} elements differ, max diff {}",
                self.exact, self.cases, self.diff_elems, self.elems, self.max_diff
            )
        }
    }
}

/// Golden cases of a model folder: (tag, input bytes, output bytes), `in_0` first.
fn goldens(dir: &Path) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let mut tags: Vec<String> = std::fs::read_dir(dir.join("golden"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let f = e.file_name().to_string_lossy().to_string();
            Some(f.strip_prefix("in_")?.strip_suffix(".bin")?.to_string())
        })
        .collect();
    tags.sort_by_key(|t| (t != "0", t.clone()));
    tags.into_iter()
        .filter_map(|t| {
            let i = std::fs::read(dir.join(format!("golden/in_{t}.bin"))).ok()?;
            let o = std::fs::read(dir.join(format!("golden/out_{t}.bin"))).ok()?;
            Some((t, i, o))
        })
        .collect()
}

/// Runs `run` on every golden case; `float` compares f32 elements, else int8 bytes.
fn check(
    cases: &[(String, Vec<u8>, Vec<u8>)],
    float: bool,
    run: impl Fn(&[u8]) -> Result<Vec<u8>, String>,
) -> Check {
    let mut c = Check::default();
    for (tag, input, want) in cases {
        let got = match run(input) {
            Ok(g) => g,
            Err(e) => {
                c.error = Some(format!("case {tag}: {e}"));
                return c;
            }
        };
        c.cases += 1;
        if got.len() != want.len() {
            c.error = Some(format!(
                "case {tag}: {} output bytes, golden has {}",
                got.len(),
                want.len()
            ));
            return c;
        }
        if got == *want {
            c.exact += 1;
        }
        let diffs: Vec<f64> = if float {
            decode_vec::<f32>(&got)
                .iter()
                .zip(decode_vec::<f32>(want))
                .map(|(a, b)| f64::from((a - b).abs()))
                .collect()
        } else {
            got.iter()
                .zip(want)
                .map(|(&a, &b)| f64::from((a as i8 as i16 - b as i8 as i16).abs()))
                .collect()
        };
        c.elems += diffs.len();
        c.diff_elems += diffs.iter().filter(|d| **d != 0.0).count();
        c.max_diff = diffs.iter().copied().fold(c.max_diff, f64::max);
    }
    c
}

/// criterion's median (ns) of `<group>/<function>` if it was measured in this run.
fn median_ns(dir: &Path, group: &str, function: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(function).join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json = std::fs::read_to_string(&path).ok()?;
    let median = &json[json.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

fn fmt_time(ns: Option<f64>) -> String {
    match ns {
        None => "—".to_string(),
        Some(ns) if ns < 1e3 => format!("{ns:.0} ns"),
        Some(ns) if ns < 1e6 => format!("{:.2} µs", ns / 1e3),
        Some(ns) => format!("{:.2} ms", ns / 1e6),
    }
}

fn ratio(peer: Option<f64>, kiln: Option<f64>) -> String {
    match (peer, kiln) {
        (Some(p), Some(k)) if k > 0.0 => format!("{:.2}x", p / k),
        _ => "—".to_string(),
    }
}

/// Where criterion writes its estimates: `CRITERION_HOME`, else `<target dir>/criterion`.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}

struct Row {
    name: &'static str,
    macs: u64,
    kiln: Result<Check, String>,
    tract: Result<Check, String>,
    microflow: Result<Check, String>,
}

fn main() {
    let out_dir = criterion_dir();
    let mut c = Criterion::default()
        .output_directory(&out_dir)
        .sample_size(10)
        .configure_from_args();
    let start = SystemTime::now();
    let t0 = std::time::Instant::now();
    let mut rows = Vec::new();
    if models::CASES.is_empty() {
        eprintln!("no models: build.rs found no ../shared/models/<name>/{{model.tflite,golden}}");
    }

    for case in models::CASES {
        let dir = Path::new(case.dir);
        let goldens = goldens(dir);
        let Some((_, input, _)) = goldens.first().cloned() else {
            continue;
        };
        let float_out = output_is_f32(dir);

        let kiln = case.kiln.as_ref().map_err(|e| e.to_string()).map(|e| {
            let run = e.run;
            check(&goldens, float_out, |x| Ok(run(x)))
        });
        // tract-tflite panics in its flatbuffer reader on some models (the LSTM ones): a
        // peer's panic is that peer's failure on that model, not the end of the bench.
        let model_path = dir.join("model.tflite");
        let tract_model = survive_panic("tract load", || {
            Tract::load(&model_path).map_err(short_error)
        });
        let tract = tract_model.as_ref().map_err(|e| e.clone()).and_then(|t| {
            survive_panic("tract run", || {
                Ok(check(&goldens, float_out, |x| t.run(x).map_err(short_error)))
            })
        });
        let microflow = case.microflow.as_ref().map_err(|e| e.to_string()).map(|e| {
            let run = e.run;
            check(&goldens, false, |x| Ok(run(x)))
        });

        let mut g = c.benchmark_group(case.name);
        g.sample_size(10).warm_up_time(Duration::from_secs(1));
        // Short measurements for the big models (10 samples still take about 1 s of runs).
        g.measurement_time(Duration::from_secs(if case.macs > 1_000_000 {
            2
        } else {
            3
        }));
        if let Ok(e) = &case.kiln {
            let bench = e.bench;
            g.bench_function("kiln", |b| bench(b, &input));
        }
        if let (Ok(t), Ok(chk)) = (&tract_model, &tract) {
            if chk.error.is_none() {
                let x = t.input(&input).expect("checked above");
                let mut state = t.plan.spawn().expect("tract state");
                g.bench_function("tract", |b| {
                    b.iter(|| state.run(tvec![std::hint::black_box(x.clone())]).unwrap())
                });
            }
        }
        if let Ok(e) = &case.microflow {
            let bench = e.bench;
            g.bench_function("microflow", |b| bench(b, &input));
        }
        g.finish();
        rows.push(Row {
            name: case.name,
            macs: case.macs,
            kiln,
            tract,
            microflow,
        });
    }
    c.final_summary();

    let mut s = String::new();
    s.push_str(
        "\n## kiln vs tract vs microflow (host, criterion median of 10 samples, golden case in_0)\n\n\
         | model | MACs | kiln | tract | microflow | tract/kiln | microflow/kiln | kiln golden | tract golden | microflow golden |\n\
         |---|---:|---:|---:|---:|---:|---:|---|---|---|\n",
    );
    let mut notes = Vec::new();
    for r in &rows {
        let m = |f| median_ns(&out_dir, r.name, f, start);
        let (k, t, mf) = (m("kiln"), m("tract"), m("microflow"));
        let golden = |res: &Result<Check, String>, engine: &str, notes: &mut Vec<String>| match res
        {
            Ok(c) => c.summary(),
            Err(e) => {
                notes.push(format!("- {} / {engine}: {e}", r.name));
                "n/a (see below)".to_string()
            }
        };
        let kg = golden(&r.kiln, "kiln", &mut notes);
        let tg = golden(&r.tract, "tract", &mut notes);
        let mg = golden(&r.microflow, "microflow", &mut notes);
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {kg} | {tg} | {mg} |",
            r.name,
            r.macs,
            fmt_time(k),
            fmt_time(t),
            fmt_time(mf),
            ratio(t, k),
            ratio(mf, k)
        )
        .unwrap();
    }
    if !notes.is_empty() {
        s.push_str("\nNot run:\n\n");
        for n in notes {
            s.push_str(&n);
            s.push('\n');
        }
    }
    writeln!(
        s,
        "\n\"exact\" = output bytes equal the TFLM golden, over every golden case of the model; \
         differences are in int8 steps (float outputs: absolute). Bench run: {:.0} s.",
        t0.elapsed().as_secs_f64()
    )
    .unwrap();
    println!("{s}");
}

/// True when the model's output tensor is float32 (read with kiln's own .tflite reader).
fn output_is_f32(dir: &Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join("model.tflite")) else {
        return false;
    };
    kiln_codegen::front::tflite::read(&bytes)
        .map(|g| g.tensors[g.outputs[0]].dtype == kiln_codegen::ir::DType::F32)
        .unwrap_or(false)
}

/// Runs `f`, turning a panic inside it into an `Err` naming `what` and the panic message.
fn survive_panic<T>(what: &str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_string());
            Err(format!("{what} panicked: {msg}"))
        }
    }
}

/// tract's error chain on one line, without the Debug dumps of the operator it failed on.
fn short_error(e: TractError) -> String {
    let mut s = format!("{e:#}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for block in ["Operator {", "Conv {"] {
        while let Some(start) = s.find(block) {
            let mut depth = 0;
            let mut end = s.len();
            for (i, ch) in s[start..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = start + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            s.replace_range(start..end, "…");
        }
    }
    if s.chars().count() > 300 {
        s = s.chars().take(300).collect::<String>() + "…";
    }
    s
}
