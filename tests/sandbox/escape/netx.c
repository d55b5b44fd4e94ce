/* Network reach that Landlock's bind/connect rules do not see.
 *
 * Usage: netx MODE UNIX-SOCKET-PATH ABSTRACT-NAME
 *
 * listen() on a TCP socket that was never bound binds it to 0.0.0.0 and a
 * free port: the probe prints "PROBE-PORT <port>" and waits 3 s for the
 * test to connect from outside. Then it connects to a pathname UNIX socket
 * the test listens on (outside every allowed path, mode 777) and to one in
 * the abstract namespace (as X11 offers both).
 *
 * Checks: tcp-listen-autobind, unix-connect-outside, unix-connect-abstract. */
#include "probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 4) {
    printf("usage: netx MODE UNIX-SOCKET-PATH ABSTRACT-NAME\n");
    return 64;
  }
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    refused("tcp-listen-autobind", errno, "socket(AF_INET, SOCK_STREAM)");
  } else if (listen(s, 4) != 0) {
    refused("tcp-listen-autobind", errno, "listen without bind");
  } else {
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    printf("PROBE-PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);
    struct pollfd p = {s, POLLIN, 0};
    int c = poll(&p, 1, 3000) > 0 ? accept(s, NULL, NULL) : -1;
    if (c >= 0)
      escaped("tcp-listen-autobind", "listening on %s:%d, accepted a connection from outside",
              inet_ntoa(a.sin_addr), ntohs(a.sin_port));
    else
      refused("tcp-listen-autobind", 0, "listened on port %d, but nothing outside reached it",
              ntohs(a.sin_port));
    if (c >= 0)
      close(c);
  }
  if (s >= 0)
    close(s);

  int u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un ua = {.sun_family = AF_UNIX};
  snprintf(ua.sun_path, sizeof ua.sun_path, "%s", argv[2]);
  if (u < 0)
    refused("unix-connect-outside", errno, "socket(AF_UNIX)");
  else if (connect(u, (struct sockaddr *)&ua, sizeof ua) != 0)
    refused("unix-connect-outside", errno, "connect %s", argv[2]);
  else
    escaped("unix-connect-outside", "connected to %s", argv[2]);
  if (u >= 0)
    close(u);

  u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un aa = {.sun_family = AF_UNIX};
  size_t len = strlen(argv[3]);
  if (len > sizeof aa.sun_path - 1)
    len = sizeof aa.sun_path - 1;
  memcpy(aa.sun_path + 1, argv[3], len);
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
  if (u < 0)
    refused("unix-connect-abstract", errno, "socket(AF_UNIX)");
  else if (connect(u, (struct sockaddr *)&aa, alen) != 0)
    refused("unix-connect-abstract", errno, "connect @%s", argv[3]);
  else
    escaped("unix-connect-abstract", "connected to @%s", argv[3]);
  if (u >= 0)
    close(u);
  return probe_status;
}
