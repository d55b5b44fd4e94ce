/* Writes to stderr (an external data symbol of libc) and to stdout. */
#include <stdio.h>
int main(void) {
  fprintf(stderr, "to stderr: %d\n", 42);
  fflush(stderr);
  printf("to stdout\n");
  return 3;
}
