#!/usr/bin/env python3
"""wx_scan.py -- W^X check of an executor while it runs a large JIT'd program.

Generates a C program with thousands of functions, a function-pointer table
and megabytes of initialized read-only and writable data, compiles it with
clang-22 -c, and runs it with `llvm-jitlink-22 -oop-executor=<wrapper>`,
where the wrapper script records the executor's pid and execs the executor
under test.  While the program runs (its main keeps calling every function
for about WX_RUN_MS milliseconds), /proc/<pid>/maps is polled every few
milliseconds; any mapping that is both writable and executable fails the
test.

The scan is also checked for being meaningful: it must have taken samples
while JIT'd code was mapped (a new anonymous or shared-memory executable
mapping, absent from the first sample, at least as large as the generated
code), and
llvm-jitlink must exit with the program's status (42).

Usage:
  wx_scan.py [--executor PATH | --reference] [--memmgr default|simple-remote|shared ...] [--no-selftest]
             [--functions N] [--data-mb M] [--interval-ms MS]

Exit status 0 if no W+X mapping was seen in any run, 1 otherwise.
Python 3 stdlib only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REFERENCE = "llvm-jitlink-executor-22"
JITLINK = "llvm-jitlink-22"
CLANG = "clang-22"

WRAPPER = """#!/bin/sh
echo $$ > '%(pidfile)s'
exec '%(exe)s' "$@"
"""

MAPS_RE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s*(.*)$")


def gen_source(nfuncs, data_mb, run_ms):
    """C source: nfuncs distinct functions, a table of pointers to them,
    data_mb MiB of const data and data_mb/2 MiB of writable initialized data,
    and a main that exercises them for run_ms milliseconds and returns 42 if
    the results are consistent."""
    out = ["#include <stdint.h>", "#include <time.h>", ""]
    for i in range(nfuncs):
        out.append("__attribute__((noinline)) long wx_f%d(long x) "
                   "{ return (x * %d + %d) ^ (x >> %d); }" % (i, 2 * i + 3, i * 7919 % 100003, i % 13))
    out.append("long (*const wx_table[%d])(long) = {" % nfuncs)
    out.append(",".join("wx_f%d" % i for i in range(nfuncs)))
    out.append("};")
    words = data_mb * (1 << 20) // 8
    # Non-zero initializers so the data is really transferred (not .bss).
    out.append("const uint64_t wx_rodata[%d] = {" % words)
    chunk = ",".join("0x%xULL" % ((k * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF | 1)
                     for k in range(1, 513))
    for _ in range(words // 512):
        out.append(chunk + ",")
    out.append("};")
    wwords = max(512, words // 2)
    out.append("uint64_t wx_data[%d] = {" % wwords)
    for _ in range(wwords // 512):
        out.append(chunk + ",")
    out.append("};")
    out.append("""
static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(void) {
    long start = now_ms();
    long first = 0, acc = 0;
    int rounds = 0;
    do {
        acc = 0;
        for (unsigned i = 0; i < %(n)d; ++i)
            acc += wx_table[i]((long)i + (long)(wx_rodata[i * 61 %% %(w)d] & 0xff));
        for (unsigned i = 0; i < %(ww)d; i += 4096 / 8)
            wx_data[i] += 1;
        if (rounds == 0)
            first = acc;
        else if (acc != first)
            return 1;
        ++rounds;
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, 0);
    } while (now_ms() - start < %(ms)d);
    return wx_data[0] == 0x9e3779b97f4a7c15ULL + (unsigned long)rounds ? 42 : 3;
}
""" % {"n": nfuncs, "w": words, "ww": wwords, "ms": run_ms})
    return "\n".join(out) + "\n"


def parse_maps(pid):
    try:
        with open("/proc/%d/maps" % pid) as f:
            text = f.read()
    except OSError:
        return None
    maps = []
    for line in text.splitlines():
        m = MAPS_RE.match(line)
        if m:
            lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            maps.append((lo, hi, m.group(3), m.group(5).strip()))
    return maps


def run_one(exe, obj, code_bytes, memmgr, interval, workdir):
    pidfile = os.path.join(workdir, "exec.pid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    wrapper = os.path.join(workdir, "wrapper.sh")
    with open(wrapper, "w") as f:
        f.write(WRAPPER % {"pidfile": pidfile, "exe": exe})
    os.chmod(wrapper, 0o755)
    cmd = [JITLINK, "-oop-executor=" + wrapper]
    if memmgr != "default":
        cmd.append("-use-memmgr=" + memmgr)
    cmd.append(obj)
    log = tempfile.TemporaryFile(dir=workdir)
    jl = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    pid = None
    deadline = time.monotonic() + 20
    while pid is None and time.monotonic() < deadline and jl.poll() is None:
        try:
            with open(pidfile) as f:
                txt = f.read().strip()
            pid = int(txt) if txt else None
        except (OSError, ValueError):
            pass
        if pid is None:
            time.sleep(0.002)
    res = {"memmgr": memmgr, "samples": 0, "wx": [], "jit_exec_seen": 0,
           "max_exec_kb": 0}
    first_exec = None
    seen_wx = set()
    t_end = time.monotonic() + 120
    while pid is not None and jl.poll() is None and time.monotonic() < t_end:
        maps = parse_maps(pid)
        if maps is None:
            break
        res["samples"] += 1
        execs = set()
        for lo, hi, perms, path in maps:
            # JIT'd code lives in anonymous mappings (default, simple-remote
            # memory managers) or shared memory (shared); file-backed ones
            # are the executor and its libraries.
            if "x" in perms and (not path or path.startswith(("/dev/shm/", "/memfd:"))):
                execs.add((lo, hi))
            if "w" in perms and "x" in perms:
                key = (lo, hi, perms, path)
                if key not in seen_wx:
                    seen_wx.add(key)
                    res["wx"].append("%x-%x %s %s (sample %d)" % (lo, hi, perms, path or "[anon]",
                                                                  res["samples"]))
        if first_exec is None:
            first_exec = execs
        else:
            # Anonymous for the default/simple-remote memory managers, a
            # /dev/shm file for the shared one.
            new = [(lo, hi) for (lo, hi) in execs if (lo, hi) not in first_exec]
            size = sum(hi - lo for lo, hi in new)
            res["max_exec_kb"] = max(res["max_exec_kb"], size // 1024)
            if size >= code_bytes:
                res["jit_exec_seen"] += 1
        time.sleep(interval)
    try:
        rc = jl.wait(timeout=60)
    except subprocess.TimeoutExpired:
        jl.kill()
        rc = jl.wait()
    log.seek(0)
    res["jitlink_rc"] = rc
    res["jitlink_output"] = log.read().decode("utf-8", "replace").strip()[-1500:]
    log.close()
    res["pid"] = pid
    return res


def selftest():
    """The scanner must notice a W+X mapping: map one RWX page in a child
    process and look for it."""
    child = subprocess.Popen([sys.executable, "-c",
                              "import mmap, sys, time\n"
                              "m = mmap.mmap(-1, 4096, prot=7)\n"
                              "print(hex(id(m)), flush=True)\n"
                              "time.sleep(5)\n"],
                             stdout=subprocess.PIPE)
    try:
        child.stdout.readline()
        maps = parse_maps(child.pid) or []
        hits = [m for m in maps if "w" in m[2] and "x" in m[2]]
    finally:
        child.kill()
        child.wait()
    ok = bool(hits)
    print("%s wx selftest: scanner %s an RWX page mapped by a test process"
          % ("PASS" if ok else "FAIL", "found" if ok else "did NOT find"))
    return ok


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--executor", help="executor binary (default target/debug/orc-rt-executor)")
    ap.add_argument("--reference", action="store_true", help="use %s" % REFERENCE)
    ap.add_argument("--memmgr", action="append",
                    choices=["default", "simple-remote", "shared"],
                    help="llvm-jitlink memory manager(s) (default: all three)")
    ap.add_argument("--functions", type=int, default=4000)
    ap.add_argument("--data-mb", type=int, default=4)
    ap.add_argument("--run-ms", type=int, default=1500)
    ap.add_argument("--interval-ms", type=float, default=3.0)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--no-selftest", action="store_true",
                    help="skip checking that the scanner detects an RWX page")
    args = ap.parse_args(argv[1:])

    exe = REFERENCE if args.reference else args.executor
    if exe is None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        exe = os.path.join(root, "target", "debug", "orc-rt-executor")
    if os.sep in exe:
        exe = os.path.abspath(exe)
    else:
        exe = shutil.which(exe) or exe
    memmgrs = args.memmgr or ["default", "simple-remote", "shared"]
    selftest_failed = 0 if args.no_selftest or selftest() else 1

    workdir = tempfile.mkdtemp(prefix="wx-")
    try:
        src = os.path.join(workdir, "large.c")
        obj = os.path.join(workdir, "large.o")
        with open(src, "w") as f:
            f.write(gen_source(args.functions, args.data_mb, args.run_ms))
        t0 = time.monotonic()
        subprocess.run([CLANG, "-c", "-O1", "-fno-inline", "-o", obj, src], check=True)
        # Size of .text, to recognize the JIT'd code mapping in the samples.
        sz = subprocess.run(["llvm-size-22", "-A", obj], capture_output=True, text=True)
        code_bytes = 0
        for line in sz.stdout.splitlines():
            parts = line.split()
            if parts and parts[0] == ".text" and len(parts) >= 2:
                code_bytes = int(parts[1])
        print("executor: %s" % exe)
        print("object: %d functions, %d MiB const data, %.1f MiB file, .text %d KiB "
              "(built in %.1fs)" % (args.functions, args.data_mb,
                                    os.path.getsize(obj) / 1048576.0, code_bytes // 1024,
                                    time.monotonic() - t0))
        failed = 0
        for mm in memmgrs:
            res = run_one(exe, obj, code_bytes, mm, args.interval_ms / 1000.0, workdir)
            problems = []
            if res["pid"] is None:
                problems.append("executor never started")
            if res["wx"]:
                problems.append("%d W+X mapping(s): %s" % (len(res["wx"]), "; ".join(res["wx"][:5])))
            if res["jitlink_rc"] != 42:
                problems.append("llvm-jitlink exit %s, expected 42" % res["jitlink_rc"])
            if res["jit_exec_seen"] == 0:
                problems.append("never saw the JIT'd code mapped executable (scan not meaningful)")
            ok = not problems
            failed += 0 if ok else 1
            print("%s wx memmgr=%-13s samples=%d with-jit-code=%d max-new-exec=%dKiB W+X=%d rc=%s%s"
                  % ("PASS" if ok else "FAIL", mm, res["samples"], res["jit_exec_seen"],
                     res["max_exec_kb"], len(res["wx"]), res["jitlink_rc"],
                     "" if ok else "  -- " + "; ".join(problems)))
            if not ok and res["jitlink_output"]:
                print("       llvm-jitlink output: " + res["jitlink_output"].replace("\n", "\n       | "))
        failed += selftest_failed
        total = len(memmgrs) + (0 if args.no_selftest else 1)
        print("%d passed, %d failed" % (total - failed, failed))
        return 0 if failed == 0 else 1
    finally:
        if args.keep:
            print("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
