/* Exit status paths: return from main, exit(), and a negative return.
   The first program argument picks the mode and value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 2)
    return 0;
  int v = atoi(argv[1]);
  if (strcmp(argv[0], "exit") == 0) {
    printf("calling exit(%d)\n", v);
    exit(v);
  }
  printf("returning %d\n", v);
  return v;
}
