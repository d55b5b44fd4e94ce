#!/usr/bin/env bash
# The safe Rust embedding API, driven the way a Rust host uses it:
#   1. examples/rust_host.rs has no `unsafe` (it also says
#      #![forbid(unsafe_code)], so the compiler enforces it);
#   2. its in-process demo runs and prints the expected results (closures
#      as wrapper functions, SPS calls, replies from another thread, a
#      controller call through a tag, Services told of detach/shutdown);
#   3. it is a working executor: llvm-jitlink-22 runs examples/hello.c in
#      it (exit code 42, "hello, world").
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ORC_RT_ROOT"

if grep -nE '\bunsafe\b' examples/rust_host.rs | grep -v 'forbid(unsafe_code)' | grep -v '^[0-9]*: *//'; then
  echo "examples/rust_host.rs must not use unsafe" >&2
  exit 1
fi
grep -q '#!\[forbid(unsafe_code)\]' examples/rust_host.rs

orc_rt_cargo_build --example rust_host
host="$ORC_RT_TARGET_DIR/debug/examples/rust_host"
out="$(timeout 60 "$host")"
echo "$out"
for want in \
  'reverse("stressed") = "desserts"' \
  'add(40, 2) = 42' \
  'greeter("orc-rt") = "hello, orc-rt"' \
  'slow_square, asynchronously: [(1, 1), (2, 4), (3, 9), (4, 16)]' \
  'service: controller detached (shutdown requested: false)' \
  'a call after detach: in-process controller: the session is detached or shut down' \
  'service: shutting down after 1 counted calls' \
  'shut down: true'; do
  if ! grep -qxF "$want" <<<"$out"; then
    echo "rust_host: missing output line: $want" >&2
    exit 1
  fi
done

orc_rt_require llvm-jitlink-22 clang-22 -- "rust_host as an executor"
obj="$(mktemp -d)/hello.o"
trap 'rm -rf "$(dirname "$obj")"' EXIT
clang-22 -c examples/hello.c -o "$obj"
log="$(dirname "$obj")/out.txt"
set +e
# Through a pipe: the executor's stdout is complete when the pipe closes.
timeout 60 llvm-jitlink-22 -oop-executor="$host" "$obj" 2>&1 | cat >"$log"
rc=${PIPESTATUS[0]}
set -e
got="$(cat "$log")"
echo "$got"
if [ "$rc" -ne 42 ] || ! grep -qxF 'hello, world' <<<"$got"; then
  echo "rust_host as executor: expected 'hello, world' and exit 42, got exit $rc" >&2
  exit 1
fi
echo "rust_host: in-process demo and executor run OK"
