#!/usr/bin/env bash
# Fault-injection tests: a hostile controller against the executor binary.
#
#   scripts/test-fault.sh                 # build (cargo build) and test target/debug/orc-rt-executor
#   scripts/test-fault.sh --reference     # same cases against llvm-jitlink-executor-22
#   FAULT_REFERENCE=1 scripts/test-fault.sh          # same as --reference
#   ORC_RT_EXECUTOR=/path/to/exe scripts/test-fault.sh
#   scripts/test-fault.sh --case stall_mid_frame --transport pipe   # subset
#   scripts/test-fault.sh --compare       # run both, print a markdown table
#                                         # (FAULT_TABLE=file also writes it there)
#
# Prints PASS/FAIL per case and transport with the time from the triggering
# event to executor exit, then "N passed, M failed"; exits non-zero on failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ORC_RT_ROOT"

harness=tests/fault/hostile_controller.py
args=()
mode=ours
for a in "$@"; do
    case "$a" in
        --reference) mode=reference ;;
        --compare) mode=compare ;;
        *) args+=("$a") ;;
    esac
done
if [[ "${FAULT_REFERENCE:-0}" == 1 ]]; then mode=reference; fi

case "$mode" in
    reference)
        exec python3 "$harness" --reference ${args[@]+"${args[@]}"} ;;
    ours)
        orc_rt_executor
        exec python3 "$harness" --executor "$ORC_RT_EXE" ${args[@]+"${args[@]}"} ;;
    compare)
        orc_rt_executor
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        python3 "$harness" --reference --json "$tmp/ref.json" ${args[@]+"${args[@]}"} || true
        rc=0
        python3 "$harness" --executor "$ORC_RT_EXE" --json "$tmp/ours.json" ${args[@]+"${args[@]}"} || rc=$?
        python3 "$harness" --table "$tmp/ref.json" "$tmp/ours.json" | tee "${FAULT_TABLE:-/dev/null}"
        exit $rc ;;
esac
