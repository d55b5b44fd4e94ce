#!/usr/bin/env bash
# Crash recovery (issue 24, part 1): with ORC_RT_ON_CRASH=recover, a fault
# or an uncaught C++ exception in a statement ends only that statement.
#
# clang-repl-22 sessions (tests/crash/): a prelude that builds state, one
# crashing statement (null write, division by zero, __builtin_trap(), an
# uncaught throw, a stack overflow), then statements that use the earlier
# variables and print. With either ORC runtime (ours, compiler-rt's), the
# session must go on: same stdout and exit status as the same session
# without the crashing statement, and stderr naming the crash. Without
# recovery (the default) the null write still ends the session, as with
# the reference executor.
#
# llvm-jitlink-22 runs tests/crash/null_write.c as main: the run fails with
# an error naming SIGSEGV at address 0x0, the line printed before the crash
# appears once, and the executor stays up until the controller ends the
# session (it exits 0).
#
# Env: ORC_RT_EXECUTOR  executor to test (default: the release build of
#                       this tree, built first)
set -u
. "$(dirname "$0")/lib.sh"
orc_rt_require clang-repl-22 llvm-jitlink-22 clang-22 -- "crash recovery tests"
orc_rt_executor release
OURS=$ORC_RT_EXE
SRC=$ORC_RT_ROOT/tests/crash
OUR_RT=$(timeout 10 "$OURS" --platform-archive 2>/dev/null || true)
COMPILER_RT=$(orc_rt_compiler_rt)
W=$(mktemp -d /tmp/orc-rt-crash.XXXXXX)
trap 'rm -rf "$W"' EXIT


# repl <out-prefix> <archive> <mode> <input files...>: runs the session
# (through a pipe, so stdout is complete once the executor is gone).
repl() {
  local out=$1 rt=$2 mode=$3
  shift 3
  cat "$@" >"$out.in"
  ORC_RT_ON_CRASH=$mode timeout 120 clang-repl-22 --oop-executor="$OURS" \
    --orc-runtime="$rt" <"$out.in" 2>"$out.err" | cat >"$out.raw"
  echo "${PIPESTATUS[0]}" >"$out.rc"
  # clang-repl's own empty line lands anywhere among the executor's
  # output (two processes, one pipe): blank lines are not compared.
  grep -v '^$' "$out.raw" >"$out.out"
}

declare -A EXPECT=(
  [null-write]="SIGSEGV at address 0x0"
  [div-zero]="SIGFPE"
  [trap]="SIGILL"
  [throw]="exception of type std::runtime_error: statement failed"
  [stack-overflow]="SIGSEGV"
)
for rt_name in ours compiler-rt; do
  if [ "$rt_name" = ours ]; then rt=$OUR_RT; else rt=$COMPILER_RT; fi
  if [ -z "$rt" ] || [ ! -f "$rt" ]; then
    fail "$rt_name archive" "not found: '$rt'"
    continue
  fi
  base=$W/$rt_name-base
  repl "$base" "$rt" recover "$SRC/repl-prelude.txt" "$SRC/repl-after.txt"
  if [ "$(cat "$base.rc")" = 0 ] && grep -q "^y=83$" "$base.out"; then
    pass "clang-repl, $rt_name: session without a crash"
  else
    fail "clang-repl, $rt_name: session without a crash" "exit $(cat "$base.rc")"
    tail -3 "$base.err"
    continue
  fi
  for crash in null-write div-zero trap throw stack-overflow; do
    s=$W/$rt_name-$crash
    repl "$s" "$rt" recover "$SRC/repl-prelude.txt" "$SRC/crash-$crash.txt" "$SRC/repl-after.txt"
    name="clang-repl, $rt_name, recover: $crash"
    if ! cmp -s "$base.out" "$s.out"; then
      fail "$name" "stdout differs from the session without the crash"
      diff "$base.out" "$s.out" | head -5
      tail -3 "$s.err"
    elif [ "$(cat "$s.rc")" != "$(cat "$base.rc")" ]; then
      fail "$name" "exit $(cat "$s.rc")"
    elif ! grep -qF "${EXPECT[$crash]}" "$s.err"; then
      fail "$name" "stderr does not name '${EXPECT[$crash]}'"
      tail -3 "$s.err"
    else
      pass "$name"
    fi
  done
  # Default behaviour unchanged: the crash ends the session.
  s=$W/$rt_name-default
  repl "$s" "$rt" "" "$SRC/repl-prelude.txt" "$SRC/crash-null-write.txt" "$SRC/repl-after.txt"
  if [ "$(cat "$s.rc")" != 0 ] && ! grep -q "^y=" "$s.out"; then
    pass "clang-repl, $rt_name, default: the null write ends the session (exit $(cat "$s.rc"))"
  else
    fail "clang-repl, $rt_name, default: the session survived a crash without recovery"
  fi
done

# A statement that never ends, with ORC_RT_CALL_TIMEOUT=1: interrupted,
# and the session goes on.
for rt_name in ours compiler-rt; do
  if [ "$rt_name" = ours ]; then rt=$OUR_RT; else rt=$COMPILER_RT; fi
  [ -n "$rt" ] && [ -f "$rt" ] || continue
  s=$W/$rt_name-timeout
  printf '%s\n' 'volatile int spin = 1; while (spin) {}' >"$W/loop.txt"
  ORC_RT_CALL_TIMEOUT=1 repl "$s" "$rt" recover "$SRC/repl-prelude.txt" "$W/loop.txt" "$SRC/repl-after.txt"
  if cmp -s "$W/$rt_name-base.out" "$s.out" && grep -q "time limit passed" "$s.err"; then
    pass "clang-repl, $rt_name, ORC_RT_CALL_TIMEOUT=1: an endless statement is interrupted"
  else
    fail "clang-repl, $rt_name, ORC_RT_CALL_TIMEOUT=1" "exit $(cat "$s.rc")"
    tail -3 "$s.err"
  fi
done

# llvm-jitlink: run-as-main fails with the error; the executor stays up.
clang-22 -c "$SRC/null_write.c" -o "$W/null_write.o"
cat >"$W/executor.sh" <<EOS
#!/bin/sh
"$OURS" "\$@"
echo \$? >"$W/executor.rc"
EOS
chmod +x "$W/executor.sh"
ORC_RT_ON_CRASH=recover timeout 60 llvm-jitlink-22 -oop-executor="$W/executor.sh" \
  "$W/null_write.o" 2>"$W/jl.err" | cat >"$W/jl.out"
rc=${PIPESTATUS[0]}
if [ "$rc" = 1 ] && grep -q "SIGSEGV at address 0x0" "$W/jl.err" &&
   [ "$(cat "$W/jl.out")" = "before the crash" ] && [ "$(cat "$W/executor.rc" 2>/dev/null)" = 0 ]; then
  pass "llvm-jitlink, recover: main fails with the crash, the executor exits 0"
else
  fail "llvm-jitlink, recover" "exit $rc, executor $(cat "$W/executor.rc" 2>/dev/null), stdout '$(cat "$W/jl.out")'"
  cat "$W/jl.err"
fi
# --on-crash=recover works as the environment does (the flag comes first).
cat >"$W/executor-flag.sh" <<EOS
#!/bin/sh
exec "$OURS" --on-crash=recover "\$@"
EOS
chmod +x "$W/executor-flag.sh"
timeout 60 llvm-jitlink-22 -oop-executor="$W/executor-flag.sh" "$W/null_write.o" \
  2>"$W/jl2.err" | cat >/dev/null
if grep -q "SIGSEGV at address 0x0" "$W/jl2.err"; then
  pass "llvm-jitlink, --on-crash=recover"
else
  fail "llvm-jitlink, --on-crash=recover"
  cat "$W/jl2.err"
fi
# SIGINT to the executor (a notebook's "interrupt kernel") ends the
# running main, not the executor.
clang-22 -c "$SRC/spin.c" -o "$W/spin.o"
cat >"$W/executor-pid.sh" <<EOS
#!/bin/sh
echo \$\$ >"$W/executor.pid"
exec "$OURS" "\$@"
EOS
chmod +x "$W/executor-pid.sh"
rm -f "$W/executor.pid"
(ORC_RT_ON_CRASH=recover timeout 60 llvm-jitlink-22 -oop-executor="$W/executor-pid.sh" \
  "$W/spin.o" >"$W/int.out" 2>"$W/int.err"; echo $? >"$W/int.rc") &
for _ in $(seq 50); do [ -s "$W/executor.pid" ] && grep -q spinning "$W/int.out" 2>/dev/null && break; sleep 0.1; done
kill -INT "$(cat "$W/executor.pid")" 2>/dev/null
wait
if [ "$(cat "$W/int.rc")" = 1 ] && grep -q "interrupted: SIGINT" "$W/int.err"; then
  pass "llvm-jitlink, recover: SIGINT interrupts the running main"
else
  fail "llvm-jitlink, recover: SIGINT" "exit $(cat "$W/int.rc")"
  cat "$W/int.err"
fi
orc_rt_summary
exit $?
