#!/usr/bin/env bash
# The demo: builds socketkit, starts the C echo server on 127.0.0.1, talks
# to it from the C client (and from the Lua and Ruby clients when the
# bindings exist), then fetches a page from a local python3 http.server
# with the C HTTP/1.0 client, talks to the pre-fork server (connections
# handed to worker processes with sk_send_fds), and fetches files from the
# static-file server (sk_sendfile) with curl, or python3's urllib.
#
# Usage: bash examples/demo.sh                 install packages, build, run
#        bash examples/demo.sh --no-build --bin-dir DIR [--c-only]
#             run against already built examples (this is the ctest)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build/demo
bin=""
do_build=1
c_only=0
while (($#)); do
  case $1 in
    --no-build) do_build=0 ;;
    --bin-dir) bin=$2; shift ;;
    --build-dir) build=$2; shift ;;
    --c-only) c_only=1 ;;
    *) echo "demo: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if ((do_build)); then
  bash "$root/.ci/install-deps" || exit 1
  echo "== building socketkit in $build"
  # The logs live in the build directory, which a fresh clone does not have.
  mkdir -p "$build" || exit 1
  # The bindings are asked for (not AUTO): the demo runs their clients, and
  # install-deps has just installed what they need.
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
    -DSOCKETKIT_BENCH=OFF -DSOCKETKIT_BINDINGS=ON >"$build/demo-configure.log" 2>&1 \
    || { cat "$build/demo-configure.log"; exit 1; }
  cmake --build "$build" -j 2 >"$build/demo-build.log" 2>&1 \
    || { tail -n 40 "$build/demo-build.log"; exit 1; }
fi
bin=${bin:-$build/examples}
for exe in echo_server echo_client http_get prefork_server static_server; do
  [[ -x $bin/$exe ]] || { echo "demo: $bin/$exe is not built" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/sk-demo.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0 failed=0
step() {  # step NAME COMMAND...: runs one client, counts the result
  local name=$1; shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "   FAILED: $name"; failed=$((failed + 1))
  fi
}

# wait_for_line FILE REGEX: the line, once it appears (at most 30 s: a
# loaded machine can take many seconds just to start python3).
wait_for_line() {
  local i line
  for ((i = 0; i < 300; i++)); do
    line=$(grep -m1 -E "$2" "$1" 2>/dev/null) && { echo "$line"; return 0; }
    sleep 0.1
  done
  return 1
}

# --- echo ---------------------------------------------------------------
"$bin/echo_server" 127.0.0.1 0 >"$tmp/echo.out" 2>&1 &
pids+=($!)
line=$(wait_for_line "$tmp/echo.out" '^listening on ') \
  || { echo "demo: echo server did not start:"; cat "$tmp/echo.out"; exit 1; }
port=${line##*:}
echo "echo server: $line"

step "C echo client" "$bin/echo_client" 127.0.0.1 "$port" "hello from C"

if ((!c_only)); then
  # bindings/CMakeLists.txt builds the Lua module as bindings/lua/socketkit.so
  # and the Ruby extension as bindings/ruby/socketkit_ext.so (loaded by
  # bindings/ruby/lib/socketkit.rb); point each interpreter there.
  lua_dir=$build/bindings/lua ruby_dir=$build/bindings/ruby
  [[ -f $lua_dir/socketkit.so ]] || lua_dir=""
  [[ -f $ruby_dir/socketkit_ext.so ]] || ruby_dir=""
  if [[ -f $root/examples/lua/echo_client.lua ]]; then
    if [[ -n $lua_dir ]]; then
      step "Lua echo client" env LUA_CPATH="$lua_dir/?.so;;" \
        lua5.4 "$root/examples/lua/echo_client.lua" 127.0.0.1 "$port" "hello from Lua"
    else
      echo "== Lua echo client: FAILED, the Lua module is not built under $build/bindings"
      failed=$((failed + 1))
    fi
  fi
  if [[ -f $root/examples/ruby/echo_client.rb ]]; then
    if [[ -n $ruby_dir ]]; then
      step "Ruby echo client" env RUBYLIB="$ruby_dir:$root/bindings/ruby/lib" \
        ruby "$root/examples/ruby/echo_client.rb" 127.0.0.1 "$port" "hello from Ruby"
    else
      echo "== Ruby echo client: FAILED, the Ruby extension is not built under $build/bindings"
      failed=$((failed + 1))
    fi
  fi
fi

# --- echo on the poller: one thread, many clients at once ------------------
# An idle client holds a connection open (a one-at-a-time server would
# serve nobody else), several clients run at once, and the server ends by
# itself after serving them all (the idle one included).
poller_clients=6
poller_echo() {  # poller_echo NAME COMMAND...: starts the server, runs the clients
  local name=$1; shift
  local out=$tmp/poller-$name.out i ok=1 srv
  "$@" 127.0.0.1 0 $((poller_clients + 1)) >"$out" 2>&1 &
  srv=$!
  pids+=($srv)
  local line
  line=$(wait_for_line "$out" '^listening on ') \
    || { echo "   $name poller server did not start:"; cat "$out"; return 1; }
  local p=${line##*:}
  exec 3<>"/dev/tcp/127.0.0.1/$p" || return 1
  local cpids=()
  for ((i = 1; i <= poller_clients; i++)); do
    "$bin/echo_client" 127.0.0.1 "$p" "client $i of $poller_clients to the $name poller server" \
      >"$tmp/poller-$name-$i.out" 2>&1 &
    cpids+=($!)
  done
  for i in "${!cpids[@]}"; do
    wait "${cpids[$i]}" || { echo "   client $((i + 1)) failed:"; cat "$tmp/poller-$name-$((i + 1)).out"; ok=0; }
  done
  exec 3>&-
  wait "$srv" || { echo "   $name poller server failed:"; cat "$out"; ok=0; }
  grep -q "^served $((poller_clients + 1)) clients" "$out" \
    || { echo "   $name poller server did not finish:"; cat "$out"; ok=0; }
  ((ok)) && echo "   $poller_clients clients at once plus an idle one: all echoed"
  ((ok))
}
[[ -x $bin/poller_echo_server ]] || { echo "demo: $bin/poller_echo_server is not built" >&2; exit 1; }
step "C poller echo server, $poller_clients clients at once" poller_echo C "$bin/poller_echo_server"
if ((!c_only)); then
  if [[ -n $lua_dir ]]; then
    step "Lua poller echo server, $poller_clients clients at once" poller_echo Lua \
      env LUA_CPATH="$lua_dir/?.so;;" lua5.4 "$root/examples/lua/poller_echo_server.lua"
  fi
  if [[ -n $ruby_dir ]]; then
    step "Ruby poller echo server, $poller_clients clients at once" poller_echo Ruby \
      env RUBYLIB="$ruby_dir:$root/bindings/ruby/lib" ruby "$root/examples/ruby/poller_echo_server.rb"
  fi
fi

# --- HTTP ---------------------------------------------------------------
mkdir -p "$tmp/www"
printf 'Hello from python3 http.server.\nThis body was read with sk_file_read.\n' >"$tmp/www/hello.txt"
# Port 0: http.server prints the port the kernel chose; -u so it prints now.
python3 -u -m http.server --bind 127.0.0.1 --directory "$tmp/www" 0 >"$tmp/http.out" 2>&1 &
pids+=($!)
line=$(wait_for_line "$tmp/http.out" '^Serving HTTP on ') \
  || { echo "demo: http.server did not start:"; cat "$tmp/http.out"; exit 1; }
http_port=$(sed -E 's/.* port ([0-9]+).*/\1/' <<<"$line")
echo "http server: 127.0.0.1:$http_port (python3 -m http.server)"

http_check() {
  "$bin/http_get" localhost "$http_port" /hello.txt >"$tmp/get.out" || return 1
  cat "$tmp/get.out"
  # The body is what follows the blank line after the headers.
  sed '1,/^$/d' "$tmp/get.out" | cmp -s - "$tmp/www/hello.txt" \
    || { echo "   body differs from the served file"; return 1; }
}
step "C HTTP/1.0 client (create_connection by name, makefile + readline)" http_check

# --- pre-fork: the parent accepts, workers serve --------------------------
"$bin/prefork_server" 127.0.0.1 0 2 >"$tmp/prefork.out" 2>&1 &
pids+=($!)
line=$(wait_for_line "$tmp/prefork.out" '^listening on ') \
  || { echo "demo: prefork server did not start:"; cat "$tmp/prefork.out"; exit 1; }
prefork_port=${line##*:}
echo "pre-fork server: $line (2 workers)"

prefork_check() {
  local i workers
  for i in 1 2 3 4; do
    "$bin/echo_client" 127.0.0.1 "$prefork_port" "hello worker, connection $i" || return 1
  done
  wait_for_line "$tmp/prefork.out" '^worker .* served ' >/dev/null || return 1
  for ((i = 0; i < 100; i++)); do
    (($(grep -c '^worker .* served ' "$tmp/prefork.out") >= 4)) && break
    sleep 0.1
  done
  grep '^worker ' "$tmp/prefork.out"
  # Round robin over two workers: two different processes served them.
  workers=$(grep '^worker .* served ' "$tmp/prefork.out" | awk '{print $2}' | sort -u | wc -l)
  ((workers == 2)) || { echo "   expected 2 worker processes, saw $workers"; return 1; }
}
step "pre-fork server (sk_send_fds to worker processes)" prefork_check

# --- static files with sk_sendfile, fetched by a real HTTP client -----------
head -c 2097152 /dev/urandom >"$tmp/www/random.bin"
"$bin/static_server" "$tmp/www" 127.0.0.1 0 >"$tmp/static.out" 2>&1 &
pids+=($!)
line=$(wait_for_line "$tmp/static.out" '^listening on ') \
  || { echo "demo: static server did not start:"; cat "$tmp/static.out"; exit 1; }
static_port=${line##*:}
echo "static server: $line"

fetch() {  # fetch URL FILE: with curl if there is one, else python3's urllib
  if command -v curl >/dev/null; then
    curl -sS --max-time 30 -o "$2" --fail "$1"
  else
    python3 -c 'import sys, urllib.request
open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=30).read())' "$1" "$2"
  fi
}
static_check() {
  local f
  for f in hello.txt random.bin; do
    fetch "http://127.0.0.1:$static_port/$f" "$tmp/fetched" || return 1
    cmp -s "$tmp/fetched" "$tmp/www/$f" || { echo "   $f differs from the served file"; return 1; }
    echo "   $f: $(wc -c <"$tmp/fetched") bytes, identical"
  done
  # A missing file is a 404, which the client reports as a failure.
  if fetch "http://127.0.0.1:$static_port/missing.txt" "$tmp/fetched" 2>/dev/null; then
    echo "   a missing file was served"; return 1
  fi
}
step "static-file server (sk_sendfile) fetched with $(command -v curl >/dev/null && echo curl || echo urllib)" static_check

echo
echo "demo: $passed passed, $failed failed"
((failed == 0))
