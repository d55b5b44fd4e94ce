/* malloc of argv[1] MiB (default 2048), touching nothing, then a small
   malloc that is used; prints OK or NULL for each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pointer escapes, so the compiler cannot drop the malloc/free pair
   and assume success. */
void *volatile sink;

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 2048;
  sink = malloc((size_t)mib << 20);
  printf("malloc %ld MiB: %s\n", mib, sink ? "OK" : "NULL");
  free(sink);
  char *small = malloc(1 << 20);
  if (small)
    memset(small, 1, 1 << 20);
  printf("malloc 1 MiB: %s\n", small ? "OK" : "NULL");
  free(small);
  return 0;
}
