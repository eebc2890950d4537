#!/usr/bin/env bash
# Plan cache, measured: for each model, `ir-opt compile` with an empty plan cache (every plan
# built by TensorRT-RTX), then again with the filled cache (every plan a hit), each as a whole
# process (wall time). Each is timed $REPEATS times (default 5; the first compile with the cache
# emptied every time) and the medians are compared, because one whole-process run on a shared
# machine is noisy. Checks that both artifacts are byte-identical and that a cache entry with
# one byte changed is detected and rebuilt. Prints one TSV row per model and the ratio.
#
# Usage: [REPEATS=N] scripts/plan-cache-bench.sh [MODEL.pt2...]
#   (default: the cnn fixture and three zoo models)
# Needs an ir-opt built with the `tensorrt` feature ($IROPT, default target/release/ir-opt,
# as scripts/main-job.sh builds it) and TRTFX_TENSORRT_LIB (scripts/fetch-tensorrt-rtx.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
IROPT="${IROPT:-target/release/ir-opt}"
if [ -z "${TRTFX_TENSORRT_LIB:-}" ]; then
  lib=$(bash scripts/fetch-tensorrt-rtx.sh)
  export TRTFX_TENSORRT_LIB="${lib##*$'\n'}"
fi
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(tests/fixtures/cnn.pt2 tests/zoo/models/resnet18.pt2
  tests/zoo/models/mobilenet_v2.pt2 tests/zoo/models/vit_b_16.pt2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
REPEATS="${REPEATS:-5}"
now_ms() { date +%s%3N; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf 'model\tfirst_median_s\tcached_median_s\tratio\tidentical\tcorrupt_detected\n'
for m in "${models[@]}"; do
  name=$(basename "$m" .pt2)
  cache="$work/$name-cache"
  firsts=(); cacheds=()
  for _ in $(seq "$REPEATS"); do
    rm -rf "$cache"
    t0=$(now_ms)
    "$IROPT" compile "$m" -o "$work/$name.1.trtfx" --cache "$cache" 2>"$work/$name.1.log"
    firsts+=($(( $(now_ms) - t0 )))
  done
  for _ in $(seq "$REPEATS"); do
    t0=$(now_ms)
    "$IROPT" compile "$m" -o "$work/$name.2.trtfx" --cache "$cache" 2>"$work/$name.2.log"
    cacheds+=($(( $(now_ms) - t0 )))
  done
  identical=no
  cmp -s "$work/$name.1.trtfx" "$work/$name.2.trtfx" && identical=yes
  # Change one byte in the middle of every entry: each must be detected and rebuilt.
  for e in "$cache"/*.plan; do
    size=$(stat -c %s "$e")
    printf '\x5a' | dd of="$e" bs=1 seek=$((size / 2)) conv=notrunc status=none
  done
  "$IROPT" compile "$m" -o "$work/$name.3.trtfx" --cache "$cache" 2>"$work/$name.3.log"
  detected=no
  if grep -q "^warning: segment" "$work/$name.3.log" && cmp -s "$work/$name.1.trtfx" "$work/$name.3.trtfx"; then
    detected=yes
  fi
  first=$(median "${firsts[@]}"); cached=$(median "${cacheds[@]}")
  awk -v n="$name" -v f="$first" -v c="$cached" -v i="$identical" -v d="$detected" \
    'BEGIN { printf "%s\t%.3f\t%.3f\t%.1f\t%s\t%s\n", n, f/1000, c/1000, f/c, i, d }'
done
