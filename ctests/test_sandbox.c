/*
 * test_sandbox.c: the sandbox through the C API. Bad specs are refused
 * with an error; a forked child applies the `untrusted` profile and then
 * observes the refusals JIT'd code would see (reading /etc/passwd: ENOENT
 * in untrusted's minimal root, or EACCES from Landlock where the kernel
 * gives no mount namespace,
 * a TCP connect to the parent's listener: EACCES, fork: EPERM) while a
 * thread and a Session with a thread pool still work. The parent checks
 * the child's exit status (the confinement cannot be lifted, so it must
 * not be applied to the test process itself).
 */
#define _POSIX_C_SOURCE 200809L

#include "orc-rt.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *under_tool(void) {
  const char *T = getenv("ORC_RT_TEST_UNDER_TOOL");
  return T ? T : "";
}

/* ---- specs: bad ones are errors, good ones make policies ---- */
static void test_specs(void) {
  static const char *Bad[] = {"bogus", "untrusted,cpu=soon", "mem=lots", "ro=",
                              "exec=1"};
  orc_rt_SandboxPolicyRef P;
  size_t I;
  for (I = 0; I < sizeof(Bad) / sizeof(Bad[0]); ++I) {
    P = NULL;
    CHECK(error_contains(orc_rt_SandboxPolicy_create(Bad[I], &P), "invalid setting"));
    CHECK(P == NULL);
  }
  {
    orc_rt_ErrorRef E = orc_rt_SandboxPolicy_create(NULL, &P);
    CHECK(E != NULL && P == NULL);
    orc_rt_Error_consume(E);
    E = orc_rt_SandboxPolicy_create("untrusted", NULL);
    CHECK(E != NULL);
    orc_rt_Error_consume(E);
  }

  P = NULL;
  CHECK(no_error(orc_rt_SandboxPolicy_create("untrusted,cpu=5,rw=/tmp,require", &P)));
  CHECK(P != NULL);
  orc_rt_SandboxPolicy_dispose(P);
  orc_rt_SandboxPolicy_dispose(NULL); /* a no-op */

  /* `none` confines nothing, so applying it here is harmless. */
  P = NULL;
  REQUIRE_VOID(no_error(orc_rt_SandboxPolicy_create("none", &P)) && P != NULL);
  {
    char *Report = NULL;
    CHECK(no_error(orc_rt_SandboxPolicy_apply(P, &Report)));
    orc_rt_Error_freeErrorMessage(Report);
  }
  orc_rt_SandboxPolicy_dispose(P);
  {
    char *Report = NULL;
    orc_rt_ErrorRef E = orc_rt_SandboxPolicy_apply(NULL, &Report);
    CHECK(E != NULL);
    orc_rt_Error_consume(E);
    orc_rt_Error_freeErrorMessage(Report);
  }
}

/* ---- the child: confined, then probing ---- */
static void *thread_body(void *Arg) { return Arg; }

typedef struct {
  pthread_mutex_t M;
  pthread_cond_t C;
  int Ran;
} TaskState;

static void task_body(void *Ctx) {
  TaskState *T = (TaskState *)Ctx;
  pthread_mutex_lock(&T->M);
  T->Ran = 1;
  pthread_cond_signal(&T->C);
  pthread_mutex_unlock(&T->M);
}

static void session_still_works(void) {
  orc_rt_TaskDispatcherRef D = NULL;
  orc_rt_SessionRef S;
  TaskState T;
  REQUIRE_VOID(no_error(orc_rt_ThreadPoolTaskDispatcher_create(2, &D)) && D != NULL);
  S = orc_rt_Session_create(D);
  REQUIRE_VOID(S != NULL);
  pthread_mutex_init(&T.M, NULL);
  pthread_cond_init(&T.C, NULL);
  T.Ran = 0;
  CHECK(no_error(orc_rt_Session_dispatch(S, task_body, NULL, &T)));
  pthread_mutex_lock(&T.M);
  while (!T.Ran)
    pthread_cond_wait(&T.C, &T.M);
  pthread_mutex_unlock(&T.M);
  CHECK(T.Ran == 1);
  orc_rt_Session_shutdown(S, NULL, NULL);
  CHECK(no_error(orc_rt_Session_waitForShutdown(S)));
  orc_rt_Session_destroy(S);
  pthread_cond_destroy(&T.C);
  pthread_mutex_destroy(&T.M);
}

static int child(int Port) {
  /* Under ASan the shadow memory alone is far above the profile's 4 GiB of
     address space: keep that one limit off there. */
  const char *Spec = strcmp(under_tool(), "asan") == 0 ? "untrusted,mem=0" : "untrusted";
  orc_rt_SandboxPolicyRef P = NULL;
  char *Report = NULL;
  FILE *F;
  int Sock;
  pid_t Pid;
  pthread_t Th;
  int ThreadArg = 0;
  void *Ret = NULL;
  struct sockaddr_in A;

  REQUIRE(no_error(orc_rt_SandboxPolicy_create(Spec, &P)) && P != NULL);
  REQUIRE(no_error(orc_rt_SandboxPolicy_apply(P, &Report)));
  fprintf(stderr, "sandbox child: %s: %s\n", Spec, Report ? Report : "(no report)");
  CHECK(Report != NULL && strstr(Report, "Landlock ABI") != NULL);
  orc_rt_Error_freeErrorMessage(Report);
  orc_rt_SandboxPolicy_dispose(P);

  errno = 0;
  F = fopen("/etc/passwd", "r");
  /* ENOENT in the minimal root (untrusted's default), EACCES from Landlock
   * where there is no mount namespace. */
  CHECK(F == NULL && (errno == ENOENT || errno == EACCES));
  if (F)
    fclose(F);

  memset(&A, 0, sizeof(A));
  A.sin_family = AF_INET;
  A.sin_port = htons((unsigned short)Port);
  A.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Sock = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(Sock >= 0);
  if (Sock >= 0) {
    errno = 0;
    CHECK(connect(Sock, (struct sockaddr *)&A, sizeof(A)) != 0 && errno == EACCES);
    close(Sock);
  }

  errno = 0;
  Pid = fork();
  if (Pid == 0)
    _exit(0);
  CHECK(Pid == -1 && errno == EPERM);
  if (Pid > 0)
    waitpid(Pid, NULL, 0);

  CHECK(pthread_create(&Th, NULL, thread_body, &ThreadArg) == 0 &&
        pthread_join(Th, &Ret) == 0 && Ret == &ThreadArg);

  session_still_works();

  fprintf(stderr, "sandbox child: %d checks, %d failed\n", test_checks, test_failures);
  return test_failures == 0 ? 0 : 1;
}

static void test_untrusted_child(void) {
  struct sockaddr_in A;
  socklen_t Len = sizeof(A);
  int L, St = 0;
  pid_t Pid;

  /* A listener the child may not connect to (127.0.0.1 only). */
  L = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE_VOID(L >= 0);
  memset(&A, 0, sizeof(A));
  A.sin_family = AF_INET;
  A.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE_VOID(bind(L, (struct sockaddr *)&A, sizeof(A)) == 0 && listen(L, 4) == 0 &&
               getsockname(L, (struct sockaddr *)&A, &Len) == 0);

  fflush(stdout);
  fflush(stderr);
  Pid = fork();
  REQUIRE_VOID(Pid >= 0);
  if (Pid == 0) {
    int Rc = child(ntohs(A.sin_port));
    fflush(stdout);
    fflush(stderr);
    /* _exit: no atexit work (LeakSanitizer would need ptrace) in the
       confined process. */
    _exit(Rc);
  }
  CHECK(waitpid(Pid, &St, 0) == Pid);
  CHECK(WIFEXITED(St) && WEXITSTATUS(St) == 0);
  if (!WIFEXITED(St) || WEXITSTATUS(St) != 0)
    fprintf(stderr, "sandbox child: wait status %#x\n", (unsigned)St);
  close(L);
}

int main(void) {
  test_specs();
  test_untrusted_child();
  TEST_FINISH("sandbox");
}
