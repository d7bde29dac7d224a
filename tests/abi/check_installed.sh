#!/usr/bin/env bash
# What an FFI user gets from an install: the ABI description under
# share/socketkit/, identical to the one built, and enough (that file plus
# libsocketkit.so.1, no header, no compiler) for the libffi host to run.
# Usage: check_installed.sh BUILD_DIR BUILT_JSON FFI_HOST
set -euo pipefail
build=$1 built_json=$2 ffi_host=$3

tmp=$(mktemp -d /tmp/sk-abi-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/socketkit
P=$tmp/stage$prefix
DESTDIR=$tmp/stage cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"

json=$P/share/socketkit/socketkit.abi.json
[[ -f $json ]] || { echo "FAIL: $json not installed"; exit 1; }
cmp "$json" "$built_json" || { echo "FAIL: installed description differs from the built one"; exit 1; }
lib=$(find "$P" -name libsocketkit.so.1 | head -n1)
[[ -n $lib ]] || { echo "FAIL: libsocketkit.so.1 not installed"; exit 1; }
echo "installed: ${json#$tmp/stage}, ${lib#$tmp/stage}"
"$ffi_host" "$json" "$lib"
