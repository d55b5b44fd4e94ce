/* ptrace(PTRACE_ATTACH) to the parent (llvm-jitlink): prints OK or the
   errno name. On success it detaches at once and lets the parent go on. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t parent = getppid();
  if (ptrace(PTRACE_ATTACH, parent, NULL, NULL) != 0) {
    printf("ptrace attach parent: %s\n", strerrorname_np(errno));
    return 0;
  }
  waitpid(parent, NULL, __WALL);
  ptrace(PTRACE_DETACH, parent, NULL, NULL);
  kill(parent, SIGCONT);
  printf("ptrace attach parent: OK\n");
  return 0;
}
