//! The ONNX front-end's errors and hardening: every truncation and thousands of corrupted
//! copies of the ONNX fixtures are errors (one line) or models, never a panic; an unsupported
//! operator is named with its node and the supported list; format detection.

use std::panic::catch_unwind;

use kiln_codegen::{compile, generate_crate, Error};
use kiln_e2e::repo_root;
use kiln_fixtures::rng::Rng;

/// The committed ONNX fixtures' bytes, by name (the small ones: every truncation of each is
/// compiled).
fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = repo_root().join("fixtures/onnx/models");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            (name, std::fs::read(e.path().join("model.onnx")).unwrap())
        })
        .filter(|(_, bytes)| bytes.len() < 32 << 10)
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no ONNX fixtures in {}", dir.display());
    out
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join(format!("fixtures/onnx/models/{name}/model.onnx"))).unwrap()
}

/// Compiles `bytes`: `Ok(true)` when they compile (and the crate generates), `Ok(false)` for
/// an error of one line, `Err` for a panic or a bad message.
fn outcome(bytes: &[u8]) -> Result<bool, String> {
    match catch_unwind(|| compile(bytes)) {
        Err(_) => Err("compile panicked".into()),
        Ok(Ok(_)) => match catch_unwind(|| generate_crate(bytes, "fuzz", "fuzz.onnx")) {
            Err(_) => Err("generate_crate panicked".into()),
            Ok(Err(e)) => Err(format!("generate_crate failed after compile: {e}")),
            Ok(Ok(_)) => Ok(true),
        },
        Ok(Err(e)) => {
            let text = e.to_string();
            if text.trim().is_empty() || text.contains('\n') {
                Err(format!("message is not one non-empty line: {text:?}"))
            } else {
                Ok(false)
            }
        }
    }
}

fn assert_no_problems(what: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{what}: {} problems, first: {:?}",
        problems.len(),
        &problems[..problems.len().min(5)]
    );
}

#[test]
fn every_truncation_is_an_error() {
    // ModelProto's operator-set import (field 8: the default domain, version 13); what follows
    // it (metadata) is optional, so a truncation after it is a complete model.
    const OPSET_13: &[u8] = &[0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d];
    for (name, bytes) in fixtures() {
        assert_eq!(outcome(&bytes), Ok(true), "{name} must compile intact");
        let complete = bytes
            .windows(OPSET_13.len())
            .rposition(|w| w == OPSET_13)
            .map(|at| at + OPSET_13.len())
            .expect("an operator-set import");
        let problems: Vec<String> = (0..bytes.len())
            .filter_map(|len| match outcome(&bytes[..len]) {
                Ok(false) => None,
                Ok(true) if len >= complete => None,
                Ok(true) => Some(format!("{name} truncated to {len}: compiled")),
                Err(e) => Some(format!("{name} truncated to {len}: {e}")),
            })
            .collect();
        assert_no_problems("truncated ONNX fixtures", &problems);
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let mut rng = Rng::new(0x0A1B_2C3D_4E5F_6071);
    let mut problems = Vec::new();
    let (mut compiled, mut failed) = (0, 0);
    for (name, bytes) in fixtures() {
        for i in 0..300 {
            let mut b = bytes.clone();
            for _ in 0..1 + rng.index(4) {
                let at = rng.index(b.len());
                b[at] = match rng.index(3) {
                    0 => b[at] ^ (1 << rng.index(8)),
                    1 => rng.next_u64() as u8,
                    // Small varints: lengths, dimensions, enum values.
                    _ => rng.index(16) as u8,
                };
            }
            match outcome(&b) {
                Ok(true) => compiled += 1,
                Ok(false) => failed += 1,
                Err(e) => problems.push(format!("{name} corruption {i}: {e}")),
            }
        }
    }
    assert_no_problems("corrupted ONNX fixtures", &problems);
    assert!(
        failed > 0 && compiled > 0,
        "{compiled} compiled, {failed} failed"
    );
}

#[test]
fn unsupported_operator_names_its_node_and_the_supported_list() {
    // conv_pool_fc with its MaxPool renamed (same length, so the protobuf stays valid).
    let mut bytes = fixture("conv_pool_fc");
    let at = bytes
        .windows(7)
        .position(|w| w == b"MaxPool")
        .expect("a MaxPool node");
    bytes[at..at + 7].copy_from_slice(b"MaxPoox");
    let Err(e) = compile(&bytes) else {
        panic!("the renamed operator compiled");
    };
    let text = e.to_string();
    assert!(matches!(e, Error::ReadOnnx(_)), "{e:?}");
    let mut supported = kiln_codegen::front::onnx::SUPPORTED_OPS.to_vec();
    supported.sort_unstable();
    assert!(supported.contains(&"MaxPool") && supported.len() > 10);
    for part in [
        "ONNX node 11 'maxpool_5_node' is MaxPoox",
        "which kiln does not support yet",
        &format!("(supported: {}; ", supported.join(", ")),
        &format!(
            "in QOperator form: {})",
            kiln_codegen::front::onnx::QOPERATOR_OPS.join(", ")
        ),
    ] {
        assert!(text.contains(part), "{text}");
    }
}

#[test]
fn random_bytes_are_read_errors_that_name_both_formats() {
    let mut rng = Rng::new(0x0DD5_EED5);
    for i in 0..2000 {
        let len = 8 + rng.index(256);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        if i % 2 == 0 {
            bytes[0] = 0x08; // ONNX's first byte: taken for ONNX
        } else if bytes[0] == 0x08 {
            bytes[0] = 0x09;
        }
        let Err(e) = compile(&bytes) else {
            panic!("random bytes {i} compiled: {bytes:02x?}");
        };
        let text = e.to_string();
        match e {
            Error::ReadOnnx(_) => assert_eq!(bytes[0], 0x08, "{text}"),
            Error::Read(_) => assert!(
                text.contains("expected \"TFL3\"") && text.contains("nor is it an ONNX model"),
                "{text}"
            ),
            other => panic!("unexpected {other:?}"),
        }
    }
}
