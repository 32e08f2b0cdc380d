//! The whole pipeline tuned for targets: Cortex-M4F (SMLAD kernels) and the micro:bit board
//! (Cortex-M0 unrolled layers and the flash/RAM fit check).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for target in ["cortex-m4f", "microbit"] {
        let _ = kiln_codegen::exercise::pipeline(data, Some(target));
    }
});
