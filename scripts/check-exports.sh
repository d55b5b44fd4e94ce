#!/usr/bin/env bash
# Checks the ABI surface of the built shared library:
#   - SONAME is liborc_rt.so.<major> (liborc_rt.so.0 for 0.x);
#   - the dynamic symbol table defines only orc_rt_* symbols (no Rust-mangled
#     _ZN / _R symbols, no rust_* runtime symbols, nothing else);
#   - every function declared in include/orc-rt.h is exported.
#
# Usage: scripts/check-exports.sh [path/to/liborc_rt.so]
# Default: target/debug/liborc_rt.so
set -euo pipefail
cd "$(dirname "$0")/.."

lib="${1:-target/debug/liborc_rt.so}"
header="include/orc-rt.h"
expected_soname="liborc_rt.so.0"

# Symbols outside orc_rt_* that the library may export on purpose, as
# extended regexes anchored at both ends (e.g. '__orc_rt_jit_dispatch').
# Keep this empty unless an ABI really needs the name.
allowed_extra=()

fail() { echo "check-exports: FAIL: $*" >&2; exit 1; }

[ -f "$lib" ] || fail "$lib not found (run cargo build first)"
command -v readelf >/dev/null || fail "readelf not found (install binutils)"
command -v nm >/dev/null || fail "nm not found (install binutils)"

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "$expected_soname" ] ||
  fail "SONAME of $lib is '${soname:-<none>}', expected $expected_soname"

exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort -u)
[ -n "$exported" ] || fail "$lib exports no symbols"
bad=$(printf '%s\n' "$exported" | grep -v '^orc_rt_' || true)
for re in ${allowed_extra[@]+"${allowed_extra[@]}"}; do
  bad=$(printf '%s\n' "$bad" | grep -Ev "^(${re})\$" || true)
done
if [ -n "$bad" ]; then
  fail "$lib exports symbols outside the orc_rt_ namespace:
$(printf '%s\n' "$bad" | head -20)"
fi

# Functions declared in the header: an identifier followed by '(' at the
# start of a declaration, e.g. "size_t orc_rt_WrapperFunctionBufferSize(".
declared=$(grep -oE '\borc_rt_[A-Za-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
# Function-pointer typedefs ("(*orc_rt_X)(") are types, not functions.
typedefs=$(grep -oE '\(\*orc_rt_[A-Za-z0-9_]+\)' "$header" | tr -d '(*)' | sort -u)
declared=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$typedefs"))
missing=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
[ -z "$missing" ] || fail "declared in $header but not exported by $lib:
$missing"
undeclared=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
[ -z "$undeclared" ] || echo "check-exports: note: exported but not declared in $header: $undeclared"

n=$(printf '%s\n' "$exported" | wc -l)
echo "check-exports: OK: SONAME $soname, $n exported symbols, all orc_rt_*, all header functions exported"
