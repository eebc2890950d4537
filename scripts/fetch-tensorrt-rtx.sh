#!/usr/bin/env bash
# Fetch TensorRT-RTX (the PyPI wheel `tensorrt-rtx-cu13-libs`) for trtfx-backend-trt's
# `tensorrt` feature and print the path of `libtensorrt_rtx.so.1` on stdout (its last line).
#
# TensorRT-RTX ships a full builder that builds plans on a CPU-only machine (target SM86 by
# default); the plans cannot run here. The binary is proprietary: it lives under target/ only and
# is never committed.
#
# Usage: scripts/fetch-tensorrt-rtx.sh [DEST]   (DEST defaults to target/tensorrt-rtx)
#   then: TRTFX_TENSORRT_LIB="$(scripts/fetch-tensorrt-rtx.sh | tail -n1)" cargo test ... --features tensorrt
# Idempotent: a verified wheel and an unpacked library are reused, so no network is needed then.
# It also makes sure libclang (with clang's builtin headers) is there, because the `trtx`
# binding is generated with bindgen; see scripts/lib/deps.sh.
#
# Env: TRTFX_SKIP_APT=1 never installs Debian packages (reports what is missing instead).
# Exit status: 0 ready; 1 a set-up error (message on stderr); 3 the wheel could not be
# downloaded (no network or no PyPI), with one line on stderr.
set -euo pipefail

VERSION="1.7.1.116"
WHEEL="tensorrt_rtx_cu13_libs-${VERSION}-py3-none-manylinux_2_28_x86_64.whl"
# sha256 of the wheel as observed from PyPI when this script was written.
SHA256="e3fd45fed001240d63304e77a2d4006319b839994237cb294b6e7ad72acaabcd"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-${CARGO_TARGET_DIR:-$ROOT/target}/tensorrt-rtx}"
LIB="$DEST/tensorrt_rtx_libs/libtensorrt_rtx.so.1"

DEPS_LOG_PREFIX="fetch-tensorrt-rtx"
# shellcheck source=lib/deps.sh
. "$ROOT/scripts/lib/deps.sh"
log() { deps_log "$@"; }

ensure_libclang
need_command sha256sum coreutils

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
    PY="$(find_python_with_pip)"
    log "downloading tensorrt-rtx-cu13-libs==$VERSION (~95 MB)"
    pip_log="$DEST/pip-download.log"
    if ! "$PY" -m pip download --quiet --no-deps --retries 1 --timeout 20 \
        "tensorrt-rtx-cu13-libs==$VERSION" -d "$DEST" >"$pip_log" 2>&1; then
        log "could not download tensorrt-rtx-cu13-libs==$VERSION from PyPI (no network?); see $pip_log"
        exit 3
    fi
    if ! check_sha; then
        log "error: sha256 of $WHEEL is $(sha256sum "$DEST/$WHEEL" | cut -d' ' -f1), expected $SHA256"
        rm -f "$DEST/$WHEEL"
        exit 1
    fi
fi

# Unpack when the library is missing or older than the wheel (a re-download).
if [ ! -f "$LIB" ] || [ "$DEST/$WHEEL" -nt "$LIB" ]; then
    log "unpacking $WHEEL"
    if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$DEST/$WHEEL" 'tensorrt_rtx_libs/*' -d "$DEST"
    else
        PY="$(command -v python3 || command -v python || true)"
        if [ -z "$PY" ]; then
            log "error: neither unzip nor python3 is installed (Debian package: unzip)"
            exit 1
        fi
        "$PY" -m zipfile -e "$DEST/$WHEEL" "$DEST"
    fi
    if [ ! -f "$LIB" ]; then
        log "error: $WHEEL holds no tensorrt_rtx_libs/libtensorrt_rtx.so.1"
        exit 1
    fi
    touch "$LIB"
fi

echo "$LIB"
