/* tls_regs: values live in registers across thread-local accesses. On
 * AArch64 each access calls the TLS descriptor resolver, which the
 * compiler assumes changes nothing but x0 (and the link register), so a
 * function whose integer and floating-point arguments are still needed
 * after touching a thread-local keeps them in their argument registers
 * across the call. A resolver that lost any of them would change the sums.
 * Two threads and main each run the same sequence on their own copies.
 *
 * Checks, against the same program built natively: every line, and that
 * each thread's copies start from the initial values. */
#include <pthread.h>
#include <stdio.h>

__thread long tl_count = 3;
__thread double tl_scale = 1.5;
__thread long tl_zero;

__attribute__((noinline)) double mix(long a0, long a1, long a2, long a3,
                                     long a4, long a5, long a6, long a7,
                                     double d0, double d1, double d2,
                                     double d3, double d4, double d5,
                                     double d6, double d7) {
  tl_count += a0;
  long i = a1 + 2 * a2 + 3 * a3 + 4 * a4 + 5 * a5 + 6 * a6 + 7 * a7;
  tl_scale *= d0;
  double d = d1 + 2 * d2 + 3 * d3 + 4 * d4 + 5 * d5 + 6 * d6 + 7 * d7;
  tl_zero += i;
  return (double)i + d + (double)tl_count + tl_scale + (double)tl_zero;
}

struct result {
  long count;
  double scale, last;
  long zero;
};

static void run(struct result *r, long seed) {
  double last = 0;
  for (long k = 0; k < 50; k++)
    last = mix(seed + k, 1, 2, 3, 4, 5, 6, 7, 1.0 + k / 100.0, 0.5, 0.25,
               0.125, 2, 4, 8, 16);
  r->count = tl_count;
  r->scale = tl_scale;
  r->zero = tl_zero;
  r->last = last;
}

static struct result results[3];

static void *thread_main(void *arg) {
  long n = (long)arg;
  run(&results[n], 100 * (n + 1));
  return NULL;
}

int main(void) {
  pthread_t t[2];
  for (long n = 0; n < 2; n++)
    if (pthread_create(&t[n], NULL, thread_main, (void *)n) != 0)
      return 1;
  for (int n = 0; n < 2; n++)
    pthread_join(t[n], NULL);
  run(&results[2], 7);
  for (int n = 0; n < 3; n++)
    printf("%s %d: count %ld scale %.6g zero %ld last %.6f\n",
           n < 2 ? "thread" : "main  ", n, results[n].count,
           results[n].scale, results[n].zero, results[n].last);
  return 0;
}
