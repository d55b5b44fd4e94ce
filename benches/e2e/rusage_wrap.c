/* rusage_wrap: -oop-executor wrapper for scripts/bench.sh.
 *
 * llvm-jitlink-22 runs this as "<wrapper> filedescs=<in>,<out>". It runs the
 * real executor named by $BENCH_REAL_EXECUTOR with the same arguments (the
 * pipe fds are inherited), waits for it, and appends one line to
 * $BENCH_TIME_OUT:
 *
 *     wall_s user_s sys_s maxrss_kb exit_status
 *
 * with microsecond CPU resolution (wait4), then exits with the executor's
 * status so llvm-jitlink sees the same thing it would without the wrapper.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *real = getenv("BENCH_REAL_EXECUTOR");
  const char *out = getenv("BENCH_TIME_OUT");
  if (!real || !out) {
    fprintf(stderr, "rusage_wrap: set BENCH_REAL_EXECUTOR and BENCH_TIME_OUT\n");
    return 125;
  }
  (void)argc;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid < 0) {
    perror("rusage_wrap: fork");
    return 125;
  }
  if (pid == 0) {
    argv[0] = (char *)real;
    execv(real, argv);
    fprintf(stderr, "rusage_wrap: exec %s: %s\n", real, strerror(errno));
    _exit(127);
  }
  int st;
  struct rusage ru;
  while (wait4(pid, &st, 0, &ru) < 0)
    if (errno != EINTR) {
      perror("rusage_wrap: wait4");
      return 125;
    }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  FILE *f = fopen(out, "a");
  if (f) {
    fprintf(f, "%.6f %.6f %.6f %ld %d\n",
            (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
            ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
            ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss, code);
    fclose(f);
  }
  return code;
}
