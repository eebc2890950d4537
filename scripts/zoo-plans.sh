#!/usr/bin/env bash
# Builds a real TensorRT-RTX plan for the whole program of every zoo model (tests/zoo/models) in
# both dialects with `ir-opt engine`, and prints one TSV line per program:
#   model  dialect  result (plan|unsupported|error)  plan bytes  seconds  first message line
# Needs an `ir-opt` built with `--features tensorrt` and TRTFX_TENSORRT_LIB (scripts/main-job.sh
# sets both up; run it first). Usage: scripts/zoo-plans.sh [IROPT] [OUTDIR]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
IROPT="${1:-${CARGO_TARGET_DIR:-$ROOT/target}/release/ir-opt}"
OUT="${2:-${CARGO_TARGET_DIR:-$ROOT/target}/zoo-plans}"
mkdir -p "$OUT"
export TRTFX_TENSORRT_LIB="${TRTFX_TENSORRT_LIB:-$ROOT/target/tensorrt-rtx/tensorrt_rtx_libs/libtensorrt_rtx.so.1}"
printf 'model\tdialect\tresult\tbytes\tseconds\tmessage\n'
for f in tests/zoo/models/*.pt2; do
  base=$(basename "$f" .pt2)
  case "$base" in *.core) model=${base%.core}; dialect=core ;; *) model=$base; dialect=export ;; esac
  plan="$OUT/$base.plan"
  rm -f "$plan"
  t0=$(date +%s%N)
  msg=$("$IROPT" engine "$f" -o "$plan" 2>&1 >/dev/null | head -1)
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  t="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
  if [ -s "$plan" ]; then
    printf '%s\t%s\tplan\t%s\t%s\t\n' "$model" "$dialect" "$(stat -c %s "$plan")" "$t"
  elif echo "$msg" | grep -q "not convertible\|cannot be converted\|unsupported"; then
    printf '%s\t%s\tunsupported\t0\t%s\t%s\n' "$model" "$dialect" "$t" "$msg"
  else
    printf '%s\t%s\terror\t0\t%s\t%s\n' "$model" "$dialect" "$t" "$msg"
  fi
done
