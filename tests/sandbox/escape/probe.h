/* Shared by the escape probes: one line per check on stdout,
 *
 *   PROBE <check> refused errno=<NAME> [detail]   the sandbox stopped it
 *   PROBE <check> ESCAPED <what happened>         JIT'd code acted outside
 *   PROBE <check> leaked <what it learnt>         JIT'd code learnt a secret
 *   PROBE <check> skip <reason>                   not meaningful for this user
 *   PROBE <check> closed <evidence>               impossible even unsandboxed
 *
 * and an exit status that tells: 0 nothing got through, 1 something leaked,
 * 2 something escaped. Every probe takes the run's user mode ("root" or
 * "user") as its first argument: checks that need privilege even without a
 * sandbox say `skip` in user mode (the probe cannot ask its own euid: the
 * sandbox may have changed it). Lines are flushed one by one, so a probe
 * ended by a limit or a signal keeps what it printed. */
#ifndef ORC_RT_ESCAPE_PROBE_H
#define ORC_RT_ESCAPE_PROBE_H
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int probe_status;
static int probe_root;

__attribute__((unused)) static void probe_init(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    printf("usage: %s root|user ...\n", argv[0]);
    exit(64);
  }
  probe_root = strcmp(argv[1], "root") == 0;
}

__attribute__((unused)) static void probe_line(const char *check, const char *verdict,
                                               const char *fmt, va_list ap) {
  printf("PROBE %s %s ", check, verdict);
  vprintf(fmt, ap);
  printf("\n");
  fflush(stdout);
}

/* The check failed with errno ERR (0: no errno, FMT says why). */
__attribute__((unused)) static void refused(const char *check, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("PROBE %s refused errno=%s ", check, err ? strerrorname_np(err) : "none");
  vprintf(fmt, ap);
  printf("\n");
  fflush(stdout);
  va_end(ap);
}

__attribute__((unused)) static void escaped(const char *check, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  probe_line(check, "ESCAPED", fmt, ap);
  va_end(ap);
  probe_status = 2;
}

__attribute__((unused)) static void leaked(const char *check, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  probe_line(check, "leaked", fmt, ap);
  va_end(ap);
  if (probe_status < 1)
    probe_status = 1;
}

__attribute__((unused)) static void skip(const char *check, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  probe_line(check, "skip", fmt, ap);
  va_end(ap);
}

/* The verdict on one call that returned RC (0: it took effect, WHAT says
   what that did to ON; else refused with the call's errno). */
__attribute__((unused)) static void outcome(const char *check, int rc, const char *on,
                                            const char *what) {
  int e = errno;
  if (rc == 0)
    escaped(check, "%s: %s", on, what);
  else
    refused(check, e, "%s", on);
}

/* In user mode, prints a skip line for CHECK and returns 1. */
__attribute__((unused)) static int root_only(const char *check, const char *why) {
  if (probe_root)
    return 0;
  skip(check, "needs %s even without a sandbox", why);
  return 1;
}

/* Reads up to CAP-1 bytes of PATH into BUF (NUL-terminated); returns the
   length or -1 with errno set. */
#include <fcntl.h>
#include <unistd.h>
__attribute__((unused)) static long read_file(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    if (r == 0 || n + (size_t)r >= cap - 1) {
      n += (size_t)r;
      break;
    }
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  return (long)n;
}

/* Reads PATH and reports CHECK as leaked if it contains NEEDLE (WHAT says
   what that means), else as refused. */
__attribute__((unused)) static void file_shows(const char *check, const char *path,
                                               const char *needle, const char *what) {
  static char text[1 << 20];
  if (read_file(path, text, sizeof text) < 0)
    refused(check, errno, "reading %s", path);
  else if (strstr(text, needle))
    leaked(check, "%s shows %s", path, what);
  else
    refused(check, 0, "%s does not show %s", path, what);
}

/* Asks every SOCK_SEQPACKET UNIX socket among descriptors 3..1023 (where a
   sandbox keeps a shared-memory broker, a process outside that creates
   objects in the host's /dev/shm and passes their descriptors back) for
   the object NAME of SIZE bytes, in orc-rt's broker protocol (size as a
   native 8-byte integer, then the name; the reply is a 4-byte errno and,
   on success, a descriptor). Returns the descriptor, or -1 with *ERR set
   to the last refusal (ENOTSOCK: no such socket). */
#include <sys/socket.h>
__attribute__((unused)) static int broker_request(const char *name, unsigned long long size,
                                                  int *err) {
  *err = ENOTSOCK;
  for (int s = 3; s < 1024; ++s) {
    int type = 0, domain = 0;
    socklen_t l = sizeof type;
    if (getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &l) != 0 || type != SOCK_SEQPACKET)
      continue;
    l = sizeof domain;
    if (getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &l) != 0 || domain != AF_UNIX)
      continue;
    char msg[8 + 256];
    size_t n = strlen(name);
    if (n > 256)
      n = 256;
    memcpy(msg, &size, 8);
    memcpy(msg + 8, name, n);
    if (send(s, msg, 8 + n, 0) < 0) {
      *err = errno;
      continue;
    }
    int code = 0;
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec io = {&code, sizeof code};
    struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl,
                        .msg_controllen = sizeof ctl};
    if (recvmsg(s, &mh, 0) != (ssize_t)sizeof code) {
      *err = errno;
      continue;
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (code == 0 && c && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
    *err = code ? code : EPROTO;
  }
  return -1;
}
#endif
