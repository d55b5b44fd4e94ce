/* A JIT'd function gdb must find by name (--debugger-support, -g). */
#include <stdio.h>

int jit_target_function(int x) {
  int tripled = x * 3;
  return tripled;
}

int main(void) {
  printf("result %d\n", jit_target_function(14));
  return 0;
}
