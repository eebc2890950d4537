# Shared set-up checks for trtfx's scripts (sourced, not run).
#
# Every check looks for what the consumer actually loads, not for a package name, and every
# install goes through `install_debian_packages`, which works as root or as a user with sudo and
# otherwise says, in one line, which package to install.

deps_log() { echo "${DEPS_LOG_PREFIX:-trtfx}: $*" >&2; }

# Runs a command as root: directly when we are root, through non-interactive sudo otherwise.
# Returns 1 without running anything when neither is possible.
as_root() {
    if [ "$(id -u)" = "0" ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

# install_debian_packages PKG... : installs Debian packages with apt-get, or explains how.
install_debian_packages() {
    if ! command -v apt-get >/dev/null 2>&1; then
        deps_log "error: apt-get is not available; install $* with your package manager"
        return 1
    fi
    if ! as_root true; then
        deps_log "error: installing $* needs root or passwordless sudo; run: sudo apt-get install $*"
        return 1
    fi
    deps_log "installing $* (apt-get)"
    local apt_log
    apt_log=$(mktemp "${TMPDIR:-/tmp}/trtfx-apt.XXXXXX")
    as_root apt-get update -qq >"$apt_log" 2>&1 || true
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "$@" >>"$apt_log" 2>&1; then
        tail -n 5 "$apt_log" >&2
        deps_log "error: apt-get install $* failed (log: $apt_log); install it yourself (sudo apt-get install $*)"
        return 1
    fi
    rm -f "$apt_log"
}

# Directories searched for libclang, in clang-sys's spirit: $LIBCLANG_PATH, `llvm-config
# --libdir`, then the usual system directories.
libclang_search_dirs() {
    if [ -n "${LIBCLANG_PATH:-}" ]; then
        if [ -f "$LIBCLANG_PATH" ]; then dirname "$LIBCLANG_PATH"; else echo "$LIBCLANG_PATH"; fi
    fi
    if command -v llvm-config >/dev/null 2>&1; then llvm-config --libdir 2>/dev/null || true; fi
    local d
    for d in /usr/lib/llvm-*/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib \
        /usr/local/lib64 /usr/local/llvm/lib /opt/llvm/lib; do
        [ -d "$d" ] && echo "$d"
    done
}

# Prints the first libclang that bindgen (clang-sys) would load: `libclang.so`,
# `libclang.so.N`, `libclang-N.so` or `libclang-N.so.M`. `libclang-cpp.so.N` is the C++ API
# library, a different library that bindgen cannot use, so it never counts.
find_libclang() {
    local d f base
    while read -r d; do
        for f in "$d"/libclang.so "$d"/libclang.so.* "$d"/libclang-*.so "$d"/libclang-*.so.*; do
            [ -e "$f" ] || continue
            base=$(basename "$f")
            if [[ "$base" =~ ^libclang(-[0-9][0-9.]*)?\.so(\.[0-9][0-9.]*)?$ ]]; then
                echo "$f"
                return 0
            fi
        done
    done < <(libclang_search_dirs)
    return 1
}

# True when clang's builtin headers (stddef.h) are where libclang LIB looks for them: its
# resource directory, `<libdir>/clang/<version>/include` (or `/usr/lib/clang/<version>` on
# layouts that put libclang elsewhere). Without them bindgen fails on `#include <stddef.h>`.
libclang_has_headers() {
    local lib="$1" real libdir h
    real=$(readlink -f "$lib")
    for libdir in "$(dirname "$lib")" "$(dirname "$real")" /usr/lib /usr/lib64 /usr/local/lib; do
        for h in "$libdir"/clang/*/include/stddef.h; do
            [ -f "$h" ] && return 0
        done
    done
    return 1
}

# ensure_libclang: makes sure bindgen finds a libclang with its headers; installs libclang-dev
# (Debian) when it does not. TRTFX_SKIP_APT=1 reports instead of installing.
ensure_libclang() {
    local lib
    if lib=$(find_libclang) && libclang_has_headers "$lib"; then
        return 0
    fi
    if [ -n "${lib:-}" ]; then
        deps_log "libclang found at $lib but clang's builtin headers (stddef.h) are missing"
    else
        deps_log "libclang (needed by bindgen for the TensorRT binding) not found"
    fi
    if [ "${TRTFX_SKIP_APT:-0}" = "1" ]; then
        deps_log "error: TRTFX_SKIP_APT=1: install libclang-dev (Debian/Ubuntu) or set LIBCLANG_PATH"
        return 1
    fi
    install_debian_packages libclang-dev || return 1
    if lib=$(find_libclang) && libclang_has_headers "$lib"; then
        deps_log "libclang: $lib"
        return 0
    fi
    deps_log "error: libclang-dev is installed but no usable libclang was found; set LIBCLANG_PATH"
    return 1
}

# need_command CMD PACKAGE: fails with one line naming the Debian package when CMD is missing.
need_command() {
    command -v "$1" >/dev/null 2>&1 && return 0
    deps_log "error: '$1' is not installed (Debian package: $2)"
    return 1
}

# A Python interpreter with pip, for `pip download`.
find_python_with_pip() {
    local py
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -m pip --version >/dev/null 2>&1; then
            command -v "$py"
            return 0
        fi
    done
    deps_log "error: no Python with pip found (Debian packages: python3 python3-pip)"
    return 1
}
