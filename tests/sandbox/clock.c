/* Prints the wall clock (CLOCK_REALTIME, ns) as JIT'd main starts:
 * scripts/bench-sandbox.sh subtracts the time the executor was exec'd. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

int main(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  printf("t=%lld\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
  return 0;
}
