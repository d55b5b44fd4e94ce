// sps_diff: the LLVM 22 side of orc-rt's SPS differential test.
//
// Decodes, re-encodes and dumps values with LLVM's own SPS implementation
// (llvm/ExecutionEngine/Orc/Shared/*.h), and generates random values of the
// same types. tests/sps_differential.rs drives it and compares with the Rust
// implementation. The value dump format is shared with the Rust test:
//
//   bool true/false; integers in decimal (char as an unsigned byte);
//   strings and byte sequences "hex"; sequences [a,b]; tuples and structs
//   (a,b); optionals N / S(x); SPSError OK / ERR("hex"); SPSExpected V(x) /
//   E("hex"); string maps {"hexkey":v,...} sorted by key bytes; addresses
//   @hex; SPSEmpty -; RemoteAllocGroup g<bits>.
//
// Usage:
//   sps_diff roundtrip <in> <out>      decode each (kind,id,bytes) record
//   sps_diff generate <seed> <n> <out> n random values of every type
//   sps_diff bench <iterations>        encode/decode throughput

#include "llvm/ExecutionEngine/Orc/Shared/AllocationActions.h"
#include "llvm/ExecutionEngine/Orc/Shared/ExecutorAddress.h"
#include "llvm/ExecutionEngine/Orc/Shared/ExecutorSymbolDef.h"
#include "llvm/ExecutionEngine/Orc/Shared/SimplePackedSerialization.h"
#include "llvm/ExecutionEngine/Orc/Shared/SimpleRemoteEPCUtils.h"
#include "llvm/ExecutionEngine/Orc/Shared/TargetProcessControlTypes.h"
#include "llvm/ExecutionEngine/Orc/Shared/WrapperFunctionUtils.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

using namespace llvm;
using namespace llvm::orc;
using namespace llvm::orc::shared;

namespace {

// ------------------------------------------------------------------ helpers

struct Rng {
  uint64_t S;
  uint64_t next() {
    uint64_t Z = (S += 0x9e3779b97f4a7c15ULL);
    Z = (Z ^ (Z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    Z = (Z ^ (Z >> 27)) * 0x94d049bb133111ebULL;
    return Z ^ (Z >> 31);
  }
  uint64_t below(uint64_t N) { return N ? next() % N : 0; }
};

// Backing storage for ArrayRef<char> fields of generated values.
std::deque<std::vector<char>> Arena;

void dumpHex(std::string &O, const char *P, size_t N) {
  static const char *D = "0123456789abcdef";
  O += '"';
  for (size_t I = 0; I < N; ++I) {
    unsigned char C = P[I];
    O += D[C >> 4];
    O += D[C & 15];
  }
  O += '"';
}

void dumpAddr(std::string &O, ExecutorAddr A) {
  char Buf[32];
  snprintf(Buf, sizeof(Buf), "@%llx", (unsigned long long)A.getValue());
  O += Buf;
}

const char *const Alphabet[] = {"a",  "Z",  "0",    "_",        " ",
                                "\n", "\"", "\\",   "\x7f",     "\xc3\xa9",
                                "\xe6\xbc\xa2", "\xf0\x9f\xa6\x80", "."};

std::string genString(Rng &R) {
  std::string S;
  size_t N = R.below(R.below(8) == 0 ? 40 : 8);
  for (size_t I = 0; I < N; ++I) {
    if (R.below(20) == 0)
      S.push_back('\0');
    else
      S += Alphabet[R.below(sizeof(Alphabet) / sizeof(Alphabet[0]))];
  }
  return S;
}

std::vector<char> genBytes(Rng &R) {
  size_t N = R.below(R.below(10) == 0 ? 300 : 10);
  std::vector<char> V(N);
  for (auto &C : V)
    C = static_cast<char>(R.next());
  return V;
}

size_t genCount(Rng &R) { return R.below(R.below(16) == 0 ? 40 : 4); }

ExecutorAddr genAddr(Rng &R) {
  switch (R.below(5)) {
  case 0:
    return ExecutorAddr();
  case 1:
    return ExecutorAddr(~0ULL);
  case 2:
    return ExecutorAddr(0x7f0000000000ULL + (R.next() & 0xffffffffffULL));
  default:
    return ExecutorAddr(R.next());
  }
}

// --------------------------------------------------------- type catalogue
//
// Codec<K> gives, for a catalogue key K: the SPS tag (SPS), the C++ value
// type LLVM decodes into (V), dump and gen.

template <typename K> struct Codec;

template <typename I> struct IntCodec {
  using SPS = I;
  using V = I;
  static void dump(std::string &O, const V &X) {
    if constexpr (std::is_same_v<I, bool>)
      O += X ? "true" : "false";
    else if constexpr (std::is_same_v<I, char>)
      O += std::to_string((unsigned)(unsigned char)X);
    else if constexpr (std::is_signed_v<I>)
      O += std::to_string((long long)X);
    else
      O += std::to_string((unsigned long long)X);
  }
  static V gen(Rng &R) {
    if constexpr (std::is_same_v<I, bool>)
      return R.below(2) == 1;
    else {
      switch (R.below(6)) {
      case 0:
        return 0;
      case 1:
        return 1;
      case 2:
        return std::numeric_limits<I>::max();
      case 3:
        return std::numeric_limits<I>::min();
      case 4:
        return static_cast<I>(-1);
      default:
        return static_cast<I>(R.next());
      }
    }
  }
};
template <> struct Codec<bool> : IntCodec<bool> {};
template <> struct Codec<char> : IntCodec<char> {};
template <> struct Codec<int8_t> : IntCodec<int8_t> {};
template <> struct Codec<uint8_t> : IntCodec<uint8_t> {};
template <> struct Codec<int16_t> : IntCodec<int16_t> {};
template <> struct Codec<uint16_t> : IntCodec<uint16_t> {};
template <> struct Codec<int32_t> : IntCodec<int32_t> {};
template <> struct Codec<uint32_t> : IntCodec<uint32_t> {};
template <> struct Codec<int64_t> : IntCodec<int64_t> {};
template <> struct Codec<uint64_t> : IntCodec<uint64_t> {};

template <> struct Codec<SPSEmpty> {
  using SPS = SPSEmpty;
  using V = SPSEmpty;
  static void dump(std::string &O, const V &) { O += "-"; }
  static V gen(Rng &) { return {}; }
};

template <> struct Codec<SPSString> {
  using SPS = SPSString;
  using V = std::string;
  static void dump(std::string &O, const V &X) {
    dumpHex(O, X.data(), X.size());
  }
  static V gen(Rng &R) { return genString(R); }
};

struct Bytes {}; // SPSSequence<char> as std::vector<char>
template <> struct Codec<Bytes> {
  using SPS = SPSSequence<char>;
  using V = std::vector<char>;
  static void dump(std::string &O, const V &X) {
    dumpHex(O, X.data(), X.size());
  }
  static V gen(Rng &R) { return genBytes(R); }
};

struct Bytes8 {}; // SPSSequence<uint8_t> as std::vector<uint8_t>
template <> struct Codec<Bytes8> {
  using SPS = SPSSequence<uint8_t>;
  using V = std::vector<uint8_t>;
  static void dump(std::string &O, const V &X) {
    dumpHex(O, reinterpret_cast<const char *>(X.data()), X.size());
  }
  static V gen(Rng &R) {
    auto B = genBytes(R);
    return V(B.begin(), B.end());
  }
};

template <typename K> struct Seq {};
template <typename K> struct Codec<Seq<K>> {
  using SPS = SPSSequence<typename Codec<K>::SPS>;
  using V = std::vector<typename Codec<K>::V>;
  static void dump(std::string &O, const V &X) {
    O += '[';
    for (size_t I = 0; I < X.size(); ++I) {
      if (I)
        O += ',';
      Codec<K>::dump(O, X[I]);
    }
    O += ']';
  }
  static V gen(Rng &R) {
    V X;
    size_t N = genCount(R);
    for (size_t I = 0; I < N; ++I)
      X.push_back(Codec<K>::gen(R));
    return X;
  }
};

template <typename... Ks> struct Tup {};
template <typename... Ks> struct Codec<Tup<Ks...>> {
  using SPS = SPSTuple<typename Codec<Ks>::SPS...>;
  using V = std::tuple<typename Codec<Ks>::V...>;
  template <size_t... Is>
  static void dumpImpl(std::string &O, const V &X, std::index_sequence<Is...>) {
    O += '(';
    ((O += (Is ? "," : ""), Codec<Ks>::dump(O, std::get<Is>(X))), ...);
    O += ')';
  }
  static void dump(std::string &O, const V &X) {
    dumpImpl(O, X, std::index_sequence_for<Ks...>());
  }
  static V gen(Rng &R) { return V{Codec<Ks>::gen(R)...}; }
};

template <typename K> struct Opt {};
template <typename K> struct Codec<Opt<K>> {
  using SPS = SPSOptional<typename Codec<K>::SPS>;
  using V = std::optional<typename Codec<K>::V>;
  static void dump(std::string &O, const V &X) {
    if (!X) {
      O += "N";
      return;
    }
    O += "S(";
    Codec<K>::dump(O, *X);
    O += ")";
  }
  static V gen(Rng &R) {
    if (R.below(3) == 0)
      return std::nullopt;
    return Codec<K>::gen(R);
  }
};

template <> struct Codec<SPSError> {
  using SPS = SPSError;
  using V = shared::detail::SPSSerializableError;
  static void dump(std::string &O, const V &X) {
    if (!X.HasError) {
      O += "OK";
      return;
    }
    O += "ERR(";
    dumpHex(O, X.ErrMsg.data(), X.ErrMsg.size());
    O += ")";
  }
  static V gen(Rng &R) {
    // Go through a real llvm::Error, as wrapper functions do.
    if (R.below(2))
      return shared::detail::toSPSSerializable(Error::success());
    return shared::detail::toSPSSerializable(
        make_error<StringError>(genString(R), inconvertibleErrorCode()));
  }
};

template <typename K> struct Exp {};
template <typename K> struct Codec<Exp<K>> {
  using SPS = SPSExpected<typename Codec<K>::SPS>;
  using V = shared::detail::SPSSerializableExpected<typename Codec<K>::V>;
  static void dump(std::string &O, const V &X) {
    if (X.HasValue) {
      O += "V(";
      Codec<K>::dump(O, X.Value);
    } else {
      O += "E(";
      dumpHex(O, X.ErrMsg.data(), X.ErrMsg.size());
    }
    O += ")";
  }
  static V gen(Rng &R) {
    if (R.below(3) == 0)
      return shared::detail::toSPSSerializable(Expected<typename Codec<K>::V>(
          make_error<StringError>(genString(R), inconvertibleErrorCode())));
    return shared::detail::toSPSSerializable(
        Expected<typename Codec<K>::V>(Codec<K>::gen(R)));
  }
};

template <typename M, typename VC>
void dumpStringMap(std::string &O, const M &X) {
  std::vector<StringRef> Keys;
  for (auto &E : X)
    Keys.push_back(E.first());
  std::sort(Keys.begin(), Keys.end());
  O += '{';
  for (size_t I = 0; I < Keys.size(); ++I) {
    if (I)
      O += ',';
    dumpHex(O, Keys[I].data(), Keys[I].size());
    O += ':';
    VC::dump(O, X.find(Keys[I])->second);
  }
  O += '}';
}

template <typename VC, typename M> void genStringMap(Rng &R, M &X) {
  size_t N = genCount(R);
  for (size_t I = 0; I < N; ++I)
    X.insert(std::make_pair(genString(R), VC::gen(R)));
}

template <typename K> struct Map {};
template <typename K> struct Codec<Map<K>> {
  using SPS = SPSSequence<SPSTuple<SPSString, typename Codec<K>::SPS>>;
  using V = StringMap<typename Codec<K>::V>;
  static void dump(std::string &O, const V &X) {
    dumpStringMap<V, Codec<K>>(O, X);
  }
  static V gen(Rng &R) {
    V X;
    genStringMap<Codec<K>>(R, X);
    return X;
  }
};

template <> struct Codec<ExecutorAddr> {
  using SPS = SPSExecutorAddr;
  using V = ExecutorAddr;
  static void dump(std::string &O, const V &X) { dumpAddr(O, X); }
  static V gen(Rng &R) { return genAddr(R); }
};

template <> struct Codec<ExecutorAddrRange> {
  using SPS = SPSExecutorAddrRange;
  using V = ExecutorAddrRange;
  static void dump(std::string &O, const V &X) {
    O += '(';
    dumpAddr(O, X.Start);
    O += ',';
    dumpAddr(O, X.End);
    O += ')';
  }
  static V gen(Rng &R) {
    ExecutorAddr S = genAddr(R);
    return ExecutorAddrRange(S, ExecutorAddr(S.getValue() + R.below(0x10000)));
  }
};

template <> struct Codec<ExecutorSymbolDef> {
  using SPS = SPSExecutorSymbolDef;
  using V = ExecutorSymbolDef;
  static void dump(std::string &O, const V &X) {
    O += '(';
    dumpAddr(O, X.getAddress());
    O += ',' + std::to_string((unsigned)X.getFlags().getRawFlagsValue()) +
         ',' + std::to_string((unsigned)X.getFlags().getTargetFlags()) + ')';
  }
  static V gen(Rng &R) {
    JITSymbolFlags F(static_cast<JITSymbolFlags::FlagNames>(R.below(256)),
                     static_cast<JITSymbolFlags::TargetFlagsType>(R.below(256)));
    return ExecutorSymbolDef(genAddr(R), F);
  }
};

template <> struct Codec<tpctypes::RemoteAllocGroup> {
  using SPS = SPSRemoteAllocGroup;
  using V = tpctypes::RemoteAllocGroup;
  static void dump(std::string &O, const V &X) {
    unsigned B = 0;
    if ((X.Prot & MemProt::Read) != MemProt::None)
      B |= 1;
    if ((X.Prot & MemProt::Write) != MemProt::None)
      B |= 2;
    if ((X.Prot & MemProt::Exec) != MemProt::None)
      B |= 4;
    if (X.FinalizeLifetime)
      B |= 8;
    O += "g" + std::to_string(B);
  }
  static V gen(Rng &R) {
    unsigned B = R.below(16);
    MemProt P = MemProt::None;
    if (B & 1)
      P |= MemProt::Read;
    if (B & 2)
      P |= MemProt::Write;
    if (B & 4)
      P |= MemProt::Exec;
    return V(P, (B & 8) != 0);
  }
};

template <> struct Codec<WrapperFunctionCall> {
  using SPS = SPSWrapperFunctionCall;
  using V = WrapperFunctionCall;
  static void dump(std::string &O, const V &X) {
    O += '(';
    dumpAddr(O, X.getCallee());
    O += ',';
    dumpHex(O, X.getArgData().data(), X.getArgData().size());
    O += ')';
  }
  static V gen(Rng &R) {
    auto B = genBytes(R);
    return V(genAddr(R), WrapperFunctionCall::ArgDataBufferType(B.begin(), B.end()));
  }
};

template <> struct Codec<AllocActionCallPair> {
  using SPS = SPSAllocActionCallPair;
  using V = AllocActionCallPair;
  static void dump(std::string &O, const V &X) {
    O += '(';
    Codec<WrapperFunctionCall>::dump(O, X.Finalize);
    O += ',';
    Codec<WrapperFunctionCall>::dump(O, X.Dealloc);
    O += ')';
  }
  static V gen(Rng &R) {
    return {Codec<WrapperFunctionCall>::gen(R), Codec<WrapperFunctionCall>::gen(R)};
  }
};

template <> struct Codec<tpctypes::SegFinalizeRequest> {
  using SPS = SPSSegFinalizeRequest;
  using V = tpctypes::SegFinalizeRequest;
  static void dump(std::string &O, const V &X) {
    O += '(';
    Codec<tpctypes::RemoteAllocGroup>::dump(O, X.RAG);
    O += ',';
    dumpAddr(O, X.Addr);
    O += ',' + std::to_string((unsigned long long)X.Size) + ',';
    dumpHex(O, X.Content.data(), X.Content.size());
    O += ')';
  }
  static V gen(Rng &R) {
    Arena.push_back(genBytes(R));
    auto &C = Arena.back();
    return {Codec<tpctypes::RemoteAllocGroup>::gen(R), genAddr(R),
            C.size() + R.below(0x2000), ArrayRef<char>(C)};
  }
};

template <> struct Codec<tpctypes::FinalizeRequest> {
  using SPS = SPSFinalizeRequest;
  using V = tpctypes::FinalizeRequest;
  static void dump(std::string &O, const V &X) {
    O += '(';
    Codec<Seq<tpctypes::SegFinalizeRequest>>::dump(O, X.Segments);
    O += ',';
    Codec<Seq<AllocActionCallPair>>::dump(O, X.Actions);
    O += ')';
  }
  static V gen(Rng &R) {
    return {Codec<Seq<tpctypes::SegFinalizeRequest>>::gen(R),
            Codec<Seq<AllocActionCallPair>>::gen(R)};
  }
};

template <> struct Codec<tpctypes::SharedMemorySegFinalizeRequest> {
  using SPS = SPSSharedMemorySegFinalizeRequest;
  using V = tpctypes::SharedMemorySegFinalizeRequest;
  static void dump(std::string &O, const V &X) {
    O += '(';
    Codec<tpctypes::RemoteAllocGroup>::dump(O, X.RAG);
    O += ',';
    dumpAddr(O, X.Addr);
    O += ',' + std::to_string((unsigned long long)X.Size) + ')';
  }
  static V gen(Rng &R) {
    return {Codec<tpctypes::RemoteAllocGroup>::gen(R), genAddr(R), R.next()};
  }
};

template <> struct Codec<tpctypes::SharedMemoryFinalizeRequest> {
  using SPS = SPSSharedMemoryFinalizeRequest;
  using V = tpctypes::SharedMemoryFinalizeRequest;
  static void dump(std::string &O, const V &X) {
    O += '(';
    Codec<Seq<tpctypes::SharedMemorySegFinalizeRequest>>::dump(O, X.Segments);
    O += ',';
    Codec<Seq<AllocActionCallPair>>::dump(O, X.Actions);
    O += ')';
  }
  static V gen(Rng &R) {
    return {Codec<Seq<tpctypes::SharedMemorySegFinalizeRequest>>::gen(R),
            Codec<Seq<AllocActionCallPair>>::gen(R)};
  }
};

template <typename T> struct Codec<tpctypes::UIntWrite<T>> {
  using SPS = SPSMemoryAccessUIntWrite<T>;
  using V = tpctypes::UIntWrite<T>;
  static void dump(std::string &O, const V &X) {
    O += '(';
    dumpAddr(O, X.Addr);
    O += ',';
    Codec<T>::dump(O, X.Value);
    O += ')';
  }
  static V gen(Rng &R) { return V(genAddr(R), Codec<T>::gen(R)); }
};

template <> struct Codec<tpctypes::PointerWrite> {
  using SPS = SPSMemoryAccessPointerWrite;
  using V = tpctypes::PointerWrite;
  static void dump(std::string &O, const V &X) {
    O += '(';
    dumpAddr(O, X.Addr);
    O += ',';
    dumpAddr(O, X.Value);
    O += ')';
  }
  static V gen(Rng &R) { return V(genAddr(R), genAddr(R)); }
};

template <> struct Codec<tpctypes::BufferWrite> {
  using SPS = SPSMemoryAccessBufferWrite;
  using V = tpctypes::BufferWrite;
  static void dump(std::string &O, const V &X) {
    O += '(';
    dumpAddr(O, X.Addr);
    O += ',';
    dumpHex(O, X.Buffer.data(), X.Buffer.size());
    O += ')';
  }
  static V gen(Rng &R) {
    Arena.push_back(genBytes(R));
    return V(genAddr(R), ArrayRef<char>(Arena.back()));
  }
};

template <> struct Codec<RemoteSymbolLookupSetElement> {
  using SPS = SPSRemoteSymbolLookupSetElement;
  using V = RemoteSymbolLookupSetElement;
  static void dump(std::string &O, const V &X) {
    O += '(';
    dumpHex(O, X.Name.data(), X.Name.size());
    O += X.Required ? ",true)" : ",false)";
  }
  static V gen(Rng &R) { return {genString(R), R.below(2) == 1}; }
};

template <> struct Codec<RemoteSymbolLookup> {
  using SPS = SPSRemoteSymbolLookup;
  using V = RemoteSymbolLookup;
  static void dump(std::string &O, const V &X) {
    O += '(' + std::to_string((unsigned long long)X.H) + ',';
    Codec<Seq<RemoteSymbolLookupSetElement>>::dump(O, X.Symbols);
    O += ')';
  }
  static V gen(Rng &R) {
    return {R.next(), Codec<Seq<RemoteSymbolLookupSetElement>>::gen(R)};
  }
};

template <> struct Codec<SimpleRemoteEPCExecutorInfo> {
  using SPS = SPSSimpleRemoteEPCExecutorInfo;
  using V = SimpleRemoteEPCExecutorInfo;
  static void dump(std::string &O, const V &X) {
    O += '(';
    dumpHex(O, X.TargetTriple.data(), X.TargetTriple.size());
    O += ',' + std::to_string((unsigned long long)X.PageSize) + ',';
    dumpStringMap<decltype(X.BootstrapMap), Codec<Bytes>>(O, X.BootstrapMap);
    O += ',';
    dumpStringMap<decltype(X.BootstrapSymbols), Codec<ExecutorAddr>>(
        O, X.BootstrapSymbols);
    O += ')';
  }
  static V gen(Rng &R) {
    V X;
    X.TargetTriple = genString(R);
    X.PageSize = R.next();
    genStringMap<Codec<Bytes>>(R, X.BootstrapMap);
    genStringMap<Codec<ExecutorAddr>>(R, X.BootstrapSymbols);
    return X;
  }
};

// The catalogue: index = type id, shared with tests/sps_differential.rs.
using Catalogue = std::tuple<
    /* 0 */ bool,
    /* 1 */
    Tup<char, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t,
        uint64_t>,
    /* 2 */ SPSString,
    /* 3 */ Bytes,
    /* 4 */ Seq<uint64_t>,
    /* 5 */ Opt<SPSString>,
    /* 6 */ SPSError,
    /* 7 */ Exp<ExecutorAddr>,
    /* 8 */ Exp<SPSEmpty>,
    /* 9 */
    Tup<uint64_t, Seq<SPSString>, Opt<ExecutorAddrRange>,
        Exp<Seq<Tup<SPSString, bool>>>, SPSError, bool>,
    /* 10 */ Map<uint32_t>,
    /* 11 */ Map<Bytes>,
    /* 12 */ Exp<Seq<Opt<ExecutorSymbolDef>>>,
    /* 13 */ tpctypes::FinalizeRequest,
    /* 14 */ tpctypes::SharedMemoryFinalizeRequest,
    /* 15 */ SimpleRemoteEPCExecutorInfo,
    /* 16 */ Tup<ExecutorAddr, Seq<RemoteSymbolLookupSetElement>>,
    /* 17 */ Seq<Seq<Opt<int16_t>>>,
    /* 18 */ Tup<SPSEmpty, uint8_t, SPSEmpty>,
    /* 19 */ Seq<SPSEmpty>,
    /* 20 */ Seq<ExecutorAddrRange>,
    /* 21 */
    Tup<Seq<tpctypes::UIntWrite<uint32_t>>, Seq<tpctypes::BufferWrite>,
        tpctypes::PointerWrite, tpctypes::UIntWrite<uint8_t>,
        tpctypes::UIntWrite<uint16_t>, tpctypes::UIntWrite<uint64_t>>,
    /* 22 */ RemoteSymbolLookup,
    /* 23 */ Seq<Tup<SPSString, ExecutorAddr>>,
    /* 24 */ Map<Exp<uint64_t>>,
    /* 25 */ Opt<Opt<bool>>,
    /* 26 */ Seq<SPSError>,
    /* 27 */ Tup<int32_t>,
    /* 28 */ Tup<ExecutorAddr, tpctypes::FinalizeRequest>,
    /* 29 */ Seq<tpctypes::RemoteAllocGroup>,
    // Argument lists and results of the executor services' signatures
    // (OrcRTBridge.h, EPCGenericMemoryAccess.h).
    /* 30 */ Tup<ExecutorAddr, uint64_t>,
    /* 31 */ Exp<Tup<ExecutorAddr, SPSString>>,
    /* 32 */ Tup<ExecutorAddr, ExecutorAddr, tpctypes::SharedMemoryFinalizeRequest>,
    /* 33 */ Tup<ExecutorAddr, Seq<ExecutorAddr>>,
    /* 34 */ Tup<ExecutorAddr, Seq<SPSString>>,
    /* 35 */ Tup<ExecutorAddr, SPSString, uint64_t>,
    /* 36 */ Tup<Seq<tpctypes::PointerWrite>>,
    /* 37 */ Tup<Seq<tpctypes::BufferWrite>>,
    /* 38 */ Tup<Seq<ExecutorAddrRange>>,
    /* 39 */ Seq<Bytes8>,
    /* 40 */ Seq<SPSString>,
    /* 41 */ Tup<ExecutorAddr, int32_t>,
    /* 42 */ int64_t,
    /* 43 */ int32_t,
    /* 44 */ Tup<Seq<tpctypes::UIntWrite<uint8_t>>>,
    /* 45 */ Tup<Seq<tpctypes::UIntWrite<uint16_t>>>,
    /* 46 */ Tup<Seq<tpctypes::UIntWrite<uint64_t>>>,
    /* 47 */ Tup<Seq<ExecutorAddr>>,
    /* 48 */ Seq<ExecutorAddr>>;

constexpr size_t NumTypes = std::tuple_size_v<Catalogue>;

// ---------------------------------------------------------------- actions

enum Status : uint8_t { Decoded = 0, Rejected = 1, Trailing = 2 };

template <typename K>
Status decode(const std::vector<char> &In, typename Codec<K>::V &X) {
  SPSInputBuffer IB(In.data(), In.size());
  if (!SPSArgList<typename Codec<K>::SPS>::deserialize(IB, X))
    return Rejected;
  if (IB.skip(1))
    return Trailing;
  return Decoded;
}

template <typename K> std::vector<char> encode(const typename Codec<K>::V &X) {
  using AL = SPSArgList<typename Codec<K>::SPS>;
  std::vector<char> Out(AL::size(X));
  SPSOutputBuffer OB(Out.data(), Out.size());
  if (!AL::serialize(OB, X)) {
    fprintf(stderr, "sps_diff: serialize failed\n");
    exit(2);
  }
  return Out;
}

struct Result {
  Status St = Rejected;
  std::vector<char> Bytes;
  std::string Dump;
  uint32_t PrefixesAccepted = 0;
};

template <typename K> Result roundtrip(const std::vector<char> &In, Rng &R) {
  Result Res;
  {
    typename Codec<K>::V X{};
    Res.St = decode<K>(In, X);
    if (Res.St == Rejected)
      return Res;
    Res.Bytes = encode<K>(X);
    Codec<K>::dump(Res.Dump, X);
  }
  // Strict prefixes of a valid encoding must be rejected.
  if (Res.St == Decoded && !In.empty()) {
    size_t Tries = std::min<size_t>(In.size(), 12);
    for (size_t T = 0; T < Tries; ++T) {
      size_t Cut = In.size() <= 12 ? T : R.below(In.size());
      if (T == 1 && In.size() > 12)
        Cut = In.size() - 1;
      std::vector<char> P(In.begin(), In.begin() + Cut);
      typename Codec<K>::V Y{};
      SPSInputBuffer IB(P.data(), P.size());
      if (SPSArgList<typename Codec<K>::SPS>::deserialize(IB, Y))
        ++Res.PrefixesAccepted;
    }
  }
  return Res;
}

template <typename K> void generate(Rng &R, std::vector<char> &B, std::string &D) {
  auto X = Codec<K>::gen(R);
  B = encode<K>(X);
  Codec<K>::dump(D, X);
}

using RoundtripFn = Result (*)(const std::vector<char> &, Rng &);
using GenerateFn = void (*)(Rng &, std::vector<char> &, std::string &);

template <size_t... Is>
constexpr std::array<RoundtripFn, NumTypes> roundtrips(std::index_sequence<Is...>) {
  return {&roundtrip<std::tuple_element_t<Is, Catalogue>>...};
}
template <size_t... Is>
constexpr std::array<GenerateFn, NumTypes> generators(std::index_sequence<Is...>) {
  return {&generate<std::tuple_element_t<Is, Catalogue>>...};
}

// ---------------------------------------------------------------- file I/O

void put(std::string &O, const void *P, size_t N) {
  O.append(static_cast<const char *>(P), N);
}
void putU64(std::string &O, uint64_t V) { put(O, &V, 8); }
void putBlob(std::string &O, const char *P, size_t N) {
  putU64(O, N);
  put(O, P, N);
}

std::string readFile(const char *Path) {
  FILE *F = fopen(Path, "rb");
  if (!F) {
    perror(Path);
    exit(2);
  }
  std::string S;
  char Buf[65536];
  size_t N;
  while ((N = fread(Buf, 1, sizeof(Buf), F)) > 0)
    S.append(Buf, N);
  fclose(F);
  return S;
}

void writeFile(const char *Path, const std::string &S) {
  FILE *F = fopen(Path, "wb");
  if (!F || fwrite(S.data(), 1, S.size(), F) != S.size() || fclose(F)) {
    perror(Path);
    exit(2);
  }
}

struct Reader {
  const std::string &S;
  size_t Pos = 0;
  bool get(void *P, size_t N) {
    if (S.size() - Pos < N)
      return false;
    memcpy(P, S.data() + Pos, N);
    Pos += N;
    return true;
  }
};

// Input record: u8 kind, u32 type id, u64 len, bytes.
// Output record: u32 type id, u8 status, u32 prefixes accepted,
//                u64 len + re-encoded bytes, u64 len + dump.
int cmdRoundtrip(const char *In, const char *Out) {
  auto Table = roundtrips(std::make_index_sequence<NumTypes>());
  std::string Data = readFile(In);
  Reader Rd{Data};
  std::string O;
  Rng R{12345};
  size_t Count = 0;
  while (Rd.Pos < Data.size()) {
    uint8_t Kind;
    uint32_t Id;
    uint64_t Len;
    if (!Rd.get(&Kind, 1) || !Rd.get(&Id, 4) || !Rd.get(&Len, 8) ||
        Len > Data.size() - Rd.Pos || Id >= NumTypes) {
      fprintf(stderr, "sps_diff: malformed corpus at %zu\n", Rd.Pos);
      return 2;
    }
    std::vector<char> Bytes(Data.data() + Rd.Pos, Data.data() + Rd.Pos + Len);
    Rd.Pos += Len;
    Result Res = Table[Id](Bytes, R);
    put(O, &Id, 4);
    put(O, &Res.St, 1);
    put(O, &Res.PrefixesAccepted, 4);
    putBlob(O, Res.Bytes.data(), Res.Bytes.size());
    putBlob(O, Res.Dump.data(), Res.Dump.size());
    ++Count;
  }
  writeFile(Out, O);
  fprintf(stderr, "sps_diff: round-tripped %zu records\n", Count);
  return 0;
}

// Output record: u32 type id, u64 len + bytes, u64 len + dump.
int cmdGenerate(uint64_t Seed, size_t PerType, const char *Out) {
  auto Table = generators(std::make_index_sequence<NumTypes>());
  Rng R{Seed};
  std::string O;
  for (uint32_t Id = 0; Id < NumTypes; ++Id)
    for (size_t I = 0; I < PerType; ++I) {
      std::vector<char> B;
      std::string D;
      Table[Id](R, B, D);
      put(O, &Id, 4);
      putBlob(O, B.data(), B.size());
      putBlob(O, D.data(), D.size());
    }
  writeFile(Out, O);
  return 0;
}

// ------------------------------------------------------------------- bench

// Best (lowest) seconds per operation over 5 rounds.
template <typename F> double timeIt(size_t Iters, F &&Fn) {
  size_t PerRound = std::max<size_t>(Iters / 5, 1);
  double Best = 1e300;
  for (int Round = 0; Round < 5; ++Round) {
    auto T0 = std::chrono::steady_clock::now();
    for (size_t I = 0; I < PerRound; ++I)
      Fn();
    auto T1 = std::chrono::steady_clock::now();
    Best = std::min(Best, std::chrono::duration<double>(T1 - T0).count() /
                              PerRound);
  }
  return Best;
}

volatile size_t Sink;

template <typename K>
void benchOne(const char *Name, const typename Codec<K>::V &X, size_t Iters) {
  using AL = SPSArgList<typename Codec<K>::SPS>;
  std::vector<char> Enc = encode<K>(X);
  double TE = timeIt(Iters, [&] {
    size_t N = AL::size(X);
    std::vector<char> Out(N);
    SPSOutputBuffer OB(Out.data(), N);
    AL::serialize(OB, X);
    Sink = Out[N / 2];
  });
  double TD = timeIt(Iters, [&] {
    typename Codec<K>::V Y{};
    SPSInputBuffer IB(Enc.data(), Enc.size());
    Sink = AL::deserialize(IB, Y);
  });
  printf("%s bytes=%zu encode_ns=%.1f decode_ns=%.1f encode_MBps=%.1f "
         "decode_MBps=%.1f\n",
         Name, Enc.size(), TE * 1e9, TD * 1e9, Enc.size() / TE / 1e6,
         Enc.size() / TD / 1e6);
}

int cmdBench(size_t Iters) {
  // The same values as benches/sps_bench.rs builds.
  static std::vector<char> Code(4096), Data(1024);
  for (size_t I = 0; I < Code.size(); ++I)
    Code[I] = static_cast<char>(I * 7);
  std::vector<char> RangeArgs(16, 1);
  tpctypes::FinalizeRequest FR;
  for (int I = 0; I < 3; ++I)
    FR.Segments.push_back(
        {tpctypes::RemoteAllocGroup(MemProt::Read | MemProt::Exec),
         ExecutorAddr(0x7f0000000000ULL + I * 0x1000), 0x1000,
         ArrayRef<char>(I == 2 ? Data : Code)});
  for (int I = 0; I < 2; ++I)
    FR.Actions.push_back(
        {WrapperFunctionCall(ExecutorAddr(0x5600001000ULL),
                             {RangeArgs.begin(), RangeArgs.end()}),
         WrapperFunctionCall(ExecutorAddr(0x5600002000ULL),
                             {RangeArgs.begin(), RangeArgs.end()})});
  benchOne<Tup<ExecutorAddr, tpctypes::FinalizeRequest>>(
      "finalize_request_3seg", {ExecutorAddr(0x5600000000ULL), FR}, Iters);

  std::vector<RemoteSymbolLookupSetElement> Syms;
  for (int I = 0; I < 64; ++I)
    Syms.push_back({"symbol_name_" + std::to_string(I), I % 2 == 0});
  benchOne<Tup<ExecutorAddr, Seq<RemoteSymbolLookupSetElement>>>(
      "lookup_set_64", {ExecutorAddr(0x1234), Syms}, Iters);

  shared::detail::SPSSerializableExpected<std::vector<std::optional<ExecutorSymbolDef>>>
      LR;
  LR.HasValue = true;
  for (int I = 0; I < 64; ++I)
    LR.Value.push_back(ExecutorSymbolDef(ExecutorAddr(0x7f0000000000ULL + I),
                                         JITSymbolFlags::Exported));
  benchOne<Exp<Seq<Opt<ExecutorSymbolDef>>>>("lookup_result_64", LR, Iters);

  std::vector<char> Big(1 << 20, 'x');
  benchOne<Bytes>("bytes_1MiB", Big, std::max<size_t>(Iters / 1000, 10));
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "roundtrip"))
    return cmdRoundtrip(argv[2], argv[3]);
  if (argc == 5 && !strcmp(argv[1], "generate"))
    return cmdGenerate(strtoull(argv[2], nullptr, 0),
                       strtoull(argv[3], nullptr, 0), argv[4]);
  if (argc == 3 && !strcmp(argv[1], "bench"))
    return cmdBench(strtoull(argv[2], nullptr, 0));
  fprintf(stderr, "usage: sps_diff roundtrip <in> <out> | generate <seed> "
                  "<n> <out> | bench <iterations>\n");
  return 2;
}
