#!/usr/bin/env bash
# The documented fuzz campaign (fuzz/README.md): each target from the committed seeds, with
# AddressSanitizer (cargo fuzz's default), logs in $LOGS. Usage:
#   bash fuzz/campaign.sh [READER_RUNS] [PIPELINE_SECONDS] [TARGETS_SECONDS]
# The reader runs on one core; the portable pipeline, then the target-tuned one, on the other.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # fuzz/
READER_RUNS="${1:-10000000}"
PIPELINE_SECONDS="${2:-900}"
TARGETS_SECONDS="${3:-420}"
LOGS="${LOGS:-/tmp/kiln-fuzz-logs}"
mkdir -p "$LOGS"
cargo +nightly fuzz build
run() {  # target, libFuzzer options...
  local target="$1"; shift
  mkdir -p "corpus/$target"
  cargo +nightly fuzz run "$target" "corpus/$target" seeds -- \
    -timeout=30 -print_final_stats=1 "$@" > "$LOGS/$target.log" 2>&1
}
run tflite_reader -runs="$READER_RUNS" &
reader=$!
run pipeline -max_total_time="$PIPELINE_SECONDS"
run pipeline_targets -max_total_time="$TARGETS_SECONDS"
wait "$reader"
for target in tflite_reader pipeline pipeline_targets; do
  echo "== $target"
  grep -E '^#[0-9]+\s+DONE|^Done|stat::number_of_executed_units|stat::peak_rss_mb' "$LOGS/$target.log"
done
