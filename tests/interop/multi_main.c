/* Several object files: main calls into two other objects and reads
   their data. */
#include <stdio.h>

extern int add_twice(int a, int b);
extern const char *greeting(void);
extern int counter;

int main(void) {
  counter += 5;
  printf("%s %d %d\n", greeting(), add_twice(3, 4), counter);
  return add_twice(1, 2);
}
