#!/usr/bin/env bash
# Refresh the committed seed corpus: one copy of every fixture model (all small; the real
# models in ../shared/models are not committed). `cargo test -p kiln-e2e --test hardening`
# checks that the seeds equal the fixtures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"   # fuzz/
rm -f seeds/*.tflite
for model in ../fixtures/models/*/model.tflite; do
  name="$(basename "$(dirname "$model")")"
  cp "$model" "seeds/$name.tflite"
done
ls seeds | wc -l
