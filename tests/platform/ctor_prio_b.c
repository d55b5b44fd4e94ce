/* ctor_prio, second object: see ctor_prio_a.c. Its prioritised
 * constructors (102, 104) sit between a's (101, 103), so a runtime that
 * sorts priorities only within one object runs them in the wrong order. */
#include <stdio.h>

int b_state;

__attribute__((constructor(102))) static void b_ctor_102(void) {
  puts("b: ctor 102");
  b_state = 102;
}

__attribute__((constructor(104))) static void b_ctor_104(void) {
  puts("b: ctor 104");
  b_state = b_state * 1000 + 104;
}

__attribute__((constructor)) static void b_ctor(void) { puts("b: ctor (no priority)"); }

__attribute__((destructor(102))) static void b_dtor_102(void) { puts("b: dtor 102"); }

__attribute__((destructor)) static void b_dtor(void) { puts("b: dtor (no priority)"); }
