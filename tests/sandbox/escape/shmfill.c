/* Stores data in /dev/shm beyond the memory limit (tmpfs pages are not in
 * the address space that mem= bounds), in objects of 32 MiB so that no
 * single one needs more than a file-size limit allows.
 *
 * Usage: shmfill MODE LIMIT-MiB COUNT-MiB HOST-SHM-DEV
 *
 * shm-fill writes files into the /dev/shm the process sees (removed at the
 * end). shm-fill-host stores into the host's /dev/shm (device number
 * HOST-SHM-DEV, as stat(1) %d prints it), where data outlives the session:
 * directly when /dev/shm is the host's, else through the sandbox's
 * shared-memory broker (objects /orc_esc_fill_<pid>_<n>, which the test
 * removes).
 *
 * Checks: shm-fill, shm-fill-host. */
#include "probe.h"

#include <sys/stat.h>

#define FILE_MIB 32
#define MAX_FILES 64

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 5) {
    printf("usage: shmfill MODE LIMIT-MiB COUNT-MiB HOST-SHM-DEV\n");
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

  struct stat st;
  if (stat("/dev/shm", &st) == 0 && (unsigned long long)st.st_dev == strtoull(argv[4], NULL, 10)) {
    /* The host's /dev/shm: what shm-fill stored was there. */
    if (stored > limit)
      escaped("shm-fill-host", "stored %ld MiB in the host's /dev/shm directly", stored);
    else
      refused("shm-fill-host", err, "stored %ld MiB in the host's /dev/shm directly", stored);
    return probe_status;
  }
  long host = 0;
  int berr = 0;
  for (int f = 0; f < MAX_FILES && host < count; ++f) {
    char name[64];
    snprintf(name, sizeof name, "/orc_esc_fill_%d_%d", getpid(), f);
    int fd = broker_request(name, (unsigned long long)FILE_MIB << 20, &berr);
    if (fd < 0)
      break;
    for (int i = 0; i < FILE_MIB && host < count; ++i) {
      if (pwrite(fd, mib, sizeof mib, (off_t)i << 20) != (ssize_t)sizeof mib) {
        berr = errno;
        break;
      }
      ++host;
    }
    close(fd);
  }
  if (host > limit)
    escaped("shm-fill-host", "stored %ld MiB in the host's /dev/shm through the broker, "
            "under mem=%ldM; it outlives the session", host, limit);
  else
    refused("shm-fill-host", berr, "stored %ld MiB in the host's /dev/shm through the broker",
            host);
  return probe_status;
}
