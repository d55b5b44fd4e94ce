// C++ runtime features under the ORC runtime: static ctors/dtors in
// order, atexit, thread_local, exceptions thrown and caught in a thread,
// std::string/vector. Built with -fPIC: JITLink supports thread_local
// through the general-dynamic model only (no TPOFF32/TLSLD relocations,
// hence no thread_local with a destructor, whose guard is local-dynamic).
// A thread_local touched by a second thread crashes both executors at exit
// (ORC runtime TLV teardown), so only main uses it here.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

struct Noisy {
  const char *name;
  explicit Noisy(const char *n) : name(n) { std::printf("ctor %s\n", name); }
  ~Noisy() { std::printf("dtor %s\n", name); }
};

static Noisy first("first");
static Noisy second("second");

thread_local int tl_value = 1;

static void at_exit_handler() { std::printf("atexit handler ran\n"); }

int main() {
  std::atexit(at_exit_handler);
  std::vector<std::string> words{"alpha", "beta", "gamma"};
  std::string joined;
  for (auto &w : words)
    joined += w + ",";
  std::printf("%s\n", joined.c_str());
  int caught = 0;
  std::thread t([&] {
    try {
      throw std::runtime_error("from thread");
    } catch (const std::exception &e) {
      std::printf("caught in thread: %s\n", e.what());
      caught = 1;
    }
  });
  t.join();
  tl_value += 41;
  std::printf("thread_local in main: %d\n", tl_value);
  return 10 + caught;
}
