#!/usr/bin/env bash
# AArch64 platform cases: programs JIT-linked by LLVM 22's llvm-jitlink
# for aarch64-linux-gnu with orc-rt's ELF platform archive
# (liborc_rt_elfnix-aarch64.a) as the ORC runtime, in orc-rt's arm64
# executor under qemu, must behave like the same program linked natively
# for arm64 and run under qemu: same stdout, same exit status.
#
# Usage: scripts/cross-platform-cases.sh EXECUTOR-WRAPPER ARCHIVE [case-substring...]
#   EXECUTOR-WRAPPER  what llvm-jitlink's -oop-executor= runs: a script
#                     that starts the arm64 orc-rt-executor under qemu
#                     (`cross_wrapper PATH $cross_bin/orc-rt-executor`,
#                     scripts/cross-lib.sh)
#   ARCHIVE           the AArch64 platform archive (what
#                     `cross_qemu $cross_bin/orc-rt-executor --platform-archive`
#                     prints)
# Env: ORC_RT_SKIP_DEPS (default 1 here: the toolchain is expected to be set
#      up already, see cross_env), CROSS_CASES_KEEP=1 keeps the scratch
#      directory.
# Prints one PASS/FAIL line per case (SKIP lines, with the reason, when
# LLVM 22 or the cross toolchain is missing), then "cross-platform-cases:
# N passed, M failed"; exits 1 if a case failed, 2 on bad usage.
#
# Each PASS line also says how LLVM's reference runs the same objects (the
# arm64 llvm-jitlink-executor with compiler-rt's liborc_rt-aarch64.a):
# "reference: same" or "reference: differs (...)". That is information, not
# a condition: LLVM 22's own runtime gives an `extern` thread-local two
# copies per thread (tls-threads) and does not run C atexit handlers
# (cxx-atexit), where orc-rt's runtime, like native, does.
#
# The cases and what each exercises on AArch64:
#   hello          bootstrap, main's output and exit status (42)
#   tls-threads    _Thread_local variables from four threads and main,
#                  through TLS descriptors (___orc_rt_elfnix_tlsdesc_resolver),
#                  one `extern` variable shared by two objects
#   tls-regs       every argument register live across descriptor calls,
#                  -O2, two threads and main: the resolver keeps them all
#   tls-cxx        C++ thread_local objects constructed and destroyed per
#                  std::thread
#   cxx-atexit     C++ static constructors and destructors, a local static,
#                  atexit handlers from a constructor and from main
#   lazy           -lazy: several functions reached through re-entry
#                  (__orc_rt_sysv_reenter), calls across the objects
#   lazy-args      -lazy with x0-x7, d0-d7, stack arguments, an indirect
#                  (x8) result, a struct of doubles and a variadic call
#   eh-cross       C++ exceptions thrown and caught across two objects
#                  (EH frames registered by the platform)
#   ctor-prio-one  constructor priorities, destructors and atexit in C
#   exit-deep      exit() called deep in JIT'd code: handlers run, status
#   dlopen-jd      dlopen/dlsym/dlclose of a JITDylib through the platform
#   clang-repl     a clang-repl-22 session for aarch64 (repl-50.txt)
#   archive-symbols        the archive defines the AArch64 entry points and
#                          none of the controller's own names
#   archive-other-executor the archive with LLVM's arm64 executor fails
#                          cleanly with "Symbols not found"
set -u
. "$(dirname "$0")/lib.sh"

if [ $# -lt 2 ]; then
  echo "usage: $0 EXECUTOR-WRAPPER ARCHIVE [case-substring...]" >&2
  exit 2
fi
WRAPPER=$1
ARCHIVE=$2
shift 2
FILTERS=("$@")
SRC=$ORC_RT_ROOT/tests/platform
CASES=(hello tls-threads tls-regs tls-cxx cxx-atexit lazy lazy-args eh-cross
       ctor-prio-one exit-deep dlopen-jd clang-repl archive-symbols
       archive-other-executor)

# want <case>: no filters, or one of them is a substring of the name.
want() {
  local f
  for f in "${FILTERS[@]}"; do [[ $1 == *"$f"* ]] && return 0; done
  [ ${#FILTERS[@]} -eq 0 ]
}

# skip_all <reason>: every wanted case cannot run.
skip_all() {
  local c
  for c in "${CASES[@]}"; do want "$c" && skip "$c" "$1"; done
  orc_rt_summary cross-platform-cases
  exit $?
}

for t in llvm-jitlink-22 clang-22 clang++-22 aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ \
         aarch64-linux-gnu-nm qemu-aarch64; do
  command -v "$t" >/dev/null || skip_all "$t not found"
done
. "$ORC_RT_ROOT/scripts/cross-lib.sh"
ORC_RT_SKIP_DEPS=${ORC_RT_SKIP_DEPS:-1} cross_env >/dev/null 2>&1 ||
  skip_all "the cross toolchain is not set up (scripts/cross-deps.sh)"
for f in "$WRAPPER" "$ARCHIVE"; do
  [ -f "$f" ] || { echo "$0: $f does not exist" >&2; exit 2; }
done

W=$(mktemp -d /tmp/orc-rt-cross-cases.XXXXXX)
trap '[ -n "${CROSS_CASES_KEEP:-}" ] && echo "scratch kept in $W" || rm -rf "$W"' EXIT
cross_wrapper "$W/reference.sh" "$cross_ref"
TIMEOUT=180 # qemu runs the whole llvm-jitlink session slowly

# capture <out> <rc> <command...>: runs the command with stdout read
# through a pipe, so the capture ends only when every writer has closed
# it (the executor may flush the program's stdio after llvm-jitlink has
# exited); stderr goes to <out>.err, stdin comes from $CAPTURE_IN (default
# /dev/null).
capture() {
  local out=$1 rc=$2
  shift 2
  ( (timeout "$TIMEOUT" "$@" <"${CAPTURE_IN:-/dev/null}" 2>"$out.err"
     echo $? >"$rc") | cat >"$out" )
}

# jit <dir> <tag> <executor-wrapper> <runtime> <llvm-jitlink args...>
jit() {
  local dir=$1 tag=$2 exe=$3 rt=$4
  shift 4
  (cd "$dir" && capture "$dir/$tag.out" "$dir/$tag.rc" \
    llvm-jitlink-22 -oop-executor="$exe" -orc-runtime="$rt" "$@")
}

# same <dir> <tag>: <tag>'s stdout and exit status are native's; else
# prints why.
same() {
  local dir=$1 tag=$2 rc_n rc_t
  rc_n=$(cat "$dir/native.rc")
  rc_t=$(cat "$dir/$tag.rc")
  if [ "$rc_t" != "$rc_n" ]; then
    echo "exit status $rc_t, native $rc_n"
  elif ! cmp -s "$dir/native.out" "$dir/$tag.out"; then
    echo "stdout differs: $(diff "$dir/native.out" "$dir/$tag.out" | grep -c '^[<>]') lines"
  fi
}

# case_ <name> <compiler> <cflags> <native-ldflags> <sources...> [-- <jit args>]
# The jit args come before the objects; "LAZY" among them makes every
# object after the first lazy (-lazy applies to the one file after it).
case_() {
  local name=$1 cc=$2 cflags=$3 ldflags=$4
  shift 4
  want "$name" || return 0
  local srcs=() extra=() lazy=0 s
  while [ $# -gt 0 ] && [ "$1" != -- ]; do srcs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  for s in "$@"; do [ "$s" = LAZY ] && lazy=1 || extra+=("$s"); done
  local dir=$W/$name objs=() n=0
  mkdir -p "$dir"
  for s in "${srcs[@]}"; do
    # shellcheck disable=SC2086 # flag lists
    if ! "$cc" --target=aarch64-linux-gnu -c $cflags "$SRC/$s" -o "$dir/$s.o" 2>>"$dir/cc.err"; then
      fail "$name" "$s does not compile: $(head -c 300 "$dir/cc.err")"
      return
    fi
    if [ $lazy = 1 ] && [ $n -gt 0 ]; then objs+=(-lazy); fi
    objs+=("$dir/$s.o")
    n=$((n + 1))
  done
  local native_cc=aarch64-linux-gnu-gcc
  [ "$cc" = clang++-22 ] && native_cc=aarch64-linux-gnu-g++
  local o=()
  for s in "${srcs[@]}"; do o+=("$dir/$s.o"); done
  # shellcheck disable=SC2086
  if ! $native_cc "${o[@]}" -o "$dir/native" $ldflags 2>>"$dir/cc.err"; then
    fail "$name" "native link failed: $(head -c 300 "$dir/cc.err")"
    return
  fi
  (cd "$dir" && capture "$dir/native.out" "$dir/native.rc" \
    qemu-aarch64 -L "$cross_sysroot" "$dir/native")
  jit "$dir" ours "$WRAPPER" "$ARCHIVE" "${extra[@]}" "${objs[@]}"
  jit "$dir" ref "$W/reference.sh" "$cross_orcrt" "${extra[@]}" "${objs[@]}"
  report "$name" "$dir"
}

# report <name> <dir>: PASS if ours ran like native, with how the
# reference did; FAIL with the difference otherwise.
report() {
  local name=$1 dir=$2 why ref
  why=$(same "$dir" ours)
  ref=$(same "$dir" ref)
  ref=${ref:+differs ($ref)}
  if [ -n "$why" ]; then
    fail "$name" "$why; stderr: $(head -c 400 "$dir/ours.out.err" | tr '\n' ' ')"
    diff "$dir/native.out" "$dir/ours.out" | head -20 | sed 's/^/  /'
  else
    pass "$name" "exit $(cat "$dir/ours.rc"), $(wc -l <"$dir/ours.out") lines; reference: ${ref:-same}"
  fi
}

PIC="-fPIC -O1"
case_ hello clang-22 "$PIC" "" hello_exit.c
case_ tls-threads clang-22 "$PIC" -lpthread tls_c.c tls_c_b.c
case_ tls-regs clang-22 "-fPIC -O2" -lpthread tls_regs.c
case_ tls-cxx clang++-22 "$PIC" -lpthread tls_cxx.cpp
case_ cxx-atexit clang++-22 "$PIC" "" cxx_atexit.cpp
case_ lazy clang-22 "$PIC" "" lazy.c lazy_b.c -- LAZY
case_ lazy-args clang-22 "-fPIC -O2" "" lazy_args.c lazy_args_b.c -- LAZY
case_ eh-cross clang++-22 "$PIC" "" eh_cross_a.cpp eh_cross_b.cpp
case_ ctor-prio-one clang-22 "$PIC -fregister-global-dtors-with-atexit" "" ctor_prio_one.c
case_ exit-deep clang-22 "$PIC -fregister-global-dtors-with-atexit" "" exit_deep.c

# dlopen of a JITDylib: dl_main.o in the main JITDylib, dl_lib.o in one
# named like the library dl_main opens; dlopen & co. are aliased to the
# platform's JIT'd versions (as in scripts/test-platform.sh). Natively
# dl_lib is a shared library found through LD_LIBRARY_PATH.
if want dlopen-jd; then
  dir=$W/dlopen-jd
  mkdir -p "$dir"
  dtors=-fregister-global-dtors-with-atexit
  if clang-22 --target=aarch64-linux-gnu -c -fPIC "$SRC/dl_main.c" -o "$dir/dl_main.o" 2>>"$dir/cc.err" &&
     clang-22 --target=aarch64-linux-gnu -c -fPIC $dtors "$SRC/dl_lib.c" -o "$dir/dl_lib.o" 2>>"$dir/cc.err" &&
     aarch64-linux-gnu-gcc "$dir/dl_main.o" -o "$dir/native" -ldl 2>>"$dir/cc.err" &&
     aarch64-linux-gnu-gcc -shared "$dir/dl_lib.o" -o "$dir/libplatformdl.so" 2>>"$dir/cc.err"; then
    (cd "$dir" && capture "$dir/native.out" "$dir/native.rc" \
      env LD_LIBRARY_PATH="$dir" qemu-aarch64 -L "$cross_sysroot" "$dir/native")
    dl_args=(-alias Platform:dlopen=__orc_rt_jit_dlopen
             -alias Platform:dlsym=__orc_rt_jit_dlsym
             -alias Platform:dlclose=__orc_rt_jit_dlclose
             -alias Platform:dlerror=__orc_rt_jit_dlerror
             "$dir/dl_main.o" -jd libplatformdl.so "$dir/dl_lib.o")
    jit "$dir" ours "$WRAPPER" "$ARCHIVE" "${dl_args[@]}"
    jit "$dir" ref "$W/reference.sh" "$cross_orcrt" "${dl_args[@]}"
    report dlopen-jd "$dir"
  else
    fail dlopen-jd "does not build: $(head -c 300 "$dir/cc.err")"
  fi
fi

# clang-repl for aarch64: the 50 statements of tests/platform/repl-50.txt
# (constructors and destructors, thread_local, EH, std:: containers) must
# print repl-50.expected, as on x86-64 (there is no native run of a REPL;
# blank prompt lines are dropped).
repl_session() { # repl_session <dir> <ours|ref> <executor-wrapper> <runtime>
  local dir=$1 who=$2
  CAPTURE_IN=$SRC/repl-50.txt capture "$dir/$who.raw" "$dir/$who.rc" \
    clang-repl-22 --oop-executor="$3" --orc-runtime="$4" -Xcc=--target=aarch64-linux-gnu
  mv "$dir/$who.raw.err" "$dir/$who.out.err"
  grep -v '^$' "$dir/$who.raw" >"$dir/$who.out"
}
if ! want clang-repl; then
  :
elif command -v clang-repl-22 >/dev/null 2>&1; then
  mkdir -p "$W/clang-repl"
  cp "$SRC/repl-50.expected" "$W/clang-repl/native.out"
  echo 0 >"$W/clang-repl/native.rc"
  repl_session "$W/clang-repl" ours "$WRAPPER" "$ARCHIVE"
  repl_session "$W/clang-repl" ref "$W/reference.sh" "$cross_orcrt"
  report clang-repl "$W/clang-repl"
else
  skip clang-repl "clang-repl-22 not installed"
fi

# The archive's symbols: the AArch64 entry points are there, and none of
# the names the controller defines itself (its aliases' sources,
# __dso_handle) is, or it would clash with them.
if want archive-symbols; then
  defined=$(aarch64-linux-gnu-nm --defined-only "$ARCHIVE" 2>&1 | awk 'NF == 3 {print $3}')
  missing=() clash=()
  for n in ___orc_rt_elfnix_tlsdesc_resolver __orc_rt_sysv_reenter __orc_rt_resolve_tag \
           __orc_rt_elfnix_platform_bootstrap __orc_rt_elfnix_push_initializers_tag \
           __orc_rt_elfnix_symbol_lookup_tag __orc_rt_elfnix_cxa_atexit; do
    grep -qx -- "$n" <<<"$defined" || missing+=("$n")
  done
  for n in atexit __cxa_atexit __dso_handle __orc_rt_reenter __orc_rt_run_program \
           __orc_rt_jit_dlopen __orc_rt_log_error __orc_rt_jit_dispatch; do
    grep -qx -- "$n" <<<"$defined" && clash+=("$n")
  done
  if [ ${#missing[@]} -gt 0 ] || [ ${#clash[@]} -gt 0 ]; then
    fail archive-symbols "missing: ${missing[*]:-none}; defined but the controller's: ${clash[*]:-none}"
  else
    pass archive-symbols "$(wc -l <<<"$defined") symbols defined"
  fi
fi

# The archive with LLVM's arm64 executor: its stubs call __orc_rt_rs_*
# functions that only orc-rt's executor has, so the link must fail
# cleanly ("Symbols not found"), never run half a runtime or crash.
if want archive-other-executor; then
  dir=$W/archive-other-executor
  mkdir -p "$dir"
  if clang-22 --target=aarch64-linux-gnu -c -fPIC "$SRC/hello_exit.c" -o "$dir/hello.o" 2>"$dir/cc.err"; then
    jit "$dir" other "$W/reference.sh" "$ARCHIVE" "$dir/hello.o"
    rc=$(cat "$dir/other.rc")
    if [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] && grep -q "Symbols not found" "$dir/other.out.err" &&
       ! grep -qi "core dumped\|stack dump\|segmentation\|abort" "$dir/other.out.err"; then
      pass archive-other-executor "exit $rc, $(grep -m1 -o 'Symbols not found.\{0,50\}' "$dir/other.out.err")"
    else
      fail archive-other-executor "exit $rc; expected a clean failure with 'Symbols not found'"
      sed 's/^/  ! /' "$dir/other.out.err" | head -10
    fi
  else
    fail archive-other-executor "hello_exit.c does not compile: $(head -c 300 "$dir/cc.err")"
  fi
fi

orc_rt_summary cross-platform-cases
exit $?
