/* tls_c (with tls_c_b.c): C11 _Thread_local variables used from four
 * pthreads and the main thread. Compiled with -fPIC: JITLink 22 handles only
 * the general-dynamic TLS model (R_X86_64_TLSGD). No thread-local here has
 * internal linkage: the compiler accesses those with local-dynamic
 * relocations (R_X86_64_TLSLD), which JITLink 22 rejects, even with
 * -ftls-model=global-dynamic.
 *
 * Checks, against the same program built natively:
 *   - each thread starts from the initial image: an initialised variable
 *     (.tdata) has its initial value, a zero-initialised one (.tbss) is 0,
 *     in every thread, also after other threads changed their copies;
 *   - writes in one thread do not show in another;
 *   - `shared_tl`, defined in tls_c_b.c and declared extern here, is ONE
 *     variable per thread: both objects see the same address and each
 *     other's writes (two copies would give different sums and "differ");
 *   - a thread-local array larger than a page is zeroed per thread.
 * The threads record their results; main prints them in order after
 * joining, so the output is deterministic.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NTHREADS 4

_Thread_local int a_counter = 5;
_Thread_local int a_zeroed;
_Thread_local char a_big[8192];
extern _Thread_local long shared_tl;

long *b_shared_addr(void);
long b_add_shared(long v);
int b_own_initial(void);

struct result {
  int counter_at_start, zeroed_at_start, big_nonzero, b_own;
  long shared_at_start, shared_seen_by_b, shared_seen_here;
  int counter_at_end, same_address;
};

static struct result results[NTHREADS + 1];

static void work(int i) {
  struct result *r = &results[i];
  r->counter_at_start = a_counter;
  r->zeroed_at_start = a_zeroed;
  r->shared_at_start = shared_tl;
  r->b_own = b_own_initial();
  for (size_t k = 0; k < sizeof a_big; k++)
    r->big_nonzero += a_big[k] != 0;
  memset(a_big, i + 1, sizeof a_big);
  a_counter += 100 * (i + 1);
  a_zeroed = i + 1;
  shared_tl += 10 * (i + 1);                   /* write from this object */
  r->shared_seen_by_b = b_add_shared(i + 1);   /* b adds and reads back */
  r->shared_seen_here = shared_tl;             /* b's write seen here? */
  r->same_address = b_shared_addr() == &shared_tl;
  r->counter_at_end = a_counter;
}

static void *thread_main(void *arg) {
  work((int)(long)arg);
  return NULL;
}

int main(void) {
  pthread_t t[NTHREADS];
  work(NTHREADS); /* main thread first: threads must still see the image */
  for (long i = 0; i < NTHREADS; i++)
    if (pthread_create(&t[i], NULL, thread_main, (void *)i) != 0) {
      puts("pthread_create failed");
      return 1;
    }
  for (int i = 0; i < NTHREADS; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i <= NTHREADS; i++) {
    struct result *r = &results[i];
    printf("%s %d: counter %d->%d zeroed %d big-nonzero %d b-own %d "
           "shared %ld, b sees %ld, a sees %ld, address %s\n",
           i == NTHREADS ? "main  " : "thread", i, r->counter_at_start, r->counter_at_end,
           r->zeroed_at_start, r->big_nonzero, r->b_own, r->shared_at_start,
           r->shared_seen_by_b, r->shared_seen_here, r->same_address ? "same" : "differs");
  }
  printf("main thread after join: counter %d zeroed %d shared %ld\n", a_counter, a_zeroed,
         shared_tl);
  return 0;
}
