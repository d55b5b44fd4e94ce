#!/usr/bin/env python3
"""Summarise scripts/bench.sh raw results into one markdown table.

Raw directory layout (written by scripts/bench.sh):
    <raw>/<round>-<who>-<what>.txt   "metric value" lines; who is ref, ours,
                                     floor or sps; a line "FAILED <msg>"
                                     marks a run that did not complete.
    <raw>/meta.txt                   "key value" lines (date, machine, ...)

For each metric: median over rounds for the reference and for ours, the
ratio ours/reference, the physical floor where one exists, the spread
(min-max over rounds) and the target (issue 14, which keeps issue 6's
where it sets none; the floors are the free-placement ones)
with a verdict.

Usage: bench_report.py RAW_DIR
"""
import glob
import os
import statistics
import sys

# name, label, unit, better ("lo"/"hi"/None), floor metric or callable,
# targets: list of (kind, factor) with kind "ref" or "floor".
METRICS = [
    ("rtt_p50_us", "wrapper call round trip p50", "us", "lo", "floor_rtt_p50_us_free",
     [("ref", 0.8), ("floor", 1.3)]),
    ("rtt_p99_us", "wrapper call round trip p99", "us", "lo", "floor_rtt_p99_us", []),
    ("rtt_p50_us", "  p50 against the single-CPU pipe floor", "us", "lo",
     "floor_rtt_p50_us_1cpu", []),
    ("rtt_exec_cpu_us_per_call", "executor CPU per sync call", "us", "lo", None, []),
    ("async1_calls_per_s", "async calls/s, 1 in flight", "1/s", "hi", None, []),
    ("async16_calls_per_s", "async calls/s, 16 in flight", "1/s", "hi", None, []),
    ("async256_calls_per_s", "async calls/s, 256 in flight", "1/s", "hi", None,
     [("ref", 2.0)]),
    ("async256_exec_cpu_us_per_call", "executor CPU per call, 256 in flight", "us", "lo",
     None, []),
    ("memmgr_cycles_per_s", "memmgr alloc+finalize+dealloc cycles/s", "1/s", "hi",
     lambda f: 1e6 / (3 * f["floor_rtt_p50_us_free"]) if "floor_rtt_p50_us_free" in f else None,
     [("ref", 1.3)]),
    ("memmgr_exec_cpu_us_per_cycle", "executor CPU per memmgr cycle", "us", "lo", None,
     [("ref", 0.5)]),
    # scripts/bench.sh's cpu1 runs: controller and executor both on CPU 0,
    # against the single-CPU floors.
    ("cpu1_rtt_p50_us", "  one CPU: round trip p50", "us", "lo", "floor_rtt_p50_us_1cpu", []),
    ("cpu1_memmgr_cycles_per_s", "  one CPU: memmgr cycles/s", "1/s", "hi",
     lambda f: 1e6 / (3 * f["floor_rtt_p50_us_1cpu"]) if "floor_rtt_p50_us_1cpu" in f else None,
     []),
    ("cpu1_memmgr_exec_cpu_us_per_cycle", "  one CPU: executor CPU per memmgr cycle", "us", "lo",
     None, []),
    ("bulk_write_MBps", "bulk write 64 MiB as 1 MiB buffers", "MB/s", "hi",
     "floor_stream_MBps_free", [("ref", 1.0), ("floor", 0.95)]),
    ("bulk_write_MBps", "  against the single-CPU pipe floor", "MB/s", "hi",
     "floor_stream_MBps_1cpu", []),
    ("bulk_exec_cpu_ms_per_GB", "executor CPU per GB of bulk writes", "ms", "lo", None, []),
    ("setup_teardown_ms", "session setup + teardown p50", "ms", "lo", "floor_spawn_ms",
     [("ref", 0.8)]),
    ("setup_only_ms", "  of which setup (spawn to Setup received)", "ms", "lo", None,
     [("ref", 0.7)]),
    ("first_call_us", "first call of a session (reserve), cold", "us", "lo", None,
     [("ref", 0.7)]),
    ("teardown_only_ms", "  of which teardown (disconnect to exit)", "ms", "lo", None, []),
    ("micro_executor_cpu_s", "executor CPU over the micro benches", "s", "lo", None, []),
    ("e2e_large_wall_ms", "e2e large object: llvm-jitlink wall", "ms", "lo", None,
     [("ref", 0.9)]),
    ("e2e_large_exec_cpu_ms", "e2e large object: executor CPU", "ms", "lo", None,
     [("ref", 0.6)]),
    ("e2e_large_exec_maxrss_kb", "e2e large object: executor max RSS", "KiB", "lo", None,
     [("ref", 0.9)]),
    # -orc-runtime on the large object (issue 12). stack_*: the reference
    # with compiler-rt's archive vs ours with our archive. plat_*: our
    # executor in both columns, compiler-rt's archive vs ours.
    ("stack_large_wall_ms", "-orc-runtime large object: wall (each with its runtime)", "ms",
     "lo", None, [("ref", 1.0)]),
    ("stack_large_exec_cpu_ms", "-orc-runtime large object: executor CPU (each with its runtime)",
     "ms", "lo", None, []),
    ("plat_large_wall_ms", "-orc-runtime large object, our executor: wall, our archive vs compiler-rt's",
     "ms", "lo", None, [("ref", 1.0)]),
    ("plat_large_exec_cpu_ms", "  executor CPU, our archive vs compiler-rt's", "ms", "lo", None,
     [("ref", 1.0)]),
    ("plat_large_exec_maxrss_kb", "  executor max RSS, our archive vs compiler-rt's", "KiB", "lo",
     None, []),
    ("e2e_hello_wall_ms", "e2e hello: llvm-jitlink wall", "ms", "lo", None, []),
    ("e2e_hello_exec_cpu_ms", "e2e hello: executor CPU", "ms", "lo", None, []),
    ("e2e_hello_exec_maxrss_kb", "e2e hello: executor max RSS", "KiB", "lo", None, []),
    # benches/repl_bench.py; {repl_statements} comes from meta.txt.
    ("repl_wall_ms", "REPL {repl_statements} statements: wall", "ms", "lo", None,
     [("ref", 1.0)]),
    ("repl_lat_p50_ms", "REPL statement latency p50", "ms", "lo", None, [("ref", 1.0)]),
    ("repl_lat_p99_ms", "REPL statement latency p99", "ms", "lo", None, [("ref", 1.0)]),
    ("repl_exec_cpu_ms", "REPL executor CPU", "ms", "lo", None, [("ref", 0.7)]),
    ("repl_exec_maxrss_kb", "REPL executor max RSS", "KiB", "lo", None, [("ref", 1.0)]),
]


def fmt(v):
    if v is None:
        return "n/a"
    if v >= 1000:
        return "%.0f" % v
    if v >= 100:
        return "%.1f" % v
    if v >= 10:
        return "%.2f" % v
    return "%.3g" % v


def spread(v):
    return "%s-%s" % (fmt(min(v)), fmt(max(v))) if v else "n/a"


def load(raw):
    data = {}  # who -> metric -> [values per round]
    failures = []
    for path in sorted(glob.glob(os.path.join(raw, "*-*-*.txt"))):
        base = os.path.basename(path)[:-4]
        rnd, who, what = base.split("-", 2)
        with open(path) as f:
            for line in f:
                parts = line.split(None, 1)
                if not parts:
                    continue
                if parts[0] == "FAILED":
                    failures.append("round %s, %s, %s: %s" % (rnd, who, what,
                                                               parts[1].strip() if len(parts) > 1 else ""))
                    continue
                try:
                    val = float(parts[1])
                except (IndexError, ValueError):
                    continue
                data.setdefault(who, {}).setdefault(parts[0], []).append(val)
    meta = {}
    mp = os.path.join(raw, "meta.txt")
    if os.path.exists(mp):
        with open(mp) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                meta[k] = v
    return data, failures, meta


def main():
    raw = sys.argv[1]
    data, failures, meta = load(raw)
    ref, ours = data.get("ref", {}), data.get("ours", {})
    floors = {k: statistics.median(v) for k, v in data.get("floor", {}).items()}
    out = []
    out.append("Date: %s. Machine: %s, %s cores. Rounds: %s (interleaved ref/ours), "
               "mode: %s." % (meta.get("date", "?"), meta.get("cpu", "?"),
                              meta.get("cores", "?"), meta.get("rounds", "?"),
                              meta.get("mode", "?")))
    out.append("Reference: `%s`. Ours: `%s`." % (meta.get("ref", "?"), meta.get("ours", "?")))
    out.append("")
    out.append("| metric | unit | reference | ours | ratio ours/ref | floor | spread ref (min-max) | spread ours (min-max) | target | met |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    met_count = [0, 0]
    for name, label, unit, better, floor_spec, targets in METRICS:
        r = ref.get(name)
        o = ours.get(name)
        rm = statistics.median(r) if r else None
        om = statistics.median(o) if o else None
        if callable(floor_spec):
            fl = floor_spec(floors)
        else:
            fl = floors.get(floor_spec) if floor_spec else None
        ratio = om / rm if (om is not None and rm) else None
        tdesc, verdicts = [], []
        for kind, factor in targets:
            base = rm if kind == "ref" else fl
            op = "<=" if better == "lo" else ">="
            tdesc.append("%s %sx %s" % (op, factor, kind))
            if om is None or base is None:
                verdicts.append("?")
                continue
            ok = om <= factor * base if better == "lo" else om >= factor * base
            verdicts.append("yes" if ok else "NO")
            met_count[0 if ok else 1] += 1
        label = label.replace("{repl_statements}", meta.get("repl_statements", "200"))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, unit, fmt(rm), fmt(om),
            ("%.2f" % ratio) if ratio is not None else "n/a",
            fmt(fl), spread(r), spread(o),
            ", ".join(tdesc) if tdesc else "-",
            " ".join(verdicts) if verdicts else "-"))
    sps_names = sorted(n for n in set(ref) | set(ours) if n.startswith("sps_"))
    for name in sps_names:
        r, o = ref.get(name), ours.get(name)
        rm = statistics.median(r) if r else None
        om = statistics.median(o) if o else None
        label = "SPS " + name[4:].replace("_encode_ns", " encode").replace("_decode_ns", " decode")
        out.append("| %s (LLVM C++ vs Rust) | ns | %s | %s | %s | n/a | %s | %s | - | - |" % (
            label, fmt(rm), fmt(om),
            ("%.2f" % (om / rm)) if (om is not None and rm) else "n/a",
            spread(r), spread(o)))
    if not sps_names:
        out.append("| SPS micro-benchmarks (benches/sps_bench*) | - | n/a | n/a | n/a | n/a | n/a | n/a | - | - |")
    out.append("")
    out.append("Targets met: %d, missed: %d (a `?` means ours produced no figure)." % tuple(met_count))
    if failures:
        out.append("")
        out.append("Failed runs:")
        for f in failures:
            out.append("- " + f)
    print("\n".join(out))


main()
