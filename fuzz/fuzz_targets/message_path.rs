//! The whole incoming-message path: an arbitrary byte stream, cut into
//! frames, is fed through a pipe to a real `SimpleRemoteEpcControllerAccess`
//! attached to a Session with the bootstrap services; the executor's
//! output is read back from a second pipe. Every input must end in a
//! detach and a clean shutdown, without a crash or a hang.
//!
//! CallWrapper frames call executor code *by address* (that is the
//! protocol), and some bootstrap wrappers write/read arbitrary memory or
//! run code by design (`mem_write_*`, `mem_read_*`, `run_as_*`, eh-frame
//! and GDB registration, allocation actions). The harness therefore acts as
//! a well-behaved-but-random controller:
//!
//! - a non-zero tag `t` becomes the address of `CALLABLE[(t - 1) % N]`
//!   (tag 0 stays 0, the executor must refuse it);
//! - instance fields below 2^32 become the real instance address;
//!   addresses below 2^32 in memory-manager / shared-memory arguments
//!   become offsets from the last reservation the executor returned (dylib
//!   handles: the last handle `open` returned); reserve sizes are capped at
//!   1 MiB; a non-empty `open` path is put under a directory that does not
//!   exist;
//! - allocation actions with a non-zero address call one of
//!   `ACTION_SAFE` (memory deinitialize/release, dylib resolve), whose
//!   arguments are patched the same way.
//!
//! Arguments that do not decode as their wrapper's type are sent as they
//! are (the executor must refuse them). Frames that are not CallWrappers,
//! and the bytes after the last whole frame, are sent unchanged.

#![no_main]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::sync::{Arc, Once};

use libfuzzer_sys::fuzz_target;
use orc_rt::session::Session;
use orc_rt::simple_remote_epc::frame::read_frame_buffer;
use orc_rt::simple_remote_epc::{FrameHeader, Opcode, SimpleRemoteEpcControllerAccess, Transport};
use orc_rt::sps::orc_types::{
    AllocActionCallPair, FinalizeRequest, RemoteSymbolLookupSetElement,
    SharedMemoryFinalizeRequest, WrapperFunctionCall,
};
use orc_rt::sps::{deserialize_all, serialize_to_vec, SpsExpected};
use orc_rt::sps_ci::bootstrap::BootstrapServices;
use orc_rt::sps_ci::{dylib, memory, shared_memory};
use orc_rt::task_dispatcher::InPlaceTaskDispatcher;
use orc_rt::ExecutorAddr;

/// Wrappers a CallWrapper frame may reach (tag `i + 1`).
const CALLABLE: [&str; 10] = [
    dylib::OPEN_NAME,
    dylib::RESOLVE_NAME,
    memory::RESERVE_NAME,
    memory::INITIALIZE_NAME,
    memory::DEINITIALIZE_NAME,
    memory::RELEASE_NAME,
    shared_memory::RESERVE_NAME,
    shared_memory::INITIALIZE_NAME,
    shared_memory::DEINITIALIZE_NAME,
    shared_memory::RELEASE_NAME,
];

/// Wrappers an allocation action may call: none of them runs code or
/// touches memory outside the services' own bookkeeping.
const ACTION_SAFE: [&str; 5] = [
    memory::DEINITIALIZE_NAME,
    memory::RELEASE_NAME,
    shared_memory::DEINITIALIZE_NAME,
    shared_memory::RELEASE_NAME,
    dylib::RESOLVE_NAME,
];

/// Values below this are rewritten (instances, addresses, handles).
const SMALL: u64 = 1 << 32;
/// Largest reservation the harness lets through.
const MAX_RESERVE: u64 = 1 << 20;

/// What the harness knows about the executor it drives.
struct Ctx {
    symbols: Vec<(String, ExecutorAddr)>,
    native_base: Option<u64>,
    shm_base: Option<u64>,
    dylib_handle: Option<u64>,
    debug: bool,
}

impl Ctx {
    fn sym(&self, name: &str) -> u64 {
        self.symbols
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.0)
            .unwrap_or_else(|| panic!("bootstrap symbol {name} missing"))
    }
    fn inst(&self, v: ExecutorAddr, name: &str) -> ExecutorAddr {
        if v.0 < SMALL {
            ExecutorAddr(self.sym(name))
        } else {
            v
        }
    }
    fn native(&self, a: ExecutorAddr) -> ExecutorAddr {
        rel(a, self.native_base)
    }
    fn shm(&self, a: ExecutorAddr) -> ExecutorAddr {
        rel(a, self.shm_base)
    }
}

fn rel(a: ExecutorAddr, base: Option<u64>) -> ExecutorAddr {
    match base {
        Some(b) if a.0 < SMALL => ExecutorAddr(b.wrapping_add(a.0)),
        _ => a,
    }
}

fn cap(size: u64) -> u64 {
    size.min(MAX_RESERVE)
}

fn patch_actions(actions: Vec<AllocActionCallPair>, ctx: &Ctx) -> Vec<AllocActionCallPair> {
    let call = |c: WrapperFunctionCall| {
        if c.fn_addr.0 == 0 {
            return c;
        }
        let name = ACTION_SAFE[((c.fn_addr.0 - 1) % ACTION_SAFE.len() as u64) as usize];
        WrapperFunctionCall {
            fn_addr: ExecutorAddr(ctx.sym(name)),
            args: patch_args(name, &c.args, ctx),
        }
    };
    actions
        .into_iter()
        .map(|p| AllocActionCallPair {
            finalize: call(p.finalize),
            dealloc: call(p.dealloc),
        })
        .collect()
}

/// Rewrites the arguments of a call to `name` (see the module docs).
fn patch_args(name: &str, args: &[u8], ctx: &Ctx) -> Vec<u8> {
    type Keys = (ExecutorAddr, Vec<ExecutorAddr>);
    let patched = match name {
        n if n == dylib::OPEN_NAME => {
            deserialize_all::<(ExecutorAddr, Vec<u8>, u64)>(args).map(|(i, p, m)| {
                let p = if p.is_empty() {
                    p
                } else {
                    [&b"/nonexistent/orc-rt-fuzz/"[..], &p].concat()
                };
                serialize_to_vec(&(ctx.inst(i, dylib::INSTANCE_NAME), p, m))
            })
        }
        n if n == dylib::RESOLVE_NAME => {
            deserialize_all::<(ExecutorAddr, Vec<RemoteSymbolLookupSetElement>)>(args).map(
                |(h, syms)| {
                    let h = match ctx.dylib_handle {
                        Some(known) if h.0 < SMALL => ExecutorAddr(known),
                        _ => h,
                    };
                    serialize_to_vec(&(h, syms))
                },
            )
        }
        n if n == memory::RESERVE_NAME => deserialize_all::<(ExecutorAddr, u64)>(args)
            .map(|(i, s)| serialize_to_vec(&(ctx.inst(i, memory::INSTANCE_NAME), cap(s)))),
        n if n == shared_memory::RESERVE_NAME => deserialize_all::<(ExecutorAddr, u64)>(args)
            .map(|(i, s)| serialize_to_vec(&(ctx.inst(i, shared_memory::INSTANCE_NAME), cap(s)))),
        n if n == memory::INITIALIZE_NAME => {
            let owned = deserialize_all::<(ExecutorAddr, FinalizeRequest)>(args);
            // The executor decodes in place: it must refuse what the owned
            // decoder refuses, or unpatched actions could run.
            assert_eq!(
                owned.is_ok(),
                memory::decode_initialize_args(args).is_ok(),
                "initialize decoders disagree"
            );
            owned.map(|(i, mut req)| {
                for s in &mut req.segments {
                    s.addr = ctx.native(s.addr);
                }
                req.actions = patch_actions(req.actions, ctx);
                if ctx.debug {
                    for s in &req.segments {
                        eprintln!(
                            "message_path:   segment rag={:#x} addr={:#x} size={:#x} content={}",
                            s.rag.bits(),
                            s.addr.0,
                            s.size,
                            s.content.len()
                        );
                    }
                }
                serialize_to_vec(&(ctx.inst(i, memory::INSTANCE_NAME), req))
            })
        }
        n if n == shared_memory::INITIALIZE_NAME => {
            deserialize_all::<(ExecutorAddr, ExecutorAddr, SharedMemoryFinalizeRequest)>(args).map(
                |(i, r, mut req)| {
                    for s in &mut req.segments {
                        s.addr = ctx.shm(s.addr);
                    }
                    req.actions = patch_actions(req.actions, ctx);
                    serialize_to_vec(&(ctx.inst(i, shared_memory::INSTANCE_NAME), ctx.shm(r), req))
                },
            )
        }
        n if n == memory::DEINITIALIZE_NAME || n == memory::RELEASE_NAME => {
            deserialize_all::<Keys>(args).map(|(i, keys)| {
                let keys: Vec<_> = keys.into_iter().map(|k| ctx.native(k)).collect();
                serialize_to_vec(&(ctx.inst(i, memory::INSTANCE_NAME), keys))
            })
        }
        n if n == shared_memory::DEINITIALIZE_NAME || n == shared_memory::RELEASE_NAME => {
            deserialize_all::<Keys>(args).map(|(i, keys)| {
                let keys: Vec<_> = keys.into_iter().map(|k| ctx.shm(k)).collect();
                serialize_to_vec(&(ctx.inst(i, shared_memory::INSTANCE_NAME), keys))
            })
        }
        other => panic!("no patch rule for {other}"),
    };
    patched.unwrap_or_else(|_| args.to_vec())
}

/// Learns reservation bases and dylib handles from a call's result.
fn learn(name: &str, result: &[u8], ctx: &mut Ctx) {
    if name == memory::RESERVE_NAME {
        if let Ok(SpsExpected(Ok(a))) = deserialize_all::<SpsExpected<ExecutorAddr>>(result) {
            ctx.native_base = Some(a.0);
        }
    } else if name == shared_memory::RESERVE_NAME {
        if let Ok(SpsExpected(Ok((a, _)))) =
            deserialize_all::<SpsExpected<(ExecutorAddr, String)>>(result)
        {
            ctx.shm_base = Some(a.0);
        }
    } else if name == dylib::OPEN_NAME {
        if let Ok(SpsExpected(Ok(h))) = deserialize_all::<SpsExpected<ExecutorAddr>>(result) {
            ctx.dylib_handle = Some(h.0);
        }
    }
}

fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2 failed: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nobody else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    (File::from(r), File::from(w))
}

/// Removes the POSIX shared memory objects this process created (the
/// executor leaves them for the controller, which is the harness here).
fn remove_shm_objects() {
    let prefix = format!("jitlink_{}_", std::process::id());
    if let Ok(dir) = std::fs::read_dir("/dev/shm") {
        for e in dir.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

fn run(input: &[u8]) {
    let (exec_in, mut to_exec) = pipe();
    let (mut from_exec, exec_out) = pipe();
    // SAFETY: both descriptors are fresh and handed over to the transport.
    let transport =
        unsafe { Transport::from_raw_fds(exec_in.into_raw_fd(), exec_out.into_raw_fd()) }
            .expect("transport over pipes");
    let session = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
    // Protocol errors are expected here; printing each one would slow the
    // fuzzer down. ORC_RT_FUZZ_DEBUG=1 shows them.
    if std::env::var_os("ORC_RT_FUZZ_DEBUG").is_none() {
        session.set_error_reporter(Box::new(|_| {}));
    }
    let services = BootstrapServices::create();
    session
        .add_service(services.dylib.clone())
        .expect("add dylib");
    session
        .add_service(services.memory.clone())
        .expect("add memory");
    session
        .add_service(services.shared_memory.clone())
        .expect("add shared memory");
    let symbols = services.symbols();
    drop(services);
    let ca = SimpleRemoteEpcControllerAccess::new(transport, symbols.clone()).expect("access");
    session.attach(ca.clone()).expect("attach");

    let setup = read_frame_buffer(&mut from_exec)
        .expect("read Setup")
        .expect("Setup frame");
    assert_eq!(setup.header.opcode, Opcode::Setup.to_u64());

    let mut ctx = Ctx {
        symbols: symbols.into_iter().map(|s| (s.name, s.addr)).collect(),
        native_base: None,
        shm_base: None,
        dylib_handle: None,
        // ORC_RT_FUZZ_DEBUG=1 prints each call and its result.
        debug: std::env::var_os("ORC_RT_FUZZ_DEBUG").is_some(),
    };
    let mut rest = input;
    loop {
        let mut cur = rest;
        let frame = match read_frame_buffer(&mut cur) {
            Ok(Some(f)) => f,
            _ => {
                // Not a whole, sane frame: send the rest as it is.
                let _ = to_exec.write_all(rest);
                break;
            }
        };
        rest = cur;
        let h = frame.header;
        let args = frame.payload.as_slice().expect("an in-band payload");
        let mut callee = None;
        let (tag, payload) = if h.opcode == Opcode::CallWrapper.to_u64() && h.tag != 0 {
            let name = CALLABLE[((h.tag - 1) % CALLABLE.len() as u64) as usize];
            callee = Some(name);
            (ctx.sym(name), patch_args(name, args, &ctx))
        } else {
            (h.tag, args.to_vec())
        };
        let header = FrameHeader {
            size: 32 + payload.len() as u64,
            opcode: h.opcode,
            seqno: h.seqno,
            tag,
        };
        let mut bytes = header.encode().to_vec();
        bytes.extend_from_slice(&payload);
        if to_exec.write_all(&bytes).is_err() {
            break; // the executor has stopped reading
        }
        if h.opcode == Opcode::CallWrapper.to_u64() {
            match read_frame_buffer(&mut from_exec) {
                Ok(Some(r)) => {
                    assert_eq!(
                        r.header.opcode,
                        Opcode::Result.to_u64(),
                        "expected a Result"
                    );
                    assert_eq!(r.header.seqno, h.seqno, "Result for the wrong call");
                    if let Some(name) = callee {
                        let result = r.payload.as_slice().expect("an in-band Result payload");
                        if ctx.debug {
                            let msg = String::from_utf8_lossy(result);
                            eprintln!("message_path: {name} -> {msg:?}");
                        }
                        learn(name, result, &mut ctx);
                    }
                }
                // The session ended (the executor closed its side).
                Ok(None) => break,
                Err(e) => panic!("bad frame from the executor: {e}"),
            }
        }
    }
    drop(to_exec);
    let mut tail = Vec::new();
    let _ = from_exec.read_to_end(&mut tail);
    session.wait_for_detach();
    assert!(ca.is_disconnected());
    session.shutdown(None);
    session.wait_for_shutdown();
    remove_shm_objects();
}

fuzz_target!(|input: &[u8]| {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // libFuzzer's main is not Rust's: ignore SIGPIPE as Rust does, so a
        // write to an executor that stopped reading is an error, not a kill.
        // SAFETY: setting a signal disposition to SIG_IGN.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    });
    run(input);
});
