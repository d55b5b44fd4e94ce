#!/usr/bin/env bash
# Side-by-side benchmarks: orc-rt-executor vs llvm-jitlink-executor-22.
#
#   scripts/bench.sh               full run (5 rounds, a few minutes on 2 cores)
#   BENCH_QUICK=1 scripts/bench.sh tiny smoke run (1 round, small counts)
#   scripts/bench.sh build-tools   only build the C/C++ bench tools (used by
#                                  scripts/test-bench-smoke.sh)
#
# Environment:
#   BENCH_ROUNDS=N          rounds (default 5; 1 with BENCH_QUICK)
#   BENCH_REF_EXECUTOR=P    reference executor (default: llvm-jitlink-executor
#                           from llvm-config-22 --bindir)
#   BENCH_OUR_EXECUTOR=P    our executor (default target/release/orc-rt-executor,
#                           built here with cargo build --release)
#   BENCH_RESULTS=FILE      also write the table there
#
# Each round runs every benchmark against the reference and against ours,
# alternating which goes first, plus the pipe floor. The benchmarks: the
# controller benchmark (epc_bench), llvm-jitlink-22 end to end on two
# programs (e2e/run_e2e.py) and a clang-repl-22 session of 200 statements
# written one at a time (repl_bench.py; skipped without clang-repl-22 or
# compiler-rt's ORC runtime), and the large object under -orc-runtime (each
# executor with its own platform runtime, and our executor with either
# archive). The table shows the median over rounds,
# min-max spread, ratio ours/reference, the floor and the target (issue 6;
# issue 14 for the REPL rows). A run that fails (e.g. our executor cannot do
# something yet) is listed under the table and leaves "n/a" in its cells.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/benches"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"

log() { echo "bench: $*" >&2; }

need_llvm() {
  for t in clang-22 clang++-22 llvm-config-22 llvm-jitlink-22; do
    if ! command -v "$t" >/dev/null 2>&1; then
      log "SKIP: $t not found (LLVM 22 is needed for the benchmarks)"
      exit 0
    fi
  done
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# Compile $2.. into $1 unless a binary for the same inputs+flags exists.
# Binaries are cached in target/bench keyed by the source hash.
cached_build() {
  local name=$1 src=$2
  shift 2
  local key
  key=$(printf '%s\n' "$*" | cat - "$src" | sha256sum | cut -c1-16)
  local bin="$OUT/$name-$key"
  if [[ ! -x $bin ]]; then
    log "building $name"
    "$@" -o "$bin.tmp" || return 1
    mv "$bin.tmp" "$bin" || return 1
    # Drop binaries built from older sources.
    find "$OUT" -maxdepth 1 -name "$name-*" ! -name "$(basename "$bin")" -delete
  fi
  ln -sf "$(basename "$bin")" "$OUT/$name"
}

build_tools() {
  need_llvm
  local llvm_cxx llvm_ld
  llvm_cxx=$(llvm-config-22 --cxxflags)
  llvm_ld=$(llvm-config-22 --ldflags --libs orcjit orcshared orctargetprocess support)
  # shellcheck disable=SC2086
  cached_build epc_bench "$BENCH/epc_bench.cpp" \
    clang++-22 -O2 -g $llvm_cxx "$BENCH/epc_bench.cpp" $llvm_ld -lpthread
  cached_build pipe_floor "$BENCH/pipe_floor.c" \
    clang-22 -O2 -Wall "$BENCH/pipe_floor.c"
  cached_build rusage_wrap "$BENCH/e2e/rusage_wrap.c" \
    clang-22 -O2 -Wall "$BENCH/e2e/rusage_wrap.c"
}

# Objects for the end-to-end runs: hello and a generated large program.
build_objects() {
  local nfunc=$1
  local key
  key=$(hash_of "$BENCH/e2e/hello.c")
  if [[ ! -f $OUT/hello-$key.o ]]; then
    clang-22 -O1 -c "$BENCH/e2e/hello.c" -o "$OUT/hello-$key.o"
  fi
  HELLO_O="$OUT/hello-$key.o"
  key=$( (cat "$BENCH/e2e/gen_large.py"; echo "$nfunc") | sha256sum | cut -c1-16)
  if [[ ! -f $OUT/large-$key.o ]]; then
    rm -f "$OUT"/large-*.o
    log "generating and compiling the large object ($nfunc functions, once)"
    python3 "$BENCH/e2e/gen_large.py" "$OUT/large-$key.c" "$nfunc"
    clang-22 -O1 -c "$OUT/large-$key.c" -o "$OUT/large-$key.o.tmp"
    mv "$OUT/large-$key.o.tmp" "$OUT/large-$key.o"
    rm -f "$OUT/large-$key.c"
  fi
  LARGE_O="$OUT/large-$key.o"
}

if [[ ${1:-} == build-tools ]]; then
  build_tools
  exit 0
fi

need_llvm
QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then
  ROUNDS=${BENCH_ROUNDS:-1}
  EPC_ARGS=(--quick)
  FLOOR_ARGS=(--quick)
  E2E_REPS=1
  NFUNC=300
  REPL_STATEMENTS=20
  REPL_REPS=1
  MODE=quick
else
  ROUNDS=${BENCH_ROUNDS:-5}
  EPC_ARGS=()
  FLOOR_ARGS=()
  E2E_REPS=3
  NFUNC=8000
  REPL_STATEMENTS=200
  REPL_REPS=3
  MODE=full
fi

REF=${BENCH_REF_EXECUTOR:-$(llvm-config-22 --bindir)/llvm-jitlink-executor}
OURS=${BENCH_OUR_EXECUTOR:-}
if [[ -z $OURS ]]; then
  OURS="$ROOT/target/release/orc-rt-executor"
  log "cargo build --release --bin orc-rt-executor"
  if ! (cd "$ROOT" && cargo build --release --quiet --bin orc-rt-executor); then
    log "WARNING: our executor did not build; its column will be n/a"
  fi
fi
JITLINK=$(command -v llvm-jitlink-22)
CLANG_REPL=$(command -v clang-repl-22 || true)
ORC_RT_ARCHIVE=$(clang-22 -print-resource-dir)/lib/linux/liborc_rt-x86_64.a
if [[ -z $CLANG_REPL ]]; then
  log "clang-repl-22 not found: the REPL rows will be n/a"
elif [[ ! -f $ORC_RT_ARCHIVE ]]; then
  log "$ORC_RT_ARCHIVE not found: the REPL rows will be n/a"
  CLANG_REPL=
fi

OUR_PLATFORM_ARCHIVE=$("$OURS" --platform-archive 2>/dev/null || true)
[[ -n $OUR_PLATFORM_ARCHIVE ]] || log "our platform archive not found: the platform rows will be n/a"

build_tools
build_objects "$NFUNC"

RAW="$OUT/raw-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$RAW"
{
  echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores $(nproc)"
  echo "rounds $ROUNDS"
  echo "mode $MODE"
  echo "ref $REF"
  echo "ours $OURS"
  echo "repl_statements $REPL_STATEMENTS"
} >"$RAW/meta.txt"

# Expected program output, from the reference executor (this also checks
# that the e2e setup works at all).
"$JITLINK" -oop-executor="$REF" "$HELLO_O" >"$OUT/hello.expected"
"$JITLINK" -oop-executor="$REF" "$LARGE_O" >"$OUT/large.expected"

# run <file> <cmd...>: stdout to file; on failure record FAILED + stderr tail.
run() {
  local file=$1
  shift
  local err="$file.stderr"
  if ! timeout 300 "$@" >"$file" 2>"$err"; then
    echo "FAILED $(tail -c 300 "$err" | tr '\n' ' ')" >>"$file"
    log "a run failed: $(basename "$file") (see $err)"
  fi
}

bench_one() { # <round> <who> <executor>
  local r=$1 who=$2 exe=$3
  if [[ ! -x $exe ]]; then
    echo "FAILED executor $exe not found" >"$RAW/$r-$who-epc.txt"
    return
  fi
  log "round $r: $who: epc_bench"
  run "$RAW/$r-$who-epc.txt" "$OUT/epc_bench" --executor "$exe" "${EPC_ARGS[@]}"
  # The same round trips and memory-manager cycles with the controller and
  # the executor on one CPU (taskset -c 0): what the executor costs without
  # the VM's cross-CPU wake-ups, which set the free-placement floor.
  if command -v taskset >/dev/null; then
    log "round $r: $who: epc_bench on one CPU (rtt, memmgr)"
    run "$RAW/$r-$who-cpu1.raw" taskset -c 0 "$OUT/epc_bench" --executor "$exe" \
      "${EPC_ARGS[@]}" --only rtt,memmgr
    sed -e 's/^\([a-z]\)/cpu1_\1/' -e 's/^cpu1_FAILED/FAILED/' \
      "$RAW/$r-$who-cpu1.raw" >"$RAW/$r-$who-cpu1.txt"
  fi
  log "round $r: $who: llvm-jitlink e2e"
  run "$RAW/$r-$who-e2e.txt" python3 "$BENCH/e2e/run_e2e.py" \
    --jitlink "$JITLINK" --wrap "$OUT/rusage_wrap" --executor "$exe" \
    --reps "$E2E_REPS" \
    "hello=$HELLO_O:$OUT/hello.expected" "large=$LARGE_O:$OUT/large.expected"
  # The ELF platform runtime (-orc-runtime) on the large object. "stack":
  # each executor with its own runtime (reference: compiler-rt's archive;
  # ours: our archive). "plat" (our executor only): compiler-rt's archive in
  # the reference column, ours in ours, so the ratio is the archive's alone.
  local rt=$ORC_RT_ARCHIVE
  [[ $who == ours ]] && rt=$OUR_PLATFORM_ARCHIVE
  if [[ -f $ORC_RT_ARCHIVE && -n $rt ]]; then
    log "round $r: $who: llvm-jitlink -orc-runtime, large object"
    run "$RAW/$r-$who-stack.txt" python3 "$BENCH/e2e/run_e2e.py" \
      --jitlink "$JITLINK" --wrap "$OUT/rusage_wrap" --executor "$exe" \
      --reps "$E2E_REPS" --orc-runtime "$rt" --prefix stack \
      "large=$LARGE_O:$OUT/large.expected"
  fi
  if [[ -n $CLANG_REPL ]]; then
    log "round $r: $who: clang-repl session ($REPL_STATEMENTS statements)"
    run "$RAW/$r-$who-repl.txt" python3 "$BENCH/repl_bench.py" \
      --clang-repl "$CLANG_REPL" --orc-runtime "$ORC_RT_ARCHIVE" \
      --wrap "$OUT/rusage_wrap" --executor "$exe" \
      --statements "$REPL_STATEMENTS" --reps "$REPL_REPS"
  fi
  # Last, so that what runs before each executor's other figures is the
  # same for both (these two runs are our executor's only).
  if [[ $who == ours && -f $ORC_RT_ARCHIVE && -n $OUR_PLATFORM_ARCHIVE ]]; then
    local order=(ref ours)
    ((r % 2)) || order=(ours ref)
    local w
    for w in "${order[@]}"; do
      rt=$OUR_PLATFORM_ARCHIVE
      [[ $w == ref ]] && rt=$ORC_RT_ARCHIVE
      log "round $r: our executor, $([[ $w == ref ]] && echo "compiler-rt's" || echo our) archive"
      run "$RAW/$r-$w-plat.txt" python3 "$BENCH/e2e/run_e2e.py" \
        --jitlink "$JITLINK" --wrap "$OUT/rusage_wrap" --executor "$exe" \
        --reps "$E2E_REPS" --orc-runtime "$rt" --prefix plat \
        "large=$LARGE_O:$OUT/large.expected"
    done
  fi
}

START=$(date +%s)
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then
    bench_one "$r" ref "$REF"
    bench_one "$r" ours "$OURS"
  else
    bench_one "$r" ours "$OURS"
    bench_one "$r" ref "$REF"
  fi
  log "round $r: pipe floor"
  run "$RAW/$r-floor-pipe.txt" "$OUT/pipe_floor" "${FLOOR_ARGS[@]}"
done

# SPS micro-benchmarks (owned by the SPS helper): benches/sps_bench.rs is
# ours (Rust), tests/sps_diff/sps_diff.cpp "bench" runs the same values
# through LLVM 22's C++ SPS. Both print
#   <name> bytes=N encode_ns=X decode_ns=Y encode_MBps=.. decode_MBps=..
# which becomes sps_<name>_encode_ns / sps_<name>_decode_ns.
sps_lines() { # stdin -> "metric value"
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "=");
           if (kv[1] == "encode_ns" || kv[1] == "decode_ns")
             print "sps_" $1 "_" kv[1], kv[2] } }'
}
SPS_ITERS=$([[ $QUICK == 1 ]] && echo 2000 || echo 50000)
if [[ -f $BENCH/sps_bench.rs && -f $ROOT/tests/sps_diff/sps_diff.cpp ]]; then
  # shellcheck disable=SC2046
  if cached_build sps_diff "$ROOT/tests/sps_diff/sps_diff.cpp" \
    clang++-22 -O2 $(llvm-config-22 --cxxflags) "$ROOT/tests/sps_diff/sps_diff.cpp" \
    $(llvm-config-22 --ldflags --libs orcshared support) -lpthread 2>"$RAW/sps_diff.build.log"; then
    log "SPS: LLVM 22 C++ (sps_diff bench)"
    run "$RAW/1-ref-sps.raw" "$OUT/sps_diff" bench "$SPS_ITERS"
    sps_lines <"$RAW/1-ref-sps.raw" >"$RAW/1-ref-sps.txt"
  else
    echo "FAILED sps_diff did not build" >"$RAW/1-ref-sps.txt"
  fi
  log "SPS: ours (cargo bench --bench sps_bench)"
  run "$RAW/1-ours-sps.raw" bash -c "cd '$ROOT' && cargo bench --quiet --bench sps_bench -- $SPS_ITERS"
  sps_lines <"$RAW/1-ours-sps.raw" >"$RAW/1-ours-sps.txt"
  grep -h '^FAILED' "$RAW"/1-*-sps.raw >>"$RAW/1-ours-sps.txt" || true
fi

log "done in $(($(date +%s) - START)) s; raw results in $RAW"
TABLE=$(python3 "$BENCH/bench_report.py" "$RAW")
echo "$TABLE"
echo "$TABLE" >"$RAW/table.md"
if [[ -n ${BENCH_RESULTS:-} ]]; then
  echo "$TABLE" >"$BENCH_RESULTS"
fi
