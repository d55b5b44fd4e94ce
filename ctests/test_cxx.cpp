// test_cxx.cpp: orc-rt.h used from C++17 (-Wall -Wextra -Werror -pedantic).
//
// Checks that the header's declarations have C linkage and the expected
// types, then drives buffers and errors through small RAII wrappers, the way
// a C++ host would.
#include "orc-rt.h"
#include "orc-rt.h" // include guard

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "test_util.h"

static_assert(std::is_standard_layout<orc_rt_WrapperFunctionBuffer>::value,
              "buffer must be standard layout");
static_assert(std::is_trivially_copyable<orc_rt_WrapperFunctionBuffer>::value,
              "buffer is passed by value across the C ABI");
static_assert(sizeof(orc_rt_WrapperFunctionBuffer) == 2 * sizeof(void *),
              "buffer is a pointer-sized union plus size_t");
static_assert(offsetof(orc_rt_WrapperFunctionBuffer, Size) == sizeof(char *),
              "Size follows the union");
static_assert(std::is_same<decltype(&orc_rt_WrapperFunctionBufferAllocate),
                           orc_rt_WrapperFunctionBuffer (*)(size_t)>::value,
              "Allocate signature");
static_assert(std::is_same<decltype(&orc_rt_Error_toString),
                           char *(*)(orc_rt_ErrorRef)>::value,
              "toString signature");
static_assert(std::is_same<orc_rt_WrapperFunction,
                           void (*)(orc_rt_SessionRef, uint64_t,
                                    orc_rt_WrapperFunctionReturn,
                                    orc_rt_WrapperFunctionBuffer)>::value,
              "native wrapper-function signature");
static_assert(std::is_pointer<orc_rt_ErrorRef>::value &&
                  std::is_pointer<orc_rt_SessionRef>::value,
              "handles are opaque pointers");

namespace {

// Move-only owner of an orc_rt_WrapperFunctionBuffer.
class Buffer {
public:
  Buffer() { orc_rt_WrapperFunctionBufferInit(&B); }
  explicit Buffer(orc_rt_WrapperFunctionBuffer Raw) : B(Raw) {}
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  Buffer(Buffer &&O) noexcept : B(O.release()) {}
  Buffer &operator=(Buffer &&O) noexcept {
    orc_rt_WrapperFunctionBufferDispose(&B);
    B = O.release();
    return *this;
  }
  ~Buffer() { orc_rt_WrapperFunctionBufferDispose(&B); }

  orc_rt_WrapperFunctionBuffer release() {
    orc_rt_WrapperFunctionBuffer Tmp = B;
    orc_rt_WrapperFunctionBufferInit(&B);
    return Tmp;
  }
  std::string str() const {
    const char *D = orc_rt_WrapperFunctionBufferConstData(&B);
    return D ? std::string(D, orc_rt_WrapperFunctionBufferSize(&B)) : std::string();
  }
  bool empty() const { return orc_rt_WrapperFunctionBufferEmpty(&B) != 0; }
  const char *error() const { return orc_rt_WrapperFunctionBufferGetOutOfBandError(&B); }

private:
  orc_rt_WrapperFunctionBuffer B;
};

struct ErrorDeleter {
  void operator()(orc_rt_OpaqueError *E) const { orc_rt_Error_consume(E); }
};
using ErrorPtr = std::unique_ptr<orc_rt_OpaqueError, ErrorDeleter>;

// Consumes E and returns its message.
std::string takeMessage(ErrorPtr E) {
  char *M = orc_rt_Error_toString(E.release());
  std::string S = M ? M : "";
  orc_rt_Error_freeErrorMessage(M);
  return S;
}

// A native wrapper function written in C++: echoes its argument reversed.
void reverseWrapper(orc_rt_SessionRef S, uint64_t CallId,
                    orc_rt_WrapperFunctionReturn Return,
                    orc_rt_WrapperFunctionBuffer ArgBytes) {
  Buffer Arg(ArgBytes);
  std::string Bytes = Arg.str();
  std::string Rev(Bytes.rbegin(), Bytes.rend());
  Return(S, CallId,
         orc_rt_CreateWrapperFunctionBufferFromRange(Rev.data(), Rev.size()));
}

uint64_t LastCallId = 0;
std::string LastResult;
void recordReturn(orc_rt_SessionRef, uint64_t CallId,
                  orc_rt_WrapperFunctionBuffer ResultBytes) {
  Buffer R(ResultBytes);
  LastCallId = CallId;
  LastResult = R.str();
}

} // namespace

int main() {
  {
    std::string Text = "hello from C++17";
    Buffer A(orc_rt_CreateWrapperFunctionBufferFromRange(Text.data(), Text.size()));
    CHECK(A.str() == Text);
    Buffer B(std::move(A));
    CHECK(A.empty());
    CHECK(B.str() == Text);
    Buffer C;
    C = std::move(B);
    CHECK(B.empty() && C.str() == Text);
    C = Buffer(orc_rt_CreateWrapperFunctionBufferFromRange("tiny", 4));
    CHECK(C.str() == "tiny");
  }
  {
    Buffer E(orc_rt_CreateWrapperFunctionBufferFromOutOfBandError("cxx oob"));
    CHECK(!E.empty());
    CHECK_STREQ(E.error(), "cxx oob");
    CHECK(E.str().empty());
  }
  {
    ErrorPtr E(orc_rt_StringError_create("cxx error"));
    CHECK(orc_rt_Error_getTypeId(E.get()) == orc_rt_StringError_getTypeId());
    CHECK(takeMessage(std::move(E)) == "cxx error");
    ErrorPtr Dropped(orc_rt_StringError_create("consumed by the deleter"));
    CHECK(Dropped != nullptr);
  }
  {
    orc_rt_WrapperFunction W = reverseWrapper;
    std::string Arg = "0123456789abcdef";
    W(nullptr, 42, recordReturn,
      orc_rt_CreateWrapperFunctionBufferFromRange(Arg.data(), Arg.size()));
    CHECK(LastCallId == 42);
    CHECK(LastResult == "fedcba9876543210");
  }
  TEST_FINISH("test_cxx");
}
