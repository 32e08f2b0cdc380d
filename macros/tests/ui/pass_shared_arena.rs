// Two models on one caller-owned arena (`SharedModel`): each gives its golden output though
// the other ran on the same bytes in between, and the buffer starts full of junk.
kiln::include_model!("fixtures/tiny_kws/model.tflite", name = portable);
kiln::include_model!(
    "fixtures/tiny_kws/model.tflite",
    name = tuned,
    target = "cortex-m4"
);

static IN_0: &[u8] = include_bytes!("../../../fixtures/models/tiny_kws/golden/in_0.bin");
static OUT_0: &[u8] = include_bytes!("../../../fixtures/models/tiny_kws/golden/out_0.bin");

const LEN: usize = if portable::ARENA_LEN > tuned::ARENA_LEN {
    portable::ARENA_LEN
} else {
    tuned::ARENA_LEN
};

fn main() {
    let input: portable::Input = core::array::from_fn(|i| IN_0[i] as i8);
    let mut arena = [0x5A_i8; LEN];
    let mut a = portable::SharedModel::new();
    let mut b = tuned::SharedModel::new();
    for _ in 0..2 {
        let bytes: Vec<u8> = a.predict(&mut arena, &input).iter().map(|&v| v as u8).collect();
        assert_eq!(bytes, OUT_0);
        let bytes: Vec<u8> = b.predict(&mut arena, &input).iter().map(|&v| v as u8).collect();
        assert_eq!(bytes, OUT_0);
    }
    // A longer buffer is fine: only the first ARENA_LEN bytes are used.
    let mut long = [0_i8; LEN + 100];
    let bytes: Vec<u8> = a.predict(&mut long, &input).iter().map(|&v| v as u8).collect();
    assert_eq!(bytes, OUT_0);
    assert!(long[LEN..].iter().all(|&v| v == 0));
}
