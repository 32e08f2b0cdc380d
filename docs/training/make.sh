#!/usr/bin/env bash
# From training to firmware: train and quantize the waveform classifier, write
# it with its TFLM goldens to fixtures/trained/waveforms (see README.md here).
#
#   bash docs/training/make.sh        # from anywhere; paths are from the repo root
#
# TRAIN_VENV is the training venv (TensorFlow, pinned in requirements.txt), by
# default ../.venv-train beside the repo; it is created if missing. ORACLE_VENV
# is the TFLM oracle's venv, as in fixtures/make.sh (default ../.venv-oracle).
# The results are committed: CI reads them and installs no TensorFlow.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."   # the repo root

. fixtures/python.sh   # ORACLE_VENV, TRAIN_VENV and the helpers below
OUT=fixtures/trained/waveforms

require_oracle_venv
# 1. The training venv: Python 3.11 with the pinned TensorFlow.
ensure_train_venv

# 2. Train, quantize to int8, write model.tflite, samples.txt, golden/in_real_<k>.bin
#    and train.json (fixed seeds: the same bytes every run). Start clean so that
#    no stale golden lingers.
rm -rf "$OUT"
"$TRAIN_VENV/bin/python" docs/training/train.py --out "$OUT"

# 3. The goldens from the TFLM reference interpreter: out_real_<k>.bin for the
#    test samples above, plus in_<s>.bin / out_<s>.bin for 4 seeded random inputs.
oracle_goldens "$OUT"
echo "wrote $OUT; check it with: cargo test -p kiln-e2e --test trained"
