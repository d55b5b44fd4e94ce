/*
 * test_sandbox_threads.c: orc_rt_SandboxPolicy_apply tells the truth when
 * the host already runs another thread, and refuses a second apply.
 *
 * Each case runs in a forked child (a sandbox cannot be lifted):
 *  - with a second thread running, `untrusted` is either applied to every
 *    thread (the other thread then cannot read /etc/passwd, fork or
 *    ptrace) or refused with an error that says other threads run, and
 *    then nothing changed (the other thread still reads /etc/passwd);
 *  - with a second thread running, a policy of thread-wide layers only
 *    (limits and seccomp) is applied, and the other thread is confined;
 *  - a second apply fails with "already applied".
 */
#define _GNU_SOURCE

#include "orc-rt.h"
#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a second thread that runs probes on request ---- */
enum { ProbeNone, ProbeRead, ProbeFork, ProbeQuit };

typedef struct {
  pthread_mutex_t M;
  pthread_cond_t C;
  int Request;
  int Done;
  int Result; /* 0: allowed, else the errno */
} Worker;

/* Reading outside the allowed paths is refused: ENOENT in untrusted's
 * minimal root, EACCES from Landlock where there is no mount namespace. */
static int read_refused(int Errno) { return Errno == ENOENT || Errno == EACCES; }

static int run_probe(int Which) {
  if (Which == ProbeRead) {
    FILE *F = fopen("/etc/passwd", "r");
    if (!F)
      return errno ? errno : -1;
    fclose(F);
    return 0;
  }
  if (Which == ProbeFork) {
    pid_t P = fork();
    if (P == 0)
      _exit(0);
    if (P < 0)
      return errno ? errno : -1;
    waitpid(P, NULL, 0);
    return 0;
  }
  return 0;
}

static void *worker_body(void *Arg) {
  Worker *W = (Worker *)Arg;
  pthread_mutex_lock(&W->M);
  for (;;) {
    while (W->Request == ProbeNone)
      pthread_cond_wait(&W->C, &W->M);
    if (W->Request == ProbeQuit)
      break;
    W->Result = run_probe(W->Request);
    W->Request = ProbeNone;
    W->Done = 1;
    pthread_cond_broadcast(&W->C);
  }
  pthread_mutex_unlock(&W->M);
  return NULL;
}

/* Runs probe `Which` on the worker thread; returns its result. */
static int on_worker(Worker *W, int Which) {
  int R;
  pthread_mutex_lock(&W->M);
  W->Done = 0;
  W->Request = Which;
  pthread_cond_broadcast(&W->C);
  while (!W->Done)
    pthread_cond_wait(&W->C, &W->M);
  R = W->Result;
  pthread_mutex_unlock(&W->M);
  return R;
}

static void stop_worker(Worker *W, pthread_t T) {
  pthread_mutex_lock(&W->M);
  W->Request = ProbeQuit;
  pthread_cond_broadcast(&W->C);
  pthread_mutex_unlock(&W->M);
  pthread_join(T, NULL);
}

/* Applies Spec while a worker runs; returns 0 if the outcome is truthful. */
static int apply_with_a_thread(const char *Spec) {
  Worker W;
  pthread_t T;
  orc_rt_SandboxPolicyRef P = NULL;
  orc_rt_ErrorRef E;
  char *Report = NULL;

  pthread_mutex_init(&W.M, NULL);
  pthread_cond_init(&W.C, NULL);
  W.Request = ProbeNone;
  W.Done = 0;
  W.Result = 0;
  REQUIRE(pthread_create(&T, NULL, worker_body, &W) == 0);
  REQUIRE(on_worker(&W, ProbeRead) == 0); /* the control: readable now */

  REQUIRE(no_error(orc_rt_SandboxPolicy_create(Spec, &P)) && P != NULL);
  E = orc_rt_SandboxPolicy_apply(P, &Report);
  orc_rt_SandboxPolicy_dispose(P);
  if (E) {
    char *Msg = orc_rt_Error_toString(E);
    fprintf(stderr, "%s with a thread: refused: %s\n", Spec, Msg ? Msg : "(null)");
    CHECK(Msg != NULL && strstr(Msg, "other thread") != NULL &&
          strstr(Msg, "already running") != NULL);
    orc_rt_Error_freeErrorMessage(Msg); /* toString consumed E */
    CHECK(Report == NULL);
    /* Refused: nothing changed, on either thread. */
    CHECK(on_worker(&W, ProbeRead) == 0);
    CHECK(on_worker(&W, ProbeFork) == 0);
    CHECK(run_probe(ProbeRead) == 0);
  } else {
    fprintf(stderr, "%s with a thread: %s\n", Spec, Report ? Report : "(null)");
    REQUIRE(Report != NULL);
    /* Every layer the report claims holds on the other thread too. */
    if (strstr(Report, "filesystem")) {
      CHECK(read_refused(on_worker(&W, ProbeRead)));
      CHECK(read_refused(run_probe(ProbeRead)));
    }
    if (strstr(Report, "syscalls"))
      CHECK(on_worker(&W, ProbeFork) == EPERM);
    orc_rt_Error_freeErrorMessage(Report);
  }
  stop_worker(&W, T);
  pthread_cond_destroy(&W.C);
  pthread_mutex_destroy(&W.M);
  return test_failures == 0 ? 0 : 1;
}

/* Thread-wide layers only: applied, and the other thread is confined. */
static int thread_wide_layers(void) {
  const char *Spec = "untrusted,no-fs,net,no-ns,env=keep,inherit-fds,wall=0,"
                     "keep-privileges,mem=0";
  int Rc = apply_with_a_thread(Spec);
  return Rc;
}

static int second_apply(void) {
  orc_rt_SandboxPolicyRef P = NULL;
  orc_rt_ErrorRef E;
  char *Report = NULL;
  REQUIRE(no_error(orc_rt_SandboxPolicy_create("untrusted,wall=0,mem=0", &P)) && P != NULL);
  REQUIRE(no_error(orc_rt_SandboxPolicy_apply(P, &Report)));
  orc_rt_Error_freeErrorMessage(Report);
  Report = NULL;
  E = orc_rt_SandboxPolicy_apply(P, &Report);
  CHECK(error_contains(E, "already applied"));
  CHECK(Report == NULL);
  orc_rt_SandboxPolicy_dispose(P);
  /* Still confined. */
  CHECK(read_refused(run_probe(ProbeRead)));
  return test_failures == 0 ? 0 : 1;
}

/* Runs F in a forked child; checks it exits 0. */
static void in_child(const char *Name, int (*F)(void)) {
  int St = 0;
  pid_t Pid;
  fflush(stdout);
  fflush(stderr);
  Pid = fork();
  REQUIRE_VOID(Pid >= 0);
  if (Pid == 0) {
    int Rc = F();
    fflush(stdout);
    fflush(stderr);
    _exit(Rc);
  }
  CHECK(waitpid(Pid, &St, 0) == Pid);
  CHECK(WIFEXITED(St) && WEXITSTATUS(St) == 0);
  if (!WIFEXITED(St) || WEXITSTATUS(St) != 0)
    fprintf(stderr, "%s: child wait status %#x\n", Name, (unsigned)St);
}

static int untrusted_with_a_thread(void) {
  return apply_with_a_thread("untrusted,mem=0");
}

int main(void) {
  in_child("untrusted with a thread", untrusted_with_a_thread);
  in_child("thread-wide layers", thread_wide_layers);
  in_child("second apply", second_apply);
  TEST_FINISH("sandbox_threads");
}
