//! Puts memory.x where the linker finds it (cortex-m-rt's link.x includes it), and turns the
//! audio front-end's stream (98 overlapping 30 ms frames: window 480, stride 320 samples) back
//! into the two recordings it was cut from, "yes" (frames 0–48) and "no" (49–97), as raw
//! 16 kHz little-endian PCM for the firmware to include: the firmware cuts its own frames, as
//! it would from a microphone.
use std::{env, fs, path::PathBuf};

/// Samples per frame (30 ms at 16 kHz) and between frame starts (20 ms).
const WINDOW: usize = 480;
const STRIDE: usize = 320;
/// Frames per recording (one second).
const FRAMES: usize = 49;

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("memory.x is in the crate root");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");

    let stream = PathBuf::from("../../../shared/models/audio_preprocessor_int8/stream");
    println!("cargo:rerun-if-changed={}", stream.display());
    for (recording, word) in ["yes", "no"].iter().enumerate() {
        let mut pcm: Vec<u8> = Vec::new();
        for k in 0..FRAMES {
            let path = stream.join(format!("in_{}.bin", recording * FRAMES + k));
            let frame = fs::read(&path).unwrap_or_else(|e| {
                panic!("{}: {e} (the models are in ../shared)", path.display())
            });
            assert_eq!(
                frame.len(),
                2 * WINDOW,
                "{}: not 480 int16 samples",
                path.display()
            );
            if k == 0 {
                pcm.extend_from_slice(&frame);
            } else {
                // The frame's first 160 samples are the previous frame's last 160.
                let overlap = 2 * (WINDOW - STRIDE);
                assert_eq!(
                    &pcm[pcm.len() - overlap..],
                    &frame[..overlap],
                    "{}: frames do not overlap by 160 samples",
                    path.display()
                );
                pcm.extend_from_slice(&frame[overlap..]);
            }
        }
        assert_eq!(pcm.len(), 2 * (WINDOW + (FRAMES - 1) * STRIDE));
        fs::write(out.join(format!("{word}.pcm")), pcm).expect("OUT_DIR is writable");
    }
}
