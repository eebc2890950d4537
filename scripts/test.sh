#!/usr/bin/env bash
# The project's test command (README "Run the tests"). Installs what the tests need on a fresh
# machine, then runs formatting, lints and the whole test suite.
#
# - libclang-dev: the `trtx` binding generates its TensorRT bindings with bindgen.
# - TensorRT-RTX: scripts/fetch-tensorrt-rtx.sh downloads and unpacks the wheel under target/
#   (sha256 checked, cached), so the backend builds real TensorRT plans. Without it the tests
#   still pass and print that TensorRT builds were skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

export INSTA_UPDATE="${INSTA_UPDATE:-no}"
export PROPTEST_CASES="${PROPTEST_CASES:-32}"

features=""
if [ "${TRTFX_SKIP_TENSORRT:-0}" != "1" ] && [ -x scripts/fetch-tensorrt-rtx.sh ]; then
  if lib=$(bash scripts/fetch-tensorrt-rtx.sh); then
    export TRTFX_TENSORRT_LIB="$lib"
    features="--features trtfx-backend-trt/tensorrt"
    echo "TensorRT-RTX: $TRTFX_TENSORRT_LIB"
  else
    echo "TensorRT-RTX could not be fetched; TensorRT builds will be skipped" >&2
  fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets $features -- -D warnings
cargo test --workspace $features
