#!/usr/bin/env bash
# C++ exceptions in JIT'd code, whichever ORC runtime is in use (issue 24,
# part 3). Multi-object exception programs of tests/platform/ (eh_cross_*,
# eh_layers_*) are built at -O0 and -O2 and run by llvm-jitlink-22 with our
# executor three ways: with no ORC runtime (the controller registers
# .eh_frame sections through the executor's allocation actions), with
# compiler-rt's runtime (which calls __register_frame itself; the executor
# resolves that name to its repairing version), and with ours. Each run's
# stdout and exit status must equal the natively built program's.
#
# For information only, the same programs also run under the reference
# executor with compiler-rt's runtime; LLVM 22's gaps in .eh_frame make
# that fail, which is what this suite guards against in ours.
#
# Env: ORC_RT_EXECUTOR  executor to test (default: the release build of
#                       this tree, built first)
# Prints PASS/FAIL per run and "N passed, M failed"; exits 1 on failure.
set -u
. "$(dirname "$0")/lib.sh"
orc_rt_require llvm-jitlink-22 clang-22 clang++-22 -- "exception tests"
orc_rt_executor release
OURS=$ORC_RT_EXE
SRC=$ORC_RT_ROOT/tests/platform
COMPILER_RT=$(orc_rt_compiler_rt)
OUR_RT=$(timeout 10 "$OURS" --platform-archive 2>/dev/null || true)
REF=$(orc_rt_reference_executor)
W=$(mktemp -d /tmp/orc-rt-eh.XXXXXX)
trap 'rm -rf "$W"' EXIT

check() { # check <name> <dir> <tag>: compares <dir>/<tag>.{out,rc} with native
  local name=$1 dir=$2 tag=$3
  if cmp -s "$dir/native.out" "$dir/$tag.out" && [ "$(cat "$dir/native.rc")" = "$(cat "$dir/$tag.rc")" ]; then
    pass "$name"
  else
    fail "$name" "exit $(cat "$dir/$tag.rc"), native $(cat "$dir/native.rc")"
    diff "$dir/native.out" "$dir/$tag.out" | head -5
    tail -3 "$dir/$tag.err"
  fi
}
jit() { # jit <dir> <tag> <executor> [llvm-jitlink args...]
  local dir=$1 tag=$2 exe=$3
  shift 3
  # Through a pipe, so that the output is complete only when the executor
  # (which inherits it, and may flush JIT'd stdout after llvm-jitlink has
  # exited) is gone too.
  timeout 60 llvm-jitlink-22 -oop-executor="$exe" "$@" $(cat "$dir/objs") \
    </dev/null 2>"$dir/$tag.err" | cat >"$dir/$tag.out"
  echo "${PIPESTATUS[0]}" >"$dir/$tag.rc"
}

programs=("eh-cross:eh_cross_a.cpp eh_cross_b.cpp"
          "eh-layers:eh_layers_main.cpp eh_layers_shapes.cpp eh_layers_util.cpp")
for p in "${programs[@]}"; do
  name=${p%%:*}
  for opt in -O0 -O2; do
    dir=$W/$name$opt
    mkdir -p "$dir"
    : >"$dir/objs"
    srcs=()
    for s in ${p#*:}; do
      clang++-22 $opt -c "$SRC/$s" -o "$dir/$s.o" || { fail "$name$opt" "does not compile"; continue 2; }
      echo "$dir/$s.o" >>"$dir/objs"
      srcs+=("$SRC/$s")
    done
    clang++-22 $opt "${srcs[@]}" -o "$dir/native" || { fail "$name$opt" "native build failed"; continue; }
    (cd "$dir" && timeout 60 ./native </dev/null >native.out 2>native.err; echo $? >native.rc)
    jit "$dir" none "$OURS"
    check "$name $opt, no ORC runtime" "$dir" none
    if [ -n "$COMPILER_RT" ]; then
      jit "$dir" crt "$OURS" -orc-runtime="$COMPILER_RT"
      check "$name $opt, compiler-rt's ORC runtime" "$dir" crt
      if [ -x "$REF" ]; then
        jit "$dir" ref "$REF" -orc-runtime="$COMPILER_RT"
        echo "INFO: reference executor, compiler-rt's runtime: exit $(cat "$dir/ref.rc") (native $(cat "$dir/native.rc"))"
      fi
    else
      fail "$name $opt, compiler-rt's ORC runtime" "not installed"
    fi
    if [ -n "$OUR_RT" ] && [ -f "$OUR_RT" ]; then
      jit "$dir" ours "$OURS" -orc-runtime="$OUR_RT"
      check "$name $opt, orc-rt's ORC runtime" "$dir" ours
    else
      fail "$name $opt, orc-rt's ORC runtime" "'$OURS --platform-archive' gave no archive"
    fi
  done
done
orc_rt_summary
exit $?
