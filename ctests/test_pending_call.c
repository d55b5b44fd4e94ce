/*
 * test_pending_call.c: a call to the controller (orc_rt_Session_callController)
 * that is still unanswered when the Session shuts down.
 *
 * The controller handler keeps its responder. Shutdown must still
 * complete; Return must have been called exactly once, with an
 * out-of-band error and the S it was called with, before
 * orc_rt_Session_waitForShutdown / orc_rt_Session_destroy return; and the
 * late answer, sent from another thread after destroy, must reach nothing
 * (the ASan and valgrind variants check that nothing is touched after it
 * was freed, and that the late answer's buffer is freed). A second call's
 * responder is never answered at all.
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TAG ((orc_rt_ControllerHandlerTag)0x51)

/* ---- what the handler keeps ---- */
static pthread_mutex_t Mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t Cv = PTHREAD_COND_INITIALIZER;
static orc_rt_ControllerResponderRef Kept[4];
static int NumKept;

/* Keeps the responder, answers nothing. */
static void keeping_handler(void *Ctx, orc_rt_WrapperFunctionBuffer ArgBytes,
                            orc_rt_ControllerResponderRef R) {
  (void)Ctx;
  orc_rt_WrapperFunctionBufferDispose(&ArgBytes);
  pthread_mutex_lock(&Mu);
  Kept[NumKept++] = R;
  pthread_mutex_unlock(&Mu);
}

/* ---- what Return saw ---- */
typedef struct {
  orc_rt_SessionRef Expected; /* the S passed to callController */
  int Calls;
  int WrongSession;
  int AfterDone; /* calls that came after the waiter returned */
  int Done;      /* set once waitForShutdown / destroy returned */
  char Msg[256];
} Seen;

static void on_return(orc_rt_SessionRef S, orc_rt_WrapperFunctionBuffer R, void *Ctx) {
  Seen *W = (Seen *)Ctx;
  const char *Err = orc_rt_WrapperFunctionBufferGetOutOfBandError(&R);
  pthread_mutex_lock(&Mu);
  ++W->Calls;
  W->WrongSession += S != W->Expected;
  W->AfterDone += W->Done;
  snprintf(W->Msg, sizeof(W->Msg), "%s", Err ? Err : "(a value, not an error)");
  pthread_mutex_unlock(&Mu);
  orc_rt_WrapperFunctionBufferDispose(&R);
}

static void mark_done(Seen *W) {
  pthread_mutex_lock(&Mu);
  W->Done = 1;
  pthread_mutex_unlock(&Mu);
}

static int check_seen(Seen *W, const char *Want) {
  int Ok;
  pthread_mutex_lock(&Mu);
  Ok = W->Calls == 1 && W->WrongSession == 0 && W->AfterDone == 0 && strstr(W->Msg, Want);
  if (!Ok)
    fprintf(stderr, "Return: %d calls, %d with another S, %d after the wait, last \"%s\"\n",
            W->Calls, W->WrongSession, W->AfterDone, W->Msg);
  pthread_mutex_unlock(&Mu);
  return Ok;
}

/* ---- the late answer, from another thread ---- */
typedef struct {
  orc_rt_ControllerResponderRef R;
  int Go;
} Late;

static void *late_answer(void *P) {
  Late *L = (Late *)P;
  static const char Text[] = "an answer that comes far too late, on the heap";
  pthread_mutex_lock(&Mu);
  while (!L->Go)
    pthread_cond_wait(&Cv, &Mu);
  pthread_mutex_unlock(&Mu);
  orc_rt_ControllerResponder_respond(L->R, orc_rt_CreateWrapperFunctionBufferFromRange(Text, sizeof(Text)));
  return NULL;
}

static orc_rt_WrapperFunctionBuffer args(void) {
  static const char Text[] = "arguments that live on the heap, to catch leaks";
  return orc_rt_CreateWrapperFunctionBufferFromRange(Text, sizeof(Text));
}

/* Pending at orc_rt_Session_destroy; answered late from another thread. */
static void test_destroy(int Threads) {
  orc_rt_TaskDispatcherRef D = NULL;
  orc_rt_SessionRef S;
  orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
  Seen First, Second;
  Late L;
  pthread_t T;
  int Rc;

  if (Threads)
    CHECK(orc_rt_ThreadPoolTaskDispatcher_create(2, &D) == NULL);
  else
    D = orc_rt_InPlaceTaskDispatcher_create();
  S = orc_rt_Session_create(D);
  REQUIRE_VOID(S != NULL && C != NULL);
  NumKept = 0;
  memset(&First, 0, sizeof(First));
  memset(&Second, 0, sizeof(Second));
  First.Expected = Second.Expected = S;
  orc_rt_InProcessController_addHandler(C, TAG, keeping_handler, NULL);
  CHECK(orc_rt_Session_attachInProcessController(S, C) == NULL);

  orc_rt_Session_callController(S, TAG, args(), on_return, &First);
  orc_rt_Session_callController(S, TAG, args(), on_return, &Second);
  pthread_mutex_lock(&Mu);
  Rc = NumKept == 2 && First.Calls == 0 && Second.Calls == 0;
  pthread_mutex_unlock(&Mu);
  /* The handler ran on this thread and kept both responders. */
  REQUIRE_VOID(Rc);

  /* First's responder is answered by another thread once destroy returned. */
  L.R = Kept[0];
  L.Go = 0;
  Rc = pthread_create(&T, NULL, late_answer, &L);
  REQUIRE_VOID(Rc == 0);

  orc_rt_Session_destroy(S);
  mark_done(&First);
  mark_done(&Second);
  CHECK(check_seen(&First, "session is shutting down"));
  CHECK(check_seen(&Second, "session is shutting down"));

  pthread_mutex_lock(&Mu);
  L.Go = 1;
  pthread_cond_broadcast(&Cv);
  pthread_mutex_unlock(&Mu);
  pthread_join(T, NULL);
  sleep_ms(20);
  /* The late answer reached nothing: still one Return each. */
  CHECK(check_seen(&First, "session is shutting down"));
  CHECK(check_seen(&Second, "session is shutting down"));
  /* The responder was consumed by the late answer. */
  orc_rt_ControllerResponder_respond(Kept[0], orc_rt_WrapperFunctionBufferAllocate(0));
  /* Second's responder (Kept[1]) is never answered: the handler may keep
   * it as long as it likes. */

  orc_rt_InProcessController_dispose(C);
}

/* Pending at orc_rt_Session_shutdown: Return has run by the time
 * orc_rt_Session_waitForShutdown returns; the late answer comes after it,
 * while the Session still exists, and also reaches nothing. */
static void test_shutdown_then_late_answer(void) {
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
  Seen W;
  REQUIRE_VOID(S != NULL && C != NULL);
  NumKept = 0;
  memset(&W, 0, sizeof(W));
  W.Expected = S;
  orc_rt_InProcessController_addHandler(C, TAG, keeping_handler, NULL);
  CHECK(orc_rt_Session_attachInProcessController(S, C) == NULL);
  orc_rt_Session_callController(S, TAG, args(), on_return, &W);
  REQUIRE_VOID(NumKept == 1);

  orc_rt_Session_shutdown(S, NULL, NULL);
  CHECK(orc_rt_Session_waitForShutdown(S) == NULL);
  mark_done(&W);
  CHECK(check_seen(&W, "session is shutting down"));

  orc_rt_ControllerResponder_respond(Kept[0], args());
  CHECK(check_seen(&W, "session is shutting down"));
  /* A new call after shutdown is refused at once, on this thread. */
  {
    Seen After;
    memset(&After, 0, sizeof(After));
    After.Expected = S;
    orc_rt_Session_callController(S, TAG, args(), on_return, &After);
    CHECK(check_seen(&After, "session is shut down"));
    CHECK(NumKept == 1); /* the handler was not called */
  }
  orc_rt_Session_destroy(S);
  orc_rt_InProcessController_dispose(C);
}

int main(void) {
  test_destroy(0);
  test_destroy(1);
  test_shutdown_then_late_answer();
  TEST_FINISH("pending_call");
}
