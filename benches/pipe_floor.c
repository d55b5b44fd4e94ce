/* pipe_floor: the physical floor for the EPC benchmarks on this machine.
 *
 * Two processes talk over a pair of pipes with SimpleRemoteEPC-shaped frames
 * (32-byte header {size, opcode, seqno, tag} + payload), doing no work:
 *
 *   floor_rtt_p50_us / floor_rtt_p99_us
 *       ping-pong of the frames epc_bench's rtt test uses (48-byte call,
 *       48-byte result); each side reads the header, then the payload.
 *   floor_stream_MBps
 *       one side streams 1 MiB frames, the other reads each into a buffer.
 *   floor_spawn_ms
 *       fork + exec of this binary as a fake executor that sends a
 *       Setup-sized frame, waits for EOF and exits 0; the parent closes
 *       its end after the frame and waits for the exit.
 *
 * Each figure is measured twice, once with the scheduler free to place the
 * two processes and once with both pinned to one CPU (on a small VM the
 * cross-CPU wake-ups cost more than the context switches), and the better
 * of the two is reported as the floor.
 *
 * Output: one "name value" line per figure on stdout.
 * Usage: pipe_floor [--quick]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { HDR = 32, SETUP_PAYLOAD = 1700 };

static void die(const char *what) {
  fprintf(stderr, "pipe_floor: FAIL: %s: %s\n", what, strerror(errno));
  exit(2);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_full(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r == 0 ? 0 : -1;
    p += r;
    n -= (size_t)r;
  }
  return 1;
}

static void write_full(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      die("write");
    p += r;
    n -= (size_t)r;
  }
}

/* Reads one frame into buf (capacity cap); returns the payload size, or -1
 * on EOF at a frame boundary. */
static long read_frame(int fd, char *buf, size_t cap) {
  uint64_t h[4];
  int r = read_full(fd, h, HDR);
  if (r == 0)
    return -1;
  if (r < 0 || h[0] < HDR || h[0] - HDR > cap)
    die("read header");
  if (h[0] > HDR && read_full(fd, buf, h[0] - HDR) != 1)
    die("read payload");
  return (long)(h[0] - HDR);
}

static void write_frame(int fd, char *frame, size_t payload, uint64_t seq) {
  uint64_t h[4] = {HDR + payload, 2, seq, 0};
  memcpy(frame, h, HDR);
  write_full(fd, frame, HDR + payload);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p) {
  qsort(v, n, sizeof(double), cmp_double);
  size_t i = (size_t)(p * (n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

/* Echo server: answers each frame with a frame of the same size. */
static void echo_child(int in, int out, size_t cap) {
  char *buf = malloc(HDR + cap);
  if (!buf)
    die("malloc");
  uint64_t seq = 0;
  long n;
  while ((n = read_frame(in, buf + HDR, cap)) >= 0) {
    if (n > 64) /* stream frames: acknowledge only the end marker */
      continue;
    write_frame(out, buf, (size_t)n, seq++);
  }
  _exit(0);
}

static pid_t start_echo(int *to, int *from, size_t cap) {
  int a[2], b[2];
  if (pipe(a) || pipe(b))
    die("pipe");
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    close(a[1]);
    close(b[0]);
    echo_child(a[0], b[1], cap);
  }
  close(a[0]);
  close(b[1]);
  *to = a[1];
  *from = b[0];
  return pid;
}

static void stop(pid_t pid, int to, int from) {
  int st;
  close(to);
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
    die("child exit");
  close(from);
}

static void bench_rtt(size_t calls, double *p50, double *p99) {
  int to, from;
  pid_t pid = start_echo(&to, &from, 64);
  char frame[HDR + 16], in[64];
  memset(frame, 7, sizeof frame);
  double *us = malloc(sizeof(double) * calls);
  size_t warm = calls / 10;
  for (size_t i = 0; i < calls + warm; ++i) {
    double t0 = now_s();
    write_frame(to, frame, 16, i);
    if (read_frame(from, in, sizeof in) != 16)
      die("echo size");
    double t1 = now_s();
    if (i >= warm)
      us[i - warm] = (t1 - t0) * 1e6;
  }
  stop(pid, to, from);
  *p50 = pct(us, calls, 0.5);
  *p99 = pct(us, calls, 0.99);
  free(us);
}

static void bench_stream(size_t mib, double *out) {
  const size_t chunk = 1 << 20;
  int to, from;
  pid_t pid = start_echo(&to, &from, chunk);
  char *frame = malloc(HDR + chunk), in[64];
  if (!frame)
    die("malloc");
  memset(frame, 5, HDR + chunk);
  double best = 0;
  for (int pass = 0; pass < 6; ++pass) { /* pass 0 is warm-up; best of 5 */
    double t0 = now_s();
    for (size_t i = 0; i < mib; ++i)
      write_frame(to, frame, chunk, i);
    write_frame(to, frame, 8, 0); /* end marker, acknowledged */
    if (read_frame(from, in, sizeof in) != 8)
      die("stream ack");
    double t1 = now_s();
    double mbps = mib * chunk / 1e6 / (t1 - t0);
    if (pass > 0 && mbps > best)
      best = mbps;
  }
  stop(pid, to, from);
  *out = best;
  free(frame);
}

/* The fake executor for bench_spawn (runs after exec). */
static int fake_executor(int in, int out) {
  char frame[HDR + SETUP_PAYLOAD], buf[64];
  memset(frame, 1, sizeof frame);
  write_frame(out, frame, SETUP_PAYLOAD, 0);
  while (read(in, buf, sizeof buf) > 0)
    ;
  return 0;
}

static void bench_spawn(const char *self, size_t runs, double *out) {
  double *ms = malloc(sizeof(double) * runs);
  char buf[HDR + SETUP_PAYLOAD];
  for (size_t i = 0; i < runs + 2; ++i) {
    double t0 = now_s();
    int a[2], b[2];
    if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC))
      die("pipe");
    pid_t pid = fork();
    if (pid < 0)
      die("fork");
    if (pid == 0) {
      char in[16], out[16];
      fcntl(a[0], F_SETFD, 0);
      fcntl(b[1], F_SETFD, 0);
      snprintf(in, sizeof in, "%d", a[0]);
      snprintf(out, sizeof out, "%d", b[1]);
      execl(self, self, "--fake-executor", in, out, (char *)NULL);
      _exit(127);
    }
    close(a[0]);
    close(b[1]);
    if (read_frame(b[0], buf, SETUP_PAYLOAD) != SETUP_PAYLOAD)
      die("setup frame");
    close(a[1]);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
      die("fake executor exit");
    close(b[0]);
    double t1 = now_s();
    if (i >= 2)
      ms[i - 2] = (t1 - t0) * 1e3;
  }
  *out = pct(ms, runs, 0.5);
  free(ms);
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--fake-executor") == 0)
    return fake_executor(atoi(argv[2]), atoi(argv[3]));
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0)
    die("readlink /proc/self/exe");
  self[n] = 0;
  cpu_set_t all, one;
  if (sched_getaffinity(0, sizeof all, &all))
    die("sched_getaffinity");
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &all)) {
      CPU_SET(c, &one);
      break;
    }
  double p50[2], p99[2], mbps[2], spawn[2];
  for (int pinned = 0; pinned < 2; ++pinned) {
    if (sched_setaffinity(0, sizeof(cpu_set_t), pinned ? &one : &all))
      die("sched_setaffinity");
    bench_rtt(quick ? 200 : 20000, &p50[pinned], &p99[pinned]);
    bench_stream(quick ? 4 : 64, &mbps[pinned]);
    bench_spawn(self, quick ? 2 : 20, &spawn[pinned]);
  }
  sched_setaffinity(0, sizeof all, &all);
#define MIN2(a) ((a)[0] < (a)[1] ? (a)[0] : (a)[1])
#define MAX2(a) ((a)[0] > (a)[1] ? (a)[0] : (a)[1])
  printf("floor_rtt_p50_us %.6g\n", MIN2(p50));
  printf("floor_rtt_p99_us %.6g\n", MIN2(p99));
  printf("floor_stream_MBps %.6g\n", MAX2(mbps));
  printf("floor_spawn_ms %.6g\n", MIN2(spawn));
  printf("floor_rtt_p50_us_free %.6g\nfloor_rtt_p50_us_1cpu %.6g\n", p50[0], p50[1]);
  printf("floor_stream_MBps_free %.6g\nfloor_stream_MBps_1cpu %.6g\n", mbps[0], mbps[1]);
  return 0;
}
