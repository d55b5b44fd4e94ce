#!/usr/bin/env python3
"""End-to-end runs of llvm-jitlink-22 with a given executor.

For each object: run `llvm-jitlink-22 -oop-executor=<rusage_wrap> OBJ`
REPS times with BENCH_REAL_EXECUTOR=<executor>, check the exit status and
that stdout matches the expected output, and print (median over REPS):

    e2e_<name>_wall_ms          llvm-jitlink wall time, whole run
    e2e_<name>_exec_cpu_ms      executor user+sys CPU time
    e2e_<name>_exec_maxrss_kb   executor max RSS

(--prefix replaces "e2e"; --orc-runtime ARCHIVE runs under that ORC runtime.)

Usage: run_e2e.py --jitlink BIN --wrap RUSAGE_WRAP --executor EXE --reps N
                  [--orc-runtime ARCHIVE] [--prefix P] NAME=OBJ:EXPECTED_STDOUT_FILE ...
Exits 2 (after printing what went wrong) if any run fails.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jitlink", required=True)
    ap.add_argument("--wrap", required=True)
    ap.add_argument("--executor", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--orc-runtime", default=None,
                    help="pass -orc-runtime=ARCHIVE to llvm-jitlink")
    ap.add_argument("--prefix", default="e2e", help="metric name prefix")
    ap.add_argument("objects", nargs="+")
    a = ap.parse_args()
    for spec in a.objects:
        name, rest = spec.split("=", 1)
        obj, expected_file = rest.split(":", 1)
        with open(expected_file) as f:
            expected = f.read()
        walls, cpus, rsss = [], [], []
        for _ in range(a.reps):
            with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
                env = dict(os.environ, BENCH_REAL_EXECUTOR=a.executor,
                           BENCH_TIME_OUT=tf.name)
                t0 = time.perf_counter()
                try:
                    cmd = [a.jitlink, "-oop-executor=" + a.wrap]
                    if a.orc_runtime:
                        cmd.append("-orc-runtime=" + a.orc_runtime)
                    p = subprocess.run(cmd + [obj],
                                       env=env, capture_output=True, text=True,
                                       timeout=a.timeout)
                except subprocess.TimeoutExpired:
                    print("run_e2e: FAIL: %s timed out after %ss" % (name, a.timeout),
                          file=sys.stderr)
                    sys.exit(2)
                wall = time.perf_counter() - t0
                rec = tf.read().split()
            if p.returncode != 0 or p.stdout != expected or len(rec) != 5 or rec[4] != "0":
                print("run_e2e: FAIL: %s with %s: exit %d, executor record %r\n"
                      "stdout: %r\nexpected: %r\nstderr: %s"
                      % (name, a.executor, p.returncode, rec, p.stdout[:200],
                         expected[:200], p.stderr[-2000:]), file=sys.stderr)
                sys.exit(2)
            walls.append(wall * 1e3)
            cpus.append((float(rec[1]) + float(rec[2])) * 1e3)
            rsss.append(float(rec[3]))
        print("%s_%s_wall_ms %.6g" % (a.prefix, name, statistics.median(walls)))
        print("%s_%s_exec_cpu_ms %.6g" % (a.prefix, name, statistics.median(cpus)))
        print("%s_%s_exec_maxrss_kb %.6g" % (a.prefix, name, statistics.median(rsss)))
        sys.stdout.flush()


main()
