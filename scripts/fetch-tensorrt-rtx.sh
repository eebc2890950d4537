#!/usr/bin/env bash
# Fetch TensorRT-RTX (the PyPI wheel `tensorrt-rtx-cu13-libs`) for trtfx-backend-trt's
# `tensorrt` feature and print the path of `libtensorrt_rtx.so.1`.
#
# TensorRT-RTX ships a full builder that builds plans on a CPU-only machine (target SM86 by
# default); the plans cannot run here. The binary is proprietary: it lives under target/ only and
# is never committed.
#
# Usage: scripts/fetch-tensorrt-rtx.sh [DEST]   (DEST defaults to target/tensorrt-rtx)
#   then: TRTFX_TENSORRT_LIB="$(scripts/fetch-tensorrt-rtx.sh | tail -n1)" cargo test ... --features tensorrt
# Idempotent: a verified wheel and an unpacked library are reused.
# Env: TRTFX_SKIP_APT=1 skips installing libclang-dev (needed to build the `trtx` binding).
set -euo pipefail

VERSION="1.7.1.116"
WHEEL="tensorrt_rtx_cu13_libs-${VERSION}-py3-none-manylinux_2_28_x86_64.whl"
# sha256 of the wheel as observed from PyPI when this script was written.
SHA256="e3fd45fed001240d63304e77a2d4006319b839994237cb294b6e7ad72acaabcd"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/target/tensorrt-rtx}"
LIB="$DEST/tensorrt_rtx_libs/libtensorrt_rtx.so.1"

log() { echo "fetch-tensorrt-rtx: $*" >&2; }

# libclang for the binding's build (autocxx/bindgen); only Debian/Ubuntu with apt are handled.
if [ "${TRTFX_SKIP_APT:-0}" != "1" ] && ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 \
    && ! ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        [ "$(id -u)" = "0" ] || SUDO="sudo"
        log "installing libclang-dev"
        $SUDO apt-get update -qq >&2
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev >&2
    else
        log "warning: libclang not found and apt-get is unavailable; install libclang (< 22) yourself"
    fi
fi

mkdir -p "$DEST"

check_sha() {
    local got
    got="$(sha256sum "$DEST/$WHEEL" | cut -d' ' -f1)"
    [ "$got" = "$SHA256" ]
}

if [ -f "$DEST/$WHEEL" ] && ! check_sha; then
    log "cached wheel has a wrong sha256; downloading it again"
    rm -f "$DEST/$WHEEL"
fi

if [ ! -f "$DEST/$WHEEL" ]; then
    log "downloading tensorrt-rtx-cu13-libs==$VERSION (~95 MB)"
    PY="$(command -v python3 || command -v python)"
    "$PY" -m pip download --quiet --no-deps "tensorrt-rtx-cu13-libs==$VERSION" -d "$DEST" >&2
    if ! check_sha; then
        log "error: sha256 of $WHEEL is $(sha256sum "$DEST/$WHEEL" | cut -d' ' -f1), expected $SHA256"
        exit 1
    fi
fi

# Unpack when the library is missing or older than the wheel (a re-download).
if [ ! -f "$LIB" ] || [ "$DEST/$WHEEL" -nt "$LIB" ]; then
    log "unpacking $WHEEL"
    if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$DEST/$WHEEL" 'tensorrt_rtx_libs/*' -d "$DEST"
    else
        PY="$(command -v python3 || command -v python)"
        "$PY" -m zipfile -e "$DEST/$WHEEL" "$DEST"
    fi
    touch "$LIB"
fi

echo "$LIB"
