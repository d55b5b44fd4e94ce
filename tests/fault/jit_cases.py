"""JIT'd code must outlive its controller.

`llvm-jitlink-22` runs a real object file on the executor: its `main` sleeps
1.5 s, then writes a marker file and returns.  0.3 s after main has started
(it first writes a "started" file) the controller (llvm-jitlink) is
SIGKILLed.  The JIT'd `main` does not need the
controller any more, so the executor must let it finish (the marker file
appears) and then exit on its own, normally, soon after.

Pipe transport: llvm-jitlink starts the executor itself (`-oop-executor=`)
through a wrapper script that records the executor's pid.  The harness makes
itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so the executor,
orphaned when llvm-jitlink dies, is re-parented to us and can be reaped with
wait4 (exit status + rusage).

TCP transport: the harness starts the executor with `listen=` and points
llvm-jitlink at it with `-oop-executor-connect=`.

Python 3 stdlib only.
"""

import ctypes
import os
import signal
import subprocess
import time

NAME = "jit_main_outlives_controller"
PR_SET_CHILD_SUBREAPER = 36
SLEEP_MS = 1500
KILL_AFTER = 0.3
JITLINK = "llvm-jitlink-22"
CLANG = "clang-22"
# Extra compiler flags, e.g. "--target=aarch64-linux-gnu" when the executor
# under test runs under qemu (scripts/test-cross.sh).
CFLAGS = os.environ.get("ORC_RT_FAULT_CFLAGS", "").split()

PROG = r"""
#include <stdio.h>
#include <time.h>

int main(void) {
    FILE *s = fopen("%(marker)s.started", "w");
    if (s) fclose(s);
    struct timespec ts = { %(sec)d, %(nsec)d };
    while (nanosleep(&ts, &ts) != 0) {}
    FILE *f = fopen("%(marker)s", "w");
    if (!f) return 2;
    fputs("main finished\n", f);
    fclose(f);
    return 0;
}
"""

WRAPPER = """#!/bin/sh
echo $$ > '%(pidfile)s'
exec '%(exe)s' "$@"
"""


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def build_prog(workdir, marker):
    src = os.path.join(workdir, "sleepy.c")
    obj = os.path.join(workdir, "sleepy.o")
    with open(src, "w") as f:
        f.write(PROG % {"sec": SLEEP_MS // 1000, "nsec": (SLEEP_MS % 1000) * 1000000,
                        "marker": marker})
    subprocess.run([CLANG] + CFLAGS + ["-c", "-O1", "-o", obj, src], check=True)
    return obj


def wait_pidfile(path, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                txt = f.read().strip()
            if txt:
                return int(txt)
        except (OSError, ValueError):
            pass
        if proc.poll() is not None:
            return None
        time.sleep(0.01)
    return None


def reap(pid, timeout):
    """wait4 with a deadline; returns (exited, status, rusage, t_exit)."""
    deadline = time.monotonic() + timeout
    while True:
        got, status, ru = os.wait4(pid, os.WNOHANG)
        if got == pid:
            return True, status, ru, time.monotonic()
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            _, status, ru = os.wait4(pid, 0)
            return False, status, ru, None
        time.sleep(0.005)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, timeout=5.0):
    """Wait for a LISTEN socket on the port without connecting to it (the
    executor accepts exactly one connection): poll /proc/net/tcp."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/net/tcp") as f:
                for line in f.readlines()[1:]:
                    parts = line.split()
                    if parts[1].endswith(":%04X" % port) and parts[3] == "0A":
                        return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def run_jit_case(exe, transport, workdir, deadline):
    """Returns a result dict shaped like hostile_controller.run_case's."""
    name = NAME
    res = {"case": name, "transport": transport, "expect": 0, "problems": [],
           "time_to_exit": None, "maxrss_mb": 0.0, "stderr": ""}
    become_subreaper()
    exe = os.path.abspath(exe) if os.sep in exe else exe
    marker = os.path.join(workdir, "marker-%s" % transport)
    for m in (marker, marker + ".started"):
        if os.path.exists(m):
            os.unlink(m)
    obj = build_prog(workdir, marker)
    errpath = os.path.join(workdir, "exec-stderr-%s" % transport)
    errf = open(errpath, "w+b")
    jl_log = open(os.path.join(workdir, "jitlink-%s.log" % transport), "w+b")
    if transport == "pipe":
        pidfile = os.path.join(workdir, "exec.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        wrapper = os.path.join(workdir, "exec-wrapper.sh")
        with open(wrapper, "w") as f:
            f.write(WRAPPER % {"pidfile": pidfile, "exe": exe})
        os.chmod(wrapper, 0o755)
        # The executor inherits llvm-jitlink's stderr: capture it in errf.
        jl = subprocess.Popen([JITLINK, "-oop-executor=" + wrapper, obj],
                              stdin=subprocess.DEVNULL, stdout=jl_log, stderr=errf)
        pid = wait_pidfile(pidfile, jl)
        if pid is None:
            jl.kill()
            jl.wait()
            res["problems"].append("harness: executor never started")
            return res
    else:
        port = free_port()
        ex = subprocess.Popen([exe, "listen=127.0.0.1:%d" % port], close_fds=True,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=errf)
        pid = ex.pid
        if not wait_listening(port):
            ex.kill()
            ex.wait()
            res["problems"].append("harness: executor not listening on %d" % port)
            return res
        jl = subprocess.Popen([JITLINK, "-oop-executor-connect=127.0.0.1:%d" % port, obj],
                              stdin=subprocess.DEVNULL, stdout=jl_log, stderr=jl_log)
    started = marker + ".started"
    t_wait = time.monotonic() + 15.0
    while not os.path.exists(started) and jl.poll() is None and time.monotonic() < t_wait:
        time.sleep(0.005)
    t_start = time.monotonic()
    if not os.path.exists(started):
        res["problems"].append("harness: JIT'd main never started")
    time.sleep(KILL_AFTER)
    jl_status = jl.poll()
    jl.kill()
    t_kill = time.monotonic()
    jl.wait()
    if jl_status is not None:
        res["problems"].append("llvm-jitlink ended before the kill (status %s)" % jl_status)
    # main should end SLEEP_MS after it started (< KILL_AFTER after t_start).
    main_end = t_start + SLEEP_MS / 1000.0
    exited, status, ru, t_exit = reap(pid, (main_end - time.monotonic()) + deadline)
    if transport != "pipe":
        ex.returncode = -1
    res["marker"] = os.path.exists(marker)
    res["maxrss_mb"] = round(ru.ru_maxrss / 1024.0, 1)
    errf.seek(0)
    res["stderr"] = errf.read().decode("utf-8", "replace").strip()[:2000]
    errf.close()
    jl_log.seek(0)
    res["jitlink_output"] = jl_log.read().decode("utf-8", "replace").strip()[:1000]
    jl_log.close()
    if exited:
        # Reported relative to the kill, like the other cases; the deadline
        # is counted from the end of main.
        res["time_to_exit"] = round(t_exit - t_kill, 3)
        res["after_main_end"] = round(t_exit - main_end, 3)
    else:
        res["problems"].append("did not exit within %.1fs after main's end (killed)" % deadline)
    if exited and os.WIFSIGNALED(status):
        res["signal"] = signal.Signals(os.WTERMSIG(status)).name
        res["problems"].append("killed by %s" % res["signal"])
    elif exited:
        res["exit"] = os.WEXITSTATUS(status)
        if res["exit"] != 0:
            res["problems"].append("exit %d, expected 0" % res["exit"])
    if not res["marker"]:
        res["problems"].append("JIT'd main did not finish (no marker file)")
    if exited and res.get("after_main_end", 0) < -0.05 and res["marker"]:
        res["problems"].append("exited before main's sleep could have ended")
    return res
