// cxx_static (with cxx_static_b.cpp and cxx_static.h): C++ objects with
// static storage duration across two objects.
//
// Checks, against the same program built natively:
//   - namespace-scope globals run their constructors before main, in
//     declaration order within an object and link order across objects,
//     with init_priority(N) globals first;
//   - an inline variable defined in both objects is constructed once;
//   - function-local statics are constructed on first use (in the order
//     main uses them, not the order they are written) and only once;
//   - at exit (main returns 0), every object is destroyed exactly once, in
//     reverse order of the end of its construction, local statics
//     included, interleaved with the globals as native does.
#include "cxx_static.h"

Tracer a_first{"a: global 1"};
Tracer a_second{"a: global 2"};
__attribute__((init_priority(200))) Tracer a_prio{"a: global init_priority(200)"};

static Tracer &a_local(int which) {
  if (which == 1) {
    static Tracer one{"a: local static 1"};
    return one;
  }
  static Tracer two{"a: local static 2"};
  return two;
}

int main() {
  std::printf("main: start, b's global is '%s'\n", b_global_name());
  a_local(2);
  b_local(1);
  a_local(1);
  a_local(2); // already constructed: nothing printed
  b_local(2);
  b_local(1);
  std::printf("main: inline variable is '%s'\n", inline_shared.name.c_str());
  std::printf("main: return 0\n");
  return 0;
}
