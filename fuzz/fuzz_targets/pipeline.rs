//! The whole pipeline on portable code: read, validate, plan, inspect (tables, JSON, SVG), the
//! `include_model!` module and the `kiln build` crate. Errors are fine; a panic, an error
//! message that is not one clean line, or generated text with a control character is a
//! finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kiln_codegen::exercise::pipeline(data, None);
});
