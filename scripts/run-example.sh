#!/usr/bin/env bash
# Builds liborc_rt.so and the C example examples/buffer_demo.c against it,
# then runs the example.
#
# Usage: scripts/run-example.sh
# Environment: PROFILE=debug|release (default debug), CC (default cc).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

profile="${PROFILE:-debug}"
case "$profile" in
  debug) cargo build --lib ;;
  release) cargo build --lib --release ;;
  *) echo "run-example.sh: unknown PROFILE '$profile'" >&2; exit 2 ;;
esac
lib_dir="${CARGO_TARGET_DIR:-$repo/target}/$profile"
out="$repo/build/examples"
mkdir -p "$out/lib"
# The library's SONAME is liborc_rt.so.0: give the loader that name.
ln -sfn "$lib_dir/liborc_rt.so" "$out/lib/liborc_rt.so.0"
"${CC:-cc}" -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude \
  examples/buffer_demo.c -L"$lib_dir" -lorc_rt -Wl,-rpath,"$out/lib" \
  -o "$out/buffer_demo"
"$out/buffer_demo"
