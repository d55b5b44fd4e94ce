# shellcheck shell=bash
# Helpers shared by the scripts/test-*.sh suites. A suite sources it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# Sourcing it sets
#   ORC_RT_ROOT        the repository (absolute path)
#   ORC_RT_TARGET_DIR  cargo's target directory: $CARGO_TARGET_DIR, default
#                      $ORC_RT_ROOT/target
# and defines the functions below. It changes no shell option and does not
# change directory.
#
# The executor under test
#   orc_rt_executor [release]   sets ORC_RT_EXE to the executor to test:
#                               $ORC_RT_EXECUTOR when set (nothing is built),
#                               else the debug (or release) build of this
#                               tree, built first with cargo. A failed build
#                               prints its log and "FAIL: cargo build" and
#                               exits 1.
#   orc_rt_cargo_build ARGS...  `cargo build --quiet ARGS...` in the
#                               repository; on failure the same as above.
#
# LLVM 22
#   orc_rt_require TOOL... [-- WHAT]
#                               every TOOL on PATH, or print "SKIP: TOOL not
#                               found (LLVM 22 is not installed); WHAT not
#                               run" and exit 0 (the suite is skipped, and
#                               says so).
#   orc_rt_reference_executor   prints the path of llvm-jitlink-executor-22.
#   orc_rt_compiler_rt          prints the path of compiler-rt's ORC runtime
#                               (liborc_rt-x86_64.a) for clang-22, or nothing
#                               if it is not installed.
#
# Case filters
#   orc_rt_want NAME [FILTER...]
#                               true when no FILTER is given or one of them
#                               is a substring of NAME (a suite's arguments
#                               select its cases).
#
# TCP (listen= executors)
#   orc_rt_free_port            prints a free TCP port of 127.0.0.1.
#   orc_rt_wait_listening PORT  waits up to 10 s until a socket listens on
#                               127.0.0.1:PORT (or 0.0.0.0:PORT), without
#                               connecting: an executor accepts only one
#                               connection. Returns 1 if none did.
#   orc_rt_tcp_run PREFIX OBJ EXECUTOR [ARGS...]
#                               starts `EXECUTOR ARGS... listen=127.0.0.1:P`
#                               and runs `llvm-jitlink-22
#                               -oop-executor-connect=` on OBJ, bounded to
#                               10 s (LLVM 22.1.8's controller may hang
#                               after a TCP session); gives the executor 5 s
#                               to exit, then stops it. Writes PREFIX.out
#                               and PREFIX.err (the executor's, so the JIT'd
#                               program's), PREFIX.jl.out, PREFIX.jl.err,
#                               PREFIX.jlrc (llvm-jitlink's status) and
#                               PREFIX.status (the executor's).
#
# Results
#   pass NAME [NOTE]            prints "PASS: NAME (NOTE)" and counts it.
#   fail NAME [NOTE]            prints "FAIL: NAME (NOTE)", counts it and
#                               remembers NAME for the summary.
#   skip NAME [REASON]          prints "SKIP: NAME (REASON)" and counts it.
#   orc_rt_summary [PREFIX]     prints "[PREFIX: ]N passed, M failed" (plus
#                               ", K skipped" when some were), then the
#                               failed names; returns 1 if any failed. End a
#                               suite with `orc_rt_summary; exit $?` or as
#                               its last command under `set -e`.
#   The tallies are ORC_RT_PASSED, ORC_RT_FAILED, ORC_RT_SKIPPED and the
#   array ORC_RT_FAILED_NAMES.

ORC_RT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ORC_RT_TARGET_DIR=${CARGO_TARGET_DIR:-$ORC_RT_ROOT/target}

orc_rt_cargo_build() {
  local log
  log=$(mktemp)
  echo "== cargo build $*"
  if ! (cd "$ORC_RT_ROOT" && cargo build --quiet "$@") >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    echo "FAIL: cargo build $*"
    exit 1
  fi
  rm -f "$log"
}

orc_rt_executor() {
  local profile=${1:-debug}
  if [ -n "${ORC_RT_EXECUTOR:-}" ]; then
    ORC_RT_EXE=$ORC_RT_EXECUTOR
  else
    case "$profile" in
      debug) orc_rt_cargo_build --bin orc-rt-executor ;;
      release) orc_rt_cargo_build --release --bin orc-rt-executor ;;
      *)
        echo "orc_rt_executor: unknown profile '$profile'" >&2
        exit 2
        ;;
    esac
    ORC_RT_EXE=$ORC_RT_TARGET_DIR/$profile/orc-rt-executor
  fi
  if [ ! -x "$ORC_RT_EXE" ]; then
    echo "FAIL: executor $ORC_RT_EXE not found"
    exit 1
  fi
}

orc_rt_require() {
  local tools=() what="the tests" t
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then
      what=$2
      break
    fi
    tools+=("$1")
    shift
  done
  for t in "${tools[@]}"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      echo "SKIP: $t not found (LLVM 22 is not installed); $what not run"
      exit 0
    fi
  done
}

orc_rt_reference_executor() {
  command -v llvm-jitlink-executor-22 || echo "$(llvm-config-22 --bindir)/llvm-jitlink-executor"
}

orc_rt_compiler_rt() {
  local rt
  rt=$(clang-22 -print-resource-dir 2>/dev/null)/lib/linux/liborc_rt-x86_64.a
  if [ -f "$rt" ]; then echo "$rt"; fi
}

orc_rt_want() {
  local name=$1 f
  shift
  [ $# -eq 0 ] && return 0
  for f in "$@"; do
    case "$name" in *"$f"*) return 0 ;; esac
  done
  return 1
}

orc_rt_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

orc_rt_wait_listening() {
  local hex i
  hex=$(printf '%04X' "$1")
  for i in $(seq 200); do
    grep -Eq "^ *[0-9]+: (0100007F|00000000):$hex 00000000:0000 0A" /proc/net/tcp 2>/dev/null &&
      return 0
    sleep 0.05
  done
  return 1
}

orc_rt_tcp_run() {
  local prefix=$1 obj=$2 port pid waited=0 rc=0
  shift 2
  port=$(orc_rt_free_port)
  "$@" listen=127.0.0.1:"$port" >"$prefix.out" 2>"$prefix.err" </dev/null &
  pid=$!
  orc_rt_wait_listening "$port" || echo "executor did not listen on $port" >>"$prefix.err"
  timeout 10 llvm-jitlink-22 -oop-executor-connect=127.0.0.1:"$port" "$obj" \
    >"$prefix.jl.out" 2>"$prefix.jl.err" </dev/null || rc=$?
  echo "$rc" >"$prefix.jlrc"
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt 50 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill "$pid" 2>/dev/null || true
  rc=0
  wait "$pid" || rc=$?
  echo "$rc" >"$prefix.status"
}

ORC_RT_PASSED=0
ORC_RT_FAILED=0
ORC_RT_SKIPPED=0
ORC_RT_FAILED_NAMES=()

pass() {
  echo "PASS: $1${2:+ ($2)}"
  ORC_RT_PASSED=$((ORC_RT_PASSED + 1))
}
fail() {
  echo "FAIL: $1${2:+ ($2)}"
  ORC_RT_FAILED=$((ORC_RT_FAILED + 1))
  ORC_RT_FAILED_NAMES+=("$1")
}
skip() {
  echo "SKIP: $1${2:+ ($2)}"
  ORC_RT_SKIPPED=$((ORC_RT_SKIPPED + 1))
}

orc_rt_summary() {
  local line="$ORC_RT_PASSED passed, $ORC_RT_FAILED failed"
  if [ "$ORC_RT_SKIPPED" -gt 0 ]; then line+=", $ORC_RT_SKIPPED skipped"; fi
  echo "${1:+$1: }$line"
  if [ "$ORC_RT_FAILED" -gt 0 ]; then
    echo "failed: ${ORC_RT_FAILED_NAMES[*]}"
    return 1
  fi
  return 0
}
