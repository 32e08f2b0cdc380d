kiln::include_model!(fixtures::tiny_kws);

fn main() {}
