/* C11 atomics of every size, in every memory order, the 16-byte
 * compare-and-swap and several threads on one counter. Built for AArch64
 * with Clang's defaults, each of them is a call to an outline-atomics
 * helper (__aarch64_ldadd4_acq_rel...); with -mno-outline-atomics, inline
 * instructions. Prints what it checked and exits 42 when everything held,
 * 1 otherwise. Used by scripts/cross-atomics-cases.sh. */
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"

/* One size: fetch-and-op, exchange and compare-exchange (success and
 * failure) in the memory order ORD, with values that use every bit of the
 * type (and carry out of it for the add). */
#define CHECK_SIZE(T, ORD)                                                    \
  do {                                                                        \
    static _Atomic T v;                                                       \
    const T a = (T)0xf0e1d2c3b4a59687ull, b = (T)0x8f1e2d3c4b5a6988ull;        \
    const char *n = #T " " #ORD;                                              \
    atomic_store_explicit(&v, a, memory_order_relaxed);                       \
    expect(n, atomic_fetch_add_explicit(&v, b, ORD), a);                      \
    expect(n, atomic_load(&v), (T)(a + b));                                   \
    atomic_store(&v, a);                                                      \
    expect(n, atomic_fetch_and_explicit(&v, b, ORD), a);                      \
    expect(n, atomic_load(&v), (T)(a & b));                                   \
    atomic_store(&v, a);                                                      \
    expect(n, atomic_fetch_or_explicit(&v, b, ORD), a);                       \
    expect(n, atomic_load(&v), (T)(a | b));                                   \
    atomic_store(&v, a);                                                      \
    expect(n, atomic_fetch_xor_explicit(&v, b, ORD), a);                      \
    expect(n, atomic_load(&v), (T)(a ^ b));                                   \
    atomic_store(&v, a);                                                      \
    expect(n, atomic_fetch_sub_explicit(&v, b, ORD), a);                      \
    expect(n, atomic_load(&v), (T)(a - b));                                   \
    atomic_store(&v, a);                                                      \
    expect(n, atomic_exchange_explicit(&v, b, ORD), a);                       \
    expect(n, atomic_load(&v), b);                                            \
    T e = b;                                                                  \
    expect(n, atomic_compare_exchange_strong_explicit(&v, &e, a, ORD,         \
                                                      memory_order_relaxed),  \
           1);                                                                \
    expect(n, atomic_load(&v), a);                                            \
    e = b;                                                                    \
    expect(n, atomic_compare_exchange_strong_explicit(&v, &e, a, ORD,         \
                                                      memory_order_relaxed),  \
           0);                                                                \
    expect(n, e, a);                                                          \
  } while (0)

#define CHECK_ALL_ORDERS(T)                 \
  do {                                      \
    CHECK_SIZE(T, memory_order_relaxed);    \
    CHECK_SIZE(T, memory_order_acquire);    \
    CHECK_SIZE(T, memory_order_release);    \
    CHECK_SIZE(T, memory_order_acq_rel);    \
    CHECK_SIZE(T, memory_order_seq_cst);    \
  } while (0)

static __int128 wide __attribute__((aligned(16)));

static void check_cas16(void) {
  const unsigned __int128 one = 1;
  __int128 a = (__int128)(0x0123456789abcdefull | one << 64 << 63), b = ~a;
  __int128 e = a;
  wide = a;
  expect("cas16 success", __atomic_compare_exchange(&wide, &e, &b, 0, __ATOMIC_SEQ_CST,
                                                    __ATOMIC_SEQ_CST), 1);
  expect("cas16 stored", wide == b, 1);
  /* Only the high half differs: still a mismatch. */
  e = b ^ (__int128)(one << 64);
  expect("cas16 failure", __atomic_compare_exchange(&wide, &e, &a, 0, __ATOMIC_ACQUIRE,
                                                    __ATOMIC_ACQUIRE), 0);
  expect("cas16 old value", e == b, 1);
  expect("cas16 unchanged", wide == b, 1);
}

enum { THREADS = 4, ROUNDS = 20000 };
static _Atomic unsigned counter;
static _Atomic unsigned long long cas_counter;

static void *work(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    atomic_fetch_add(&counter, 1);
    unsigned long long c = atomic_load_explicit(&cas_counter, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&cas_counter, &c, c + 1)) {
    }
  }
  return 0;
}

int main(void) {
  CHECK_ALL_ORDERS(uint8_t);
  CHECK_ALL_ORDERS(uint16_t);
  CHECK_ALL_ORDERS(uint32_t);
  CHECK_ALL_ORDERS(uint64_t);
  check_cas16();
  run_threads(THREADS, work);
  expect("threads: fetch_add counter", atomic_load(&counter), THREADS * ROUNDS);
  expect("threads: cas counter", atomic_load(&cas_counter), THREADS * ROUNDS);
  return finish("atomics: sizes 1 2 4 8 16, 4 threads x 20000");
}
