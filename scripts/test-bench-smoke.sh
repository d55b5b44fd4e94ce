#!/usr/bin/env bash
# Smoke test for the benchmark harness: builds the bench tools, then runs
# epc_bench with tiny counts (--quick) against the reference executor and
# against our executor (debug build), and the clang-repl benchmark
# (benches/repl_bench.py) with 20 statements against both. Fails if a run
# fails, takes more than 60 s, or does not report every figure. Skips (exit 0)
# without LLVM 22. ORC_RT_EXECUTOR=P tests P instead of the debug build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROOT=$ORC_RT_ROOT

orc_rt_require clang++-22 llvm-config-22 -- "the benchmark smoke test"

"$ROOT/scripts/bench.sh" build-tools
OUT="$ROOT/target/bench" # where bench.sh puts its tools
orc_rt_executor

REF=$(orc_rt_reference_executor)
OURS=$ORC_RT_EXE
METRICS="rtt_p50_us rtt_p99_us rtt_exec_cpu_us_per_call async256_exec_cpu_us_per_call async1_calls_per_s async16_calls_per_s
async256_calls_per_s memmgr_cycles_per_s memmgr_exec_cpu_us_per_cycle bulk_write_MBps bulk_exec_cpu_ms_per_GB micro_executor_cpu_s
setup_teardown_ms setup_only_ms teardown_only_ms"

for exe in "$REF" "$OURS"; do
  log=$(mktemp)
  if ! timeout 60 "$OUT/epc_bench" --executor "$exe" --quick >"$log" 2>&1; then
    fail "epc_bench --quick against $exe"
    sed 's/^/  /' "$log"
  else
    missing=""
    for m in $METRICS; do
      grep -Eq "^$m [0-9.e+]+$" "$log" || missing+=" $m"
    done
    if [ -z "$missing" ]; then
      pass "epc_bench --quick against $exe"
    else
      fail "epc_bench --quick against $exe" "no figure for$missing"
    fi
  fi
  rm -f "$log"
done
if timeout 30 "$OUT/pipe_floor" --quick >/dev/null; then
  pass pipe_floor
else
  fail pipe_floor
fi

# The REPL benchmark with 20 statements (about a second per executor).
RT=$(orc_rt_compiler_rt)
if ! command -v clang-repl-22 >/dev/null 2>&1 || [[ -z $RT ]]; then
  skip repl_bench "clang-repl-22 or compiler-rt's ORC runtime missing"
else
  for exe in "$REF" "$OURS"; do
    log=$(mktemp)
    if ! timeout 60 python3 "$ROOT/benches/repl_bench.py" --orc-runtime "$RT" \
      --wrap "$OUT/rusage_wrap" --executor "$exe" --statements 20 --timeout 20 >"$log" 2>&1; then
      fail "repl_bench against $exe"
      sed 's/^/  /' "$log"
    else
      missing=""
      for m in repl_wall_ms repl_lat_p50_ms repl_lat_p99_ms repl_exec_cpu_ms repl_exec_maxrss_kb; do
        grep -Eq "^$m [0-9.e+]+$" "$log" || missing+=" $m"
      done
      if [ -z "$missing" ]; then
        pass "repl_bench against $exe"
      else
        fail "repl_bench against $exe" "no figure for$missing"
      fi
    fi
    rm -f "$log"
  done
fi
orc_rt_summary test-bench-smoke
