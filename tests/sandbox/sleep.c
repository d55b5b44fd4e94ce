/* Sleeps forever: only a wall-clock limit (or a signal) ends it. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  printf("sleeping\n");
  fflush(stdout);
  for (;;)
    sleep(1000);
}
