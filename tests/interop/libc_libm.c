/* libc and libm from the executor's process: math, strings, qsort,
   malloc, time formatting without the clock. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

int main(void) {
  volatile double x = 2.0;
  printf("sqrt=%.6f sin=%.6f pow=%.1f log=%.6f\n", sqrt(x), sin(x), pow(x, 10),
         log(x));
  int v[] = {5, 3, 9, 1, 7};
  qsort(v, 5, sizeof v[0], cmp);
  for (int i = 0; i < 5; ++i)
    printf("%d ", v[i]);
  printf("\n");
  char *s = malloc(64);
  snprintf(s, 64, "%s-%zu", "len", strlen("abcdef"));
  puts(s);
  free(s);
  return (int)floor(sqrt(x) * 10);
}
