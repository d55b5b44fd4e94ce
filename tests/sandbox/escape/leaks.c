/* Information leaks: what JIT'd code can learn about the world outside.
 *
 * Usage: leaks MODE OUTSIDE-FILE OUTSIDE-DIR PID ENV-NAME PORT UNIX-PATH
 *
 * OUTSIDE-FILE (holding a secret line, and the xattr user.secret) and
 * OUTSIDE-DIR lie outside every allowed path; PID is an outside process;
 * the launcher set ENV-NAME to a secret value starting "orcescS3CR3T" and
 * opened OUTSIDE-FILE on descriptor 9; PORT and UNIX-PATH are the test's
 * TCP and UNIX listeners.
 *
 * Checks: stat-shadow, stat-outside, statx-outside, access-outside,
 * getxattr-outside, chdir-outside, name-to-handle-outside, inotify-outside,
 * proc-net-tcp, proc-net-unix, mountinfo, environ-proc, environ-getenv,
 * environ-memory, pidfd-outside, inherited-fd, cap-eff, cap-bnd. */
#include "probe.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

static char buf[1 << 20];

static void stat_check(const char *check, const char *path) {
  struct stat st;
  if (stat(path, &st) == 0)
    leaked(check, "%s: mode %o uid %u size %lld", path, st.st_mode & 07777,
           (unsigned)st.st_uid, (long long)st.st_size);
  else
    refused(check, errno, "stat %s", path);
}

/* The status line KEY's hex value, or -1 if unreadable. */
static long long cap_line(const char *status, const char *key) {
  const char *p = strstr(status, key);
  return p ? strtoll(p + strlen(key), NULL, 16) : -1;
}

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 8) {
    printf("usage: leaks MODE OUTSIDE-FILE OUTSIDE-DIR PID ENV-NAME PORT UNIX-PATH\n");
    return 64;
  }
  const char *f = argv[2], *d = argv[3], *env = argv[5], *upath = argv[7];
  long pid = atol(argv[4]);
  int port = atoi(argv[6]);
  /* The secret's prefix, built at run time so that no copy of it sits in
     the probe's own memory before the scan below. */
  char prefix[16];
  snprintf(prefix, sizeof prefix, "orcesc%s", "S3CR3T");

  stat_check("stat-shadow", "/etc/shadow");
  stat_check("stat-outside", f);

  struct statx sx;
  if (statx(AT_FDCWD, f, 0, STATX_ALL, &sx) == 0)
    leaked("statx-outside", "%s: mode %o, born %lld", f, sx.stx_mode & 07777,
           (long long)sx.stx_btime.tv_sec);
  else
    refused("statx-outside", errno, "statx %s", f);

  if (access(f, F_OK) == 0)
    leaked("access-outside", "%s exists", f);
  else
    refused("access-outside", errno, "access %s", f);

  char x[64];
  ssize_t xn = getxattr(f, "user.secret", x, sizeof x - 1);
  if (xn >= 0)
    leaked("getxattr-outside", "user.secret of %s is \"%.*s\"", f, (int)xn, x);
  else
    refused("getxattr-outside", errno, "getxattr %s", f);

  int here = open(".", O_PATH | O_CLOEXEC);
  if (chdir(d) == 0) {
    leaked("chdir-outside", "chdir into %s", d);
    if (here >= 0 && fchdir(here) != 0)
      printf("PROBE-INFO cannot return to the first directory\n");
  } else {
    refused("chdir-outside", errno, "chdir %s", d);
  }
  if (here >= 0)
    close(here);

  struct {
    struct file_handle h;
    unsigned char b[128];
  } fh;
  fh.h.handle_bytes = sizeof fh.b;
  int mnt;
  if (name_to_handle_at(AT_FDCWD, f, &fh.h, &mnt, 0) == 0)
    leaked("name-to-handle-outside", "handle of %s (type %d, mount %d)", f, fh.h.handle_type,
           mnt);
  else
    refused("name-to-handle-outside", errno, "name_to_handle_at %s", f);

  int ifd = inotify_init1(IN_CLOEXEC);
  if (ifd < 0)
    refused("inotify-outside", errno, "inotify_init1");
  else if (inotify_add_watch(ifd, d, IN_ALL_EVENTS) < 0)
    refused("inotify-outside", errno, "watch %s", d);
  else
    leaked("inotify-outside", "watching %s (its events carry file names)", d);
  if (ifd >= 0)
    close(ifd);

  char want[16];
  snprintf(want, sizeof want, ":%04X ", port);
  file_shows("proc-net-tcp", "/proc/self/net/tcp", want, "the test's TCP listener");
  file_shows("proc-net-unix", "/proc/self/net/unix", upath, "the test's UNIX socket");
  /* The host's mount table shows /sys; a minimal root does not need it. */
  file_shows("mountinfo", "/proc/self/mountinfo", " /sys ", "the host's mounts, /sys included");

  long n = read_file("/proc/self/environ", buf, sizeof buf);
  if (n < 0) {
    refused("environ-proc", errno, "/proc/self/environ");
  } else {
    for (long i = 0; i < n; ++i)
      if (!buf[i])
        buf[i] = '\n';
    if (strstr(buf, prefix))
      leaked("environ-proc", "/proc/self/environ holds the launcher's secret");
    else
      refused("environ-proc", 0, "no secret in /proc/self/environ");
  }

  const char *v = getenv(env);
  if (v && strncmp(v, prefix, strlen(prefix)) == 0)
    leaked("environ-getenv", "%s is set", env);
  else
    refused("environ-getenv", 0, "%s is not set", env);

  /* The environment strings the kernel copied onto the main thread's
     stack stay there unless overwritten. */
  char needle[128];
  snprintf(needle, sizeof needle, "%s=%s", env, prefix);
  int in_memory = 0, merr = 0;
  FILE *maps = fopen("/proc/self/maps", "re");
  if (!maps) {
    merr = errno;
  } else {
    char line[512];
    while (fgets(line, sizeof line, maps))
      if (strstr(line, "[stack]")) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
            memmem((void *)lo, hi - lo, needle, strlen(needle)))
          in_memory = 1;
      }
    fclose(maps);
  }
  if (in_memory)
    leaked("environ-memory", "the launcher's secret is still on the main thread's stack");
  else
    refused("environ-memory", merr, "no secret on the main thread's stack");

  int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (pfd >= 0) {
    leaked("pidfd-outside", "pidfd for outside pid %ld", pid);
    close(pfd);
  } else {
    refused("pidfd-outside", errno, "pidfd_open %ld", pid);
  }

  char s[128];
  ssize_t sn = pread(9, s, sizeof s - 1, 0);
  if (sn > 0) {
    s[sn] = 0;
    if (strstr(s, prefix))
      leaked("inherited-fd", "read the launcher's secret file on descriptor 9");
    else
      refused("inherited-fd", 0, "descriptor 9 is something else");
  } else {
    refused("inherited-fd", sn < 0 ? errno : 0, "reading descriptor 9");
  }

  if (read_file("/proc/self/status", buf, sizeof buf) < 0) {
    printf("PROBE cap-eff error /proc/self/status: %s\n", strerrorname_np(errno));
  } else {
    long long eff = cap_line(buf, "CapEff:"), prm = cap_line(buf, "CapPrm:");
    long long bnd = cap_line(buf, "CapBnd:");
    if (!root_only("cap-eff", "a privileged launcher")) {
      if (eff != 0 || prm != 0)
        leaked("cap-eff", "CapEff %llx CapPrm %llx", eff, prm);
      else
        refused("cap-eff", 0, "no capabilities");
    }
    if (!root_only("cap-bnd", "a privileged launcher")) {
      if (bnd != 0)
        leaked("cap-bnd", "CapBnd %llx", bnd);
      else
        refused("cap-bnd", 0, "empty bounding set");
    }
  }
  return probe_status;
}
