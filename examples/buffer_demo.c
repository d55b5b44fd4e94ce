/*
 * buffer_demo.c: a small C host using liborc_rt's C API.
 *
 * It plays both sides of a wrapper-function call in one process: a "wrapper
 * function" written in C receives its argument bytes in an
 * orc_rt_WrapperFunctionBuffer, and answers with a result buffer or with an
 * out-of-band error; errors that C code reports are orc_rt_ErrorRef values.
 *
 * Build and run: scripts/run-example.sh
 */
#include "orc-rt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A wrapper function in the synchronous style: bytes in, bytes out. It
 * upper-cases its argument; an empty argument is an out-of-band error. */
static orc_rt_WrapperFunctionBuffer upcase_wrapper(const char *ArgData,
                                                   size_t ArgSize) {
  orc_rt_WrapperFunctionBuffer Result;
  char *Out;
  size_t I;
  if (ArgSize == 0)
    return orc_rt_CreateWrapperFunctionBufferFromOutOfBandError(
        "upcase_wrapper: empty argument");
  Result = orc_rt_WrapperFunctionBufferAllocate(ArgSize);
  Out = orc_rt_WrapperFunctionBufferData(&Result);
  if (!Out) /* allocation failed: Result already carries the error */
    return Result;
  for (I = 0; I < ArgSize; ++I)
    Out[I] = (char)toupper((unsigned char)ArgData[I]);
  return Result;
}

/* Calls the wrapper with Text and turns its answer into an error or a
 * printed result, the way a caller of a JIT'd wrapper would. */
static orc_rt_ErrorRef call_upcase(const char *Text) {
  orc_rt_WrapperFunctionBuffer Arg =
      orc_rt_CreateWrapperFunctionBufferFromRange(Text, strlen(Text));
  orc_rt_WrapperFunctionBuffer Res = upcase_wrapper(
      orc_rt_WrapperFunctionBufferConstData(&Arg),
      orc_rt_WrapperFunctionBufferSize(&Arg));
  const char *OOB = orc_rt_WrapperFunctionBufferGetOutOfBandError(&Res);
  orc_rt_ErrorRef Err = NULL;
  if (OOB) {
    Err = orc_rt_StringError_create(OOB); /* copies the message */
  } else {
    printf("  \"%s\" -> \"%.*s\" (%zu bytes, %s)\n", Text,
           (int)orc_rt_WrapperFunctionBufferSize(&Res),
           orc_rt_WrapperFunctionBufferConstData(&Res),
           orc_rt_WrapperFunctionBufferSize(&Res),
           orc_rt_WrapperFunctionBufferSize(&Res) <= sizeof(char *)
               ? "stored inline"
               : "heap block");
  }
  orc_rt_WrapperFunctionBufferDispose(&Arg);
  orc_rt_WrapperFunctionBufferDispose(&Res);
  return Err;
}

int main(void) {
  static const char *const Inputs[] = {"jit", "executor-side runtime", ""};
  size_t I;
  int Failures = 0;
  printf("orc-rt %d.%d.%d buffer demo\n", ORC_RT_VERSION_MAJOR,
         ORC_RT_VERSION_MINOR, ORC_RT_VERSION_PATCH);
  for (I = 0; I < sizeof(Inputs) / sizeof(Inputs[0]); ++I) {
    orc_rt_ErrorRef Err = call_upcase(Inputs[I]);
    if (Err) {
      char *Msg;
      int IsString = orc_rt_Error_getTypeId(Err) == orc_rt_StringError_getTypeId();
      Msg = orc_rt_Error_toString(Err); /* consumes Err */
      printf("  \"%s\" -> error (%s): %s\n", Inputs[I],
             IsString ? "StringError" : "other", Msg);
      orc_rt_Error_freeErrorMessage(Msg);
      ++Failures;
    }
  }
  /* Exactly the empty input fails. */
  if (Failures != 1) {
    fprintf(stderr, "buffer_demo: expected 1 error, got %d\n", Failures);
    return 1;
  }
  printf("buffer_demo: OK\n");
  return 0;
}
