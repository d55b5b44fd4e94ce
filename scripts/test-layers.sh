#!/usr/bin/env bash
# Layering check of src/, run by scripts/test.sh as a plug-in step: first
# the checker's own self-test (a fake tree with a known cycle, an ffi import
# and an upward import), then scripts/check-layers.py on the real tree (no
# import of ffi outside src/ffi/, no import cycle but session <->
# controller_access, no import of a higher layer). Prints findings as
# file:line; `scripts/check-layers.py --graph | dot -Tsvg > layers.svg`
# draws the graph.
#
# Usage: scripts/test-layers.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ORC_RT_ROOT"

command -v python3 >/dev/null || {
  echo "test-layers: python3 not found" >&2
  exit 1
}
if python3 scripts/check-layers.py --self-test; then
  pass "check-layers.py --self-test"
else
  fail "check-layers.py --self-test"
fi
if python3 scripts/check-layers.py; then
  pass "layering of src/"
else
  fail "layering of src/"
fi
orc_rt_summary
