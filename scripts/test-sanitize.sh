#!/usr/bin/env bash
# Reduced sanitizer suite, run by scripts/test.sh: the Rust tests under
# AddressSanitizer + LeakSanitizer, the C tests against an ASan-built
# liborc_rt.so, and full orc-rt-executor sessions under valgrind memcheck
# (llvm-jitlink-22 -oop-executor). About 2 minutes cold on 2 cores, 1 minute
# warm. The full set (adds TSan and the ctests under
# valgrind, which test.sh's ctests step already runs) is scripts/sanitize.sh;
# results and caveats are in tests/SANITIZERS.md.
#
# Usage: scripts/test-sanitize.sh
# Ends with "N passed, M failed[, K skipped]"; exits non-zero on failure.
exec "$(dirname "$0")/sanitize.sh" asan c-asan-lib executor-vg
