#!/usr/bin/env bash
# Installs the system packages orc-rt's build and tests need on Debian
# bookworm, only if something is missing. Idempotent, non-interactive, quiet
# unless it installs something or fails. Needs root (or sudo) to install.
#
# The Rust toolchain (cargo, rustc) is expected to be present already.
#
# Usage: scripts/deps.sh
set -euo pipefail

packages=(llvm-22 llvm-22-dev llvm-22-runtime clang-22 clang-tools-22 libclang-rt-22-dev cmake pkg-config gdb valgrind
          binutils gcc g++ make)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps.sh: installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  echo "deps.sh: not root and no sudo; install these packages: ${missing[*]}" >&2
  exit 1
fi

log="$(mktemp "${TMPDIR:-/tmp}/orc-rt-deps.XXXXXX")"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -q >"$log" 2>&1; then
  cat "$log" >&2
  echo "deps.sh: apt-get update failed" >&2
  exit 1
fi
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "deps.sh: apt-get install ${missing[*]} failed" >&2
  exit 1
fi
echo "deps.sh: installed ${missing[*]}"
