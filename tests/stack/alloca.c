/* alloca-heavy code: 48 frames of 64 KiB each (3 MiB), written through. */
#include <alloca.h>
#include <stdio.h>
#include <string.h>
__attribute__((noinline)) static unsigned long grab(int depth) {
  unsigned char *p = alloca(64 * 1024);
  memset(p, depth, 64 * 1024);
  unsigned long sum = p[depth] + p[64 * 1024 - 1];
  if (depth > 0)
    sum += grab(depth - 1);
  return sum;
}
int main(void) {
  unsigned long s = grab(47);
  printf("alloca sum %lu\n", s);
  return s == 2256 ? 0 : 1;
}
