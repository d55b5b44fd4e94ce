// cxx_static, second object: see cxx_static.cpp. Its globals come after
// a's natively (link order); its init_priority(150) global comes before
// a's init_priority(200) one although it is in the later object.
#include "cxx_static.h"

Tracer b_first{"b: global 1"};
__attribute__((init_priority(150))) Tracer b_prio{"b: global init_priority(150)"};

const char *b_global_name() { return b_first.name.c_str(); }

Tracer &b_local(int which) {
  if (which == 1) {
    static Tracer one{"b: local static 1"};
    return one;
  }
  static Tracer two{"b: local static 2"};
  return two;
}
