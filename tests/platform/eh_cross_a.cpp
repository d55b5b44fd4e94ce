// eh_cross (with eh_cross_b.cpp): C++ exceptions that cross object
// boundaries. main (here) calls into b, b calls back into a, a throws; the
// exception unwinds through b's frames (running a destructor there) and is
// caught in main. Also: a custom exception type carrying data, catch by
// base class, rethrow with `throw;` from a handler in b, std::exception_ptr
// and a nested try. Checks stdout and exit status against native.
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

struct AppError : std::runtime_error {
  int code;
  AppError(const std::string &what, int c) : std::runtime_error(what), code(c) {}
};

// Defined in eh_cross_b.cpp.
int b_pass_through(int depth, void (*thrower)(int));
int b_catch_and_rethrow(void (*thrower)(int));
std::exception_ptr b_capture(void (*thrower)(int));

static void a_throw_app(int v) {
  std::printf("a: throwing AppError(%d)\n", v);
  throw AppError("from a", v);
}

static void a_throw_int(int v) {
  std::printf("a: throwing int %d\n", v);
  throw v;
}

static void a_throw_logic(int) { throw std::logic_error("logic in a"); }

int main() {
  try {
    b_pass_through(3, a_throw_app);
    std::printf("main: not reached\n");
  } catch (const AppError &e) {
    std::printf("main: caught AppError '%s' code %d\n", e.what(), e.code);
  }
  try {
    b_pass_through(2, a_throw_int);
  } catch (int v) {
    std::printf("main: caught int %d\n", v);
  }
  try {
    b_catch_and_rethrow(a_throw_app);
  } catch (const std::runtime_error &e) {
    std::printf("main: caught rethrown as runtime_error '%s'\n", e.what());
  }
  std::exception_ptr p = b_capture(a_throw_logic);
  try {
    std::rethrow_exception(p);
  } catch (const std::logic_error &e) {
    std::printf("main: rethrown exception_ptr '%s'\n", e.what());
  }
  try {
    try {
      b_pass_through(1, a_throw_app);
    } catch (const AppError &e) {
      std::printf("main: inner caught %d, throwing a new one\n", e.code);
      throw std::out_of_range("outer");
    }
  } catch (const std::exception &e) {
    std::printf("main: outer caught '%s'\n", e.what());
  }
  std::printf("main: return 3\n");
  return 3;
}
