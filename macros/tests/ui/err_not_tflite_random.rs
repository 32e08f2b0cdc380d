// 64 random bytes.
kiln::include_model!("data/random.bin", name = noise);

fn main() {}
