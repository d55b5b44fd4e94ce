/* exit() from deep inside, with an atexit handler and buffered output. */
#include <stdio.h>
#include <stdlib.h>
static void bye(void) { printf("atexit handler ran\n"); }
static void deeper(int n) {
  if (n == 0) {
    printf("exiting with 5\n");
    exit(5);
  }
  deeper(n - 1);
}
int main(void) {
  atexit(bye);
  deeper(10);
  return 0;
}
