#!/usr/bin/env bash
# Smoke test for the benchmark harness: builds the bench tools, then runs
# epc_bench with tiny counts (--quick) against the reference executor and
# against our executor (debug build), and the clang-repl benchmark
# (benches/repl_bench.py) with 20 statements against both. Fails if a run
# fails, takes more than 60 s, or does not report every figure. Skips (exit 0)
# without LLVM 22.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/target/bench"

for t in clang++-22 llvm-config-22; do
  if ! command -v "$t" >/dev/null 2>&1; then
    echo "test-bench-smoke: SKIP: $t not found (LLVM 22 missing)"
    exit 0
  fi
done

"$ROOT/scripts/bench.sh" build-tools
(cd "$ROOT" && cargo build --quiet --bin orc-rt-executor)

REF=$(llvm-config-22 --bindir)/llvm-jitlink-executor
OURS=${BENCH_OUR_EXECUTOR:-$ROOT/target/debug/orc-rt-executor}
METRICS="rtt_p50_us rtt_p99_us rtt_exec_cpu_us_per_call async256_exec_cpu_us_per_call async1_calls_per_s async16_calls_per_s
async256_calls_per_s memmgr_cycles_per_s memmgr_exec_cpu_us_per_cycle bulk_write_MBps bulk_exec_cpu_ms_per_GB micro_executor_cpu_s
setup_teardown_ms setup_only_ms teardown_only_ms"

status=0
for exe in "$REF" "$OURS"; do
  log=$(mktemp)
  if ! timeout 60 "$OUT/epc_bench" --executor "$exe" --quick >"$log" 2>&1; then
    echo "test-bench-smoke: FAIL: epc_bench --quick against $exe:"
    sed 's/^/  /' "$log"
    status=1
  else
    for m in $METRICS; do
      if ! grep -Eq "^$m [0-9.e+]+$" "$log"; then
        echo "test-bench-smoke: FAIL: $exe: no figure for $m"
        status=1
      fi
    done
    echo "test-bench-smoke: ok: $exe"
  fi
  rm -f "$log"
done
timeout 30 "$OUT/pipe_floor" --quick >/dev/null || { echo "test-bench-smoke: FAIL: pipe_floor"; status=1; }

# The REPL benchmark with 20 statements (about a second per executor).
RT=$(clang-22 -print-resource-dir 2>/dev/null)/lib/linux/liborc_rt-x86_64.a
if ! command -v clang-repl-22 >/dev/null 2>&1 || [[ ! -f $RT ]]; then
  echo "test-bench-smoke: SKIP: repl_bench (clang-repl-22 or the ORC runtime missing)"
else
  for exe in "$REF" "$OURS"; do
    log=$(mktemp)
    if ! timeout 60 python3 "$ROOT/benches/repl_bench.py" --orc-runtime "$RT" \
      --wrap "$OUT/rusage_wrap" --executor "$exe" --statements 20 --timeout 20 >"$log" 2>&1; then
      echo "test-bench-smoke: FAIL: repl_bench against $exe:"
      sed 's/^/  /' "$log"
      status=1
    else
      for m in repl_wall_ms repl_lat_p50_ms repl_lat_p99_ms repl_exec_cpu_ms repl_exec_maxrss_kb; do
        if ! grep -Eq "^$m [0-9.e+]+$" "$log"; then
          echo "test-bench-smoke: FAIL: repl_bench $exe: no figure for $m"
          status=1
        fi
      done
      echo "test-bench-smoke: ok: repl_bench $exe"
    fi
    rm -f "$log"
  done
fi
exit $status
