/* Parks every other thread of the executor (the wall-clock watchdog among
 * them, if it is a thread) in a signal handler that never returns, then
 * runs past the wall-clock limit.
 *
 * Usage: park MODE SECONDS
 *
 * Run under wall=1 with SECONDS=3: a limit that binds ends the executor
 * before the ESCAPED line. The probe ends with _exit, since the session's
 * own threads are parked too.
 *
 * Checks: wall-park. */
#include "probe.h"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>

static void park(int sig) {
  (void)sig;
  for (;;)
    pause();
}

int main(int argc, char **argv) {
  probe_init(argc, argv);
  int secs = argc > 2 ? atoi(argv[2]) : 3;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = park;
  sigfillset(&sa.sa_mask);
  int sigs[] = {SIGUSR1, SIGUSR2, SIGRTMIN + 3};
  for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; ++i)
    sigaction(sigs[i], &sa, NULL);

  pid_t me = (pid_t)syscall(SYS_gettid);
  int parked = 0, err = 0;
  DIR *d = opendir("/proc/self/task");
  if (!d) {
    err = errno;
  } else {
    struct dirent *e;
    while ((e = readdir(d))) {
      pid_t tid = (pid_t)atoi(e->d_name);
      if (tid <= 0 || tid == me)
        continue;
      int ok = 0;
      for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; ++i)
        if (syscall(SYS_tgkill, getpid(), tid, sigs[i]) == 0)
          ok = 1;
        else
          err = errno;
      parked += ok;
    }
    closedir(d);
  }
  printf("PROBE-INFO parked %d thread(s)%s%s\n", parked, err ? ", last error " : "",
         err ? strerrorname_np(err) : "");
  fflush(stdout);
  sleep((unsigned)secs);
  escaped("wall-park", "still running %d s later (parked %d other threads)", secs, parked);
  fflush(stdout);
  _exit(probe_status);
}
