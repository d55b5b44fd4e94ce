/*
 * test_misuse.c: the C API used wrongly. NULL handles to every function
 * that takes one, calls on a shut-down and on a destroyed Session, double
 * dispose / destroy, misbehaving wrapper functions, a Service and a
 * wrapper function that complete late. Each call must return the
 * documented error (or be the documented no-op) and never crash; the
 * valgrind and ASan variants check that nothing leaks or is touched after
 * free on these paths.
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Huge malloc requests must fail with NULL under ASan too (its default is
 * to abort), so the "cannot allocate" path of the API can be tested. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* ---- wrapper functions ---- */

/* Returns twice: the second return must be refused and its buffer freed. */
static void return_twice_wf(orc_rt_SessionRef S, uint64_t CallId,
                            orc_rt_WrapperFunctionReturn Return,
                            orc_rt_WrapperFunctionBuffer ArgBytes) {
  Return(S, CallId, ArgBytes);
  Return(S, CallId, heap_args());
}

/* Returns through a bogus Session handle, then properly. */
static void bogus_session_wf(orc_rt_SessionRef S, uint64_t CallId,
                             orc_rt_WrapperFunctionReturn Return,
                             orc_rt_WrapperFunctionBuffer ArgBytes) {
  static int Bogus;
  Return((orc_rt_SessionRef)(void *)&Bogus, CallId, heap_args());
  Return(NULL, CallId, heap_args());
  Return(S, CallId, ArgBytes);
}

/* Keeps the call pending: stores what is needed to return later. */
static pthread_mutex_t late_mutex = PTHREAD_MUTEX_INITIALIZER;
static orc_rt_SessionRef late_session;
static uint64_t late_call_id;
static orc_rt_WrapperFunctionReturn late_return;
static void late_wf(orc_rt_SessionRef S, uint64_t CallId, orc_rt_WrapperFunctionReturn Return,
                    orc_rt_WrapperFunctionBuffer ArgBytes) {
  orc_rt_WrapperFunctionBufferDispose(&ArgBytes);
  pthread_mutex_lock(&late_mutex);
  late_session = S;
  late_call_id = CallId;
  late_return = Return;
  pthread_mutex_unlock(&late_mutex);
}

/* Waits up to 10 s for late_wf to have run; returns its Return. */
static orc_rt_WrapperFunctionReturn wait_late_return(void) {
  int I;
  orc_rt_WrapperFunctionReturn R = NULL;
  for (I = 0; I < 1000 && !R; ++I) {
    pthread_mutex_lock(&late_mutex);
    R = late_return;
    pthread_mutex_unlock(&late_mutex);
    if (!R)
      sleep_ms(10);
  }
  return R;
}

/* ---- a C service that records its calls ---- */
typedef struct {
  Recorder R;
  int Destroyed;
  orc_rt_ServiceCompletionRef HeldShutdown; /* non-NULL: completion kept */
  int HoldShutdown;
} CSvc;

static void svc_on_detach(void *Ctx, int SR, orc_rt_ServiceCompletionRef Done) {
  (void)SR;
  rec_hit(&((CSvc *)Ctx)->R, "detach");
  orc_rt_ServiceCompletion_complete(Done, NULL);
}

static void svc_on_shutdown(void *Ctx, orc_rt_ServiceCompletionRef Done) {
  CSvc *C = (CSvc *)Ctx;
  if (C->HoldShutdown) {
    pthread_mutex_lock(&C->R.M);
    C->HeldShutdown = Done;
    pthread_mutex_unlock(&C->R.M);
    rec_hit(&C->R, "shutdown held");
    return;
  }
  rec_hit(&C->R, "shutdown");
  orc_rt_ServiceCompletion_complete(Done, NULL);
}

static void svc_destroy(void *Ctx) {
  CSvc *C = (CSvc *)Ctx;
  pthread_mutex_lock(&C->R.M);
  ++C->Destroyed;
  pthread_mutex_unlock(&C->R.M);
}

static orc_rt_ServiceFunctions svc_fns(CSvc *C) {
  orc_rt_ServiceFunctions F;
  F.Ctx = C;
  F.OnDetach = svc_on_detach;
  F.OnShutdown = svc_on_shutdown;
  F.Destroy = svc_destroy;
  return F;
}

static int svc_destroyed(CSvc *C) {
  int D;
  pthread_mutex_lock(&C->R.M);
  D = C->Destroyed;
  pthread_mutex_unlock(&C->R.M);
  return D;
}

static void noop_notify_detach(void *Ctx, int SR) {
  (void)Ctx;
  (void)SR;
}
static void noop_notify_shutdown(void *Ctx) { (void)Ctx; }
static void noop_handler(void *Ctx, orc_rt_WrapperFunctionBuffer A,
                         orc_rt_ControllerResponderRef R) {
  (void)Ctx;
  orc_rt_WrapperFunctionBufferDispose(&A);
  orc_rt_ControllerResponder_respond(R, orc_rt_WrapperFunctionBufferAllocate(0));
}
static void noop_dispatch(void *Ctx, orc_rt_TaskRef T) {
  (void)Ctx;
  orc_rt_Task_run(T);
}
static void noop_shutdown(void *Ctx) { (void)Ctx; }

/* ---- 1. errors ---- */
static void test_errors(void) {
  char *Msg;
  orc_rt_ErrorRef E;

  CHECK(orc_rt_Error_getTypeId(NULL) == NULL);
  orc_rt_Error_consume(NULL);
  orc_rt_Error_cantFail(NULL);
  orc_rt_Error_freeErrorMessage(NULL);
  Msg = orc_rt_Error_toString(NULL);
  CHECK_STREQ(Msg, "success");
  orc_rt_Error_freeErrorMessage(Msg);

  E = orc_rt_StringError_create(NULL);
  CHECK(E != NULL);
  CHECK(orc_rt_Error_getTypeId(E) == orc_rt_StringError_getTypeId());
  Msg = orc_rt_Error_toString(E);
  CHECK_STREQ(Msg, "unknown error");
  orc_rt_Error_freeErrorMessage(Msg);
}

/* ---- 2. buffers ---- */
static void test_buffers(void) {
  orc_rt_WrapperFunctionBuffer B;
  static const char Long[] = "more than eight bytes, on the heap";

  /* NULL buffer pointers. */
  orc_rt_WrapperFunctionBufferInit(NULL);
  orc_rt_WrapperFunctionBufferDispose(NULL);
  CHECK(orc_rt_WrapperFunctionBufferData(NULL) == NULL);
  CHECK(orc_rt_WrapperFunctionBufferConstData(NULL) == NULL);
  CHECK(orc_rt_WrapperFunctionBufferSize(NULL) == 0);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(NULL) == 1);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(NULL) == NULL);

  /* NULL data / strings. */
  B = orc_rt_CreateWrapperFunctionBufferFromRange(NULL, 0);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  orc_rt_WrapperFunctionBufferDispose(&B);
  B = orc_rt_CreateWrapperFunctionBufferFromRange(NULL, 5);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == 0);
  CHECK(orc_rt_WrapperFunctionBufferData(&B) == NULL);
  CHECK(oob_contains(&B, "NULL data with size 5"));
  B = orc_rt_CreateWrapperFunctionBufferFromString(NULL);
  CHECK(oob_contains(&B, "NULL string"));
  B = orc_rt_CreateWrapperFunctionBufferFromOutOfBandError(NULL);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 0);
  CHECK(oob_contains(&B, "unknown error"));

  /* An impossible allocation is an out-of-band error, not a crash.
   * (SIZE_MAX / 2: valgrind counts a "negative" malloc size as an error.) */
  B = orc_rt_WrapperFunctionBufferAllocate(SIZE_MAX / 2);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == 0);
  CHECK(oob_contains(&B, "could not allocate"));

  /* Double dispose in every state: the second is a no-op. */
  B = orc_rt_CreateWrapperFunctionBufferFromRange("abc", 3);
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);

  B = orc_rt_CreateWrapperFunctionBufferFromRange(Long, sizeof(Long));
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == 0);

  B = orc_rt_CreateWrapperFunctionBufferFromOutOfBandError("oops");
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == NULL);
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
}

/* ---- 3. NULL handles everywhere else ---- */
static void test_null_handles(void) {
  Recorder R;
  CSvc Svc;
  orc_rt_WrapperFunctionBuffer B;
  orc_rt_TaskDispatcherRef D = NULL;
  orc_rt_TaskDispatcherFunctions DF;
  orc_rt_ErrorRef E;

  rec_init(&R);
  memset(&Svc, 0, sizeof(Svc));
  rec_init(&Svc.R);

  /* Session functions with S == NULL. */
  orc_rt_Session_destroy(NULL);
  orc_rt_Session_setErrorReporter(NULL, rec_reporter, &R);
  orc_rt_Session_reportError(NULL, NULL);
  orc_rt_Session_reportError(NULL, orc_rt_StringError_create("reported to no session"));
  CHECK(error_contains(orc_rt_Session_addService(NULL, svc_fns(&Svc)), "invalid"));
  CHECK(svc_destroyed(&Svc) == 1); /* Destroy runs at once on failure */
  CHECK(rec_calls(&Svc.R) == 0);
  {
    orc_rt_NotificationServiceRef N = orc_rt_NotificationService_create();
    CHECK(error_contains(orc_rt_Session_addNotificationService(NULL, N), "invalid"));
    orc_rt_NotificationService_dispose(N);
  }
  {
    orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
    CHECK(error_contains(orc_rt_Session_attachInProcessController(NULL, C), "invalid"));
    orc_rt_InProcessController_dispose(C);
  }
  orc_rt_Session_callController(NULL, (orc_rt_ControllerHandlerTag)1, heap_args(),
                                rec_controller_return, &R);
  CHECK(rec_calls(&R) == 1);
  CHECK(rec_last_contains(&R, "invalid orc_rt_SessionRef: NULL"));
  orc_rt_Session_callController(NULL, (orc_rt_ControllerHandlerTag)1, heap_args(), NULL, NULL);
  CHECK(error_contains(orc_rt_Session_dispatch(NULL, rec_cb, rec_cb, &R), "invalid"));
  CHECK(rec_calls(&R) == 1); /* neither Run nor Dispose on this error */
  orc_rt_Session_detach(NULL, rec_cb, &R);
  orc_rt_Session_waitForDetach(NULL);
  orc_rt_Session_shutdown(NULL, rec_cb, &R);
  CHECK(rec_calls(&R) == 1); /* completions are not called for a bad S */
  CHECK(error_contains(orc_rt_Session_waitForShutdown(NULL), "invalid"));

  /* A bogus (never created) Session handle is refused the same way. */
  CHECK(error_contains(orc_rt_Session_waitForShutdown((orc_rt_SessionRef)(void *)&R), "invalid"));
  orc_rt_Session_destroy((orc_rt_SessionRef)(void *)&R);

  /* Controller functions with C == NULL. */
  orc_rt_InProcessController_dispose(NULL);
  orc_rt_InProcessController_addHandler(NULL, (orc_rt_ControllerHandlerTag)1, noop_handler, NULL);
  orc_rt_InProcessController_disconnect(NULL);
  orc_rt_ControllerResponder_respond(NULL, heap_args()); /* only frees */
  orc_rt_InProcessController_callWrapper(NULL, echo_wf, heap_args(), rec_result, &R);
  CHECK(rec_calls(&R) == 2);
  CHECK(rec_last_contains(&R, "invalid orc_rt_InProcessControllerRef: NULL"));
  orc_rt_InProcessController_callWrapper(NULL, echo_wf, heap_args(), NULL, NULL);
  orc_rt_InProcessController_callWrapperAtAddress(NULL, 1, 0, heap_args(), rec_result, &R);
  CHECK(rec_calls(&R) == 3);
  CHECK(rec_last_contains(&R, "invalid orc_rt_InProcessControllerRef: NULL"));
  B = orc_rt_InProcessController_callWrapperSync(NULL, echo_wf, heap_args());
  CHECK(oob_contains(&B, "invalid orc_rt_InProcessControllerRef: NULL"));
  {
    /* NULL function / address 0 / NULL handler with a live controller. */
    orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
    orc_rt_InProcessController_addHandler(C, (orc_rt_ControllerHandlerTag)1, NULL, NULL);
    orc_rt_InProcessController_callWrapper(C, NULL, heap_args(), rec_result, &R);
    CHECK(rec_calls(&R) == 4);
    CHECK(rec_last_contains(&R, "NULL function"));
    orc_rt_InProcessController_callWrapperAtAddress(C, 0, 1, heap_args(), rec_result, &R);
    CHECK(rec_calls(&R) == 5);
    CHECK(rec_last_contains(&R, "function address 0"));
    B = orc_rt_InProcessController_callWrapperSync(C, NULL, heap_args());
    CHECK(oob_contains(&B, "NULL function"));
    /* Not attached to any Session yet. */
    orc_rt_InProcessController_callWrapper(C, echo_wf, heap_args(), rec_result, &R);
    CHECK(rec_calls(&R) == 6);
    CHECK(rec_last_contains(&R, "not connected"));
    orc_rt_InProcessController_disconnect(C);
    orc_rt_InProcessController_disconnect(C); /* idempotent */
    orc_rt_InProcessController_dispose(C);
  }

  /* Notification service functions with N == NULL, and NULL callbacks. */
  orc_rt_NotificationService_dispose(NULL);
  orc_rt_NotificationService_addOnDetach(NULL, noop_notify_detach, NULL);
  orc_rt_NotificationService_addOnShutdown(NULL, noop_notify_shutdown, NULL);
  {
    orc_rt_NotificationServiceRef N = orc_rt_NotificationService_create();
    orc_rt_NotificationService_addOnDetach(N, NULL, NULL);
    orc_rt_NotificationService_addOnShutdown(N, NULL, NULL);
    orc_rt_NotificationService_dispose(N);
  }

  /* Completions, dispatchers and tasks. */
  orc_rt_ServiceCompletion_complete(NULL, NULL);
  orc_rt_ServiceCompletion_complete(NULL, orc_rt_StringError_create("dropped")); /* freed */
  E = orc_rt_ThreadPoolTaskDispatcher_create(1, NULL);
  CHECK(error_contains(E, "Result is NULL"));
  E = orc_rt_ThreadPoolTaskDispatcher_create(1, &D);
  CHECK(E == NULL && D != NULL);
  orc_rt_TaskDispatcher_dispose(D); /* never given to a Session: shut down here */
  orc_rt_TaskDispatcher_dispose(NULL);
  orc_rt_Task_run(NULL);
  orc_rt_Task_dispose(NULL);
  D = orc_rt_GrowingThreadPoolTaskDispatcher_create();
  CHECK(D != NULL);
  orc_rt_TaskDispatcher_dispose(D); /* never used: no thread was started */
  memset(&DF, 0, sizeof(DF));
  CHECK(orc_rt_TaskDispatcher_createCustom(DF) == NULL);
  DF.Dispatch = noop_dispatch;
  CHECK(orc_rt_TaskDispatcher_createCustom(DF) == NULL); /* Shutdown missing */
  DF.Dispatch = NULL;
  DF.Shutdown = noop_shutdown;
  CHECK(orc_rt_TaskDispatcher_createCustom(DF) == NULL); /* Dispatch missing */

  CHECK(rec_calls(&R) == 6);
  rec_destroy(&Svc.R);
  rec_destroy(&R);
}

/* ---- 4. a Session that is shut down, then destroyed ---- */
static void test_after_shutdown(void) {
  Recorder R, Rep;
  CSvc Svc;
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
  orc_rt_NotificationServiceRef N = orc_rt_NotificationService_create();
  orc_rt_WrapperFunctionBuffer B;

  rec_init(&R);
  rec_init(&Rep);
  memset(&Svc, 0, sizeof(Svc));
  rec_init(&Svc.R);
  REQUIRE_VOID(S != NULL);
  orc_rt_Session_setErrorReporter(S, rec_reporter, &Rep);
  CHECK(orc_rt_Session_attachInProcessController(S, C) == NULL);
  /* A second attach is refused; a NULL controller / service too. */
  CHECK(error_contains(orc_rt_Session_attachInProcessController(S, C), "already attached"));
  CHECK(error_contains(orc_rt_Session_attachInProcessController(S, NULL), "invalid orc_rt_InProcessControllerRef: NULL"));
  CHECK(error_contains(orc_rt_Session_addNotificationService(S, NULL), "invalid orc_rt_NotificationServiceRef: NULL"));
  CHECK(error_contains(orc_rt_Session_dispatch(S, NULL, rec_cb, &R), "NULL Run"));
  CHECK(rec_calls(&R) == 0);

  orc_rt_Session_shutdown(S, NULL, NULL);
  CHECK(orc_rt_Session_waitForShutdown(S) == NULL);

  /* Every call on the shut-down Session is refused or completes at once. */
  CHECK(error_contains(orc_rt_Session_addService(S, svc_fns(&Svc)), "shut down"));
  CHECK(svc_destroyed(&Svc) == 1);
  CHECK(rec_calls(&Svc.R) == 0);
  CHECK(error_contains(orc_rt_Session_addNotificationService(S, N), "shut down"));
  {
    orc_rt_InProcessControllerRef C2 = orc_rt_InProcessController_create();
    CHECK(error_contains(orc_rt_Session_attachInProcessController(S, C2), "shut down"));
    orc_rt_InProcessController_dispose(C2);
  }
  orc_rt_Session_callController(S, (orc_rt_ControllerHandlerTag)1, heap_args(),
                                rec_controller_return, &R);
  CHECK(rec_calls(&R) == 1);
  CHECK(rec_last_contains(&R, "shut down"));
  /* dispatch succeeds but the task is dropped: Dispose, not Run. */
  CHECK(orc_rt_Session_dispatch(S, rec_cb, NULL, &R) == NULL);
  CHECK(rec_calls(&R) == 1); /* Run was not called */
  {
    Recorder Disposed;
    rec_init(&Disposed);
    CHECK(orc_rt_Session_dispatch(S, rec_cb, rec_cb, &Disposed) == NULL);
    CHECK(rec_calls(&Disposed) == 1);
    rec_destroy(&Disposed);
  }
  orc_rt_Session_detach(S, rec_cb, &R); /* already detached: runs now */
  CHECK(rec_calls(&R) == 2);
  orc_rt_Session_waitForDetach(S);
  orc_rt_Session_shutdown(S, rec_cb, &R); /* already shut down: runs now */
  CHECK(rec_calls(&R) == 3);
  CHECK(orc_rt_Session_waitForShutdown(S) == NULL);
  orc_rt_InProcessController_callWrapper(C, echo_wf, heap_args(), rec_result, &R);
  CHECK(rec_calls(&R) == 4);
  CHECK(rec_last_contains(&R, "detached or shut down"));
  B = orc_rt_InProcessController_callWrapperSync(C, echo_wf, heap_args());
  CHECK(oob_contains(&B, "detached or shut down"));
  orc_rt_Session_reportError(S, orc_rt_StringError_create("late report"));
  CHECK(rec_calls(&Rep) == 1);
  CHECK(rec_last_contains(&Rep, "late report"));

  /* Destroyed: the stale handle is refused, never dereferenced. */
  orc_rt_Session_destroy(S);
  orc_rt_Session_destroy(S); /* double destroy: reported on stderr */
  CHECK(error_contains(orc_rt_Session_waitForShutdown(S), "invalid or destroyed"));
  CHECK(error_contains(orc_rt_Session_dispatch(S, rec_cb, rec_cb, &R), "invalid or destroyed"));
  CHECK(error_contains(orc_rt_Session_addNotificationService(S, N), "invalid or destroyed"));
  orc_rt_Session_callController(S, (orc_rt_ControllerHandlerTag)1, heap_args(),
                                rec_controller_return, &R);
  CHECK(rec_calls(&R) == 5);
  CHECK(rec_last_contains(&R, "invalid or destroyed"));
  orc_rt_Session_setErrorReporter(S, NULL, NULL);
  orc_rt_Session_reportError(S, orc_rt_StringError_create("reported to a destroyed session"));
  orc_rt_Session_detach(S, rec_cb, &R);
  orc_rt_Session_shutdown(S, rec_cb, &R);
  orc_rt_Session_waitForDetach(S);
  CHECK(rec_calls(&R) == 5);
  orc_rt_InProcessController_callWrapper(C, echo_wf, heap_args(), rec_result, &R);
  CHECK(rec_calls(&R) == 6);
  CHECK(rec_last_contains(&R, "detached or shut down"));

  orc_rt_NotificationService_dispose(N);
  orc_rt_InProcessController_dispose(C);
  CHECK(rec_calls(&Rep) == 1);
  rec_destroy(&Svc.R);
  rec_destroy(&Rep);
  rec_destroy(&R);
}

/* A Session on the growing pool (the one for SimpleRemoteEPC hosts): a task
 * runs on a worker; after shutdown a dispatched task is disposed, not run,
 * although the pool's workers stay parked. */
static void test_growing_pool_after_shutdown(void) {
  Recorder Ran, Disposed;
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_GrowingThreadPoolTaskDispatcher_create());
  rec_init(&Ran);
  rec_init(&Disposed);
  REQUIRE_VOID(S != NULL);
  CHECK(orc_rt_Session_dispatch(S, rec_cb, rec_cb, &Ran) == NULL);
  CHECK(rec_wait(&Ran, 1) == 1);
  orc_rt_Session_shutdown(S, NULL, NULL);
  CHECK(orc_rt_Session_waitForShutdown(S) == NULL);
  CHECK(orc_rt_Session_dispatch(S, rec_cb, rec_cb, &Disposed) == NULL);
  CHECK(rec_calls(&Disposed) == 1); /* Dispose, at once */
  sleep_ms(50);
  CHECK(rec_calls(&Ran) == 1 && rec_calls(&Disposed) == 1); /* Run never came */
  orc_rt_Session_destroy(S);
  rec_destroy(&Ran);
  rec_destroy(&Disposed);
}

/* orc_rt_Session_destroy from inside the Session: from one of its tasks and
 * from a Service's OnDetach. Must not deadlock; the handle is dead at once
 * and shutdown finishes in the background (the Services still get
 * OnShutdown, Destroy runs). */
typedef struct {
  orc_rt_SessionRef S;
  Recorder Destroyed;
} SelfDestroy;

static void destroy_self_task(void *Ctx) {
  SelfDestroy *D = (SelfDestroy *)Ctx;
  orc_rt_Session_destroy(D->S);
  rec_hit(&D->Destroyed, "destroy returned");
}

static void destroy_self_on_detach(void *Ctx, int SR, orc_rt_ServiceCompletionRef Done) {
  SelfDestroy *D = (SelfDestroy *)Ctx;
  (void)SR;
  orc_rt_Session_destroy(D->S);
  rec_hit(&D->Destroyed, "destroy returned");
  orc_rt_ServiceCompletion_complete(Done, NULL);
}

static void test_destroy_from_inside(void) {
  int Round;
  for (Round = 0; Round < 2; ++Round) {
    SelfDestroy D;
    CSvc Svc;
    orc_rt_TaskDispatcherRef Pool = NULL;
    CHECK(orc_rt_ThreadPoolTaskDispatcher_create(1, &Pool) == NULL);
    REQUIRE_VOID(Pool != NULL);
    D.S = orc_rt_Session_create(Pool);
    REQUIRE_VOID(D.S != NULL);
    rec_init(&D.Destroyed);
    memset(&Svc, 0, sizeof(Svc));
    rec_init(&Svc.R);
    CHECK(orc_rt_Session_addService(D.S, svc_fns(&Svc)) == NULL);
    if (Round == 0) {
      CHECK(orc_rt_Session_dispatch(D.S, destroy_self_task, NULL, &D) == NULL);
    } else {
      orc_rt_ServiceFunctions F;
      memset(&F, 0, sizeof(F));
      F.Ctx = &D;
      F.OnDetach = destroy_self_on_detach;
      CHECK(orc_rt_Session_addService(D.S, F) == NULL);
      orc_rt_Session_detach(D.S, NULL, NULL);
    }
    CHECK(rec_wait(&D.Destroyed, 1) == 1);
    /* Shutdown goes on without the caller: OnShutdown, then Destroy. */
    CHECK(rec_wait(&Svc.R, 2) == 2);
    CHECK(rec_last_contains(&Svc.R, "shutdown"));
    {
      int I;
      for (I = 0; I < 1000 && svc_destroyed(&Svc) == 0; ++I)
        sleep_ms(10);
    }
    CHECK(svc_destroyed(&Svc) == 1);
    CHECK(error_contains(orc_rt_Session_waitForShutdown(D.S), "invalid or destroyed"));
    rec_destroy(&Svc.R);
    rec_destroy(&D.Destroyed);
  }
}

/* ---- 5. misbehaving wrapper functions ---- */
static void test_bad_returns(void) {
  Recorder Rep;
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
  orc_rt_WrapperFunctionBuffer B;

  rec_init(&Rep);
  REQUIRE_VOID(S != NULL);
  orc_rt_Session_setErrorReporter(S, rec_reporter, &Rep);
  CHECK(orc_rt_Session_attachInProcessController(S, C) == NULL);

  /* A second Return for the same call is refused and its buffer freed. */
  B = orc_rt_InProcessController_callWrapperSync(C, return_twice_wf, heap_args());
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == NULL);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == sizeof(HEAP_ARGS_TEXT));
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(rec_calls(&Rep) == 1);
  CHECK(rec_last_contains(&Rep, "returned twice"));

  /* Return through a bogus / NULL Session is refused (stderr) and freed;
   * the proper return still arrives. */
  B = orc_rt_InProcessController_callWrapperSync(C, bogus_session_wf, heap_args());
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == NULL);
  orc_rt_WrapperFunctionBufferDispose(&B);

  orc_rt_InProcessController_dispose(C);
  orc_rt_Session_destroy(S);
  rec_destroy(&Rep);
}

/* ---- 6. a Service and a wrapper function that complete late ---- */
/* Never completing is not detectable: shutdown waits for every Service
 * completion and every in-flight call. This checks that it really waits
 * (does not skip or time out) and finishes once they complete. */
typedef struct {
  orc_rt_SessionRef S;
  Recorder Done;
} ShutdownWaiter;

static void *wait_shutdown_thread(void *P) {
  ShutdownWaiter *W = (ShutdownWaiter *)P;
  orc_rt_ErrorRef E = orc_rt_Session_waitForShutdown(W->S);
  rec_hit(&W->Done, E ? "error" : "ok");
  orc_rt_Error_consume(E);
  return NULL;
}

static void test_late_completion(void) {
  CSvc Svc;
  ShutdownWaiter W;
  pthread_t T;
  orc_rt_ServiceCompletionRef Held;
  Recorder Res;
  orc_rt_WrapperFunctionReturn Return;
  int Rc;
  orc_rt_TaskDispatcherRef D = NULL;
  orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();

  CHECK(orc_rt_ThreadPoolTaskDispatcher_create(1, &D) == NULL);
  REQUIRE_VOID(D != NULL);
  W.S = orc_rt_Session_create(D);
  REQUIRE_VOID(W.S != NULL);
  rec_init(&W.Done);
  rec_init(&Res);
  memset(&Svc, 0, sizeof(Svc));
  rec_init(&Svc.R);
  Svc.HoldShutdown = 1;
  CHECK(orc_rt_Session_addService(W.S, svc_fns(&Svc)) == NULL);
  CHECK(orc_rt_Session_attachInProcessController(W.S, C) == NULL);

  /* A call whose wrapper function does not return yet. */
  orc_rt_InProcessController_callWrapper(C, late_wf, heap_args(), rec_result, &Res);
  Return = wait_late_return();
  REQUIRE_VOID(Return != NULL);
  CHECK(rec_calls(&Res) == 0);

  orc_rt_Session_shutdown(W.S, NULL, NULL);
  Rc = pthread_create(&T, NULL, wait_shutdown_thread, &W); /* REQUIRE evaluates twice */
  REQUIRE_VOID(Rc == 0);
  sleep_ms(200);
  CHECK(rec_calls(&W.Done) == 0); /* waiting for the in-flight call */
  CHECK(rec_calls(&Svc.R) == 1);  /* detached, on_shutdown not yet called */

  Return(late_session, late_call_id, heap_args());
  CHECK(rec_wait(&Res, 1) == 1);
  CHECK(rec_last_contains(&Res, HEAP_ARGS_TEXT));
  CHECK(rec_wait(&Svc.R, 2) == 2); /* now on_shutdown, which holds Done */
  sleep_ms(200);
  CHECK(rec_calls(&W.Done) == 0); /* waiting for the Service */

  pthread_mutex_lock(&Svc.R.M);
  Held = Svc.HeldShutdown;
  Svc.HeldShutdown = NULL;
  pthread_mutex_unlock(&Svc.R.M);
  CHECK(Held != NULL);
  orc_rt_ServiceCompletion_complete(Held, NULL);
  CHECK(rec_wait(&W.Done, 1) == 1);
  CHECK(rec_last_contains(&W.Done, "ok"));
  pthread_join(T, NULL);

  orc_rt_InProcessController_dispose(C);
  orc_rt_Session_destroy(W.S);
  CHECK(svc_destroyed(&Svc) == 1);
  rec_destroy(&Svc.R);
  rec_destroy(&Res);
  rec_destroy(&W.Done);
}


/* ---- 7. attaching a SimpleRemoteEPC controller wrongly ---- */

/* Waits for the Session to detach, on a helper thread, for at most 10 s
 * (orc_rt_Session_waitForDetach itself has no timeout). */
static void *wait_detach_thread(void *P) {
  ShutdownWaiter *W = (ShutdownWaiter *)P;
  orc_rt_Session_waitForDetach(W->S);
  rec_hit(&W->Done, "detached");
  return NULL;
}

static int detaches_within_10s(orc_rt_SessionRef S) {
  ShutdownWaiter W;
  pthread_t T;
  int Ok;
  W.S = S;
  rec_init(&W.Done);
  if (pthread_create(&T, NULL, wait_detach_thread, &W) != 0)
    return 0;
  Ok = rec_wait(&W.Done, 1) == 1;
  if (Ok)
    pthread_join(T, NULL);
  else
    pthread_detach(T); /* leaks the waiter; the test has failed anyway */
  if (Ok)
    rec_destroy(&W.Done);
  return Ok;
}

static void test_attach_remote(void) {
  int P[2], Sv[2];
  Recorder Rep;
  orc_rt_SessionRef S;

  rec_init(&Rep);
  /* Already has a controller: refused, the descriptors are closed. (This
   * case first: its attach does the first dlopen, before any Session thread
   * exists; see main.) */
  S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  REQUIRE_VOID(S != NULL);
  {
    orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
    CHECK(orc_rt_Session_attachInProcessController(S, C) == NULL);
    orc_rt_InProcessController_dispose(C);
  }
  REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, Sv) == 0);
  CHECK(error_contains(orc_rt_Session_attachSimpleRemoteEPC(S, Sv[0], Sv[0]), "already attached"));
  CHECK(!fd_open(Sv[0]));
  close(Sv[1]);
  /* Shut down: refused too, descriptors closed. */
  orc_rt_Session_shutdown(S, NULL, NULL);
  CHECK(orc_rt_Session_waitForShutdown(S) == NULL);
  REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, Sv) == 0);
  CHECK(error_contains(orc_rt_Session_attachSimpleRemoteEPC(S, Sv[0], Sv[0]), "shut"));
  CHECK(!fd_open(Sv[0]));
  close(Sv[1]);
  orc_rt_Session_destroy(S);

  /* NULL / destroyed Session, negative and closed descriptors: an error,
   * and the descriptors are left alone. */
  REQUIRE_VOID(pipe(P) == 0);
  CHECK(error_contains(orc_rt_Session_attachSimpleRemoteEPC(NULL, P[0], P[1]), "invalid orc_rt_SessionRef: NULL"));
  CHECK(fd_open(P[0]) && fd_open(P[1]));
  S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  REQUIRE_VOID(S != NULL);
  CHECK(error_contains(orc_rt_Session_attachSimpleRemoteEPC(S, -1, P[1]), "invalid"));
  CHECK(error_contains(orc_rt_Session_attachSimpleRemoteEPC(S, P[0], -5), "invalid"));
  close(P[1]);
  CHECK(error_contains(orc_rt_Session_attachSimpleRemoteEPC(S, P[0], P[1]), ""));
  CHECK(fd_open(P[0]));
  close(P[0]);
  orc_rt_Session_destroy(S);
  CHECK(error_contains(orc_rt_Session_attachSimpleRemoteEPC(S, 0, 1), "invalid or destroyed orc_rt_SessionRef"));

  /* A controller that is already gone (socket peer closed; pipe whose read
   * end is closed, SIGPIPE ignored as documented): the Session detaches by
   * itself, the failure goes to the error reporter, nothing hangs. */
  signal(SIGPIPE, SIG_IGN);
  REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, Sv) == 0);
  close(Sv[1]);
  S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  REQUIRE_VOID(S != NULL);
  orc_rt_Session_setErrorReporter(S, rec_reporter, &Rep);
  orc_rt_ErrorRef E = orc_rt_Session_attachSimpleRemoteEPC(S, Sv[0], Sv[0]);
  orc_rt_Error_consume(E); /* an early error or a later detach: both fine */
  CHECK(detaches_within_10s(S));
  orc_rt_Session_destroy(S);

  {
    int In[2], Out[2];
    REQUIRE_VOID(pipe(In) == 0 && pipe(Out) == 0);
    close(Out[0]); /* nobody reads what the executor writes */
    S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
    REQUIRE_VOID(S != NULL);
    orc_rt_Session_setErrorReporter(S, rec_reporter, &Rep);
    orc_rt_Error_consume(orc_rt_Session_attachSimpleRemoteEPC(S, In[0], Out[1]));
    CHECK(detaches_within_10s(S));
    close(In[1]);
    orc_rt_Session_destroy(S);
  }

  /* Garbage instead of SimpleRemoteEPC frames: a protocol error, detach. */
  REQUIRE_VOID(socketpair(AF_UNIX, SOCK_STREAM, 0, Sv) == 0);
  S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  REQUIRE_VOID(S != NULL);
  orc_rt_Session_setErrorReporter(S, rec_reporter, &Rep);
  CHECK(orc_rt_Session_attachSimpleRemoteEPC(S, Sv[0], Sv[0]) == NULL);
  {
    /* A header announcing a 2^62-byte frame, then junk. */
    static const unsigned char Junk[] = {0, 0, 0, 0, 0, 0, 0, 0x40, 1, 2, 3, 4, 5, 6, 7, 8,
                                         9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                         22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33};
    CHECK(write(Sv[1], Junk, sizeof(Junk)) == (ssize_t)sizeof(Junk));
  }
  CHECK(detaches_within_10s(S));
  CHECK(rec_calls(&Rep) >= 1);
  close(Sv[1]);
  orc_rt_Session_destroy(S);
  rec_destroy(&Rep);
}

int main(void) {
  /* First, before any thread exists: the first successful attach dlopens
   * libstdc++ (RTLD_GLOBAL), and glibc 2.36's dlopen in a process that has
   * ever had a second thread loses a small l_initfini block that valgrind
   * reports as definitely lost (reproduced without orc-rt: pthread_create +
   * join, then dlopen("libstdc++.so.6"); see tests/SANITIZERS.md). */
  test_attach_remote();
  test_errors();
  test_buffers();
  test_null_handles();
  test_after_shutdown();
  test_growing_pool_after_shutdown();
  test_destroy_from_inside();
  test_bad_returns();
  test_late_completion();
  TEST_FINISH("misuse");
}
