/* exit_deep: exit(37) called from ten nested calls deep, with atexit
 * handlers (one registered by a constructor, two by main, one registered
 * by another atexit handler while exit is running), a prioritised and an
 * unprioritised destructor.
 *
 * Checks, against the same program built natively: the exit status is 37;
 * the line after the call to exit is never printed; the handlers run in
 * reverse order of registration, a handler registered during exit runs
 * too, and the destructors run after them; output written with printf
 * before exit (still in stdio's buffer) is not lost.
 */
#include <stdio.h>
#include <stdlib.h>

static void late_handler(void) { puts("atexit: registered during exit"); }

static void handler_from_ctor(void) { puts("atexit: registered by the constructor"); }

static void handler_one(void) { puts("atexit: main's first"); }

static void handler_two(void) {
  puts("atexit: main's second, registers one more");
  atexit(late_handler);
}

__attribute__((constructor)) static void ctor(void) {
  puts("ctor: registers a handler");
  atexit(handler_from_ctor);
}

__attribute__((destructor)) static void dtor(void) { puts("dtor (no priority)"); }

__attribute__((destructor(150))) static void dtor_150(void) { puts("dtor 150"); }

static int depth_reached;

static int dive(int depth) {
  if (depth == 10) {
    depth_reached = depth;
    printf("depth %d: calling exit(37)\n", depth);
    exit(37);
  }
  int r = dive(depth + 1);
  printf("depth %d: returned %d (must not happen)\n", depth, r);
  return r + 1;
}

int main(void) {
  atexit(handler_one);
  atexit(handler_two);
  printf("main: diving\n");
  int r = dive(0);
  printf("main: dive returned %d (must not happen)\n", r);
  return 0;
}
