#!/usr/bin/env bash
# THE test command of orc-rt: runs every suite, fails fast, and ends with a
# line "N passed, M failed" counting the steps below.
#
#   1. deps        scripts/deps.sh (installs missing Debian packages)
#   2. build       cargo build (debug)
#   3. header      include/orc-rt.h matches what the C library's build
#                  generates (scripts/gen-header.sh --check)
#   4. cargo-test  cargo test (unit, integration tests in tests/, doctests)
#   4b. doc        RUSTDOCFLAGS="-D warnings" cargo doc --no-deps (the Rust
#                  API's docs build without a broken link)
#   4c. lint       cargo fmt --check; cargo clippy --workspace --all-targets
#                  -D warnings (the workspace denies undocumented unsafe
#                  blocks and warns on missing docs and Debug impls)
#   5. exports     scripts/check-exports.sh (SONAME, only orc_rt_* exported)
#   6. ctests      CMake + CTest on ctests/ (C99/C++17, dlopen, LLVM 22
#                  layout, valgrind and ASan variants)
#   7. install     ctests/consumer/check-install.sh (install into a temp
#                  prefix, build consumers with find_package and pkg-config)
#   8+. plug-ins   every executable scripts/test-*.sh, in sorted order
#
# Environment:
#   ORC_RT_SKIP_DEPS=1  skip step 1 (no apt-get)
#   ORC_RT_SKIP="a b"   skip the steps with these names (e.g. test-fault);
#                     skipped steps are listed and counted as skipped
#   CARGO_TARGET_DIR  honoured (default: target)
#   JOBS              parallel jobs for CMake/CTest (default: nproc)
#
# Usage: scripts/test.sh
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
build_dir="$repo/build/ctests"

passed=0
failed=0
skipped=0
summary_lines=()
t_start=$(date +%s)

summary() {
  echo
  echo "==== summary ($(($(date +%s) - t_start))s) ===="
  local l
  for l in "${summary_lines[@]}"; do
    echo "  $l"
  done
  if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
  else
    echo "$passed passed, $failed failed"
  fi
}

# step NAME COMMAND...: runs COMMAND with errexit in a subshell; on failure
# prints the summary and exits non-zero at once.
step() {
  local name="$1"
  shift
  local t0 rc skiplist="${ORC_RT_SKIP:-}"
  case " ${skiplist//,/ } " in
    *" $name "*)
      skip "$name" "ORC_RT_SKIP"
      return 0
      ;;
  esac
  t0=$(date +%s)
  echo
  echo "==== [$((passed + failed + skipped + 1))] $name ===="
  set +e
  (
    set -euo pipefail
    "$@"
  )
  rc=$?
  set -e
  local dt=$(($(date +%s) - t0))
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    summary_lines+=("PASS  $name (${dt}s)")
    echo "==== $name: OK (${dt}s)"
  else
    failed=$((failed + 1))
    summary_lines+=("FAIL  $name (${dt}s, exit $rc)")
    echo "==== $name: FAILED (exit $rc after ${dt}s)" >&2
    summary
    exit 1
  fi
}

skip() {
  skipped=$((skipped + 1))
  summary_lines+=("SKIP  $1 ($2)")
  echo
  echo "==== $1: skipped ($2)"
}

run_deps() {
  scripts/deps.sh
  command -v cargo >/dev/null || {
    echo "cargo not found: install a Rust toolchain (rustup) first" >&2
    return 1
  }
}

run_ctests() {
  cmake -S ctests -B "$build_dir" -DORC_RT_LIB_DIR="$target_dir/debug" \
    -DORC_RT_INCLUDE_DIR="$repo/include"
  cmake --build "$build_dir" -j "$jobs"
  cd "$build_dir"
  ctest --output-on-failure -j "$jobs"
}

run_install() {
  PROFILE=debug SKIP_BUILD=1 ctests/consumer/check-install.sh
}

run_lint() {
  cargo fmt --all --check
  cargo clippy --workspace --all-targets -- -D warnings
}

if [ "${ORC_RT_SKIP_DEPS:-0}" = 1 ]; then
  skip deps "ORC_RT_SKIP_DEPS=1"
else
  step deps run_deps
fi
step build cargo build
step header scripts/gen-header.sh --check
step cargo-test cargo test
step doc env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps
step lint run_lint
step exports scripts/check-exports.sh "$target_dir/debug/liborc_rt.so"
step ctests run_ctests
step install run_install

# Plug-in suites from other parts of the project: scripts/test-<name>.sh.
shopt -s nullglob
plugins=(scripts/test-*.sh)
shopt -u nullglob
if [ ${#plugins[@]} -gt 0 ]; then
  mapfile -t plugins < <(printf '%s\n' "${plugins[@]}" | LC_ALL=C sort)
fi
for p in ${plugins[@]+"${plugins[@]}"}; do
  name="$(basename "$p" .sh)"
  if [ -x "$p" ]; then
    step "$name" "$p"
  else
    skip "$name" "$p is not executable"
  fi
done

summary
