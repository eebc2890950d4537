#!/usr/bin/env bash
# torch.export.load + torch.fx CapabilityBasedPartitioner vs trtfx import_pt2 + plan + outline
# on the same Llama archives, with the same unsupported set (aten.rsqrt.default,
# aten.embedding.default). Runs are interleaved (rep 1: torch L4, trtfx L4, torch L16, ...) and
# the table reports medians over REPS rounds.
#
#   benches/llama/compare.sh                 # depths 4 16 48, 3 rounds
#   REPS=5 DEPTHS="4 16" benches/llama/compare.sh
#
# Environment: VENV (default /work/venv; needs torch, and transformers to generate fixtures),
# REPS (rounds, default 3), DEPTHS (default "4 16 48"), RUST_REPS (timed repetitions inside each
# trtfx run, median taken, default 5), MIN_BLOCK_SIZE (trtfx, default 1: torch.fx's partitioner
# has no minimum), CARGO_TARGET_DIR (passed to cargo), LOG (raw output, default
# a temporary file).
#
# `trtfx parse` is the raw typed parse of models/model.json alone (serde_json into the borrowed
# schema structs), the floor the import is measured against.
#
# Times: `cpu` columns are CPU time of the process (torch: time.process_time) or of the thread
# (trtfx: clock_gettime(CLOCK_THREAD_CPUTIME_ID)); `wall` columns are perf_counter / Instant. On a shared
# machine the CPU columns are the ones to compare.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-/work/venv}"
PY="$VENV/bin/python"
REPS="${REPS:-3}"
DEPTHS="${DEPTHS:-4 16 48}"
RUST_REPS="${RUST_REPS:-5}"
MIN_BLOCK_SIZE="${MIN_BLOCK_SIZE:-1}"
LOG="${LOG:-$(mktemp -t llama_compare.XXXXXX)}"

# Fixtures: generate the missing depths (L16/L48 are not committed).
missing=()
for d in $DEPTHS; do
    [[ -f "$HERE/llama_L$d.core.pt2" ]] || missing+=("$d")
done
if ((${#missing[@]})); then
    echo "generating llama_L{${missing[*]}}.core.pt2" >&2
    "$PY" "$HERE/gen_llama.py" --layers "${missing[@]}" >&2
fi

# The trtfx side: crates/passes/benches/llama.rs, built in release (bench profile).
echo "building the trtfx llama bench" >&2
BIN="$(cd "$ROOT" && cargo bench -p trtfx-passes --bench llama --no-run --message-format=json 2>/dev/null \
    | "$PY" -c 'import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "llama":
        print(m["executable"])')"
[[ -x "$BIN" ]] || { echo "could not build the llama bench" >&2; exit 1; }

: >"$LOG"
echo "raw output: $LOG" >&2
for ((r = 1; r <= REPS; r++)); do
    for d in $DEPTHS; do
        f="$HERE/llama_L$d.core.pt2"
        echo "round $r/$REPS: L$d torch" >&2
        "$PY" "$HERE/partition_torch.py" "$f" | sed -n "s/^llama_L$d/TORCH L$d llama_L$d/p" >>"$LOG"
        echo "round $r/$REPS: L$d trtfx" >&2
        "$BIN" --reps "$RUST_REPS" --min-block-size "$MIN_BLOCK_SIZE" "$f" \
            | sed -n "s/^file=/TRTFX L$d file=/p" >>"$LOG"
    done
done

"$PY" - "$LOG" "$REPS" <<'EOF'
import statistics
import sys

log, reps = sys.argv[1], sys.argv[2]
torch, trtfx = {}, {}
for line in open(log):
    f = line.split()
    if f[0] == "TORCH":
        # file nodes call_fn load_s partition_s propose_s fuse_s parts load_cpu part_cpu
        torch.setdefault(f[1], []).append(dict(
            nodes=int(f[3]), load=float(f[5]), part=float(f[6]), parts=int(f[9]),
            load_cpu=float(f[10]), part_cpu=float(f[11])))
    elif f[0] == "TRTFX":
        kv = dict(x.split("=", 1) for x in f[2:] if "=" in x)
        trtfx.setdefault(f[1], []).append(kv)

med = statistics.median
depths = sorted(torch, key=lambda d: int(d[1:]))
print(f"\nmedians of {reps} interleaved round(s); trtfx times are themselves medians within each run")
for kind in ("cpu", "wall"):
    print(f"\n{kind} time (s):\n")
    print("| depth | nodes | torch load | torch partition | trtfx parse | trtfx import | trtfx partition (plan + outline) "
          "| trtfx (import + partition) / parse | torch total / trtfx total | partition ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for d in depths:
        t, r = torch[d], trtfx.get(d, [])
        if not r:
            continue
        sfx = "_cpu" if kind == "cpu" else "_s"
        tl = med([x["load_cpu" if kind == "cpu" else "load"] for x in t])
        tp = med([x["part_cpu" if kind == "cpu" else "part"] for x in t])
        rs = med([float(x["parse" + sfx]) for x in r])
        ri = med([float(x["import" + sfx]) for x in r])
        rp = med([float(x["partition" + sfx]) for x in r])
        rpl = med([float(x["plan" + sfx]) for x in r])
        rol = med([float(x["outline" + sfx]) for x in r])
        print(f"| {d} | {t[0]['nodes']} | {tl:.3f} | {tp:.3f} | {rs:.4f} | {ri:.4f} | {rp:.5f} ({rpl:.5f} + {rol:.5f}) "
              f"| {(ri + rp) / rs:.2f}x | {(tl + tp) / (ri + rp):.0f}x | {tp / rp:.0f}x |")
print("\nsegments:\n")
print("| depth | torch partitions | trtfx segments | trtfx TensorRT | trtfx fallback | unsupported nodes | checks |")
print("|---|---|---|---|---|---|---|")
for d in depths:
    t, r = torch[d], trtfx.get(d, [])
    if r:
        x = r[0]
        print(f"| {d} | {t[0]['parts']} | {x['segments']} | {x['trt_segments']} | {x['fallback_segments']} "
              f"| {x['unsupported']} | {'ok' if x.get('valid') == 'yes' else 'FAILED'} |")
EOF
