/* Device nodes and setuid/capability plants, in an rw= directory and in
 * /dev/shm: things that outlive the session and hand privilege to whoever
 * finds them. Every plant is removed again (the test removes leftovers).
 *
 * Usage: plant MODE RWDIR
 *
 * Checks: mknod-blk-rw, mknod-chr-rw (a /dev/kmsg node, then read),
 * setuid-create-rw, setuid-chmod-rw, setgid-chmod-rw, setcap-rw,
 * setuid-create-shm, setuid-chmod-shm, setcap-shm. */
#include "probe.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static void node(const char *check, const char *dir, mode_t type, unsigned maj, unsigned min,
                 const char *what) {
  char p[4096];
  snprintf(p, sizeof p, "%s/orc-esc-node-%d", dir, getpid());
  unlink(p);
  if (mknod(p, type | 0666, makedev(maj, min)) != 0) {
    refused(check, errno, "mknod %s (%s)", p, what);
    return;
  }
  /* A node that exists is the escape: it outlives the session, mode 666. */
  char buf[256];
  int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  int e = errno;
  if (fd >= 0)
    close(fd);
  unlink(p);
  if (n > 0)
    escaped(check, "created %s node %s and read %zd bytes from it", what, p, n);
  else
    escaped(check, "created %s node %s, mode 666 (read: %s)", what, p,
            fd < 0 ? strerrorname_np(e) : "nothing");
}

static void setid(const char *check, const char *dir, int via_create, mode_t bits) {
  char p[4096];
  snprintf(p, sizeof p, "%s/orc-esc-%s-%d", dir, check, getpid());
  unlink(p);
  mode_t m = 0755 | (via_create ? bits : 0);
  int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, m);
  if (fd < 0) {
    refused(check, errno, "creating %s", p);
    return;
  }
  int rc = 0, e = 0;
  if (!via_create) {
    /* (A write by a process without CAP_FSETID clears the setuid bit, so
       the file created with it stays empty.) */
    if (write(fd, "#!/bin/sh\nid\n", 13) != 13) {
      /* the content does not matter */
    }
    rc = fchmod(fd, 0755 | bits);
    e = errno;
  }
  struct stat st;
  fstat(fd, &st);
  close(fd);
  unlink(p);
  if ((st.st_mode & bits) == bits)
    escaped(check, "planted %s mode %o owned by uid %u", p, st.st_mode & 07777,
            (unsigned)st.st_uid);
  else if (rc != 0)
    refused(check, e, "%s", p);
  else
    refused(check, 0, "%s is mode %o, without the bit", p, st.st_mode & 07777);
}

static void setcap(const char *check, const char *dir) {
  if (root_only(check, "CAP_SETFCAP"))
    return;
  char p[4096];
  snprintf(p, sizeof p, "%s/orc-esc-%s-%d", dir, check, getpid());
  unlink(p);
  int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (fd < 0) {
    refused(check, errno, "creating %s", p);
    return;
  }
  struct vfs_cap_data v;
  memset(&v, 0, sizeof v);
  v.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  v.data[0].permitted = 1u << CAP_NET_RAW;
  int rc = fsetxattr(fd, "security.capability", &v, XATTR_CAPS_SZ_2, 0);
  int e = errno;
  close(fd);
  unlink(p);
  if (rc == 0)
    escaped(check, "planted %s with file capability cap_net_raw", p);
  else
    refused(check, e, "%s", p);
}

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 3) {
    printf("usage: plant MODE RWDIR\n");
    return 64;
  }
  const char *rw = argv[2];
  if (!root_only("mknod-blk-rw", "CAP_MKNOD"))
    node("mknod-blk-rw", rw, S_IFBLK, 7, 0, "block device loop0");
  if (!root_only("mknod-chr-rw", "CAP_MKNOD"))
    node("mknod-chr-rw", rw, S_IFCHR, 1, 11, "character device kmsg");
  setid("setuid-create-rw", rw, 1, S_ISUID);
  setid("setuid-chmod-rw", rw, 0, S_ISUID);
  setid("setgid-chmod-rw", rw, 0, S_ISGID);
  setcap("setcap-rw", rw);
  setid("setuid-create-shm", "/dev/shm", 1, S_ISUID);
  setid("setuid-chmod-shm", "/dev/shm", 0, S_ISUID);
  setcap("setcap-shm", "/dev/shm");
  return probe_status;
}
