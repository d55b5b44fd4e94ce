// eh_layers, second object: the shapes (see eh_layers_main.cpp).
#include <cstdio>
#include <string>

#include "eh_layers.h"

Shape::~Shape() = default;

namespace {
struct Square : Shape {
  int side;
  explicit Square(int s) : side(s) {}
  const char *name() const override { return "square"; }
  int area() const override {
    if (side < 0)
      throw ShapeError("negative side", side);
    return side * side;
  }
};

struct Blob : Shape {
  const char *name() const override { return "blob"; }
  int area() const override { throw std::domain_error("a blob has no area"); }
};
} // namespace

std::vector<std::unique_ptr<Shape>> make_shapes() {
  std::vector<std::unique_ptr<Shape>> v;
  v.push_back(std::make_unique<Square>(3));
  v.push_back(std::make_unique<Square>(-2));
  v.push_back(std::make_unique<Blob>());
  v.push_back(std::make_unique<Square>(4));
  return v;
}

static int attempts = 0;

static int read_config() {
  if (++attempts < 3)
    throw std::runtime_error("config not ready, attempt " + std::to_string(attempts));
  return 40 + attempts;
}

int config_value() {
  static int value = read_config(); // retried until it does not throw
  return value;
}
