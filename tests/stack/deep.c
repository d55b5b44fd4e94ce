/* Recursion through N KiB of stack (argv[1], default 6144), left with
   longjmp from the deepest frame. A native program gets RLIMIT_STACK
   (8 MiB by default) for main; JIT'd main must get the same. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
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
int main(int argc, char **argv) {
  limit = argc > 1 ? atol(argv[1]) : 6144;
  if (setjmp(env)) {
    printf("recursed through %ld KiB\n", limit);
    return 0;
  }
  rec(0);
  return 1;
}
