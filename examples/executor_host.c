/*
 * executor_host.c: an LLVM 22 out-of-process JIT executor written in C on
 * top of liborc_rt.so, equivalent to orc-rt-executor in pipe mode:
 *
 *   executor_host [test-*...] filedescs=<infd>,<outfd> [ignored...]
 *
 * It creates a Session, attaches a SimpleRemoteEPC controller on the two
 * inherited descriptors (which also adds the bootstrap services: memory
 * managers, dylib manager, run-as-main...), waits until the controller
 * goes away, then destroys the Session (shutdown: services release the
 * JIT'd memory, running static destructors). It exits 0 after a clean end
 * and 1 if the connection ended with an error.
 *
 * Use it as llvm-jitlink-22 -oop-executor=<this program> prog.o.
 * Built and run by scripts/test-interop.sh (case c-host-*).
 */
#include "orc-rt.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts errors reported by the Session (protocol errors among them). */
static void report(void *Ctx, const char *Msg) {
  int *Errors = (int *)Ctx;
  ++*Errors;
  fprintf(stderr, "executor_host: %s\n", Msg);
}

static int parse_fds(const char *Spec, int *In, int *Out) {
  char Extra;
  if (strncmp(Spec, "filedescs=", 10) != 0)
    return 0;
  return sscanf(Spec + 10, "%d,%d%c", In, Out, &Extra) == 2 && *In >= 0 &&
         *Out >= 0;
}

int main(int argc, char **argv) {
  int I = 1, In = -1, Out = -1, Errors = 0;
  while (I < argc && strncmp(argv[I], "test-", 5) == 0)
    ++I;
  if (I >= argc || !parse_fds(argv[I], &In, &Out)) {
    fprintf(stderr, "usage: %s filedescs=<infd>,<outfd> [args...]\n", argv[0]);
    return 1;
  }

  /* A result written after the controller closed its pipe must be an
     error, not a fatal SIGPIPE (sockets are protected by liborc_rt). */
  signal(SIGPIPE, SIG_IGN);

  /* Incoming calls nest without limit (JIT'd code calling the controller,
     which calls back in), and threads that ran JIT'd code must not exit
     before the process does: the growing pool handles both. */
  orc_rt_TaskDispatcherRef D = orc_rt_GrowingThreadPoolTaskDispatcher_create();
  if (!D)
    return 1;
  orc_rt_SessionRef S = orc_rt_Session_create(D);
  if (!S)
    return 1;
  orc_rt_Session_setErrorReporter(S, report, &Errors);

  orc_rt_ErrorRef Err = orc_rt_Session_attachSimpleRemoteEPC(S, In, Out);
  if (Err) {
    char *Msg = orc_rt_Error_toString(Err);
    fprintf(stderr, "executor_host: cannot attach: %s\n", Msg);
    orc_rt_Error_freeErrorMessage(Msg);
    orc_rt_Session_destroy(S);
    return 1;
  }

  orc_rt_Session_waitForDetach(S);
  orc_rt_Session_destroy(S);
  return Errors ? 1 : 0;
}
