//! Keyword spotting from raw audio on a Cortex-M4F: one second of "yes" and one of "no"
//! (16 kHz PCM in flash) go through TFLM's audio front-end model (`audio_preprocessor_int8`:
//! window, FFT, filter bank, noise reduction, PCAN, log) 20 ms at a time, and the last 49
//! feature rows through `micro_speech`. Both models are compiled by `kiln::include_model!`.
//!
//! The firmware prints the word it heard for each recording and how many instructions the
//! front end takes per 20 ms frame and the classifier per inference, and exits with failure
//! unless the feature maps and the scores are TFLM's byte for byte (micro_speech's
//! `in_real_pcm_*` / `out_real_pcm_*` goldens) and the words are "yes" then "no".
//!
//! Instruction counts come from SysTick: the runner (`.cargo/config.toml`) starts QEMU with
//! `-icount shift=0`, one instruction per nanosecond of virtual time, and SysTick counts the
//! 25 MHz processor clock, so one tick is 40 instructions.
#![no_std]
#![no_main]

use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

kiln::include_model!(
    "../../../shared/models/audio_preprocessor_int8/model.tflite",
    name = front_end,
    target = "cortex-m4f"
);
kiln::include_model!(
    "../../../shared/models/micro_speech/model.tflite",
    name = micro_speech,
    target = "cortex-m4f"
);

/// Samples per front-end frame (30 ms at 16 kHz) and new samples per frame (20 ms).
const WINDOW: usize = 480;
const STRIDE: usize = 320;
/// Feature rows per classifier input (one second), and values per row.
const ROWS: usize = 49;
const ROW_LEN: usize = 40;
/// Samples per recording: the first frame, then one stride per further frame.
const RECORDING_LEN: usize = WINDOW + (ROWS - 1) * STRIDE;
/// Instructions per SysTick tick under `-icount shift=0` (1 ns each, 25 MHz SysTick clock).
const INSTRUCTIONS_PER_TICK: u32 = 40;
/// The clock the real-time margin is stated for (a typical Cortex-M4 part), and a frame's time.
const CLOCK_HZ: u32 = 64_000_000;
const FRAME_MS: u32 = 20;

/// micro_speech's classes, in output order.
const CLASSES: [&str; 4] = ["silence", "unknown", "yes", "no"];

/// The two recordings as 16 kHz little-endian PCM (build.rs joins the stream's frames).
static PCM: [&[u8; 2 * RECORDING_LEN]; 2] = [
    include_bytes!(concat!(env!("OUT_DIR"), "/yes.pcm")),
    include_bytes!(concat!(env!("OUT_DIR"), "/no.pcm")),
];
/// What TFLM's front end and classifier made of them.
static GOLDEN_FEATURES: [&[u8; ROWS * ROW_LEN]; 2] = [
    include_bytes!("../../../../shared/models/micro_speech/golden/in_real_pcm_yes.bin"),
    include_bytes!("../../../../shared/models/micro_speech/golden/in_real_pcm_no.bin"),
];
static GOLDEN_SCORES: [&[u8; 4]; 2] = [
    include_bytes!("../../../../shared/models/micro_speech/golden/out_real_pcm_yes.bin"),
    include_bytes!("../../../../shared/models/micro_speech/golden/out_real_pcm_no.bin"),
];
/// The word each recording says.
const SPOKEN: [&str; 2] = ["yes", "no"];

/// SysTick as a down-counter over its full 24 bits.
struct Stopwatch(SYST);

impl Stopwatch {
    fn new(mut syst: SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00FF_FFFF);
        syst.clear_current();
        syst.enable_counter();
        Stopwatch(syst)
    }

    /// Runs `f` and returns its result and the instructions it took (to within 40; the
    /// measurement itself adds a handful). Anything under 671 M instructions fits 24 bits.
    fn measure<T>(&mut self, f: impl FnOnce() -> T) -> (T, u32) {
        let start = SYST::get_current();
        let result = f();
        let end = SYST::get_current();
        let ticks = start.wrapping_sub(end) & 0x00FF_FFFF;
        (result, ticks * INSTRUCTIONS_PER_TICK)
    }
}

/// The least, mean and most of some instruction counts.
#[derive(Default)]
struct Spread {
    min: u32,
    max: u32,
    sum: u64,
    count: u32,
}

impl Spread {
    fn add(&mut self, x: u32) {
        self.min = if self.count == 0 { x } else { self.min.min(x) };
        self.max = self.max.max(x);
        self.sum += u64::from(x);
        self.count += 1;
    }

    fn mean(&self) -> u32 {
        (self.sum / u64::from(self.count.max(1))) as u32
    }
}

#[entry]
fn main() -> ! {
    let core = cortex_m::Peripherals::take().unwrap();
    let mut stopwatch = Stopwatch::new(core.SYST);

    // The front end keeps its noise estimate and PCAN state from frame to frame (and from one
    // recording to the next, as TFLM's stream did); the classifier is stateless.
    let mut front_end = front_end::Model::new();
    let mut classifier = micro_speech::Model::new();
    let mut features = [0i8; ROWS * ROW_LEN];
    let (mut front_end_cost, mut classifier_cost) = (Spread::default(), Spread::default());
    let mut all_exact = true;

    for (recording, pcm) in PCM.iter().enumerate() {
        for frame in 0..ROWS {
            let start = 2 * frame * STRIDE;
            let window: front_end::Input = core::array::from_fn(|i| {
                i16::from_le_bytes([pcm[start + 2 * i], pcm[start + 2 * i + 1]])
            });
            // The newest row goes last; the oldest drops out.
            let (row, cost) = stopwatch.measure(|| *front_end.predict(&window));
            front_end_cost.add(cost);
            features.copy_within(ROW_LEN.., 0);
            features[(ROWS - 1) * ROW_LEN..].copy_from_slice(&row);
        }
        // The map now holds exactly this recording's 49 rows.
        let (scores, cost) = stopwatch.measure(|| *classifier.predict(&features));
        classifier_cost.add(cost);
        let class = micro_speech::top_class(&scores);
        let features_exact = features.map(|v| v as u8) == *GOLDEN_FEATURES[recording];
        let scores_exact = scores.map(|v| v as u8) == *GOLDEN_SCORES[recording];
        let heard = CLASSES[class];
        all_exact &= features_exact && scores_exact && heard == SPOKEN[recording];
        hprintln!(
            "heard \"{}\" (scores {:?}); features and scores TFLM's byte for byte: {}",
            heard,
            scores,
            if features_exact && scores_exact {
                "yes"
            } else {
                "NO"
            }
        );
    }

    let budget = CLOCK_HZ / 1000 * FRAME_MS;
    let per_frame = front_end_cost.max + classifier_cost.max;
    hprintln!(
        "front end: {} instructions per 20 ms frame (min {}, max {}, {} frames)",
        front_end_cost.mean(),
        front_end_cost.min,
        front_end_cost.max,
        front_end_cost.count
    );
    hprintln!(
        "classifier: {} instructions per inference (min {}, max {})",
        classifier_cost.mean(),
        classifier_cost.min,
        classifier_cost.max
    );
    hprintln!(
        "both every frame: {} instructions of the {} a {} MHz core has in 20 ms ({}.{}%, one instruction per cycle)",
        per_frame,
        budget,
        CLOCK_HZ / 1_000_000,
        per_frame * 100 / budget,
        per_frame * 1000 / budget % 10
    );
    hprintln!(
        "RAM: front end {} bytes (arena {}, with its state and output), classifier {} bytes (arena {})",
        core::mem::size_of::<front_end::Model>(),
        front_end::ARENA_BYTES,
        core::mem::size_of::<micro_speech::Model>(),
        micro_speech::ARENA_BYTES
    );
    if all_exact {
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
