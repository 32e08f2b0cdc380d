//! TFLite Micro's "magic wand" gesture recognizer on an ESP32-C3 (RISC-V) with esp-hal.
//!
//! kiln compiles the magic_wand model (a small float32 CNN over 128 accelerometer samples,
//! x/y/z) into this firmware at build time. The firmware classifies two recorded gestures in
//! turn, one a second, and prints the gesture, its score and the inference time with
//! esp-println. On a real device the samples would come from an accelerometer (e.g. over I²C).
#![no_std]
#![no_main]

use esp_backtrace as _; // panic handler: prints a backtrace with esp-println
use esp_hal::clock::CpuClock;
use esp_hal::time::{Duration, Instant};
use esp_println::println;
use static_cell::ConstStaticCell;

// The application descriptor that the ESP-IDF bootloader and the flashing tools check.
esp_bootloader_esp_idf::esp_app_desc!();

// Generates `mod wand` with `Model`, `Input` (= [f32; 128 * 3]), `Output` (= [f32; 4]) and
// `top_class`, for the ESP32-C3's RV32IMC core. The path is relative to this crate's Cargo.toml.
kiln::include_model!(
    "../../../shared/models/magic_wand/model.tflite",
    name = wand,
    target = "esp32c3"
);

/// The model's classes, in output order.
const LABELS: [&str; 4] = ["wing (W)", "ring (O)", "slope (L)", "no gesture"];

/// Two recorded gestures (TFLite Micro's `ring_micro_features_data.cc` and
/// `slope_micro_features_data.cc`): 128 × (x, y, z) samples, stored as little-endian f32.
static GESTURES: [(&str, wand::Input); 2] = [
    (
        "ring",
        le_bytes_to_f32(include_bytes!(
            "../../../../shared/models/magic_wand/golden/in_real_ring.bin"
        )),
    ),
    (
        "slope",
        le_bytes_to_f32(include_bytes!(
            "../../../../shared/models/magic_wand/golden/in_real_slope.bin"
        )),
    ),
];

/// The model's arena (about 14 KiB) lives in `.bss`, not on the stack: `Model::new` is
/// `const`, so the cell is filled in at compile time and `take` hands out the one `&mut`.
static MODEL: ConstStaticCell<wand::Model> = ConstStaticCell::new(wand::Model::new());

#[esp_hal::main]
fn main() -> ! {
    let _peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    let model = MODEL.take();
    println!(
        "kiln magic wand on ESP32-C3, arena {} bytes",
        wand::ARENA_BYTES
    );

    loop {
        for (name, gesture) in &GESTURES {
            let start = Instant::now();
            let scores = model.predict(gesture);
            let took = start.elapsed();

            // Softmax output: the scores are probabilities in [0, 1].
            let class = wand::top_class(scores);
            println!(
                "{name} recording: {} (p = {:.3}) in {} µs",
                LABELS[class],
                scores[class],
                took.as_micros()
            );

            let wait = Instant::now();
            while wait.elapsed() < Duration::from_secs(1) {}
        }
    }
}

/// `include_bytes!` gives little-endian bytes; the model takes `[f32; N]`.
const fn le_bytes_to_f32<const N: usize>(bytes: &[u8]) -> [f32; N] {
    assert!(bytes.len() == 4 * N, "wrong number of bytes for the input");
    let mut out = [0.0; N];
    let mut i = 0;
    while i < N {
        let at = 4 * i;
        out[i] = f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        i += 1;
    }
    out
}
