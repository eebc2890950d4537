#!/usr/bin/env bash
# trtfx CPU executor vs PyTorch eager on CPU, one thread each, on every fixture model (both
# dialects), measured in the same run. The two sides alternate for ROUNDS rounds (trtfx first in
# odd rounds, torch first in even ones); each side reports per-archive medians of ITERS runs,
# and the table shows the median over rounds of wall and on-CPU time (on-CPU time is the
# executing thread's, not inflated by other processes queueing for the cores) and the ratio
# trtfx / torch (< 1: trtfx is faster).
#
#   benches/compare_exec.sh                 # ROUNDS=3 ITERS=30
#   ROUNDS=5 ITERS=50 ONLY=cnn,mlp benches/compare_exec.sh
#
# Environment: PYTHON (default /work/venv/bin/python, needs torch + safetensors),
# CARGO_TARGET_DIR (default target-bench), ROUNDS, ITERS, ONLY (comma-separated fixtures),
# EXTRA (comma-separated DIR/NAME of other models laid out like the fixtures, e.g.
# tests/zoo/models/squeezenet1_1; paths relative to the repository root), EMULATOR=1 (also time
# the compiled program, TensorRT segments on the layer emulator: TRTFX_BENCH_SIDE=emulator),
# WRITE_MD=FILE (replace the generated section of FILE, between the `BEGIN generated` and
# `END generated` markers, with the table and the machine it was measured on).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/work/venv/bin/python}
ROUNDS=${ROUNDS:-3}
ITERS=${ITERS:-30}
ONLY=${ONLY:-}
EXTRA=${EXTRA:-}
EMULATOR=${EMULATOR:-0}
WRITE_MD=${WRITE_MD:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-bench}
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

bin=$(cargo bench -p trtfx-exec --bench fixtures --no-run 2>&1 |
    sed -n 's/.*Executable.*(\(.*\)).*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "could not build the fixtures bench" >&2; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
run_trtfx() { TRTFX_BENCH_RAW=$ITERS TRTFX_BENCH_ONLY=$ONLY TRTFX_BENCH_EXTRA=$EXTRA "$bin" | sed "s/^/$1\t/" >>"$out"; }
run_emulator() {
    [ "$EMULATOR" = "1" ] || return 0
    TRTFX_BENCH_SIDE=emulator TRTFX_BENCH_RAW=$ITERS TRTFX_BENCH_ONLY=$ONLY TRTFX_BENCH_EXTRA=$EXTRA "$bin" |
        sed "s/^/$1\t/" >>"$out"
}
run_torch() {
    "$PYTHON" benches/torch_eager.py --iters "$ITERS" ${ONLY:+--only "$ONLY"} \
        ${EXTRA:+--extra "$EXTRA"} 2>/dev/null |
        sed "s/^/$1\t/" >>"$out"
}
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r/$ROUNDS" >&2
    if [ $((r % 2)) -eq 1 ]; then
        run_trtfx "$r"; run_emulator "$r"; run_torch "$r"
    else
        run_torch "$r"; run_emulator "$r"; run_trtfx "$r"
    fi
done

torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo unknown)
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
machine="$(getconf _NPROCESSORS_ONLN) cores, ${cpu_model:-unknown CPU}, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
command="ROUNDS=$ROUNDS ITERS=$ITERS EMULATOR=$EMULATOR${ONLY:+ ONLY=$ONLY}${EXTRA:+ EXTRA=...} benches/compare_exec.sh"
MACHINE="$machine" TORCH_VERSION="$torch_version" COMMAND="${COMMAND_LINE:-$command}" \
    "$PYTHON" benches/compare_table.py "$out" ${WRITE_MD:+--write-md "$WRITE_MD"}
