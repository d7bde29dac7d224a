#!/usr/bin/env bash
# run.sh TARGET CORPUS SECONDS [libFuzzer flags...]
# Runs one fuzz target for SECONDS in a network namespace whose only
# interface is loopback and a mount namespace with an empty resolv.conf, so
# no address the fuzzer invents can reach another host or a name server.
# The checked-in CORPUS is read, never written: new inputs go to a scratch
# copy. Exits 77 (skipped) where namespaces cannot be made (not root).
set -euo pipefail
target=$(realpath "$1") corpus=$(realpath "$2") seconds=$3; shift 3

if ! unshare -n -m true 2>/dev/null; then
  echo "fuzz: SKIP: cannot create network and mount namespaces (needs root)"
  exit 77
fi

work=$(mktemp -d /tmp/sk-fuzz-run-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
: >"$work/resolv.conf"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

unshare -n -m -- bash -c '
  set -e
  mount --make-rprivate /
  mount --bind "$1" /etc/resolv.conf
  ip link set lo up
  shift
  exec "$@"
' fuzz "$work/resolv.conf" "$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
  -artifact_prefix="$work/" -print_final_stats=1 "$@" "$work/corpus" "$corpus" 2>"$work/log" || {
  rc=$?
  tail -n 60 "$work/log"
  for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [[ -e $a ]] || continue
    echo "fuzz: reproducer $(basename "$a") (base64):"
    base64 -w0 "$a"; echo
  done
  exit "$rc"
}
grep -E '^(Done|stat::number_of_executed_units|INFO: -max_total_time)' "$work/log" || true
echo "fuzz: $(basename "$target"): no crash"
