/* Recursion through about 6 MiB of stack, left with longjmp from the
   deepest frame: JIT'd main gets a main thread's stack. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
static jmp_buf env;
static long limit;
__attribute__((noinline)) static long rec(long n) {
  volatile char frame[1024];
  memset((char *)frame, (int)n, sizeof frame);
  if (n == limit)
    longjmp(env, 1);
  return rec(n + 1) + frame[n % 1024];
}
int main(void) {
  limit = 6 * 1024;
  if (setjmp(env)) {
    printf("recursed through %ld KiB\n", limit);
    return 0;
  }
  rec(0);
  return 1;
}
