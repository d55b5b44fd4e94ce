/*
 * test_error.c: the orc_rt_ErrorRef API through the public header.
 *
 * Covers creating string errors, comparing type ids, converting to a
 * message (toString + freeErrorMessage), consume, cantFail on success, and
 * NULL meaning success everywhere.
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_null_is_success(void) {
  char *Msg;
  CHECK(orc_rt_Error_getTypeId(NULL) == NULL);
  orc_rt_Error_consume(NULL);
  orc_rt_Error_cantFail(NULL); /* returns normally for success */
  Msg = orc_rt_Error_toString(NULL);
  CHECK_STREQ(Msg, "success");
  orc_rt_Error_freeErrorMessage(Msg);
  orc_rt_Error_freeErrorMessage(NULL);
}

static void test_string_error(void) {
  char Text[] = "failed to frobnicate 42";
  orc_rt_ErrorRef E = orc_rt_StringError_create(Text);
  orc_rt_Error_TypeId Id;
  char *Msg;
  REQUIRE_VOID(E != NULL);
  /* The message is copied at creation. */
  Text[0] = 'X';
  Id = orc_rt_Error_getTypeId(E);
  CHECK(Id != NULL);
  CHECK(Id == orc_rt_StringError_getTypeId());
  /* getTypeId does not consume: asking twice gives the same answer. */
  CHECK(orc_rt_Error_getTypeId(E) == Id);
  Msg = orc_rt_Error_toString(E); /* consumes E */
  CHECK_STREQ(Msg, "failed to frobnicate 42");
  orc_rt_Error_freeErrorMessage(Msg);
}

static void test_type_id_is_stable(void) {
  orc_rt_Error_TypeId A = orc_rt_StringError_getTypeId();
  orc_rt_Error_TypeId B = orc_rt_StringError_getTypeId();
  orc_rt_ErrorRef E1 = orc_rt_StringError_create("one");
  orc_rt_ErrorRef E2 = orc_rt_StringError_create("two");
  CHECK(A != NULL);
  CHECK(A == B);
  CHECK(E1 != NULL && E2 != NULL);
  CHECK(E1 != E2);
  CHECK(orc_rt_Error_getTypeId(E1) == orc_rt_Error_getTypeId(E2));
  orc_rt_Error_consume(E1);
  orc_rt_Error_consume(E2);
}

static void test_null_message(void) {
  orc_rt_ErrorRef E = orc_rt_StringError_create(NULL);
  char *Msg;
  REQUIRE_VOID(E != NULL);
  CHECK(orc_rt_Error_getTypeId(E) == orc_rt_StringError_getTypeId());
  Msg = orc_rt_Error_toString(E);
  CHECK_STREQ(Msg, "unknown error");
  orc_rt_Error_freeErrorMessage(Msg);
}

static void test_empty_and_long_messages(void) {
  enum { N = 10000 };
  char *Long = (char *)malloc(N + 1);
  orc_rt_ErrorRef E;
  char *Msg;
  REQUIRE_VOID(Long != NULL);
  memset(Long, 'x', N);
  Long[N] = '\0';
  E = orc_rt_StringError_create(Long);
  Msg = orc_rt_Error_toString(E);
  CHECK(Msg != NULL && strlen(Msg) == N);
  CHECK_STREQ(Msg, Long);
  orc_rt_Error_freeErrorMessage(Msg);
  free(Long);

  E = orc_rt_StringError_create("");
  CHECK(E != NULL); /* an empty message is still a failure */
  Msg = orc_rt_Error_toString(E);
  CHECK_STREQ(Msg, "");
  orc_rt_Error_freeErrorMessage(Msg);
}

/* A function in the usual C style: returns NULL or an error to consume. */
static orc_rt_ErrorRef parse_positive(int V) {
  if (V > 0)
    return NULL;
  return orc_rt_StringError_create("value must be positive");
}

static void test_propagation(void) {
  orc_rt_ErrorRef Ok = parse_positive(3);
  orc_rt_ErrorRef Bad = parse_positive(-1);
  char *Msg;
  CHECK(Ok == NULL);
  orc_rt_Error_cantFail(Ok);
  CHECK(Bad != NULL);
  if (Bad && orc_rt_Error_getTypeId(Bad) == orc_rt_StringError_getTypeId()) {
    Msg = orc_rt_Error_toString(Bad);
    CHECK_STREQ(Msg, "value must be positive");
    orc_rt_Error_freeErrorMessage(Msg);
  } else {
    CHECK(!"wrong error type");
    orc_rt_Error_consume(Bad);
  }
}

/* cantFail on a failure aborts the process after printing the message. */
static void test_cant_fail_aborts(void) {
  int Pipe[2];
  pid_t Child;
  int Status = 0;
  char Out[512];
  size_t Len = 0;
  ssize_t R;
  REQUIRE_VOID(pipe(Pipe) == 0);
  fflush(stdout);
  fflush(stderr);
  Child = fork();
  REQUIRE_VOID(Child >= 0);
  if (Child == 0) {
    dup2(Pipe[1], 2);
    close(Pipe[0]);
    close(Pipe[1]);
    orc_rt_Error_cantFail(orc_rt_StringError_create("impossible failure"));
    _exit(0); /* not reached if cantFail works */
  }
  close(Pipe[1]);
  while (Len + 1 < sizeof(Out) &&
         (R = read(Pipe[0], Out + Len, sizeof(Out) - 1 - Len)) > 0)
    Len += (size_t)R;
  Out[Len] = '\0';
  close(Pipe[0]);
  CHECK(waitpid(Child, &Status, 0) == Child);
  CHECK(WIFSIGNALED(Status) && WTERMSIG(Status) == SIGABRT);
  CHECK(strstr(Out, "impossible failure") != NULL);
}

int main(void) {
  test_null_is_success();
  test_string_error();
  test_type_id_is_stable();
  test_null_message();
  test_empty_and_long_messages();
  test_propagation();
  test_cant_fail_aborts();
  TEST_FINISH("test_error");
}
