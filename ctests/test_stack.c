/*
 * test_stack.c: dispatchers give their workers the stack that JIT'd code
 * expects, and embedders can choose it (orc_rt_*_createWithStackSize).
 * A task recursing through 12 MiB (more than the 8 MiB default) runs on a
 * worker with a 32 MiB stack; a task recursing through 1 MiB runs on a
 * default one.
 */
#define _POSIX_C_SOURCE 200809L
#include "orc-rt.h"
#include "test_util.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

/* Recurses through about `kib` KiB of stack (1 KiB frames). */
static long recurse(long kib) {
  volatile char frame[1024];
  memset((char *)frame, (int)kib, sizeof frame);
  if (kib <= 1)
    return frame[0];
  return recurse(kib - 1) + frame[kib % 1024];
}

struct job {
  long kib;
  volatile int done;
};

static void run_job(void *ctx) {
  struct job *j = (struct job *)ctx;
  (void)recurse(j->kib);
  j->done = 1;
}

static void run_on(orc_rt_TaskDispatcherRef d, long kib) {
  struct job j;
  orc_rt_SessionRef s;
  j.kib = kib;
  j.done = 0;
  CHECK(d != NULL);
  s = orc_rt_Session_create(d);
  CHECK(s != NULL);
  CHECK(orc_rt_Session_dispatch(s, run_job, NULL, &j) == NULL);
  /* Shutdown drops tasks still queued: wait (up to 60 s) for this one. */
  for (int i = 0; i < 60000 && !j.done; i++) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  orc_rt_Session_shutdown(s, NULL, NULL);
  CHECK(orc_rt_Session_waitForShutdown(s) == NULL);
  orc_rt_Session_destroy(s);
  CHECK(j.done == 1);
}

int main(void) {
  orc_rt_TaskDispatcherRef d = NULL;
  /* Fixed pool, 32 MiB stacks: 12 MiB of recursion. */
  CHECK(orc_rt_ThreadPoolTaskDispatcher_createWithStackSize(1, (size_t)32 << 20, &d) ==
        NULL);
  run_on(d, 12 * 1024);
  /* Growing pool, 32 MiB stacks. */
  run_on(orc_rt_GrowingThreadPoolTaskDispatcher_createWithStackSize((size_t)32 << 20),
         12 * 1024);
  /* Defaults (0): at least what a main thread gets, here 1 MiB is fine. */
  d = NULL;
  CHECK(orc_rt_ThreadPoolTaskDispatcher_createWithStackSize(1, 0, &d) == NULL);
  run_on(d, 1024);
  /* NULL Result is refused, as for orc_rt_ThreadPoolTaskDispatcher_create. */
  {
    orc_rt_ErrorRef e = orc_rt_ThreadPoolTaskDispatcher_createWithStackSize(1, 0, NULL);
    CHECK(e != NULL);
    orc_rt_Error_consume(e);
  }
  TEST_FINISH("stack");
}
