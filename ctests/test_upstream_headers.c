/*
 * test_upstream_headers.c: C code written against upstream orc-rt's C
 * headers compiles and works here. It includes only the upstream include
 * paths (include/orc-rt-c/...), never orc-rt.h by name, and uses upstream's
 * names for errors, buffers and controller calls.
 *
 * The function-pointer assignments below are the signature check: with
 * -Werror, any difference in a parameter or return type from upstream's
 * declaration fails the build. The wrapper-function types are the one
 * documented difference (argument order), checked the same way.
 *
 * Upstream's C API cannot create a Session, so the part that needs one
 * uses this runtime's orc_rt_Session_create and _destroy.
 */
#define _POSIX_C_SOURCE 200809L

#include <orc-rt-c/bedrock/Session.h>
#include <orc-rt-c/support/CoreTypes.h>
#include <orc-rt-c/support/Error.h>
#include <orc-rt-c/support/WrapperFunction.h>

#include "test_util.h"

#include <stdint.h>
#include <string.h>

/* ---- signatures: upstream's declarations, as function pointer types ---- */
static void test_signatures(void) {
  orc_rt_Error_TypeId (*GetTypeId)(orc_rt_ErrorRef) = orc_rt_Error_getTypeId;
  void (*Consume)(orc_rt_ErrorRef) = orc_rt_Error_consume;
  void (*CantFail)(orc_rt_ErrorRef) = orc_rt_Error_cantFail;
  char *(*ToString)(orc_rt_ErrorRef) = orc_rt_Error_toString;
  void (*FreeMsg)(char *) = orc_rt_Error_freeErrorMessage;
  orc_rt_Error_TypeId (*StrTypeId)(void) = orc_rt_StringError_getTypeId;
  orc_rt_ErrorRef (*StrCreate)(const char *) = orc_rt_StringError_create;

  void (*Init)(orc_rt_WrapperFunctionBuffer *) = orc_rt_WrapperFunctionBufferInit;
  orc_rt_WrapperFunctionBuffer (*Allocate)(size_t) = orc_rt_WrapperFunctionBufferAllocate;
  orc_rt_WrapperFunctionBuffer (*FromRange)(const char *, size_t) =
      orc_rt_CreateWrapperFunctionBufferFromRange;
  orc_rt_WrapperFunctionBuffer (*FromString)(const char *) =
      orc_rt_CreateWrapperFunctionBufferFromString;
  orc_rt_WrapperFunctionBuffer (*FromError)(const char *) =
      orc_rt_CreateWrapperFunctionBufferFromOutOfBandError;
  void (*Dispose)(orc_rt_WrapperFunctionBuffer *) = orc_rt_WrapperFunctionBufferDispose;
  char *(*Data)(orc_rt_WrapperFunctionBuffer *) = orc_rt_WrapperFunctionBufferData;
  const char *(*ConstData)(const orc_rt_WrapperFunctionBuffer *) =
      orc_rt_WrapperFunctionBufferConstData;
  size_t (*Size)(const orc_rt_WrapperFunctionBuffer *) = orc_rt_WrapperFunctionBufferSize;
  size_t (*Empty)(const orc_rt_WrapperFunctionBuffer *) = orc_rt_WrapperFunctionBufferEmpty;
  const char *(*GetError)(const orc_rt_WrapperFunctionBuffer *) =
      orc_rt_WrapperFunctionBufferGetOutOfBandError;

  void (*CallController)(orc_rt_SessionRef, orc_rt_ControllerHandlerTag,
                         orc_rt_WrapperFunctionBuffer, orc_rt_Session_CallControllerReturn,
                         void *) = orc_rt_Session_callController;
  void (*CallControllerReturn)(orc_rt_SessionRef, orc_rt_WrapperFunctionBuffer, void *) =
      (orc_rt_Session_CallControllerReturn)0;

  /* The documented difference: this runtime's order is (S, CallId, Return,
   * ArgBytes) and (S, CallId, ResultBytes); upstream's now ends with the
   * call id. */
  void (*Return)(orc_rt_SessionRef, uint64_t, orc_rt_WrapperFunctionBuffer) =
      (orc_rt_WrapperFunctionReturn)0;
  void (*Wrapper)(orc_rt_SessionRef, uint64_t, orc_rt_WrapperFunctionReturn,
                  orc_rt_WrapperFunctionBuffer) = (orc_rt_WrapperFunction)0;

  CHECK(GetTypeId && Consume && CantFail && ToString && FreeMsg && StrTypeId && StrCreate);
  CHECK(Init && Allocate && FromRange && FromString && FromError && Dispose && Data &&
        ConstData && Size && Empty && GetError);
  CHECK(CallController != NULL);
  CHECK(!CallControllerReturn && !Return && !Wrapper);
  /* The same layout as upstream's: a pointer-sized union, then the size. */
  CHECK(sizeof(orc_rt_WrapperFunctionBufferDataUnion) == sizeof(char *));
  CHECK(sizeof(((orc_rt_WrapperFunctionBufferDataUnion *)0)->Value) == sizeof(char *));
  CHECK(sizeof(orc_rt_WrapperFunctionBuffer) == sizeof(char *) + sizeof(size_t));
}

/* ---- errors, upstream's names only ---- */
static void test_errors(void) {
  orc_rt_ErrorRef Ok = orc_rt_ErrorSuccess;
  orc_rt_ErrorRef E = orc_rt_StringError_create("upstream-style error");
  orc_rt_Error_TypeId Id;
  char *Msg;

  CHECK(Ok == NULL);
  orc_rt_Error_cantFail(Ok); /* success: returns */
  REQUIRE_VOID(E != orc_rt_ErrorSuccess);
  Id = orc_rt_Error_getTypeId(E);
  CHECK(Id != NULL && Id == orc_rt_StringError_getTypeId());
  Msg = orc_rt_Error_toString(E); /* consumes E */
  CHECK_STREQ(Msg, "upstream-style error");
  orc_rt_Error_freeErrorMessage(Msg);

  E = orc_rt_StringError_create("dropped");
  orc_rt_Error_consume(E);
}

/* ---- buffers, upstream's names only ---- */
static void test_buffers(void) {
  static const char Long[] = "more bytes than fit inline in the buffer";
  orc_rt_WrapperFunctionBuffer B;
  char *P;

  orc_rt_WrapperFunctionBufferInit(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == 0);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == NULL);
  orc_rt_WrapperFunctionBufferDispose(&B);

  /* Small (inline) and large (heap) contents. */
  B = orc_rt_CreateWrapperFunctionBufferFromRange("abc", 3);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == 3);
  CHECK(memcmp(orc_rt_WrapperFunctionBufferConstData(&B), "abc", 3) == 0);
  CHECK(orc_rt_WrapperFunctionBufferConstData(&B) == B.Data.Value); /* inline */
  orc_rt_WrapperFunctionBufferDispose(&B);
  B = orc_rt_CreateWrapperFunctionBufferFromString(Long);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == sizeof(Long));
  CHECK_STREQ(orc_rt_WrapperFunctionBufferConstData(&B), Long);
  CHECK(orc_rt_WrapperFunctionBufferConstData(&B) == B.Data.ValuePtr); /* heap */
  orc_rt_WrapperFunctionBufferDispose(&B);

  /* Allocate, then fill through Data. */
  B = orc_rt_WrapperFunctionBufferAllocate(sizeof(Long));
  P = orc_rt_WrapperFunctionBufferData(&B);
  REQUIRE_VOID(P != NULL);
  memcpy(P, Long, sizeof(Long));
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 0);
  CHECK_STREQ(orc_rt_WrapperFunctionBufferConstData(&B), Long);
  orc_rt_WrapperFunctionBufferDispose(&B);

  /* Out-of-band error. */
  B = orc_rt_CreateWrapperFunctionBufferFromOutOfBandError("out of band");
  CHECK(B.Size == 0 && B.Data.ValuePtr != NULL);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 0);
  CHECK_STREQ(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B), "out of band");
  orc_rt_WrapperFunctionBufferDispose(&B);
}

/* ---- callController, upstream's names (Session made with ours) ---- */
typedef struct {
  orc_rt_SessionRef S;
  int Calls;
  int SameSession;
  char Msg[128];
} ReturnSeen;

static void on_return(orc_rt_SessionRef S, orc_rt_WrapperFunctionBuffer ResultBytes, void *Ctx) {
  ReturnSeen *R = (ReturnSeen *)Ctx;
  const char *Err = orc_rt_WrapperFunctionBufferGetOutOfBandError(&ResultBytes);
  ++R->Calls;
  R->SameSession = S == R->S;
  snprintf(R->Msg, sizeof(R->Msg), "%s", Err ? Err : "(value)");
  orc_rt_WrapperFunctionBufferDispose(&ResultBytes);
}

static void test_call_controller(void) {
  ReturnSeen R;
  orc_rt_ControllerHandlerTag Tag = (orc_rt_ControllerHandlerTag)0x33;
  memset(&R, 0, sizeof(R));
  R.S = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
  REQUIRE_VOID(R.S != NULL);
  /* No controller attached: Return gets an out-of-band error at once. */
  orc_rt_Session_callController(R.S, Tag, orc_rt_CreateWrapperFunctionBufferFromString("args"),
                                on_return, &R);
  CHECK(R.Calls == 1);
  CHECK(R.SameSession);
  CHECK(strstr(R.Msg, "controller is detached") != NULL);
  orc_rt_Session_destroy(R.S);
}

int main(void) {
  test_signatures();
  test_errors();
  test_buffers();
  test_call_controller();
  TEST_FINISH("upstream_headers");
}
