#!/usr/bin/env bash
# Installs orc-rt into a temporary prefix with scripts/install.sh and checks
# a downstream program can use it:
#   1. the installed tree has the expected files and symlinks (headers,
#      upstream's orc-rt-c/ include paths, share/orc-rt/orc-rt.supp), and the
#      installed executor's --platform-archive names the installed archive;
#   1b. the installed libraries carry no debug info (liborc_rt.so is much
#      smaller than the build's, still exports exactly the orc_rt_*
#      functions), and its split debug file is found through .gnu_debuglink;
#   2. ctests/consumer builds with find_package(OrcRT) (shared and static)
#      and runs, the shared one finding liborc_rt.so.0 through its RPATH;
#   3. ctests/consumer/main.c builds with `pkg-config --cflags --libs orc-rt`
#      and runs without LD_LIBRARY_PATH (the .pc file's rpath);
#      Each upstream include path (orc-rt-c/...) compiles with its Cflags;
#   3b. `pkg-config --static --libs orc-rt` names no libgcc_s, and main.c
#      links and runs with liborc_rt.a both in a dynamic program and with
#      `cc -static`;
#   2b. the find_package consumer (which starts a Session) runs clean under
#      valgrind, "possibly lost" counted as an error, with the installed
#      share/orc-rt/orc-rt.supp (SKIP line if valgrind is missing);
#   4. the installed CMake package still works after moving the prefix.
# Nothing runs with LD_LIBRARY_PATH: the installed prefix is never on it.
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
profile="${PROFILE:-debug}"
built_so="${CARGO_TARGET_DIR:-$repo/target}/$profile/liborc_rt.so"
unset LD_LIBRARY_PATH
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
say() { echo "check-install: $*"; }

PROFILE="$profile" DEBUGINFO=split scripts/install.sh "$prefix"

# 1. Layout.
version=$(sed -n 's/^Version: *//p' "$prefix/lib/pkgconfig/orc-rt.pc")
for f in "lib/liborc_rt.so.$version" lib/liborc_rt.a include/orc-rt.h \
         lib/cmake/OrcRT/OrcRTConfig.cmake lib/cmake/OrcRT/OrcRTConfigVersion.cmake \
         lib/pkgconfig/orc-rt.pc share/orc-rt/orc-rt.supp; do
  [ -f "$prefix/$f" ] || fail "missing $prefix/$f"
done
cmp -s tests/valgrind/orc-rt.supp "$prefix/share/orc-rt/orc-rt.supp" ||
  fail "installed share/orc-rt/orc-rt.supp differs from tests/valgrind/orc-rt.supp"
[ "$(readlink "$prefix/lib/liborc_rt.so.0")" = "liborc_rt.so.$version" ] ||
  fail "lib/liborc_rt.so.0 does not point at liborc_rt.so.$version"
[ "$(readlink "$prefix/lib/liborc_rt.so")" = "liborc_rt.so.0" ] ||
  fail "lib/liborc_rt.so does not point at liborc_rt.so.0"
cmp -s include/orc-rt.h "$prefix/include/orc-rt.h" || fail "installed header differs"
upstream_headers=$(cd include && find orc-rt-c -name '*.h' | LC_ALL=C sort)
[ -n "$upstream_headers" ] || fail "no include/orc-rt-c headers in the source tree"
for h in $upstream_headers; do
  cmp -s "include/$h" "$prefix/include/$h" || fail "installed include/$h missing or differs"
done
grep -q "^prefix=$prefix\$" "$prefix/lib/pkgconfig/orc-rt.pc" ||
  fail "orc-rt.pc does not name the prefix $prefix"
# The executor finds its platform archive in the installed tree.
[ -x "$prefix/bin/orc-rt-executor" ] || fail "missing $prefix/bin/orc-rt-executor"
# The archive is named for the executor's target (its --version says it).
arch=$("$prefix/bin/orc-rt-executor" --version | sed -n 's/^target: \([^-]*\)-.*/\1/p')
[ -n "$arch" ] || fail "orc-rt-executor --version names no target"
archive_name="liborc_rt_elfnix-$arch.a"
[ "$("$prefix/bin/orc-rt-executor" --platform-archive)" = \
  "$(cd "$prefix/lib/orc-rt" && pwd -P)/$archive_name" ] ||
  fail "orc-rt-executor --platform-archive does not name $prefix/lib/orc-rt/$archive_name"
say "layout OK (orc-rt $version)"

# 1b. Stripped libraries, split debug info.
so="$prefix/lib/liborc_rt.so.$version"
dbg="$prefix/lib/.debug/liborc_rt.so.$version.debug"
has_section() { readelf -S -W "$1" | grep -qF " $2 "; }
if has_section "$so" .debug_info; then fail "installed $so has a .debug_info section"; fi
if has_section "$so" .symtab; then fail "installed $so still has a static symbol table"; fi
if readelf -S -W "$prefix/lib/liborc_rt.a" | grep -q ' \.debug_info '; then
  fail "installed liborc_rt.a has .debug_info sections"
fi
installed_size=$(stat -c %s "$so")
built_size=$(stat -c %s "$built_so")
if has_section "$built_so" .debug_info; then
  # The debug info is most of the build's size (debug: ~18 MB -> ~2.5 MB).
  [ $((installed_size * 3)) -lt "$built_size" ] ||
    fail "installed $so is $installed_size bytes, the build's $built_size: not stripped?"
fi
[ -f "$dbg" ] || fail "missing the debug file $dbg"
has_section "$dbg" .debug_info || fail "$dbg has no .debug_info"
[ "$(readelf --string-dump=.gnu_debuglink "$so" | sed -n 's/^ *\[ *0\] *//p')" = \
  "liborc_rt.so.$version.debug" ] || fail "$so has no .gnu_debuglink to liborc_rt.so.$version.debug"
scripts/check-exports.sh "$so"
say "stripped OK: liborc_rt.so $installed_size bytes (build: $built_size), liborc_rt.a $(stat -c %s "$prefix/lib/liborc_rt.a") bytes (build: $(stat -c %s "${built_so%.so}.a"))"

# 2. find_package(OrcRT).
needs() { readelf -d "$1" | grep -q "NEEDED.*\[$2"; }
cmake -S ctests/consumer -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Debug >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "cmake configure of the consumer"; }
cmake --build "$tmp/build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "consumer build"; }
needs "$tmp/build/consumer" 'liborc_rt.so.0\]' || fail "consumer does not depend on liborc_rt.so.0"
"$tmp/build/consumer" || fail "find_package consumer (shared) failed"
[ -x "$tmp/build/consumer_static" ] || fail "OrcRT::orc_rt_static consumer not built"
if needs "$tmp/build/consumer_static" liborc_rt; then
  fail "consumer_static depends on liborc_rt.so"
fi
if needs "$tmp/build/consumer_static" libgcc_s; then
  fail "consumer_static depends on libgcc_s (OrcRT::orc_rt_static should bring the static unwinder)"
fi
"$tmp/build/consumer_static" || fail "find_package consumer (static) failed"
say "find_package(OrcRT) consumer OK (shared and static)"

# 2b. valgrind with the installed suppressions: the Rust runtime's
# per-thread record must not count as a "possibly lost" error.
if command -v valgrind >/dev/null; then
  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
    --suppressions="$prefix/share/orc-rt/orc-rt.supp" "$tmp/build/consumer" \
    >"$tmp/valgrind.log" 2>&1 ||
    { cat "$tmp/valgrind.log"; fail "consumer under valgrind with share/orc-rt/orc-rt.supp"; }
  say "valgrind with share/orc-rt/orc-rt.supp OK (no definite or possible leak)"
else
  say "SKIP: valgrind not found, the installed suppression file is not exercised"
fi

# 3. pkg-config, shared: the rpath in Libs finds the library.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion orc-rt)" = "$version" ] || fail "pkg-config --modversion"
cflags=(-std=c99 -Wall -Wextra -Werror -pedantic)
# shellcheck disable=SC2046
cc "${cflags[@]}" ctests/consumer/main.c $(pkg-config --cflags --libs orc-rt) \
  -o "$tmp/consumer_pc" || fail "pkg-config build"
needs "$tmp/consumer_pc" 'liborc_rt.so.0\]' || fail "consumer_pc does not depend on liborc_rt.so.0"
readelf -d "$tmp/consumer_pc" | grep -E '\((RUNPATH|RPATH)\)' | grep -qF "[$prefix/lib]" ||
  fail "consumer_pc has no RUNPATH $prefix/lib"
"$tmp/consumer_pc" || fail "pkg-config consumer failed without LD_LIBRARY_PATH"
say "pkg-config consumer OK (found liborc_rt.so.0 through its RUNPATH)"
# Upstream's include paths, each alone, found through pkg-config's Cflags.
for h in $upstream_headers; do
  # shellcheck disable=SC2046
  echo "#include <$h>" | cc "${cflags[@]}" -fsyntax-only $(pkg-config --cflags orc-rt) -x c - ||
    fail "#include <$h> with pkg-config --cflags orc-rt"
done
say "upstream include paths OK: ${upstream_headers//$'\n'/ }"

# 3b. pkg-config, static.
static_libs=$(pkg-config --static --libs orc-rt)
case " $static_libs " in
  *gcc_s*) fail "pkg-config --static --libs orc-rt names libgcc_s: $static_libs" ;;
esac
# liborc_rt.a in an otherwise dynamic program (the README's command).
# shellcheck disable=SC2046
cc "${cflags[@]}" ctests/consumer/main.c $(pkg-config --cflags orc-rt) \
  "$(pkg-config --variable=libdir orc-rt)/liborc_rt.a" \
  $(pkg-config --static --libs-only-l orc-rt | sed 's/-lorc_rt//') \
  -o "$tmp/consumer_pc_a" || fail "build with liborc_rt.a and the Libs.private libraries"
if needs "$tmp/consumer_pc_a" liborc_rt; then fail "consumer_pc_a depends on liborc_rt.so"; fi
if needs "$tmp/consumer_pc_a" libgcc_s; then fail "consumer_pc_a depends on libgcc_s"; fi
"$tmp/consumer_pc_a" || fail "consumer linked with liborc_rt.a failed"
# Fully static. glibc warns that getaddrinfo, dlopen... need its shared
# libraries at run time; that is expected, the link must still succeed.
# shellcheck disable=SC2046
cc -static "${cflags[@]}" ctests/consumer/main.c $(pkg-config --static --cflags --libs orc-rt) \
  -o "$tmp/consumer_pc_static" 2>"$tmp/static.log" ||
  { cat "$tmp/static.log"; fail "cc -static with pkg-config --static"; }
if readelf -d "$tmp/consumer_pc_static" | grep -q NEEDED; then
  fail "consumer_pc_static is not fully static"
fi
"$tmp/consumer_pc_static" || fail "fully static consumer failed"
say "pkg-config --static OK ($static_libs): liborc_rt.a in a dynamic program and with cc -static"

# 4. Relocation: the CMake package finds its files relative to itself.
mv "$prefix" "$tmp/moved"
cmake -S ctests/consumer -B "$tmp/build2" -DCMAKE_PREFIX_PATH="$tmp/moved" >"$tmp/cmake2.log" 2>&1 ||
  { cat "$tmp/cmake2.log"; fail "configure against the moved prefix"; }
cmake --build "$tmp/build2" --target consumer >"$tmp/build2.log" 2>&1 ||
  { cat "$tmp/build2.log"; fail "build against the moved prefix"; }
"$tmp/build2/consumer" || fail "consumer against the moved prefix failed"
say "relocated prefix OK"
say "all install checks passed"
