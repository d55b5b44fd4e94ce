#!/usr/bin/env bash
# Builds orc-rt and installs the C library, header, CMake package and
# pkg-config file under PREFIX:
#
#   PREFIX/lib/liborc_rt.so.X.Y.Z   (+ liborc_rt.so.X and liborc_rt.so symlinks)
#   PREFIX/lib/liborc_rt.a
#   PREFIX/bin/orc-rt-executor      (the executor, a drop-in for llvm-jitlink-executor)
#   PREFIX/lib/orc-rt/liborc_rt_elfnix-<arch>.a   (the ELF platform archive for the
#                                    target built, x86_64 or aarch64, for
#                                    -orc-runtime=; `orc-rt-executor --platform-archive`
#                                    prints its path)
#   PREFIX/include/orc-rt.h
#   PREFIX/include/orc-rt-c/...     (upstream orc-rt's C include paths: thin
#                                    headers that include orc-rt.h)
#   PREFIX/share/orc-rt/orc-rt.supp (valgrind suppressions for programs
#                                    using liborc_rt)
#   PREFIX/lib/cmake/OrcRT/OrcRTConfig.cmake, OrcRTConfigVersion.cmake
#   PREFIX/lib/pkgconfig/orc-rt.pc
#   PREFIX/lib/.debug/liborc_rt.so.X.Y.Z.debug   (DEBUGINFO=split only)
#
# The libraries are installed without debug info: liborc_rt.so is stripped
# of everything but its dynamic symbols (strip --strip-unneeded), the
# archive of its debug sections (strip --strip-debug). By default the
# shared library's debug info is kept as a separate file that the .so names
# in its .gnu_debuglink section; gdb looks for it in the .debug directory
# next to the library, so it is found without any setup.
#
# Usage: scripts/install.sh PREFIX
# Environment:
#   PROFILE=release|debug  cargo profile to build and install (default release)
#   DEBUGINFO=split|strip|keep
#                          split (default): strip, debug info of the .so in
#                          PREFIX/lib/.debug/; strip: strip, no debug file;
#                          keep: install unstripped (for packaging tools that
#                          strip and split themselves)
#   STRIP, OBJCOPY         the binutils to use (default strip, objcopy)
#   SKIP_BUILD=1           install what is already built, do not run cargo
#   DESTDIR=/staging       prepend to every installed path (packaging); the
#                          .pc file still names PREFIX
#   CARGO_TARGET_DIR       honoured as by cargo (default: target; for a
#                          cross build: target/cross)
#   TARGET=aarch64-unknown-linux-gnu
#                          cross-build for an AArch64 Linux board (toolchain
#                          and qemu set up by scripts/cross-deps.sh, run
#                          first); STRIP and OBJCOPY default to the
#                          aarch64-linux-gnu- binutils. Copy PREFIX to the
#                          board; keep lib/orc-rt/liborc_rt_elfnix-aarch64.a
#                          on the host too (the controller links it).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: [PROFILE=release|debug] $0 PREFIX" >&2
  exit 2
fi
repo="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$1"
case "$prefix" in
  /*) ;;
  *) prefix="$(pwd)/$prefix" ;;
esac
profile="${PROFILE:-release}"
cross_target_triple="${TARGET:-}"
run_target=()  # runs a built program (under qemu for a cross build)
case "$cross_target_triple" in
  "") ;;
  aarch64-unknown-linux-gnu)
    # shellcheck source=cross-lib.sh
    . "$repo/scripts/cross-lib.sh"
    cross_env
    run_target=(cross_qemu)
    STRIP="${STRIP:-aarch64-linux-gnu-strip}"
    OBJCOPY="${OBJCOPY:-aarch64-linux-gnu-objcopy}"
    ;;
  *) echo "install.sh: unsupported TARGET '$cross_target_triple' (aarch64-unknown-linux-gnu)" >&2; exit 2 ;;
esac
dest="${DESTDIR:-}${prefix}"
debuginfo="${DEBUGINFO:-split}"
strip_bin="${STRIP:-strip}"
objcopy_bin="${OBJCOPY:-objcopy}"
case "$debuginfo" in
  split|strip|keep) ;;
  *) echo "install.sh: unknown DEBUGINFO '$debuginfo' (split, strip or keep)" >&2; exit 2 ;;
esac
if [ "$debuginfo" != keep ]; then
  for t in "$strip_bin" "$objcopy_bin"; do
    command -v "$t" >/dev/null ||
      { echo "install.sh: $t not found (install binutils, or DEBUGINFO=keep)" >&2; exit 1; }
  done
fi

cd "$repo"
case "$profile" in
  release) cargo_flags=(--release) ;;
  debug|dev) profile=debug; cargo_flags=() ;;
  *) echo "install.sh: unknown PROFILE '$profile' (release or debug)" >&2; exit 2 ;;
esac
[ -z "$cross_target_triple" ] || cargo_flags+=(--target "$cross_target_triple")
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "install.sh: cargo build --lib --bins ${cargo_flags[*]}"
  cargo build --lib --bins ${cargo_flags[@]+"${cargo_flags[@]}"}
fi

target_dir="${CARGO_TARGET_DIR:-$repo/target}"
out="$target_dir/${cross_target_triple:+$cross_target_triple/}$profile"
for f in liborc_rt.so liborc_rt.a orc-rt-executor; do
  [ -f "$out/$f" ] || { echo "install.sh: $out/$f not built" >&2; exit 1; }
done
# The platform archive stays in the build's OUT_DIR; the executor knows where.
archive="$(${run_target[@]+"${run_target[@]}"} "$out/orc-rt-executor" --platform-archive)" ||
  { echo "install.sh: orc-rt-executor --platform-archive found no archive" >&2; exit 1; }

# Version from the [workspace.package] section of Cargo.toml.
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -1)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  { echo "install.sh: cannot read the version from Cargo.toml" >&2; exit 1; }
major="${version%%.*}"
minor="${version#*.}"; minor="${minor%%.*}"

install -d "$dest/lib" "$dest/include" "$dest/lib/cmake/OrcRT" "$dest/lib/pkgconfig" \
  "$dest/bin" "$dest/lib/orc-rt" "$dest/share/orc-rt"
install -m 0755 "$out/orc-rt-executor" "$dest/bin/orc-rt-executor"
# Its name says the target's architecture (liborc_rt_elfnix-<arch>.a).
install -m 0644 "$archive" "$dest/lib/orc-rt/$(basename "$archive")"
so="$dest/lib/liborc_rt.so.$version"
install -m 0755 "$out/liborc_rt.so" "$so"
ln -sfn "liborc_rt.so.$version" "$dest/lib/liborc_rt.so.$major"
ln -sfn "liborc_rt.so.$major" "$dest/lib/liborc_rt.so"
install -m 0644 "$out/liborc_rt.a" "$dest/lib/liborc_rt.a"
# A stale debug file from an earlier split install would no longer match.
rm -f "$dest/lib/.debug/liborc_rt.so.$version.debug"
if [ "$debuginfo" = split ]; then
  install -d "$dest/lib/.debug"
  dbg="$dest/lib/.debug/liborc_rt.so.$version.debug"
  "$objcopy_bin" --only-keep-debug "$so" "$dbg"
  chmod 0644 "$dbg"
fi
if [ "$debuginfo" != keep ]; then
  # --strip-unneeded keeps .dynsym, the exported orc_rt_* functions.
  "$strip_bin" --strip-unneeded "$so"
  # Only the debug sections: the symbol table of each member is needed to link.
  "$strip_bin" --strip-debug "$dest/lib/liborc_rt.a"
  "$strip_bin" --strip-debug "$dest/bin/orc-rt-executor"
fi
if [ "$debuginfo" = split ]; then
  # Records the debug file's name (without directory) and CRC.
  "$objcopy_bin" --add-gnu-debuglink="$dbg" "$so"
fi
install -m 0644 include/orc-rt.h "$dest/include/orc-rt.h"
# Installed file by file (never removing the directory: it is upstream
# orc-rt's too, and a prefix may hold headers of its that we do not ship).
(cd include && find orc-rt-c -name '*.h') | while read -r h; do
  install -D -m 0644 "include/$h" "$dest/include/$h"
done
install -m 0644 tests/valgrind/orc-rt.supp "$dest/share/orc-rt/orc-rt.supp"
install -m 0644 cmake/OrcRTConfig.cmake "$dest/lib/cmake/OrcRT/OrcRTConfig.cmake"
sed -e "s/@ORC_RT_VERSION@/$version/g" \
    -e "s/@ORC_RT_VERSION_MAJOR@/$major/g" \
    -e "s/@ORC_RT_VERSION_MINOR@/$minor/g" \
    cmake/OrcRTConfigVersion.cmake.in > "$dest/lib/cmake/OrcRT/OrcRTConfigVersion.cmake"
# '|' as the sed delimiter: PREFIX contains '/'.
sed -e "s|@PREFIX@|$prefix|g" -e "s|@ORC_RT_VERSION@|$version|g" \
    cmake/orc-rt.pc.in > "$dest/lib/pkgconfig/orc-rt.pc"
chmod 0644 "$dest/lib/cmake/OrcRT/OrcRTConfigVersion.cmake" "$dest/lib/pkgconfig/orc-rt.pc"

echo "install.sh: installed orc-rt $version ($profile, debug info: $debuginfo) into $dest"
