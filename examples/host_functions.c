/*
 * An executor that offers host functions to the code it runs, through
 * liborc_rt's C API.
 *
 *   cc examples/host_functions.c -Iinclude -Ltarget/debug -lorc_rt -o host_functions
 *   clang-22 -c examples/host_functions_jit.c -o prog.o
 *   llvm-jitlink-22 -oop-executor=./host_functions prog.o
 *
 * The Session defines `int host_add(int, int)` and
 * `void host_log(const char *)` (which prints its argument and a newline),
 * so a JIT'd main that calls host_log("...") and returns host_add(40, 2)
 * prints the line and exits 42. The host functions reach the host's state
 * through the Session's context pointer (orc_rt_Session_current, then
 * orc_rt_Session_getContext), not through globals; the number of calls
 * they saw is printed to stderr when the controller goes.
 */
#include "orc-rt.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct HostState {
  int Calls;
};

/* The state of the Session whose call runs the calling JIT'd code. */
static struct HostState *host_state(void) {
  return (struct HostState *)orc_rt_Session_getContext(orc_rt_Session_current());
}

static int host_add(int A, int B) {
  struct HostState *State = host_state();
  if (State)
    ++State->Calls;
  return A + B;
}

static void host_log(const char *Msg) {
  struct HostState *State = host_state();
  if (State)
    ++State->Calls;
  printf("%s\n", Msg ? Msg : "(null)");
  fflush(stdout);
}

/* Defines Name as the function at Addr; 0 on success. */
static int define(orc_rt_SessionRef S, const char *Name, uint64_t Addr) {
  orc_rt_ErrorRef Err = orc_rt_Session_defineSymbol(S, Name, Addr);
  if (!Err)
    return 0;
  char *Msg = orc_rt_Error_toString(Err);
  fprintf(stderr, "host_functions: cannot define %s: %s\n", Name, Msg);
  orc_rt_Error_freeErrorMessage(Msg);
  return 1;
}

static int parse_fds(const char *Spec, int *In, int *Out) {
  char Extra;
  if (strncmp(Spec, "filedescs=", 10) != 0)
    return 0;
  return sscanf(Spec + 10, "%d,%d%c", In, Out, &Extra) == 2 && *In >= 0 &&
         *Out >= 0;
}

int main(int argc, char **argv) {
  int I = 1, In = -1, Out = -1;
  struct HostState State = {0};
  while (I < argc && strncmp(argv[I], "test-", 5) == 0)
    ++I;
  if (I >= argc || !parse_fds(argv[I], &In, &Out)) {
    fprintf(stderr, "usage: %s filedescs=<infd>,<outfd> [args...]\n", argv[0]);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);

  orc_rt_TaskDispatcherRef D = orc_rt_GrowingThreadPoolTaskDispatcher_create();
  if (!D)
    return 1;
  orc_rt_SessionRef S = orc_rt_Session_create(D);
  if (!S)
    return 1;
  orc_rt_Session_setContext(S, &State);
  if (define(S, "host_add", (uint64_t)(uintptr_t)&host_add) ||
      define(S, "host_log", (uint64_t)(uintptr_t)&host_log)) {
    orc_rt_Session_destroy(S);
    return 1;
  }

  orc_rt_ErrorRef Err = orc_rt_Session_attachSimpleRemoteEPC(S, In, Out);
  if (Err) {
    char *Msg = orc_rt_Error_toString(Err);
    fprintf(stderr, "host_functions: cannot attach: %s\n", Msg);
    orc_rt_Error_freeErrorMessage(Msg);
    orc_rt_Session_destroy(S);
    return 1;
  }
  orc_rt_Session_waitForDetach(S);
  orc_rt_Session_destroy(S);
  fprintf(stderr, "host_functions: %d host function calls\n", State.Calls);
  return 0;
}
