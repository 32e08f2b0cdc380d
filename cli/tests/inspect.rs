//! `kiln inspect --svg / --json`: the drawing is well-formed XML with one `class="buffer"`
//! rectangle per planned arena buffer (same offsets, sizes and lifetimes as the plan) and a
//! peak marker at `ARENA_BYTES`; the JSON parses and carries the same plan and layers.
//! Runs on `fixtures/models/tiny_kws` and the ONNX `fixtures/onnx/models/conv_pool_fc`, and on `../shared/models/mlperf_ic` when
//! `KILN_REAL_MODELS=1`.

use std::path::{Path, PathBuf};

use kiln_codegen::plan::Location;
use kiln_codegen::Compiled;

#[allow(dead_code)] // each test file uses a part of the shared helpers
mod common;

use common::{kiln, root, scratch};

/// The models to check: a fixture always, a real model with many buffers in CI.
fn models() -> Vec<PathBuf> {
    let mut models = vec![
        root().join("fixtures/models/tiny_kws/model.tflite"),
        root().join("fixtures/onnx/models/conv_pool_fc/model.onnx"),
    ];
    if std::env::var("KILN_REAL_MODELS").as_deref() == Ok("1") {
        let real = root().join("../shared/models/mlperf_ic/model.tflite");
        assert!(
            real.is_file(),
            "KILN_REAL_MODELS=1 but {} is missing",
            real.display()
        );
        models.push(real);
    }
    models
}

/// Runs `kiln args..`, asserts success and a silent stderr, returns stdout.
fn kiln_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let out = kiln(args);
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success() && stderr.is_empty(),
        "kiln failed ({}):\nstderr: {stderr}\nstdout: {stdout}",
        out.status
    );
    stdout
}

fn compile(model: &Path) -> Compiled {
    kiln_codegen::compile(&std::fs::read(model).unwrap()).unwrap()
}

/// `ARENA_BYTES` as the generated crate declares it.
fn arena_bytes_const(model: &Path) -> usize {
    let krate =
        kiln_codegen::generate_crate(&std::fs::read(model).unwrap(), "m", "model.tflite").unwrap();
    let (_, lib) = krate
        .files
        .iter()
        .find(|(path, _)| path == "src/lib.rs")
        .unwrap();
    let lib = std::str::from_utf8(lib).unwrap();
    let at = lib
        .find("ARENA_BYTES: usize =")
        .expect("generated code declares ARENA_BYTES");
    let value: String = lib[at + "ARENA_BYTES: usize =".len()..]
        .chars()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_ascii_digit() || *c == '_')
        .filter(|&c| c != '_')
        .collect();
    value.parse().unwrap()
}

fn attr<T: std::str::FromStr>(node: roxmltree::Node, name: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    let value = node
        .attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no {name}", node.tag_name().name()));
    value
        .parse()
        .unwrap_or_else(|e| panic!("{name}=\"{value}\": {e:?}"))
}

fn has_class(node: &roxmltree::Node, class: &str) -> bool {
    node.attribute("class") == Some(class)
}

/// Checks an SVG drawing of `compiled` (its plan, tooltips, peak and geometry).
fn check_svg(svg: &str, compiled: &Compiled, arena_bytes: usize, what: &str) {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("{what}: the SVG is not well-formed XML: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg", "{what}");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg"),
        "{what}"
    );
    let (width, height): (f64, f64) = (attr(root, "width"), attr(root, "height"));

    let rects: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && has_class(n, "buffer"))
        .collect();
    assert_eq!(
        rects.len(),
        compiled.plan.buffers.len(),
        "{what}: one buffer rectangle per planned buffer"
    );
    let mut drawn: Vec<(usize, usize, usize, usize, usize)> = rects
        .iter()
        .map(|&r| {
            (
                attr(r, "data-tensor"),
                attr(r, "data-offset"),
                attr(r, "data-bytes"),
                attr(r, "data-first"),
                attr(r, "data-last"),
            )
        })
        .collect();
    let mut planned: Vec<_> = compiled
        .plan
        .buffers
        .iter()
        .map(|b| (b.tensor, b.offset, b.bytes, b.first, b.last))
        .collect();
    drawn.sort_unstable();
    planned.sort_unstable();
    assert_eq!(drawn, planned, "{what}: rectangles match the plan");

    for &r in &rects {
        let tensor: usize = attr(r, "data-tensor");
        // Inside the image, and a tooltip naming the tensor in full on its group.
        let (x, y, w, h): (f64, f64, f64, f64) = (
            attr(r, "x"),
            attr(r, "y"),
            attr(r, "width"),
            attr(r, "height"),
        );
        assert!(
            x >= 0.0 && y >= 0.0 && w > 0.0 && h > 0.0 && x + w <= width && y + h <= height,
            "{what}: buffer {tensor} is outside the image"
        );
        let title = r
            .parent()
            .unwrap()
            .children()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .unwrap_or_else(|| panic!("{what}: buffer {tensor} has no tooltip"));
        let name = &compiled.graph.tensors[tensor].name;
        assert!(
            title.starts_with(&format!("tensor {tensor}: {name}\n")),
            "{what}: tooltip of {tensor}: {title}"
        );
    }
    // Later layers are further right, higher offsets further up.
    let by_tensor = |t: usize| {
        let r = rects
            .iter()
            .find(|r| attr::<usize>(**r, "data-tensor") == t)
            .unwrap();
        (attr::<f64>(*r, "x"), attr::<f64>(*r, "y"))
    };
    for a in &compiled.plan.buffers {
        for b in &compiled.plan.buffers {
            let ((ax, ay), (bx, by)) = (by_tensor(a.tensor), by_tensor(b.tensor));
            if a.first < b.first {
                assert!(ax < bx, "{what}: x order of {} and {}", a.tensor, b.tensor);
            }
            if a.offset + a.bytes > b.offset + b.bytes {
                assert!(ay <= by, "{what}: y order of {} and {}", a.tensor, b.tensor);
            }
        }
    }

    let peaks: Vec<_> = doc.descendants().filter(|n| has_class(n, "peak")).collect();
    assert_eq!(peaks.len(), 1, "{what}: one peak marker");
    let peak = peaks[0];
    assert_eq!(
        attr::<usize>(peak, "data-bytes"),
        arena_bytes,
        "{what}: peak = ARENA_BYTES"
    );
    // The peak line touches the top of the highest buffer.
    let (y1, y2): (f64, f64) = (attr(peak, "y1"), attr(peak, "y2"));
    assert_eq!(y1, y2, "{what}: the peak line is horizontal");
    let highest = rects
        .iter()
        .filter(|r| {
            attr::<usize>(**r, "data-offset") + attr::<usize>(**r, "data-bytes") == arena_bytes
        })
        .map(|r| attr::<f64>(*r, "y"))
        .collect::<Vec<_>>();
    assert_eq!(
        highest.is_empty(),
        rects.is_empty(),
        "{what}: a buffer reaches the peak"
    );
    for y in highest {
        assert!(
            (y - y1).abs() < 0.11,
            "{what}: peak at y={y1}, top buffer at {y}"
        );
    }
    let peak_label = doc
        .descendants()
        .find(|n| has_class(n, "peak-label"))
        .and_then(|n| n.text())
        .unwrap_or_default()
        .replace(',', "");
    assert!(
        peak_label.contains(&arena_bytes.to_string()),
        "{what}: peak label '{peak_label}'"
    );
}

#[test]
fn svg_draws_every_buffer_and_the_peak() {
    let dir = scratch("svg");
    for model in models() {
        let compiled = compile(&model);
        let arena_bytes = arena_bytes_const(&model);
        assert_eq!(arena_bytes, compiled.plan.arena_bytes);
        let svg_path = dir.join("arena.svg");
        let stdout = kiln_ok(&[
            "inspect".as_ref(),
            model.as_os_str(),
            "--svg".as_ref(),
            svg_path.as_os_str(),
        ]);
        assert!(
            stdout.ends_with(&format!("wrote arena drawing to {}\n", svg_path.display())),
            "{stdout}"
        );
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        check_svg(&svg, &compiled, arena_bytes, &model.display().to_string());

        // `--svg -` writes the same drawing, alone, to stdout.
        let stdout = kiln_ok(&[
            "inspect".as_ref(),
            model.as_os_str(),
            "--svg".as_ref(),
            "-".as_ref(),
        ]);
        assert_eq!(stdout, svg);
    }
}

#[test]
fn json_has_the_plan_and_the_layers() {
    let dir = scratch("json");
    for model in models() {
        let what = model.display().to_string();
        let compiled = compile(&model);
        let stdout = kiln_ok(&[
            "inspect".as_ref(),
            model.as_os_str(),
            "--json".as_ref(),
            "-".as_ref(),
        ]);
        let json: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{what}: invalid JSON: {e}\n{stdout}"));
        assert_eq!(json["arena_bytes"], compiled.plan.arena_bytes, "{what}");
        assert_eq!(json["arena_bytes"], arena_bytes_const(&model), "{what}");
        assert_eq!(json["macs"], compiled.macs(), "{what}");
        assert_eq!(json["weight_bytes"], compiled.weight_bytes(), "{what}");

        let buffers = json["buffers"].as_array().expect("buffers");
        assert_eq!(buffers.len(), compiled.plan.buffers.len(), "{what}");
        for (j, b) in buffers.iter().zip(&compiled.plan.buffers) {
            assert_eq!(j["tensor"], b.tensor, "{what}");
            assert_eq!(j["name"], *compiled.graph.tensors[b.tensor].name, "{what}");
            assert_eq!(j["offset"], b.offset, "{what}");
            assert_eq!(j["bytes"], b.bytes, "{what}");
            assert_eq!(j["first"], b.first, "{what}");
            assert_eq!(j["last"], b.last, "{what}");
        }

        let layers = json["layers"].as_array().expect("layers");
        assert_eq!(layers.len(), compiled.layers.len(), "{what}");
        for (i, (j, l)) in layers.iter().zip(&compiled.layers).enumerate() {
            assert_eq!(j["index"], l.index, "{what}");
            assert_eq!(j["op"], l.op_name, "{what}");
            assert_eq!(j["runs"], compiled.plan.runs[i], "{what}");
            assert_eq!(j["macs"], l.macs, "{what}");
            assert_eq!(j["weight_bytes"], l.weight_bytes(), "{what}");
            let inputs = j["inputs"].as_array().expect("inputs");
            assert_eq!(inputs.len(), l.inputs.len(), "{what}");
            for (ji, &t) in inputs.iter().zip(&l.inputs) {
                assert_eq!(ji["tensor"], t, "{what}");
            }
            let out = &j["output"];
            let tensor = &compiled.graph.tensors[l.output];
            assert_eq!(out["tensor"], l.output, "{what}");
            assert_eq!(out["dtype"], tensor.dtype.to_string(), "{what}");
            assert_eq!(out["shape"], serde_json::json!(tensor.shape), "{what}");
            let location = &out["location"];
            match compiled.plan.locations[l.output] {
                Location::Arena { buffer, offset, .. } => {
                    assert_eq!(location["kind"], "arena", "{what}");
                    assert_eq!(location["buffer"], buffer, "{what}");
                    assert_eq!(location["offset"], offset, "{what}");
                }
                Location::Output(k) => {
                    assert_eq!(location["kind"], "output", "{what}");
                    assert_eq!(location["index"], k, "{what}");
                }
                other => panic!("{what}: layer {i} writes {other:?}"),
            }
        }

        // To a file: the same document, and the usual tables on stdout.
        let path = dir.join("plan.json");
        let tables = kiln_ok(&[
            "inspect".as_ref(),
            model.as_os_str(),
            "--json".as_ref(),
            path.as_os_str(),
        ]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), stdout);
        assert!(tables.contains(&compiled.plan_table()), "{tables}");
    }
}

#[test]
fn plain_inspect_prints_the_tables_only() {
    for model in models() {
        let compiled = compile(&model);
        let stdout = kiln_ok(&["inspect".as_ref(), model.as_os_str()]);
        let expected = format!(
            "{}\n{}\ntotal: {} MACs, weights {} bytes\n\n{}\n",
            model.display(),
            compiled.layer_table(),
            compiled.macs(),
            compiled.weight_bytes(),
            compiled.plan_table()
        );
        assert_eq!(stdout, expected);
    }
}

#[test]
fn only_one_output_can_use_stdout() {
    let model = &models()[0];
    let out = kiln(&[
        "inspect".as_ref(),
        model.as_os_str(),
        "--svg".as_ref(),
        "-".as_ref(),
        "--json".as_ref(),
        "-".as_ref(),
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --svg - and --json - cannot both write to stdout\n"
    );
}

/// Names straight from the model file are escaped: a tensor named `<b&"'\` + tab + `>`.
#[test]
fn hostile_tensor_names_are_escaped() {
    let dir = scratch("escape");
    let mut bytes = std::fs::read(&models()[0]).unwrap();
    let (from, to) = (b"conv2d_0", b"<b&\"'\\\t>");
    assert_eq!(from.len(), to.len());
    let mut replaced = 0;
    for i in 0..=bytes.len() - from.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            replaced += 1;
        }
    }
    assert!(replaced > 0);
    let model = dir.join("model.tflite");
    std::fs::write(&model, &bytes).unwrap();
    let compiled = kiln_codegen::compile(&bytes).unwrap();
    let name = std::str::from_utf8(to).unwrap();
    assert!(
        compiled.graph.tensors.iter().any(|t| t.name == name),
        "the patched model has the tensor"
    );

    let svg = kiln_ok(&[
        "inspect".as_ref(),
        model.as_os_str(),
        "--svg".as_ref(),
        "-".as_ref(),
    ]);
    check_svg(
        &svg,
        &compiled,
        compiled.plan.arena_bytes,
        "patched tiny_kws",
    );
    let json = kiln_ok(&[
        "inspect".as_ref(),
        model.as_os_str(),
        "--json".as_ref(),
        "-".as_ref(),
    ]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = json["buffers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&name), "{names:?}");
}

/// Every fixture kiln compiles draws and serializes consistently (through the library, to
/// cover models with no arena at all, aliases and float tensors).
#[test]
fn every_fixture_draws_and_serializes() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("fixtures/models")).unwrap() {
        let model = entry.unwrap().path().join("model.tflite");
        let Ok(compiled) = kiln_codegen::compile(&std::fs::read(&model).unwrap()) else {
            continue;
        };
        let what = model.display().to_string();
        let svg = compiled.arena_svg("fixture");
        check_svg(&svg, &compiled, compiled.plan.arena_bytes, &what);
        let json: serde_json::Value = serde_json::from_str(&compiled.inspect_json("fixture"))
            .unwrap_or_else(|e| panic!("{what}: invalid JSON: {e}"));
        assert_eq!(json["arena_bytes"], compiled.plan.arena_bytes, "{what}");
        assert_eq!(
            json["buffers"].as_array().unwrap().len(),
            compiled.plan.buffers.len(),
            "{what}"
        );
        assert_eq!(
            json["layers"].as_array().unwrap().len(),
            compiled.layers.len(),
            "{what}"
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} fixtures compiled");
}
