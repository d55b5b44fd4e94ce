#!/usr/bin/env bash
# JIT'd code gets the stack a process's main thread would get (issue 11):
# programs of tests/stack/ run under llvm-jitlink-22 with our executor and
# with llvm-jitlink-executor-22; stdout and exit codes must match, and a
# real overflow must kill our executor by SIGSEGV (as natively), never by
# Rust's "has overflowed its stack" abort.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ORC_RT_ROOT"

orc_rt_require llvm-jitlink-22 llvm-jitlink-executor-22 clang-22 llvm-config-22 -- "the stack tests"
ref="$(orc_rt_reference_executor)"
orc_rt_executor
ours=$ORC_RT_EXE
orc_runtime="$(orc_rt_compiler_rt)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for c in tests/stack/*.c; do
  clang-22 -O1 -c "$c" -o "$work/$(basename "${c%.c}").o"
done
# Our executor behind a wrapper that records how it ended (128+N: signal N).
cat >"$work/ours.sh" <<EOS
#!/bin/sh
"$ours" "\$@"
echo \$? >"$work/ours.status"
EOS
chmod +x "$work/ours.sh"

# jl EXECUTOR OUT [ULIMIT_S] -- LLVM-JITLINK ARGS...: writes OUT.{out,err,rc}.
jl() {
  local ex="$1" out="$2" stack="$3"
  shift 4
  set +e
  (
    if [ -n "$stack" ]; then ulimit -s "$stack"; fi
    timeout 120 llvm-jitlink-22 -oop-executor="$ex" "$@" >"$out.out" 2>"$out.err"
  )
  echo $? >"$out.rc"
  set -e
}

# case NAME ULIMIT_S WANT_STDOUT -- ARGS...: same stdout and exit code as
# the reference, and the expected line.
case_() {
  local name="$1" stack="$2" want="$3"
  shift 3
  jl "$ref" "$work/$name.ref" "$stack" "$@"
  rm -f "$work/ours.status"
  jl "$work/ours.sh" "$work/$name.ours" "$stack" "$@"
  local why=""
  cmp -s "$work/$name.ref.rc" "$work/$name.ours.rc" ||
    why+=" exit $(cat "$work/$name.ours.rc") (reference $(cat "$work/$name.ref.rc"))"
  cmp -s "$work/$name.ref.out" "$work/$name.ours.out" || why+=" stdout differs"
  grep -qxF "$want" "$work/$name.ours.out" || why+=" missing '$want'"
  if grep -q "overflowed its stack" "$work/$name.ours.err"; then
    why+=" Rust stack-overflow abort"
  fi
  if [ -z "$why" ]; then
    pass "$name" "$want"
  else
    fail "$name" "${why# }"
    sed 's/^/  ours stderr: /' "$work/$name.ours.err" | tail -5
  fi
}

case_ deep-6MiB "" "recursed through 6144 KiB" -- "$work/deep.o"
case_ deep-1MiB "" "recursed through 1024 KiB" -- "$work/deep.o" -args deep 1024
case_ deep-12MiB-ulimit-16MiB 16384 "recursed through 12288 KiB" -- "$work/deep.o" -args deep 12288
case_ alloca "" "alloca sum 2256" -- "$work/alloca.o"
case_ deep-6MiB-shared-memmgr "" "recursed through 6144 KiB" -- -use-memmgr=shared "$work/deep.o"
if [ -n "$orc_runtime" ]; then
  case_ deep-6MiB-orc-runtime "" "recursed through 6144 KiB" -- -orc-runtime="$orc_runtime" "$work/deep.o"
  case_ alloca-orc-runtime "" "alloca sum 2256" -- -orc-runtime="$orc_runtime" "$work/alloca.o"
fi

# A real overflow: same output and exit code as the reference, and our
# executor died by SIGSEGV (status 139), without Rust's abort message.
case_ overflow "" "going down" -- "$work/overflow.o"
if [ "$(cat "$work/ours.status" 2>/dev/null)" = 139 ]; then
  pass "overflow kills the executor by SIGSEGV"
else
  fail "overflow kills the executor by SIGSEGV" "executor status $(cat "$work/ours.status" 2>/dev/null || echo '?'), expected 139"
fi

# ORC_RT_STACK_SIZE sets the size: 1 MiB is too small for 6 MiB of
# recursion (SIGSEGV), 32M is enough for 24 MiB.
rm -f "$work/ours.status"
ORC_RT_STACK_SIZE=1M jl "$work/ours.sh" "$work/small" "" -- "$work/deep.o"
if [ "$(cat "$work/ours.status" 2>/dev/null)" = 139 ]; then
  pass "ORC_RT_STACK_SIZE=1M is honoured" "6 MiB of recursion overflows"
else
  fail "ORC_RT_STACK_SIZE=1M is honoured" "executor status $(cat "$work/ours.status" 2>/dev/null || echo '?')"
fi
ORC_RT_STACK_SIZE=32M jl "$work/ours.sh" "$work/big" "" -- "$work/deep.o" -args deep 24576
if grep -qxF "recursed through 24576 KiB" "$work/big.out"; then
  pass "ORC_RT_STACK_SIZE=32M is honoured" "24 MiB of recursion"
else
  fail "ORC_RT_STACK_SIZE=32M is honoured" "$(cat "$work/big.out" "$work/big.err")"
fi

orc_rt_summary stack
