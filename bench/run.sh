#!/usr/bin/env bash
# Runs every benchmark and prints the ratios (socketkit rate / raw rate,
# medians of alternating rounds in one process) and the syscalls per
# round trip in timeout mode. Not part of the tests: nothing here fails on
# a slow machine; ratios below target are marked BELOW TARGET.
#
# Usage: bash bench/run.sh [--quick] [--report DIR]
#   --quick       smaller workloads and fewer rounds (a smoke run, noisy ratios)
#   --report DIR  also write DIR/report.md with the tables (ratios with
#                 min-max, machine facts, date, commit) and PNG charts
#                 (bench/report.py, matplotlib)
# Environment: SK_SKIP_DEPS=1 skips the package check.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build/bench
quick=0 report=""
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --report)
      [[ -n ${2:-} ]] || { echo "bench: --report needs a directory" >&2; exit 2; }
      report=$(mkdir -p "$2" && cd "$2" && pwd) || exit 2
      shift ;;
    *) echo "usage: bash bench/run.sh [--quick] [--report DIR]" >&2; exit 2 ;;
  esac
  shift
done

if [[ "${SK_SKIP_DEPS:-0}" != 1 ]]; then
  bash "$root/.ci/install-deps" || exit 1
fi
echo "== building in $build (RelWithDebInfo)"
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
  -DSOCKETKIT_BENCH=ON >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j 2 --target bench_pingpong bench_bulk bench_readline bench_accept \
  bench_sendfile bench_batches bench_gather \
  >"$build/build.log" 2>&1 || { tail -n 40 "$build/build.log"; exit 1; }
# The rest (the Lua and Ruby modules for their benchmarks) may fail without
# stopping the C benchmarks.
cmake --build "$build" -j 2 >>"$build/build.log" 2>&1 \
  || echo "bench: the full build failed (see $build/build.log); the bindings' benchmarks may not run"

bin=$build/bench
results=$build/results.txt
# When and what was measured, for the report (format in bench/bench.h).
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[[ -n $(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null) ]] \
  && commit+=" (with uncommitted changes)"
printf 'bench\tlang=meta\tdate=%s\tcommit=%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$commit" >"$results"
if ((quick)); then
  pp=(--n 20000 --rounds 3) bulk=(--n 268435456 --rounds 3)
  rl=(--n 500000 --rounds 3) acc=(--n 5000 --rounds 3)
  sf=(--n 268435456 --rounds 3) mm=(--n 128000 --rounds 3) gv=(--n 50000 --rounds 3)
else
  pp=() bulk=() rl=() acc=() sf=() mm=() gv=()
fi

# The "bench<TAB>..." lines (bench/bench.h) are for the report: kept in
# $results, not shown.
run() { echo; "$@" 2>&1 | tee -a "$results" | grep --line-buffered -v $'^bench\t'; }
rm -f "$build/results-lua.txt" "$build/results-ruby.txt"
run "$bin/bench_pingpong" "${pp[@]}"
run "$bin/bench_bulk" "${bulk[@]}"
run "$bin/bench_readline" "${rl[@]}"
run "$bin/bench_accept" "${acc[@]}"
run "$bin/bench_sendfile" "${sf[@]}"
run "$bin/bench_batches" "${mm[@]}"
run "$bin/bench_gather" "${gv[@]}"

# Syscalls per round trip: strace over two round-trip counts, so the
# start-up (loading, connecting, thread creation) cancels out.
# calls FILE: total calls in an `strace -c` table.
calls() { awk '$NF == "total" { print $4 }' "$1"; }
# per_call FILE: "name calls" for each syscall in the table.
per_call() { awk '$4 ~ /^[0-9]+$/ && $NF != "total" && $NF != "syscall" { print $NF, $4 }' "$1"; }
count_syscalls() {  # count_syscalls KIND -> prints syscalls per round trip
  local kind=$1 n1=2000 n2=12000 t1 t2
  strace -f -c -o "$build/strace-$kind-$n1.txt" "$bin/bench_pingpong" --only "$kind" --n $n1 >/dev/null || return 1
  strace -f -c -o "$build/strace-$kind-$n2.txt" "$bin/bench_pingpong" --only "$kind" --n $n2 >/dev/null || return 1
  t1=$(calls "$build/strace-$kind-$n1.txt"); t2=$(calls "$build/strace-$kind-$n2.txt")
  awk -v a="$t1" -v b="$t2" -v n=$((n2 - n1)) 'BEGIN { printf "%.2f", (b - a) / n }'
  # Which calls make up the round trip (those at >= 0.01 per round trip).
  join <(per_call "$build/strace-$kind-$n1.txt" | sort) <(per_call "$build/strace-$kind-$n2.txt" | sort) \
    | awk -v n=$((n2 - n1)) '{ d = ($3 - $2) / n; if (d >= 0.01) printf " %s=%.2f", $1, d }'
}
echo
echo "syscalls per 64-byte round trip (strace -f -c, $((12000 - 2000)) round trips' difference):" | tee -a "$results"
for kind in raw sk-blocking sk-timeout; do
  if line=$(count_syscalls $kind); then
    printf '  %-12s %s\n' "$kind" "$line" | tee -a "$results"
  else
    echo "  $kind: strace failed" | tee -a "$results"
  fi
done
sk_rt=$(awk '$1 == "sk-timeout" { print $2 }' "$results" | tail -n1)
if [[ -n $sk_rt ]]; then
  awk -v v="$sk_rt" 'BEGIN { printf "ratio %-26s %.2f   target <= 4.10  %s\n", "syscalls/rt sk timeout", v, (v <= 4.1 ? "ok" : "ABOVE TARGET") }' \
    | tee -a "$results"
fi

# The bindings' benchmarks (Lua vs LuaSocket, Ruby vs Ruby's socket), when
# they exist. Each language directory may hold a run.sh (called with the
# build dir) or scripts, run as their headers ask: pinned to CPU 0 with
# taskset (they fork their peer, which inherits the pinning), with the
# modules on the search path and an optional scale argument.
# Module locations as bindings/CMakeLists.txt builds them.
lua_dir=$build/bindings/lua ruby_dir=$build/bindings/ruby
[[ -f $lua_dir/socketkit.so ]] || lua_dir=""
[[ -f $ruby_dir/socketkit_ext.so ]] || ruby_dir=""
export LUA_CPATH="${lua_dir:+$lua_dir/?.so;}${LUA_CPATH:-;}"
export RUBYLIB="${ruby_dir:+$ruby_dir:}$root/bindings/ruby/lib${RUBYLIB:+:$RUBYLIB}"
export SK_BENCH_BUILD=$build SK_BENCH_QUICK=$quick
scale=""
((quick)) && scale=0.2
for lang in lua ruby; do
  dir=$root/bench/$lang
  [[ -d $dir ]] || continue
  if [[ -f $dir/run.sh ]]; then
    run bash "$dir/run.sh" "$build"
  else
    for script in "$dir"/*.lua "$dir"/*.rb; do
      [[ -f $script ]] || continue
      case $script in
        *.lua) run taskset -c 0 lua5.4 "$script" $scale | tee "$build/results-lua.txt" ;;
        *.rb) run taskset -c 0 ruby "$script" $scale | tee "$build/results-ruby.txt" ;;
      esac
    done
  fi
done

# The echo-server benchmark (the poller against raw epoll and each
# language's incumbent); it prints its own tables and ratio lines.
run bash "$root/bench/poller/run.sh" "$build"

echo
echo "================ summary (socketkit / raw; medians; full output in $results)"
grep '^ratio ' "$results" | sed 's/^ratio /  /'
# The bindings' tables: "workload  socketkit-s  incumbent-s  ratio  (...)".
for lang in lua ruby; do
  f=$build/results-$lang.txt
  [[ -s $f ]] || continue
  echo "  $lang (incumbent time / socketkit time, > 1: socketkit faster):"
  grep -E '^[a-z_ -]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +\(' "$f" | sed 's/^/    /'
done

if [[ -n $report ]]; then
  echo
  flags=()
  ((quick)) && flags=(--quick)
  # The charts need Debian's python3-matplotlib: take the first python3 on
  # the PATH that has it (a python3 of one's own may come first).
  py=""
  for cand in python3 /usr/bin/python3; do
    if "$cand" -c 'import matplotlib' 2>/dev/null; then py=$cand; break; fi
  done
  "${py:-python3}" "$root/bench/report.py" --results "$results" --root "$root" --out "$report" \
    "${flags[@]}" || exit 1
fi
