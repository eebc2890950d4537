#!/usr/bin/env bash
# Writes the generated table of docs/performance.md: the CPU executor against PyTorch eager, and
# the compiled program on the layer emulator against the executor, one thread each, on every
# fixture and every zoo model (tests/zoo/models, both dialects), measured side by side in one
# run by benches/compare_exec.sh.
#
#   bash benches/performance.sh                 # ROUNDS=3 ITERS=10
#   ZOO=resnet18,vit_b_16 bash benches/performance.sh   # a subset of the zoo
#
# Environment: PYTHON (needs torch 2.11 and safetensors; default /work/venv-torch/bin/python),
# ROUNDS, ITERS, ZOO (comma-separated zoo model names; default all), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHON=${PYTHON:-/work/venv-torch/bin/python}
export ROUNDS=${ROUNDS:-3} ITERS=${ITERS:-10}
zoo=${ZOO:-$(ls tests/zoo/models/*.io.safetensors | sed 's#.*/##; s#\.io\.safetensors$##' | paste -sd,)}
extra=$(echo "$zoo" | tr ',' '\n' | sed '/^$/d; s#^#tests/zoo/models/#' | paste -sd,)
EXTRA=$extra EMULATOR=1 WRITE_MD=docs/performance.md \
    COMMAND_LINE="ROUNDS=$ROUNDS ITERS=$ITERS bash benches/performance.sh" \
    bash benches/compare_exec.sh
