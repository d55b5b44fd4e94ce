/* lazy, second object: see lazy.c. */
#include <stdio.h>

int lazy_a_pong(int n);

static int ctor_ran;

__attribute__((constructor)) static void lazy_b_ctor(void) { ctor_ran = 1; }

int lazy_b_square(int x) { return x * x; }

int lazy_b_ping(int n) { return n <= 0 ? 0 : 1 + lazy_a_pong(n - 1); }

static int negate(int x) { return -x; }
static int triple(int x) { return 3 * x + ctor_ran * 1000; }

int (*lazy_b_pick(int which))(int) { return which ? triple : negate; }
