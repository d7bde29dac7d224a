#!/usr/bin/env bash
# The echo-server benchmark: a C epoll load generator pinned to CPU 1 drives
# single-threaded echo servers pinned to CPU 0 with 64-byte closed loops, at
# 100, 1,000 and 10,000 connections all busy and 10,000 connected with 100
# busy. Servers: raw C epoll (the baseline), socketkit's poller in C, Lua and
# Ruby (the Lua and Ruby ones are examples/*/poller_echo_server), and each
# language's incumbent: libuv, LuaSocket's select, Ruby's
# IO.select and nio4r. Passes are interleaved (every server once per pass),
# and each pass's rates are divided by raw epoll's in the same pass; the
# tables give the median ratio and its spread. Then the user space each
# server spends per idle connection (RSS growth with 10,000 connected) and
# the cost of one wait finding 1 ready socket among 10,000.
#
# Usage: bash bench/poller/run.sh BUILD_DIR [--quick]
# Environment: LUA_CPATH and RUBYLIB must find the socketkit modules (as
# bench/run.sh sets them); servers whose interpreter or library is missing
# are left out with a note.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:?usage: run.sh BUILD_DIR [--quick]}
quick=0
[[ ${2:-} == --quick || ${SK_BENCH_QUICK:-0} == 1 ]] && quick=1
bin=$build/bench/poller
passes=3 seconds=2
((quick)) && passes=1 seconds=0.5
tmp=$(mktemp -d /tmp/sk-echo-bench.XXXXXX)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -x $bin/bench_poller_load ]] || { echo "echo bench: $bin/bench_poller_load is not built"; exit 1; }

names=() cmds=()
add_server() { names+=("$1"); cmds+=("$2"); }
add_server raw "$bin/bench_poller_server_raw"
add_server sk-c "$bin/bench_poller_server_sk"
if [[ -x $bin/bench_poller_server_uv ]]; then
  add_server libuv "$bin/bench_poller_server_uv"
else
  echo "echo bench: no libuv server (libuv1-dev missing at build time)"
fi
if lua5.4 -e 'require "socketkit"' 2>/dev/null; then
  add_server sk-lua "lua5.4 $here/../../examples/lua/poller_echo_server.lua 127.0.0.1 0"
else
  echo "echo bench: the socketkit Lua module is not on LUA_CPATH; no Lua server"
fi
if lua5.4 -e 'require "socket"' 2>/dev/null; then
  add_server luasocket "lua5.4 $here/server_luasocket.lua"
fi
if ruby -e 'require "socketkit"' 2>/dev/null; then
  add_server sk-ruby "ruby $here/../../examples/ruby/poller_echo_server.rb 127.0.0.1 0"
else
  echo "echo bench: the socketkit Ruby extension is not on RUBYLIB; no Ruby server"
fi
add_server io.select "ruby $here/server_select.rb"
if ruby -e 'require "nio"' 2>/dev/null; then
  add_server nio4r "ruby $here/server_nio.rb"
else
  echo "echo bench: no nio4r (ruby-nio4r); left out"
fi

# start_server INDEX: starts it on CPU 0; sets server_pid and port.
start_server() {
  local out=$tmp/server.out i
  # shellcheck disable=SC2086  # the command is words on purpose
  taskset -c 0 ${cmds[$1]} >"$out" 2>&1 &
  server_pid=$!
  for ((i = 0; i < 300; i++)); do
    port=$(sed -n 's/^listening on \(.*:\)\{0,1\}\([0-9]*\)$/\2/p' "$out")
    [[ -n $port ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "echo bench: ${names[$1]} did not start: $(head -c 300 "$out")" >&2
  stop_server
  return 1
}
# A server busy with thousands of connections may take its time over
# SIGTERM; it gets 5 s, then SIGKILL.
stop_server() {
  [[ -n $server_pid ]] || return 0
  kill "$server_pid" 2>/dev/null
  for ((t = 0; t < 50; t++)); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=""
}

configs=("100 100" "1000 1000" "10000 10000" "10000 100")
results=$tmp/results.tsv   # pass config server msgs_per_s cpu_ns_per_msg
: >"$results"
echo "echo servers: ${names[*]}; $passes interleaved passes of ${seconds}s per server and configuration"
for ((pass = 1; pass <= passes; pass++)); do
  for config in "${configs[@]}"; do
    read -r conns busy <<<"$config"
    for i in "${!names[@]}"; do
      rate=fail cpu=fail
      if start_server "$i"; then
        if line=$(timeout 120 taskset -c 1 "$bin/bench_poller_load" "$port" "$conns" "$busy" "$seconds" \
                  "$server_pid" 2>"$tmp/load.err"); then
          rate=$(awk '{ print $2 }' <<<"$line") cpu=$(awk '{ print $4 }' <<<"$line")
        fi
        kill -0 "$server_pid" 2>/dev/null || rate=fail
        [[ $rate == fail ]] && echo "  ${names[$i]} at $conns/$busy failed: $(head -c 200 "$tmp/load.err")" \
          "$(tail -c 200 "$tmp/server.out")"
        stop_server
      fi
      printf '%s\t%s/%s\t%s\t%s\t%s\n' "$pass" "$conns" "$busy" "${names[$i]}" "$rate" "$cpu" >>"$results"
    done
  done
  echo "  pass $pass done"
done

# Memory per idle connection: the server's RSS before and with 10,000
# connections held open (each accepted and registered).
memory=$tmp/memory.tsv
: >"$memory"
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
for i in "${!names[@]}"; do
  bytes=fail
  if start_server "$i"; then
    sleep 0.2
    before=$(rss_kb "$server_pid")
    taskset -c 1 "$bin/bench_poller_load" "$port" 10000 0 30 >"$tmp/hold.out" 2>&1 &
    holder=$!
    for ((t = 0; t < 600; t++)); do
      grep -q connected "$tmp/hold.out" && break
      kill -0 "$holder" 2>/dev/null || break
      sleep 0.1
    done
    if grep -q connected "$tmp/hold.out"; then
      sleep 1 # the server accepts the last ones
      if kill -0 "$server_pid" 2>/dev/null; then
        after=$(rss_kb "$server_pid")
        bytes=$(( (after - before) * 1024 / 10000 ))
      fi
    fi
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
    stop_server
  fi
  printf '%s\t%s\n' "${names[$i]}" "$bytes" >>"$memory"
done

python3 - "$results" "$memory" <<'EOF'
import collections, statistics, sys

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
mem = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip())
rate = collections.defaultdict(dict)   # (pass, config) -> server -> (msgs/s, cpu ns/msg)
servers, configs = [], []
for p, cfg, srv, r, c in rows:
    if srv not in servers:
        servers.append(srv)
    if cfg not in configs:
        configs.append(cfg)
    if r != "fail":
        rate[(p, cfg)][srv] = (float(r), float(c))

def ratios(cfg, srv, base="raw", idx=0, invert=False):
    out = []
    for (p, c), by in rate.items():
        if c == cfg and srv in by and base in by and by[base][idx] > 0 and by[srv][idx] > 0:
            out.append(by[srv][idx] / by[base][idx] if not invert else by[base][idx] / by[srv][idx])
    return out

def fmt(rs):
    if not rs:
        return "   fails"
    return "%5.2f (%.2f-%.2f)" % (statistics.median(rs), min(rs), max(rs))

print()
print("echo server, 64-byte closed loops; msgs/s relative to raw epoll in the same pass")
print("(median over passes, spread in brackets); cpu: server CPU per message relative to raw")
for cfg in configs:
    conns, busy = cfg.split("/")
    title = "%s connections, %s" % (conns, "all busy" if conns == busy else busy + " busy")
    raw = [by["raw"][0] for (p, c), by in rate.items() if c == cfg and "raw" in by]
    print("\n  %s (raw epoll: %s msgs/s median)" % (title, "%.0f" % statistics.median(raw) if raw else "failed"))
    for srv in servers:
        if srv == "raw":
            continue
        print("    %-10s rate %-18s cpu/msg %s" % (srv, fmt(ratios(cfg, srv)), fmt(ratios(cfg, srv, idx=1))))

# The concurrency curve for bench/run.sh --report (format in bench/bench.h):
# each server's median msgs/s with every connection busy, per count.
for cfg in configs:
    conns, busy = cfg.split("/")
    if conns != busy:
        continue
    for srv in servers:
        rs = [by[srv][0] for (p, c), by in rate.items() if c == cfg and srv in by]
        lang = "lua" if "lua" in srv else ("ruby" if srv in ("sk-ruby", "io.select", "nio4r") else "c")
        if rs:
            print("bench\tlang=%s\tworkload=echo server, 64-byte closed loops, every connection busy"
                  "\tcase=%s\tconnections=%s\trate=%.1f\tunit=messages" % (lang, srv, conns,
                                                                      statistics.median(rs)))

print("\n  user space per idle connection (RSS growth, 10,000 connected):")
for srv in servers:
    print("    %-10s %s" % (srv, mem.get(srv, "fail") + (" bytes" if mem.get(srv, "fail") != "fail" else "")))

def target(label, rs, op, goal):
    if not rs:
        print("ratio %-26s  fail   target %s %s  NOT MET (no result)" % (label, op, goal))
        return
    m = statistics.median(rs)
    ok = m >= goal if op == ">=" else m <= goal
    print("ratio %-26s %5.2f   target %s %.2f  %s  (spread %.2f-%.2f)" %
          (label, m, op, goal, "ok" if ok else ("BELOW TARGET" if op == ">=" else "ABOVE TARGET"),
           min(rs), max(rs)))

print()
for cfg in configs:
    target("echo sk-c/raw %s" % cfg, ratios(cfg, "sk-c"), ">=", 0.95)
    target("echo cpu/msg sk-c/raw %s" % cfg, ratios(cfg, "sk-c", idx=1), "<=", 1.05)
idle = "10000/100"
if "sk-lua" in servers:
    target("echo sk-lua/raw %s" % idle, ratios(idle, "sk-lua"), ">=", 0.85)
if "sk-ruby" in servers:
    target("echo sk-ruby/raw %s" % idle, ratios(idle, "sk-ruby"), ">=", 0.85)
    if "io.select" in servers:
        target("echo sk-ruby/io.select %s" % idle, ratios(idle, "sk-ruby", base="io.select"), ">=", 5.0)
    if "nio4r" in servers:
        target("echo sk-ruby/nio4r %s" % idle, ratios(idle, "sk-ruby", base="nio4r"), ">=", 1.0)
b = mem.get("sk-c", "fail")
if b != "fail":
    print("ratio %-26s %5s    target <= 192   %s" % ("bytes/idle conn sk-c rss", b, "ok" if int(b) <= 192 else "ABOVE TARGET"))
EOF

echo
echo "one wait returning 1 ready socket among 10,000 (thread CPU time; medians):"
taskset -c 0 "$bin/bench_poller_wait_cost" $( ((quick)) && echo 5000 )
for script in "$here/wait_cost.lua" "$here/wait_cost.rb"; do
  case $script in
    *.lua) lua5.4 -e 'require "socketkit"' 2>/dev/null && taskset -c 0 lua5.4 "$script" ;;
    *.rb) ruby -e 'require "socketkit"' 2>/dev/null && taskset -c 0 ruby "$script" ;;
  esac
done
