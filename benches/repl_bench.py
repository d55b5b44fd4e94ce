#!/usr/bin/env python3
"""A clang-repl session driven one statement at a time, with a given executor.

Runs `clang-repl-22 --oop-executor=<rusage_wrap> --orc-runtime=<archive>`
with BENCH_REAL_EXECUTOR=<executor> (rusage_wrap records the executor's CPU
time and max RSS with wait4 when it exits) and feeds it, one line per input:

    a preamble (not measured): #include <stdio.h>, #include <vector>, and
        setvbuf(stdout, nullptr, _IOLBF, 0) with a first marker;
    N measured statements, generated deterministically (a cycle of ten kinds:
        a global declaration, a function definition, a call, a function
        template defined and instantiated for long and double, a top-level
        std::vector loop, a struct with a method, a global updated through a
        call, a lambda, snprintf into a buffer, a function filling and summing
        a std::vector of 5000 ints);
    %quit.

Each measured statement ends by printing its own marker line "@<i> ...".
The JIT'd printf runs in the executor, whose stdout is the pipe we read
(inherited through clang-repl); the preamble makes it line buffered. A
statement's latency is the time from writing its line to clang-repl's stdin
to reading its marker line, and the next line is written only then. Every
marker line is checked against the value the statement must print, and
anything clang-repl reports as an error on stderr fails the run at once.

Prints, median over --reps sessions:

    repl_wall_ms          the whole session: start of clang-repl to its exit
                          and end of output (the executor has exited too)
    repl_lat_p50_ms       per-statement latency, median over N statements
    repl_lat_p99_ms       per-statement latency, 99th percentile (nearest rank)
    repl_exec_cpu_ms      executor user+sys CPU time
    repl_exec_maxrss_kb   executor max RSS

Usage: repl_bench.py --clang-repl BIN --orc-runtime ARCHIVE --wrap RUSAGE_WRAP
                     --executor EXE [--statements N] [--reps N] [--timeout S]
                     [--session-timeout S] [--print-input]
Exits 2 (after saying what went wrong on stderr) if a session fails or
times out; --print-input only prints the generated input and exits.
"""
import argparse
import math
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time

PREAMBLE = [
    "#include <stdio.h>",
    "#include <vector>",
    'setvbuf(stdout, nullptr, _IOLBF, 0); printf("@0\\n");',
]
PREAMBLE_MARKER = "@0"


def statements(n):
    """[(input line, expected marker line)] for statements 1..n.

    Statement i is kind (i - 1) % 10 of its cycle; later kinds only use names
    defined earlier in the same cycle, so any prefix is a valid session.
    """
    out = []
    g = {}  # value of global g<i>
    mul = {}  # f<i>(a) = a * mul[i] + g[i - 1]
    for i in range(1, n + 1):
        k = (i - 1) % 10
        if k == 0:
            g[i] = 3 * i + 1
            line = 'int g%d = %d * 3 + 1; printf("@%d %%d\\n", g%d);' % (i, i, i, i)
            exp = "@%d %d" % (i, g[i])
        elif k == 1:
            mul[i] = i % 7 + 2
            line = ('int f%d(int a) { return a * %d + g%d; } printf("@%d\\n");'
                    % (i, mul[i], i - 1, i))
            exp = "@%d" % i
        elif k == 2:
            line = 'printf("@%d %%d\\n", f%d(%d));' % (i, i - 1, i)
            exp = "@%d %d" % (i, i * mul[i - 1] + g[i - 2])
        elif k == 3:
            line = ('template <typename T> T tmul%d(T a, T b) { return a * b + T(%d); } '
                    'printf("@%d %%ld %%.2f\\n", tmul%d<long>(%d, 3), tmul%d<double>(1.5, 2.0));'
                    % (i, i, i, i, i, i))
            exp = "@%d %d %.2f" % (i, 4 * i, 3.0 + i)
        elif k == 4:
            line = ('std::vector<long> v%d; for (long k = 0; k < 2000; ++k) '
                    'v%d.push_back(k * %d %% 97); long s%d = 0; for (long e : v%d) s%d += e; '
                    'printf("@%d %%zu %%ld\\n", v%d.size(), s%d);'
                    % (i, i, i, i, i, i, i, i, i))
            exp = "@%d 2000 %d" % (i, sum(kk * i % 97 for kk in range(2000)))
        elif k == 5:
            line = ('struct S%d { int v; int get() const { return v * 2 + %d; } }; '
                    'printf("@%d %%d\\n", S%d{%d}.get());' % (i, i, i, i, i))
            exp = "@%d %d" % (i, 3 * i)
        elif k == 6:
            gi, fi = i - 6, i - 5
            line = 'g%d += f%d(2); printf("@%d %%d\\n", g%d);' % (gi, fi, i, gi)
            # f reads g before the store: g + (2 * mul + g).
            g[gi] = 2 * g[gi] + 2 * mul[fi]
            exp = "@%d %d" % (i, g[gi])
        elif k == 7:
            line = ('auto l%d = [](int a) { return a * a + %d; }; printf("@%d %%d\\n", l%d(%d %% 13));'
                    % (i, i, i, i, i))
            exp = "@%d %d" % (i, (i % 13) ** 2 + i)
        elif k == 8:
            line = ('char b%d[32]; snprintf(b%d, sizeof b%d, "x%%dy", %d * 7); printf("@%d %%s\\n", b%d);'
                    % (i, i, i, i, i, i))
            exp = "@%d x%dy" % (i, 7 * i)
        else:
            line = ('long vw%d(int n) { std::vector<int> v(n); for (int k = 0; k < n; ++k) '
                    'v[k] = (k * %d) %% 101; long s = 0; for (int e : v) s += e; return s; } '
                    'printf("@%d %%ld\\n", vw%d(5000));' % (i, i, i, i))
            exp = "@%d %d" % (i, sum((kk * i) % 101 for kk in range(5000)))
        out.append((line, exp))
    return out


class Failure(Exception):
    pass


class Session:
    """clang-repl with piped stdin/stdout/stderr, read without blocking."""

    def __init__(self, argv, env):
        self.t0 = time.perf_counter()
        # A process group of its own, so that a timeout can end clang-repl,
        # rusage_wrap and the executor together.
        self.p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  start_new_session=True)
        self.open = {self.p.stdout.fileno(): "out", self.p.stderr.fileno(): "err"}
        self.partial = {"out": b"", "err": b""}
        self.lines = []  # complete stdout lines not yet consumed
        self.err = b""

    def kill(self):
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait()

    def write(self, line):
        t = time.perf_counter()
        try:
            os.write(self.p.stdin.fileno(), (line + "\n").encode())
        except BrokenPipeError:
            raise Failure("clang-repl closed its stdin")
        return t

    def pump(self, deadline):
        """Reads what is available (waiting until deadline); False at EOF."""
        if not self.open:
            return False
        left = deadline - time.perf_counter()
        if left <= 0:
            return True
        ready, _, _ = select.select(list(self.open), [], [], left)
        for fd in ready:
            data = os.read(fd, 65536)
            which = self.open[fd]
            if not data:
                del self.open[fd]
                if self.partial[which]:
                    self._take(which, b"\n")
                continue
            self._take(which, data)
        return True

    def _take(self, which, data):
        if which == "err":
            self.err += data
            if b"error:" in self.err:
                time.sleep(0.2)  # let the rest of the message arrive
                try:
                    self.err += os.read(self.p.stderr.fileno(), 65536)
                except OSError:
                    pass
                raise Failure("clang-repl reported an error:\n"
                              + self.err.decode(errors="replace")[-1500:])
            return
        buf = self.partial["out"] + data
        *done, self.partial["out"] = buf.split(b"\n")
        self.lines.extend(x.decode(errors="replace") for x in done)

    def wait_marker(self, marker, deadline):
        """Returns (line, time read) of the first stdout line whose first
        word is marker; other lines (clang-repl's own) are skipped."""
        while True:
            while self.lines:
                line = self.lines.pop(0)
                if line.split(" ", 1)[0] == marker:
                    return line, time.perf_counter()
                if line.startswith("@"):
                    raise Failure("expected marker %s, got %r" % (marker, line))
            if time.perf_counter() >= deadline:
                raise Failure("no %s within the timeout" % marker)
            if not self.pump(deadline):
                raise Failure("clang-repl ended (exit %s) before %s; stderr: %s"
                              % (self.p.wait(), marker,
                                 self.err.decode(errors="replace")[-1500:]))


def one_session(a, stmts, env):
    s = Session([a.clang_repl, "--oop-executor=" + a.wrap,
                 "--orc-runtime=" + a.orc_runtime], env)
    session_deadline = s.t0 + a.session_timeout
    lat = []
    try:
        for line in PREAMBLE:
            s.write(line)
        s.wait_marker(PREAMBLE_MARKER, min(session_deadline, time.perf_counter() + a.timeout))
        for n, (line, exp) in enumerate(stmts, 1):
            t_w = s.write(line)
            got, t_r = s.wait_marker("@%d" % n, min(session_deadline, t_w + a.timeout))
            if got != exp:
                raise Failure("statement %d printed %r, expected %r\n  input: %s"
                              % (n, got, exp, line))
            lat.append(t_r - t_w)
        s.write("%quit")
        s.p.stdin.close()
        deadline = min(session_deadline, time.perf_counter() + a.timeout)
        # End of output: clang-repl, rusage_wrap and the executor all closed
        # stdout and stderr.
        while s.pump(deadline):
            if time.perf_counter() >= deadline:
                raise Failure("clang-repl or the executor did not exit after %quit")
        rc = s.p.wait(timeout=max(0.1, deadline - time.perf_counter()))
        wall = time.perf_counter() - s.t0
    except subprocess.TimeoutExpired:
        s.kill()
        raise Failure("clang-repl did not exit after %quit")
    except Failure:
        s.kill()
        raise
    extra = [x for x in s.lines if x.startswith("@")]
    if extra:
        raise Failure("unexpected marker lines after the session: %r" % extra[:5])
    if rc != 0:
        raise Failure("clang-repl exited with status %d; stderr: %s"
                      % (rc, s.err.decode(errors="replace")[-1500:]))
    return wall, lat


def percentile(vals, q):
    v = sorted(vals)
    return v[max(0, math.ceil(q * len(v)) - 1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clang-repl", default="clang-repl-22")
    ap.add_argument("--orc-runtime")
    ap.add_argument("--wrap")
    ap.add_argument("--executor")
    ap.add_argument("--statements", type=int, default=200)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60,
                    help="per statement (and for the exit after %%quit), s")
    ap.add_argument("--session-timeout", type=float, default=240)
    ap.add_argument("--print-input", action="store_true")
    a = ap.parse_args()
    stmts = statements(a.statements)
    if a.print_input:
        for line in PREAMBLE:
            print(line)
        for line, exp in stmts:
            print(line)
        print("%quit")
        return
    for opt in ("orc_runtime", "wrap", "executor"):
        if not getattr(a, opt):
            ap.error("--%s is required" % opt.replace("_", "-"))
    walls, p50s, p99s, cpus, rsss = [], [], [], [], []
    for rep in range(a.reps):
        with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
            env = dict(os.environ, BENCH_REAL_EXECUTOR=a.executor,
                       BENCH_TIME_OUT=tf.name)
            try:
                wall, lat = one_session(a, stmts, env)
            except Failure as e:
                print("repl_bench: FAIL: %s, session %d: %s" % (a.executor, rep + 1, e),
                      file=sys.stderr)
                sys.exit(2)
            rec = tf.read().split()
        if len(rec) != 5 or rec[4] != "0":
            print("repl_bench: FAIL: %s: executor record %r (want 5 fields, exit 0)"
                  % (a.executor, rec), file=sys.stderr)
            sys.exit(2)
        walls.append(wall * 1e3)
        p50s.append(statistics.median(lat) * 1e3)
        p99s.append(percentile(lat, 0.99) * 1e3)
        cpus.append((float(rec[1]) + float(rec[2])) * 1e3)
        rsss.append(float(rec[3]))
    print("repl_wall_ms %.6g" % statistics.median(walls))
    print("repl_lat_p50_ms %.6g" % statistics.median(p50s))
    print("repl_lat_p99_ms %.6g" % statistics.median(p99s))
    print("repl_exec_cpu_ms %.6g" % statistics.median(cpus))
    print("repl_exec_maxrss_kb %.6g" % statistics.median(rsss))


main()
