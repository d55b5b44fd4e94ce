#!/usr/bin/env python3
"""Builds the seed corpora under fuzz/seeds/<target>/ from real traffic.

Input: raw SimpleRemoteEPC captures (fuzz/captures/*.bin) written by
shared/tools/epc-trace-proxy.py with EPC_TRACE_RAW, between llvm-jitlink-22
and an executor (see tests/FUZZING.md for the commands).  Format:
b"EPCTRACE1\\n", then records of u8 direction (0 = controller->executor),
f64 time, u64 length, <length> bytes = one whole frame.

Outputs (small files, deterministic names):
  sps_bootstrap_args/  selector byte + argument bytes of every call whose
                       callee is a bootstrap symbol, of the allocation
                       actions inside initialize requests, of the results
                       the executor sent, and of the Setup payload;
  frame_parse/         2 control bytes + the frames of each direction;
  message_path/        each capture's controller->executor frames, with tags
                       and addresses rewritten to the harness's conventions
                       (see fuzz_targets/message_path.rs), plus hand-made
                       protocol-error cases.

Usage: fuzz/gen_seeds.py [capture.bin ...]   (default: fuzz/captures/*.bin)
"""

import glob
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "seeds")

SETUP, HANGUP, RESULT, CALL = 0, 1, 2, 3

# Selector bytes of fuzz_targets/sps_bootstrap_args.rs.
ARG_SELECTOR = {
    "__llvm_orc_SimpleExecutorDylibManager_open_wrapper": 0,
    "__llvm_orc_SimpleExecutorDylibManager_resolve_wrapper": 1,
    "__llvm_orc_SimpleExecutorMemoryManager_reserve_wrapper": 2,
    "__llvm_orc_ExecutorSharedMemoryMapperService_Reserve": 2,
    "__llvm_orc_SimpleExecutorMemoryManager_initialize_wrapper": 3,
    "__llvm_orc_SimpleExecutorMemoryManager_deinitialize_wrapper": 4,
    "__llvm_orc_SimpleExecutorMemoryManager_release_wrapper": 4,
    "__llvm_orc_ExecutorSharedMemoryMapperService_Deinitialize": 4,
    "__llvm_orc_ExecutorSharedMemoryMapperService_Release": 4,
    "__llvm_orc_ExecutorSharedMemoryMapperService_Initialize": 5,
    "llvm_orc_registerEHFrameAllocAction": 6,
    "llvm_orc_deregisterEHFrameAllocAction": 6,
    "llvm_orc_registerJITLoaderGDBAllocAction": 7,
    "__llvm_orc_bootstrap_run_as_main_wrapper": 8,
    "__llvm_orc_bootstrap_run_as_void_function_wrapper": 9,
    "__llvm_orc_bootstrap_run_as_int_function_wrapper": 10,
    "__llvm_orc_bootstrap_mem_write_uint8s_wrapper": 11,
    "__llvm_orc_bootstrap_mem_write_uint16s_wrapper": 12,
    "__llvm_orc_bootstrap_mem_write_uint32s_wrapper": 13,
    "__llvm_orc_bootstrap_mem_write_uint64s_wrapper": 14,
    "__llvm_orc_bootstrap_mem_write_pointers_wrapper": 15,
    "__llvm_orc_bootstrap_mem_write_buffers_wrapper": 16,
    "__llvm_orc_bootstrap_mem_read_uint8s_wrapper": 17,
    "__llvm_orc_bootstrap_mem_read_uint16s_wrapper": 17,
    "__llvm_orc_bootstrap_mem_read_uint32s_wrapper": 17,
    "__llvm_orc_bootstrap_mem_read_uint64s_wrapper": 17,
    "__llvm_orc_bootstrap_mem_read_pointers_wrapper": 17,
    "__llvm_orc_bootstrap_mem_read_strings_wrapper": 17,
    "__llvm_orc_bootstrap_mem_read_buffers_wrapper": 18,
}
# Selectors of result types, by callee.
RESULT_SELECTOR = {
    "__llvm_orc_SimpleExecutorDylibManager_open_wrapper": 27,
    "__llvm_orc_SimpleExecutorMemoryManager_reserve_wrapper": 27,
    "__llvm_orc_SimpleExecutorMemoryManager_initialize_wrapper": 27,
    "__llvm_orc_ExecutorSharedMemoryMapperService_Initialize": 27,
    "__llvm_orc_SimpleExecutorDylibManager_resolve_wrapper": 28,
    "__llvm_orc_ExecutorSharedMemoryMapperService_Reserve": 29,
    "__llvm_orc_SimpleExecutorMemoryManager_deinitialize_wrapper": 21,
    "__llvm_orc_SimpleExecutorMemoryManager_release_wrapper": 21,
    "__llvm_orc_ExecutorSharedMemoryMapperService_Deinitialize": 21,
    "__llvm_orc_ExecutorSharedMemoryMapperService_Release": 21,
    "__llvm_orc_bootstrap_run_as_main_wrapper": 31,
}
SEL_SETUP = 22
SEL_WFC = 23
SEL_ACTIONS = 24

# Tag indices of fuzz_targets/message_path.rs (tag = index + 1).
CALLABLE = [
    "__llvm_orc_SimpleExecutorDylibManager_open_wrapper",
    "__llvm_orc_SimpleExecutorDylibManager_resolve_wrapper",
    "__llvm_orc_SimpleExecutorMemoryManager_reserve_wrapper",
    "__llvm_orc_SimpleExecutorMemoryManager_initialize_wrapper",
    "__llvm_orc_SimpleExecutorMemoryManager_deinitialize_wrapper",
    "__llvm_orc_SimpleExecutorMemoryManager_release_wrapper",
    "__llvm_orc_ExecutorSharedMemoryMapperService_Reserve",
    "__llvm_orc_ExecutorSharedMemoryMapperService_Initialize",
    "__llvm_orc_ExecutorSharedMemoryMapperService_Deinitialize",
    "__llvm_orc_ExecutorSharedMemoryMapperService_Release",
]


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, n):
        if self.p + n > len(self.b):
            raise ValueError("short")
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def bytes(self):
        return self.take(self.u64())

    def done(self):
        return self.p == len(self.b)


def u64(v):
    return struct.pack("<Q", v)


def sbytes(b):
    return u64(len(b)) + b


def frame(opc, seq, tag, payload):
    return u64(32 + len(payload)) + u64(opc) + u64(seq) + u64(tag) + payload


def read_capture(path):
    data = open(path, "rb").read()
    if not data.startswith(b"EPCTRACE1\n"):
        raise SystemExit(f"{path}: not an EPC_TRACE_RAW capture")
    r = Reader(data[10:])
    out = []
    while not r.done():
        d = r.u8()
        r.take(8)
        msg = r.take(r.u64())
        opc, seq, tag = struct.unpack("<QQQ", msg[8:32])
        out.append((d, opc, seq, tag, msg[32:]))
    return out


def parse_setup(payload):
    r = Reader(payload)
    r.bytes()  # triple
    r.u64()  # page size
    for _ in range(r.u64()):
        r.bytes()
        r.bytes()
    syms = {}
    for _ in range(r.u64()):
        name = r.bytes().decode()
        syms[r.u64()] = name
    return syms


def parse_actions(r):
    acts = []
    for _ in range(r.u64()):
        pair = []
        for _ in range(2):
            fn = r.u64()
            pair.append((fn, r.bytes()))
        acts.append(pair)
    return acts


def enc_actions(acts):
    out = u64(len(acts))
    for pair in acts:
        for fn, args in pair:
            out += u64(fn) + sbytes(args)
    return out


def rel(a, base):
    if base is not None and base <= a < base + (1 << 32):
        return a - base
    return a


def rewrite_call(name, args, st):
    """Rewrites a captured call's arguments to the harness conventions."""
    r = Reader(args)
    if name.endswith("open_wrapper"):
        r.u64()
        path = r.bytes()
        return u64(0) + sbytes(path) + u64(r.u64())
    if name.endswith("resolve_wrapper"):
        r.u64()
        return u64(1) + args[8:]
    if name.endswith(("reserve_wrapper", "_Reserve")):
        r.u64()
        return u64(0) + u64(min(r.u64(), 1 << 20))
    if name.endswith("initialize_wrapper") and "Memory" in name and "deinit" not in name:
        r.u64()
        segs = []
        for _ in range(r.u64()):
            rag = r.u8()
            addr = rel(r.u64(), st["native"])
            size = r.u64()
            segs.append(bytes([rag]) + u64(addr) + u64(size) + sbytes(r.bytes()))
        acts = [[(0, a) for _, a in pair] for pair in parse_actions(r)]
        return u64(0) + u64(len(segs)) + b"".join(segs) + enc_actions(acts)
    if name.endswith("_Initialize"):
        r.u64()
        res = rel(r.u64(), st["shm"])
        segs = []
        for _ in range(r.u64()):
            rag = r.u8()
            addr = rel(r.u64(), st["shm"])
            segs.append(bytes([rag]) + u64(addr) + u64(r.u64()))
        acts = [[(0, a) for _, a in pair] for pair in parse_actions(r)]
        return u64(0) + u64(res) + u64(len(segs)) + b"".join(segs) + enc_actions(acts)
    # deinitialize / release, both services.
    r.u64()
    base = st["shm"] if "Shared" in name else st["native"]
    keys = [rel(r.u64(), base) for _ in range(r.u64())]
    return u64(0) + u64(len(keys)) + b"".join(u64(k) for k in keys)


def action_seeds(name, args, syms, add):
    """Allocation actions inside an initialize request."""
    r = Reader(args)
    r.u64()
    if "Shared" in name:
        r.u64()
        for _ in range(r.u64()):
            r.take(17)
    else:
        for _ in range(r.u64()):
            r.take(17)
            r.bytes()
    start = r.p
    acts = parse_actions(r)
    add(SEL_ACTIONS, args[start:])
    for pair in acts:
        for fn, a in pair:
            add(SEL_WFC, u64(fn) + sbytes(a))
            callee = syms.get(fn)
            if callee in ARG_SELECTOR:
                add(ARG_SELECTOR[callee], a)


def main():
    caps = sys.argv[1:] or sorted(glob.glob(os.path.join(HERE, "captures", "*.bin")))
    seeds = {"sps_bootstrap_args": {}, "frame_parse": {}, "message_path": {}}

    def put(target, data):
        key = hashlib.sha1(data).hexdigest()[:16]
        seeds[target][key] = data

    def add_arg(sel, data):
        put("sps_bootstrap_args", bytes([sel]) + data)

    for path in caps:
        msgs = read_capture(path)
        syms = {}
        pending = {}
        st = {"native": None, "shm": None}
        session = b""
        streams = {0: b"", 1: b""}
        for d, opc, seq, tag, payload in msgs:
            streams[d] += frame(opc, seq, tag, payload)
            if d == 1 and opc == SETUP:
                syms = parse_setup(payload)
                add_arg(SEL_SETUP, payload)
            elif d == 0 and opc == CALL:
                name = syms.get(tag)
                pending[seq] = name
                if name in ARG_SELECTOR:
                    add_arg(ARG_SELECTOR[name], payload)
                if name and "nitialize" in name and "einit" not in name:
                    action_seeds(name, payload, syms, add_arg)
                if name in CALLABLE:
                    args = rewrite_call(name, payload, st)
                    session += frame(CALL, seq, CALLABLE.index(name) + 1, args)
            elif d == 1 and opc == RESULT:
                name = pending.pop(seq, None)
                if name in RESULT_SELECTOR:
                    add_arg(RESULT_SELECTOR[name], payload)
                if payload[:1] == b"\x01" and len(payload) >= 9:
                    base = struct.unpack("<Q", payload[1:9])[0]
                    if name == CALLABLE[2]:
                        st["native"] = base
                    elif name == CALLABLE[6]:
                        st["shm"] = base
            elif d == 0 and opc == HANGUP:
                session += frame(HANGUP, seq, 0, payload)
        put("message_path", session)
        for d, s in streams.items():
            # Chunk size 0x10 (17 bytes per read), an Interrupted every 3rd.
            put("frame_parse", bytes([0x10, 3]) + s[:16384])

    # Hand-made protocol cases for the message path.
    call = lambda seq, tag, p: frame(CALL, seq, tag, p)
    reserve = u64(0) + u64(0x4000)
    init = (u64(0) + u64(1) + bytes([3]) + u64(0x1000) + u64(0x100) + sbytes(b"\xcc" * 16)
            + enc_actions([[(1, u64(0) + u64(1) + u64(0)), (0, b"")]]))
    cases = [
        call(0, 0, b""),  # tag 0: refused
        call(1, 3, reserve) + call(2, 4, init) + call(3, 5, u64(0) + u64(1) + u64(0x1000))
        + call(4, 6, u64(0) + u64(1) + u64(0)),
        call(1, 7, reserve) + call(2, 8, u64(0) + u64(0) + u64(1) + bytes([5]) + u64(0)
                                    + u64(0x1000) + u64(0)),
        call(1, 1, u64(0) + sbytes(b"") + u64(0))
        + call(2, 2, u64(1) + u64(2) + sbytes(b"printf") + b"\x01" + sbytes(b"nope") + b"\x00"),
        frame(RESULT, 9, 0, b""),  # stray Result
        frame(SETUP, 0, 0, b""),  # Setup from the controller
        frame(7, 0, 0, b"x"),  # unknown opcode
        u64(16) + u64(CALL) + u64(0) + u64(0),  # size too small
        call(5, 3, b"\x01\x02"),  # undecodable arguments
        frame(HANGUP, 0, 0, b"\x01" + sbytes(b"bye")),
        call(5, 3, reserve)[:40],  # truncated
    ]
    for c in cases:
        put("message_path", c)
    for c in cases:
        put("frame_parse", bytes([0x3f, 0]) + c)

    for target, files in seeds.items():
        d = os.path.join(SEEDS, target)
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):
            os.remove(os.path.join(d, old))
        for key, data in sorted(files.items()):
            with open(os.path.join(d, key), "wb") as f:
                f.write(data)
        print(f"{target}: {len(files)} seeds, {sum(map(len, files.values()))} bytes")


if __name__ == "__main__":
    main()
