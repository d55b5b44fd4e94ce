/* Not JIT'd: preloaded into the victim session's controller
   (llvm-jitlink-22). The controller unlinks each shared-memory name as soon
   as it has mapped it, so an attacker races for a window of a few system
   calls, a race it wins on a busy machine. To make the test deterministic,
   this shim keeps that window open: shm_unlink only appends the name to the
   file named by $ORC_ESC_SHM_LOG, and the test unlinks it afterwards. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int shm_unlink(const char *name) {
  const char *log = getenv("ORC_ESC_SHM_LOG");
  if (log) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      if (write(fd, name, strlen(name)) < 0 || write(fd, "\n", 1) < 0) {
        /* the test then finds the name missing from the log */
      }
      close(fd);
    }
  }
  return 0;
}
