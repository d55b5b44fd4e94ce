#!/usr/bin/env bash
# Fault-injection tests: a hostile controller against the executor binary.
#
#   scripts/test-fault.sh                 # build (cargo build) and test target/debug/orc-rt-executor
#   scripts/test-fault.sh --reference     # same cases against llvm-jitlink-executor-22
#   FAULT_REFERENCE=1 scripts/test-fault.sh          # same as --reference
#   FAULT_EXECUTOR=/path/to/exe scripts/test-fault.sh
#   scripts/test-fault.sh --case stall_mid_frame --transport pipe   # subset
#   scripts/test-fault.sh --compare       # run both, print a markdown table
#                                         # (FAULT_TABLE=file also writes it there)
#
# Prints PASS/FAIL per case and transport with the time from the triggering
# event to executor exit, then "N passed, M failed"; exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

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

ours="${FAULT_EXECUTOR:-${CARGO_TARGET_DIR:-target}/debug/orc-rt-executor}"
build_ours() {
    if [[ -z "${FAULT_EXECUTOR:-}" ]]; then
        echo "== cargo build --bin orc-rt-executor"
        local log
        log=$(mktemp)
        if ! cargo build --quiet --bin orc-rt-executor 2>"$log"; then
            cat "$log" >&2
            rm -f "$log"
            exit 1
        fi
        rm -f "$log"
    fi
    if [[ ! -x "$ours" ]]; then
        echo "executor $ours not found" >&2
        exit 1
    fi
}

case "$mode" in
    reference)
        exec python3 "$harness" --reference ${args[@]+"${args[@]}"} ;;
    ours)
        build_ours
        exec python3 "$harness" --executor "$ours" ${args[@]+"${args[@]}"} ;;
    compare)
        build_ours
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        python3 "$harness" --reference --json "$tmp/ref.json" ${args[@]+"${args[@]}"} || true
        rc=0
        python3 "$harness" --executor "$ours" --json "$tmp/ours.json" ${args[@]+"${args[@]}"} || rc=$?
        python3 "$harness" --table "$tmp/ref.json" "$tmp/ours.json" | tee "${FAULT_TABLE:-/dev/null}"
        exit $rc ;;
esac
