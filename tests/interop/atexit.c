/* atexit from JIT'd C code. glibc's atexit lives in libc_nonshared.a, so
   without the ORC runtime the symbol is not found (in both executors);
   with it, the runtime takes the registration. */
#include <stdio.h>
#include <stdlib.h>

static void bye(void) { printf("atexit handler ran\n"); }

int main(void) {
  atexit(bye);
  printf("main returns 3\n");
  return 3;
}
