#!/usr/bin/env bash
# Installs orc-rt into a temporary prefix with scripts/install.sh and checks
# a downstream program can use it:
#   1. the installed tree has the expected files and symlinks;
#   2. ctests/consumer builds with find_package(OrcRT) (shared and static)
#      and runs, the shared one finding liborc_rt.so.0 through its RPATH;
#   3. ctests/consumer/main.c builds with `pkg-config --cflags --libs orc-rt`
#      and runs with LD_LIBRARY_PATH;
#   4. the installed CMake package still works after moving the prefix.
#
# Usage: ctests/consumer/check-install.sh
# Environment: PROFILE (default debug), SKIP_BUILD=1, KEEP_TMP=1.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/orc-rt-install.XXXXXX")"
if [ "${KEEP_TMP:-0}" != 1 ]; then
  trap 'rm -rf "$tmp"' EXIT
fi
prefix="$tmp/prefix"
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
say() { echo "check-install: $*"; }

PROFILE="${PROFILE:-debug}" scripts/install.sh "$prefix"

# 1. Layout.
version=$(sed -n 's/^Version: *//p' "$prefix/lib/pkgconfig/orc-rt.pc")
for f in "lib/liborc_rt.so.$version" lib/liborc_rt.a include/orc-rt.h \
         lib/cmake/OrcRT/OrcRTConfig.cmake lib/cmake/OrcRT/OrcRTConfigVersion.cmake \
         lib/pkgconfig/orc-rt.pc; do
  [ -f "$prefix/$f" ] || fail "missing $prefix/$f"
done
[ "$(readlink "$prefix/lib/liborc_rt.so.0")" = "liborc_rt.so.$version" ] ||
  fail "lib/liborc_rt.so.0 does not point at liborc_rt.so.$version"
[ "$(readlink "$prefix/lib/liborc_rt.so")" = "liborc_rt.so.0" ] ||
  fail "lib/liborc_rt.so does not point at liborc_rt.so.0"
cmp -s include/orc-rt.h "$prefix/include/orc-rt.h" || fail "installed header differs"
grep -q "^prefix=$prefix\$" "$prefix/lib/pkgconfig/orc-rt.pc" ||
  fail "orc-rt.pc does not name the prefix $prefix"
scripts/check-exports.sh "$prefix/lib/liborc_rt.so.$version"
say "layout OK (orc-rt $version)"

# 2. find_package(OrcRT).
cmake -S ctests/consumer -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Debug >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "cmake configure of the consumer"; }
cmake --build "$tmp/build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "consumer build"; }
readelf -d "$tmp/build/consumer" | grep -q 'NEEDED.*\[liborc_rt.so.0\]' ||
  fail "consumer does not depend on liborc_rt.so.0"
"$tmp/build/consumer" || fail "find_package consumer (shared) failed"
[ -x "$tmp/build/consumer_static" ] || fail "OrcRT::orc_rt_static consumer not built"
if readelf -d "$tmp/build/consumer_static" | grep -q 'NEEDED.*liborc_rt'; then
  fail "consumer_static depends on liborc_rt.so"
fi
"$tmp/build/consumer_static" || fail "find_package consumer (static) failed"
say "find_package(OrcRT) consumer OK (shared and static)"

# 3. pkg-config.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion orc-rt)" = "$version" ] || fail "pkg-config --modversion"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -pedantic ctests/consumer/main.c \
  $(pkg-config --cflags --libs orc-rt) -o "$tmp/consumer_pc" || fail "pkg-config build"
LD_LIBRARY_PATH="$prefix/lib" "$tmp/consumer_pc" || fail "pkg-config consumer failed"
say "pkg-config consumer OK"

# 4. Relocation: the CMake package finds its files relative to itself.
mv "$prefix" "$tmp/moved"
cmake -S ctests/consumer -B "$tmp/build2" -DCMAKE_PREFIX_PATH="$tmp/moved" >"$tmp/cmake2.log" 2>&1 ||
  { cat "$tmp/cmake2.log"; fail "configure against the moved prefix"; }
cmake --build "$tmp/build2" --target consumer >"$tmp/build2.log" 2>&1 ||
  { cat "$tmp/build2.log"; fail "build against the moved prefix"; }
"$tmp/build2/consumer" || fail "consumer against the moved prefix failed"
say "relocated prefix OK"
say "all install checks passed"
