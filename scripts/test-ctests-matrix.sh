#!/usr/bin/env bash
# The C tests (ctests/) with other compilers and build types than the main
# test command's ctests step, which builds them with the default compiler
# (gcc) in CMake's default build type, with the valgrind and ASan variants.
# Here, each in its own build directory under build/:
#
#   gcc   Release   build/ctests-gcc-release
#   clang Debug     build/ctests-clang-debug
#   clang Release   build/ctests-clang-release
#
# Release builds optimize (-O3), which turns on warnings that -O0 cannot
# see (gcc's -Wuse-after-free, for one); the strict flags make them errors.
# The ASan variants are built and run too (they are quick); the valgrind
# ones are not (slow, and the main step runs them). All use the library
# in ${CARGO_TARGET_DIR:-target}/debug, built first if it is missing.
#
# Usage: scripts/test-ctests-matrix.sh
# Environment: JOBS (default nproc), CARGO_TARGET_DIR, CC_GCC (default gcc),
# CC_CLANG (default clang-22).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
gcc_c="${CC_GCC:-gcc}"
clang_c="${CC_CLANG:-clang-22}"

if [ ! -f "$target_dir/debug/liborc_rt.so" ] || [ ! -x "$target_dir/debug/orc-rt-executor" ]; then
  cargo build
fi

# cxx_of C_COMPILER: the C++ compiler of the same family.
cxx_of() {
  case "$1" in
    *clang*) echo "${1/clang/clang++}" ;;
    *gcc*) echo "${1/gcc/g++}" ;;
    *) echo c++ ;;
  esac
}

ran=()
skipped=()
# variant NAME C_COMPILER BUILD_TYPE
variant() {
  local name="$1" cc="$2" type="$3" cxx dir
  cxx="$(cxx_of "$cc")"
  for c in "$cc" "$cxx"; do
    if ! command -v "$c" >/dev/null; then
      echo "SKIP: ctests $name: $c not found"
      skipped+=("$name ($c not found)")
      return 0
    fi
  done
  dir="$repo/build/ctests-$name"
  echo "== ctests $name ($cc, $type) in ${dir#"$repo"/}"
  cmake -S ctests -B "$dir" -DCMAKE_BUILD_TYPE="$type" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DORC_RT_LIB_DIR="$target_dir/debug" -DORC_RT_INCLUDE_DIR="$repo/include" \
    -DORC_RT_CTESTS_VALGRIND=OFF -DORC_RT_CTESTS_ASAN=ON >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; echo "ctests $name: cmake configure failed" >&2; return 1; }
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
  ran+=("$name")
}

mkdir -p build
variant gcc-release "$gcc_c" Release
variant clang-debug "$clang_c" Debug
variant clang-release "$clang_c" Release

echo "ctests matrix: passed: ${ran[*]:-none}; skipped: ${skipped[*]:-none}"
