/* Stores data in /dev/shm beyond the memory limit (tmpfs pages are not in
 * the address space that mem= bounds). Three files of COUNT/3 MiB each, so
 * no single file needs more than fsize= allows; all removed at the end.
 *
 * Usage: shmfill MODE LIMIT-MiB COUNT-MiB
 *
 * Checks: shm-fill. */
#include "probe.h"

#include <sys/stat.h>

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 4) {
    printf("usage: shmfill MODE LIMIT-MiB COUNT-MiB\n");
    return 64;
  }
  long limit = atol(argv[2]), count = atol(argv[3]);
  static char mib[1 << 20];
  memset(mib, 0x5a, sizeof mib);
  long stored = 0;
  int err = 0;
  char p[3][128];
  for (int f = 0; f < 3; ++f) {
    snprintf(p[f], sizeof p[f], "/dev/shm/orc-esc-fill-%d-%d", getpid(), f);
    int fd = open(p[f], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      err = errno;
      continue;
    }
    for (long i = 0; i < count / 3; ++i) {
      ssize_t n = write(fd, mib, sizeof mib);
      if (n != (ssize_t)sizeof mib) {
        err = n < 0 ? errno : ENOSPC;
        if (n > 0)
          stored += n >> 20;
        break;
      }
      ++stored;
    }
    close(fd);
  }
  for (int f = 0; f < 3; ++f)
    unlink(p[f]);
  if (stored > limit)
    escaped("shm-fill", "stored %ld MiB in /dev/shm under mem=%ldM", stored, limit);
  else
    refused("shm-fill", err, "stored %ld MiB in /dev/shm, limit %ld MiB", stored, limit);
  return probe_status;
}
