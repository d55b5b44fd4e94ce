/* TCP: connects to 127.0.0.1:argv[1] (a port the test listens on) and
   binds 127.0.0.1:0; prints OK or the errno name of each. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void try_(const char *what, int port, int do_bind) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) {
    printf("socket: %s\n", strerrorname_np(errno));
    return;
  }
  int r = do_bind ? bind(s, (struct sockaddr *)&a, sizeof a)
                  : connect(s, (struct sockaddr *)&a, sizeof a);
  printf("%s 127.0.0.1:%d: %s\n", what, port, r == 0 ? "OK" : strerrorname_np(errno));
  close(s);
}

int main(int argc, char **argv) {
  try_("connect", argc > 1 ? atoi(argv[1]) : 1, 0);
  try_("bind", 0, 1);
  return 0;
}
