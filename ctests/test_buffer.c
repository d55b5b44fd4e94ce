/*
 * test_buffer.c: orc_rt_WrapperFunctionBuffer through the public header.
 *
 * Covers every documented state (empty, inline 0/1/8 bytes, heap 9 bytes and
 * 1 MiB, out-of-band error), the accessors, double dispose, ownership
 * transfer in both directions (malloc in C / free in the library and the
 * reverse) and the NULL behaviour each function documents.
 */
#include "orc-rt.h"
#include "test_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Fills n bytes with a pattern that differs per position. */
static void fill_pattern(char *p, size_t n, unsigned seed) {
  size_t i;
  for (i = 0; i < n; ++i)
    p[i] = (char)((i * 31u + seed) & 0x7f);
}

static int has_pattern(const char *p, size_t n, unsigned seed) {
  size_t i;
  for (i = 0; i < n; ++i)
    if (p[i] != (char)((i * 31u + seed) & 0x7f))
      return 0;
  return 1;
}

static int all_zero(const char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i)
    if (p[i] != 0)
      return 0;
  return 1;
}

static void test_init_and_empty(void) {
  orc_rt_WrapperFunctionBuffer B;
  memset(&B, 0xab, sizeof(B));
  orc_rt_WrapperFunctionBufferInit(&B);
  CHECK(B.Size == 0);
  CHECK(B.Data.ValuePtr == NULL);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == 0);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == NULL);
  /* Disposing of an empty buffer is allowed and keeps it empty. */
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
}

/* Allocate(n) for inline and heap sizes: zeroed, writable, right size. */
static void test_allocate(size_t n) {
  orc_rt_WrapperFunctionBuffer B = orc_rt_WrapperFunctionBufferAllocate(n);
  char *D = orc_rt_WrapperFunctionBufferData(&B);
  const char *CD = orc_rt_WrapperFunctionBufferConstData(&B);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == n);
  CHECK(B.Size == n);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == NULL);
  CHECK(D == CD);
  if (n == 0) {
    CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  } else {
    CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 0);
    REQUIRE_VOID(D != NULL);
    CHECK(all_zero(D, n));
    if (n <= sizeof(char *)) {
      /* Inline: the bytes live inside the struct itself. */
      CHECK(D == B.Data.Value);
    } else {
      CHECK(D == B.Data.ValuePtr);
    }
    fill_pattern(D, n, 3);
    CHECK(has_pattern(orc_rt_WrapperFunctionBufferConstData(&B), n, 3));
  }
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  CHECK(B.Size == 0 && B.Data.ValuePtr == NULL);
  /* Second dispose of the same (now empty) buffer is a no-op. */
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
}

/* FromRange copies: changing the source afterwards does not change it. */
static void test_from_range(size_t n) {
  char *Src = (char *)malloc(n ? n : 1);
  orc_rt_WrapperFunctionBuffer B;
  if (!Src) {
    CHECK(!"malloc failed");
    return;
  }
  fill_pattern(Src, n, 7);
  B = orc_rt_CreateWrapperFunctionBufferFromRange(Src, n);
  memset(Src, 0, n);
  free(Src);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == n);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == NULL);
  if (n > 0) {
    CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 0);
    CHECK(orc_rt_WrapperFunctionBufferConstData(&B) != NULL);
    if (orc_rt_WrapperFunctionBufferConstData(&B))
      CHECK(has_pattern(orc_rt_WrapperFunctionBufferConstData(&B), n, 7));
  } else {
    CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  }
  orc_rt_WrapperFunctionBufferDispose(&B);
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
}

static void test_from_string(void) {
  orc_rt_WrapperFunctionBuffer Short =
      orc_rt_CreateWrapperFunctionBufferFromString("abc");
  orc_rt_WrapperFunctionBuffer Long =
      orc_rt_CreateWrapperFunctionBufferFromString("a longer string");
  orc_rt_WrapperFunctionBuffer Empty =
      orc_rt_CreateWrapperFunctionBufferFromString("");
  /* The terminator is included in the contents. */
  CHECK(orc_rt_WrapperFunctionBufferSize(&Short) == 4);
  CHECK_STREQ(orc_rt_WrapperFunctionBufferConstData(&Short), "abc");
  CHECK(orc_rt_WrapperFunctionBufferSize(&Long) == 16);
  CHECK_STREQ(orc_rt_WrapperFunctionBufferConstData(&Long), "a longer string");
  CHECK(orc_rt_WrapperFunctionBufferSize(&Empty) == 1);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&Empty) == 0);
  CHECK_STREQ(orc_rt_WrapperFunctionBufferConstData(&Empty), "");
  orc_rt_WrapperFunctionBufferDispose(&Short);
  orc_rt_WrapperFunctionBufferDispose(&Long);
  orc_rt_WrapperFunctionBufferDispose(&Empty);
}

static void test_out_of_band_error(void) {
  char Msg[] = "something went wrong";
  orc_rt_WrapperFunctionBuffer B =
      orc_rt_CreateWrapperFunctionBufferFromOutOfBandError(Msg);
  orc_rt_WrapperFunctionBuffer U =
      orc_rt_CreateWrapperFunctionBufferFromOutOfBandError(NULL);
  const char *E;
  /* The message is copied: the caller's array may change afterwards. */
  Msg[0] = 'X';
  E = orc_rt_WrapperFunctionBufferGetOutOfBandError(&B);
  CHECK_STREQ(E, "something went wrong");
  CHECK(E != Msg);
  CHECK(B.Size == 0);
  CHECK(B.Data.ValuePtr == E);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == 0);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 0);
  /* No data pointer for an error buffer. */
  CHECK(orc_rt_WrapperFunctionBufferData(&B) == NULL);
  CHECK(orc_rt_WrapperFunctionBufferConstData(&B) == NULL);
  CHECK_STREQ(orc_rt_WrapperFunctionBufferGetOutOfBandError(&U),
              "unknown error");
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == NULL);
  orc_rt_WrapperFunctionBufferDispose(&B);
  orc_rt_WrapperFunctionBufferDispose(&U);
}

/* C mallocs the contents and the library frees them. */
static void test_c_to_library_ownership(void) {
  const size_t N = 4096;
  orc_rt_WrapperFunctionBuffer B;
  orc_rt_WrapperFunctionBuffer E;
  char *Heap = (char *)malloc(N);
  char *Msg = (char *)malloc(16);
  if (!Heap || !Msg) {
    CHECK(!"malloc failed");
    free(Heap);
    free(Msg);
    return;
  }
  fill_pattern(Heap, N, 11);
  B.Data.ValuePtr = Heap;
  B.Size = N;
  CHECK(orc_rt_WrapperFunctionBufferConstData(&B) == Heap);
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == N);
  CHECK(has_pattern(orc_rt_WrapperFunctionBufferConstData(&B), N, 11));
  orc_rt_WrapperFunctionBufferDispose(&B); /* frees Heap */
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);

  /* A hand-built out-of-band error, message malloc'ed by C. */
  strcpy(Msg, "c-side error");
  E.Data.ValuePtr = Msg;
  E.Size = 0;
  CHECK_STREQ(orc_rt_WrapperFunctionBufferGetOutOfBandError(&E),
              "c-side error");
  orc_rt_WrapperFunctionBufferDispose(&E); /* frees Msg */
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&E) == 1);

  /* A hand-built inline buffer owns no memory. */
  B.Size = 5;
  memcpy(B.Data.Value, "hi!!!", 5);
  CHECK(orc_rt_WrapperFunctionBufferConstData(&B) == B.Data.Value);
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
}

/* The library allocates and C frees with free(). */
static void test_library_to_c_ownership(void) {
  const size_t N = 100;
  orc_rt_WrapperFunctionBuffer B = orc_rt_WrapperFunctionBufferAllocate(N);
  orc_rt_WrapperFunctionBuffer E =
      orc_rt_CreateWrapperFunctionBufferFromOutOfBandError("lib error");
  char *Taken;
  REQUIRE_VOID(B.Size == N && B.Data.ValuePtr != NULL);
  fill_pattern(B.Data.ValuePtr, N, 5);
  /* Take the heap block out of the buffer, then free it ourselves. */
  Taken = B.Data.ValuePtr;
  orc_rt_WrapperFunctionBufferInit(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  CHECK(has_pattern(Taken, N, 5));
  Taken = (char *)realloc(Taken, 2 * N); /* must be a real malloc block */
  CHECK(Taken != NULL);
  free(Taken);

  CHECK(E.Size == 0 && E.Data.ValuePtr != NULL);
  CHECK_STREQ(E.Data.ValuePtr, "lib error");
  free(E.Data.ValuePtr);
}

static void test_null_handling(void) {
  orc_rt_WrapperFunctionBuffer B;
  /* Functions taking a buffer pointer treat NULL as documented. */
  orc_rt_WrapperFunctionBufferInit(NULL);
  orc_rt_WrapperFunctionBufferDispose(NULL);
  CHECK(orc_rt_WrapperFunctionBufferData(NULL) == NULL);
  CHECK(orc_rt_WrapperFunctionBufferConstData(NULL) == NULL);
  CHECK(orc_rt_WrapperFunctionBufferSize(NULL) == 0);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(NULL) == 1);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(NULL) == NULL);

  /* NULL data with size 0 is an empty buffer. */
  B = orc_rt_CreateWrapperFunctionBufferFromRange(NULL, 0);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 1);
  orc_rt_WrapperFunctionBufferDispose(&B);

  /* NULL data with a size is an out-of-band error, not a crash. */
  B = orc_rt_CreateWrapperFunctionBufferFromRange(NULL, 5);
  CHECK(B.Size == 0);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) != NULL);
  if (orc_rt_WrapperFunctionBufferGetOutOfBandError(&B))
    CHECK(strstr(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B), "NULL") !=
          NULL);
  orc_rt_WrapperFunctionBufferDispose(&B);

  /* NULL string is an out-of-band error. */
  B = orc_rt_CreateWrapperFunctionBufferFromString(NULL);
  CHECK(B.Size == 0);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) != NULL);
  orc_rt_WrapperFunctionBufferDispose(&B);
}

/* An allocation that cannot succeed gives an out-of-band error buffer. */
static void test_allocate_too_big(void) {
  orc_rt_WrapperFunctionBuffer B = orc_rt_WrapperFunctionBufferAllocate(SIZE_MAX);
  CHECK(B.Size == 0);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) != NULL);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 0);
  orc_rt_WrapperFunctionBufferDispose(&B);
}

/* orc_rt_DisposeWrapperFunctionBuffer, the deprecated spelling of
 * orc_rt_WrapperFunctionBufferDispose, still frees and resets in every
 * state (the leak checkers of the tool variants see the heap cases). */
static void test_deprecated_dispose_alias(void) {
  static const char Long[] = "more than eight bytes, on the heap";
  orc_rt_WrapperFunctionBuffer B[3];
  int i;
  B[0] = orc_rt_CreateWrapperFunctionBufferFromRange("abc", 3);
  B[1] = orc_rt_CreateWrapperFunctionBufferFromRange(Long, sizeof(Long));
  B[2] = orc_rt_CreateWrapperFunctionBufferFromOutOfBandError("oops");
  for (i = 0; i < 3; ++i) {
    orc_rt_DisposeWrapperFunctionBuffer(&B[i]);
    CHECK(orc_rt_WrapperFunctionBufferEmpty(&B[i]) == 1);
    orc_rt_DisposeWrapperFunctionBuffer(&B[i]);
  }
  orc_rt_DisposeWrapperFunctionBuffer(NULL);
}

int main(void) {
  static const size_t Sizes[] = {0, 1, 7, 8, 9, 16, 1024 * 1024};
  size_t i;
  /* Under valgrind or ASan a SIZE_MAX malloc is itself reported as an
   * error, so the CMake variants that run under a tool skip that case. */
  int SkipHuge = getenv("ORC_RT_TEST_UNDER_TOOL") != NULL;
  test_init_and_empty();
  for (i = 0; i < sizeof(Sizes) / sizeof(Sizes[0]); ++i) {
    test_allocate(Sizes[i]);
    test_from_range(Sizes[i]);
  }
  test_from_string();
  test_out_of_band_error();
  test_c_to_library_ownership();
  test_library_to_c_ownership();
  test_null_handling();
  test_deprecated_dispose_alias();
  if (!SkipHuge)
    test_allocate_too_big();
  TEST_FINISH("test_buffer");
}
