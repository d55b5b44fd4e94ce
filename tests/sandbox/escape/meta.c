/* File metadata outside the allowed paths, and through a read-only
 * descriptor of an ro= file.
 *
 * Usage: meta MODE OUTSIDE-FILE OUTSIDE-DIR RO-FILE
 *
 * OUTSIDE-FILE and OUTSIDE-DIR belong to the user the test runs as and lie
 * outside every allowed path; OUTSIDE-FILE carries the xattr user.orc_keep
 * (for removexattr). RO-FILE lies in an ro= directory. Each check makes one
 * change and reports whether it took effect.
 *
 * Checks: chmod-outside, chmod-dir-outside, fchmodat-outside,
 * chown-outside, utimensat-outside, setxattr-user-outside,
 * setxattr-trusted-outside, setxattr-capability-outside,
 * removexattr-outside, fchmod-ro-fd, fchown-ro-fd, fsetxattr-ro-fd,
 * setflags-ro-fd. */
#include "probe.h"

#include <linux/capability.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

/* A version-2 file-capability value granting CAP_NET_RAW. */
static void cap_value(struct vfs_cap_data *v) {
  memset(v, 0, sizeof *v);
  v->magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  v->data[0].permitted = 1u << CAP_NET_RAW;
}

static void mode_check(const char *check, int rc, const char *path, unsigned want) {
  struct stat st;
  if (rc != 0)
    refused(check, errno, "%s", path);
  else if (stat(path, &st) == 0 && (st.st_mode & 07777) != want)
    refused(check, 0, "call returned 0 but mode is %o", st.st_mode & 07777);
  else
    escaped(check, "%s is now mode %o", path, want);
}

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 5) {
    printf("usage: meta MODE OUTSIDE-FILE OUTSIDE-DIR RO-FILE\n");
    return 64;
  }
  const char *f = argv[2], *d = argv[3], *ro = argv[4];
  struct stat st;
  int have_st = stat(f, &st) == 0;

  mode_check("chmod-outside", chmod(f, 04755), f, 04755);
  mode_check("chmod-dir-outside", chmod(d, 0777), d, 0777);
  mode_check("fchmodat-outside", fchmodat(AT_FDCWD, f, 0644, 0), f, 0644);

  /* To its present owner: a no-op for the owner, yet only the owner (or
     CAP_CHOWN) may do it. */
  outcome("chown-outside",
          chown(f, have_st ? st.st_uid : getuid(), have_st ? st.st_gid : getgid()), f,
          "chown accepted");

  struct timespec times[2] = {{0, 0}, {0, 0}};
  outcome("utimensat-outside", utimensat(AT_FDCWD, f, times, 0), f, "times set to 1970");

  outcome("setxattr-user-outside", setxattr(f, "user.orc_esc", "planted", 7, 0), f,
          "user.orc_esc set");

  if (!root_only("setxattr-trusted-outside", "CAP_SYS_ADMIN"))
    outcome("setxattr-trusted-outside", setxattr(f, "trusted.orc_esc", "planted", 7, 0), f,
            "trusted.orc_esc set");

  if (!root_only("setxattr-capability-outside", "CAP_SETFCAP")) {
    struct vfs_cap_data v;
    cap_value(&v);
    outcome("setxattr-capability-outside",
            setxattr(f, "security.capability", &v, XATTR_CAPS_SZ_2, 0), f,
            "now carries file capability cap_net_raw");
  }

  outcome("removexattr-outside", removexattr(f, "user.orc_keep"), f, "user.orc_keep removed");

  /* Through a read-only descriptor of an ro= file. */
  int fd = open(ro, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("PROBE ro-setup error open %s: %s\n", ro, strerrorname_np(errno));
    return 3;
  }
  struct stat rst;
  fstat(fd, &rst);
  outcome("fchmod-ro-fd", fchmod(fd, 0666), ro, "made mode 666 through a read-only descriptor");
  outcome("fchown-ro-fd", fchown(fd, rst.st_uid, rst.st_gid), ro,
          "fchown accepted through a read-only descriptor");
  outcome("fsetxattr-ro-fd", fsetxattr(fd, "user.orc_esc", "planted", 7, 0), ro,
          "user.orc_esc set through a read-only descriptor");
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    refused("setflags-ro-fd", errno, "FS_IOC_GETFLAGS on %s", ro);
  } else {
    flags |= FS_NODUMP_FL;
    outcome("setflags-ro-fd", ioctl(fd, FS_IOC_SETFLAGS, &flags), ro,
            "inode flag nodump set through a read-only descriptor");
  }
  close(fd);
  return probe_status;
}
