// eh_cross, second object: see eh_cross_a.cpp. Frames here have objects
// with destructors that must run during unwinding, a handler that
// rethrows, and a catch(...) that captures the exception.
#include <cstdio>
#include <exception>

struct Guard {
  int depth;
  ~Guard() { std::printf("b: unwinding past depth %d\n", depth); }
};

int b_pass_through(int depth, void (*thrower)(int)) {
  Guard g{depth};
  if (depth == 0) {
    thrower(40 + depth);
    return 0;
  }
  return b_pass_through(depth - 1, thrower) + 1;
}

int b_catch_and_rethrow(void (*thrower)(int)) {
  try {
    thrower(99);
  } catch (...) {
    std::printf("b: caught something, rethrowing\n");
    throw;
  }
  return 0;
}

std::exception_ptr b_capture(void (*thrower)(int)) {
  try {
    thrower(0);
  } catch (...) {
    std::printf("b: captured with current_exception\n");
    return std::current_exception();
  }
  return nullptr;
}
