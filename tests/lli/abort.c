/* abort() in JIT'd code: the child dies by SIGABRT. */
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  printf("about to abort\n");
  fflush(stdout);
  abort();
}
