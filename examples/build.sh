#!/usr/bin/env bash
# Builds the example firmware crates in release, each for the Rust target its
# .cargo/config.toml names, and prints how long each took. Stops at the first failure.
#
#   examples/build.sh                        # every examples/*/ that has a Cargo.toml
#   examples/build.sh nrf52840-kws rp2040-sine
#
# The crates share one target directory (examples/target, or $CARGO_TARGET_DIR), so the
# kiln proc macro and the crates common to two examples are compiled once. Each build uses
# its committed Cargo.lock (--locked). Needs the four Rust targets (rustup target add
# thumbv7em-none-eabihf thumbv6m-none-eabi riscv32imc-unknown-none-elf) and the models in
# ../shared/models.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"

if [ "$#" -gt 0 ]; then
    examples=("$@")
else
    examples=()
    for manifest in "$here"/*/Cargo.toml; do
        examples+=("$(basename "$(dirname "$manifest")")")
    done
fi

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

total_start="$(now)"
report=()
for example in "${examples[@]}"; do
    echo "=== $example" >&2
    start="$(now)"
    # cargo reads .cargo/config.toml (target, linker arguments) from the working directory.
    (cd "$here/$example" && cargo build --release --locked)
    took="$(seconds "$start" "$(now)")"
    echo "=== $example: built in ${took} s" >&2
    report+=("$(printf '%-24s %8s s' "$example" "$took")")
done

echo
printf '%s\n' "${report[@]}"
printf '%-24s %8s s\n' "total" "$(seconds "$total_start" "$(now)")"
