/* An infinite loop: only a CPU limit (or a signal) ends it. */
#include <stdio.h>

int main(void) {
  printf("spinning\n");
  fflush(stdout);
  for (volatile unsigned long i = 0;; ++i) {
  }
}
