#!/usr/bin/env bash
# tests/valgrind.sh [BUILD_DIR]: every C suite (ctest labels core and fault)
# once under valgrind memcheck; fails on any memcheck error or any definite
# leak. BUILD_DIR (default build/valgrind) is configured without sanitizers
# if it has no cache yet, and built. The storms and the load test
# (tests/stress) are left out: under memcheck's slowdown they would run for
# hours; the ASan stage's LeakSanitizer covers them (tests/stress/README.md).
# So are the ABI checks (label abi): the allocation-failure one replaces
# operator new to inject ENOMEM, which memcheck's own allocator overrides.
#
# Each test's command comes from ctest, so the list follows the suites. It
# runs under `timeout` with a bound (SK_VALGRIND_TIMEOUT seconds, default
# 1800) far above ctest's: memcheck is 20-50 times slower, and the bound
# only says "did not hang". SK_VALGRIND_TESTS, a ctest -R regex, picks some.
#
# Forked children are not checked (--child-silent-after-fork): the suites
# fork to lower limits, enter namespaces or die mid-call, and such a child
# _exits with its handles live on purpose, which memcheck would call lost;
# every library call a suite checks runs in the parent too.
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

# name<TAB>command words (tab-separated), one test a line.
mapfile -t tests < <(ctest --test-dir "$build" -L 'core|fault' -LE 'stress|abi' \
  ${SK_VALGRIND_TESTS:+-R "$SK_VALGRIND_TESTS"} --show-only=json-v1 |
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
  rm -f "$logs/$name".*.memcheck
  t0=$SECONDS
  # The verdict is the test's own exit status plus the parent's memcheck
  # summary, not --error-exitcode, which forked children would inherit.
  # --errors-for-leak-kinds=definite: a definite leak counts as an error;
  # "still reachable" is what the C runtime and cmocka keep until exit.
  timeout --kill-after=30 "$limit" valgrind --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite --child-silent-after-fork=yes \
    --log-file="$logs/$name.%p.memcheck" "${words[@]:1}" >"$logs/$name.out" 2>&1
  rc=$?
  summaries=$(cat "$logs/$name".*.memcheck 2>/dev/null | grep -c 'ERROR SUMMARY: 0 errors')
  reports=$(ls "$logs/$name".*.memcheck 2>/dev/null | wc -l)
  if ((rc == 0 && reports >= 1 && summaries == reports)); then
    echo "valgrind: ok    $name [$((SECONDS - t0))s]"
  else
    echo "valgrind: FAIL  $name (exit $rc, $summaries of $reports memcheck reports clean) [$((SECONDS - t0))s]"
    tail -n 30 "$logs/$name.out"
    grep -v '^==[0-9]*== *$' "$logs/$name".*.memcheck | grep -A12 -E 'Invalid|uninitiali|definitely lost in|Syscall param|Mismatched|ERROR SUMMARY' | head -n 80
    failed=1
  fi
done
exit $failed
