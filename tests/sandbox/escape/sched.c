/* Scheduling of other processes, and privileged scheduling for itself.
 *
 * Usage: sched MODE PID
 *
 * PID is an outside process (a `sleep` the test started, owned by the user
 * the test runs as). Everything set on the probe itself is undone at once.
 *
 * Checks: setpriority-other, affinity-other, sched-idle-other,
 * sched-fifo-other, ioprio-other, sched-fifo-self, nice-self,
 * mlockall-self. */
#include "probe.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_PRIO(class, data) (((class) << 13) | (data))

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 3) {
    printf("usage: sched MODE PID\n");
    return 64;
  }
  long pid = atol(argv[2]);
  char on[32];
  snprintf(on, sizeof on, "outside pid %ld", pid);

  outcome("setpriority-other", setpriority(PRIO_PROCESS, (id_t)pid, 10), on,
          "nice set to 10");

  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  outcome("affinity-other", sched_setaffinity((pid_t)pid, sizeof one, &one), on,
          "pinned to CPU 0");

  struct sched_param zero = {0}, rt = {1};
  outcome("sched-idle-other", sched_setscheduler((pid_t)pid, SCHED_IDLE, &zero), on,
          "moved to SCHED_IDLE");

  if (!root_only("sched-fifo-other", "CAP_SYS_NICE"))
    outcome("sched-fifo-other", sched_setscheduler((pid_t)pid, SCHED_FIFO, &rt), on,
            "moved to SCHED_FIFO");

  outcome("ioprio-other",
          (int)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, (int)pid, IOPRIO_PRIO(2, 7)), on,
          "I/O priority set to best-effort 7");

  if (!root_only("sched-fifo-self", "CAP_SYS_NICE")) {
    int rc = sched_setscheduler(0, SCHED_FIFO, &rt);
    int e = errno;
    if (rc == 0) {
      sched_setscheduler(0, SCHED_OTHER, &zero);
      escaped("sched-fifo-self", "took the real-time policy SCHED_FIFO");
    } else {
      refused("sched-fifo-self", e, "SCHED_FIFO");
    }
  }

  if (!root_only("nice-self", "CAP_SYS_NICE")) {
    int rc = setpriority(PRIO_PROCESS, 0, -20);
    int e = errno;
    if (rc == 0) {
      setpriority(PRIO_PROCESS, 0, 0);
      escaped("nice-self", "took nice -20");
    } else {
      refused("nice-self", e, "nice -20");
    }
  }

  if (!root_only("mlockall-self", "CAP_IPC_LOCK (beyond RLIMIT_MEMLOCK)")) {
    int rc = mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT);
    int e = errno;
    if (rc == 0) {
      munlockall();
      escaped("mlockall-self", "locked all its memory, beyond RLIMIT_MEMLOCK");
    } else {
      refused("mlockall-self", e, "mlockall");
    }
  }
  return probe_status;
}
