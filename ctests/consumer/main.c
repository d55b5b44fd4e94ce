/*
 * A minimal program using an installed orc-rt: builds a buffer and an
 * error through the C API and checks what comes back, then starts a
 * Session (its default thread pool), dispatches one task and destroys the
 * Session, which must run or dispose of the task exactly once. Built by
 * ctests/consumer/CMakeLists.txt (find_package) and by check-install.sh
 * (pkg-config, shared and static).
 */
#include <orc-rt.h>

#include <stdio.h>
#include <string.h>

/* Runs of the task plus disposals of it; written by a pool thread. */
static int TaskEnds;

static void endTask(void *Ctx) {
  (void)Ctx;
  __atomic_add_fetch(&TaskEnds, 1, __ATOMIC_SEQ_CST);
}

static int sessionWorks(void) {
  orc_rt_SessionRef S = orc_rt_Session_create(NULL);
  orc_rt_ErrorRef E;
  if (!S)
    return 0;
  E = orc_rt_Session_dispatch(S, endTask, endTask, NULL);
  if (E) {
    orc_rt_Error_consume(E);
    orc_rt_Session_destroy(S);
    return 0;
  }
  orc_rt_Session_destroy(S);
  return __atomic_load_n(&TaskEnds, __ATOMIC_SEQ_CST) == 1;
}

int main(void) {
  const char Text[] = "installed orc-rt works";
  orc_rt_WrapperFunctionBuffer B =
      orc_rt_CreateWrapperFunctionBufferFromRange(Text, sizeof(Text));
  orc_rt_ErrorRef E = orc_rt_StringError_create("consumer error");
  char *Msg;
  int Ok = orc_rt_WrapperFunctionBufferSize(&B) == sizeof(Text) &&
           strcmp(orc_rt_WrapperFunctionBufferConstData(&B), Text) == 0 &&
           orc_rt_Error_getTypeId(E) == orc_rt_StringError_getTypeId();
  int SessionOk;
  Msg = orc_rt_Error_toString(E);
  Ok = Ok && strcmp(Msg, "consumer error") == 0;
  SessionOk = sessionWorks();
  printf("consumer (orc-rt %d.%d.%d): %s; %s; session %s\n",
         ORC_RT_VERSION_MAJOR, ORC_RT_VERSION_MINOR, ORC_RT_VERSION_PATCH,
         orc_rt_WrapperFunctionBufferConstData(&B), Msg,
         SessionOk ? "OK" : "FAILED");
  orc_rt_Error_freeErrorMessage(Msg);
  orc_rt_DisposeWrapperFunctionBuffer(&B);
  return Ok && SessionOk ? 0 : 1;
}
