#!/usr/bin/env bash
# Counts the OpInfo conformance cases (both dialects) that compile to one whole-program
# TensorRT segment: `ir-opt compile --require-full-compilation --min-block-size 1` succeeds
# (networks only, no plans). Extra arguments go to `ir-opt compile` (say `--small-int native`).
#
#   bash scripts/full-compile-coverage.sh BINARY FILTER [COMPILE ARGS...]
#
# FILTER is an extended regex on case ids (`\.(uint8|int8|int16|uint16)\.` for the narrow
# integer cases, `.` for all). Prints `passed/total` per dialect.
set -euo pipefail
bin=$(realpath "$1"); filter=$2; shift 2
cd "$(dirname "$0")/.."
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tar xzf tests/conformance/corpus.tar.gz -C "$work"
for dialect in export core; do
  pass=0; total=0
  for d in "$work"/*/; do
    id=$(basename "$d")
    [[ "$id" =~ $filter ]] || continue
    [ -f "$d/$dialect.pt2" ] || continue
    total=$((total + 1))
    if "$bin" compile "$d/$dialect.pt2" -o "$work/out.trtfx" --require-full-compilation \
        --min-block-size 1 --quiet "$@" >/dev/null 2>&1; then
      pass=$((pass + 1))
    fi
  done
  echo "$dialect: $pass/$total"
done
