#!/usr/bin/env bash
# luarocks make builds the rockspec from a copy of bindings/ against
# libsocketkit installed in a temporary prefix, into a temporary tree,
# offline, and the module loads from that tree. ROCKSPEC is the one the
# build generated (socketkit-<version>-1.rockspec).
# Usage: luarocks.sh BUILD_DIR BINDINGS_SRC ROCKSPEC LUAROCKS LUA
set -euo pipefail
build=$1 src=$2 rockspec=$3 luarocks=$4 lua=$5
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
cp -r "$src" "$tmp/src"
rm -rf "$tmp/src/tests"
cp "$rockspec" "$tmp/src/"
cd "$tmp/src"
# No network: an unreachable proxy makes any download attempt fail at once.
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
"$luarocks" --lua-version 5.4 --tree "$tmp/tree" make "$(basename "$rockspec")" \
  SOCKETKIT_DIR="$tmp/prefix" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; exit 1; }
so=$(find "$tmp/tree" -name socketkit.so | head -n 1)
[[ -n $so ]] || { echo "no socketkit.so in the tree"; cat "$tmp/make.log"; exit 1; }
LUA_CPATH="$(dirname "$so")/?.so" "$lua" "$here/smoke.lua"
want=$(basename "$rockspec" .rockspec)
"$luarocks" --lua-version 5.4 --tree "$tmp/tree" list --porcelain | grep -q "^socketkit	${want#socketkit-}	" \
  || { echo "luarocks does not list ${want}"; "$luarocks" --lua-version 5.4 --tree "$tmp/tree" list; exit 1; }
echo "luarocks make: ok"
