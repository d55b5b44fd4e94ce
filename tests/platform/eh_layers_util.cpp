// eh_layers, third object: nested exceptions, a throwing copy and a call
// through std::function (see eh_layers_main.cpp).
#include <cstdio>
#include <exception>
#include <string>

#include "eh_layers.h"

void load_layers(int depth) {
  if (depth == 0)
    throw std::runtime_error("bottom layer missing");
  try {
    load_layers(depth - 1);
  } catch (...) {
    std::throw_with_nested(std::runtime_error("layer " + std::to_string(depth) + " failed"));
  }
}

static int copies = 0;

Fragile::Fragile(int v) : v(v) {}
Fragile::Fragile(const Fragile &o) : v(o.v) {
  if (++copies == 5)
    throw std::length_error("copy " + std::to_string(copies) + " refused");
}
Fragile::~Fragile() {}

int call_through(const std::function<int(int)> &f, int x) {
  struct Note {
    int x;
    ~Note() { std::printf("leaving call_through(%d)\n", x); }
  } note{x};
  return f(x);
}
