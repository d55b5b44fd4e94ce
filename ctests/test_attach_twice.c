/*
 * test_attach_twice.c: one in-process controller serves one Session.
 *
 * Attaching a controller that already serves Session A to Session B
 * returns an error; B stays unattached and usable: it attaches another
 * controller, serves calls in both directions, and shuts down cleanly,
 * while A keeps its own controller. A controller that has been
 * disconnected cannot be attached again either.
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TAG ((orc_rt_ControllerHandlerTag)0x70)

/* Echoes its argument bytes. */
static void echo_wf(orc_rt_SessionRef S, uint64_t CallId, orc_rt_WrapperFunctionReturn Return,
                    orc_rt_WrapperFunctionBuffer ArgBytes) {
  Return(S, CallId, ArgBytes);
}

/* Returns 1 if the echo call through C comes back with Text. */
static int echo_works(orc_rt_InProcessControllerRef C, const char *Text) {
  orc_rt_WrapperFunctionBuffer R = orc_rt_InProcessController_callWrapperSync(
      C, echo_wf, orc_rt_CreateWrapperFunctionBufferFromString(Text));
  const char *Err = orc_rt_WrapperFunctionBufferGetOutOfBandError(&R);
  int Ok = !Err && orc_rt_WrapperFunctionBufferSize(&R) == strlen(Text) + 1 &&
           strcmp(orc_rt_WrapperFunctionBufferConstData(&R), Text) == 0;
  if (!Ok)
    fprintf(stderr, "echo \"%s\" failed: %s\n", Text, Err ? Err : "(wrong bytes)");
  orc_rt_WrapperFunctionBufferDispose(&R);
  return Ok;
}

/* Controller handler: answers with its context (a string naming the
 * controller), so the caller sees which controller served it. */
static void name_handler(void *Ctx, orc_rt_WrapperFunctionBuffer ArgBytes,
                         orc_rt_ControllerResponderRef R) {
  orc_rt_WrapperFunctionBufferDispose(&ArgBytes);
  orc_rt_ControllerResponder_respond(R, orc_rt_CreateWrapperFunctionBufferFromString((const char *)Ctx));
}

/* callController result, recorded (the in-place handler answers at once). */
typedef struct {
  int Calls;
  char Got[256];
} Answer;

static void record_answer(orc_rt_SessionRef S, orc_rt_WrapperFunctionBuffer R, void *Ctx) {
  Answer *A = (Answer *)Ctx;
  const char *Err = orc_rt_WrapperFunctionBufferGetOutOfBandError(&R);
  (void)S;
  ++A->Calls;
  if (Err)
    snprintf(A->Got, sizeof(A->Got), "error: %s", Err);
  else if (orc_rt_WrapperFunctionBufferSize(&R) > 0)
    snprintf(A->Got, sizeof(A->Got), "%s", orc_rt_WrapperFunctionBufferConstData(&R));
  orc_rt_WrapperFunctionBufferDispose(&R);
}

/* Returns 1 if calling the controller of S reaches the handler named Want. */
static int controller_is(orc_rt_SessionRef S, const char *Want) {
  Answer A;
  memset(&A, 0, sizeof(A));
  orc_rt_Session_callController(S, TAG, orc_rt_WrapperFunctionBufferAllocate(0), record_answer, &A);
  if (A.Calls != 1 || strcmp(A.Got, Want) != 0) {
    fprintf(stderr, "controller call: %d answers, last \"%s\", want \"%s\"\n", A.Calls, A.Got,
            Want);
    return 0;
  }
  return 1;
}

int main(void) {
  orc_rt_SessionRef A = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  orc_rt_SessionRef B = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  orc_rt_SessionRef D;
  orc_rt_InProcessControllerRef C1 = orc_rt_InProcessController_create();
  orc_rt_InProcessControllerRef C2 = orc_rt_InProcessController_create();
  orc_rt_InProcessControllerRef C3 = orc_rt_InProcessController_create();
  REQUIRE(A && B && C1 && C2 && C3);
  orc_rt_InProcessController_addHandler(C1, TAG, name_handler, (void *)"C1");
  orc_rt_InProcessController_addHandler(C2, TAG, name_handler, (void *)"C2");
  orc_rt_InProcessController_addHandler(C3, TAG, name_handler, (void *)"C3");

  /* C1 serves A; attaching it to B as well is refused. */
  CHECK(check_ok(orc_rt_Session_attachInProcessController(A, C1)));
  CHECK(error_contains(orc_rt_Session_attachInProcessController(B, C1),
                       "already attached to another Session"));
  /* Refused again: the first refusal left nothing half-attached. */
  CHECK(error_contains(orc_rt_Session_attachInProcessController(B, C1),
                       "already attached to another Session"));

  /* B is unattached, not broken: calls to its controller are refused as
   * detached, and it takes another controller. */
  CHECK(controller_is(B, "error: controller is detached: cannot call controller handler 0x70"));
  CHECK(check_ok(orc_rt_Session_attachInProcessController(B, C2)));
  CHECK(controller_is(B, "C2"));
  CHECK(echo_works(C2, "through C2 to B"));

  /* A still has C1, in both directions. */
  CHECK(controller_is(A, "C1"));
  CHECK(echo_works(C1, "through C1 to A"));

  /* Disconnecting C1 detaches A only; B keeps serving. */
  orc_rt_InProcessController_disconnect(C1);
  orc_rt_Session_waitForDetach(A);
  CHECK(controller_is(A, "error: controller is detached: cannot call controller handler 0x70"));
  CHECK(controller_is(B, "C2"));
  CHECK(echo_works(C2, "B after A detached"));

  /* A disconnected controller is not reusable: a fresh Session D refuses
   * it, then attaches C3 and works. */
  D = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  REQUIRE(D != NULL);
  CHECK(error_contains(orc_rt_Session_attachInProcessController(D, C1), "closed"));
  CHECK(check_ok(orc_rt_Session_attachInProcessController(D, C3)));
  CHECK(controller_is(D, "C3"));
  CHECK(echo_works(C3, "through C3 to D"));

  /* Every Session shuts down cleanly. */
  orc_rt_Session_shutdown(B, NULL, NULL);
  CHECK(check_ok(orc_rt_Session_waitForShutdown(B)));
  orc_rt_Session_destroy(A);
  orc_rt_Session_destroy(B);
  orc_rt_Session_destroy(D);
  orc_rt_InProcessController_dispose(C1);
  orc_rt_InProcessController_dispose(C2);
  orc_rt_InProcessController_dispose(C3);
  TEST_FINISH("attach_twice");
}
