/* lazy_args (with lazy_args_b.c): lazy functions (llvm-jitlink -lazy)
 * called with every argument register of the calling convention in use:
 * eight integer and eight floating-point arguments plus ones on the stack,
 * a large struct returned through memory (the indirect-result register on
 * AArch64), a struct of doubles returned in registers, and a variadic
 * function. The first call of each goes through the re-entry stub, which
 * must hand all of them over unchanged; the second goes straight to the
 * function. Checks stdout and exit status against native. */
#include <stdio.h>

#include "lazy_args.h"

int main(void) {
  for (int round = 0; round < 2; round++) {
    printf("round %d\n", round);
    printf("  args16 = %.4f\n",
           args16(1, 2, 3, 4, 5, 6, 7, 8, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5,
                  7.5, 9, 8.5));
    struct big b = make_big(10 + round);
    printf("  big = %ld %ld %ld %ld %ld %ld\n", b.v[0], b.v[1], b.v[2],
           b.v[3], b.v[4], b.v[5]);
    struct pair p = make_pair(1.25, -2.5);
    printf("  pair = %.3f %.3f\n", p.x, p.y);
    printf("  sum_va = %ld\n",
           sum_va(10, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L));
  }
  return (int)make_big(3).v[5];
}
