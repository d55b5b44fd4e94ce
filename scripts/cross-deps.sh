#!/usr/bin/env bash
# Sets up everything the AArch64 cross build and its qemu tests need, on
# Debian bookworm, without touching the amd64 toolchain:
#
#   - apt packages: gcc/g++-aarch64-linux-gnu, libc6-dev-arm64-cross,
#     qemu-user (installed; they live beside the amd64 ones);
#   - a Rust compiler with an AArch64 standard library: Debian's rustc-web
#     and libstd-rust-web for amd64 and arm64 of one version, downloaded and
#     extracted (rustup cannot fetch targets here), run through a wrapper
#     script that points it at its own shared libraries;
#   - an arm64 sysroot for qemu: libc, libstdc++, libgcc, and LLVM 22's arm64
#     llvm-jitlink-executor and compiler-rt's liborc_rt-aarch64.a, extracted
#     (installing arm64 LLVM packages would replace the amd64 ones).
#
# Idempotent: a second run with everything in place only prints the
# environment. Output: the file $ORC_RT_CROSS_DIR/env, which scripts source:
#
#   ORC_RT_CROSS_RUSTC     the rustc wrapper (use as RUSTC=)
#   ORC_RT_CROSS_SYSROOT   the arm64 sysroot (qemu-aarch64 -L)
#   ORC_RT_CROSS_REF       the reference executor inside the sysroot
#   ORC_RT_CROSS_ORCRT     compiler-rt's liborc_rt-aarch64.a
#
# Usage: scripts/cross-deps.sh        (ORC_RT_CROSS_DIR, default
#                                      $HOME/.cache/orc-rt-cross)
set -euo pipefail

dir=${ORC_RT_CROSS_DIR:-$HOME/.cache/orc-rt-cross}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  sudo=(false)
fi
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp "${TMPDIR:-/tmp}/orc-rt-cross.XXXXXX")"
trap 'rm -f "$log"' EXIT
run() { # run CMD...: quiet unless it fails
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "cross-deps.sh: failed: $*" >&2
    exit 1
  fi
}

# 1. Host packages.
host_pkgs=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
missing=()
for p in "${host_pkgs[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] ||
    missing+=("$p")
done
need_arm64=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arm64=1
if [ ${#missing[@]} -gt 0 ] || [ $need_arm64 -eq 1 ]; then
  echo "cross-deps.sh: installing ${missing[*]:-} (and arm64 package lists)"
  [ $need_arm64 -eq 0 ] || run "${sudo[@]}" dpkg --add-architecture arm64
  run "${sudo[@]}" apt-get update -q
  [ ${#missing[@]} -eq 0 ] ||
    run "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 2. rustc-web for the host with its arm64 standard library, one version.
rust_ver=$(apt-cache policy rustc-web | awk '/Candidate:/ { print $2 }')
[ -n "$rust_ver" ] && [ "$rust_ver" != "(none)" ] || {
  echo "cross-deps.sh: no rustc-web package available" >&2
  exit 1
}
rust_dir=$dir/rust-$rust_ver
if [ ! -x "$rust_dir/rustc" ]; then
  echo "cross-deps.sh: extracting rustc-web $rust_ver (amd64 + arm64 std)"
  rm -rf "$rust_dir.tmp" && mkdir -p "$rust_dir.tmp/debs"
  series=$(echo "$rust_ver" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
  ( cd "$rust_dir.tmp/debs" &&
    run apt-get download "rustc-web=$rust_ver" "libstd-rust-web-$series=$rust_ver" \
      "libstd-rust-web-dev=$rust_ver" "libstd-rust-web-$series:arm64=$rust_ver" \
      "libstd-rust-web-dev:arm64=$rust_ver" )
  for deb in "$rust_dir.tmp"/debs/*.deb; do
    dpkg-deb -x "$deb" "$rust_dir.tmp/root"
  done
  cat >"$rust_dir.tmp/rustc" <<EOF
#!/bin/sh
# rustc-web $rust_ver, extracted; finds its own shared libraries here.
export LD_LIBRARY_PATH="$rust_dir/root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "$rust_dir/root/usr/bin/rustc" "\$@"
EOF
  chmod +x "$rust_dir.tmp/rustc"
  sed -i "s|$rust_dir.tmp|$rust_dir|g" "$rust_dir.tmp/rustc"
  rm -rf "$rust_dir.tmp/debs" "$rust_dir"
  mv "$rust_dir.tmp" "$rust_dir"
fi
"$rust_dir/rustc" --print target-libdir --target aarch64-unknown-linux-gnu >/dev/null || {
  echo "cross-deps.sh: $rust_dir/rustc has no aarch64 standard library" >&2
  exit 1
}

# 3. The arm64 sysroot: runtime libraries and LLVM 22's executor and ORC
#    runtime. libllvm22 is what llvm-jitlink-executor links against.
llvm_ver=$(apt-cache policy llvm-22 | awk '/Candidate:/ { print $2 }')
sysroot=$dir/sysroot-arm64
stamp="$sysroot/.orc-rt-llvm-$llvm_ver"
if [ ! -e "$stamp" ]; then
  echo "cross-deps.sh: extracting the arm64 sysroot (LLVM $llvm_ver)"
  rm -rf "$sysroot.tmp" && mkdir -p "$sysroot.tmp/debs"
  arm_pkgs=(llvm-22 libllvm22 libclang-rt-22-dev libc6 libstdc++6 libgcc-s1 zlib1g libzstd1
            libz3-4 libffi8 libtinfo6 libxml2 libicu72 liblzma5 libedit2 libbsd0 libmd0)
  ( cd "$sysroot.tmp/debs" && run apt-get download "${arm_pkgs[@]/%/:arm64}" )
  for deb in "$sysroot.tmp"/debs/*.deb; do
    dpkg-deb -x "$deb" "$sysroot.tmp"
  done
  rm -rf "$sysroot.tmp/debs" "$sysroot"
  mv "$sysroot.tmp" "$sysroot"
  touch "$stamp"
fi
ref=$sysroot/usr/lib/llvm-22/bin/llvm-jitlink-executor
orcrt=$(ls "$sysroot"/usr/lib/llvm-22/lib/clang/*/lib/linux/liborc_rt-aarch64.a 2>/dev/null | head -1)
[ -x "$ref" ] && [ -n "$orcrt" ] || {
  echo "cross-deps.sh: the sysroot lacks llvm-jitlink-executor or liborc_rt-aarch64.a" >&2
  exit 1
}

cat >"$dir/env" <<EOF
ORC_RT_CROSS_RUSTC=$rust_dir/rustc
ORC_RT_CROSS_SYSROOT=$sysroot
ORC_RT_CROSS_REF=$ref
ORC_RT_CROSS_ORCRT=$orcrt
EOF
cat "$dir/env"
