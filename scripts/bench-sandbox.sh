#!/usr/bin/env bash
# Sandbox setup cost: the time from the exec of orc-rt-executor to the
# first instruction of JIT'd main, under llvm-jitlink-22, without a sandbox
# and with ORC_RT_SANDBOX=untrusted (N runs each, interleaved; medians and
# quartiles in ms). The difference is what the lockdown adds to a session.
#
# Usage: scripts/bench-sandbox.sh [N]   (default 21)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
n="${1:-21}"
unset ORC_RT_SANDBOX
for t in llvm-jitlink-22 clang-22 python3; do
  if ! command -v "$t" >/dev/null; then
    echo "SKIP: $t not found; sandbox setup not measured"
    exit 0
  fi
done
(cd "$repo" && cargo build --release --bin orc-rt-executor)
ours="$target_dir/release/orc-rt-executor"
work="$(mktemp -d /tmp/orc-rt-bench-sandbox.XXXXXX)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
clang-22 -O1 -c "$repo/tests/sandbox/clock.c" -o "$work/clock.o"
cat >"$work/wrap.sh" <<EOS
#!/bin/sh
date +%s%N >"$work/exec.t"
exec "$ours" "\$@"
EOS
chmod +x "$work/wrap.sh"
: >"$work/none.ms"
: >"$work/untrusted.ms"
for _ in $(seq "$n"); do
  for mode in none untrusted; do
    if [ "$mode" = untrusted ]; then export ORC_RT_SANDBOX=untrusted; else unset ORC_RT_SANDBOX; fi
    out="$(timeout 60 llvm-jitlink-22 -oop-executor="$work/wrap.sh" "$work/clock.o" </dev/null)"
    t="${out#t=}"
    echo "$(((t - $(cat "$work/exec.t")) / 1000))" >>"$work/$mode.ms"
  done
done
python3 - "$work" <<'PY'
import statistics, sys
w = sys.argv[1]
med = {}
for mode in ("none", "untrusted"):
    us = sorted(int(l) for l in open(f"{w}/{mode}.ms") if l.strip())
    q = statistics.quantiles(us, n=4)
    med[mode] = statistics.median(us)
    print(f"{mode:10s} exec to first JIT call: median {med[mode]/1000:.2f} ms "
          f"(quartiles {q[0]/1000:.2f}-{q[2]/1000:.2f} ms, {len(us)} runs)")
print(f"sandbox setup adds {(med['untrusted'] - med['none'])/1000:.2f} ms (median difference)")
PY
