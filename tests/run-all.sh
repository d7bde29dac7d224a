#!/usr/bin/env bash
# The test command: every suite, three ways, and the builds users make.
#   1. build/ci      RelWithDebInfo, every part required, all of ctest
#   2. build/asan    AddressSanitizer + UndefinedBehaviorSanitizer, core + fault suites
#   3. build/tsan    ThreadSanitizer, the suites labelled "threads"
#   4. build/builds  the library and the C tests built (not run) as Release,
#                    Debug, with clang, and as Debian packages it
#   5. build/fuzz    clang + libFuzzer + ASan/UBSan: each fuzz target for a few
#                    seconds (SK_FUZZ_SECONDS, default 8) in its own namespace
#   valgrind         (only when SK_STAGES names it) tests/valgrind.sh: the C
#                    suites once under memcheck, about 6 minutes on a loaded
#                    2-core machine; by default the asan stage's LeakSanitizer
#                    is the leak check (tests/stress/README.md)
# Every build has warnings as errors (SOCKETKIT_WERROR), so a warning that
# only one compiler or optimisation level sees fails here, not for a user.
# Each stage runs even if an earlier one failed, so one run shows every
# problem; the exit status is non-zero if any stage failed. The output ends
# with the ctest summary of the full build (CI reads those lines).
#
# Environment: JOBS (default 2) for build and ctest parallelism,
# SK_SKIP_DEPS=1 to skip the package check, SK_STAGES="ci asan tsan builds"
# to run a subset.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${JOBS:-2}
stages=${SK_STAGES:-ci asan tsan builds fuzz}
logdir=$root/build/logs
mkdir -p "$logdir"
# A stage that fails before its ctest must not leave an earlier run's ctest
# log behind for the closing summary to report.
for s in $stages; do rm -f "$logdir/$s.ctest.log"; done

if [[ "${SK_SKIP_DEPS:-0}" != 1 ]]; then
  bash "$root/.ci/install-deps" || { echo "run-all: installing packages failed"; exit 1; }
fi

declare -A result
declare -A counts
start_all=$SECONDS

# Pulls "N% tests passed, F tests failed out of T" from a ctest log.
ctest_counts() {
  grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n1
}

# configure_and_build DIR LOG [cmake args...]: 0, or prints why it failed
# and returns 1 (configure) or 2 (build). configure_env (VAR=value words)
# is the environment of the configure, where CMake reads CFLAGS and friends.
configure_env=()
configure_and_build() {
  local dir=$1 log=$2; shift 2
  if ! env "${configure_env[@]}" cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOCKETKIT_WERROR=ON \
         "$@" >"$log" 2>&1; then
    tail -n 40 "$log"; return 1
  fi
  if ! cmake --build "$dir" -j "$jobs" >>"$log" 2>&1; then
    grep -E 'error|Error|warning' "$log" | head -n 40
    return 2
  fi
}

# stage NAME LABEL-REGEX [cmake args...]: configure, build, run ctest.
stage() {
  local name=$1 labels=$2; shift 2
  local dir=$root/build/$name log=$logdir/$name.log t0=$SECONDS
  echo
  echo "================ stage $name: configure + build ($dir)"
  configure_and_build "$dir" "$log" "$@"
  case $? in
    1) result[$name]="FAIL (configure, see $log)"; return ;;
    2) result[$name]="FAIL (build, see $log)"; return ;;
  esac
  echo "================ stage $name: ctest ${labels:+-L '$labels'}"
  local -a ctest_args=(--test-dir "$dir" --output-on-failure --no-tests=error
                       --timeout 300 -j "$jobs")
  [[ -n $labels ]] && ctest_args+=(-L "$labels")
  local -a wrapper=()
  [[ $name == tsan ]] && wrapper=("${tsan_wrapper[@]}")
  "${wrapper[@]}" ctest "${ctest_args[@]}" 2>&1 | tee "$logdir/$name.ctest.log"
  local rc=${PIPESTATUS[0]}
  counts[$name]=$(ctest_counts "$logdir/$name.ctest.log")
  if ((rc == 0)); then
    result[$name]="ok"
  else
    result[$name]="FAIL (ctest exit $rc)"
  fi
  result[$name]+="  [$((SECONDS - t0))s]"
}

# The builds stage: what users and packagers build, compiled warning-free
# but not run (the stages above run the tests). The library and the C
# tests only, to keep it short.
builds_stage() {
  local t0=$SECONDS failed=() ok=() kind dir log rc
  local -a common=(-DSOCKETKIT_TESTS=ON -DSOCKETKIT_FFI=ON -DSOCKETKIT_BINDINGS=OFF
                   -DSOCKETKIT_BENCH=OFF -DSOCKETKIT_EXAMPLES=OFF)
  # Debian's packaging: build type None and dpkg-buildflags' flags (with
  # _FORTIFY_SOURCE and -Werror=format-security), as dh_auto_configure does.
  local -a deb_env=()
  if command -v dpkg-buildflags >/dev/null; then
    local cppflags
    cppflags=$(dpkg-buildflags --get CPPFLAGS)
    deb_env=("CFLAGS=$(dpkg-buildflags --get CFLAGS) $cppflags"
             "CXXFLAGS=$(dpkg-buildflags --get CXXFLAGS) $cppflags"
             "LDFLAGS=$(dpkg-buildflags --get LDFLAGS)")
  fi
  for kind in release debug clang debian; do
    dir=$root/build/builds/$kind log=$logdir/builds-$kind.log
    echo
    echo "================ stage builds: $kind ($dir)"
    case $kind in
      release) configure_and_build "$dir" "$log" "${common[@]}" -DCMAKE_BUILD_TYPE=Release ;;
      debug)   configure_and_build "$dir" "$log" "${common[@]}" -DCMAKE_BUILD_TYPE=Debug ;;
      # The default (empty) build type, with Debian's clang.
      clang)   configure_and_build "$dir" "$log" "${common[@]}" -DCMAKE_BUILD_TYPE= \
                 -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ ;;
      debian)  configure_env=("${deb_env[@]}")
               configure_and_build "$dir" "$log" "${common[@]}" -DCMAKE_BUILD_TYPE=None ;;
    esac
    rc=$?
    configure_env=()
    if ((rc == 0)); then ok+=("$kind"); else failed+=("$kind ($([[ $rc == 1 ]] && echo configure || echo build), see $log)"); fi
  done
  if ((${#failed[@]} == 0)); then
    result[builds]="ok (${ok[*]})  [$((SECONDS - t0))s]"
  else
    result[builds]="FAIL: ${failed[*]}  [$((SECONDS - t0))s]"
  fi
}

# Some kernels randomise mmap with more bits than ThreadSanitizer's fixed
# memory layout allows ("unexpected memory mapping"); then run the TSan
# tests with address randomisation off for that process tree only.
tsan_wrapper=()
probe_tsan() {
  local d
  d=$(mktemp -d)
  printf '#include <pthread.h>\nstatic void *f(void *a){return a;}\nint main(void){pthread_t t;pthread_create(&t,0,f,0);return pthread_join(t,0);}\n' >"$d/p.c"
  if ! cc -fsanitize=thread -pthread "$d/p.c" -o "$d/p" 2>/dev/null; then
    rm -rf "$d"; echo "run-all: cannot build with -fsanitize=thread"; return 1
  fi
  if "$d/p" >/dev/null 2>&1; then
    rm -rf "$d"; return 0
  fi
  if setarch "$(uname -m)" -R "$d/p" >/dev/null 2>&1; then
    echo "run-all: ThreadSanitizer needs ASLR off on this kernel; using setarch -R"
    tsan_wrapper=(setarch "$(uname -m)" -R)
    rm -rf "$d"; return 0
  fi
  rm -rf "$d"; echo "run-all: ThreadSanitizer does not run on this machine"; return 1
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

for s in $stages; do
  case $s in
    ci)
      # Every part required: a missing tool fails here instead of skipping.
      stage ci "" -DSOCKETKIT_TESTS=ON -DSOCKETKIT_ABI_JSON=ON -DSOCKETKIT_FFI=ON \
        -DSOCKETKIT_ABI_CHECKS=ON -DSOCKETKIT_BINDINGS=ON ;;
    asan)
      stage asan 'core|fault' -DSOCKETKIT_SANITIZE=address,undefined -DSOCKETKIT_TESTS=ON \
        -DSOCKETKIT_BINDINGS=OFF -DSOCKETKIT_BENCH=OFF -DSOCKETKIT_EXAMPLES=OFF ;;
    tsan)
      if probe_tsan; then
        stage tsan 'threads' -DSOCKETKIT_SANITIZE=thread -DSOCKETKIT_TESTS=ON \
          -DSOCKETKIT_BINDINGS=OFF -DSOCKETKIT_BENCH=OFF -DSOCKETKIT_EXAMPLES=OFF
      else
        result[tsan]="FAIL (ThreadSanitizer unusable)"
      fi ;;
    builds)
      builds_stage ;;
    fuzz)
      CC=clang CXX=clang++ stage fuzz 'fuzz' -DSOCKETKIT_FUZZ=ON -DBUILD_TESTING=OFF \
        -DSOCKETKIT_FUZZ_SECONDS="${SK_FUZZ_SECONDS:-8}" -DSOCKETKIT_SANITIZE=address,undefined \
        -DSOCKETKIT_BINDINGS=OFF -DSOCKETKIT_BENCH=OFF -DSOCKETKIT_EXAMPLES=OFF ;;
    valgrind)
      echo
      echo "================ stage valgrind: the C suites under memcheck (build/valgrind)"
      t0=$SECONDS
      bash "$root/tests/valgrind.sh" "$root/build/valgrind" 2>&1 | tee "$logdir/valgrind.log"
      if ((PIPESTATUS[0] == 0)); then result[valgrind]="ok"; else result[valgrind]="FAIL (see $logdir/valgrind.log)"; fi
      result[valgrind]+="  [$((SECONDS - t0))s]" ;;
    *) echo "run-all: unknown stage $s"; result[$s]="FAIL (unknown stage)" ;;
  esac
done

failed=0
echo
echo "================ summary ($((SECONDS - start_all))s total)"
for s in $stages; do
  printf '  %-6s %s\n' "$s" "${result[$s]}"
  [[ -n ${counts[$s]:-} ]] && printf '        %s\n' "${counts[$s]}"
  [[ ${result[$s]} == ok* ]] || failed=1
done
if ((failed)); then echo "  RESULT: FAILED"; else echo "  RESULT: all stages passed"; fi

# End with ctest's own closing lines from the most complete run, so a reader
# of the last lines sees the real counts.
for s in ci asan tsan; do
  if [[ " $stages " == *" $s "* && -s $logdir/$s.ctest.log ]]; then
    echo
    echo "================ ctest summary of build/$s"
    sed -n '/tests passed, /,$p' "$logdir/$s.ctest.log"
    break
  fi
done
exit "$failed"
