/* Does /proc/self/maps tell a read-only page from the code page before
   it? Maps page 0 r-x and page 1 r--, then reads page 1's line back.
   Exit 0: it says r--, as Linux does. Exit 3: it says executable, as
   qemu-user 7.2's emulated maps does (the host merges both pages into
   one mapping, and qemu reports the first page's protection for all of
   it). Exit 1: the probe itself failed. */
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
  long page = 4096;
  char *p = mmap(0, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 1;
  p[0] = 1;
  p[page] = 1;
  if (mprotect(p, page, PROT_READ | PROT_EXEC) || mprotect(p + page, page, PROT_READ))
    return 1;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f)
    return 1;
  unsigned long want = (unsigned long)(p + page), lo, hi;
  char perms[8], line[512];
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo <= want && want < hi) {
      printf("/proc/self/maps shows the read-only page as %s\n", perms);
      return perms[2] == 'x' ? 3 : 0;
    }
  }
  return 1;
}
