#!/usr/bin/env bash
# The main job: JIT-run a C program out of process with LLVM 22's
# llvm-jitlink, using orc-rt-executor (this project) as the executor.
#
#   1. installs missing system packages (scripts/deps.sh: LLVM 22, clang...),
#   2. builds the crate (debug profile),
#   3. compiles examples/hello.c to an object file with clang-22,
#   4. runs llvm-jitlink-22 -oop-executor=target/debug/orc-rt-executor hello.o
#      and shows the program's output and its exit code (42 expected).
#
# Usage: scripts/run-example.sh [program.c]   (default examples/hello.c)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

if [ -x scripts/deps.sh ]; then
  scripts/deps.sh
fi
cargo build
src="${1:-examples/hello.c}"
out="$repo/build/examples"
mkdir -p "$out"
obj="$out/$(basename "${src%.*}").o"
clang-22 -c "$src" -o "$obj"

executor="$repo/target/debug/orc-rt-executor"
echo "\$ llvm-jitlink-22 -oop-executor=$executor $obj"
# The executor flushes the program's stdout when it exits, which can be
# just after llvm-jitlink returns: read through a pipe so the output is
# complete before the exit code is shown.
set +e
llvm-jitlink-22 -oop-executor="$executor" "$obj" 2>&1 | cat
rc=${PIPESTATUS[0]}
set -e
echo "exit code: $rc"
if [ "$src" = examples/hello.c ] && [ "$rc" -ne 42 ]; then
  echo "run-example.sh: expected exit code 42 from examples/hello.c" >&2
  exit 1
fi
