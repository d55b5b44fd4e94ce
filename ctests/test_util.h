/*
 * test_util.h: tiny check macros shared by the C and C++ tests in ctests/.
 *
 * CHECK(cond) prints the failing expression with file and line and counts a
 * failure but keeps going, so one run reports every broken check.
 * TEST_FINISH() prints "<name>: N checks, M failed" and returns the exit
 * status from main. Usable from C99 and C++17.
 */
#ifndef ORC_RT_CTESTS_TEST_UTIL_H
#define ORC_RT_CTESTS_TEST_UTIL_H

#include <stdio.h>
#include <string.h>

static int test_checks = 0;
static int test_failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    ++test_checks;                                                             \
    if (!(cond)) {                                                             \
      ++test_failures;                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* Compares two NUL-terminated strings; NULL on either side fails. */
#define CHECK_STREQ(a, b)                                                      \
  do {                                                                         \
    const char *check_a_ = (a);                                                \
    const char *check_b_ = (b);                                                \
    ++test_checks;                                                             \
    if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {           \
      ++test_failures;                                                         \
      fprintf(stderr, "%s:%d: CHECK_STREQ failed: %s == %s (\"%s\" vs \"%s\")\n", \
              __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",      \
              check_b_ ? check_b_ : "(null)");                                 \
    }                                                                          \
  } while (0)

/* Stops the test at once (for checks later steps depend on). */
#define REQUIRE(cond)                                                          \
  do {                                                                         \
    int require_ok_ = (cond) ? 1 : 0;                                          \
    ++test_checks;                                                             \
    if (!require_ok_) {                                                        \
      ++test_failures;                                                         \
      fprintf(stderr, "%s:%d: REQUIRE failed, stopping: %s\n", __FILE__,      \
              __LINE__, #cond);                                                \
      return 1;                                                                \
    }                                                                          \
  } while (0)

/* REQUIRE for functions returning void. Evaluates cond once. */
#define REQUIRE_VOID(cond)                                                     \
  do {                                                                         \
    int require_ok_ = (cond) ? 1 : 0;                                          \
    ++test_checks;                                                             \
    if (!require_ok_) {                                                        \
      ++test_failures;                                                         \
      fprintf(stderr, "%s:%d: REQUIRE failed, stopping: %s\n", __FILE__,      \
              __LINE__, #cond);                                                \
      return;                                                                  \
    }                                                                          \
  } while (0)

#define TEST_FINISH(name)                                                      \
  do {                                                                         \
    printf("%s: %d checks, %d failed\n", (name), test_checks, test_failures); \
    return test_failures == 0 && test_checks > 0 ? 0 : 1;                      \
  } while (0)


#ifdef ORC_RT_H
/* Returns 1 if E is success (NULL); else prints it, consumes it, returns 0. */
static inline int check_ok(orc_rt_ErrorRef E) {
  char *Msg;
  if (!E)
    return 1;
  Msg = orc_rt_Error_toString(E);
  fprintf(stderr, "unexpected error: %s\n", Msg ? Msg : "(null)");
  orc_rt_Error_freeErrorMessage(Msg);
  return 0;
}

/* Returns 1 if E is a failure whose message contains Want (consumes E). */
static inline int error_contains(orc_rt_ErrorRef E, const char *Want) {
  char *Msg;
  int Ok;
  if (!E) {
    fprintf(stderr, "expected an error containing \"%s\", got success\n", Want);
    return 0;
  }
  Msg = orc_rt_Error_toString(E);
  Ok = Msg && strstr(Msg, Want) != NULL;
  if (!Ok)
    fprintf(stderr, "error \"%s\" does not contain \"%s\"\n", Msg ? Msg : "(null)", Want);
  orc_rt_Error_freeErrorMessage(Msg);
  return Ok;
}

/* Returns 1 if B holds an out-of-band error containing Want; disposes B. */
static inline int oob_contains(orc_rt_WrapperFunctionBuffer *B, const char *Want) {
  const char *Msg = orc_rt_WrapperFunctionBufferGetOutOfBandError(B);
  int Ok = Msg && strstr(Msg, Want) != NULL;
  if (!Ok)
    fprintf(stderr, "buffer \"%s\" does not contain \"%s\"\n",
            Msg ? Msg : "(not an error)", Want);
  orc_rt_WrapperFunctionBufferDispose(B);
  return Ok;
}
#endif /* ORC_RT_H */

#endif /* ORC_RT_CTESTS_TEST_UTIL_H */
