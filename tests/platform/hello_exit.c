/* hello_exit: the smallest program: one line on stdout and main's return
 * value (42) as the exit status. Checks that the platform bootstraps and
 * runs main at all. */
#include <stdio.h>

int main(void) {
  puts("hello from JIT'd code");
  return 42;
}
