/* A bounded fork bomb: 100 fork() calls (each child exits at once);
   prints how many succeeded and the errno of the first failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int ok = 0, first_errno = 0;
  fflush(stdout);
  for (int i = 0; i < 100; ++i) {
    pid_t p = fork();
    if (p == 0)
      _exit(0);
    if (p < 0) {
      if (!first_errno)
        first_errno = errno;
      continue;
    }
    ++ok;
    waitpid(p, NULL, 0);
  }
  printf("fork: %d of 100 succeeded\n", ok);
  if (first_errno)
    printf("fork: %s\n", strerrorname_np(first_errno));
  return 0;
}
