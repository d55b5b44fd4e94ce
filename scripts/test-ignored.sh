#!/usr/bin/env bash
# Runs the Rust tests that `cargo test` leaves out with #[ignore = "needs
# ..."], each group where its requirement holds: the requirement is checked
# first, and a group that cannot run here prints a SKIP line with the reason.
# Each group names its tests exactly, so a renamed or removed test fails the
# group instead of silently running nothing.
#
#   transparent-huge-pages  the kernel has transparent huge pages
#                           (/sys/kernel/mm/transparent_hugepage, not
#                           "never"): large segments are advised and filled
#                           on huge pages
#
# Usage: scripts/test-ignored.sh      (run by scripts/test.sh)
# Ends with "N passed, M failed[, K skipped]"; exits non-zero on failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ORC_RT_ROOT"

# group NAME CARGO-TARGET-ARGS -- TEST...: runs exactly the ignored TESTs of
# those targets and checks that each ran and passed. Built like the test
# command's `cargo test` (the whole workspace's features), so its test
# binaries are reused, not rebuilt.
group() {
  local name=$1 targets=() tests=() log
  shift
  while [ "$1" != -- ]; do
    targets+=("$1")
    shift
  done
  shift
  tests=("$@")
  log=$(mktemp)
  if cargo test --quiet "${targets[@]}" -- --ignored --exact "${tests[@]}" >"$log" 2>&1; then
    local ran
    # --quiet prints dots, not names: count the passes from the summaries.
    ran=$(grep -o '[0-9]* passed' "$log" | awk '{n += $1} END {print n + 0}')
    if [ "$ran" -eq "${#tests[@]}" ]; then
      pass "$name" "$ran tests"
    else
      fail "$name" "$ran of ${#tests[@]} tests ran; a name in scripts/test-ignored.sh is stale"
      sed 's/^/  /' "$log"
    fi
  else
    fail "$name"
    sed 's/^/  /' "$log"
  fi
  rm -f "$log"
}

thp=/sys/kernel/mm/transparent_hugepage
if [ ! -r "$thp/hpage_pmd_size" ] || [ ! -r "$thp/enabled" ]; then
  skip transparent-huge-pages "the kernel has no transparent huge pages ($thp)"
elif grep -q '\[never\]' "$thp/enabled"; then
  skip transparent-huge-pages "transparent huge pages are disabled ($thp/enabled: never)"
else
  group transparent-huge-pages --lib --test services_memory -- \
    simple_remote_epc::frame::prewrite::tests::prewriting::large_contents_are_written_on_huge_pages \
    sys::mmap::writable_tests::large_mappings_start_on_a_huge_page_and_large_ranges_are_advised \
    large_segments_fill_huge_pages_and_a_slab_keeps_small_ones_elsewhere
fi

orc_rt_summary
