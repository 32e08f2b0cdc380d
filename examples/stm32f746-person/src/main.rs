//! Person detection on an STM32F746 (Cortex-M7, 216 MHz) with embassy.
//!
//! kiln compiles TFLite Micro's person-detection model (a MobileNet on 96 × 96 grayscale
//! frames) into this firmware at build time. The firmware classifies two stored frames in
//! turn, one a second, and prints "person" / "no person" over defmt/RTT. On a real device the
//! frame would come from the camera (DCMI on the 32F746G-DISCOVERY), downscaled to 96 × 96.
#![no_std]
#![no_main]

use defmt::info;
use embassy_executor::Spawner;
use embassy_stm32::rcc::{
    AHBPrescaler, APBPrescaler, Pll, PllMul, PllPDiv, PllPreDiv, PllSource, Sysclk,
};
use embassy_time::{Instant, Timer};
use static_cell::ConstStaticCell;
use {defmt_rtt as _, panic_probe as _};

// Generates `mod person` with `Model`, `Input` (= [i8; 96 * 96]), `Output` (= [i8; 2]),
// `top_class`, `dequantize_output`, … tuned for the STM32F746's Cortex-M7 (DSP instructions).
// The path is relative to this crate's Cargo.toml.
kiln::include_model!(
    "../../../shared/models/person_detect/model.tflite",
    name = person,
    target = "stm32f746"
);

/// The model's classes, in output order.
const LABELS: [&str; 2] = ["no person", "person"];

/// Two 96 × 96 grayscale frames (TFLite Micro's `person.bmp` and `no_person.bmp` test
/// images), one byte per pixel, row by row, fed as int8 exactly as TFLite Micro's test does.
static FRAMES: [(&str, person::Input); 2] = [
    (
        "person.bmp",
        bytes_to_i8(include_bytes!(
            "../../../../shared/models/person_detect/golden/in_real_person.bin"
        )),
    ),
    (
        "no_person.bmp",
        bytes_to_i8(include_bytes!(
            "../../../../shared/models/person_detect/golden/in_real_no_person.bin"
        )),
    ),
];

/// The model's arena (about 40 KiB) lives in `.bss`, not on the stack: `Model::new` is
/// `const`, so the cell is filled in at compile time and `take` hands out the one `&mut`.
static MODEL: ConstStaticCell<person::Model> = ConstStaticCell::new(person::Model::new());

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    // 216 MHz from the internal 16 MHz oscillator (so any F746 board works):
    // 16 MHz / 8 × 216 / 2. The buses stay within their limits (54 and 108 MHz).
    let mut config = embassy_stm32::Config::default();
    config.rcc.pll_src = PllSource::HSI;
    config.rcc.pll = Some(Pll {
        prediv: PllPreDiv::DIV8,
        mul: PllMul::MUL216,
        divp: Some(PllPDiv::DIV2),
        divq: None,
        divr: None,
    });
    config.rcc.sys = Sysclk::PLL1_P;
    config.rcc.ahb_pre = AHBPrescaler::DIV1;
    config.rcc.apb1_pre = APBPrescaler::DIV4;
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    let _p = embassy_stm32::init(config);

    // The Cortex-M7's caches make inference several times faster (weights are read from
    // flash). Nothing here uses DMA, so the data cache needs no maintenance.
    if let Some(mut core) = cortex_m::Peripherals::take() {
        core.SCB.enable_icache();
        core.SCB.enable_dcache(&mut core.CPUID);
    }

    let model = MODEL.take();
    info!(
        "kiln person detection on STM32F746, arena {} bytes",
        person::ARENA_BYTES
    );

    loop {
        for (name, frame) in &FRAMES {
            let start = Instant::now();
            let scores = model.predict(frame);
            let took = start.elapsed();

            let class = person::top_class(scores);
            // Softmax output: dequantized, the scores are probabilities in [0, 1].
            let probability = person::dequantize_output(scores)[class];
            info!(
                "{}: {} (p = {=f32}) in {} ms",
                name,
                LABELS[class],
                probability,
                took.as_millis()
            );

            Timer::after_secs(1).await;
        }
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
