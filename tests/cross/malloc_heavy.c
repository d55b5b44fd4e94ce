/* Many allocations of mixed sizes, freed out of order and grown with
   realloc: the executor's heap under JIT'd code. Prints a checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512

int main(void) {
  static unsigned char *slot[SLOTS];
  static size_t size[SLOTS];
  unsigned long sum = 0, seed = 12345;
  for (int round = 0; round < 20000; ++round) {
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    int i = (int)((seed >> 33) % SLOTS);
    size_t n = (size_t)((seed >> 12) % 4096) + 1;
    if (round % 7 == 0)
      n *= 64; /* now and then a large block (mmap-sized) */
    if (slot[i] && round % 3 == 0) {
      unsigned char *p = realloc(slot[i], n);
      if (!p)
        return 2;
      if (n > size[i])
        memset(p + size[i], i & 0xff, n - size[i]);
      slot[i] = p;
      size[i] = n;
    } else {
      free(slot[i]);
      slot[i] = malloc(n);
      if (!slot[i])
        return 2;
      memset(slot[i], (round + i) & 0xff, n);
      size[i] = n;
    }
    sum += slot[i][n / 2] + size[i];
  }
  for (int i = 0; i < SLOTS; ++i)
    free(slot[i]);
  printf("malloc checksum %lu\n", sum);
  return (int)(sum % 97);
}
