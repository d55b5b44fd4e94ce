/*
 * test_session_stress.c: several threads make thousands of concurrent calls
 * through the in-process controller on a thread-pool Session while shutdown
 * starts midway. Every call must get exactly one result (its echo, or an
 * out-of-band "shut down" / "detached" error), in bounded time, with
 * nothing leaked (this test also runs under valgrind and ASan).
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NUM_THREADS 4

static int calls_per_thread = 2000;

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long issued, results, ok, refused, bad;
static int shutdown_started;

typedef struct {
  char expect[32];
} CallCtx;

static void on_result(void *ctx, orc_rt_WrapperFunctionBuffer r) {
  CallCtx *c = (CallCtx *)ctx;
  const char *err = orc_rt_WrapperFunctionBufferGetOutOfBandError(&r);
  int good = 0, was_refused = 0;
  if (err) {
    was_refused = strstr(err, "shut down") != NULL || strstr(err, "detached") != NULL;
    if (!was_refused)
      fprintf(stderr, "unexpected error: %s\n", err);
  } else {
    size_t n = strlen(c->expect);
    good = orc_rt_WrapperFunctionBufferSize(&r) == n &&
           memcmp(orc_rt_WrapperFunctionBufferConstData(&r), c->expect, n) == 0;
  }
  orc_rt_WrapperFunctionBufferDispose(&r);
  free(c);
  pthread_mutex_lock(&m);
  results++;
  if (good)
    ok++;
  else if (was_refused)
    refused++;
  else
    bad++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&m);
}

static orc_rt_WrapperFunctionBuffer echo_sync(const char *data, size_t size) {
  return orc_rt_CreateWrapperFunctionBufferFromRange(data, size);
}

static orc_rt_InProcessControllerRef controller;

static void *caller(void *arg) {
  int t = (int)(intptr_t)arg, i;
  for (i = 0; i < calls_per_thread; ++i) {
    CallCtx *c;
    /* Threads 0 and 1 pause halfway until shutdown has started, so some
     * calls are surely refused; threads 2 and 3 race with it freely. */
    if (t < 2 && i == calls_per_thread / 2) {
      pthread_mutex_lock(&m);
      while (!shutdown_started)
        pthread_cond_wait(&cv, &m);
      pthread_mutex_unlock(&m);
    }
    c = (CallCtx *)malloc(sizeof(CallCtx));
    orc_rt_WrapperFunctionBuffer args;
    if (!c)
      abort();
    snprintf(c->expect, sizeof(c->expect), "t%d-call%d", t, i);
    args = orc_rt_CreateWrapperFunctionBufferFromRange(c->expect, strlen(c->expect));
    pthread_mutex_lock(&m);
    issued++;
    pthread_mutex_unlock(&m);
    if (i % 2)
      orc_rt_InProcessController_callWrapperAtAddress(
          controller, (uint64_t)(uintptr_t)echo_sync, 1, args, on_result, c);
    else
      orc_rt_InProcessController_callWrapper(controller, echo_wf, args,
                                             on_result, c);
  }
  return NULL;
}

int main(void) {
  orc_rt_TaskDispatcherRef d = NULL;
  orc_rt_ErrorRef err;
  orc_rt_SessionRef s;
  pthread_t threads[NUM_THREADS];
  long total;
  int i, timed_out = 0;
  struct timespec deadline;
  const char *tool = getenv("ORC_RT_TEST_UNDER_TOOL");
  if (tool && strcmp(tool, "valgrind") == 0)
    calls_per_thread = 300;
  total = (long)NUM_THREADS * calls_per_thread;

  /* (REQUIRE evaluates its condition twice: no side effects inside.) */
  err = orc_rt_ThreadPoolTaskDispatcher_create(2, &d);
  REQUIRE(err == NULL);
  s = orc_rt_Session_create(d);
  REQUIRE(s != NULL);
  controller = orc_rt_InProcessController_create();
  err = orc_rt_Session_attachInProcessController(s, controller);
  REQUIRE(err == NULL);

  for (i = 0; i < NUM_THREADS; ++i)
    if (pthread_create(&threads[i], NULL, caller, (void *)(intptr_t)i) != 0)
      abort();

  /* Start shutdown midway. */
  pthread_mutex_lock(&m);
  while (issued < total / 2) {
    pthread_mutex_unlock(&m);
    sched_yield();
    pthread_mutex_lock(&m);
  }
  pthread_mutex_unlock(&m);
  orc_rt_Session_shutdown(s, NULL, NULL);
  pthread_mutex_lock(&m);
  shutdown_started = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&m);

  for (i = 0; i < NUM_THREADS; ++i)
    pthread_join(threads[i], NULL);
  CHECK(orc_rt_Session_waitForShutdown(s) == NULL);

  /* Every result arrives, in bounded time. */
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 60;
  pthread_mutex_lock(&m);
  while (results < total && !timed_out)
    timed_out = pthread_cond_timedwait(&cv, &m, &deadline) != 0;
  pthread_mutex_unlock(&m);

  CHECK(!timed_out);
  CHECK(results == total);
  CHECK(ok + refused == total);
  CHECK(bad == 0);
  /* Threads 0 and 1: first halves issued before shutdown, second after. */
  CHECK(ok >= calls_per_thread);
  CHECK(refused >= calls_per_thread);
  printf("stress: %ld calls, %ld ok, %ld refused\n", total, ok, refused);

  orc_rt_Session_destroy(s);
  orc_rt_InProcessController_dispose(controller);
  TEST_FINISH("session_stress");
}
