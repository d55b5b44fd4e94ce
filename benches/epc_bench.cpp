// epc_bench: controller-side benchmark for ORC executors (LLVM 22 EPC).
//
// Launches an executor (llvm-jitlink-executor-22 or orc-rt-executor) over a
// pair of pipes, the same way llvm-jitlink-22 does for -oop-executor, talks
// to it through LLVM 22's SimpleRemoteEPC and measures:
//
//   rtt       synchronous wrapper-call round trip (mem_read_uint64s of one
//             word), p50 and p99 in microseconds
//   async     wrapper-call throughput with 1, 16 and 256 calls in flight
//   memmgr    allocate + finalize + deallocate cycles through the EPC's
//             default JIT memory manager (reserve/initialize/release)
//   bulk      64 MiB written as 1 MiB buffers through MemoryAccess
//             (mem_write_buffers), MB/s
//   setup     spawn executor, receive Setup, disconnect, wait for exit
//
// Every benchmark checks what it gets back (read values, written memory,
// exit status) and fails loudly on a mismatch, so a broken executor cannot
// produce a fast number.
//
// Output: one "name value" line per figure on stdout, for scripts/bench.sh.
// Usage: epc_bench --executor PATH [--quick] [--only a,b,...]
//                  [--rtt N] [--async N] [--memmgr N] [--bulk-mib N]
//                  [--setup N]

#include "llvm/ExecutionEngine/JITLink/JITLinkMemoryManager.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/ExecutorProcessControl.h"
#include "llvm/ExecutionEngine/Orc/MemoryAccess.h"
#include "llvm/ExecutionEngine/Orc/Shared/OrcRTBridge.h"
#include "llvm/ExecutionEngine/Orc/Shared/SimpleRemoteEPCUtils.h"
#include "llvm/ExecutionEngine/Orc/SimpleRemoteEPC.h"
#include "llvm/ExecutionEngine/Orc/TaskDispatch.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <signal.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace llvm;
using namespace llvm::orc;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string Executor;
  bool Quick = false;
  std::set<std::string> Only;
  size_t RttCalls = 20000;
  size_t AsyncCalls = 20000;
  size_t MemMgrCycles = 2000;
  size_t BulkMiB = 64;
  size_t SetupRuns = 20;
};

[[noreturn]] void fail(const std::string &Msg) {
  fprintf(stderr, "epc_bench: FAIL: %s\n", Msg.c_str());
  exit(2);
}

void check(Error Err, const char *What) {
  if (Err) {
    std::string S;
    raw_string_ostream OS(S);
    OS << What << ": " << Err;
    consumeError(std::move(Err));
    fail(S);
  }
}

template <typename T> T check(Expected<T> V, const char *What) {
  if (!V) {
    check(V.takeError(), What);
  }
  return std::move(*V);
}

/// CPU time (user + sys, all threads, 10 ms ticks) used so far by process
/// Pid, from /proc/<pid>/stat; -1 if unreadable.
double procCpuSeconds(pid_t Pid) {
  char Path[64], Buf[1024];
  snprintf(Path, sizeof(Path), "/proc/%d/stat", (int)Pid);
  FILE *F = fopen(Path, "r");
  if (!F)
    return -1;
  size_t N = fread(Buf, 1, sizeof(Buf) - 1, F);
  fclose(F);
  Buf[N] = 0;
  const char *P = strrchr(Buf, ')'); // comm may contain spaces
  if (!P)
    return -1;
  unsigned long long UTime = 0, STime = 0;
  // Fields after comm: state(3) ... utime(14) stime(15).
  if (sscanf(P + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
             &UTime, &STime) != 2)
    return -1;
  return (UTime + STime) / (double)sysconf(_SC_CLK_TCK);
}

double seconds(Clock::time_point A, Clock::time_point B) {
  return std::chrono::duration<double>(B - A).count();
}

double percentile(std::vector<double> V, double P) {
  if (V.empty())
    return 0;
  std::sort(V.begin(), V.end());
  size_t I = static_cast<size_t>(P * (V.size() - 1) + 0.5);
  return V[std::min(I, V.size() - 1)];
}

void emit(const char *Name, double Value) {
  printf("%s %.6g\n", Name, Value);
  fflush(stdout);
}

/// A running executor: its pid and the EPC session talking to it.
struct Session {
  pid_t Pid = -1;
  std::unique_ptr<ExecutionSession> ES;
  ExecutorProcessControl *EPC = nullptr;
};

/// Fork/exec the executor with filedescs=<in>,<out> and connect a
/// SimpleRemoteEPC to it, like llvm-jitlink-22's launchExecutor.
Session launch(const std::string &Path) {
  int ToExec[2], FromExec[2];
  if (pipe2(ToExec, O_CLOEXEC) != 0 || pipe2(FromExec, O_CLOEXEC) != 0)
    fail(std::string("pipe: ") + strerror(errno));
  pid_t Pid = fork();
  if (Pid < 0)
    fail(std::string("fork: ") + strerror(errno));
  if (Pid == 0) {
    // Child: keep its two ends open across exec.
    fcntl(ToExec[0], F_SETFD, 0);
    fcntl(FromExec[1], F_SETFD, 0);
    char Spec[64];
    snprintf(Spec, sizeof(Spec), "filedescs=%d,%d", ToExec[0], FromExec[1]);
    execl(Path.c_str(), Path.c_str(), Spec, (char *)nullptr);
    fprintf(stderr, "epc_bench: exec %s: %s\n", Path.c_str(), strerror(errno));
    _exit(127);
  }
  close(ToExec[0]);
  close(FromExec[1]);
  auto EPC = check(SimpleRemoteEPC::Create<FDSimpleRemoteEPCTransport>(
                       std::make_unique<DynamicThreadPoolTaskDispatcher>(
                           std::nullopt),
                       SimpleRemoteEPC::Setup(), FromExec[0], ToExec[1]),
                   "connecting to executor");
  Session S;
  S.Pid = Pid;
  S.EPC = EPC.get();
  S.ES = std::make_unique<ExecutionSession>(std::move(EPC));
  return S;
}

/// Disconnect and wait for the executor; it must exit 0.
/// Returns the executor's CPU time (user + sys) in seconds.
double shutdown(Session &S) {
  check(S.ES->endSession(), "ending session");
  S.ES.reset();
  int Status = 0;
  struct rusage RU;
  if (wait4(S.Pid, &Status, 0, &RU) != S.Pid)
    fail(std::string("wait4: ") + strerror(errno));
  if (!WIFEXITED(Status) || WEXITSTATUS(Status) != 0)
    fail("executor did not exit 0 after disconnect (status " +
         std::to_string(Status) + ")");
  return RU.ru_utime.tv_sec + RU.ru_utime.tv_usec / 1e6 + RU.ru_stime.tv_sec +
         RU.ru_stime.tv_usec / 1e6;
}

struct Addrs {
  ExecutorAddr MemMgrInstance, Reserve, Release, ReadU64s, WriteU64s;
};

Addrs lookupAddrs(ExecutorProcessControl &EPC) {
  Addrs A;
  check(EPC.getBootstrapSymbols(
            {{A.MemMgrInstance, rt::SimpleExecutorMemoryManagerInstanceName},
             {A.Reserve, rt::SimpleExecutorMemoryManagerReserveWrapperName},
             {A.Release, rt::SimpleExecutorMemoryManagerReleaseWrapperName},
             {A.ReadU64s, rt::MemoryReadUInt64sWrapperName},
             {A.WriteU64s, rt::MemoryWriteUInt64sWrapperName}}),
        "bootstrap symbols");
  return A;
}

ExecutorAddr reserve(ExecutorProcessControl &EPC, const Addrs &A,
                     uint64_t Size) {
  Expected<ExecutorAddr> R((ExecutorAddr()));
  check(EPC.callSPSWrapper<rt::SPSSimpleExecutorMemoryManagerReserveSignature>(
            A.Reserve, R, A.MemMgrInstance, Size),
        "reserve call");
  return check(std::move(R), "reserve");
}

void release(ExecutorProcessControl &EPC, const Addrs &A, ExecutorAddr Base) {
  Error R = Error::success();
  check(EPC.callSPSWrapper<rt::SPSSimpleExecutorMemoryManagerReleaseSignature>(
            A.Release, R, A.MemMgrInstance, std::vector<ExecutorAddr>{Base}),
        "release call");
  check(std::move(R), "release");
}

/// SPS bytes for mem_read_uint64s([Addr]): u64 count 1, u64 address.
std::vector<char> readArgs(ExecutorAddr Addr) {
  std::vector<char> B(16);
  uint64_t N = 1, V = Addr.getValue();
  memcpy(B.data(), &N, 8);
  memcpy(B.data() + 8, &V, 8);
  return B;
}

/// Checks a mem_read_uint64s result: [Expected].
bool readResultOk(const shared::WrapperFunctionBuffer &R, uint64_t Expected) {
  if (R.getOutOfBandError() || R.size() != 16)
    return false;
  uint64_t N, V;
  memcpy(&N, R.data(), 8);
  memcpy(&V, R.data() + 8, 8);
  return N == 1 && V == Expected;
}

constexpr uint64_t Magic = 0x0123456789abcdefULL;

void benchRtt(ExecutorProcessControl &EPC, pid_t Pid, const Addrs &A,
              size_t Calls) {
  ExecutorAddr Page = reserve(EPC, A, 4096);
  check(EPC.getMemoryAccess().writeUInt64s({{Page, Magic}}), "write magic");
  auto Args = readArgs(Page);
  std::vector<double> Us;
  Us.reserve(Calls);
  double Cpu0 = procCpuSeconds(Pid);
  for (size_t I = 0; I < Calls + Calls / 10; ++I) {
    auto T0 = Clock::now();
    auto R = EPC.callWrapper(A.ReadU64s, Args);
    auto T1 = Clock::now();
    if (!readResultOk(R, Magic))
      fail("rtt: bad mem_read_uint64s result");
    if (I + 1 == Calls / 10)
      Cpu0 = procCpuSeconds(Pid);
    if (I >= Calls / 10) // first 10% is warm-up
      Us.push_back(seconds(T0, T1) * 1e6);
  }
  double Cpu1 = procCpuSeconds(Pid);
  emit("rtt_p50_us", percentile(Us, 0.50));
  emit("rtt_p99_us", percentile(Us, 0.99));
  if (Cpu0 >= 0 && Cpu1 >= 0)
    emit("rtt_exec_cpu_us_per_call", (Cpu1 - Cpu0) * 1e6 / Us.size());
  release(EPC, A, Page);
}

void benchAsync(ExecutorProcessControl &EPC, pid_t Pid, const Addrs &A,
                size_t Calls, size_t Window) {
  ExecutorAddr Page = reserve(EPC, A, 4096);
  check(EPC.getMemoryAccess().writeUInt64s({{Page, Magic}}), "write magic");
  auto Args = readArgs(Page);
  std::mutex M;
  std::condition_variable CV;
  size_t InFlight = 0, Done = 0;
  std::atomic<bool> Bad{false};
  double Cpu0 = procCpuSeconds(Pid);
  auto T0 = Clock::now();
  for (size_t Sent = 0; Sent < Calls; ++Sent) {
    {
      std::unique_lock<std::mutex> L(M);
      CV.wait(L, [&] { return InFlight < Window; });
      ++InFlight;
    }
    EPC.callWrapperAsync(
        ExecutorProcessControl::RunInPlace(), A.ReadU64s,
        [&](shared::WrapperFunctionBuffer R) {
          if (!readResultOk(R, Magic))
            Bad = true;
          std::lock_guard<std::mutex> L(M);
          --InFlight;
          ++Done;
          CV.notify_all();
        },
        ArrayRef<char>(Args));
  }
  {
    std::unique_lock<std::mutex> L(M);
    CV.wait(L, [&] { return Done == Calls; });
  }
  auto T1 = Clock::now();
  double Cpu1 = procCpuSeconds(Pid);
  if (Bad)
    fail("async: bad mem_read_uint64s result");
  char Name[64];
  snprintf(Name, sizeof(Name), "async%zu_calls_per_s", Window);
  emit(Name, Calls / seconds(T0, T1));
  if (Window == 256 && Cpu0 >= 0 && Cpu1 >= 0)
    emit("async256_exec_cpu_us_per_call", (Cpu1 - Cpu0) * 1e6 / Calls);
  release(EPC, A, Page);
}

void benchMemMgr(ExecutorProcessControl &EPC, pid_t Pid, size_t Cycles) {
  using namespace jitlink;
  auto &MemMgr = EPC.getMemMgr();
  auto OneCycle = [&](size_t I) {
    SimpleSegmentAlloc::SegmentMap Segs;
    Segs[MemProt::Read | MemProt::Exec] = SimpleSegmentAlloc::Segment(256, Align(16));
    Segs[MemProt::Read | MemProt::Write] = SimpleSegmentAlloc::Segment(1024, Align(16));
    auto Alloc = check(SimpleSegmentAlloc::Create(MemMgr, EPC.getSymbolStringPool(),
                                                  EPC.getTargetTriple(), nullptr,
                                                  std::move(Segs)),
                       "memmgr allocate");
    auto RW = Alloc.getSegInfo(MemProt::Read | MemProt::Write);
    auto RX = Alloc.getSegInfo(MemProt::Read | MemProt::Exec);
    memset(RX.WorkingMem.data(), 0xc3, RX.WorkingMem.size()); // ret
    uint64_t Tag = Magic ^ I;
    memcpy(RW.WorkingMem.data(), &Tag, 8);
    ExecutorAddr RWAddr = RW.Addr;
    auto FA = check(Alloc.finalize(), "memmgr finalize");
    if (I % 64 == 0) { // spot-check that finalize really copied the content
      auto V = check(EPC.getMemoryAccess().readUInt64s({RWAddr}), "read back");
      if (V.size() != 1 || V[0] != Tag)
        fail("memmgr: finalized content does not match");
    }
    check(MemMgr.deallocate(std::move(FA)), "memmgr deallocate");
  };
  for (size_t I = 0; I < Cycles / 10 + 1; ++I)
    OneCycle(I); // warm-up
  double Cpu0 = procCpuSeconds(Pid);
  auto T0 = Clock::now();
  for (size_t I = 0; I < Cycles; ++I)
    OneCycle(I);
  auto T1 = Clock::now();
  double Cpu1 = procCpuSeconds(Pid);
  emit("memmgr_cycles_per_s", Cycles / seconds(T0, T1));
  if (Cpu0 >= 0 && Cpu1 >= 0)
    emit("memmgr_exec_cpu_us_per_cycle", (Cpu1 - Cpu0) * 1e6 / Cycles);
}

void benchBulk(ExecutorProcessControl &EPC, pid_t Pid, const Addrs &A,
               size_t MiB) {
  const size_t Chunk = 1 << 20;
  ExecutorAddr Base = reserve(EPC, A, MiB * Chunk);
  std::vector<std::vector<char>> Bufs(4, std::vector<char>(Chunk));
  for (size_t B = 0; B < Bufs.size(); ++B)
    for (size_t I = 0; I < Chunk; ++I)
      Bufs[B][I] = static_cast<char>((I * 131 + B * 7) & 0xff);
  auto Pass = [&] {
    for (size_t I = 0; I < MiB; ++I) {
      tpctypes::BufferWrite W(Base + I * Chunk, ArrayRef<char>(Bufs[I % 4]));
      check(EPC.getMemoryAccess().writeBuffers({W}), "writeBuffers");
    }
  };
  Pass(); // warm-up: faults the pages in
  double Cpu0 = procCpuSeconds(Pid);
  auto T0 = Clock::now();
  Pass();
  auto T1 = Clock::now();
  double Cpu1 = procCpuSeconds(Pid);
  // Check a word in every chunk.
  std::vector<ExecutorAddr> Rs;
  for (size_t I = 0; I < MiB; ++I)
    Rs.push_back(Base + I * Chunk + 8 * ((I * 977) % (Chunk / 8)));
  auto V = check(EPC.getMemoryAccess().readUInt64s(Rs), "bulk read back");
  for (size_t I = 0; I < MiB; ++I) {
    uint64_t Want;
    memcpy(&Want, Bufs[I % 4].data() + 8 * ((I * 977) % (Chunk / 8)), 8);
    if (V.size() != MiB || V[I] != Want)
      fail("bulk: written memory does not match");
  }
  emit("bulk_write_MBps", MiB * Chunk / 1e6 / seconds(T0, T1));
  if (Cpu0 >= 0 && Cpu1 >= 0)
    emit("bulk_exec_cpu_ms_per_GB", (Cpu1 - Cpu0) * 1e3 / (MiB * Chunk / 1e9));
  release(EPC, A, Base);
}

void benchSetup(const std::string &Exec, size_t Runs) {
  std::vector<double> Ms, Up, Down, First;
  for (size_t I = 0; I < Runs + 2; ++I) {
    auto T0 = Clock::now();
    Session S = launch(Exec);
    auto T1 = Clock::now();
    // The first call of the session (a memory-manager reserve), cold.
    Addrs A = lookupAddrs(*S.EPC);
    auto F0 = Clock::now();
    ExecutorAddr Page = reserve(*S.EPC, A, 4096);
    auto F1 = Clock::now();
    release(*S.EPC, A, Page);
    auto T2 = Clock::now();
    shutdown(S);
    auto T3 = Clock::now();
    if (I >= 2) {
      Ms.push_back((seconds(T0, T1) + seconds(T2, T3)) * 1e3);
      Up.push_back(seconds(T0, T1) * 1e3);
      Down.push_back(seconds(T2, T3) * 1e3);
      First.push_back(seconds(F0, F1) * 1e6);
    }
  }
  emit("setup_teardown_ms", percentile(Ms, 0.5));
  emit("setup_only_ms", percentile(Up, 0.5));
  emit("teardown_only_ms", percentile(Down, 0.5));
  emit("first_call_us", percentile(First, 0.5));
}

size_t num(const char *S) {
  char *End;
  unsigned long long V = strtoull(S, &End, 10);
  if (*End || V == 0)
    fail(std::string("bad count: ") + S);
  return V;
}

} // namespace

int main(int argc, char **argv) {
  Options O;
  for (int I = 1; I < argc; ++I) {
    std::string A = argv[I];
    auto Next = [&]() -> const char * {
      if (I + 1 >= argc)
        fail("missing value after " + A);
      return argv[++I];
    };
    if (A == "--executor")
      O.Executor = Next();
    else if (A == "--quick")
      O.Quick = true;
    else if (A == "--rtt")
      O.RttCalls = num(Next());
    else if (A == "--async")
      O.AsyncCalls = num(Next());
    else if (A == "--memmgr")
      O.MemMgrCycles = num(Next());
    else if (A == "--bulk-mib")
      O.BulkMiB = num(Next());
    else if (A == "--setup")
      O.SetupRuns = num(Next());
    else if (A == "--only") {
      std::string L = Next();
      size_t P = 0;
      while (P <= L.size()) {
        size_t C = L.find(',', P);
        if (C == std::string::npos)
          C = L.size();
        O.Only.insert(L.substr(P, C - P));
        P = C + 1;
      }
    } else
      fail("unknown argument " + A);
  }
  if (O.Executor.empty())
    fail("usage: epc_bench --executor PATH [--quick] [--only rtt,async,memmgr,"
         "bulk,setup] [--rtt N] [--async N] [--memmgr N] [--bulk-mib N] "
         "[--setup N]");
  if (access(O.Executor.c_str(), X_OK) != 0)
    fail("executor not executable: " + O.Executor);
  if (O.Quick) {
    O.RttCalls = 200;
    O.AsyncCalls = 300;
    O.MemMgrCycles = 20;
    O.BulkMiB = 4;
    O.SetupRuns = 2;
  }
  signal(SIGPIPE, SIG_IGN);
  auto On = [&](const char *N) { return O.Only.empty() || O.Only.count(N); };

  if (On("rtt") || On("async") || On("memmgr") || On("bulk")) {
    Session S = launch(O.Executor);
    Addrs A = lookupAddrs(*S.EPC);
    if (On("rtt"))
      benchRtt(*S.EPC, S.Pid, A, O.RttCalls);
    if (On("async"))
      for (size_t W : {1, 16, 256})
        benchAsync(*S.EPC, S.Pid, A, O.AsyncCalls, W);
    if (On("memmgr"))
      benchMemMgr(*S.EPC, S.Pid, O.MemMgrCycles);
    if (On("bulk"))
      benchBulk(*S.EPC, S.Pid, A, O.BulkMiB);
    emit("micro_executor_cpu_s", shutdown(S));
  }
  if (On("setup"))
    benchSetup(O.Executor, O.SetupRuns);
  return 0;
}
