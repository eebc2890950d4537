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
# tests/zoo/models/squeezenet1_1; paths relative to the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/work/venv/bin/python}
ROUNDS=${ROUNDS:-3}
ITERS=${ITERS:-30}
ONLY=${ONLY:-}
EXTRA=${EXTRA:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-bench}
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

bin=$(cargo bench -p trtfx-exec --bench fixtures --no-run 2>&1 |
    sed -n 's/.*Executable.*(\(.*\)).*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "could not build the fixtures bench" >&2; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
run_trtfx() { TRTFX_BENCH_RAW=$ITERS TRTFX_BENCH_ONLY=$ONLY TRTFX_BENCH_EXTRA=$EXTRA "$bin" | sed "s/^/$1\t/" >>"$out"; }
run_torch() {
    "$PYTHON" benches/torch_eager.py --iters "$ITERS" ${ONLY:+--only "$ONLY"} \
        ${EXTRA:+--extra "$EXTRA"} 2>/dev/null |
        sed "s/^/$1\t/" >>"$out"
}
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r/$ROUNDS" >&2
    if [ $((r % 2)) -eq 1 ]; then run_trtfx "$r"; run_torch "$r"; else run_torch "$r"; run_trtfx "$r"; fi
done

"$PYTHON" - "$out" <<'EOF'
import statistics, sys
from collections import defaultdict
rows = defaultdict(lambda: defaultdict(lambda: ([], [])))
order = []
for line in open(sys.argv[1]):
    _rnd, side, dialect, name, wall, cpu, _n = line.split("\t")
    key = (dialect, name)
    if key not in order:
        order.append(key)
    rows[key][side][0].append(float(wall))
    rows[key][side][1].append(float(cpu))
med = statistics.median
print(f"{'dialect':<7} {'fixture':<19} {'trtfx ms':>9} {'torch ms':>9} {'ratio':>6}   "
      f"{'trtfx cpu':>9} {'torch cpu':>9} {'ratio':>6}")
for dialect in ("core", "export"):
    for key in [k for k in order if k[0] == dialect]:
        t, p = rows[key]["trtfx"], rows[key]["torch"]
        if not t[0] or not p[0]:
            continue
        tw, pw, tc, pc = med(t[0]), med(p[0]), med(t[1]), med(p[1])
        print(f"{dialect:<7} {key[1]:<19} {tw:>9.3f} {pw:>9.3f} {tw / pw:>6.2f}   "
              f"{tc:>9.3f} {pc:>9.3f} {tc / pc:>6.2f}")
EOF
