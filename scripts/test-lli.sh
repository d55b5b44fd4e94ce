#!/usr/bin/env bash
# orc-rt-executor as a drop-in for lli-child-target: LLVM 22's
# `lli -jit-kind=mcjit -remote-mcjit -mcjit-remote-process=PATH` starts its
# child as `PATH <infd> <outfd>`. Each program of tests/lli/ (compiled to
# .ll with clang-22) runs with the reference child (lli-child-target from
# `llvm-config-22 --bindir`) and with ours; stdout, stderr and the exit code
# must be the same.
#
# One documented difference (tests/interop/COMPATIBILITY.md): at exit lli
# asks the child to *reserve* 0 bytes; the reference answers "success,
# address 0" and lli prints an empty line to stderr, ours refuses a
# zero-size reservation and lli prints nothing. Empty stderr lines are
# therefore not compared.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ORC_RT_ROOT"

orc_rt_require lli-22 clang-22 llvm-config-22 -- "the lli tests"
ref="$(llvm-config-22 --bindir)/lli-child-target"
if [ ! -x "$ref" ]; then
  echo "SKIP: $ref not found; the lli tests not run"
  exit 0
fi
orc_rt_executor
ours=$ORC_RT_EXE

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# deep.c (6 MiB of recursion) is shared with scripts/test-stack.sh.
for c in tests/lli/*.c tests/stack/deep.c; do
  clang-22 -O1 -S -emit-llvm "$c" -o "$work/$(basename "${c%.c}").ll"
done

# run NAME CHILD LL [EXTRA...]: runs lli with CHILD; writes NAME.{out,err,rc}.
run() {
  local name="$1" child="$2" ll="$3"
  shift 3
  local extra=()
  for m in "$@"; do extra+=("-extra-module=$work/$m.ll"); done
  set +e
  timeout 60 lli-22 -jit-kind=mcjit -remote-mcjit -mcjit-remote-process="$child" \
    ${extra[@]+"${extra[@]}"} "$work/$ll.ll" >"$work/$name.out" 2>"$work/$name.err"
  echo $? >"$work/$name.rc"
  set -e
  # The reference child's path appears in lli's messages: name it alike.
  sed -i -e "s#$child#CHILD#g" -e '/^$/d' "$work/$name.err"
}

# case NAME LL [EXTRA_MODULES...] [-- EXPECTED_RC]
case_() {
  local name="$1" ll="$2" want_rc="$3"
  shift 3
  run "$name.ref" "$ref" "$ll" "$@"
  run "$name.ours" "$ours" "$ll" "$@"
  local why=""
  cmp -s "$work/$name.ref.rc" "$work/$name.ours.rc" ||
    why+=" exit code $(cat "$work/$name.ours.rc") (reference $(cat "$work/$name.ref.rc"))"
  cmp -s "$work/$name.ref.out" "$work/$name.ours.out" || why+=" stdout differs"
  cmp -s "$work/$name.ref.err" "$work/$name.ours.err" || why+=" stderr differs"
  if [ "$(cat "$work/$name.ours.rc")" != "$want_rc" ]; then
    why+=" exit code $(cat "$work/$name.ours.rc"), expected $want_rc"
  fi
  if [ -z "$why" ]; then
    pass "$name" "exit $(cat "$work/$name.ours.rc")"
  else
    fail "$name" "${why# }"
    for f in ref ours; do
      echo "  --- $f: stdout"; sed 's/^/    /' "$work/$name.$f.out"
      echo "  --- $f: stderr"; sed 's/^/    /' "$work/$name.$f.err"
    done
  fi
}

case_ hello hello 7
case_ crossmod crossmod_main 0 crossmod_lib
case_ globals globals 6
# exit() inside the child ends the connection under lli: "disconnecting",
# exit 1, with either child.
case_ exitcode exitcode 1
case_ stderr stderr 3
# abort(): the child dies by SIGABRT; lli reports the lost connection.
case_ abort abort 1
case_ deepstack deep 0

# Command-line errors of the child form, against lli-child-target's.
for args in "3" "3 4 5" "-1 4"; do
  set +e
  # shellcheck disable=SC2086
  "$ref" $args </dev/null >/dev/null 2>"$work/cl.ref"
  r1=$?
  # shellcheck disable=SC2086
  "$ours" $args </dev/null >/dev/null 2>"$work/cl.ours"
  r2=$?
  set -e
  sed -i "s#$ref#CHILD#g" "$work/cl.ref"
  sed -i "s#$ours#CHILD#g" "$work/cl.ours"
  if [ "$r1" = "$r2" ] && cmp -s "$work/cl.ref" "$work/cl.ours"; then
    pass "command line [$args]" "exit $r2"
  else
    fail "command line [$args]" "exit $r2, reference $r1"
    sed 's/^/  ours: /' "$work/cl.ours"
    sed 's/^/  ref:  /' "$work/cl.ref"
  fi
done

orc_rt_summary lli
