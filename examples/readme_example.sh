#!/usr/bin/env bash
# Keeps the README's C example honest: extracts its ```c block, compiles it
# against the built library, and runs it against the echo server (the
# example's port 7000 is swapped for the one the server got).
# Usage: readme_example.sh README BIN_DIR LIB_DIR INCLUDE_DIR CC [SANITIZE]
set -euo pipefail
readme=$1 bin=$2 libdir=$3 inc=$4 cc=$5 sanitize=${6:-}
tmp=$(mktemp -d /tmp/sk-readme.XXXXXX)
server=""
trap '[[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

sed -n '/^```c$/,/^```$/p' "$readme" | sed '1d;$d' >"$tmp/example.c"
[[ -s $tmp/example.c ]] || { echo "no \`\`\`c block in $readme"; exit 1; }
grep -q 7000 "$tmp/example.c" || { echo "the README example no longer uses port 7000"; exit 1; }

"$bin/echo_server" 127.0.0.1 0 1 >"$tmp/server.out" 2>&1 &
server=$!
for ((i = 0; i < 300; i++)); do
  grep -q '^listening on ' "$tmp/server.out" && break
  sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/server.out")
[[ -n $port ]] || { echo "echo server did not start"; cat "$tmp/server.out"; exit 1; }

sed -i "s/7000/$port/" "$tmp/example.c"
"$cc" -std=c99 -Wall -Wextra -Werror ${sanitize:+-fsanitize=$sanitize} -I"$inc" "$tmp/example.c" \
  -L"$libdir" -lsocketkit -Wl,-rpath,"$libdir" -o "$tmp/example"
out=$("$tmp/example")
[[ $out == hello ]] || { echo "README example printed '$out', expected 'hello'"; exit 1; }
wait "$server"; server=""
echo "README example: compiled, ran, got the echo"
