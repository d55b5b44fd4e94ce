#!/usr/bin/env bash
# The Rust crate as crates.io would serve it, used the way a Rust project
# uses it:
#   1. `cargo publish --dry-run -p orc-rt` packages and verifies the crate
#      with no warning (metadata complete, the build writes nothing into its
#      sources);
#   2. a fresh project with one dependency line on the packaged crate
#      (exactly the files crates.io would serve) builds the example host
#      examples/rust_host.rs and runs it;
#   3. that build produced no C library (no liborc_rt.so / liborc_rt.a),
#      ran no cbindgen and compiled no C: its build graph has neither
#      cbindgen nor cc.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
fail() { echo "test-crate: FAIL: $*" >&2; exit 1; }

echo "== cargo publish --dry-run -p orc-rt"
log="$(mktemp)"
work="$(mktemp -d)"
trap 'rm -rf "$log" "$work"' EXIT
if ! cargo publish --dry-run --allow-dirty -p orc-rt >"$log" 2>&1; then
  cat "$log" >&2
  fail "cargo publish --dry-run failed"
fi
if grep -i '^warning' "$log" | grep -v 'aborting upload due to dry run'; then
  cat "$log" >&2
  fail "cargo publish --dry-run warned"
fi
tail -3 "$log"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -1)
# The verified package, unpacked: the files crates.io would serve.
pkg="$target_dir/package/orc-rt-$version"
[ -f "$pkg/Cargo.toml" ] || fail "$pkg not found after packaging"

echo "== a fresh project depending on the packaged crate"
cp -r "$pkg" "$work/orc-rt-$version"
rm -rf "$work/orc-rt-$version/target"
mkdir -p "$work/host/src"
cat >"$work/host/Cargo.toml" <<TOML
[package]
name = "host"
version = "0.1.0"
edition = "2021"

[dependencies]
orc-rt = { path = "../orc-rt-$version" }

[workspace]
TOML
cp examples/rust_host.rs "$work/host/src/main.rs"
# The host gets its own lock file, resolved like a new user's.
(cd "$work/host" && CARGO_TARGET_DIR="$work/host/target" cargo build --quiet)
out="$("$work/host/target/debug/host")"
grep -qxF 'add(40, 2) = 42' <<<"$out" || { echo "$out"; fail "the host's demo did not run"; }
echo "host ran: add(40, 2) = 42"

echo "== no C artifacts, no cbindgen, no C compiler in the dependent's build"
found=$(find "$work/host/target" \( -name 'liborc_rt.so*' -o -name 'liborc_rt.a' \
  -o -name 'liborc_rt_elfnix*' -o -name 'orc-rt.h' \) -print)
[ -z "$found" ] || fail "C artifacts in a Rust dependent's target/: $found"
graph=$(cd "$work/host" && cargo tree -e all --prefix none | sort -u)
for c in cbindgen cc; do
  if grep -q "^$c v" <<<"$graph"; then
    fail "$c is in a Rust dependent's build graph"
  fi
done
ls "$work/host/target/debug/build" | grep -q '^cbindgen' && fail "cbindgen was built"
du -sh "$work/host/target" | sed 's/^/target size: /'
echo "crate: OK"
