// Shared declarations of the eh_layers program (see eh_layers_main.cpp).
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

struct ShapeError : std::logic_error {
  ShapeError(const char *what, int code) : std::logic_error(what), code_(code) {}
  int code() const { return code_; }

private:
  int code_;
};

struct Shape {
  virtual ~Shape();
  virtual const char *name() const = 0;
  virtual int area() const = 0;
};

std::vector<std::unique_ptr<Shape>> make_shapes();
int config_value();
void load_layers(int depth);
int call_through(const std::function<int(int)> &f, int x);

// Its copy throws at the 5th element, and it has no noexcept move, so
// std::vector copies when it grows.
struct Fragile {
  explicit Fragile(int v);
  Fragile(const Fragile &o);
  ~Fragile();
  int v;
};
