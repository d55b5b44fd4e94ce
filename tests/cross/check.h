/* Shared by the AArch64 atomics programs: a checked comparison that counts
 * failures, and running a function on several threads at once. */
#ifndef ORC_RT_CROSS_CHECK_H
#define ORC_RT_CROSS_CHECK_H

#include <pthread.h>
#include <stdio.h>

static int failures;

static void expect(const char *what, unsigned long long got, unsigned long long want) {
  if (got != want) {
    printf("FAILED %s: got %#llx, want %#llx\n", what, got, want);
    failures++;
  }
}

/* Runs work() on n threads (at most 16) and waits for them all. */
static void run_threads(int n, void *(*work)(void *)) {
  pthread_t t[16];
  int started = 0;
  for (; started < n && started < 16; started++)
    if (pthread_create(&t[started], 0, work, 0) != 0) {
      printf("FAILED pthread_create\n");
      failures++;
      break;
    }
  for (int i = 0; i < started; i++)
    pthread_join(t[i], 0);
}

/* Prints the program's one line and returns its exit code: 42 when every
 * check held. The executor does not flush the JIT'd program's stdio at
 * the end, so this does. */
static int finish(const char *what) {
  printf("%s: %s\n", what, failures ? "FAILED" : "ok");
  fflush(stdout);
  return failures ? 1 : 42;
}

#endif
