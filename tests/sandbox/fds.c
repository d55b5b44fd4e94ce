/* Opens /dev/null up to 1000 times; prints how many this program opened
   before the first failure and its errno name. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  static int fds[1000];
  int n = 0, err = 0;
  while (n < 1000) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) {
      err = errno;
      break;
    }
    fds[n++] = fd;
  }
  if (err)
    printf("open /dev/null: %s after %d\n", strerrorname_np(err), n);
  else
    printf("open /dev/null: 1000 OK\n");
  while (n > 0)
    close(fds[--n]);
  return 0;
}
