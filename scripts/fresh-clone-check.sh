#!/usr/bin/env bash
# Checks that the README's two set-up commands work on a clean clone, as a new user would run
# them: clones the committed state of this repository into a temporary directory, with a fresh
# CARGO_TARGET_DIR and without LIBCLANG_PATH or any TRTFX_* variable, then runs
#   1. the main job:  bash scripts/main-job.sh
#   2. the tests:     bash scripts/test.sh
# and prints each one's wall time and status. Run it before resolving anything that changes
# set-up. Only committed work is checked (uncommitted changes are not in the clone).
#
# Usage: scripts/fresh-clone-check.sh [--keep] [WORKDIR]
#   --keep   leave the clone and its target dir behind (printed at the end)
# Exit status: 0 when both commands succeed.
set -uo pipefail
keep=0
if [ "${1:-}" = "--keep" ]; then keep=1; shift; fi
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${1:-$(mktemp -d "${TMPDIR:-/tmp}/trtfx-fresh.XXXXXX")}"
mkdir -p "$WORK"
[ "$keep" = 1 ] || trap 'rm -rf "$WORK"' EXIT

# A fresh user's environment: none of this project's variables, no libclang hint.
unset LIBCLANG_PATH
for v in $(env | sed -n 's/^\(TRTFX_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export CARGO_TARGET_DIR="$WORK/target"

echo "fresh-clone-check: cloning $SRC (HEAD $(git -C "$SRC" rev-parse --short HEAD)) into $WORK/repo"
git clone --quiet --no-hardlinks "$SRC" "$WORK/repo" || exit 1
cd "$WORK/repo" || exit 1
if [ -n "$(git -C "$SRC" status --porcelain --untracked-files=no)" ]; then
    echo "fresh-clone-check: note: $SRC has uncommitted changes; they are not checked"
fi

status=0
run_step() {
    local name="$1"; shift
    local t0 t1 rc
    echo "=== $name: $*"
    t0=$(date +%s)
    "$@" > >(tee "$WORK/$name.log") 2>&1
    rc=$?
    t1=$(date +%s)
    echo "=== $name: exit $rc, wall $((t1 - t0)) s (log $WORK/$name.log)"
    RESULTS+=("$name: exit $rc, wall $((t1 - t0)) s")
    [ "$rc" = 0 ] || status=1
}
RESULTS=()
run_step main-job bash scripts/main-job.sh
run_step tests bash scripts/test.sh

if grep -qi "TensorRT builds\? \(will be \|were \)\?skipped" "$WORK/tests.log" \
    || ! grep -q "^TensorRT-RTX: " "$WORK/tests.log"; then
    echo "fresh-clone-check: the test run did not build with TensorRT-RTX"
    status=1
fi
echo
echo "fresh-clone-check summary ($(uname -sr), $(nproc) cores):"
printf '  %s\n' "${RESULTS[@]}"
grep -E '^(main job done|  [0-9]+: trt)' "$WORK/main-job.log" | sed 's/^/  /'
grep -E '^test result:' "$WORK/tests.log" | awk '{p+=$4; f+=$6; i+=$8} END {printf "  tests: %d passed, %d failed, %d ignored\n", p, f, i}'
[ "$keep" = 1 ] && echo "  kept: $WORK"
exit "$status"
