/* New programs: fork + execve("/bin/sh", "exit 7") in the child (or, if
   fork is refused, execve in this process: it returns only on failure),
   then posix_spawn of the same. Prints OK (with the exit status) or the
   errno name of each. */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void) {
  char *sh_argv[] = {"sh", "-c", "exit 7", NULL};
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    execve("/bin/sh", sh_argv, environ);
    _exit(100 + (errno < 100 ? errno : 0));
  }
  int st = 0;
  if (p < 0) {
    printf("fork: %s\n", strerrorname_np(errno));
    execve("/bin/sh", sh_argv, environ);
    printf("execve /bin/sh: %s\n", strerrorname_np(errno));
  } else {
    printf("fork: OK\n");
    waitpid(p, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 7)
      printf("execve /bin/sh: OK (exit 7)\n");
    else if (WIFEXITED(st) && WEXITSTATUS(st) > 100)
      printf("execve /bin/sh: %s\n", strerrorname_np(WEXITSTATUS(st) - 100));
    else
      printf("execve /bin/sh: wait status %d\n", st);
  }
  fflush(stdout);
  int r = posix_spawn(&p, "/bin/sh", NULL, NULL, sh_argv, environ);
  if (r != 0) {
    printf("posix_spawn /bin/sh: %s\n", strerrorname_np(r));
  } else {
    waitpid(p, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 7)
      printf("posix_spawn /bin/sh: OK (exit 7)\n");
    else
      printf("posix_spawn /bin/sh: wait status %d\n", st);
  }
  return 0;
}
