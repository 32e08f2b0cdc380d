//! Keyword spotting on an nRF52840 (Cortex-M4F) with embassy.
//!
//! kiln compiles MLPerf Tiny's DS-CNN keyword-spotting model into this firmware at build time.
//! The firmware classifies one feature frame (49 × 10 MFCCs, already quantized to int8) once
//! a second and prints the keyword over defmt/RTT. On a real device the frame would come from
//! the microphone (PDM) through an MFCC front end; here it is the MLPerf reference sample.
#![no_std]
#![no_main]

use defmt::info;
use embassy_executor::Spawner;
use embassy_time::{Instant, Timer};
use static_cell::ConstStaticCell;
use {defmt_rtt as _, panic_probe as _};

// Generates `mod kws` with `Model`, `Input` (= [i8; 490]), `Output` (= [i8; 12]), `top_class`,
// `dequantize_output`, … tuned for the nRF52840's Cortex-M4F (DSP instructions).
// The path is relative to this crate's Cargo.toml.
kiln::include_model!(
    "../../../shared/models/mlperf_kws/model.tflite",
    name = kws,
    target = "nrf52840"
);

/// The model's classes, in output order (MLCommons Tiny's keyword-spotting training script).
const LABELS: [&str; 12] = [
    "Down", "Go", "Left", "No", "Off", "On", "Right", "Stop", "Up", "Yes", "Silence", "Unknown",
];

/// One feature frame: the int8 MFCC input of MLPerf Tiny's reference KWS submission
/// (`kws_input_data.cc`), stored as raw bytes.
static FEATURES: kws::Input = bytes_to_i8(include_bytes!(
    "../../../../shared/models/mlperf_kws/golden/in_real_sample0.bin"
));

/// The model's arena (about 11 KiB) lives in `.bss`, not on the stack: `Model::new` is
/// `const`, so the cell is filled in at compile time and `take` hands out the one `&mut`.
static MODEL: ConstStaticCell<kws::Model> = ConstStaticCell::new(kws::Model::new());

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let _p = embassy_nrf::init(Default::default());
    let model = MODEL.take();
    info!(
        "kiln keyword spotting on nRF52840, arena {} bytes",
        kws::ARENA_BYTES
    );

    loop {
        let start = Instant::now();
        let scores = model.predict(&FEATURES);
        let took = start.elapsed();

        let class = kws::top_class(scores);
        // Softmax output: dequantized, the scores are probabilities in [0, 1].
        let probability = kws::dequantize_output(scores)[class];
        info!(
            "keyword: class {} \"{}\" (p = {=f32}) in {} ms",
            class,
            LABELS[class],
            probability,
            took.as_millis()
        );

        Timer::after_secs(1).await;
    }
}

/// `include_bytes!` gives `[u8; N]`; the model takes `[i8; N]` (the same bits).
const fn bytes_to_i8<const N: usize>(bytes: &[u8; N]) -> [i8; N] {
    let mut out = [0i8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i] as i8;
        i += 1;
    }
    out
}
