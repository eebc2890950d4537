#!/usr/bin/env bash
# The main job, end to end, on a shipped example (README "Run the main job"):
#   1. fetch TensorRT-RTX (cached, sha256 checked) and make sure libclang is there;
#   2. build `ir-opt` (release) with the `tensorrt` feature;
#   3. compile the exported model into a `.trtfx` artifact holding real TensorRT plan bytes,
#      with the compile report (segments, layers, plan sizes, build times);
#   4. run the artifact (TensorRT segments on the CPU layer emulator, the rest on the executor)
#      against PyTorch's outputs, and print the largest error.
# Without network (and no cached wheel) it says so in one line and goes on without the
# `tensorrt` feature: segments are converted and emulated, plans are recorded as skipped.
#
# Usage: scripts/main-job.sh [MODEL]   (MODEL: a fixture name under tests/fixtures, default cnn)
# Env: CARGO_TARGET_DIR is honoured; TRTFX_SKIP_APT=1 never installs Debian packages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODEL="${1:-cnn}"
PT2="tests/fixtures/$MODEL.pt2"
IO="tests/fixtures/$MODEL.io.safetensors"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET/main-job/$MODEL.trtfx"
[ -f "$PT2" ] || { echo "error: $PT2: no such example (see tests/fixtures/)" >&2; exit 1; }

say() { echo "main-job: $*" >&2; }
start=$(date +%s)

features=()
rc=0
lib=$(bash scripts/fetch-tensorrt-rtx.sh) || rc=$?
case "$rc" in
  0) export TRTFX_TENSORRT_LIB="${lib##*$'\n'}"; features=(--features tensorrt)
     say "TensorRT-RTX: $TRTFX_TENSORRT_LIB" ;;
  3) say "no network: TensorRT-RTX cannot be fetched; building without TensorRT (segments are emulated, no plans)" ;;
  *) exit "$rc" ;;
esac

say "building ir-opt (release${features:+, feature tensorrt})"
cargo build --quiet -p ir-opt --release "${features[@]}"
IROPT="$TARGET/release/ir-opt"

mkdir -p "$(dirname "$OUT")"
# A fresh plan cache each run: the first compile builds and stores the plans, the second
# (below) must take them from the cache and write the same artifact.
CACHE="$TARGET/main-job/plan-cache"
rm -rf "$CACHE"
say "compiling $PT2 -> $OUT"
"$IROPT" compile "$PT2" -o "$OUT" --report --cache "$CACHE"
echo
"$IROPT" inspect "$OUT"
echo
say "running $OUT against PyTorch's outputs ($IO)"
"$IROPT" run "$OUT" --inputs "$IO" --expect "$IO" --rtol 1e-3 --atol 1e-4

plans=$("$IROPT" inspect "$OUT" | grep -c ', plan [0-9]* bytes' || true)
if [ "${#features[@]}" -gt 0 ] && [ "$plans" = 0 ]; then
  echo "error: $OUT: no TensorRT plan was built although TensorRT-RTX is available" >&2
  exit 1
fi
if [ "$plans" != 0 ]; then
  t0=$(date +%s%N)
  hits=$("$IROPT" compile "$PT2" -o "$OUT.again" --report --cache "$CACHE" | grep -c 'plan cache hit' || true)
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  if [ "$hits" != "$plans" ] || ! cmp -s "$OUT" "$OUT.again"; then
    echo "error: $OUT: recompiling with the plan cache gave $hits hit(s) for $plans plan(s), or a different artifact" >&2
    exit 1
  fi
  echo "plan cache: recompiled in $ms ms, $hits of $plans plan(s) from $CACHE, artifact byte-identical"
fi
echo
echo "main job done in $(( $(date +%s) - start )) s: $OUT ($(stat -c %s "$OUT") bytes, $plans TensorRT plan(s))"
