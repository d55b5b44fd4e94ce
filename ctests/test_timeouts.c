/*
 * test_timeouts.c: the bounded waits of the C API.
 *
 * 1. A native wrapper function that calls back into its own Session with
 *    orc_rt_InProcessController_callWrapperSync on a one-worker pool would
 *    wait forever for the worker it occupies;
 *    orc_rt_InProcessController_callWrapperSyncTimeout ends that wait with
 *    a "timed out" out-of-band error.
 * 2. A native wrapper function that keeps its Return makes
 *    orc_rt_Session_destroy wait forever; after
 *    orc_rt_Session_shutdownAndWaitTimeout has timed out, destroy returns at
 *    once, and the late Return still reaches its caller.
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

static orc_rt_InProcessControllerRef Ctl;

static void echo(orc_rt_SessionRef S, uint64_t CallId, orc_rt_WrapperFunctionReturn Return,
                 orc_rt_WrapperFunctionBuffer ArgBytes) {
  Return(S, CallId, ArgBytes);
}

/* Runs on the only worker and calls `echo`, which needs that worker. */
static void nested(orc_rt_SessionRef S, uint64_t CallId, orc_rt_WrapperFunctionReturn Return,
                   orc_rt_WrapperFunctionBuffer ArgBytes) {
  Return(S, CallId,
         orc_rt_InProcessController_callWrapperSyncTimeout(Ctl, echo, ArgBytes, 100));
}

static orc_rt_SessionRef HeldS;
static uint64_t HeldId;
static orc_rt_WrapperFunctionReturn HeldReturn;

static void keep(orc_rt_SessionRef S, uint64_t CallId, orc_rt_WrapperFunctionReturn Return,
                 orc_rt_WrapperFunctionBuffer ArgBytes) {
  orc_rt_WrapperFunctionBufferDispose(&ArgBytes);
  HeldS = S;
  HeldId = CallId;
  HeldReturn = Return;
}

static int Results;
static void on_result(void *Ctx, orc_rt_WrapperFunctionBuffer R) {
  (void)Ctx;
  orc_rt_WrapperFunctionBufferDispose(&R);
  ++Results;
}

static double now_s(void) {
  struct timespec Ts;
  clock_gettime(CLOCK_MONOTONIC, &Ts);
  return (double)Ts.tv_sec + (double)Ts.tv_nsec / 1e9;
}

int main(void) {
  orc_rt_TaskDispatcherRef D = NULL;
  orc_rt_SessionRef S;
  orc_rt_WrapperFunctionBuffer R;
  double T0;

  /* 1. The one-worker deadlock ends with the timeout error. */
  REQUIRE(orc_rt_ThreadPoolTaskDispatcher_create(1, &D) == NULL);
  S = orc_rt_Session_create(D);
  REQUIRE(S != NULL);
  Ctl = orc_rt_InProcessController_create();
  REQUIRE(orc_rt_Session_attachInProcessController(S, Ctl) == NULL);
  R = orc_rt_InProcessController_callWrapperSyncTimeout(
      Ctl, echo, orc_rt_CreateWrapperFunctionBufferFromString("hi"), 30000);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&R) == NULL);
  CHECK(R.Size == 3 && memcmp(orc_rt_WrapperFunctionBufferData(&R), "hi", 3) == 0);
  orc_rt_WrapperFunctionBufferDispose(&R);
  R = orc_rt_InProcessController_callWrapperSync(
      Ctl, nested, orc_rt_CreateWrapperFunctionBufferFromString("hi"));
  CHECK(oob_contains(&R, "orc_rt_InProcessController_callWrapperSyncTimeout: timed out"));
  orc_rt_Session_destroy(S);
  orc_rt_InProcessController_dispose(Ctl);

  /* 2. A kept Return: the shutdown wait is bounded, destroy does not wait. */
  S = orc_rt_Session_create(NULL);
  REQUIRE(S != NULL);
  Ctl = orc_rt_InProcessController_create();
  REQUIRE(orc_rt_Session_attachInProcessController(S, Ctl) == NULL);
  orc_rt_InProcessController_callWrapper(Ctl, keep,
                                         orc_rt_CreateWrapperFunctionBufferFromString("x"),
                                         on_result, NULL);
  T0 = now_s();
  while (!HeldReturn && now_s() - T0 < 10) {
    struct timespec Ms = {0, 1000000L};
    nanosleep(&Ms, NULL);
  }
  REQUIRE(HeldReturn != NULL);
  CHECK(error_contains(orc_rt_Session_shutdownAndWaitTimeout(S, 50),
                       "session shutdown did not complete within 50ms"));
  T0 = now_s();
  orc_rt_Session_destroy(S);
  CHECK(now_s() - T0 < 5);
  CHECK(Results == 0);
  HeldReturn(HeldS, HeldId, orc_rt_CreateWrapperFunctionBufferFromString("late"));
  CHECK(Results == 1);
  orc_rt_InProcessController_dispose(Ctl);

  TEST_FINISH("test_timeouts");
}
