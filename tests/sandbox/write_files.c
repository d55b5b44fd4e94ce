/* File I/O in directory argv[1]: creates sandbox-probe.txt, writes, reads
   back and removes it, and makes and removes a subdirectory. With a size
   argv[2] (KiB), writes that much in 1 KiB blocks instead and reports
   where it stopped. Prints each step with OK or the errno name. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *res(int ok) { return ok ? "OK" : strerrorname_np(errno); }

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  char path[4096], sub[4096];
  snprintf(path, sizeof path, "%s/sandbox-probe.txt", argv[1]);
  snprintf(sub, sizeof sub, "%s/sandbox-probe.d", argv[1]);
  FILE *f = fopen(path, "w");
  printf("create %s: %s\n", path, res(f != NULL));
  if (!f)
    return 0;
  if (argc > 2) {
    long kib = atol(argv[2]), done = 0;
    static char block[1024];
    memset(block, 'x', sizeof block);
    setvbuf(f, NULL, _IONBF, 0);
    while (done < kib && fwrite(block, 1, sizeof block, f) == sizeof block)
      ++done;
    if (done < kib)
      printf("write: %s after %ld KiB\n", strerrorname_np(errno), done);
    else
      printf("write: %ld KiB OK\n", done);
    fclose(f);
    unlink(path);
    return 0;
  }
  int ok = fputs("written in the sandbox\n", f) >= 0;
  ok = (fclose(f) == 0) && ok;
  printf("write: %s\n", res(ok));
  char line[128] = "";
  f = fopen(path, "r");
  if (f) {
    if (!fgets(line, sizeof line, f))
      line[0] = '\0';
    fclose(f);
  }
  printf("read back: %s", f ? line : "(cannot reopen)\n");
  printf("unlink: %s\n", res(unlink(path) == 0));
  printf("mkdir: %s\n", res(mkdir(sub, 0700) == 0));
  printf("rmdir: %s\n", res(rmdir(sub) == 0));
  return 0;
}
