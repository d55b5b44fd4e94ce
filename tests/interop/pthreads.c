/* Threads created by JIT'd code, a mutex and a shared counter. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *work(void *arg) {
  long n = (long)arg;
  for (long i = 0; i < 100000; ++i) {
    pthread_mutex_lock(&lock);
    total += n;
    pthread_mutex_unlock(&lock);
  }
  return (void *)(n * 2);
}

int main(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; ++i)
    pthread_create(&t[i], NULL, work, (void *)(i + 1));
  long sum = 0;
  for (int i = 0; i < 4; ++i) {
    void *r;
    pthread_join(t[i], &r);
    sum += (long)r;
  }
  printf("total=%ld sum=%ld\n", total, sum);
  return (int)sum;
}
