// thread_local under the ORC runtime, used by main and by a second thread
// (each sees its own copy). Built with -fPIC (general-dynamic TLS model,
// the only one JITLink's ELF/x86-64 support handles).
#include <cstdio>
#include <thread>

thread_local int tl_value = 1;

int main() {
  std::thread t([] {
    tl_value += 41;
    std::printf("in thread: %d\n", tl_value);
  });
  t.join();
  std::printf("in main: %d\n", tl_value);
  return 5;
}
