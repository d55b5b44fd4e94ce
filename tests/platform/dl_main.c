/* dl_main (with dl_lib.c): dlopen, dlsym, dlclose of a second library and
 * opening it again. The same source runs natively (libplatformdl.so via
 * LD_LIBRARY_PATH) and in the JIT, where llvm-jitlink puts dl_lib.o in a
 * JITDylib named "libplatformdl.so" and aliases dlopen/dlsym/dlclose to
 * the ORC runtime's JIT versions.
 *
 * Checks: the library's constructor runs at dlopen, not before; dlsym finds
 * its function; dlclose runs its destructor; a second dlopen runs the
 * constructor again; the exit status. */
#include <dlfcn.h>
#include <stdio.h>

#define LIB "libplatformdl.so"

static int round_trip(int round) {
  printf("main: round %d: dlopen\n", round);
  void *h = dlopen(LIB, RTLD_NOW);
  if (!h) {
    printf("main: dlopen failed\n");
    return 1;
  }
  int (*call)(int) = (int (*)(int))dlsym(h, "lib_call");
  if (!call) {
    printf("main: dlsym failed\n");
    return 1;
  }
  printf("main: call returned %d\n", call(round * 10));
  printf("main: call returned %d\n", call(round * 10 + 1));
  printf("main: round %d: dlclose\n", round);
  if (dlclose(h) != 0) {
    printf("main: dlclose failed\n");
    return 1;
  }
  printf("main: round %d: closed\n", round);
  return 0;
}

int main(void) {
  printf("main: start\n");
  if (round_trip(1) || round_trip(2))
    return 1;
  printf("main: return 5\n");
  return 5;
}
