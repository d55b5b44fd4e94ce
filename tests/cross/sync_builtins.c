/* GCC's legacy __sync builtins on every size, and several threads on one
 * counter. Built for AArch64 by GCC (which calls outline-atomics helpers
 * by default since GCC 10), each is a call to a `_sync` helper
 * (__aarch64_ldadd4_sync...). Prints what it checked and exits 42 when
 * everything held, 1 otherwise. Used by scripts/cross-atomics-cases.sh. */
#include <stdint.h>

#include "check.h"

#define CHECK_SIZE(T)                                                          \
  do {                                                                         \
    static volatile T v;                                                       \
    const T a = (T)0xf0e1d2c3b4a59687ull, b = (T)0x8f1e2d3c4b5a6988ull;         \
    const char *n = #T;                                                        \
    v = a;                                                                     \
    expect(n, __sync_fetch_and_add(&v, b), a);                                 \
    expect(n, v, (T)(a + b));                                                  \
    v = a;                                                                     \
    expect(n, __sync_fetch_and_and(&v, b), a);                                 \
    expect(n, v, (T)(a & b));                                                  \
    v = a;                                                                     \
    expect(n, __sync_fetch_and_or(&v, b), a);                                  \
    expect(n, v, (T)(a | b));                                                  \
    v = a;                                                                     \
    expect(n, __sync_fetch_and_xor(&v, b), a);                                 \
    expect(n, v, (T)(a ^ b));                                                  \
    v = a;                                                                     \
    expect(n, __sync_lock_test_and_set(&v, b), a);                             \
    expect(n, v, b);                                                           \
    expect(n, __sync_val_compare_and_swap(&v, b, a), b);                       \
    expect(n, v, a);                                                           \
    expect(n, __sync_bool_compare_and_swap(&v, b, a), 0);                      \
    expect(n, v, a);                                                           \
  } while (0)

enum { THREADS = 4, ROUNDS = 20000 };
static volatile unsigned counter;

static void *work(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++)
    __sync_fetch_and_add(&counter, 1);
  return 0;
}

int main(void) {
  CHECK_SIZE(uint8_t);
  CHECK_SIZE(uint16_t);
  CHECK_SIZE(uint32_t);
  CHECK_SIZE(uint64_t);
  run_threads(THREADS, work);
  expect("threads: counter", counter, THREADS * ROUNDS);
  return finish("sync builtins: sizes 1 2 4 8, 4 threads x 20000");
}
