#!/usr/bin/env bash
# Session C API, driven the ways a host would:
#   1. example-host  examples/session_host.c, loading liborc_rt.so with dlopen
#   2. clang-repl    clang-repl-22 loads liborc_rt.so (%lib), includes
#                    orc-rt.h and drives a Session interactively
#   3. lli           a C program compiled to IR (clang-22 -S -emit-llvm) and
#                    run by lli-22 --dlopen=liborc_rt.so
# Each step checks the program's output and exit code. Steps 2 and 3 are
# skipped (with a message) when the LLVM 22 tools are missing.
#
# Usage: scripts/test-session.sh      (run by scripts/test.sh)
# Ends with "N passed, M failed[, K skipped]"; exits non-zero on failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
repo=$ORC_RT_ROOT
cd "$repo"

lib="$ORC_RT_TARGET_DIR/debug/liborc_rt.so"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# expect_output NAME FILE LINE...: every LINE must appear verbatim in FILE.
expect_output() {
  local name="$1" file="$2" l missing=0
  shift 2
  for l in "$@"; do
    if ! grep -qxF -- "$l" "$file"; then
      echo "  $name: missing output line: $l"
      missing=1
    fi
  done
  return $missing
}

orc_rt_cargo_build --lib
[ -f "$lib" ] || { echo "test-session.sh: $lib not built" >&2; exit 1; }

# ---- 1. example host (dlopen) ----
echo "== example host: examples/session_host.c"
cc="${CC:-cc}"
if "$cc" -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude \
     examples/session_host.c -ldl -lpthread -o "$work/session_host" \
   && timeout 60 "$work/session_host" "$lib" >"$work/host.out" 2>&1; then
  cat "$work/host.out"
  if expect_output example-host "$work/host.out" \
       "ok: notifications in the documented order" \
       "  executor -> controller greet(\"world\") = hello, world" \
       "session_host: all steps ok"; then
    pass "example host"
  else
    fail "example host"
  fi
else
  cat "$work/host.out" 2>/dev/null || true
  fail "example host (build or exit code)"
fi

# ---- 2. clang-repl ----
echo "== clang-repl-22"
if ! command -v clang-repl-22 >/dev/null; then
  skip "clang-repl: clang-repl-22 not installed"
else
  # (A variable used by later inputs must not be static: each input is its
  # own translation unit.)
  cat >"$work/repl.in" <<EOF
%lib $lib
#include "orc-rt.h"
#include <cstdio>
#include <cstring>
char events[256];
extern "C" void on_detach(void *c, int sr) { strcat(events, (const char *)c); strcat(events, sr ? "(1);" : "(0);"); }
extern "C" void on_event(void *c) { strcat(events, (const char *)c); strcat(events, ";"); }
orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
orc_rt_NotificationServiceRef N = orc_rt_NotificationService_create();
orc_rt_ErrorRef E1 = orc_rt_Session_addNotificationService(S, N);
orc_rt_NotificationService_addOnDetach(N, on_detach, (void *)"detach-a");
orc_rt_NotificationService_addOnDetach(N, on_detach, (void *)"detach-b");
orc_rt_NotificationService_addOnShutdown(N, on_event, (void *)"shutdown");
orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
orc_rt_ErrorRef E2 = orc_rt_Session_attachInProcessController(S, C);
extern "C" void echo(orc_rt_SessionRef S, uint64_t Id, orc_rt_WrapperFunctionReturn R, orc_rt_WrapperFunctionBuffer A) { R(S, Id, A); }
orc_rt_WrapperFunctionBuffer B = orc_rt_InProcessController_callWrapperSync(C, echo, orc_rt_CreateWrapperFunctionBufferFromRange("repl-call", 9));
printf("call: %.*s\n", (int)orc_rt_WrapperFunctionBufferSize(&B), orc_rt_WrapperFunctionBufferConstData(&B));
orc_rt_DisposeWrapperFunctionBuffer(&B);
orc_rt_Session_shutdown(S, on_event, (void *)"done");
orc_rt_ErrorRef E3 = orc_rt_Session_waitForShutdown(S);
printf("errors: %d %d %d\n", E1 != 0, E2 != 0, E3 != 0);
printf("events: %s\n", events);
orc_rt_Session_destroy(S);
orc_rt_NotificationService_dispose(N);
orc_rt_InProcessController_dispose(C);
%quit
EOF
  if timeout 120 clang-repl-22 -Xcc -I"$repo/include" <"$work/repl.in" >"$work/repl.out" 2>&1; then
    cat "$work/repl.out"
    if expect_output clang-repl "$work/repl.out" \
         "call: repl-call" \
         "errors: 0 0 0" \
         "events: detach-b(1);detach-a(1);shutdown;done;"; then
      pass "clang-repl"
    else
      fail "clang-repl"
    fi
  else
    cat "$work/repl.out"
    fail "clang-repl (exit code)"
  fi
fi

# ---- 3. lli ----
echo "== lli-22"
if ! command -v lli-22 >/dev/null || ! command -v clang-22 >/dev/null; then
  skip "lli: lli-22 or clang-22 not installed"
else
  cat >"$work/lli_session.c" <<'EOF'
#include "orc-rt.h"
#include <stdio.h>
#include <string.h>
static char events[256];
static void note(void *ctx, int sr) { strcat(events, (const char *)ctx); strcat(events, sr ? "(1);" : "(0);"); }
static void done(void *ctx) { strcat(events, (const char *)ctx); strcat(events, ";"); }
/* Native wrapper function: returns its argument twice. */
static void twice(orc_rt_SessionRef S, uint64_t Id, orc_rt_WrapperFunctionReturn R,
                  orc_rt_WrapperFunctionBuffer A) {
  size_t n = orc_rt_WrapperFunctionBufferSize(&A), i;
  orc_rt_WrapperFunctionBuffer out = orc_rt_WrapperFunctionBufferAllocate(2 * n);
  char *o = orc_rt_WrapperFunctionBufferData(&out);
  const char *in = orc_rt_WrapperFunctionBufferConstData(&A);
  for (i = 0; i < 2 * n; ++i) o[i] = in[i % n];
  orc_rt_DisposeWrapperFunctionBuffer(&A);
  R(S, Id, out);
}
int main(void) {
  orc_rt_TaskDispatcherRef d = 0;
  orc_rt_SessionRef s;
  orc_rt_NotificationServiceRef n;
  orc_rt_InProcessControllerRef c;
  orc_rt_WrapperFunctionBuffer r;
  int ok = 1;
  if (orc_rt_ThreadPoolTaskDispatcher_create(2, &d)) return 10;
  s = orc_rt_Session_create(d);
  n = orc_rt_NotificationService_create();
  c = orc_rt_InProcessController_create();
  if (orc_rt_Session_addNotificationService(s, n)) return 11;
  orc_rt_NotificationService_addOnDetach(n, note, (void *)"detach");
  orc_rt_NotificationService_addOnShutdown(n, done, (void *)"shutdown");
  if (orc_rt_Session_attachInProcessController(s, c)) return 12;
  r = orc_rt_InProcessController_callWrapperSync(c, twice, orc_rt_CreateWrapperFunctionBufferFromRange("lli", 3));
  printf("call: %.*s\n", (int)orc_rt_WrapperFunctionBufferSize(&r), orc_rt_WrapperFunctionBufferConstData(&r));
  ok &= orc_rt_WrapperFunctionBufferSize(&r) == 6 &&
        memcmp(orc_rt_WrapperFunctionBufferConstData(&r), "llilli", 6) == 0;
  orc_rt_DisposeWrapperFunctionBuffer(&r);
  orc_rt_Session_shutdown(s, done, (void *)"done");
  if (orc_rt_Session_waitForShutdown(s)) return 13;
  printf("events: %s\n", events);
  ok &= strcmp(events, "detach(1);shutdown;done;") == 0;
  orc_rt_Session_destroy(s);
  orc_rt_NotificationService_dispose(n);
  orc_rt_InProcessController_dispose(c);
  return ok ? 42 : 1;
}
EOF
  rc=0
  clang-22 -std=c99 -Wall -Wextra -Werror -pedantic -I"$repo/include" -S -emit-llvm \
    "$work/lli_session.c" -o "$work/lli_session.ll" \
    && { timeout 120 lli-22 --dlopen="$lib" "$work/lli_session.ll" >"$work/lli.out" 2>&1 || rc=$?; } \
    || rc=$?
  cat "$work/lli.out" 2>/dev/null || true
  if [ "$rc" -ne 42 ]; then
    fail "lli (exit code $rc, expected 42)"
  elif expect_output lli "$work/lli.out" "call: llilli" "events: detach(1);shutdown;done;"; then
    pass "lli"
  else
    fail "lli"
  fi
fi

orc_rt_summary
