/* ctor_prio (with ctor_prio_b.c and ctor_prio_main.c): C constructors and
 * destructors with and without priorities spread over two objects, and
 * atexit handlers registered from a constructor and from main.
 *
 * Checks, against the same program built natively:
 *   - prioritised constructors run in ascending priority ACROSS objects
 *     (a:101, b:102, a:103, b:104 interleave the two objects), before the
 *     unprioritised ones, which run in link order;
 *   - at exit, the atexit handlers run in reverse order of registration
 *     (main's before the constructor's), then the destructors:
 *     unprioritised ones first, prioritised ones in descending priority;
 *   - state set by constructors is visible in main.
 */
#include <stdio.h>
#include <stdlib.h>

int a_state;

static void a_atexit_from_ctor(void) { puts("a: atexit handler (registered by a: ctor 103)"); }

__attribute__((constructor(101))) static void a_ctor_101(void) {
  puts("a: ctor 101");
  a_state = 101;
}

__attribute__((constructor(103))) static void a_ctor_103(void) {
  puts("a: ctor 103");
  a_state = a_state * 1000 + 103;
  atexit(a_atexit_from_ctor);
}

__attribute__((constructor)) static void a_ctor(void) { puts("a: ctor (no priority)"); }

__attribute__((destructor(101))) static void a_dtor_101(void) { puts("a: dtor 101"); }

__attribute__((destructor(103))) static void a_dtor_103(void) { puts("a: dtor 103"); }

__attribute__((destructor)) static void a_dtor(void) { puts("a: dtor (no priority)"); }
