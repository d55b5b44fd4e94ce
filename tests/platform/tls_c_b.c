/* tls_c, second object: see tls_c.c. Defines `shared_tl` (initialised, in
 * .tdata) that tls_c.c uses through an extern declaration, and a
 * thread-local of its own. */
_Thread_local long shared_tl = 7;
_Thread_local int b_own = 42; /* not static: see tls_c.c */

long *b_shared_addr(void) { return &shared_tl; }

long b_add_shared(long v) {
  shared_tl += v;
  return shared_tl;
}

int b_own_initial(void) {
  int v = b_own;
  b_own += 1;
  return v;
}
