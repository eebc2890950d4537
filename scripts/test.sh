#!/usr/bin/env bash
# The project's test command (README "Run the tests"). Installs what the tests need on a fresh
# machine, then runs formatting, lints and the whole test suite.
#
# - libclang (with clang's builtin headers): the `trtx` binding generates its TensorRT bindings
#   with bindgen; scripts/lib/deps.sh finds it or installs Debian's libclang-dev.
# - TensorRT-RTX: scripts/fetch-tensorrt-rtx.sh downloads and unpacks the wheel under target/
#   (sha256 checked, cached), so the backend builds real TensorRT plans.
# Without network (and no cached wheel) the tests still run, without the `tensorrt` feature,
# and say so in one line. A set-up error (say, libclang cannot be installed) stops here with
# the message; TRTFX_SKIP_TENSORRT=1 runs the tests without TensorRT on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."

export INSTA_UPDATE="${INSTA_UPDATE:-no}"
export PROPTEST_CASES="${PROPTEST_CASES:-32}"

features=""
if [ "${TRTFX_SKIP_TENSORRT:-0}" != "1" ]; then
  rc=0
  lib=$(bash scripts/fetch-tensorrt-rtx.sh) || rc=$?
  case "$rc" in
    0)
      export TRTFX_TENSORRT_LIB="${lib##*$'\n'}"
      features="--features trtfx-backend-trt/tensorrt"
      echo "TensorRT-RTX: $TRTFX_TENSORRT_LIB"
      ;;
    3) echo "TensorRT-RTX could not be downloaded (no network); TensorRT builds will be skipped" >&2 ;;
    *) echo "error: set-up for TensorRT failed (see above); TRTFX_SKIP_TENSORRT=1 runs the tests without it" >&2
       exit 1 ;;
  esac
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets $features -- -D warnings
cargo test --workspace $features
