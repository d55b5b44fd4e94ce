/*
 * test_header_c99.c: orc-rt.h is valid C99 under -Wall -Wextra -Werror
 * -pedantic, is idempotent (include guard), and its layout promises hold.
 *
 * The real checks are at compile time; main only confirms the run.
 */
#include "orc-rt.h"
#include "orc-rt.h" /* second include must be harmless */

#include <stddef.h>
#include <stdio.h>

/* C99 has no _Static_assert: a negative array size fails the build. */
#define STATIC_CHECK(name, cond) typedef char static_check_##name[(cond) ? 1 : -1]

STATIC_CHECK(version_major, ORC_RT_VERSION_MAJOR == 0);
STATIC_CHECK(version_minor, ORC_RT_VERSION_MINOR >= 1);
STATIC_CHECK(buffer_size, sizeof(orc_rt_WrapperFunctionBuffer) ==
                              sizeof(char *) + sizeof(size_t));
STATIC_CHECK(data_offset, offsetof(orc_rt_WrapperFunctionBuffer, Data) == 0);
STATIC_CHECK(size_offset,
             offsetof(orc_rt_WrapperFunctionBuffer, Size) == sizeof(char *));
STATIC_CHECK(inline_bytes, sizeof(((orc_rt_WrapperFunctionBuffer *)0)->Data.Value) ==
                               sizeof(char *));

/* Function types the API promises (assignment fails to compile otherwise). */
static orc_rt_WrapperFunctionBuffer (*const AllocateFn)(size_t) =
    orc_rt_WrapperFunctionBufferAllocate;
static void (*const DisposeFn)(orc_rt_WrapperFunctionBuffer *) =
    orc_rt_WrapperFunctionBufferDispose;
/* The deprecated spelling keeps the same type. */
static void (*const OldDisposeFn)(orc_rt_WrapperFunctionBuffer *) =
    orc_rt_DisposeWrapperFunctionBuffer;
static orc_rt_ErrorRef (*const CreateErrFn)(const char *) =
    orc_rt_StringError_create;
static char *(*const ToStringFn)(orc_rt_ErrorRef) = orc_rt_Error_toString;

/* A native wrapper function and return function can be written in C. */
static void demo_return(orc_rt_SessionRef S, uint64_t CallId,
                        orc_rt_WrapperFunctionBuffer ResultBytes) {
  (void)S;
  (void)CallId;
  orc_rt_WrapperFunctionBufferDispose(&ResultBytes);
}

static void demo_wrapper(orc_rt_SessionRef S, uint64_t CallId,
                         orc_rt_WrapperFunctionReturn Return,
                         orc_rt_WrapperFunctionBuffer ArgBytes) {
  Return(S, CallId, ArgBytes);
}

int main(void) {
  orc_rt_WrapperFunction W = demo_wrapper;
  orc_rt_WrapperFunctionBuffer B = AllocateFn(3);
  char *Msg = ToStringFn(CreateErrFn("x"));
  int Ok = Msg != NULL && orc_rt_ErrorSuccess == NULL;
  orc_rt_Error_freeErrorMessage(Msg);
  W(NULL, 1, demo_return, B); /* demo_return disposes of B */
  DisposeFn(NULL);
  OldDisposeFn(NULL);
  printf("test_header_c99: header OK (orc-rt %d.%d.%d)\n", ORC_RT_VERSION_MAJOR,
         ORC_RT_VERSION_MINOR, ORC_RT_VERSION_PATCH);
  return Ok ? 0 : 1;
}
