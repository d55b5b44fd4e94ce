/* printf from JIT'd code; the exit code is main's result. */
#include <stdio.h>
int main(void) {
  printf("hello from lli -remote-mcjit\n");
  return 7;
}
