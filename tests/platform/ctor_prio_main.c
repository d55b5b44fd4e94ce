/* ctor_prio, main object: see ctor_prio_a.c. Prints the state the
 * constructors left and registers two atexit handlers of its own. It
 * returns 0 from main (exit_deep.c covers exit() from deep inside). */
#include <stdio.h>
#include <stdlib.h>

extern int a_state, b_state;

static void main_atexit_first(void) { puts("main: atexit handler 1 (registered first)"); }
static void main_atexit_second(void) { puts("main: atexit handler 2 (registered second)"); }

__attribute__((constructor)) static void main_ctor(void) { puts("main: ctor (no priority)"); }

__attribute__((destructor)) static void main_dtor(void) { puts("main: dtor (no priority)"); }

int main(void) {
  printf("main: a_state=%d b_state=%d\n", a_state, b_state);
  atexit(main_atexit_first);
  atexit(main_atexit_second);
  puts("main: return 0");
  return 0;
}
