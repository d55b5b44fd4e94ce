#!/usr/bin/env bash
# Host functions (issue 24, part 2): the two example executors,
# examples/host_functions.rs (`cargo run --example host_functions`) and
# examples/host_functions.c (through liborc_rt.so), each define
# `int host_add(int, int)` and `void host_log(const char *)` on their
# Session. llvm-jitlink-22 runs examples/host_functions_jit.c in each,
# with no ORC runtime, with orc-rt's and with compiler-rt's: the program
# must print "hello from JIT'd code" and exit 42, and the executor must
# report the 2 calls through the host state it reached via the Session's
# context. A program that calls an undefined host function must fail to
# link under the plain executor (the names come from the Session only).
set -u
. "$(dirname "$0")/lib.sh"
orc_rt_require llvm-jitlink-22 clang-22 cc -- "host function tests"
TARGET_DIR=$ORC_RT_TARGET_DIR
ROOT=$ORC_RT_ROOT
orc_rt_cargo_build --example host_functions -p orc-rt
orc_rt_cargo_build -p orc-rt-capi -p orc-rt-executor
W=$(mktemp -d /tmp/orc-rt-host-fns.XXXXXX)
trap 'rm -rf "$W"' EXIT

mkdir -p "$W/lib"
ln -sfn "$TARGET_DIR/debug/liborc_rt.so" "$W/lib/liborc_rt.so.0"
if cc -std=c99 -Wall -Wextra -Werror -pedantic -I"$ROOT/include" \
    "$ROOT/examples/host_functions.c" -L"$TARGET_DIR/debug" -lorc_rt \
    -Wl,-rpath,"$W/lib" -o "$W/host_functions_c" 2>"$W/cc.err"; then
  pass "examples/host_functions.c compiles (C99, -Wall -Wextra -pedantic -Werror)"
else
  fail "examples/host_functions.c does not compile"
  cat "$W/cc.err"
fi
clang-22 -c "$ROOT/examples/host_functions_jit.c" -o "$W/prog.o"

OURS=$TARGET_DIR/debug/orc-rt-executor
OUR_RT=$(timeout 10 "$OURS" --platform-archive 2>/dev/null || true)
COMPILER_RT=$(orc_rt_compiler_rt)

# run <name> <executor> [llvm-jitlink args...]
run() {
  local name=$1 exe=$2 rc
  shift 2
  # Through a pipe: complete once the executor (which inherits it) is gone.
  timeout 60 llvm-jitlink-22 -oop-executor="$exe" "$@" "$W/prog.o" \
    </dev/null 2>"$W/err" | cat >"$W/out"
  rc=${PIPESTATUS[0]}
  if [ "$rc" = 42 ] && [ "$(cat "$W/out")" = "hello from JIT'd code" ] &&
     grep -q "host_functions: 2 host function calls" "$W/err"; then
    pass "$name"
  else
    fail "$name" "exit $rc, stdout '$(head -c 200 "$W/out")'"
    tail -5 "$W/err"
  fi
}

for exe in "rust:$TARGET_DIR/debug/examples/host_functions" "c:$W/host_functions_c"; do
  kind=${exe%%:*}
  path=${exe#*:}
  [ -x "$path" ] || continue
  run "$kind executor, no ORC runtime" "$path"
  if [ -n "$OUR_RT" ] && [ -f "$OUR_RT" ]; then
    run "$kind executor, orc-rt's ORC runtime" "$path" -orc-runtime="$OUR_RT"
  else
    fail "$kind executor, orc-rt's ORC runtime" "no platform archive from $OURS"
  fi
  if [ -n "$COMPILER_RT" ]; then
    run "$kind executor, compiler-rt's ORC runtime" "$path" -orc-runtime="$COMPILER_RT"
  else
    fail "$kind executor, compiler-rt's ORC runtime" "not installed"
  fi
done

# The plain executor defines no host functions: linking fails cleanly.
timeout 60 llvm-jitlink-22 -oop-executor="$OURS" "$W/prog.o" </dev/null >"$W/out" 2>"$W/err"
rc=$?
if [ "$rc" != 0 ] && grep -q "host_add\|host_log" "$W/err"; then
  pass "plain orc-rt-executor: host_add/host_log are not found (exit $rc)"
else
  fail "plain orc-rt-executor links host_add/host_log" "exit $rc"
  tail -3 "$W/err"
fi
orc_rt_summary
exit $?
