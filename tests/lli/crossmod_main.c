/* Calls into a second module (lli -extra-module) and reads its global. */
#include <stdio.h>
extern int twice(int);
extern const char *greeting;
extern int counter;
int main(void) {
  for (int i = 0; i < 3; i++)
    counter += twice(i);
  printf("%s: counter=%d\n", greeting, counter);
  return counter == 6 ? 0 : 1;
}
