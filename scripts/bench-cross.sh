#!/usr/bin/env bash
# AArch64 under qemu-user: whole llvm-jitlink-22 sessions with our
# executor (release build for aarch64) and LLVM 22's arm64
# llvm-jitlink-executor, both under qemu-aarch64, N interleaved rounds per
# program; prints medians, min and max in ms and the ratio ours/reference.
# Emulated time, not a board's: it compares the two executors on equal
# terms, nothing more.
#
# Programs: hello (tests/interop/hello.c), malloc-heavy
# (tests/cross/malloc_heavy.c), C++ exceptions with compiler-rt's runtime
# (tests/interop/eh.cpp).
#
# Usage: scripts/bench-cross.sh [N]   (default 21)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-21}"
for t in llvm-jitlink-22 clang-22 python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not found"; exit 0; }
done
# shellcheck source=cross-lib.sh
. "$repo/scripts/cross-lib.sh"
cross_env
(cd "$repo" && cargo build -q --release --target "$cross_target" -p orc-rt-executor)
work="$(mktemp -d /tmp/orc-rt-bench-cross.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cross_wrapper "$work/ours.sh" "$CARGO_TARGET_DIR/$cross_target/release/orc-rt-executor"
cross_wrapper "$work/ref.sh" "$cross_ref"
cc=(clang-22 --target=aarch64-linux-gnu -O2 -c)
"${cc[@]}" "$repo/tests/interop/hello.c" -o "$work/hello.o"
"${cc[@]}" "$repo/tests/cross/malloc_heavy.c" -o "$work/malloc.o"
"${cc[@]/clang-22/clang++-22}" "$repo/tests/interop/eh.cpp" -o "$work/eh.o"
python3 - "$work" "$n" "$cross_orcrt" <<'PY'
import statistics, subprocess, sys, time
work, n, orcrt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
progs = [("hello", [f"{work}/hello.o"]),
         ("malloc-heavy", [f"{work}/malloc.o"]),
         ("C++ exceptions + orc runtime", [f"-orc-runtime={orcrt}", f"{work}/eh.o"])]
print(f"{'program':32} {'ours ms (min-max)':>22} {'reference ms (min-max)':>24} {'ours/ref':>9}")
for name, args in progs:
    t = {"ours": [], "ref": []}
    for _ in range(n):
        for e in ("ours", "ref"):
            s = time.perf_counter()
            subprocess.run(["llvm-jitlink-22", f"-oop-executor={work}/{e}.sh", *args],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t[e].append((time.perf_counter() - s) * 1000)
    med = {e: statistics.median(v) for e, v in t.items()}
    col = lambda e: f"{med[e]:.0f} ({min(t[e]):.0f}-{max(t[e]):.0f})"
    print(f"{name:32} {col('ours'):>22} {col('ref'):>24} {med['ours'] / med['ref']:>9.2f}")
PY
