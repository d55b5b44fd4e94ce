/* lazy_args, second object (the lazy one): see lazy_args.c. Each function
 * weighs every argument differently, so a lost or swapped one shows. */
#include <stdarg.h>

#include "lazy_args.h"

double args16(long a0, long a1, long a2, long a3, long a4, long a5, long a6,
              long a7, double d0, double d1, double d2, double d3, double d4,
              double d5, double d6, double d7, long s0, double s1) {
  long i = a0 + 10 * a1 + 100 * a2 + 1000 * a3 + 10000 * a4 + 100000 * a5 +
           1000000 * a6 + 10000000 * a7 + 100000000 * s0;
  double d = d0 + 3 * d1 + 9 * d2 + 27 * d3 + 81 * d4 + 243 * d5 +
             729 * d6 + 2187 * d7 + 6561 * s1;
  return (double)i + d / 100000.0;
}

struct big make_big(long seed) {
  struct big b;
  for (int k = 0; k < 6; k++)
    b.v[k] = seed * (k + 1) + k;
  return b;
}

struct pair make_pair(double x, double y) {
  struct pair p = {x * 2 + y, y * 3 - x};
  return p;
}

long sum_va(int n, ...) {
  va_list ap;
  long s = 0;
  va_start(ap, n);
  for (int k = 0; k < n; k++)
    s += (k + 1) * va_arg(ap, long);
  va_end(ap);
  return s;
}
