//! TFLite Micro's "hello world" on an RP2040 (Cortex-M0+) with embassy.
//!
//! kiln compiles the hello_world_int8 model, a small int8 network trained to approximate
//! sin(x) on [0, 2π], into this firmware at build time. The firmware sweeps x over one
//! period, runs the model on each value and prints x and the model's estimate of sin(x) over
//! defmt/RTT.
#![no_std]
#![no_main]

use core::f32::consts::TAU;

use defmt::info;
use embassy_executor::Spawner;
use embassy_time::{Instant, Timer};
use static_cell::ConstStaticCell;
use {defmt_rtt as _, panic_probe as _};

// Generates `mod sine` with `Model`, `Input` (= [i8; 1]), `Output` (= [i8; 1]) and the
// `quantize_input` / `dequantize_output` helpers, tuned for the RP2040's Cortex-M0+.
// The path is relative to this crate's Cargo.toml.
kiln::include_model!(
    "../../../shared/models/hello_world_int8/model.tflite",
    name = sine,
    target = "rp2040"
);

/// Points per period of the sweep.
const STEPS: u32 = 20;

/// The model lives in a `static` (`Model::new` is `const`); `take` hands out the one `&mut`.
static MODEL: ConstStaticCell<sine::Model> = ConstStaticCell::new(sine::Model::new());

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let _p = embassy_rp::init(Default::default());
    let model = MODEL.take();
    info!("kiln sine on RP2040");

    loop {
        for step in 0..STEPS {
            let x = step as f32 * TAU / STEPS as f32;

            // The model works on int8: quantize x with the input's scale and zero point,
            // run it, and turn the int8 output back into a real number.
            let input = sine::quantize_input(&[x]);
            let start = Instant::now();
            let output = model.predict(&input);
            let took = start.elapsed();
            let [y] = sine::dequantize_output(output);

            info!(
                "x = {=f32}  sin(x) ≈ {=f32}  ({} µs)",
                x,
                y,
                took.as_micros()
            );
            Timer::after_millis(250).await;
        }
    }
}
