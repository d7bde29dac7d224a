#!/usr/bin/env bash
# tests/valgrind.sh [BUILD_DIR]: every C suite (ctest labels core and fault)
# once under valgrind memcheck; fails on any memcheck error or any definite
# leak. BUILD_DIR (default build/valgrind) is configured without sanitizers
# if it has no cache yet, and built. The storms and the load test
# (tests/stress) are left out: under memcheck's slowdown they would run for
# hours; the ASan stage's LeakSanitizer covers them (tests/stress/README.md).
#
# Each test's command comes from ctest, so the list follows the suites. It
# runs under `timeout` with a bound (SK_VALGRIND_TIMEOUT seconds, default
# 1800) far above ctest's: memcheck is 20-50 times slower, and the bound
# only says "did not hang".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build/valgrind}
limit=${SK_VALGRIND_TIMEOUT:-1800}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed"; exit 1; }

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOCKETKIT_BINDINGS=OFF \
    -DSOCKETKIT_BENCH=OFF -DSOCKETKIT_EXAMPLES=OFF >/dev/null || exit 1
fi
cmake --build "$build" -j "${JOBS:-2}" >/dev/null || { echo "valgrind.sh: build failed"; exit 1; }

# name<TAB>command words (tab-separated), one test a line, for the C suites
# minus the stress label.
mapfile -t tests < <(ctest --test-dir "$build" -L 'core|fault' -LE stress --show-only=json-v1 |
  python3 -c '
import json, sys
for t in json.load(sys.stdin)["tests"]:
    print("\t".join([t["name"]] + t["command"]))')
((${#tests[@]} > 0)) || { echo "valgrind.sh: ctest lists no C suites in $build"; exit 1; }

logs=$build/valgrind-logs
mkdir -p "$logs"
failed=0
for line in "${tests[@]}"; do
  IFS=$'\t' read -r -a words <<<"$line"
  name=${words[0]}
  t0=$SECONDS
  # --errors-for-leak-kinds=definite: a definite leak is an error, so
  # --error-exitcode reports it; "still reachable" is what the C runtime
  # and cmocka keep until exit.
  timeout --kill-after=30 "$limit" valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no \
    --log-file="$logs/$name.%p.memcheck" "${words[@]:1}" >"$logs/$name.out" 2>&1
  rc=$?
  if ((rc == 0)); then
    echo "valgrind: ok    $name [$((SECONDS - t0))s]"
  else
    echo "valgrind: FAIL  $name (exit $rc) [$((SECONDS - t0))s]"
    tail -n 30 "$logs/$name.out"
    cat "$logs/$name".*.memcheck
    failed=1
  fi
done
exit $failed
