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

TRAIN_VENV="${TRAIN_VENV:-../.venv-train}"
ORACLE_VENV="${ORACLE_VENV:-../.venv-oracle}"
PYTHON="${PYTHON:-python3}"
ORACLE=../shared/tools/oracle.py
OUT=fixtures/trained/waveforms

if [ ! -x "$ORACLE_VENV/bin/python" ]; then
  echo "no oracle venv at $ORACLE_VENV; create it with:" >&2
  echo "  ORACLE_VENV=$ORACLE_VENV ../shared/tools/setup-oracle.sh" >&2
  exit 1
fi

# 1. The training venv: Python 3.11 with the pinned TensorFlow.
if [ ! -x "$TRAIN_VENV/bin/python" ]; then
  "$PYTHON" -m venv "$TRAIN_VENV" || {
    echo "venv creation failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  }
fi
"$TRAIN_VENV/bin/pip" install --quiet --disable-pip-version-check -r docs/training/requirements.txt

# 2. Train, quantize to int8, write model.tflite, samples.txt, golden/in_real_<k>.bin
#    and train.json (fixed seeds: the same bytes every run). Start clean so that
#    no stale golden lingers.
rm -rf "$OUT"
"$TRAIN_VENV/bin/python" docs/training/train.py --out "$OUT"

# 3. The goldens from the TFLM reference interpreter: out_real_<k>.bin for the
#    test samples above, plus in_<s>.bin / out_<s>.bin for 4 seeded random inputs.
"$ORACLE_VENV/bin/python" "$ORACLE" "$OUT/model.tflite" --golden "$OUT/golden"
"$ORACLE_VENV/bin/python" "$ORACLE" "$OUT/model.tflite" --describe > "$OUT/describe.json"
echo "wrote $OUT; check it with: cargo test -p kiln-e2e --test trained"
