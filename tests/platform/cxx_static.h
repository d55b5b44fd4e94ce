// Shared by cxx_static.cpp and cxx_static_b.cpp: a type whose constructor
// and destructor print, and an inline variable both objects define (a
// COMDAT with a guard variable: it must be constructed once and
// destroyed once, whichever object's copy the linker keeps).
#include <cstdio>
#include <string>

struct Tracer {
  std::string name;
  explicit Tracer(const char *n) : name(n) { std::printf("construct %s\n", name.c_str()); }
  ~Tracer() { std::printf("destroy %s\n", name.c_str()); }
  Tracer(const Tracer &) = delete;
  Tracer &operator=(const Tracer &) = delete;
};

inline Tracer inline_shared{"inline variable (both objects)"};

Tracer &b_local(int which);
const char *b_global_name();
