// cxx_atexit: one C++ object with static constructors and destructors and
// atexit handlers (one registered from a constructor, one from main), a
// function-local static, and a std::string and std::vector global, so that
// libstdc++'s own objects are used from JIT'd code. Single object, so
// every order is native's.
//
// Checks, against the same program built natively: constructors before
// main in declaration order, the local static on first use, and at exit
// destructors and atexit handlers in reverse order of registration; the
// exit status is main's.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

struct Tracer {
  std::string name;
  explicit Tracer(const char *n) : name(n) { std::printf("construct %s\n", n); }
  ~Tracer() { std::printf("destroy %s\n", name.c_str()); }
};

static void handler_from_ctor() {
  std::puts("atexit: registered by a constructor");
}
static void handler_from_main() { std::puts("atexit: registered by main"); }

Tracer first("first");
std::vector<std::string> words{"alpha", "beta", "gamma"};
struct Registers {
  Registers() {
    std::puts("construct registers (calls atexit)");
    std::atexit(handler_from_ctor);
  }
} registers;
Tracer last("last");

static Tracer &local() {
  static Tracer t("function-local static");
  return t;
}

int main() {
  std::puts("main starts");
  std::string joined;
  for (const auto &w : words)
    joined += w + ",";
  std::printf("words: %s\n", joined.c_str());
  local();
  std::atexit(handler_from_main);
  local();
  std::puts("main returns 7");
  return 7;
}
