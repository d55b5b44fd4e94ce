#!/usr/bin/env python3
"""hostile_controller.py -- fault-injection tests for a SimpleRemoteEPC executor.

A fake controller that misbehaves on purpose: truncated frames, absurd sizes,
bad opcodes, stray Results, random garbage, Hangup or death while calls are in
flight, stalls in the middle of a frame.  Every case runs against a fresh
executor process, over pipes (`filedescs=<in>,<out>`) and over TCP
(`listen=127.0.0.1:<port>`).  For each run it checks that the executor

  * exits within EXIT_DEADLINE seconds of the triggering event,
  * exits normally (never by a signal), with the expected exit code
    (1 for protocol errors, 0 for a clean EOF/Hangup, as in the bad-input
    table of docs/protocol.md, section 2),
  * stays under MAX_RSS_MB of peak RSS (ru_maxrss from os.wait4),
  * writes a non-empty, non-panic message to stderr when it fails.

The wire helpers (frame header packing, SPS string/sequence encoders, the
Setup decoder, dylib open/resolve helpers) follow tests/interop/probe.py.

Usage:
  hostile_controller.py [--executor PATH | --reference] [--transport pipe|tcp|both]
                        [--case NAME ...] [--json FILE] [--list]
  hostile_controller.py --table REF.json OURS.json   # markdown comparison table

Exit status: 0 if every run passed, 1 otherwise.  Python 3 stdlib only.
"""

import argparse
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import shutil
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jit_cases  # noqa: E402

HDR = struct.Struct("<QQQQ")
SETUP, HANGUP, RESULT, CALL = 0, 1, 2, 3

EXIT_DEADLINE = 3.0  # seconds from the triggering event to executor exit
MAX_RSS_MB = 200
REFERENCE = "llvm-jitlink-executor-22"


# --------------------------------------------------------------------------
# SPS helpers (after probe.py)

def u8(v):
    return struct.pack("<B", v)


def i32(v):
    return struct.pack("<i", v)


def u64(v):
    return struct.pack("<Q", v)


def sps_str(s):
    b = s.encode() if isinstance(s, str) else s
    return u64(len(b)) + b


def sps_seq(items):
    return u64(len(items)) + b"".join(items)


def frame(opc, seqno, tag, payload=b"", size=None):
    if size is None:
        size = 32 + len(payload)
    return HDR.pack(size, opc, seqno, tag) + payload


class Reader(object):
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, n):
        if self.p + n > len(self.b):
            raise ValueError("short SPS data")
        r = self.b[self.p:self.p + n]
        self.p += n
        return r

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def u8(self):
        return self.take(1)[0]

    def str(self):
        return self.take(self.u64()).decode("utf-8", "replace")


class HarnessError(Exception):
    """The harness could not drive the case (not an executor verdict)."""


# --------------------------------------------------------------------------
# Transport: one controller-side connection, pipes or a TCP socket.

class Conn(object):
    def __init__(self, rfd, wfd, sock=None):
        self.rfd, self.wfd, self.sock = rfd, wfd, sock

    def send(self, data):
        """Write everything; returns False if the executor is gone."""
        try:
            if self.sock is not None:
                self.sock.sendall(data)
            else:
                view = memoryview(data)
                while view:
                    n = os.write(self.wfd, view)
                    view = view[n:]
            return True
        except (BrokenPipeError, ConnectionError):
            return False

    def read_exact(self, n, timeout):
        buf = b""
        deadline = time.monotonic() + timeout
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return buf, "timeout"
            rr, _, _ = select.select([self.rfd], [], [], left)
            if not rr:
                return buf, "timeout"
            try:
                chunk = os.read(self.rfd, min(n - len(buf), 1 << 20))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return buf, "eof"
            buf += chunk
        return buf, None

    def recv(self, timeout=5.0):
        hdr, st = self.read_exact(32, timeout)
        if st:
            return None
        size, opc, seqno, tag = HDR.unpack(hdr)
        if size < 32 or size > (64 << 20):
            raise HarnessError("executor sent a frame of size %d" % size)
        body, st = self.read_exact(size - 32, timeout)
        if st:
            return None
        return opc, seqno, tag, body

    def drain(self, timeout):
        """Read and discard until EOF or timeout; returns 'eof'/'timeout'."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            rr, _, _ = select.select([self.rfd], [], [], left)
            if not rr:
                return "timeout"
            try:
                chunk = os.read(self.rfd, 1 << 16)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return "eof"

    def shutdown_write(self):
        """Half-close: the executor sees EOF, we can still read."""
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        elif self.wfd is not None:
            os.close(self.wfd)
            self.wfd = None

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            self.rfd = self.wfd = None
            return
        for fd in (self.rfd, self.wfd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.rfd = self.wfd = None


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Executor(object):
    """One executor process plus our end of its transport."""

    def __init__(self, exe, transport, workdir):
        self.exe = exe
        self.transport = transport
        self.err = tempfile.TemporaryFile(dir=workdir)
        self.out = tempfile.TemporaryFile(dir=workdir)
        self.syms = {}
        self.status = None
        self.rusage = None
        self.t_exit = None
        if transport == "pipe":
            to_r, to_w = os.pipe()
            from_r, from_w = os.pipe()
            self.proc = subprocess.Popen(
                [exe, "filedescs=%d,%d" % (to_r, from_w)],
                pass_fds=(to_r, from_w), close_fds=True,
                stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)
            os.close(to_r)
            os.close(from_w)
            self.conn = Conn(from_r, to_w)
        else:
            last = None
            for _ in range(5):  # the port may be taken between probe and bind
                port = free_port()
                self.proc = subprocess.Popen(
                    [exe, "listen=127.0.0.1:%d" % port], close_fds=True,
                    stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)
                sock = self._connect(port)
                if sock is not None:
                    break
                last = self._reap_quietly()
            else:
                raise HarnessError("could not connect to executor (last status %r)" % (last,))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conn = Conn(sock.fileno(), sock.fileno(), sock)
        self.pid = self.proc.pid

    def _connect(self, port):
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return None
            try:
                return socket.create_connection(("127.0.0.1", port), timeout=1.0)
            except OSError:
                time.sleep(0.02)
        return None

    def _reap_quietly(self):
        try:
            self.proc.kill()
        except OSError:
            pass
        return self.proc.wait()

    def setup(self):
        m = self.conn.recv(timeout=10.0)
        if m is None:
            raise HarnessError("no Setup message from executor")
        opc, seqno, tag, body = m
        if opc != SETUP:
            raise HarnessError("first message has opcode %d, not Setup" % opc)
        r = Reader(body)
        r.str()  # triple
        r.u64()  # page size
        for _ in range(r.u64()):
            r.str()
            r.take(r.u64())
        for _ in range(r.u64()):
            k = r.str()
            self.syms[k] = r.u64()
        return self.syms

    def sym(self, name):
        if name not in self.syms:
            raise HarnessError("Setup lacks bootstrap symbol %s" % name)
        return self.syms[name]

    def call(self, name, payload, seqno):
        if not self.conn.send(frame(CALL, seqno, self.sym(name), payload)):
            raise HarnessError("executor gone while calling %s" % name)
        m = self.conn.recv(timeout=10.0)
        if m is None:
            raise HarnessError("no Result for %s" % name)
        return m

    def cpu_ticks(self):
        """utime+stime in clock ticks, from /proc (None if gone)."""
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            return None

    def sample_hwm(self):
        """Track the executor's own peak RSS (VmHWM) while it is alive; a
        sharper figure than ru_maxrss, which has the harness's RSS as floor."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.hwm_kb = max(getattr(self, "hwm_kb", 0), int(line.split()[1]))
        except OSError:
            pass

    def rss_kb(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def alive(self):
        """True while the process has not exited (does not reap it)."""
        if self.status is not None:
            return False
        info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return info is None

    def wait(self, timeout):
        """Reap with wait4; on timeout SIGKILL and report status 'timeout'."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.t_exit = time.monotonic()
                self.status, self.rusage = status, ru
                self.proc.returncode = -1  # reaped by us; stop Popen from trying
                return True
            self.sample_hwm()
            if time.monotonic() >= deadline:
                os.kill(self.pid, signal.SIGKILL)
                _, status, ru = os.wait4(self.pid, 0)
                self.t_exit = None
                self.status, self.rusage = status, ru
                self.proc.returncode = -1
                return False
            time.sleep(0.005)

    def stderr_text(self):
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def finish(self):
        self.conn.close()
        self.err.close()
        self.out.close()


# --------------------------------------------------------------------------
# Cases.  Each gets a started Executor whose Setup has been read, performs its
# hostility and returns t_event: the monotonic time of the first event that
# makes exiting correct (the bad header for frames that can be rejected on
# sight, the EOF/Hangup/kill otherwise).  Cases that send bad data and then
# EOF after a short pause report the time from the bad data.  CASES[name] = (function, expected exit code, doc).

CASES = {}


def case(expect):
    def deco(fn):
        CASES[fn.__name__] = (fn, expect, " ".join((fn.__doc__ or "").split()))
        return fn
    return deco


def hangup_eof(ex):
    """Close our writing side; the executor must now exit."""
    t = time.monotonic()
    ex.conn.shutdown_write()
    return t


def dylib_handle(ex, seqno):
    m = ex.call("__llvm_orc_SimpleExecutorDylibManager_open_wrapper",
                u64(ex.sym("__llvm_orc_SimpleExecutorDylibManager_Instance"))
                + sps_str("") + u64(0), seqno)
    body = m[3]
    if body[:1] != b"\x01" or len(body) < 9:
        raise HarnessError("dylib open failed: %s" % body.hex())
    return struct.unpack("<Q", body[1:9])[0]


def resolve_one(ex, handle, name, seqno):
    m = ex.call("__llvm_orc_SimpleExecutorDylibManager_resolve_wrapper",
                u64(handle) + sps_seq([sps_str(name) + u8(1)]), seqno)
    r = Reader(m[3])
    try:
        if r.u8() != 1 or r.u64() != 1 or r.u8() != 1:
            raise ValueError("lookup failed")
        return r.u64()
    except ValueError as e:
        raise HarnessError("resolve %s: %s (%s)" % (name, e, m[3].hex()))


def reserve_page(ex, seqno):
    inst = u64(ex.sym("__llvm_orc_SimpleExecutorMemoryManager_Instance"))
    m = ex.call("__llvm_orc_SimpleExecutorMemoryManager_reserve_wrapper",
                inst + u64(4096), seqno)
    if m[3][:1] != b"\x01" or len(m[3]) < 9:
        raise HarnessError("reserve failed: %s" % m[3].hex())
    return struct.unpack("<Q", m[3][1:9])[0]


def send_inflight_calls(ex):
    """Queue calls that are still running when the controller goes away:
    two run_as_int_function(sleep, 1) plus a few memory reads of a reserved
    page.  Nothing is read back."""
    h = dylib_handle(ex, 1)
    sleep_addr = resolve_one(ex, h, "sleep", 2)
    base = reserve_page(ex, 3)
    frames = []
    for i in range(2):
        frames.append(frame(CALL, 10 + i,
                            ex.sym("__llvm_orc_bootstrap_run_as_int_function_wrapper"),
                            u64(sleep_addr) + i32(1)))
    for i in range(4):
        frames.append(frame(CALL, 20 + i,
                            ex.sym("__llvm_orc_bootstrap_mem_read_uint64s_wrapper"),
                            sps_seq([u64(base + 8 * i)])))
        frames.append(frame(CALL, 30 + i,
                            ex.sym("__llvm_orc_bootstrap_run_as_void_function_wrapper"),
                            u64(resolve_one(ex, h, "sched_yield", 40 + i))))
    return b"".join(frames)


@case(expect=1)
def truncated_header_eof(ex):
    """12 bytes of a frame header, then EOF."""
    ex.conn.send(b"\x20" + b"\x00" * 11)
    return hangup_eof(ex)


@case(expect=1)
def absurd_size(ex):
    """Header with size 2^62 (a CallWrapper to mem_read_uint64s), 16 payload
    bytes, then EOF.  The executor must not try to allocate 4 EiB."""
    t = time.monotonic()
    ex.conn.send(frame(CALL, 1, ex.sym("__llvm_orc_bootstrap_mem_read_uint64s_wrapper"),
                       b"\x00" * 16, size=1 << 62))
    time.sleep(0.2)
    hangup_eof(ex)
    return t


@case(expect=1)
def huge_size_eof(ex):
    """Header announcing a 512 MiB payload, 4 KiB of it, then EOF.  A frame
    that large could be legal, but the executor must not commit memory for
    bytes that never arrive (RSS limit)."""
    t = time.monotonic()
    ex.conn.send(frame(CALL, 1, ex.sym("__llvm_orc_bootstrap_mem_read_uint64s_wrapper"),
                       b"\x00" * 4096, size=32 + (512 << 20)))
    time.sleep(0.3)
    hangup_eof(ex)
    return t


@case(expect=1)
def size_too_small(ex):
    """Header whose size field (16) is below the 32-byte header size."""
    t = time.monotonic()
    ex.conn.send(frame(CALL, 1, ex.sym("__llvm_orc_bootstrap_mem_read_uint64s_wrapper"),
                       size=16))
    return t


@case(expect=1)
def unknown_opcode(ex):
    """Opcode 4, then opcode 2^63 would follow (never read)."""
    t = time.monotonic()
    ex.conn.send(frame(4, 0, 0) + frame(1 << 63, 0, 0))
    return t


@case(expect=1)
def setup_to_executor(ex):
    """The controller sends a Setup message to the executor."""
    t = time.monotonic()
    ex.conn.send(frame(SETUP, 0, 0, b"\x00" * 8))
    return t


@case(expect=1)
def result_unknown_seqno(ex):
    """A Result for seqno 99, which the executor never used."""
    t = time.monotonic()
    ex.conn.send(frame(RESULT, 99, 0, b"\x00"))
    return t


def garbage(seed):
    def fn(ex):
        rng = random.Random(seed)
        data = bytes(rng.getrandbits(8) for _ in range(4096))
        t = time.monotonic()
        ex.conn.send(data)
        time.sleep(0.1)
        hangup_eof(ex)
        return t
    fn.__name__ = "garbage_seed%d" % seed
    fn.__doc__ = ("4 KiB of random bytes (random.Random(%d)) instead of frames, then "
                  "EOF." % seed)
    return fn


for _seed in (1, 2, 3):
    case(expect=1)(garbage(_seed))


@case(expect=1)
def garbage_small_frames(ex):
    """Random bytes with plausible sizes: 64 frames whose header has a random
    size in 32..96 and random opcode/seqno/tag words (seed 7), then EOF.  The
    first bad opcode must stop the executor; no random tag may be called."""
    rng = random.Random(7)
    out = []
    for _ in range(64):
        size = rng.randrange(32, 97)
        opc = rng.choice([4, 5, 255, 1 << 40, rng.getrandbits(64) | (1 << 8)])
        out.append(HDR.pack(size, opc, rng.getrandbits(64), rng.getrandbits(64))
                   + bytes(rng.getrandbits(8) for _ in range(size - 32)))
    t = time.monotonic()
    ex.conn.send(b"".join(out))
    time.sleep(0.1)
    hangup_eof(ex)
    return t


@case(expect=0)
def hangup_with_outstanding_calls(ex):
    """Queue run_as_int(sleep,1) x2, memory reads and run_as_void calls, then
    a Hangup right behind them without waiting for any Result.  We keep
    reading (and discarding) so Results can be written."""
    batch = send_inflight_calls(ex)
    t = time.monotonic()
    ex.conn.send(batch + frame(HANGUP, 0, 0, b"\x00"))
    return t


@case(expect=0)
def hangup_error_payload(ex):
    """Hangup carrying an SPS error string, no calls pending."""
    t = time.monotonic()
    ex.conn.send(frame(HANGUP, 0, 0, b"\x01" + sps_str("controller going away")))
    return t


@case(expect=0)
def close_after_setup(ex):
    """Close the connection (both directions) right after reading Setup."""
    t = time.monotonic()
    ex.conn.close()
    return t


@case(expect=0)
def eof_with_outstanding_calls(ex):
    """Queue the in-flight batch (sleep(1) calls etc.), then close both
    directions at once: Results have nowhere to go (EPIPE/SIGPIPE risk)."""
    batch = send_inflight_calls(ex)
    ex.conn.send(batch)
    t = time.monotonic()
    ex.conn.close()
    return t


@case(expect=0)
def controller_sigkill_inflight(ex):
    """The controller runs as a child process: it sends the in-flight batch
    and is SIGKILLed while those calls run.  The kernel closes its ends."""
    batch = send_inflight_calls(ex)
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(ready_r)
            ex.conn.send(batch)
            os.write(ready_w, b"!")
            while True:
                ex.conn.drain(3600)
        finally:
            os._exit(0)
    os.close(ready_w)
    ex.conn.close()  # the child holds the only controller ends now
    os.read(ready_r, 1)
    os.close(ready_r)
    time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    t = time.monotonic()
    os.waitpid(child, 0)
    return t


@case(expect=1)
def stall_mid_frame(ex):
    """Send 40 bytes of an 80-byte CallWrapper frame, then nothing for 5 s,
    then close.  Expected (like the reference): the executor blocks waiting
    for data without spinning or allocating, and exits with 'unexpected
    EOF' (status 1) once we close.  Time is measured from the close; CPU
    time and RSS growth during the stall are checked too."""
    f = frame(CALL, 1, ex.sym("__llvm_orc_bootstrap_mem_read_uint64s_wrapper"),
              b"\x00" * 48)
    ex.conn.send(f[:40])
    time.sleep(0.2)
    cpu0, rss0 = ex.cpu_ticks(), ex.rss_kb()
    time.sleep(5.0)
    cpu1, rss1 = ex.cpu_ticks(), ex.rss_kb()
    ex.sample_hwm()
    ex.stall = {"cpu_s": None, "rss_growth_kb": None}
    if None not in (cpu0, cpu1):
        ex.stall["cpu_s"] = (cpu1 - cpu0) / os.sysconf("SC_CLK_TCK")
    if None not in (rss0, rss1):
        ex.stall["rss_growth_kb"] = rss1 - rss0
    if not ex.alive():
        ex.stall["exited_early"] = True
    t = time.monotonic()
    ex.conn.close()
    return t


# --------------------------------------------------------------------------
# Runner

PANIC_RE = re.compile(r"panicked at|RUST_BACKTRACE|stack backtrace", re.I)


def run_case(exe, name, transport, workdir):
    fn, expect, _ = CASES[name]
    res = {"case": name, "transport": transport, "expect": expect}
    ex = Executor(exe, transport, workdir)
    problems = []
    try:
        try:
            ex.setup()
            ex.sample_hwm()
            t_event = fn(ex)
        except HarnessError as e:
            res["harness_error"] = str(e)
            t_event = time.monotonic()
        # Keep draining our read side (if still open) while waiting, so a
        # well-behaved executor never blocks on a full pipe.
        deadline = t_event + EXIT_DEADLINE
        while ex.conn.rfd is not None and ex.alive():
            if time.monotonic() >= deadline:
                break
            ex.sample_hwm()
            if ex.conn.drain(0.02) == "eof":
                break
        exited = ex.wait(max(0.0, deadline - time.monotonic()))
    finally:
        pass
    status = ex.status
    if exited:
        res["time_to_exit"] = round(ex.t_exit - t_event, 3)
    else:
        res["time_to_exit"] = None
        problems.append("did not exit within %.1fs (killed)" % EXIT_DEADLINE)
    if exited and os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        res["signal"] = signal.Signals(sig).name
        problems.append("killed by %s" % signal.Signals(sig).name)
    elif exited:
        res["exit"] = os.WEXITSTATUS(status)
        if res["exit"] != expect:
            problems.append("exit %d, expected %d" % (res["exit"], expect))
    res["maxrss_mb"] = round(ex.rusage.ru_maxrss / 1024.0, 1)
    if getattr(ex, "hwm_kb", 0):
        res["hwm_mb"] = round(ex.hwm_kb / 1024.0, 1)
    if res["maxrss_mb"] >= MAX_RSS_MB:
        problems.append("max RSS %.1f MB >= %d MB" % (res["maxrss_mb"], MAX_RSS_MB))
    err = ex.stderr_text()
    res["stderr"] = err.strip()[:2000]
    if PANIC_RE.search(err):
        problems.append("panic on stderr")
    if expect != 0 and exited and not os.WIFSIGNALED(status) and not err.strip():
        problems.append("no message on stderr")
    stall = getattr(ex, "stall", None)
    if stall is not None:
        res["stall"] = stall
        if stall.get("exited_early"):
            problems.append("exited during the stall instead of waiting")
        if stall.get("cpu_s") is not None and stall["cpu_s"] > 0.25:
            problems.append("used %.2fs CPU while stalled (spinning?)" % stall["cpu_s"])
        if stall.get("rss_growth_kb") is not None and stall["rss_growth_kb"] > 8192:
            problems.append("RSS grew %d KB while stalled" % stall["rss_growth_kb"])
    if "harness_error" in res:
        problems.insert(0, "harness: " + res["harness_error"])
    res["problems"] = problems
    res["ok"] = not problems
    ex.finish()
    return res


def rss_floor_mb():
    """ru_maxrss of /bin/true spawned like an executor: Linux carries the
    parent's RSS high-water mark into the child at fork+exec, so every
    measurement is at least this."""
    p = subprocess.Popen(["/bin/true"], close_fds=True)
    _, _, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    return ru.ru_maxrss / 1024.0


def describe(res):
    if "signal" in res:
        how = "signal %s" % res["signal"]
    elif "exit" in res:
        how = "exit %d" % res["exit"]
    else:
        how = "no exit"
    t = "%.3fs" % res["time_to_exit"] if res["time_to_exit"] is not None else ">%.0fs" % EXIT_DEADLINE
    hwm = " (VmHWM seen %.1fMB)" % res["hwm_mb"] if "hwm_mb" in res else ""
    return "%s in %s, rss %.1fMB%s" % (how, t, res["maxrss_mb"], hwm)


def first_line(s):
    return s.splitlines()[0] if s else ""


def table(ref, ours):
    """Markdown table: case x transport, reference vs ours."""
    def key(r):
        return (r["case"], r["transport"])
    refs = {key(r): r for r in ref}
    mine = {key(r): r for r in ours}
    order = [key(r) for r in ours] + [key(r) for r in ref if key(r) not in mine]
    rows = ["| case | transport | expected | reference | ours |",
            "|---|---|---|---|---|"]
    for k in order:
        rr, r = refs.get(k), mine.get(k)

        def cell(x):
            if x is None:
                return "not run"
            s = describe(x)
            if x["problems"]:
                s += " **FAIL**: " + "; ".join(x["problems"])
            msg = first_line(x.get("stderr", ""))
            if msg:
                s += " <br>`%s`" % msg.replace("|", "\\|")[:120]
            return s
        any_r = r or rr
        rows.append("| %s | %s | %d | %s | %s |" % (any_r["case"], any_r["transport"],
                                                     any_r["expect"], cell(rr), cell(r)))
    return "\n".join(rows) + "\n"


def report(res, t0):
    line = "%s %-30s %-4s %s" % ("PASS" if res["ok"] else "FAIL", res["case"],
                                 res["transport"], describe(res))
    if not res["ok"]:
        line += "  -- " + "; ".join(res["problems"])
        if res.get("stderr"):
            line += "\n       stderr: " + res["stderr"].replace("\n", "\n       | ")[:600]
    print(line + "  [%.1fs]" % (time.monotonic() - t0), flush=True)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--executor", help="executor binary (default: target/debug/orc-rt-executor)")
    ap.add_argument("--reference", action="store_true", help="use %s" % REFERENCE)
    ap.add_argument("--transport", choices=["pipe", "tcp", "both"], default="both")
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    ap.add_argument("--json", help="write results as JSON to this file")
    ap.add_argument("--list", action="store_true", help="list cases and exit")
    ap.add_argument("--table", nargs=2, metavar=("REF_JSON", "OURS_JSON"),
                    help="print a markdown comparison table and exit")
    args = ap.parse_args(argv[1:])

    if args.list:
        for name, (_, expect, doc) in CASES.items():
            print("%-32s exit %d  %s" % (name, expect, doc))
        print("%-32s exit 0  %s" % (jit_cases.NAME, " ".join(jit_cases.__doc__.split("\n\n")[1].split())))
        return 0
    if args.table:
        with open(args.table[0]) as f:
            ref = json.load(f)
        ours = []
        if args.table[1] != "-":
            with open(args.table[1]) as f:
                ours = json.load(f)
        sys.stdout.write(table(ref, ours))
        return 0

    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    exe = REFERENCE if args.reference else args.executor
    if exe is None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        exe = os.path.join(root, "target", "debug", "orc-rt-executor")
    names = [n for n in (args.case or list(CASES)) if n != jit_cases.NAME]
    for n in names:
        if n not in CASES:
            ap.error("unknown case %r (see --list)" % n)
    transports = ["pipe", "tcp"] if args.transport == "both" else [args.transport]

    print("executor: %s" % exe)
    base = rss_floor_mb()
    print("ru_maxrss floor (a child inherits the harness's RSS high-water mark "
          "across fork+exec): %.1f MB" % base)
    results = []
    workdir = tempfile.mkdtemp(prefix="hostile-")
    for name in names:
        for tr in transports:
            t0 = time.monotonic()
            try:
                res = run_case(exe, name, tr, workdir)
            except HarnessError as e:
                res = {"case": name, "transport": tr, "expect": CASES[name][1],
                       "time_to_exit": None, "maxrss_mb": 0.0, "stderr": "",
                       "problems": ["harness: %s" % e], "ok": False}
            results.append(res)
            report(res, t0)
    if not args.case or jit_cases.NAME in args.case:
        for tr in transports:
            t0 = time.monotonic()
            res = jit_cases.run_jit_case(exe, tr, workdir, EXIT_DEADLINE)
            res["ok"] = not res["problems"]
            results.append(res)
            report(res, t0)
    shutil.rmtree(workdir, ignore_errors=True)
    npass = sum(1 for r in results if r["ok"])
    nfail = len(results) - npass
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print("%d passed, %d failed" % (npass, nfail))
    return 0 if nfail == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
