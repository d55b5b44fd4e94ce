#!/usr/bin/env bash
# AArch64 outline atomics, end to end: JIT'd code built with the compilers'
# defaults calls __aarch64_ldadd4_acq_rel and friends, which only the static
# libgcc.a / compiler-rt define. Our executor provides them; LLVM 22's
# llvm-jitlink-executor does not, and fails such code with "Symbols not
# found". Both executors run under qemu through -oop-executor= wrappers.
#
# Usage: scripts/cross-atomics-cases.sh OURS_WRAPPER REF_WRAPPER
#   OURS_WRAPPER  a script that runs our orc-rt-executor for AArch64 with its
#                 arguments (e.g. written by cross_wrapper in cross-lib.sh)
#   REF_WRAPPER   the same for LLVM 22's arm64 llvm-jitlink-executor
# Env: ATOMICS_KEEP=1 keeps the scratch directory.
#
# Programs (tests/cross/): atomics.c (C11 atomics of sizes 1, 2, 4 and 8 in
# every memory order, a 16-byte __atomic_compare_exchange, threads on one
# counter), built with `clang-22 --target=aarch64-linux-gnu -O2 -c`, once
# with the defaults (outline atomics) and once with -mno-outline-atomics;
# sync_builtins.c (GCC's __sync builtins, which GCC turns into the `_sync`
# helpers), built with aarch64-linux-gnu-gcc -O2 -c. Each program prints one
# line and exits 42 when every check held. Cases:
#   objects: the default builds call helpers, the -mno build calls none;
#   ours runs every build with the expected output and exit code 42, and
#   the clang default build once more on a CPU without LSE (QEMU_CPU=
#   cortex-a53: an LSE instruction would be illegal there);
#   the reference runs the -mno-outline-atomics build the same way, and
#   fails the default builds with "Symbols not found: [ ... __aarch64_...".
# Prints PASS/FAIL (SKIP for the GCC cases without aarch64-linux-gnu-gcc)
# per case and a summary; exits 1 if any case failed, 2 on bad usage.
set -u
. "$(dirname "$0")/lib.sh"

if [ $# -ne 2 ]; then
  sed -n '8,12p' "$0" >&2
  exit 2
fi
OURS=$1
REF=$2
for w in "$OURS" "$REF"; do
  if [ ! -x "$w" ]; then
    echo "FAIL: executor wrapper $w not found or not executable"
    exit 1
  fi
done
orc_rt_require clang-22 llvm-jitlink-22 llvm-nm-22 -- "the AArch64 outline-atomics cases"

SRC=$ORC_RT_ROOT/tests/cross
W=$(mktemp -d /tmp/orc-rt-atomics.XXXXXX)
cleanup() {
  if [ -n "${ATOMICS_KEEP:-}" ]; then echo "scratch kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

CLANG_OUT="atomics: sizes 1 2 4 8 16, 4 threads x 20000: ok"
GCC_OUT="sync builtins: sizes 1 2 4 8, 4 threads x 20000: ok"
# A JIT run under qemu takes about a second; this only stops a hang.
RUN_TIMEOUT=300

# compile NAME COMPILER SRC [FLAGS...]: $W/NAME.o, or a FAIL line.
compile() {
  local name=$1 cc=$2 src=$3
  shift 3
  if ! "$cc" "$@" -O2 -c "$src" -o "$W/$name.o" 2>"$W/$name.cc.err"; then
    fail "compile $name" "$(head -c 300 "$W/$name.cc.err")"
    return 1
  fi
}

# helpers_called NAME: the outline-atomics helpers NAME.o calls, sorted.
helpers_called() {
  llvm-nm-22 -u "$W/$1.o" | awk '{print $NF}' | grep '^__aarch64_' | sort
}

# check_calls NAME PATTERN: NAME.o calls helpers, all matching PATTERN.
check_calls() {
  local called n
  called=$(helpers_called "$1")
  n=$(printf '%s' "$called" | grep -c .)
  if [ "$n" -gt 0 ] && ! printf '%s\n' "$called" | grep -Evq "$2"; then
    pass "objects: $1 calls $n outline-atomics helpers"
  else
    fail "objects: $1 calls $n outline-atomics helpers, expected some, all matching $2"
  fi
}

# run WHO WRAPPER NAME: runs NAME.o, output in $W/WHO-NAME.{out,err}, status
# in $rc.
run() {
  local base=$W/$1-$3
  timeout "$RUN_TIMEOUT" llvm-jitlink-22 -oop-executor="$2" "$W/$3.o" >"$base.out" 2>"$base.err"
  rc=$?
}

# expect_ok WHO WRAPPER NAME LINE: exit 42 and exactly LINE on stdout.
expect_ok() {
  local case="$1 runs $3" base=$W/$1-$3 out
  run "$1" "$2" "$3"
  out=$(cat "$base.out")
  if [ "$rc" = 42 ] && [ "$out" = "$4" ]; then
    pass "$case" "exit 42, \"$4\""
  else
    fail "$case" "exit $rc, stdout: $(head -c 300 "$base.out"), stderr: $(head -c 300 "$base.err")"
  fi
}

# expect_missing WHO WRAPPER NAME: a non-zero exit and the reference's
# "Symbols not found" error naming outline-atomics helpers.
expect_missing() {
  local case="$1 refuses $3" base=$W/$1-$3
  run "$1" "$2" "$3"
  if [ "$rc" != 0 ] && [ "$rc" != 124 ] &&
    grep -Eq 'Symbols not found: \[ .*__aarch64_(cas|swp|ld)' "$base.err"; then
    pass "$case" "exit $rc, $(grep -o 'Symbols not found: \[ __aarch64_[a-z0-9_]*' "$base.err" | head -1) ..."
  else
    fail "$case" "exit $rc, wanted \"Symbols not found: [ __aarch64_...\"; stderr: $(head -c 300 "$base.err")"
  fi
}

if compile clang-default clang-22 "$SRC/atomics.c" --target=aarch64-linux-gnu; then
  check_calls clang-default '^__aarch64_(cas(1|2|4|8|16)|(swp|ldadd|ldclr|ldeor|ldset)(1|2|4|8))_(relax|acq|rel|acq_rel)$'
  expect_ok ours "$OURS" clang-default "$CLANG_OUT"
  # An ARMv8.0 CPU, where an LSE instruction is illegal: the helpers must
  # have chosen their exclusive loops (qemu-user reads QEMU_CPU).
  QEMU_CPU=cortex-a53 expect_ok ours-armv8.0 "$OURS" clang-default "$CLANG_OUT"
  expect_missing reference "$REF" clang-default
fi
if compile clang-no-outline clang-22 "$SRC/atomics.c" --target=aarch64-linux-gnu -mno-outline-atomics; then
  if [ -z "$(helpers_called clang-no-outline)" ]; then
    pass "objects: clang-no-outline calls no outline-atomics helper"
  else
    fail "objects: clang-no-outline calls outline-atomics helpers"
  fi
  expect_ok ours "$OURS" clang-no-outline "$CLANG_OUT"
  expect_ok reference "$REF" clang-no-outline "$CLANG_OUT"
fi

if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
  if compile gcc-sync aarch64-linux-gnu-gcc "$SRC/sync_builtins.c"; then
    check_calls gcc-sync '^__aarch64_(cas|swp|ldadd|ldclr|ldeor|ldset)(1|2|4|8)_sync$'
    expect_ok ours "$OURS" gcc-sync "$GCC_OUT"
    expect_missing reference "$REF" gcc-sync
  fi
else
  skip "gcc-sync cases" "aarch64-linux-gnu-gcc not found (gcc-aarch64-linux-gnu)"
fi

orc_rt_summary "cross-atomics"
