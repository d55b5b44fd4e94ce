/* Crash recovery (scripts/test-crash.sh): run as main, prints a line,
 * then spins until the executor, recovering, is sent SIGINT. */
#include <stdio.h>

int main(void) {
  volatile int spin = 1;
  printf("spinning\n");
  fflush(stdout);
  while (spin) {
  }
  return 0;
}
