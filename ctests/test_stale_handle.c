/*
 * test_stale_handle.c: a destroyed, disposed or consumed handle is refused
 * by every function, every time, even when a new object of the same kind
 * took over its table slot, and even after many objects were created and
 * freed at the addresses a raw pointer would have used.
 *
 * For each handle kind the old handle is kept, the object destroyed, and
 * new objects are made until one lands in the old handle's slot. Then the
 * old handle goes to every function that takes it: each must return its
 * documented error or do nothing, and the new object must not notice (no
 * call, reply, report or callback reaches it). The ASan and valgrind
 * variants check that nothing freed is touched and nothing leaks.
 *
 * Proving that a slot really was reused needs the handle layout, an
 * implementation detail that only this test relies on: the low 32 bits of
 * a handle are its table slot and kind, the high 32 bits its generation.
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAG ((orc_rt_ControllerHandlerTag)0x5a)
#define MAX_TRIES 64

/* Slot and kind of a handle (see the file comment). */
static unsigned long slot_of(const void *H) { return (unsigned long)((uintptr_t)H & 0xFFFFFFFFu); }

static void rec_detach_cb(void *Ctx, int SR) {
  (void)SR;
  rec_hit((Recorder *)Ctx, "detach");
}

/* callController Return: records the message and whether S was Expected. */
typedef struct {
  Recorder R;
  orc_rt_SessionRef Expected;
  int WrongSession;
} Ret;
static void rec_return(orc_rt_SessionRef S, orc_rt_WrapperFunctionBuffer B, void *Ctx) {
  Ret *X = (Ret *)Ctx;
  if (S != X->Expected)
    ++X->WrongSession;
  rec_result(&X->R, B);
}

/* ---- wrapper functions ---- */
/* The stale Session handle a wrapper function tries to return through. */
static orc_rt_SessionRef StaleSession;
static void return_via_stale_wf(orc_rt_SessionRef S, uint64_t CallId,
                                orc_rt_WrapperFunctionReturn Return,
                                orc_rt_WrapperFunctionBuffer ArgBytes) {
  Return(StaleSession, CallId, heap_args()); /* refused, freed */
  Return(S, CallId, ArgBytes);
}

/* Controller handler: counts its calls in Ctx (a Recorder) and answers. */
static void counting_handler(void *Ctx, orc_rt_WrapperFunctionBuffer A,
                             orc_rt_ControllerResponderRef R) {
  rec_hit((Recorder *)Ctx, "handler");
  orc_rt_WrapperFunctionBufferDispose(&A);
  orc_rt_ControllerResponder_respond(R, orc_rt_CreateWrapperFunctionBufferFromString("answered"));
}

/* ---- a C service that records its calls ---- */
typedef struct {
  Recorder R;
  int Destroyed;
} Svc;
static void svc_on_detach(void *Ctx, int SR, orc_rt_ServiceCompletionRef Done) {
  (void)SR;
  rec_hit(&((Svc *)Ctx)->R, "detach");
  orc_rt_ServiceCompletion_complete(Done, NULL);
}
static void svc_on_shutdown(void *Ctx, orc_rt_ServiceCompletionRef Done) {
  rec_hit(&((Svc *)Ctx)->R, "shutdown");
  orc_rt_ServiceCompletion_complete(Done, NULL);
}
static void svc_destroy(void *Ctx) { ++((Svc *)Ctx)->Destroyed; }
static orc_rt_ServiceFunctions svc_fns(Svc *X) {
  orc_rt_ServiceFunctions F;
  F.Ctx = X;
  F.OnDetach = svc_on_detach;
  F.OnShutdown = svc_on_shutdown;
  F.Destroy = svc_destroy;
  return F;
}

/* ---- 1. Sessions ---- */
static void test_session(void) {
  orc_rt_SessionRef Old, New = NULL, Made[MAX_TRIES];
  orc_rt_InProcessControllerRef CNew = orc_rt_InProcessController_create();
  orc_rt_InProcessControllerRef CFree = orc_rt_InProcessController_create();
  orc_rt_NotificationServiceRef N = orc_rt_NotificationService_create();
  Recorder Rep, Bad, R, Handler;
  Ret Returned;
  Svc S1;
  orc_rt_WrapperFunctionBuffer B;
  int I, NumMade = 0, P[2];

  rec_init(&Rep);
  rec_init(&Bad);
  rec_init(&R);
  rec_init(&Handler);
  rec_init(&Returned.R);
  memset(&S1, 0, sizeof(S1));
  rec_init(&S1.R);

  Old = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  REQUIRE_VOID(Old != NULL);
  orc_rt_Session_destroy(Old);
  for (I = 0; I < MAX_TRIES && !New; ++I) {
    orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
    REQUIRE_VOID(S != NULL);
    Made[NumMade++] = S;
    if (slot_of(S) == slot_of(Old))
      New = S;
  }
  REQUIRE_VOID(New != NULL); /* a new Session took the old one's slot */
  CHECK(New != Old);

  orc_rt_Session_setErrorReporter(New, rec_reporter, &Rep);
  orc_rt_InProcessController_addHandler(CNew, TAG, counting_handler, &Handler);
  CHECK(orc_rt_Session_attachInProcessController(New, CNew) == NULL);

  /* Every function that takes a Session, given the old handle. */
  orc_rt_Session_setErrorReporter(Old, rec_reporter, &Bad);
  orc_rt_Session_reportError(Old, orc_rt_StringError_create("reported to the old Session"));
  CHECK(error_contains(orc_rt_Session_addService(Old, svc_fns(&S1)), "invalid or destroyed orc_rt_SessionRef"));
  CHECK(S1.Destroyed == 1 && rec_calls(&S1.R) == 0);
  CHECK(error_contains(orc_rt_Session_addNotificationService(Old, N), "invalid or destroyed"));
  CHECK(error_contains(orc_rt_Session_attachInProcessController(Old, CFree), "invalid or destroyed"));
  B = orc_rt_InProcessController_callWrapperSync(CFree, echo_wf, heap_args());
  CHECK(oob_contains(&B, "not connected")); /* CFree was not attached */
  Returned.Expected = Old;
  Returned.WrongSession = 0;
  orc_rt_Session_callController(Old, TAG, heap_args(), rec_return, &Returned);
  CHECK(rec_calls(&Returned.R) == 1);
  CHECK(rec_last_contains(&Returned.R, "invalid or destroyed orc_rt_SessionRef"));
  CHECK(Returned.WrongSession == 0); /* Return got the old handle back */
  CHECK(rec_calls(&Handler) == 0);   /* New's controller was not called */
  CHECK(error_contains(orc_rt_Session_dispatch(Old, rec_cb, rec_cb, &R), "invalid or destroyed"));
  orc_rt_Session_detach(Old, rec_cb, &R);
  orc_rt_Session_waitForDetach(Old); /* returns at once */
  orc_rt_Session_shutdown(Old, rec_cb, &R);
  CHECK(error_contains(orc_rt_Session_waitForShutdown(Old), "invalid or destroyed"));
  REQUIRE_VOID(pipe(P) == 0);
  CHECK(error_contains(orc_rt_Session_attachSimpleRemoteEPC(Old, P[0], P[1]), "invalid or destroyed"));
  CHECK(fd_open(P[0]) && fd_open(P[1])); /* left alone */
  close(P[0]);
  close(P[1]);
  orc_rt_Session_destroy(Old); /* again: refused, New survives */
  CHECK(rec_calls(&R) == 0);   /* no Run, Dispose, OnDetach or OnShutdown */

  /* A wrapper function returning through the old handle is refused; its
   * proper return still arrives. */
  StaleSession = Old;
  B = orc_rt_InProcessController_callWrapperSync(CNew, return_via_stale_wf, heap_args());
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == NULL);
  orc_rt_WrapperFunctionBufferDispose(&B);

  /* New noticed none of it: attached, running, nothing reported. */
  CHECK(echo_works(CNew, "echo"));
  CHECK(orc_rt_Session_dispatch(New, rec_cb, NULL, &R) == NULL);
  CHECK(rec_calls(&R) == 1); /* in-place: ran now */
  Returned.Expected = New;
  orc_rt_Session_callController(New, TAG, heap_args(), rec_return, &Returned);
  CHECK(rec_calls(&Handler) == 1);
  CHECK(rec_calls(&Returned.R) == 2 && rec_last_contains(&Returned.R, "answered"));
  CHECK(Returned.WrongSession == 0);
  CHECK(rec_calls(&Rep) == 0);
  CHECK(rec_calls(&Bad) == 0);

  for (I = 0; I < NumMade; ++I)
    orc_rt_Session_destroy(Made[I]);
  CHECK(rec_calls(&Rep) == 0);
  orc_rt_InProcessController_dispose(CNew);
  orc_rt_InProcessController_dispose(CFree);
  orc_rt_NotificationService_dispose(N);
  rec_destroy(&Rep);
  rec_destroy(&Bad);
  rec_destroy(&R);
  rec_destroy(&Handler);
  rec_destroy(&Returned.R);
  rec_destroy(&S1.R);
}

/* ---- 2. raw addresses cannot stand in for handles ---- */
static void test_addresses(void) {
  enum { Cycles = 50 };
  static orc_rt_SessionRef OldS[Cycles];
  static orc_rt_ErrorRef OldE[Cycles];
  orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
  orc_rt_TaskDispatcherRef D = orc_rt_InPlaceTaskDispatcher_create();
  orc_rt_WrapperFunctionBuffer B;
  int I, J, Distinct = 1;
  /* The address of a freed block, kept as a number. It goes through a
   * volatile so that the compiler cannot trace it back to the freed
   * pointer: gcc's -Wuse-after-free (with optimization) would otherwise
   * flag the casts below, although the value is only passed on as an
   * opaque handle. orc-rt looks handles up by table slot and generation and
   * never dereferences them, which is what this part of the test proves. */
  volatile uintptr_t FreedAddr;
  uintptr_t Freed;
  void *Block;
  char *Msg;
  struct {
    int Member;
  } Local;

  /* Create and free the same kind of object over and over: an allocator
   * hands the same addresses back, but no handle value ever comes back,
   * and every old one stays refused. */
  for (I = 0; I < Cycles; ++I) {
    OldS[I] = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
    orc_rt_Session_destroy(OldS[I]);
    OldE[I] = orc_rt_StringError_create("short-lived");
    orc_rt_Error_consume(OldE[I]);
    for (J = 0; J < I; ++J)
      Distinct &= OldS[J] != OldS[I] && OldE[J] != OldE[I];
  }
  CHECK(Distinct);
  for (I = 0; I < Cycles; I += 9) {
    CHECK(error_contains(orc_rt_Session_waitForShutdown(OldS[I]), "invalid or destroyed"));
    Msg = orc_rt_Error_toString(OldE[I]);
    CHECK(Msg && strstr(Msg, "invalid or destroyed orc_rt_ErrorRef"));
    orc_rt_Error_freeErrorMessage(Msg);
  }

  /* Addresses of C memory (freed, or live) are not handles. */
  Block = malloc(64);
  FreedAddr = (uintptr_t)Block;
  free(Block);
  Freed = FreedAddr;
  CHECK(error_contains(orc_rt_Session_waitForShutdown((orc_rt_SessionRef)(void *)Freed), "invalid or destroyed"));
  CHECK(error_contains(orc_rt_Session_waitForShutdown((orc_rt_SessionRef)(void *)&Local), "invalid or destroyed"));
  orc_rt_Session_destroy((orc_rt_SessionRef)(void *)&Local);
  orc_rt_InProcessController_dispose((orc_rt_InProcessControllerRef)(void *)&Local);
  orc_rt_TaskDispatcher_dispose((orc_rt_TaskDispatcherRef)(void *)Freed);
  orc_rt_Error_consume((orc_rt_ErrorRef)(void *)&Local);
  CHECK(orc_rt_Error_getTypeId((orc_rt_ErrorRef)(void *)&Local) == NULL);
  B = orc_rt_InProcessController_callWrapperSync((orc_rt_InProcessControllerRef)(void *)Freed, echo_wf, heap_args());
  CHECK(oob_contains(&B, "invalid or destroyed orc_rt_InProcessControllerRef"));

  /* A live handle of one kind is refused where another kind is expected. */
  CHECK(error_contains(orc_rt_Session_waitForShutdown((orc_rt_SessionRef)(void *)C), "invalid or destroyed"));
  CHECK(orc_rt_Session_create((orc_rt_TaskDispatcherRef)(void *)C) == NULL);
  orc_rt_Error_consume((orc_rt_ErrorRef)(void *)D);
  B = orc_rt_InProcessController_callWrapperSync((orc_rt_InProcessControllerRef)(void *)D, echo_wf, heap_args());
  CHECK(oob_contains(&B, "invalid or destroyed"));
  /* ... and both are still live and usable afterwards. */
  {
    orc_rt_SessionRef S = orc_rt_Session_create(D);
    CHECK(S != NULL);
    CHECK(orc_rt_Session_attachInProcessController(S, C) == NULL);
    CHECK(echo_works(C, "echo"));
    orc_rt_Session_destroy(S);
  }
  orc_rt_InProcessController_dispose(C);
}

/* ---- 3. dispatchers ---- */
static void test_dispatcher(void) {
  orc_rt_TaskDispatcherRef Old = NULL, New;
  orc_rt_SessionRef S;
  CHECK(orc_rt_ThreadPoolTaskDispatcher_create(1, &Old) == NULL);
  REQUIRE_VOID(Old != NULL);
  orc_rt_TaskDispatcher_dispose(Old);
  New = orc_rt_InPlaceTaskDispatcher_create();
  REQUIRE_VOID(New != NULL);
  CHECK(slot_of(New) == slot_of(Old)); /* the next one takes the slot */
  CHECK(New != Old);
  CHECK(orc_rt_Session_create(Old) == NULL); /* refused, not the new one */
  orc_rt_TaskDispatcher_dispose(Old);
  S = orc_rt_Session_create(New); /* New was not taken */
  CHECK(S != NULL);
  /* A dispatcher consumed by orc_rt_Session_create is stale too. */
  CHECK(orc_rt_Session_create(New) == NULL);
  orc_rt_TaskDispatcher_dispose(New);
  orc_rt_Session_destroy(S);
}

/* ---- 4. controllers ---- */
static void test_controller(void) {
  orc_rt_InProcessControllerRef Old = orc_rt_InProcessController_create(), New;
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  orc_rt_SessionRef S2 = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  orc_rt_WrapperFunctionBuffer B;
  Recorder Handler, R;
  Ret Returned;
  REQUIRE_VOID(Old && S && S2);
  rec_init(&Handler);
  rec_init(&R);
  rec_init(&Returned.R);
  Returned.Expected = S;
  Returned.WrongSession = 0;
  orc_rt_InProcessController_dispose(Old);
  New = orc_rt_InProcessController_create();
  CHECK(slot_of(New) == slot_of(Old));
  CHECK(New != Old);
  CHECK(orc_rt_Session_attachInProcessController(S, New) == NULL);

  orc_rt_InProcessController_addHandler(Old, TAG, counting_handler, &Handler);
  orc_rt_Session_callController(S, TAG, heap_args(), rec_return, &Returned);
  CHECK(rec_calls(&Returned.R) == 1);
  CHECK(rec_last_contains(&Returned.R, "no handler registered")); /* not added to New */
  CHECK(rec_calls(&Handler) == 0);
  orc_rt_InProcessController_callWrapper(Old, echo_wf, heap_args(), rec_result, &R);
  CHECK(rec_calls(&R) == 1);
  CHECK(rec_last_contains(&R, "invalid or destroyed orc_rt_InProcessControllerRef"));
  orc_rt_InProcessController_callWrapperAtAddress(Old, 1, 0, heap_args(), rec_result, &R);
  CHECK(rec_calls(&R) == 2);
  CHECK(rec_last_contains(&R, "invalid or destroyed orc_rt_InProcessControllerRef"));
  B = orc_rt_InProcessController_callWrapperSync(Old, echo_wf, heap_args());
  CHECK(oob_contains(&B, "invalid or destroyed orc_rt_InProcessControllerRef"));
  orc_rt_InProcessController_disconnect(Old); /* must not disconnect New */
  CHECK(error_contains(orc_rt_Session_attachInProcessController(S2, Old), "invalid or destroyed"));
  orc_rt_InProcessController_dispose(Old);

  CHECK(echo_works(New, "echo")); /* New is still attached and serving S */
  orc_rt_Session_destroy(S);
  orc_rt_Session_destroy(S2);
  orc_rt_InProcessController_dispose(New);
  rec_destroy(&Handler);
  rec_destroy(&R);
  rec_destroy(&Returned.R);
}

/* ---- 5. notification services ---- */
static void test_notification(void) {
  orc_rt_NotificationServiceRef Old = orc_rt_NotificationService_create(), New;
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  Recorder OldCb, NewCb;
  REQUIRE_VOID(Old && S);
  rec_init(&OldCb);
  rec_init(&NewCb);
  orc_rt_NotificationService_dispose(Old);
  New = orc_rt_NotificationService_create();
  CHECK(slot_of(New) == slot_of(Old));
  CHECK(New != Old);
  CHECK(orc_rt_Session_addNotificationService(S, New) == NULL);
  orc_rt_NotificationService_addOnDetach(New, rec_detach_cb, &NewCb);
  orc_rt_NotificationService_addOnShutdown(New, rec_cb, &NewCb);

  orc_rt_NotificationService_addOnDetach(Old, rec_detach_cb, &OldCb);
  orc_rt_NotificationService_addOnShutdown(Old, rec_cb, &OldCb);
  CHECK(error_contains(orc_rt_Session_addNotificationService(S, Old), "invalid or destroyed orc_rt_NotificationServiceRef"));
  orc_rt_NotificationService_dispose(Old);

  orc_rt_Session_shutdown(S, NULL, NULL);
  CHECK(orc_rt_Session_waitForShutdown(S) == NULL);
  CHECK(rec_calls(&NewCb) == 2); /* New's detach and shutdown callbacks */
  CHECK(rec_calls(&OldCb) == 0); /* the old handle's never registered */
  orc_rt_Session_destroy(S);
  orc_rt_NotificationService_dispose(New);
  rec_destroy(&OldCb);
  rec_destroy(&NewCb);
}

/* ---- 6. errors ---- */
static void test_error(void) {
  orc_rt_ErrorRef Old = orc_rt_StringError_create("first"), New;
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  Recorder Rep;
  char *Msg;
  REQUIRE_VOID(Old && S);
  rec_init(&Rep);
  orc_rt_Session_setErrorReporter(S, rec_reporter, &Rep);
  orc_rt_Error_consume(Old);
  New = orc_rt_StringError_create("second");
  CHECK(slot_of(New) == slot_of(Old));
  CHECK(New != Old);

  CHECK(orc_rt_Error_getTypeId(Old) == NULL);
  Msg = orc_rt_Error_toString(Old); /* refused: says so, New untouched */
  CHECK(Msg && strstr(Msg, "invalid or destroyed orc_rt_ErrorRef"));
  orc_rt_Error_freeErrorMessage(Msg);
  orc_rt_Error_consume(Old);
  orc_rt_Error_cantFail(Old); /* refused, does not abort */
  orc_rt_Session_reportError(S, Old);
  CHECK(rec_calls(&Rep) == 1);
  CHECK(rec_last_contains(&Rep, "invalid or destroyed orc_rt_ErrorRef"));
  orc_rt_ServiceCompletion_complete(NULL, Old);

  CHECK(orc_rt_Error_getTypeId(New) == orc_rt_StringError_getTypeId());
  Msg = orc_rt_Error_toString(New);
  CHECK_STREQ(Msg, "second");
  orc_rt_Error_freeErrorMessage(Msg);
  orc_rt_Session_destroy(S);
  rec_destroy(&Rep);
}

/* ---- 7. responders ---- */
static orc_rt_ControllerResponderRef KeptR[2];
static int NumKeptR;
static void keeping_handler(void *Ctx, orc_rt_WrapperFunctionBuffer A,
                            orc_rt_ControllerResponderRef R) {
  (void)Ctx;
  orc_rt_WrapperFunctionBufferDispose(&A);
  KeptR[NumKeptR++] = R;
}

static void test_responder(void) {
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
  Ret First, Second;
  REQUIRE_VOID(S && C);
  rec_init(&First.R);
  rec_init(&Second.R);
  First.Expected = Second.Expected = S;
  First.WrongSession = Second.WrongSession = 0;
  orc_rt_InProcessController_addHandler(C, TAG, keeping_handler, NULL);
  CHECK(orc_rt_Session_attachInProcessController(S, C) == NULL);

  orc_rt_Session_callController(S, TAG, heap_args(), rec_return, &First);
  REQUIRE_VOID(NumKeptR == 1);
  orc_rt_ControllerResponder_respond(KeptR[0], orc_rt_CreateWrapperFunctionBufferFromString("one"));
  CHECK(rec_calls(&First.R) == 1 && rec_last_contains(&First.R, "one"));

  orc_rt_Session_callController(S, TAG, heap_args(), rec_return, &Second);
  REQUIRE_VOID(NumKeptR == 2);
  CHECK(slot_of(KeptR[1]) == slot_of(KeptR[0]));
  CHECK(KeptR[1] != KeptR[0]);
  /* The first call's responder again: refused, the second call is not
   * answered by it, and the first is not answered twice. */
  orc_rt_ControllerResponder_respond(KeptR[0], orc_rt_CreateWrapperFunctionBufferFromString("stale"));
  CHECK(rec_calls(&First.R) == 1);
  CHECK(rec_calls(&Second.R) == 0);
  orc_rt_ControllerResponder_respond(KeptR[1], orc_rt_CreateWrapperFunctionBufferFromString("two"));
  CHECK(rec_calls(&Second.R) == 1 && rec_last_contains(&Second.R, "two"));
  CHECK(First.WrongSession == 0 && Second.WrongSession == 0);

  orc_rt_Session_destroy(S);
  orc_rt_InProcessController_dispose(C);
  rec_destroy(&First.R);
  rec_destroy(&Second.R);
}

/* ---- 8. service completions ---- */
typedef struct {
  const char *Name;
  pthread_mutex_t *M;
  orc_rt_ServiceCompletionRef *Slot; /* where OnShutdown leaves Done */
} HoldingSvc;

static void holding_on_shutdown(void *Ctx, orc_rt_ServiceCompletionRef Done) {
  HoldingSvc *H = (HoldingSvc *)Ctx;
  pthread_mutex_lock(H->M);
  *H->Slot = Done;
  pthread_mutex_unlock(H->M);
}

static orc_rt_ServiceCompletionRef wait_for_done(pthread_mutex_t *M, orc_rt_ServiceCompletionRef *Slot) {
  orc_rt_ServiceCompletionRef D = NULL;
  int I;
  for (I = 0; I < 1000 && !D; ++I) {
    pthread_mutex_lock(M);
    D = *Slot;
    *Slot = NULL;
    pthread_mutex_unlock(M);
    if (!D)
      sleep_ms(10);
  }
  return D;
}

static void test_completion(void) {
  pthread_mutex_t M = PTHREAD_MUTEX_INITIALIZER;
  orc_rt_ServiceCompletionRef Slot = NULL, DoneB, DoneA;
  HoldingSvc A, B;
  orc_rt_ServiceFunctions FA, FB;
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  Recorder Finished;
  REQUIRE_VOID(S != NULL);
  rec_init(&Finished);
  A.Name = "A";
  B.Name = "B";
  A.M = B.M = &M;
  A.Slot = B.Slot = &Slot;
  memset(&FA, 0, sizeof(FA));
  memset(&FB, 0, sizeof(FB));
  FA.Ctx = &A;
  FA.OnShutdown = holding_on_shutdown;
  FB.Ctx = &B;
  FB.OnShutdown = holding_on_shutdown;
  CHECK(orc_rt_Session_addService(S, FA) == NULL);
  CHECK(orc_rt_Session_addService(S, FB) == NULL);

  orc_rt_Session_shutdown(S, rec_cb, &Finished);
  DoneB = wait_for_done(&M, &Slot); /* reverse order: B first */
  REQUIRE_VOID(DoneB != NULL);
  orc_rt_ServiceCompletion_complete(DoneB, NULL);
  DoneA = wait_for_done(&M, &Slot);
  REQUIRE_VOID(DoneA != NULL);
  CHECK(slot_of(DoneA) == slot_of(DoneB));
  CHECK(DoneA != DoneB);
  /* B's completion again: refused, A's is not completed by it. */
  orc_rt_ServiceCompletion_complete(DoneB, orc_rt_StringError_create("stale completion"));
  sleep_ms(100);
  CHECK(rec_calls(&Finished) == 0); /* still waiting for A */
  orc_rt_ServiceCompletion_complete(DoneA, NULL);
  CHECK(orc_rt_Session_waitForShutdown(S) == NULL);
  CHECK(rec_calls(&Finished) == 1);
  orc_rt_ServiceCompletion_complete(DoneA, NULL); /* after shutdown: refused */
  orc_rt_Session_destroy(S);
  rec_destroy(&Finished);
  pthread_mutex_destroy(&M);
}

/* ---- 9. tasks of a C dispatcher ---- */
static orc_rt_TaskRef Queue[8];
static int QueueLen;
static void queue_dispatch(void *Ctx, orc_rt_TaskRef T) {
  (void)Ctx;
  if (QueueLen < 8)
    Queue[QueueLen++] = T;
  else
    orc_rt_Task_dispose(T);
}
static void queue_shutdown(void *Ctx) {
  int I;
  (void)Ctx;
  for (I = 0; I < QueueLen; ++I)
    orc_rt_Task_dispose(Queue[I]);
  QueueLen = 0;
}

static void test_task(void) {
  orc_rt_TaskDispatcherFunctions F;
  orc_rt_SessionRef S;
  orc_rt_TaskRef T1, T2;
  Recorder Ran, Dropped;
  memset(&F, 0, sizeof(F));
  F.Dispatch = queue_dispatch;
  F.Shutdown = queue_shutdown;
  S = orc_rt_Session_create(orc_rt_TaskDispatcher_createCustom(F));
  REQUIRE_VOID(S != NULL);
  rec_init(&Ran);
  rec_init(&Dropped);

  CHECK(orc_rt_Session_dispatch(S, rec_cb, rec_cb, &Ran) == NULL);
  REQUIRE_VOID(QueueLen == 1);
  T1 = Queue[--QueueLen];
  orc_rt_Task_run(T1);
  CHECK(rec_calls(&Ran) == 1);
  CHECK(orc_rt_Session_dispatch(S, rec_cb, rec_cb, &Dropped) == NULL);
  REQUIRE_VOID(QueueLen == 1);
  T2 = Queue[0];
  CHECK(slot_of(T2) == slot_of(T1));
  CHECK(T2 != T1);
  orc_rt_Task_run(T1);     /* refused: does not run T2 */
  orc_rt_Task_dispose(T1); /* refused: does not drop T2 */
  CHECK(rec_calls(&Ran) == 1);
  CHECK(rec_calls(&Dropped) == 0);
  orc_rt_Session_destroy(S); /* the dispatcher's Shutdown disposes of T2 */
  CHECK(rec_calls(&Dropped) == 1);
  orc_rt_Task_run(T2); /* consumed by then: refused */
  CHECK(rec_calls(&Dropped) == 1);
  rec_destroy(&Ran);
  rec_destroy(&Dropped);
}

int main(void) {
  test_session();
  test_addresses();
  test_dispatcher();
  test_controller();
  test_notification();
  test_error();
  test_responder();
  test_completion();
  test_task();
  TEST_FINISH("stale_handle");
}
