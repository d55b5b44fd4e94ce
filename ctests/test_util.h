/*
 * test_util.h: the helpers shared by the C and C++ tests in ctests/. Every
 * test includes this one header instead of keeping its own copies.
 *
 * CHECK(cond) prints the failing expression with file and line and counts a
 * failure but keeps going, so one run reports every broken check.
 * TEST_FINISH() prints "<name>: N checks, M failed" and returns the exit
 * status from main. Usable from C99 and C++17.
 *
 * Included after orc-rt.h, it also gives error and buffer checks
 * (error_contains, oob_contains, no_error). A test that also defines
 * _POSIX_C_SOURCE >= 200809L before its first include gets the helpers
 * that need threads and POSIX: sleep_ms, fd_open, heap_args, echo_wf and
 * the Recorder, a thread-safe count of callback calls with the last
 * message. All functions are static inline, so a test pays only for what
 * it uses and -Wunused-function stays quiet.
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

/* Returns 1 for success; prints and consumes a failure (for CHECK(no_error(...))). */
static inline int no_error(orc_rt_ErrorRef E) {
  char *Msg;
  if (!E)
    return 1;
  Msg = orc_rt_Error_toString(E);
  fprintf(stderr, "unexpected error: %s\n", Msg ? Msg : "(null)");
  orc_rt_Error_freeErrorMessage(Msg);
  return 0;
}

#if defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200809L
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

static inline void sleep_ms(long Ms) {
  struct timespec Ts;
  Ts.tv_sec = Ms / 1000;
  Ts.tv_nsec = (Ms % 1000) * 1000000L;
  nanosleep(&Ts, NULL);
}

/* 1 if the file descriptor is open. */
static inline int fd_open(int Fd) { return fcntl(Fd, F_GETFD) != -1 || errno != EBADF; }

/* Argument bytes too large to be held inline: they live on the heap, so a
 * buffer leaked or freed twice on some path shows under valgrind / ASan. */
#define HEAP_ARGS_TEXT "argument bytes that live on the heap"
static inline orc_rt_WrapperFunctionBuffer heap_args(void) {
  return orc_rt_CreateWrapperFunctionBufferFromRange(HEAP_ARGS_TEXT, sizeof(HEAP_ARGS_TEXT));
}

/* A native wrapper function that returns its argument bytes. */
static inline void echo_wf(orc_rt_SessionRef S, uint64_t CallId,
                           orc_rt_WrapperFunctionReturn Return,
                           orc_rt_WrapperFunctionBuffer ArgBytes) {
  Return(S, CallId, ArgBytes);
}

/* 1 if a synchronous call of echo_wf through the in-process controller C
 * (attached to a Session) comes back with Text; prints why not. */
static inline int echo_works(orc_rt_InProcessControllerRef C, const char *Text) {
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

/* ---- Recorder: counts calls from any thread, keeps the last message ---- */
typedef struct {
  pthread_mutex_t M;
  pthread_cond_t CV;
  int Calls;
  char Last[256];
} Recorder;

static inline void rec_init(Recorder *R) {
  pthread_mutex_init(&R->M, NULL);
  pthread_cond_init(&R->CV, NULL);
  R->Calls = 0;
  R->Last[0] = '\0';
}

static inline void rec_destroy(Recorder *R) {
  pthread_mutex_destroy(&R->M);
  pthread_cond_destroy(&R->CV);
}

/* Counts a call; Msg (if not NULL, up to Len bytes or its NUL) becomes the
 * last message. */
static inline void rec_hit_n(Recorder *R, const char *Msg, size_t Len) {
  pthread_mutex_lock(&R->M);
  ++R->Calls;
  if (Msg) {
    size_t N = 0;
    while (N < Len && N < sizeof(R->Last) - 1 && Msg[N])
      ++N;
    memcpy(R->Last, Msg, N);
    R->Last[N] = '\0';
  }
  pthread_cond_broadcast(&R->CV);
  pthread_mutex_unlock(&R->M);
}

static inline void rec_hit(Recorder *R, const char *Msg) { rec_hit_n(R, Msg, (size_t)-1); }

static inline int rec_calls(Recorder *R) {
  int N;
  pthread_mutex_lock(&R->M);
  N = R->Calls;
  pthread_mutex_unlock(&R->M);
  return N;
}

/* Waits up to 10 s for at least N calls; returns the count seen. */
static inline int rec_wait(Recorder *R, int N) {
  int I, Got = 0;
  for (I = 0; I < 1000; ++I) {
    Got = rec_calls(R);
    if (Got >= N)
      break;
    sleep_ms(10);
  }
  return Got;
}

/* 1 if the last message contains Want (prints both if not). */
static inline int rec_last_contains(Recorder *R, const char *Want) {
  int Ok;
  pthread_mutex_lock(&R->M);
  Ok = strstr(R->Last, Want) != NULL;
  if (!Ok)
    fprintf(stderr, "recorded \"%s\" does not contain \"%s\"\n", R->Last, Want);
  pthread_mutex_unlock(&R->M);
  return Ok;
}

/* Callbacks whose context is a Recorder. */
static inline void rec_cb(void *Ctx) { rec_hit((Recorder *)Ctx, NULL); }
static inline void rec_reporter(void *Ctx, const char *Msg) { rec_hit((Recorder *)Ctx, Msg); }

/* A result callback (orc_rt_InProcessController_ResultFn): records the
 * out-of-band error message, or else the bytes (as text) or "(empty)",
 * and disposes of the buffer. */
static inline void rec_result(void *Ctx, orc_rt_WrapperFunctionBuffer B) {
  Recorder *R = (Recorder *)Ctx;
  const char *Err = orc_rt_WrapperFunctionBufferGetOutOfBandError(&B);
  if (Err)
    rec_hit(R, Err);
  else if (orc_rt_WrapperFunctionBufferSize(&B) == 0)
    rec_hit(R, "(empty)");
  else
    rec_hit_n(R, orc_rt_WrapperFunctionBufferConstData(&B), orc_rt_WrapperFunctionBufferSize(&B));
  orc_rt_WrapperFunctionBufferDispose(&B);
}

/* The same for orc_rt_Session_callController's Return; Ctx is a Recorder. */
static inline void rec_controller_return(orc_rt_SessionRef S, orc_rt_WrapperFunctionBuffer B,
                                         void *Ctx) {
  (void)S;
  rec_result(Ctx, B);
}
#endif /* _POSIX_C_SOURCE >= 200809L */
#endif /* ORC_RT_H */

#endif /* ORC_RT_CTESTS_TEST_UTIL_H */
