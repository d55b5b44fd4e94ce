# Shared by the AArch64 cross scripts (source it; bash): sets up the
# toolchain with scripts/cross-deps.sh and exports what cargo, cc and
# qemu need.
#
#   cross_env           runs cross-deps.sh (unless ORC_RT_SKIP_DEPS=1 and the
#                       toolchain is already there), exports RUSTC, linker,
#                       CC/AR for the target, CARGO_TARGET_DIR (default
#                       target/cross, apart from the host build) and the
#                       qemu runner; sets $cross_target, $cross_sysroot,
#                       $cross_ref (reference executor), $cross_orcrt
#                       (compiler-rt's liborc_rt-aarch64.a) and
#                       $cross_bin (where cargo puts our binaries)
#   cross_qemu ARGS...  runs an AArch64 program under qemu-aarch64 with the
#                       sysroot
#   cross_wrapper PATH EXE
#                       writes an executable script PATH that runs EXE
#                       under qemu with its arguments (for -oop-executor=)

cross_target=aarch64-unknown-linux-gnu

cross_env() {
  local repo dir
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  dir=${ORC_RT_CROSS_DIR:-$HOME/.cache/orc-rt-cross}
  if [ "${ORC_RT_SKIP_DEPS:-0}" != 1 ] || [ ! -f "$dir/env" ]; then
    ORC_RT_CROSS_DIR=$dir "$repo/scripts/cross-deps.sh" >/dev/null || return 1
  fi
  # shellcheck disable=SC1091
  . "$dir/env"
  export RUSTC=$ORC_RT_CROSS_RUSTC
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $ORC_RT_CROSS_SYSROOT"
  export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
  export CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
  export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
  export CARGO_TARGET_DIR=${ORC_RT_CROSS_TARGET_DIR:-$repo/target/cross}
  cross_sysroot=$ORC_RT_CROSS_SYSROOT
  cross_ref=$ORC_RT_CROSS_REF
  cross_orcrt=$ORC_RT_CROSS_ORCRT
  cross_bin=$CARGO_TARGET_DIR/$cross_target/debug
}

cross_qemu() {
  qemu-aarch64 -L "$cross_sysroot" "$@"
}

cross_wrapper() {
  cat >"$1" <<WRAP
#!/bin/sh
exec qemu-aarch64 -L "$cross_sysroot" "$2" "\$@"
WRAP
  chmod +x "$1"
}
