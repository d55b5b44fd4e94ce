/* Stops the processes next to the executor (its parent and its children,
 * where a wall-clock watchdog outside the confined process would be) with
 * SIGSTOP, runs past the wall-clock limit, then lets them go on (SIGCONT).
 *
 * Usage: stopwd MODE SECONDS
 *
 * Run under wall=1 with SECONDS=3: a watchdog JIT'd code cannot reach ends
 * the executor before the ESCAPED line. Without a sandbox the probe stops
 * its parent (the test's wrapper script) for SECONDS and resumes it.
 *
 * Checks: wall-stop-watchdog. */
#include "probe.h"

#include <dirent.h>
#include <signal.h>

#define MAX_PIDS 64

int main(int argc, char **argv) {
  probe_init(argc, argv);
  int secs = argc > 2 ? atoi(argv[2]) : 3;
  pid_t pids[MAX_PIDS];
  int n = 0;
  pids[n++] = getppid();
  /* Children of every thread (/proc/self/task/TID/children). */
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char p[128], buf[1024];
    snprintf(p, sizeof p, "/proc/self/task/%s/children", e->d_name);
    if (read_file(p, buf, sizeof buf) < 0)
      continue;
    for (char *t = strtok(buf, " \n"); t && n < MAX_PIDS; t = strtok(NULL, " \n"))
      pids[n++] = (pid_t)atoi(t);
  }
  if (d)
    closedir(d);

  int stopped = 0, err = 0;
  for (int i = 0; i < n; ++i) {
    if (pids[i] > 1 && kill(pids[i], SIGSTOP) == 0)
      ++stopped;
    else
      err = errno;
  }
  if (stopped == 0) {
    refused("wall-stop-watchdog", err, "SIGSTOP to the parent and %d child(ren)", n - 1);
    return probe_status;
  }
  sleep((unsigned)secs);
  for (int i = 0; i < n; ++i)
    if (pids[i] > 1)
      kill(pids[i], SIGCONT);
  escaped("wall-stop-watchdog", "stopped %d neighbouring process(es), still running %d s later",
          stopped, secs);
  return probe_status;
}
