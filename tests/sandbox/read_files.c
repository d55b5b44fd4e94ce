/* Opens each path of argv for reading (a directory: lists it) and prints
   "open PATH: OK" or "open PATH: <errno name>". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      printf("open %s: %s\n", argv[i], strerrorname_np(errno));
      continue;
    }
    struct stat st;
    int ok;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      DIR *d = fdopendir(fd);
      ok = d && readdir(d) != NULL;
      if (d)
        closedir(d);
      else
        close(fd);
    } else {
      char c;
      ok = read(fd, &c, 1) >= 0;
      close(fd);
    }
    printf("open %s: %s\n", argv[i], ok ? "OK" : strerrorname_np(errno));
  }
  return 0;
}
