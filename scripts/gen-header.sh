#!/usr/bin/env bash
# Copies the C header that the C library's build generates (cbindgen, into
# its OUT_DIR: see capi/build.rs) to include/orc-rt.h, the committed copy.
#
#   scripts/gen-header.sh           build, then update include/orc-rt.h
#   scripts/gen-header.sh --check   build, then fail if include/orc-rt.h
#                                   differs from the generated header
#
# Run it after changing src/ffi/ and commit the header with the change.
# Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-update}"
case "$mode" in
  update|--check) ;;
  *) echo "usage: scripts/gen-header.sh [--check]" >&2; exit 2 ;;
esac

# cargo reports each build script's OUT_DIR in its JSON messages.
out_dir=$(cargo build -p orc-rt-capi --message-format=json 2>/dev/null |
  python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "build-script-executed" and "/orc-rt-capi-" in m.get("out_dir", ""):
        print(m["out_dir"])
')
generated="$out_dir/orc-rt.h"
if [ -z "$out_dir" ] || [ ! -f "$generated" ]; then
  echo "gen-header.sh: the C library's build produced no header (run cargo build -p orc-rt-capi)" >&2
  exit 1
fi

if [ "$mode" = --check ]; then
  if ! cmp -s "$generated" include/orc-rt.h; then
    echo "include/orc-rt.h is out of date: run scripts/gen-header.sh and commit it." >&2
    diff -u include/orc-rt.h "$generated" | head -60 >&2 || true
    exit 1
  fi
  echo "include/orc-rt.h is up to date"
else
  if cmp -s "$generated" include/orc-rt.h; then
    echo "include/orc-rt.h is up to date"
  else
    cp "$generated" include/orc-rt.h
    echo "include/orc-rt.h updated"
  fi
fi
