#include <stdio.h>

int main(int argc, char **argv) {
  (void)argv;
  printf("hello from the JIT, argc=%d\n", argc);
  return 0;
}
