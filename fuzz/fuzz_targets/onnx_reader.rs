//! The ONNX reader alone: any bytes give a graph or a `ReadError` (one clean line), never a
//! panic, and never unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kiln_codegen::exercise::onnx_reader(data);
});
