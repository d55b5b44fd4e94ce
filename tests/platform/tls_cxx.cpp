// tls_cxx: C++ thread_local objects with non-trivial constructors and
// destructors, used from std::thread and from the main thread. Compiled
// with -fPIC. JITLink 22 handles only general-dynamic TLS (R_X86_64_TLSGD),
// and the compiler uses local-dynamic (R_X86_64_TLSLD) for every TLS symbol
// with internal linkage, even with -ftls-model=global-dynamic. That
// includes clang's `__tls_guard` for a namespace-scope thread_local with a
// dynamic initialiser, and the guard of a thread_local inside a non-inline
// function (an `inline thread_local` variable still gets `__tls_guard`). So
// the thread_local objects here live in inline functions: their guards
// are weak symbols, accessed with TLSGD.
//
// Checks, against the same program built natively:
//   - a thread_local object is constructed in a thread on its first use
//     there (dynamic initialisation through the TLS wrapper), once;
//   - it is destroyed when that thread exits, before join returns, in
//     reverse order of construction, with the value that thread left;
//   - a function-local thread_local behaves the same;
//   - the main thread's thread_local objects are destroyed at exit, before
//     the global with static storage duration that was constructed first.
// Threads run one at a time (start, join, start next), so the lines from
// the destructors come out in a fixed order.
#include <cstdio>
#include <string>
#include <thread>

struct PerThread {
  std::string name;
  int uses = 0;
  explicit PerThread(std::string n) : name(std::move(n)) {
    std::printf("  construct %s\n", name.c_str());
  }
  ~PerThread() { std::printf("  destroy %s after %d uses\n", name.c_str(), uses); }
};

struct Global {
  Global() { std::printf("construct global\n"); }
  ~Global() { std::printf("destroy global\n"); }
} global;

static int next_id;
inline PerThread &counter() {
  thread_local PerThread c{"counter #" + std::to_string(++next_id)};
  return c;
}
inline thread_local int plain = 3;

inline PerThread &local_tl() {
  thread_local PerThread l{"local thread_local"};
  return l;
}

static void work(int rounds) {
  for (int i = 0; i < rounds; i++) {
    counter().uses++;
    plain += 1;
  }
  if (rounds % 2 == 0)
    local_tl().uses += rounds;
  std::printf("  %s: uses %d plain %d\n", counter().name.c_str(), counter().uses, plain);
}

int main() {
  std::printf("main: start\n");
  for (int t = 1; t <= 3; t++) {
    std::printf("thread %d: start\n", t);
    std::thread th(work, t + 1);
    th.join();
    std::printf("thread %d: joined\n", t);
  }
  std::printf("main thread:\n");
  work(5);
  work(2);
  std::printf("main: return 0\n");
  return 0;
}
