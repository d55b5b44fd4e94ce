// eh_uncaught: an exception that nothing catches. Natively, __cxa_throw
// finds no handler and calls std::terminate before any cleanup runs:
// libstdc++ prints "terminate called after throwing an instance of ..."
// and its what(), and the process aborts (status 134). Under the JIT, the
// exception must stop where the runtime called into JIT'd code, the same
// way, and never unwind into the executor's own (Rust) frames.
//
// Checks, against the native program: stderr, the abort status, and that
// no destructor runs (stdout: nothing, since stdio is not flushed by
// abort and the local destructor never runs).
#include <cstdio>
#include <stdexcept>

struct Global {
  ~Global() { std::puts("global destructor (must not run)"); }
} global;

struct Local {
  ~Local() { std::fputs("local destructor (must not run)\n", stderr); }
};

static void thrower(int depth) {
  Local l;
  if (depth == 0)
    throw std::runtime_error("escaped from JIT'd code");
  thrower(depth - 1);
}

int main() {
  std::fputs("main: throwing\n", stderr);
  thrower(3);
  return 0;
}
