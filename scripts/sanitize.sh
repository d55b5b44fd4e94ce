#!/usr/bin/env bash
# Sanitizer and leak checks of orc-rt (results: tests/SANITIZERS.md).
#
#   asan        Rust unit + integration tests (--lib --bins --tests) built
#               with -Zsanitizer=address (LeakSanitizer on), in target/asan
#   tsan        the same with -Zsanitizer=thread, in target/tsan
#               (doctests are not run under the sanitizers)
#   c-asan-lib  the C/C++ tests of ctests/ that link liborc_rt.so, built with
#               clang-22 -fsanitize=address -shared-libasan and run against a
#               liborc_rt.so that is itself built with -Zsanitizer=address
#               (ctests' own *_asan variants instrument only the test code)
#   ctest-vg    the C/C++ tests of ctests/ under valgrind memcheck
#               (ctest -R valgrind, in build/sanitize-ctests)
#   executor-vg full sessions of target/debug/orc-rt-executor under valgrind
#               memcheck, driven by llvm-jitlink-22 -oop-executor: a C hello
#               world (plain, -use-memmgr=shared / simple-remote,
#               --debugger-support, -lazy with the ORC runtime), JIT'd
#               pthreads, and a C++ program with LLVM 22's ORC runtime (EH
#               frames, static ctors/dtors, threads, thread_local)
#
# The sanitizer builds need -Z flags: `cargo +nightly` when a nightly
# toolchain is installed, else the stable toolchain with RUSTC_BOOTSTRAP=1.
# The standard library is rebuilt with the sanitizer (-Zbuild-std) only when
# that toolchain has the rust-src component. Without it, ASan still checks
# every access made by orc-rt's own code (std's code is not instrumented:
# fewer findings, no false ones), but TSan cannot see std's Mutex, Condvar
# and channel synchronization and reports races between accesses that are
# properly locked; the tsan step then runs for information only (its report
# count is printed, it does not fail). See tests/SANITIZERS.md.
#
# Usage: scripts/sanitize.sh [STEP...]     (default: all steps, in this order:
#        asan c-asan-lib tsan ctest-vg executor-vg)
#        SANITIZE_STEPS="asan executor-vg" scripts/sanitize.sh
# Env:   JOBS (default nproc); SANITIZE_TOOLCHAIN=stable forces the stable
#        toolchain with RUSTC_BOOTSTRAP=1 (target/asan-stable, ...).
# Logs:  target/sanitize-logs/ (all target dirs under $CARGO_TARGET_DIR if set)
# Ends with "N passed, M failed[, K skipped]"; exits non-zero on failure.
set -uo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
triple=x86_64-unknown-linux-gnu
# CARGO_TARGET_DIR is honoured: the sanitizer builds go to asan/, tsan/
# below it, the normal debug build (ctest-vg, executor-vg) is its debug/.
target_root="${CARGO_TARGET_DIR:-$repo/target}"
debug_dir="$target_root/debug"
logs="$target_root/sanitize-logs"
mkdir -p "$logs"

steps=("$@")
if [ ${#steps[@]} -eq 0 ]; then
  read -r -a steps <<<"${SANITIZE_STEPS:-asan c-asan-lib tsan ctest-vg executor-vg}"
fi

passed=0
failed=0
skipped=0
lines=()
t_all=$(date +%s)

pass() { passed=$((passed + 1)); lines+=("PASS  $1"); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); lines+=("FAIL  $1"); echo "FAIL: $1"; }
skip() { skipped=$((skipped + 1)); lines+=("SKIP  $1"); echo "SKIP: $1"; }

# ---- toolchain for -Z flags ----
tc=()
tc_env=()
tc_suffix=""
want_tc="${SANITIZE_TOOLCHAIN:-auto}"
if [ "$want_tc" != stable ] && rustup run nightly rustc --version >/dev/null 2>&1; then
  tc=(+nightly)
  tc_name=nightly
elif command -v rustc >/dev/null 2>&1; then
  tc_env=(RUSTC_BOOTSTRAP=1)
  tc_suffix=-stable
  tc_name="$(rustc --version | cut -d' ' -f2) with RUSTC_BOOTSTRAP=1"
else
  tc_name=none
fi
build_std=()
if [ "$tc_name" != none ] &&
   [ -d "$(env "${tc_env[@]}" rustc "${tc[@]}" --print sysroot)/lib/rustlib/src/rust/library" ]; then
  build_std=(-Zbuild-std)
fi
echo "sanitize.sh: toolchain: $tc_name; build-std: ${build_std[*]:-no (rust-src not installed)}"

# Tests skipped under one sanitizer, with the reason (tests/SANITIZERS.md).
# asan: hostile_arguments_never_crash reads mutated address ranges and
#   relies on them hitting unmapped memory soon; ASan's shadow memory is
#   terabytes of readable zero pages, so a range into it is "read" until the
#   growing vector cannot be allocated (32 GiB), which aborts the test.
asan_skip=(hostile_arguments_never_crash)
# tsan: managed_code_tokens_delay_service_shutdown expects an asynchronous
#   detach to finish within a fixed 50 ms sleep, too short at TSan's speed.
tsan_skip=(managed_code_tokens_delay_service_shutdown)

# run_san <asan|tsan>: builds and runs the Rust tests under the sanitizer.
# Writes the output to $logs/<san>.log; prints the test totals.
run_san() {
  local san=$1 sanflag t skips=()
  case $san in
    asan) sanflag=address; for t in "${asan_skip[@]}"; do skips+=(--skip "$t"); done ;;
    tsan) sanflag=thread; for t in "${tsan_skip[@]}"; do skips+=(--skip "$t"); done ;;
  esac
  # Crates not rebuilt with the sanitizer (std without build-std) trip
  # rustc's ABI-mismatch check for TSan; it is expected here.
  local rf="-Zsanitizer=$sanflag -Cunsafe-allow-abi-mismatch=sanitizer"
  env "${tc_env[@]}" CARGO_TARGET_DIR="$target_root/$san$tc_suffix" RUSTFLAGS="$rf" \
    ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
    TSAN_OPTIONS="halt_on_error=0:exitcode=${TSAN_EXITCODE:-66}:history_size=4" \
    timeout 1800 cargo "${tc[@]}" test "${build_std[@]}" --target "$triple" \
      --lib --bins --tests --no-fail-fast -- "${skips[@]}" >"$logs/$san.log" 2>&1
  local rc=$?
  local p f
  p=$(grep -E '^test result:' "$logs/$san.log" | awk '{s += $4} END {print s + 0}')
  f=$(grep -E '^test result:' "$logs/$san.log" | awk '{s += $6} END {print s + 0}')
  echo "  $san: $p tests passed, $f failed (exit $rc), skipped: ${skips[*]:-none}; log: $logs/$san.log"
  return $rc
}

step_asan() {
  if [ "$tc_name" = none ]; then skip "asan (no Rust toolchain)"; return; fi
  local t0=$(date +%s) rc n
  run_san asan
  rc=$?
  n=$(grep -cE '^==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer)' "$logs/asan.log")
  echo "  asan: $n AddressSanitizer/LeakSanitizer reports"
  if [ $rc -eq 0 ] && [ "$n" -eq 0 ]; then
    pass "asan ($(($(date +%s) - t0))s)"
  else
    grep -E -A30 '^==[0-9]+==ERROR' "$logs/asan.log" | head -80
    grep -E '^(test .* FAILED|failures:|---- )' "$logs/asan.log" | head -20
    fail "asan ($(($(date +%s) - t0))s, exit $rc, $n reports)"
  fi
}

step_tsan() {
  if [ "$tc_name" = none ]; then skip "tsan (no Rust toolchain)"; return; fi
  local t0=$(date +%s) rc n informational=0
  if [ ${#build_std[@]} -eq 0 ]; then
    informational=1
    TSAN_EXITCODE=0 run_san tsan
  else
    run_san tsan
  fi
  rc=$?
  n=$(grep -c 'WARNING: ThreadSanitizer' "$logs/tsan.log")
  echo "  tsan: $n ThreadSanitizer reports"
  if [ $rc -ne 0 ]; then
    grep -E '^(test .* FAILED|failures:|---- )' "$logs/tsan.log" | head -20
    fail "tsan ($(($(date +%s) - t0))s, tests failed, exit $rc)"
  elif [ $informational -eq 1 ]; then
    # Not a verdict: std is not instrumented (see the header).
    echo "  tsan: std not instrumented (no rust-src for -Zbuild-std): the reports" \
         "are not a verdict; tests passed under TSan"
    pass "tsan, informational: tests pass, $n unverifiable reports ($(($(date +%s) - t0))s)"
  elif [ "$n" -eq 0 ]; then
    pass "tsan ($(($(date +%s) - t0))s)"
  else
    grep -E -A20 'WARNING: ThreadSanitizer' "$logs/tsan.log" | head -60
    fail "tsan ($(($(date +%s) - t0))s, $n reports)"
  fi
}

step_c_asan_lib() {
  local t0=$(date +%s) rt lib src name rc ok=1 n
  if [ "$tc_name" = none ]; then skip "c-asan-lib (no Rust toolchain)"; return; fi
  for t in clang-22 clang++-22; do
    command -v $t >/dev/null || { skip "c-asan-lib ($t not found)"; return; }
  done
  rt="$(clang-22 -print-resource-dir)/lib/linux"
  [ -f "$rt/libclang_rt.asan-x86_64.so" ] || {
    skip "c-asan-lib (no shared ASan runtime in $rt)"
    return
  }
  lib="$target_root/asan$tc_suffix/$triple/debug"
  env "${tc_env[@]}" CARGO_TARGET_DIR="$target_root/asan$tc_suffix" \
    RUSTFLAGS="-Zsanitizer=address -Cunsafe-allow-abi-mismatch=sanitizer" \
    cargo "${tc[@]}" build "${build_std[@]}" --lib --target "$triple" \
    >"$logs/c-asan-lib.log" 2>&1 || {
      tail -20 "$logs/c-asan-lib.log"
      fail "c-asan-lib (building the ASan liborc_rt.so failed)"
      return
    }
  # The library's SONAME is liborc_rt.so.0: stage both names.
  mkdir -p "$work/asan-lib"
  ln -sf "$lib/liborc_rt.so" "$work/asan-lib/liborc_rt.so"
  ln -sf "$lib/liborc_rt.so" "$work/asan-lib/liborc_rt.so.0"
  for src in ctests/test_*.c ctests/test_cxx.cpp; do
    name=$(basename "$src")
    case $name in
      test_dlopen.c | test_header_c99.c) continue ;; # no link / header only
    esac
    local cc=(clang-22 -std=c99)
    case $name in *.cpp) cc=(clang++-22 -std=c++17) ;; esac
    if ! "${cc[@]}" -Wall -Wextra -Werror -pedantic -g -fno-omit-frame-pointer \
         -fsanitize=address -shared-libasan -Iinclude -Ictests "$src" \
         -o "$work/asan-lib/${name%.*}" -L"$work/asan-lib" -lorc_rt -lpthread -ldl \
         -Wl,-rpath,"$work/asan-lib" -Wl,-rpath,"$rt" >>"$logs/c-asan-lib.log" 2>&1; then
      echo "  $name: compile failed"
      ok=0
      continue
    fi
    ORC_RT_TEST_UNDER_TOOL=asan ASAN_OPTIONS=detect_leaks=1 \
      timeout 300 "$work/asan-lib/${name%.*}" >"$work/asan-lib/$name.out" 2>&1
    rc=$?
    n=$(grep -cE '^==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer)' "$work/asan-lib/$name.out")
    cat "$work/asan-lib/$name.out" >>"$logs/c-asan-lib.log"
    echo "  $name: exit $rc, $n ASan/LSan reports"
    if [ $rc -ne 0 ] || [ "$n" -ne 0 ]; then
      grep -E -A30 '^==[0-9]+==ERROR' "$work/asan-lib/$name.out" | head -60
      grep -E 'CHECK' "$work/asan-lib/$name.out" | head -10
      ok=0
    fi
  done
  if [ $ok -eq 1 ]; then
    pass "c-asan-lib ($(($(date +%s) - t0))s)"
  else
    fail "c-asan-lib ($(($(date +%s) - t0))s)"
  fi
}

step_ctest_vg() {
  local t0=$(date +%s) bdir="$repo/build/sanitize-ctests"
  if ! command -v valgrind >/dev/null || ! command -v cmake >/dev/null; then
    skip "ctest-vg (valgrind or cmake missing)"
    return
  fi
  if ! cargo build --quiet >"$logs/ctest-vg.log" 2>&1 ||
     ! cmake -S ctests -B "$bdir" -DORC_RT_LIB_DIR="$debug_dir" \
         -DORC_RT_INCLUDE_DIR="$repo/include" -DORC_RT_CTESTS_ASAN=OFF \
         >>"$logs/ctest-vg.log" 2>&1 ||
     ! cmake --build "$bdir" -j "$jobs" >>"$logs/ctest-vg.log" 2>&1; then
    tail -30 "$logs/ctest-vg.log"
    fail "ctest-vg (build failed)"
    return
  fi
  (cd "$bdir" && ctest -R valgrind -j "$jobs" --output-on-failure) >>"$logs/ctest-vg.log" 2>&1
  local rc=$?
  grep -E 'tests passed|Test +#|\*\*\*' "$logs/ctest-vg.log" | sed 's/^/  /'
  if [ $rc -eq 0 ]; then
    pass "ctest-vg ($(($(date +%s) - t0))s)"
  else
    grep -E '==[0-9]+== (Invalid|Conditional|Use of|.*definitely lost in)' "$logs/ctest-vg.log" | head -20
    fail "ctest-vg ($(($(date +%s) - t0))s)"
  fi
}

# vg_session <name> <expected exit> <expected stdout line> <llvm-jitlink args...>
vg_session() {
  local name=$1 want_rc=$2 want_line=$3
  shift 3
  local w="$work/$name"
  mkdir -p "$w"
  cat >"$w/executor.sh" <<EOF
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \\
  --suppressions="$repo/tests/valgrind/glibc-dlopen.supp" \\
  --log-file="$w/vg.%p.log" "$debug_dir/orc-rt-executor" "\$@"
EOF
  chmod +x "$w/executor.sh"
  timeout 600 llvm-jitlink-22 -oop-executor="$w/executor.sh" "$@" \
    >"$w/out" 2>"$w/err" </dev/null
  local rc=$? i
  # The executor may outlive llvm-jitlink briefly: wait for valgrind's
  # final summary.
  for i in $(seq 1 120); do
    grep -qs 'ERROR SUMMARY' "$w"/vg.*.log && break
    sleep 1
  done
  cp "$w"/vg.*.log "$logs/executor-vg-$name.log" 2>/dev/null
  local summary definite
  summary=$(grep -hs 'ERROR SUMMARY' "$w"/vg.*.log)
  definite=$(grep -hs 'definitely lost:' "$w"/vg.*.log)
  echo "  $name: exit $rc; ${summary#==*== }; ${definite#==*== }"
  local ok=1
  [ "$rc" -eq "$want_rc" ] || { echo "  $name: exit $rc, expected $want_rc"; ok=0; }
  grep -qxF -- "$want_line" "$w/out" || { echo "  $name: no line '$want_line' in stdout"; ok=0; }
  case "$summary" in *"ERROR SUMMARY: 0 errors"*) ;; *) ok=0 ;; esac
  case "$definite" in "" | *"definitely lost: 0 bytes"*) ;; *) ok=0 ;; esac
  if [ $ok -eq 0 ]; then
    cat "$w/err" | head -20
    grep -hE -B2 -A25 '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|.*definitely lost in)' \
      "$w"/vg.*.log | head -80
  fi
  [ $ok -eq 1 ]
}

step_executor_vg() {
  local t0=$(date +%s) t
  for t in llvm-jitlink-22 clang-22 clang++-22 valgrind; do
    command -v $t >/dev/null || { skip "executor-vg ($t not found)"; return; }
  done
  if ! cargo build --quiet --bin orc-rt-executor >"$logs/executor-vg-build.log" 2>&1; then
    tail -20 "$logs/executor-vg-build.log"
    fail "executor-vg (cargo build failed)"
    return
  fi
  clang-22 -c -O0 tests/interop/hello.c -o "$work/hello.o" &&
    clang-22 -c -g -O0 tests/interop/hello.c -o "$work/hello-g.o" &&
    clang-22 -c -O0 tests/interop/pthreads.c -o "$work/pthreads.o" &&
    clang++-22 -c -O0 -fPIC tests/interop/cxx_runtime.cpp -o "$work/cxx_runtime.o" || {
      fail "executor-vg (compiling the test programs failed)"
      return
    }
  # Without valgrind first: an executor that cannot run hello yet is a skip.
  timeout 60 llvm-jitlink-22 -oop-executor="$debug_dir/orc-rt-executor" \
    "$work/hello.o" >"$work/plain.out" 2>&1 </dev/null
  local rc=$?
  sleep 1
  if [ $rc -ne 42 ] || ! grep -qxF 'hello, world' "$work/plain.out"; then
    skip "executor-vg (orc-rt-executor cannot run hello yet: exit $rc)"
    return
  fi
  local rt ok=1
  rt="$(clang-22 -print-resource-dir)/lib/linux/liborc_rt-x86_64.a"
  vg_session hello 42 'hello, world' "$work/hello.o" || ok=0
  vg_session pthreads 20 'total=1000000 sum=20' "$work/pthreads.o" || ok=0
  vg_session memmgr-shared 42 'hello, world' -use-memmgr=shared "$work/hello.o" || ok=0
  vg_session memmgr-simple-remote 42 'hello, world' \
    -use-memmgr=simple-remote "$work/hello.o" || ok=0
  vg_session debugger-support 42 'hello, world' --debugger-support "$work/hello-g.o" || ok=0
  if [ -f "$rt" ]; then
    vg_session cxx-orc-runtime 11 'thread_local in main: 42' \
      -orc-runtime="$rt" "$work/cxx_runtime.o" || ok=0
    vg_session lazy-orc-runtime 42 'hello, world' -lazy -orc-runtime="$rt" "$work/hello.o" || ok=0
  else
    echo "  cxx-orc-runtime, lazy-orc-runtime: $rt not found, not run"
  fi
  # orc-rt's own platform archive: the platform's Rust side under valgrind.
  local our_rt
  our_rt="$("$debug_dir/orc-rt-executor" --platform-archive)" || our_rt=""
  if [ -n "$our_rt" ]; then
    vg_session cxx-our-platform 11 'atexit handler ran' \
      -orc-runtime="$our_rt" "$work/cxx_runtime.o" || ok=0
    vg_session lazy-our-platform 42 'hello, world' -lazy -orc-runtime="$our_rt" "$work/hello.o" || ok=0
  else
    fail "executor-vg: orc-rt-executor --platform-archive found no archive"
    ok=0
  fi
  if [ $ok -eq 1 ]; then
    pass "executor-vg ($(($(date +%s) - t0))s)"
  else
    fail "executor-vg ($(($(date +%s) - t0))s)"
  fi
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for s in "${steps[@]}"; do
  echo
  echo "==== $s ===="
  case $s in
    asan) step_asan ;;
    c-asan-lib) step_c_asan_lib ;;
    tsan) step_tsan ;;
    ctest-vg) step_ctest_vg ;;
    executor-vg) step_executor_vg ;;
    *) fail "unknown step $s (asan c-asan-lib tsan ctest-vg executor-vg)" ;;
  esac
done

echo
echo "==== sanitize.sh summary ($(($(date +%s) - t_all))s) ===="
for l in "${lines[@]}"; do echo "  $l"; done
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
