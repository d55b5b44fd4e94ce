/* lazy_args: what lazy_args.c calls in lazy_args_b.c (see lazy_args.c). */
#ifndef LAZY_ARGS_H
#define LAZY_ARGS_H

/* 48 bytes: returned through memory (x8 on AArch64). */
struct big {
  long v[6];
};
/* Two doubles: returned in d0/d1 on AArch64. */
struct pair {
  double x, y;
};

double args16(long a0, long a1, long a2, long a3, long a4, long a5, long a6,
              long a7, double d0, double d1, double d2, double d3, double d4,
              double d5, double d6, double d7, long s0, double s1);
struct big make_big(long seed);
struct pair make_pair(double x, double y);
long sum_va(int n, ...);

#endif
