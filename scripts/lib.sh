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
