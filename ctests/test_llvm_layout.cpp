// test_llvm_layout.cpp: orc_rt_WrapperFunctionBuffer is interchangeable with
// LLVM 22's llvm::orc::shared::CWrapperFunctionBuffer.
//
// Compile time: size, alignment and field offsets match. Run time: buffers
// made by orc-rt are read and freed through LLVM's (header-only) C++
// WrapperFunctionBuffer, and buffers made by LLVM are read and disposed of
// by orc-rt, in every state (inline, heap, out-of-band error, empty).
#include "orc-rt.h"

#include "llvm/ExecutionEngine/Orc/Shared/WrapperFunctionUtils.h"

#include <cstddef>
#include <cstring>
#include <string>

#include "test_util.h"

using LLVMCBuffer = llvm::orc::shared::CWrapperFunctionBuffer;
using LLVMBuffer = llvm::orc::shared::WrapperFunctionBuffer;
using LLVMUnion = llvm::orc::shared::CWrapperFunctionBufferDataUnion;

static_assert(sizeof(orc_rt_WrapperFunctionBuffer) == sizeof(LLVMCBuffer),
              "size differs from LLVM 22's CWrapperFunctionBuffer");
static_assert(alignof(orc_rt_WrapperFunctionBuffer) == alignof(LLVMCBuffer),
              "alignment differs from LLVM 22's CWrapperFunctionBuffer");
static_assert(offsetof(orc_rt_WrapperFunctionBuffer, Data) ==
                  offsetof(LLVMCBuffer, Data),
              "offset of Data differs");
static_assert(offsetof(orc_rt_WrapperFunctionBuffer, Size) ==
                  offsetof(LLVMCBuffer, Size),
              "offset of Size differs");
static_assert(sizeof(orc_rt_WrapperFunctionBufferDataUnion) == sizeof(LLVMUnion),
              "data union size differs");
static_assert(alignof(orc_rt_WrapperFunctionBufferDataUnion) == alignof(LLVMUnion),
              "data union alignment differs");
static_assert(sizeof(orc_rt_WrapperFunctionBufferDataUnion::Value) ==
                  sizeof(LLVMUnion::Value),
              "inline capacity differs");
static_assert(sizeof(orc_rt_WrapperFunctionBuffer::Size) == sizeof(LLVMCBuffer::Size),
              "Size field width differs");

namespace {

LLVMCBuffer toLLVM(orc_rt_WrapperFunctionBuffer B) {
  LLVMCBuffer C;
  std::memcpy(&C, &B, sizeof(C));
  return C;
}

orc_rt_WrapperFunctionBuffer fromLLVM(LLVMCBuffer C) {
  orc_rt_WrapperFunctionBuffer B;
  std::memcpy(&B, &C, sizeof(B));
  return B;
}

std::string pattern(size_t N) {
  std::string S(N, '\0');
  for (size_t I = 0; I < N; ++I)
    S[I] = static_cast<char>('a' + I % 26);
  return S;
}

// orc-rt creates, LLVM reads and frees (its destructor calls free()).
void orcToLLVM(size_t N) {
  std::string P = pattern(N);
  LLVMBuffer L(toLLVM(orc_rt_CreateWrapperFunctionBufferFromRange(P.data(), N)));
  CHECK(L.size() == N);
  CHECK(L.getOutOfBandError() == nullptr);
  CHECK(L.empty() == (N == 0));
  if (N > 0)
    CHECK(std::string(L.data(), L.size()) == P);
}

// LLVM creates, orc-rt reads and disposes.
void llvmToOrc(size_t N) {
  std::string P = pattern(N);
  orc_rt_WrapperFunctionBuffer B =
      fromLLVM(LLVMBuffer::copyFrom(P.data(), N).release());
  CHECK(orc_rt_WrapperFunctionBufferSize(&B) == N);
  CHECK(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B) == nullptr);
  CHECK((orc_rt_WrapperFunctionBufferEmpty(&B) != 0) == (N == 0));
  if (N > 0) {
    const char *D = orc_rt_WrapperFunctionBufferConstData(&B);
    CHECK(D != nullptr && std::string(D, N) == P);
  }
  orc_rt_WrapperFunctionBufferDispose(&B);
  CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) != 0);
}

void errors() {
  {
    LLVMBuffer L(toLLVM(
        orc_rt_CreateWrapperFunctionBufferFromOutOfBandError("from orc-rt")));
    CHECK(!L.empty());
    CHECK_STREQ(L.getOutOfBandError(), "from orc-rt");
  }
  {
    orc_rt_WrapperFunctionBuffer B =
        fromLLVM(LLVMBuffer::createOutOfBandError("from LLVM").release());
    CHECK(orc_rt_WrapperFunctionBufferEmpty(&B) == 0);
    CHECK(orc_rt_WrapperFunctionBufferSize(&B) == 0);
    CHECK_STREQ(orc_rt_WrapperFunctionBufferGetOutOfBandError(&B), "from LLVM");
    CHECK(orc_rt_WrapperFunctionBufferConstData(&B) == nullptr);
    orc_rt_WrapperFunctionBufferDispose(&B);
  }
  {
    // Default-constructed on both sides are the same bits.
    orc_rt_WrapperFunctionBuffer B;
    orc_rt_WrapperFunctionBufferInit(&B);
    LLVMBuffer L(toLLVM(B));
    CHECK(L.empty());
    orc_rt_WrapperFunctionBuffer Back = fromLLVM(LLVMBuffer().release());
    CHECK(orc_rt_WrapperFunctionBufferEmpty(&Back) != 0);
  }
}

} // namespace

int main() {
  const size_t Sizes[] = {0, 1, 7, 8, 9, 64, 1 << 20};
  for (size_t N : Sizes) {
    orcToLLVM(N);
    llvmToOrc(N);
  }
  errors();
  TEST_FINISH("test_llvm_layout");
}
