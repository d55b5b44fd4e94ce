#!/usr/bin/env bash
# W^X check: run a large generated object with llvm-jitlink-22 on the executor
# and poll /proc/<executor>/maps for mappings that are writable and executable.
#
#   scripts/test-wx.sh                  # build (cargo build) and test target/debug/orc-rt-executor
#   scripts/test-wx.sh --reference      # the same against llvm-jitlink-executor-22
#   WX_REFERENCE=1 scripts/test-wx.sh   # same as --reference
#   ORC_RT_EXECUTOR=/path/to/exe scripts/test-wx.sh
#   scripts/test-wx.sh --memmgr simple-remote --functions 1000   # see tests/wx/wx_scan.py --help
#
# Prints PASS/FAIL per memory manager, then "N passed, M failed"; exits
# non-zero on failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ORC_RT_ROOT"

args=()
ref=${WX_REFERENCE:-0}
for a in "$@"; do
    case "$a" in
        --reference) ref=1 ;;
        *) args+=("$a") ;;
    esac
done

if [[ "$ref" == 1 ]]; then
    exec python3 tests/wx/wx_scan.py --reference ${args[@]+"${args[@]}"}
fi

orc_rt_executor
exec python3 tests/wx/wx_scan.py --executor "$ORC_RT_EXE" ${args[@]+"${args[@]}"}
