/* dl_lib: the library that dl_main.c opens with dlopen. In the JIT it is a
 * second JITDylib named "libplatformdl.so" (llvm-jitlink -jd); natively it
 * is built as libplatformdl.so and found through LD_LIBRARY_PATH. Its
 * constructor and destructor print; the constructor resets the call count
 * that the function main looks up with dlsym reports.
 *
 * Nothing printed depends on whether the library's data survives dlclose:
 * natively dlclose unmaps it, and a new dlopen starts from the initial
 * image, whereas the 22 JIT platform re-runs the initialisers of the same
 * JITDylib in the same memory. Only the constructor and destructor runs are
 * checked. */
#include <stdio.h>

static int calls;

__attribute__((constructor)) static void lib_ctor(void) {
  calls = 0;
  printf("lib: ctor\n");
}

__attribute__((destructor)) static void lib_dtor(void) {
  printf("lib: dtor after %d calls\n", calls);
}

int lib_call(int x) {
  calls++;
  printf("lib: call(%d), calls since ctor %d\n", x, calls);
  return x * 2;
}
