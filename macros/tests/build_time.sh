#!/usr/bin/env bash
# Build time added by `kiln::include_model!`: a binary crate that includes a model and calls
# predict, against the same crate without the model, both with the macro's dependencies
# already built. Cold = `cargo clean -p <crate>` then build; incremental = `touch src/main.rs`
# then build. Dev and release profiles. Needs hyperfine (apt install hyperfine).
#
#   bash macros/tests/build_time.sh [MODEL.tflite] [RUNS]
#
# default model: ../shared/models/person_detect/model.tflite; prints hyperfine's summaries and
# a table of medians (wall) and mean CPU (user + system), also left in $WORK/*.json.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
model=${1:-$repo/../shared/models/person_detect/model.tflite}
runs=${2:-9}
WORK=${WORK:-$(mktemp -d /tmp/kiln-build-time.XXXXXX)}
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 1; }
[ -f "$model" ] || { echo "no model at $model" >&2; exit 1; }

cd "$WORK"
mkdir -p with/src without/src
cp "$model" model.tflite
cp "$repo/Cargo.lock" Cargo.lock
printf '[workspace]\nresolver = "2"\nmembers = ["with", "without"]\n' > Cargo.toml
for app in with without; do
  printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\nkiln = { path = "%s/macros" }\n' \
    "$app" "$repo" > $app/Cargo.toml
done
cat > with/src/main.rs <<'EOF'
kiln::include_model!("../model.tflite", name = model);

fn main() {
    let input: model::Input = core::array::from_fn(|i| (i % 251) as _);
    let mut model = Box::new(model::Model::new());
    println!("{:?}", model.predict(&input));
}
EOF
cat > without/src/main.rs <<'EOF'
fn main() {
    let input: [i8; 9216] = core::array::from_fn(|i| (i % 251) as _);
    println!("{}", input.iter().map(|&v| i32::from(v)).sum::<i32>());
}
EOF

# Dependencies (kiln, kiln-codegen, syn, ..) first, and both apps once.
cargo build -q && cargo build -q --release

for profile in dev release; do
  flag=$([ $profile = release ] && echo --release || true)
  hyperfine -N -w 1 -r "$runs" --export-json "$profile-cold.json" \
    --prepare "cargo clean -q $flag -p with" -n "$profile cold, with include_model!" "cargo build -q $flag -p with" \
    --prepare "cargo clean -q $flag -p without" -n "$profile cold, without" "cargo build -q $flag -p without"
  hyperfine -N -w 1 -r "$runs" --export-json "$profile-touch.json" \
    --prepare "touch with/src/main.rs" -n "$profile touch main.rs, with include_model!" "cargo build -q $flag -p with" \
    --prepare "touch without/src/main.rs" -n "$profile touch main.rs, without" "cargo build -q $flag -p without"
done

python3 - "$WORK" <<'EOF'
import json, sys, pathlib
print(f"\n{'case':42} {'median wall':>12} {'mean cpu':>10}")
for f in ["dev-cold", "dev-touch", "release-cold", "release-touch"]:
    for r in json.loads((pathlib.Path(sys.argv[1]) / f"{f}.json").read_text())["results"]:
        print(f"{r['command']:42} {r['median'] * 1000:9.0f} ms {(r['user'] + r['system']) * 1000:7.0f} ms")
EOF
echo "(work dir: $WORK)"
