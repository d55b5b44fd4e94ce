/* Stores data in /dev/shm beyond the memory limit (tmpfs pages are not in
 * the address space that mem= bounds), in files of 32 MiB so that no single
 * file needs more than a file-size limit allows; all removed at the end.
 *
 * Usage: shmfill MODE LIMIT-MiB COUNT-MiB
 *
 * Checks: shm-fill. */
#include "probe.h"

#include <sys/stat.h>

#define FILE_MIB 32
#define MAX_FILES 64

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
  int err = 0, files = 0;
  for (; files < MAX_FILES && stored < count && !err; ++files) {
    char p[128];
    snprintf(p, sizeof p, "/dev/shm/orc-esc-fill-%d-%d", getpid(), files);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      err = errno;
      break;
    }
    for (int i = 0; i < FILE_MIB && stored < count; ++i) {
      ssize_t n = write(fd, mib, sizeof mib);
      if (n != (ssize_t)sizeof mib) {
        err = n < 0 ? errno : ENOSPC;
        break;
      }
      ++stored;
    }
    close(fd);
  }
  for (int f = 0; f < files; ++f) {
    char p[128];
    snprintf(p, sizeof p, "/dev/shm/orc-esc-fill-%d-%d", getpid(), f);
    unlink(p);
  }
  if (stored > limit)
    escaped("shm-fill", "stored %ld MiB in /dev/shm under mem=%ldM", stored, limit);
  else
    refused("shm-fill", err, "stored %ld MiB in /dev/shm, limit %ld MiB", stored, limit);
  return probe_status;
}
