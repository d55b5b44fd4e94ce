/* Output on both streams, interleaved with explicit flushes. */
#include <stdio.h>

int main(void) {
  for (int i = 0; i < 3; ++i) {
    printf("stdout line %d\n", i);
    fflush(stdout);
    fprintf(stderr, "stderr line %d\n", i);
  }
  printf("unflushed tail\n");
  return 0;
}
