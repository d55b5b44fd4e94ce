/* Tries to lift the sandbox's resource limits: raising the hard limit of
   RLIMIT_AS, RLIMIT_CPU and RLIMIT_NOFILE back to unlimited (or 1M files).
   Prints OK or the errno name of each. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static void raise_(const char *name, int res, rlim_t to) {
  struct rlimit r = {to, to};
  printf("raise %s: %s\n", name, setrlimit(res, &r) == 0 ? "OK" : strerrorname_np(errno));
}

int main(void) {
  raise_("RLIMIT_AS", RLIMIT_AS, RLIM_INFINITY);
  raise_("RLIMIT_CPU", RLIMIT_CPU, RLIM_INFINITY);
  raise_("RLIMIT_NOFILE", RLIMIT_NOFILE, 1 << 20);
  return 0;
}
