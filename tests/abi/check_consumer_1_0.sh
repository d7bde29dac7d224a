#!/usr/bin/env bash
# A 1.0 program on this library: builds libsocketkit 1.0 and consumer_1_0.c
# against the 1.0 header, both from the 1.0 commit in the repository's
# history, and runs the program against LIBRARY through LD_LIBRARY_PATH.
# Exits 77 (skipped) when the history lacks that commit (a shallow clone).
# Usage: check_consumer_1_0.sh SOURCE_DIR LIBRARY CONSUMER_C CC CXX
set -euo pipefail
root=$1 lib=$2 consumer=$3 cc=$4 cxx=$5
release=ac268b3  # the last commit of 1.0.0

if ! git -C "$root" cat-file -e "$release^{commit}" 2>/dev/null; then
  echo "SKIP: commit $release (socketkit 1.0.0) is not in this clone's history (shallow clone?)"
  exit 77
fi
tmp=$(mktemp -d /tmp/sk-consumer-1.0.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

old=$tmp/1.0
mkdir -p "$old/lib"
git -C "$root" archive "$release" capi cpp | tar -x -C "$old"
grep -q '^#define SK_VERSION_MINOR 0$' "$old/capi/include/socketkit.h" \
  || fail "$release is not the 1.0 tree"

# The 1.0 library as its build made it, minus optimisation: only its symbols
# and their versions matter here, for linking the consumer.
"$cxx" -std=c++17 -O0 -fPIC -shared -fvisibility=hidden -fvisibility-inlines-hidden \
  -DSK_BUILDING_LIBRARY -D_GNU_SOURCE -I"$old/capi/include" -I"$old" \
  "$old"/cpp/*.cpp "$old/capi/socketkit.cpp" -pthread \
  -Wl,--version-script="$old/capi/socketkit.map" -Wl,-soname,libsocketkit.so.1 \
  -o "$old/lib/libsocketkit.so.1" >"$tmp/lib.log" 2>&1 \
  || { cat "$tmp/lib.log"; fail "the 1.0 library did not build"; }
ln -s libsocketkit.so.1 "$old/lib/libsocketkit.so"

"$cc" -std=c99 -Wall -Wextra -Werror -I"$old/capi/include" "$consumer" \
  -L"$old/lib" -lsocketkit -o "$tmp/consumer_1_0" || fail "consumer_1_0.c did not build against 1.0"

# It asks for SOCKETKIT_1 and nothing newer.
needs=$(readelf -V "$tmp/consumer_1_0" | grep -o 'Name: SOCKETKIT_[0-9.]*' | sort -u)
[[ $needs == "Name: SOCKETKIT_1" ]] || fail "the 1.0 consumer needs: ${needs:-no socketkit version}"

newdir=$(cd "$(dirname "$lib")" && pwd)
export LD_LIBRARY_PATH=$newdir LD_BIND_NOW=1
loaded=$(ldd "$tmp/consumer_1_0" | awk '$1 == "libsocketkit.so.1" {print $3}')
[[ $loaded == "$newdir/libsocketkit.so.1" ]] || fail "the consumer loads '$loaded', not $newdir/libsocketkit.so.1"
"$tmp/consumer_1_0" || fail "the 1.0 consumer failed against $(readlink -f "$newdir/libsocketkit.so.1")"
