#!/usr/bin/env bash
# The built library against the 1.0 ABI baseline: additions only.
# abidiff's status is a bit set (1 error, 2 usage, 4 ABI change, 8
# incompatible change). Added functions and types are reported as changes
# too, so they are left out of the comparison (--no-added-syms); whatever
# difference remains is a removed or changed 1.0 interface and fails.
# Usage: check_baseline.sh ABIDIFF BASELINE_XML LIBRARY HEADERS_DIR
set -uo pipefail
abidiff=$1 baseline=$2 lib=$3 headers=$4

report=$("$abidiff" --drop-private-types --exported-interfaces-only --no-added-syms \
  --headers-dir2 "$headers" "$baseline" "$lib" 2>&1)
rc=$?
if ((rc == 0)); then
  echo "the 1.0 ABI is intact (additions, if any, are allowed)"
  exit 0
fi
echo "$report"
((rc & 1)) && echo "FAIL: abidiff could not compare (status $rc)"
((rc & 2)) && echo "FAIL: abidiff usage error (status $rc)"
((rc & 8)) && echo "FAIL: an incompatible change to the 1.0 ABI (status $rc)"
((rc & 4)) && echo "FAIL: a 1.0 function or type changed (status $rc): if on purpose, see README \"The ABI baseline\""
exit 1
