//! Two models, one arena: the MLPerf Tiny keyword spotter and anomaly detector, compiled by
//! `kiln::include_model!` for the Cortex-M4F, run one after the other on a single arena buffer
//! that this firmware owns. Runs in QEMU (`cargo run --release`) and prints what each model
//! found and whether its output is byte for byte TFLM's (the golden files beside the models).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

// The models, from the shared model folder beside the repository. Each becomes a module:
// `kws::SharedModel`, `kws::Input`, `kws::ARENA_LEN`, ...
kiln::include_model!("../../../shared/models/mlperf_kws/model.tflite", name = kws, target = "cortex-m4f");
kiln::include_model!("../../../shared/models/mlperf_ad/model.tflite", name = ad, target = "cortex-m4f");

/// One buffer for both arenas: the longer of the two. (A shorter one would not compile.)
const SHARED_ARENA_LEN: usize = if kws::ARENA_LEN > ad::ARENA_LEN {
    kws::ARENA_LEN
} else {
    ad::ARENA_LEN
};

/// The keyword spotter's classes, in output order (MLPerf Tiny KWS, Speech Commands v2).
const KEYWORDS: [&str; 12] = [
    "down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown",
];

/// A spectrogram from the MLPerf Tiny reference submission and TFLM's answer to it.
static KWS_INPUT: [u8; 490] = *include_bytes!("../../../../shared/models/mlperf_kws/golden/in_real_sample0.bin");
static KWS_GOLDEN: [u8; 12] = *include_bytes!("../../../../shared/models/mlperf_kws/golden/out_real_sample0.bin");
/// A ToyCar machine-sound feature vector (640 float32) and TFLM's reconstruction of it.
static AD_INPUT: [u8; 2560] = *include_bytes!("../../../../shared/models/mlperf_ad/golden/in_real_vec0.bin");
static AD_GOLDEN: [u8; 2560] = *include_bytes!("../../../../shared/models/mlperf_ad/golden/out_real_vec0.bin");

#[entry]
fn main() -> ! {
    // The models keep only their outputs and kernel scratch; the arena comes with each call.
    // (On a board, put these in `static`s, e.g. through `static_cell`; QEMU has RAM to spare.)
    let mut arena = [0i8; SHARED_ARENA_LEN];
    let mut keyword_spotter = kws::SharedModel::new();
    let mut anomaly_detector = ad::SharedModel::new();

    // Keyword spotting: int8 features in, int8 class scores out.
    let features: kws::Input = KWS_INPUT.map(|b| b as i8);
    let scores = keyword_spotter.predict(&mut arena, &features);
    let class = kws::top_class(scores);
    let kws_exact = scores.map(|s| s as u8) == KWS_GOLDEN;
    let probability = kws::dequantize_output(scores)[class];
    hprintln!(
        "kws: \"{}\" (class {}, p = {:.3}); TFLM's output byte for byte: {}",
        KEYWORDS[class],
        class,
        probability,
        if kws_exact { "yes" } else { "NO" }
    );

    // Anomaly detection on the same arena: float32 in, the autoencoder's reconstruction out;
    // the anomaly score is the mean squared reconstruction error.
    let mut sound = [0f32; 640];
    for (x, bytes) in sound.iter_mut().zip(AD_INPUT.chunks_exact(4)) {
        *x = f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let reconstruction = anomaly_detector.predict(&mut arena, &sound);
    let ad_exact = reconstruction
        .iter()
        .zip(AD_GOLDEN.chunks_exact(4))
        .all(|(x, b)| x.to_le_bytes() == [b[0], b[1], b[2], b[3]]);
    let score = sound
        .iter()
        .zip(reconstruction.iter())
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        / sound.len() as f32;
    hprintln!(
        "ad: anomaly score {:.3} (mean squared error); TFLM's output byte for byte: {}",
        score,
        if ad_exact { "yes" } else { "NO" }
    );

    hprintln!(
        "RAM: one {}-byte arena for both models (kws {} + ad {} if each had its own)",
        SHARED_ARENA_LEN,
        kws::ARENA_LEN,
        ad::ARENA_LEN
    );
    if kws_exact && ad_exact {
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        debug::exit(debug::EXIT_FAILURE);
    }
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
