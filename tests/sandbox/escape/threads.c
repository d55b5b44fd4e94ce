/* More threads than procs= allows (root is exempt from RLIMIT_NPROC).
 *
 * Usage: threads MODE CAP COUNT
 *
 * Starts COUNT threads that wait until all are counted. ESCAPED if the
 * process then has more than CAP threads (procs=CAP).
 *
 * Checks: threads-over-procs. */
#include "probe.h"

#include <pthread.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *wait_go(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  while (!go)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static int threads_now(void) {
  char buf[8192];
  if (read_file("/proc/self/status", buf, sizeof buf) < 0)
    return -1;
  char *t = strstr(buf, "\nThreads:");
  return t ? atoi(t + 9) : -1;
}

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 4) {
    printf("usage: threads MODE CAP COUNT\n");
    return 64;
  }
  int cap = atoi(argv[2]), count = atoi(argv[3]);
  pthread_t *t = calloc((size_t)count, sizeof *t);
  int started = 0, err = 0;
  for (int i = 0; i < count; ++i) {
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    int rc = pthread_create(&t[i], &a, wait_go, NULL);
    pthread_attr_destroy(&a);
    if (rc != 0) {
      err = rc;
      break;
    }
    ++started;
  }
  int total = threads_now();
  pthread_mutex_lock(&mu);
  go = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < started; ++i)
    pthread_join(t[i], NULL);
  if (total > cap)
    escaped("threads-over-procs", "%d threads in the process under procs=%d (%d started)",
            total, cap, started);
  else
    refused("threads-over-procs", err, "%d started, %d threads in the process, procs=%d",
            started, total, cap);
  return probe_status;
}
