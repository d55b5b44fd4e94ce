/* Crash recovery (scripts/test-crash.sh): run as main by llvm-jitlink-22,
 * prints a line, then writes through a null pointer. With
 * ORC_RT_ON_CRASH=recover the run fails with an error naming SIGSEGV at
 * address 0x0, the line is printed once, and the executor exits 0 when
 * the controller ends the session. */
#include <stdio.h>

int main(void) {
  printf("before the crash\n");
  volatile int *p = 0;
  *p = 1;
  printf("not reached\n");
  return 0;
}
