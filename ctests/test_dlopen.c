/*
 * test_dlopen.c: a host that does not link liborc_rt.so but dlopens it and
 * resolves the C API by name, as JIT hosts and language bindings do.
 *
 * ORC_RT_DLOPEN_PATH (set by CMake) is the library to open; argv[1], when
 * given, overrides it. Only the header's types are used, not its
 * declarations' link-time bindings.
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#ifndef ORC_RT_DLOPEN_PATH
#define ORC_RT_DLOPEN_PATH "liborc_rt.so"
#endif

/* Function-pointer types of the entry points used here. */
typedef orc_rt_WrapperFunctionBuffer (*AllocateFn)(size_t);
typedef orc_rt_WrapperFunctionBuffer (*FromRangeFn)(const char *, size_t);
typedef orc_rt_WrapperFunctionBuffer (*FromStringFn)(const char *);
typedef orc_rt_WrapperFunctionBuffer (*FromOOBFn)(const char *);
typedef void (*DisposeFn)(orc_rt_WrapperFunctionBuffer *);
typedef void (*InitFn)(orc_rt_WrapperFunctionBuffer *);
typedef char *(*DataFn)(orc_rt_WrapperFunctionBuffer *);
typedef const char *(*ConstDataFn)(const orc_rt_WrapperFunctionBuffer *);
typedef size_t (*SizeFn)(const orc_rt_WrapperFunctionBuffer *);
typedef size_t (*EmptyFn)(const orc_rt_WrapperFunctionBuffer *);
typedef const char *(*GetOOBFn)(const orc_rt_WrapperFunctionBuffer *);
typedef orc_rt_ErrorRef (*ErrCreateFn)(const char *);
typedef orc_rt_Error_TypeId (*ErrTypeIdFn)(orc_rt_ErrorRef);
typedef orc_rt_Error_TypeId (*StringErrTypeIdFn)(void);
typedef char *(*ErrToStringFn)(orc_rt_ErrorRef);
typedef void (*ErrFreeMsgFn)(char *);
typedef void (*ErrConsumeFn)(orc_rt_ErrorRef);
typedef const char *(*GetVersionFn)(uint32_t *, uint32_t *, uint32_t *);

static void *Lib;
static int Missing;

/* dlsym returns void *; ISO C has no object-to-function pointer cast, so
 * copy the bits (POSIX guarantees they are the same size). */
static void resolve(const char *Name, void *FnPtrOut, size_t FnPtrSize) {
  void *Sym = dlsym(Lib, Name);
  if (!Sym) {
    fprintf(stderr, "dlsym(%s) failed: %s\n", Name, dlerror());
    ++Missing;
  }
  memcpy(FnPtrOut, &Sym, FnPtrSize);
}
#define RESOLVE(Var, Name) resolve(Name, &(Var), sizeof(Var))

int main(int argc, char **argv) {
  const char *Path = argc > 1 ? argv[1] : ORC_RT_DLOPEN_PATH;
  AllocateFn Allocate;
  FromRangeFn FromRange;
  FromStringFn FromString;
  FromOOBFn FromOOB;
  DisposeFn Dispose;
  DisposeFn OldDispose; /* the deprecated spelling, for old binaries */
  InitFn Init;
  DataFn Data;
  ConstDataFn ConstData;
  SizeFn Size;
  EmptyFn Empty;
  GetOOBFn GetOOB;
  ErrCreateFn ErrCreate;
  ErrTypeIdFn ErrTypeId;
  StringErrTypeIdFn StringErrTypeId;
  ErrToStringFn ErrToString;
  ErrFreeMsgFn ErrFreeMsg;
  ErrConsumeFn ErrConsume;
  GetVersionFn GetVersion;
  void *Unknown;

  Lib = dlopen(Path, RTLD_NOW | RTLD_LOCAL);
  if (!Lib) {
    fprintf(stderr, "dlopen(%s) failed: %s\n", Path, dlerror());
    return 1;
  }
  RESOLVE(Allocate, "orc_rt_WrapperFunctionBufferAllocate");
  RESOLVE(FromRange, "orc_rt_CreateWrapperFunctionBufferFromRange");
  RESOLVE(FromString, "orc_rt_CreateWrapperFunctionBufferFromString");
  RESOLVE(FromOOB, "orc_rt_CreateWrapperFunctionBufferFromOutOfBandError");
  RESOLVE(Dispose, "orc_rt_WrapperFunctionBufferDispose");
  RESOLVE(OldDispose, "orc_rt_DisposeWrapperFunctionBuffer");
  RESOLVE(Init, "orc_rt_WrapperFunctionBufferInit");
  RESOLVE(Data, "orc_rt_WrapperFunctionBufferData");
  RESOLVE(ConstData, "orc_rt_WrapperFunctionBufferConstData");
  RESOLVE(Size, "orc_rt_WrapperFunctionBufferSize");
  RESOLVE(Empty, "orc_rt_WrapperFunctionBufferEmpty");
  RESOLVE(GetOOB, "orc_rt_WrapperFunctionBufferGetOutOfBandError");
  RESOLVE(ErrCreate, "orc_rt_StringError_create");
  RESOLVE(ErrTypeId, "orc_rt_Error_getTypeId");
  RESOLVE(StringErrTypeId, "orc_rt_StringError_getTypeId");
  RESOLVE(ErrToString, "orc_rt_Error_toString");
  RESOLVE(ErrFreeMsg, "orc_rt_Error_freeErrorMessage");
  RESOLVE(ErrConsume, "orc_rt_Error_consume");
  RESOLVE(GetVersion, "orc_rt_getVersion");
  REQUIRE(Missing == 0);

  /* What a host checks first: is the loaded library the version its
   * header describes? */
  {
    uint32_t Major = 99, Minor = 99, Patch = 99;
    const char *V = GetVersion(&Major, &Minor, &Patch);
    char Expected[64];
    CHECK_STREQ(V, ORC_RT_VERSION_STRING);
    CHECK(Major == ORC_RT_VERSION_MAJOR);
    CHECK(Minor == ORC_RT_VERSION_MINOR);
    CHECK(Patch == ORC_RT_VERSION_PATCH);
    snprintf(Expected, sizeof(Expected), "%u.%u.%u", (unsigned)Major, (unsigned)Minor,
             (unsigned)Patch);
    CHECK(V != NULL && strncmp(V, Expected, strlen(Expected)) == 0);
    CHECK(GetVersion(NULL, NULL, NULL) == V); /* static, and NULLs are fine */
  }

  /* Internal Rust symbols must not be visible. */
  Unknown = dlsym(Lib, "rust_eh_personality");
  CHECK(Unknown == NULL);

  {
    orc_rt_WrapperFunctionBuffer Small = Allocate(8);
    orc_rt_WrapperFunctionBuffer Big = FromString("dlopen'ed library works");
    orc_rt_WrapperFunctionBuffer Copy;
    orc_rt_WrapperFunctionBuffer Oob = FromOOB("oob via dlsym");
    memcpy(Data(&Small), "12345678", 8);
    Copy = FromRange(ConstData(&Small), Size(&Small));
    CHECK(Size(&Copy) == 8 && memcmp(ConstData(&Copy), "12345678", 8) == 0);
    CHECK(Size(&Big) == strlen("dlopen'ed library works") + 1);
    CHECK_STREQ(ConstData(&Big), "dlopen'ed library works");
    CHECK_STREQ(GetOOB(&Oob), "oob via dlsym");
    CHECK(Empty(&Oob) == 0);
    Dispose(&Small);
    Dispose(&Big);
    OldDispose(&Copy);
    Dispose(&Oob);
    Dispose(&Oob);
    CHECK(Empty(&Small) && Empty(&Big) && Empty(&Copy) && Empty(&Oob));
    Init(&Small);
    CHECK(Empty(&Small) == 1);
  }
  {
    orc_rt_ErrorRef E = ErrCreate("dlopen error");
    char *Msg;
    CHECK(E != NULL);
    CHECK(ErrTypeId(E) == StringErrTypeId());
    Msg = ErrToString(E);
    CHECK_STREQ(Msg, "dlopen error");
    ErrFreeMsg(Msg);
    ErrConsume(ErrCreate("dropped"));
    ErrConsume(NULL);
  }

  /* The library can be closed and opened again. dlclose does not unload
   * it, so a handle from before the cycle is still refused afterwards,
   * and is never handed out again for a new object. */
  {
    orc_rt_ErrorRef Before = ErrCreate("consumed before dlclose");
    ErrConsume(Before);
    CHECK(dlclose(Lib) == 0);
    Lib = dlopen(Path, RTLD_NOW | RTLD_LOCAL);
    CHECK(Lib != NULL);
    if (Lib) {
      RESOLVE(ErrCreate, "orc_rt_StringError_create");
      RESOLVE(ErrConsume, "orc_rt_Error_consume");
      RESOLVE(ErrToString, "orc_rt_Error_toString");
      RESOLVE(ErrFreeMsg, "orc_rt_Error_freeErrorMessage");
      if (Missing == 0) {
        orc_rt_ErrorRef After = ErrCreate("after reload");
        char *Msg;
        CHECK(After != NULL && After != Before);
        Msg = ErrToString(Before);
        CHECK(Msg && strstr(Msg, "invalid or destroyed orc_rt_ErrorRef"));
        ErrFreeMsg(Msg);
        Msg = ErrToString(After);
        CHECK_STREQ(Msg, "after reload");
        ErrFreeMsg(Msg);
      }
      dlclose(Lib);
    }
  }
  CHECK(Missing == 0);
  TEST_FINISH("test_dlopen");
}
