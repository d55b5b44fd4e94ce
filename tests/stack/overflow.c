/* Unbounded recursion: dies by SIGSEGV, as a native program does. */
#include <stdio.h>
__attribute__((noinline)) static int down(volatile char *p, int n) {
  volatile char frame[4096];
  frame[0] = (char)n;
  return down(frame, n + 1) + frame[0] + (p ? p[0] : 0);
}
int main(void) {
  puts("going down");
  fflush(stdout);
  return down(0, 0);
}
