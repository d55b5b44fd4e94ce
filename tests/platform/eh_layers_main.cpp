// eh_layers (with eh_layers_shapes.cpp and eh_layers_util.cpp): C++
// exceptions across three objects. Virtual calls into another object throw
// a class hierarchy; a function-local static whose initialiser throws is
// retried; std::nested_exception chains are unpacked; a throwing copy
// during std::vector growth keeps the vector intact; exceptions pass
// through std::function and a lambda. Exits 7, like the native program.
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "eh_layers.h"

static void print_nested(const std::exception &e, int level) {
  std::printf("%*s%s\n", level * 2, "", e.what());
  try {
    std::rethrow_if_nested(e);
  } catch (const std::exception &inner) {
    print_nested(inner, level + 1);
  }
}

int main() {
  std::vector<std::unique_ptr<Shape>> shapes = make_shapes();
  int total = 0;
  for (auto &s : shapes) {
    try {
      total += s->area();
      std::printf("area of %s ok\n", s->name());
    } catch (const ShapeError &e) {
      std::printf("shape error: %s (code %d)\n", e.what(), e.code());
    } catch (const std::exception &e) {
      std::printf("other error: %s\n", e.what());
    }
  }
  std::printf("total %d\n", total);

  for (int i = 0; i < 3; ++i) {
    try {
      std::printf("config %d\n", config_value());
    } catch (const std::runtime_error &e) {
      std::printf("config attempt %d failed: %s\n", i, e.what());
    }
  }

  try {
    load_layers(3);
  } catch (const std::exception &e) {
    print_nested(e, 0);
  }

  std::vector<Fragile> v;
  try {
    for (int i = 0; i < 10; ++i)
      v.emplace_back(i);
  } catch (const std::length_error &e) {
    std::printf("vector stopped at %zu: %s\n", v.size(), e.what());
  }

  std::function<int(int)> f = [](int x) -> int {
    if (x > 2)
      throw std::out_of_range("lambda out of range");
    return x * 10;
  };
  int sum = 0;
  for (int i = 0; i < 5; ++i) {
    try {
      sum += call_through(f, i);
    } catch (const std::out_of_range &e) {
      std::printf("call_through(%d): %s\n", i, e.what());
    }
  }
  std::printf("sum %d\n", sum);
  return 7;
}
