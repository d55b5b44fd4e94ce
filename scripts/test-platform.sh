#!/usr/bin/env bash
# Platform tests: programs JIT-linked by LLVM 22's llvm-jitlink (and
# clang-repl) with our ELF/x86-64 platform archive as the ORC runtime,
# running in our executor, must behave like the same program compiled and
# run natively. Each case builds the native program (clang-22/clang++-22),
# runs it, then compiles the same sources with -c (same flags) and runs
# `llvm-jitlink-22 -oop-executor=$OURS -orc-runtime=$ARCHIVE <objs>`;
# stdout and the exit status must be the same (stderr too where the case
# says so). Programs live in tests/platform/, each with a header saying
# what it checks.
#
# Usage: scripts/test-platform.sh [case-name-substring...]
# Env:   ORC_RT_EXECUTOR          executor to test (default:
#                                 target/release/orc-rt-executor, built first)
#        ORC_RT_PLATFORM_ARCHIVE  the platform archive (default: what
#                                 `$ORC_RT_EXECUTOR --platform-archive` prints)
#        PLATFORM_KEEP=1          keep the scratch directory
# Prints PASS/FAIL/SKIP per case and "N passed, M failed"; exits 1 on failure.
# Skips everything (exit 0) when LLVM 22 is not installed.
#
# The exit status of a JIT'd program is llvm-jitlink's: it exits with
# main's return value, and, with our runtime, with the status JIT'd code
# passed to exit() (the executor answers the program run with it before it
# exits). Only when the program dies by a signal (an uncaught exception
# aborts) does llvm-jitlink just report "disconnecting"; the executor runs
# behind a small wrapper that records its own exit status, and that status
# (>= 128) is then the program's.
#
# No case may be excused: where a detail cannot match native, the case
# compares with an expected file in tests/platform/ and says why.
set -u
. "$(dirname "$0")/lib.sh"

orc_rt_require llvm-jitlink-22 llvm-jitlink-executor-22 clang-22 clang++-22 -- "the platform tests"
ROOT=$ORC_RT_ROOT
SRC=$ROOT/tests/platform
FILTERS=("$@")
REF=$(orc_rt_reference_executor)
COMPILER_RT=$(orc_rt_compiler_rt)

# Our executor: as given, or the release build of this tree, built first.
orc_rt_executor release
OURS=$ORC_RT_EXE
if [ -n "${ORC_RT_PLATFORM_ARCHIVE:-}" ]; then
  ARCHIVE=$ORC_RT_PLATFORM_ARCHIVE
else
  ARCHIVE=$(timeout 10 "$OURS" --platform-archive 2>/dev/null) || ARCHIVE=""
fi
if [ -z "$ARCHIVE" ] || [ ! -f "$ARCHIVE" ]; then
  echo "FAIL: no platform archive ('$OURS --platform-archive' gave '${ARCHIVE}');" \
    "set ORC_RT_PLATFORM_ARCHIVE"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "executor: $OURS"
echo "archive:  $ARCHIVE"

W=$(mktemp -d /tmp/orc-rt-platform.XXXXXX)
trap '[ -n "${PLATFORM_KEEP:-}" ] && echo "scratch kept in $W" || rm -rf "$W"' EXIT

# want <case>: no filters, or one of them is a substring of the name.
want() {
  local f
  for f in "${FILTERS[@]}"; do [[ $1 == *"$f"* ]] && return 0; done
  [ ${#FILTERS[@]} -eq 0 ]
}

# Replaces paths and run-dependent numbers so stderr can be compared.
normalize() {
  sed -e "s#$W#WORK#g" -e "s#$OURS#EXECUTOR#g" -e "s#$ARCHIVE#ARCHIVE#g" \
      -e 's#0x[0-9a-fA-F]\{6,\}#0xADDR#g' |
    if [ -n "${STDERR_DROP:-}" ]; then grep -vxE "$STDERR_DROP"; else cat; fi
}

# The executor behind a wrapper that records its exit status (see above).
# The wrapper stays a plain parent: it holds only the descriptors the
# executor inherits, so EOF still reaches each side when the other exits.
wrap_executor() { # wrap_executor <executor> <status-file> -> prints the wrapper's path
  local exe=$1 status=$2 wrapper
  wrapper=$(mktemp "$W/executor.XXXXXX")
  cat >"$wrapper" <<EOF
#!/bin/sh
"$exe" "\$@"
rc=\$?
echo \$rc >"$status"
exit \$rc
EOF
  chmod +x "$wrapper"
  echo "$wrapper"
}

# build <dir> <compiler> <cflags> <native-ldflags> <sources...>: the native
# program <dir>/native and one object per source, <dir>/<source>.o, in the
# order given (which is the link order of both).
build() {
  local dir=$1 cc=$2 cflags=$3 ldflags=$4
  shift 4
  mkdir -p "$dir"
  local s
  # shellcheck disable=SC2086 # flags are word lists
  : >"$dir/objs"
  for s in "$@"; do
    "$cc" -c $cflags "$SRC/$s" -o "$dir/$s.o" 2>>"$dir/cc.err" || return 1
    echo "$dir/$s.o" >>"$dir/objs"
  done
  local srcs=()
  for s in "$@"; do srcs+=("$SRC/$s"); done
  # shellcheck disable=SC2086
  "$cc" $cflags "${srcs[@]}" -o "$dir/native" $ldflags 2>>"$dir/cc.err"
}

# run_native <dir> [env assignments...]: <dir>/native.{out,err,rc}
run_native() {
  local dir=$1
  shift
  (cd "$dir" && env "$@" timeout 60 ./native </dev/null >native.out 2>native.err
   echo $? >native.rc)
}

# run_jit <dir> <timeout> <llvm-jitlink args...>: llvm-jitlink with our
# executor (wrapped) and -orc-runtime; writes <dir>/jit.{out,err,rc,jlrc,exrc}.
run_jit() {
  local dir=$1 to=$2
  shift 2
  local wrapper
  rm -f "$dir/jit.exrc"
  wrapper=$(wrap_executor "$OURS" "$dir/jit.exrc")
  # The executor may outlive llvm-jitlink briefly and flush the program's
  # stdio when it exits: read both streams through pipes so that the
  # capture ends only when the executor has closed them too.
  ( (cd "$dir" && timeout "$to" llvm-jitlink-22 -oop-executor="$wrapper" \
       -orc-runtime="$ARCHIVE" "$@" </dev/null
     echo $? >"$dir/jit.jlrc") 2>&1 1>&3 | timeout $((to + 30)) cat >"$dir/jit.err"
  ) 3>&1 | timeout $((to + 30)) cat >"$dir/jit.out"
  program_status "$dir"
}

# program_status <dir>: <dir>/jit.rc from jit.jlrc and jit.exrc (see top).
program_status() {
  local dir=$1 jl ex
  jl=$(cat "$dir/jit.jlrc" 2>/dev/null || echo none)
  ex=$(cat "$dir/jit.exrc" 2>/dev/null || echo none)
  case "$ex" in
    12[89] | 1[3-9][0-9] | 2[0-9][0-9]) echo "$ex" >"$dir/jit.rc" ;;
    *) echo "$jl" >"$dir/jit.rc" ;;
  esac
}

# project <file> <pattern>...: each pattern's matching lines, in order, then
# every line sorted (see PER_OBJECT below).
project() {
  local f=$1 p
  shift
  for p in "$@"; do
    echo "== lines matching $p"
    grep -E "$p" "$f"
  done
  echo "== all lines, sorted"
  LC_ALL=C sort "$f"
}

# check <name> <dir> <stderr: yes|no> [expected-stdout-file expected-status]:
# compares jit.* with native.* (or with the expected file and status).
# With PER_OBJECT set to line patterns (one per object, ';'-separated), stdout
# is compared object by object instead: each object's lines in native
# order, and the same lines overall. LLVM 22's controller sends each
# object's initialisers in priority order but no priorities, and the order
# in which it links the objects varies from run to run, so the order of
# one object's constructors relative to another's is not reachable
# (README, "ELF platform runtime").
check() {
  local name=$1 dir=$2 check_err=$3 exp_out=${4:-} exp_rc=${5:-}
  local rc_j rc_n why=""
  rc_j=$(cat "$dir/jit.rc")
  if [ -n "$exp_out" ]; then
    cp "$exp_out" "$dir/native.out"
    echo "$exp_rc" >"$dir/native.rc"
    : >"$dir/native.err"
  fi
  rc_n=$(cat "$dir/native.rc")
  local note="exit $rc_j"
  if [ "$rc_j" = unknown ]; then
    note="exit status not observable: llvm-jitlink-22 hangs after a TCP session"
  elif [ "$rc_j" != "$rc_n" ]; then
    why="exit status: jit $rc_j, native $rc_n"
  fi
  # A run ended by a timeout or a signal fails, unless the native program
  # ends by the same signal (an uncaught exception aborts both).
  case "$rc_j" in
    12[4-9] | 1[3-9][0-9] | 2[0-9][0-9])
      [ "$rc_j" = "$rc_n" ] || why="jit run ended by timeout or signal (status $rc_j)" ;;
  esac
  local streams=(out) st
  [ "$check_err" = yes ] && streams+=(err)
  for st in "${streams[@]}"; do
    [ -z "$why" ] || break
    normalize <"$dir/jit.$st" >"$dir/jit.n$st"
    normalize <"$dir/native.$st" >"$dir/native.n$st"
    if [ "$st" = out ] && [ -n "${PER_OBJECT:-}" ]; then
      local pats
      IFS=';' read -r -a pats <<<"$PER_OBJECT"
      project "$dir/jit.nout" "${pats[@]}" >"$dir/jit.pout"
      project "$dir/native.nout" "${pats[@]}" >"$dir/native.pout"
      cmp -s "$dir/jit.pout" "$dir/native.pout" || why="stdout differs (object by object)"
      note="$note, compared object by object"
      continue
    fi
    cmp -s "$dir/jit.n$st" "$dir/native.n$st" || why="std$st differs"
  done
  if [ -z "$why" ]; then
    pass "$name" "$note, $(wc -l <"$dir/jit.out") lines"
    return 0
  fi
  fail "$name" "$why"
  {
    echo "  --- diff native jit (stdout):"
    diff "$dir/native.out" "$dir/jit.out" | head -40 | sed 's/^/  /'
    echo "  --- jit: exit $rc_j (llvm-jitlink $(cat "$dir/jit.jlrc" 2>/dev/null)," \
      "executor $(cat "$dir/jit.exrc" 2>/dev/null || echo '?')); stderr:"
    normalize <"$dir/jit.err" | head -10 | sed 's/^/  ! /'
  }
  return 1
}

# platform_case <name> <compiler> <cflags> <ldflags> <stderr: yes|no>
#               <sources...> [-- <extra llvm-jitlink args>]
platform_case() {
  local name=$1 cc=$2 cflags=$3 ldflags=$4 check_err=$5
  shift 5
  want "$name" || return 0
  local srcs=() extra=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do srcs+=("$1"); shift; done
  [ $# -gt 0 ] && { shift; extra=("$@"); }
  local dir=$W/$name
  if ! build "$dir" "$cc" "$cflags" "$ldflags" "${srcs[@]}"; then
    fail "$name" "does not compile"
    sed 's/^/  /' "$dir/cc.err"
    return
  fi
  run_native "$dir"
  local o
  mapfile -t o <"$dir/objs"
  run_jit "$dir" 60 "${extra[@]}" "${o[@]}"
  check "$name" "$dir" "$check_err"
}

PTHREAD="-lpthread"
# JITLink handles only general-dynamic TLS (R_X86_64_TLSGD); the TLS
# programs avoid internal-linkage thread-locals, which get local-dynamic
# accesses (R_X86_64_TLSLD) whatever the flags (see tls_cxx.cpp).
TLSFLAGS="-fPIC"
CXXLIBS="-lstdc++ -lpthread"

# ---------------------------------------------------------------- programs
# exit_deep ends through exit(): llvm-jitlink then prints "disconnecting"
# on stderr, so its stderr is not compared.
#
# C destructors (__attribute__((destructor))) live in .fini_array, which
# LLVM 22's controller neither registers nor keeps (it is dead-stripped
# before the executor sees it). Compiled with DTORS, clang registers each
# destructor with __cxa_atexit from an initialiser instead; natively that
# gives the same order, and our runtime honours it (README).
DTORS="-fregister-global-dtors-with-atexit"
PER_OBJECT="^a: ;^b: ;^main: " \
  platform_case ctor-prio clang-22 "$DTORS" "" yes ctor_prio_a.c ctor_prio_b.c ctor_prio_main.c
platform_case ctor-prio-one-object clang-22 "$DTORS" "" yes ctor_prio_one.c
platform_case exit-deep clang-22 "$DTORS" "" no exit_deep.c
CXX_STATIC_OBJECTS="^(construct|destroy) a: ;^(construct|destroy) b: ;^main: ;inline variable"
PER_OBJECT="$CXX_STATIC_OBJECTS" \
  platform_case cxx-static clang++-22 "" "$CXXLIBS" yes cxx_static.cpp cxx_static_b.cpp
platform_case tls-c clang-22 "$TLSFLAGS" "$PTHREAD" yes tls_c.c tls_c_b.c
platform_case tls-cxx clang++-22 "$TLSFLAGS" "$CXXLIBS" yes tls_cxx.cpp
platform_case eh-cross clang++-22 "" "$CXXLIBS" yes eh_cross_a.cpp eh_cross_b.cpp
# After the program's own stderr, which must match, come lines that are not
# the program's: llvm-jitlink's "disconnecting" and the executor wrapper's
# shell reporting the abort; they are dropped before comparing.
STDERR_DROP="llvm-jitlink-22: disconnecting|Aborted" \
  platform_case eh-uncaught clang++-22 "" "$CXXLIBS" yes eh_uncaught.cpp
platform_case lazy-eager clang-22 "" "" yes lazy.c lazy_b.c


# ------------------------------------------------------ other link modes
# variant <name> <base-case> <jit-runner> <stderr: yes|no> [llvm-jitlink args...]:
# runs the objects of an already built case again another way, against
# the same native run.
variant() {
  local name=$1 base=$2 runner=$3 check_err=$4
  shift 4
  want "$name" || return 0
  local bdir=$W/$base dir=$W/$name
  if [ ! -x "$bdir/native" ]; then
    want "$base" || skip "$name" "needs case $base (add it to the filter)"
    want "$base" && fail "$name" "case $base was not built"
    return
  fi
  mkdir -p "$dir"
  cp "$bdir"/native.out "$bdir"/native.err "$bdir"/native.rc "$dir/"
  local o
  mapfile -t o <"$bdir/objs"
  "$runner" "$dir" "$TIMEOUT" "$@" "${o[@]}"
  check "$name" "$dir" "$check_err"
}

TIMEOUT=60
PER_OBJECT="$CXX_STATIC_OBJECTS" \
  variant cxx-static-memmgr-shared cxx-static run_jit yes -use-memmgr=shared
variant exit-deep-memmgr-shared exit-deep run_jit no -use-memmgr=shared

# listen_and_wait <port> <command...>: starts the command in the background
# (its pid in LISTENER) and waits, without connecting (the executor
# accepts one connection only), until 127.0.0.1:<port> is listening.
listen_and_wait() {
  local port=$1
  shift
  "$@" &
  LISTENER=$!
  timeout 5 python3 - "$port" <<'PYEOF'
import sys, time
want = ":%04X" % int(sys.argv[1])
while True:
    with open("/proc/net/tcp") as f:
        rows = [l.split() for l in f.readlines()[1:]]
    if any(r[1].endswith(want) and r[3] == "0A" for r in rows):
        break
    time.sleep(0.05)
PYEOF
}

# run_tcp <dir> <timeout> <llvm-jitlink args...>: our executor listens,
# llvm-jitlink connects. The program's output is the executor's stdout.
# Writes <dir>/jit.{out,err,jlrc,exrc,rc} like run_jit.
run_tcp() {
  local dir=$1 to=$2 port pid waited=0
  shift 2
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  listen_and_wait "$port" "$OURS" listen=127.0.0.1:"$port" \
    >"$dir/jit.out" 2>"$dir/jit.exerr" </dev/null ||
    echo "executor did not listen on $port" >>"$dir/jit.exerr"
  pid=$LISTENER
  (cd "$dir" && timeout "$to" llvm-jitlink-22 -oop-executor-connect=127.0.0.1:"$port" \
     -orc-runtime="$ARCHIVE" "$@" >"$dir/jit.jlout" 2>"$dir/jit.err" </dev/null)
  echo $? >"$dir/jit.jlrc"
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt 100 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  local killed=""
  if kill -0 "$pid" 2>/dev/null; then
    # A program that called exit() waits (up to 30 s) for the controller to
    # end the session, which llvm-jitlink-22 over TCP never does.
    killed=yes
    kill "$pid"
  fi
  wait "$pid"
  echo $? >"$dir/jit.exrc"
  cat "$dir/jit.jlout" >>"$dir/jit.out"
  cat "$dir/jit.exerr" >>"$dir/jit.err"
  program_status "$dir"
  # After a TCP session in which main returned, llvm-jitlink-22 never exits
  # (a controller bug: docs/protocol.md, section 8), so main's return value never shows. Then, and only if the executor
  # ended cleanly once llvm-jitlink was stopped, the status is unknown: the
  # case compares stdout and says so. The pipe cases check the status.
  # A program that called exit() ends the executor with its status once
  # llvm-jitlink is gone: that status is then the program's.
  if [ "$(cat "$dir/jit.jlrc")" = 124 ] && [ ! -s "$dir/jit.err" ]; then
    case "$(cat "$dir/jit.exrc")" in
      0) echo unknown >"$dir/jit.rc" ;;
      12[89] | 1[3-9][0-9] | 2[0-9][0-9]) [ -n "$killed" ] && echo unknown >"$dir/jit.rc" ;;
      *) cp "$dir/jit.exrc" "$dir/jit.rc" ;;
    esac
  fi
}

TIMEOUT=20 # llvm-jitlink over TCP hangs once main has returned
PER_OBJECT="$CXX_STATIC_OBJECTS" variant cxx-static-tcp cxx-static run_tcp yes
variant exit-deep-tcp exit-deep run_tcp no
TIMEOUT=60

# ------------------------------------------------------------------- -lazy
# llvm-jitlink's -lazy applies to the one file after it: every object gets
# its own. Lazy calls re-enter the JIT through __orc_rt_reenter.
run_lazy() {
  local dir=$1 to=$2 a=() x
  shift 2
  for x in "$@"; do
    case "$x" in *.o) a+=(-lazy "$x") ;; *) a+=("$x") ;; esac
  done
  run_jit "$dir" "$to" "${a[@]}"
}
variant lazy lazy-eager run_lazy yes

# ------------------------------------------------------------ dlopen of a JD
# dl_main.o in the main JITDylib, dl_lib.o in a JITDylib named like the
# string dl_main passes to dlopen. Plain dlopen/dlsym/dlclose are libc's
# unless aliased, and an -alias resolves its target only inside the JD it
# is defined in, so the aliases go into the Platform JD (which main links
# against) and point at the controller's __orc_rt_jit_* aliases there.
# Natively dl_lib is a shared library found through LD_LIBRARY_PATH.
if want dlopen-jd; then
  dir=$W/dlopen-jd
  mkdir -p "$dir"
  if clang-22 -c -fPIC "$SRC/dl_main.c" -o "$dir/dl_main.o" 2>>"$dir/cc.err" &&
     clang-22 -c -fPIC $DTORS "$SRC/dl_lib.c" -o "$dir/dl_lib.o" 2>>"$dir/cc.err" &&
     clang-22 -fPIC "$SRC/dl_main.c" -o "$dir/native" -ldl 2>>"$dir/cc.err" &&
     clang-22 -shared -fPIC $DTORS "$SRC/dl_lib.c" -o "$dir/libplatformdl.so" 2>>"$dir/cc.err"; then
    run_native "$dir" LD_LIBRARY_PATH="$dir"
    run_jit "$dir" 60 \
      -alias Platform:dlopen=__orc_rt_jit_dlopen \
      -alias Platform:dlsym=__orc_rt_jit_dlsym \
      -alias Platform:dlclose=__orc_rt_jit_dlclose \
      -alias Platform:dlerror=__orc_rt_jit_dlerror \
      "$dir/dl_main.o" -jd libplatformdl.so "$dir/dl_lib.o"
    check dlopen-jd "$dir" yes
  else
    fail dlopen-jd "does not compile"
    sed 's/^/  /' "$dir/cc.err"
  fi
fi

# -------------------------------------------------------------- clang-repl
# 50 inputs (globals with constructors and destructors, thread_local, EH,
# std:: containers), then %quit. There is no native run of a REPL session:
# repl-50.expected holds what the statements print, ending with the
# global destructors in reverse order of construction. clang-repl's blank
# prompt lines interleave with the output at varying places: dropped.
if want clang-repl; then
  if ! command -v clang-repl-22 >/dev/null 2>&1; then
    skip clang-repl "clang-repl-22 not installed"
  else
    dir=$W/clang-repl
    mkdir -p "$dir"
    ( (timeout 120 clang-repl-22 --oop-executor="$OURS" --orc-runtime="$ARCHIVE" \
         <"$SRC/repl-50.txt"
       echo $? >"$dir/jit.jlrc") 2>&1 1>&3 | timeout 150 cat >"$dir/jit.err"
    ) 3>&1 | timeout 150 cat | grep -v '^$' >"$dir/jit.out"
    cp "$dir/jit.jlrc" "$dir/jit.rc"
    check clang-repl "$dir" yes "$SRC/repl-50.expected" 0
  fi
fi

# ------------------------------------- the archive with another executor
# Our archive forwards to functions of our executor: with any other
# executor, platform setup must fail cleanly, with "Symbols not found"
# and a non-zero exit, and no crash of llvm-jitlink. (compiler-rt's own
# runtime needs nothing from the executor, so there is nothing to check.)
if want archive-other-executor; then
  if [ "$ARCHIVE" = "$COMPILER_RT" ]; then
    skip archive-other-executor "the archive is compiler-rt's runtime, which works with any executor"
  else
    dir=$W/archive-other-executor
    mkdir -p "$dir"
    printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' >"$dir/hello.c"
    clang-22 -c "$dir/hello.c" -o "$dir/hello.o"
    (cd "$dir" && timeout 60 llvm-jitlink-22 -oop-executor="$REF" -orc-runtime="$ARCHIVE" \
       hello.o >jit.out 2>jit.err </dev/null
     echo $? >jit.rc)
    rc=$(cat "$dir/jit.rc")
    if [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] && grep -q "Symbols not found" "$dir/jit.err" &&
       ! grep -qi "core dumped\|stack dump\|segmentation\|abort" "$dir/jit.err" &&
       [ ! -e "$dir/core" ]; then
      pass archive-other-executor "exit $rc, $(grep -m1 -o 'Symbols not found.\{0,60\}' "$dir/jit.err")"
    else
      fail archive-other-executor "exit $rc; expected a clean failure with 'Symbols not found'"
      sed 's/^/  ! /' "$dir/jit.err" | head -10
    fi
  fi
fi

# ------------------------------------------------------------------ summary
orc_rt_summary
exit $?
