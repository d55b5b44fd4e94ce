/* ctor_prio_one: constructor priorities within ONE object, where native
 * order is reachable under LLVM 22 (the controller sorts one object's
 * initialisers by priority; see ctor_prio_a.c for two objects).
 *
 * Checks, against the same program built natively (both with
 * -fregister-global-dtors-with-atexit, see scripts/test-platform.sh):
 * prioritised constructors in ascending priority, then unprioritised ones;
 * destructors in the reverse order; atexit handlers registered from a
 * constructor and from main interleave with the destructors by
 * registration order; the exit status is main's. */
#include <stdio.h>
#include <stdlib.h>

static int order;

static void from_ctor(void) { puts("atexit: registered by ctor 300"); }
static void from_main(void) { puts("atexit: registered by main"); }

__attribute__((constructor(300))) static void c300(void) {
  printf("ctor 300 (#%d)\n", ++order);
  atexit(from_ctor);
}
__attribute__((constructor(101))) static void c101(void) { printf("ctor 101 (#%d)\n", ++order); }
__attribute__((constructor)) static void cplain(void) { printf("ctor (no priority) (#%d)\n", ++order); }
__attribute__((constructor(200))) static void c200(void) { printf("ctor 200 (#%d)\n", ++order); }

__attribute__((destructor(101))) static void d101(void) { puts("dtor 101"); }
__attribute__((destructor(250))) static void d250(void) { puts("dtor 250"); }
__attribute__((destructor)) static void dplain(void) { puts("dtor (no priority)"); }

int main(void) {
  printf("main: %d constructors ran\n", order);
  atexit(from_main);
  return 12;
}
