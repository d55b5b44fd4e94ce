/* A victim session's program: prints that it runs, then sleeps argv[1]
   seconds (default 20), so its JIT memory stays mapped while a probe
   attacks it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int secs = argc > 1 ? atoi(argv[1]) : 20;
  printf("victim running\n");
  fflush(stdout);
  sleep((unsigned)secs);
  printf("victim done\n");
  return 0;
}
