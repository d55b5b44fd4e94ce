/* lazy (with lazy_b.c): several functions in two objects, for llvm-jitlink
 * -lazy, where each function is reached through a lazy stub and
 * materialised on its first call (through __orc_rt_reenter). Also calls
 * through a function pointer, a function called before and after the
 * other object's, recursion across the objects, and a constructor in the
 * lazy object. Checks stdout and exit status against native. */
#include <stdio.h>

int lazy_b_square(int x);
int lazy_b_ping(int n);
int (*lazy_b_pick(int which))(int);

int lazy_a_pong(int n) { return n <= 0 ? 0 : 1 + lazy_b_ping(n - 1); }

static int add_one(int x) { return x + 1; }

int main(void) {
  printf("square(7) = %d\n", lazy_b_square(7));
  printf("ping-pong(9) = %d\n", lazy_b_ping(9));
  printf("pick(0)(5) = %d\n", lazy_b_pick(0)(5));
  printf("pick(1)(5) = %d\n", lazy_b_pick(1)(5));
  printf("add_one(square(3)) = %d\n", add_one(lazy_b_square(3)));
  return lazy_b_square(4) - 5;
}
