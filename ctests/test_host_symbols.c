/*
 * test_host_symbols.c: host symbols and the Session's context through the
 * C API: orc_rt_Session_defineSymbol refuses bad input, the context
 * pointer round-trips, and orc_rt_Session_current() names the Session of
 * the controller call the thread runs (NULL elsewhere), so a function
 * called during that call reaches the host's state without a global.
 */
#include "orc-rt.h"
#include "test_util.h"

#include <stdint.h>

struct State {
  int Calls;
};

static int host_add(int A, int B) { return A + B; }

/* A native wrapper function that reaches the host state the way a host
 * function called by JIT'd code would: through the current Session. */
static void count_wf(orc_rt_SessionRef S, uint64_t CallId,
                     orc_rt_WrapperFunctionReturn Return,
                     orc_rt_WrapperFunctionBuffer ArgBytes) {
  orc_rt_SessionRef Cur = orc_rt_Session_current();
  struct State *St = (struct State *)orc_rt_Session_getContext(Cur);
  if (Cur == S && St)
    ++St->Calls;
  Return(S, CallId, ArgBytes);
}

int main(void) {
  struct State St = {0};
  orc_rt_SessionRef S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  orc_rt_InProcessControllerRef C = orc_rt_InProcessController_create();
  orc_rt_WrapperFunctionBuffer R;
  REQUIRE(S != NULL && C != NULL);

  CHECK(no_error(orc_rt_Session_defineSymbol(S, "host_add", (uint64_t)(uintptr_t)&host_add)));
  CHECK(error_contains(orc_rt_Session_defineSymbol(S, NULL, 1), "Name is NULL"));
  CHECK(error_contains(orc_rt_Session_defineSymbol(S, "zero", 0), "address 0"));
  CHECK(error_contains(orc_rt_Session_defineSymbol(S, "", 1), "empty"));
  CHECK(error_contains(orc_rt_Session_defineSymbol(NULL, "x", 1), "orc_rt_SessionRef"));

  CHECK(orc_rt_Session_getContext(S) == NULL);
  orc_rt_Session_setContext(S, &St);
  CHECK(orc_rt_Session_getContext(S) == &St);
  CHECK(orc_rt_Session_getContext(NULL) == NULL);
  CHECK(orc_rt_Session_current() == NULL);

  REQUIRE(no_error(orc_rt_Session_attachInProcessController(S, C)));
  R = orc_rt_InProcessController_callWrapperSync(
      C, count_wf, orc_rt_CreateWrapperFunctionBufferFromString("hi"));
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&R) == NULL);
  orc_rt_DisposeWrapperFunctionBuffer(&R);
  CHECK(St.Calls == 1);
  CHECK(orc_rt_Session_current() == NULL);

  orc_rt_Session_setContext(S, NULL);
  CHECK(orc_rt_Session_getContext(S) == NULL);
  orc_rt_InProcessController_dispose(C);
  orc_rt_Session_destroy(S);
  TEST_FINISH("test_host_symbols");
}
