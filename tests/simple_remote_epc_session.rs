//! SimpleRemoteEPC attached to a real Session, driven by a fake controller
//! on a socketpair: calls by address with LLVM 22's synchronous ABI,
//! results out of order, executor→controller calls through the Session,
//! and detach on EOF / Hangup.

use std::io::{Read, Write};
use std::os::fd::IntoRawFd;
use std::os::raw::c_char;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orc_rt::session::Session;
use orc_rt::simple_remote_epc::{SimpleRemoteEpcControllerAccess, Transport};
use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
use orc_rt::wrapper_function::orc_rt_WrapperFunctionBuffer;
use orc_rt::{ExecutorAddr, WrapperFunctionBuffer};

const RESULT: u64 = 2;
const CALL: u64 = 3;
const HANGUP: u64 = 1;

fn frame(opc: u64, seq: u64, tag: u64, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [32 + payload.len() as u64, opc, seq, tag] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(payload);
    v
}

fn read_frame(s: &mut UnixStream) -> Option<(u64, u64, u64, Vec<u8>)> {
    let mut h = [0u8; 32];
    if let Err(e) = s.read_exact(&mut h) {
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        return None;
    }
    let f = |i: usize| u64::from_le_bytes(h[i * 8..i * 8 + 8].try_into().unwrap());
    let mut p = vec![0u8; (f(0) - 32) as usize];
    s.read_exact(&mut p).unwrap();
    Some((f(1), f(2), f(3), p))
}

/// Reverses its argument bytes.
unsafe extern "C" fn reverse_wrapper(
    data: *const c_char,
    size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    // SAFETY: the executor lends `size` bytes at `data` for the call.
    let args = unsafe { std::slice::from_raw_parts(data as *const u8, size) };
    let mut v = args.to_vec();
    v.reverse();
    WrapperFunctionBuffer::from_slice(&v).into_raw()
}

/// Blocks until the test lets it go, then returns "slow".
static GATE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

unsafe extern "C" fn gated_wrapper(_: *const c_char, _: usize) -> orc_rt_WrapperFunctionBuffer {
    let rx = GATE.lock().unwrap().take().expect("gate armed");
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    WrapperFunctionBuffer::from_slice(b"slow").into_raw()
}

/// Returns an out-of-band error (LLVM 22 sends it as an empty Result).
unsafe extern "C" fn failing_wrapper(_: *const c_char, _: usize) -> orc_rt_WrapperFunctionBuffer {
    WrapperFunctionBuffer::out_of_band_error("could not deserialize arguments").into_raw()
}

fn addr(f: unsafe extern "C" fn(*const c_char, usize) -> orc_rt_WrapperFunctionBuffer) -> u64 {
    f as usize as u64
}

fn start() -> (
    Arc<Session>,
    Arc<SimpleRemoteEpcControllerAccess>,
    UnixStream,
) {
    start_after(b"")
}

/// [`start`], with `early` already sent by the controller when the
/// executor connects.
fn start_after(
    early: &[u8],
) -> (
    Arc<Session>,
    Arc<SimpleRemoteEpcControllerAccess>,
    UnixStream,
) {
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    theirs
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    theirs.write_all(early).unwrap();
    let fd = ours.into_raw_fd();
    // SAFETY: a fresh descriptor handed over to the transport.
    let t = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
    let session = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(4).unwrap()));
    let ca = SimpleRemoteEpcControllerAccess::new(
        t,
        vec![orc_rt::sps_ci::bootstrap::BootstrapSymbol::new(
            "x",
            ExecutorAddr(1),
        )],
    )
    .unwrap();
    session.attach(ca.clone()).unwrap();
    let (opc, _, _, _) = read_frame(&mut theirs).unwrap();
    assert_eq!(opc, 0, "Setup comes first");
    (session, ca, theirs)
}

#[test]
fn calls_by_address_results_out_of_order_and_eof_detaches() {
    let (session, ca, mut c) = start();
    let (tx, rx) = mpsc::channel();
    *GATE.lock().unwrap() = Some(rx);
    // seqno 7: blocks; seqno 0 and 7-again style reuse: the executor echoes
    // whatever seqno the controller used.
    c.write_all(&frame(CALL, 7, addr(gated_wrapper), b""))
        .unwrap();
    c.write_all(&frame(CALL, 0, addr(reverse_wrapper), b"abcdefghijkl"))
        .unwrap();
    let (opc, seq, tag, p) = read_frame(&mut c).unwrap();
    assert_eq!(
        (opc, seq, tag, &p[..]),
        (RESULT, 0, 0, &b"lkjihgfedcba"[..])
    );
    tx.send(()).unwrap();
    let (opc, seq, _, p) = read_frame(&mut c).unwrap();
    assert_eq!((opc, seq, &p[..]), (RESULT, 7, &b"slow"[..]));
    // Out-of-band error: an empty Result.
    c.write_all(&frame(CALL, 3, addr(failing_wrapper), b"\x01"))
        .unwrap();
    let (opc, seq, _, p) = read_frame(&mut c).unwrap();
    assert_eq!((opc, seq, p.len()), (RESULT, 3, 0));
    // Address 0 is refused the same way instead of crashing.
    c.write_all(&frame(CALL, 4, 0, b"")).unwrap();
    let (opc, seq, _, p) = read_frame(&mut c).unwrap();
    assert_eq!((opc, seq, p.len()), (RESULT, 4, 0));
    c.shutdown(std::net::Shutdown::Write).unwrap();
    session.wait_for_detach();
    assert_eq!(ca.disconnect_error(), None);
    assert!(read_frame(&mut c).is_none());
    session.shutdown(None);
    session.wait_for_shutdown();
}

#[test]
fn executor_calls_controller_through_the_session() {
    let (session, _ca, mut c) = start();
    let (tx, rx) = mpsc::channel();
    session.call_controller(
        ExecutorAddr(0x5000),
        WrapperFunctionBuffer::from_slice(b"ping"),
        Box::new(move |r| tx.send(r).unwrap()),
    );
    let (opc, seq, tag, p) = read_frame(&mut c).unwrap();
    assert_eq!((opc, seq, tag, &p[..]), (CALL, 0, 0x5000, &b"ping"[..]));
    c.write_all(&frame(RESULT, seq, 0, b"pong")).unwrap();
    let r = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(r.as_slice().unwrap(), b"pong");
    // A second call, then Hangup: it fails with "disconnecting".
    let (tx, rx) = mpsc::channel();
    session.call_controller(
        ExecutorAddr(0x5000),
        WrapperFunctionBuffer::new(),
        Box::new(move |r| tx.send(r).unwrap()),
    );
    let (_, seq, _, _) = read_frame(&mut c).unwrap();
    assert_eq!(seq, 1);
    c.write_all(&frame(HANGUP, 0, 0, b"\x00")).unwrap();
    let r = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        r.out_of_band_error_message().unwrap().to_str().unwrap(),
        "disconnecting"
    );
    session.wait_for_detach();
    session.shutdown(None);
    session.wait_for_shutdown();
}

#[test]
fn protocol_error_is_reported_and_detaches() {
    let (session, ca, mut c) = start();
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    session.set_error_reporter(Box::new(move |e| {
        let _ = tx.lock().unwrap().send(e.to_string());
    }));
    c.write_all(&frame(RESULT, 42, 0, b"")).unwrap();
    session.wait_for_detach();
    assert_eq!(
        ca.disconnect_error().as_deref(),
        Some("No call for sequence number 42")
    );
    let reported = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(reported, "No call for sequence number 42");
    session.shutdown(None);
    session.wait_for_shutdown();
}

#[test]
fn concurrent_dispatches_and_incoming_calls_interleave() {
    let (session, ca, mut c) = start();
    let ctx = ca.dispatch_context().0;
    const N: u64 = 40;
    // N JIT'd-code threads call the controller at once...
    let callers: Vec<_> = (0..N)
        .map(|i| {
            std::thread::spawn(move || {
                let r = orc_rt::simple_remote_epc::jit_dispatch(ctx, 0x9000 + i, &i.to_le_bytes());
                (i, r.as_slice().unwrap().to_vec())
            })
        })
        .collect();
    // ...while the controller also calls the executor N times, and answers
    // the executor's calls in reverse order of arrival.
    let mut writer = c.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        for i in 0..N {
            let payload = format!("call number {i}");
            writer
                .write_all(&frame(
                    CALL,
                    1000 + i,
                    addr(reverse_wrapper),
                    payload.as_bytes(),
                ))
                .unwrap();
        }
        writer
    });
    let mut calls = Vec::new();
    let mut results = std::collections::HashMap::new();
    while calls.len() < N as usize || results.len() < N as usize {
        let (opc, seq, tag, p) = read_frame(&mut c).unwrap();
        match opc {
            CALL => calls.push((seq, tag, p)),
            RESULT => {
                results.insert(seq, p);
            }
            _ => panic!("unexpected opcode {opc}"),
        }
    }
    let mut writer = sender.join().unwrap();
    let mut seqnos: Vec<u64> = calls.iter().map(|c| c.0).collect();
    seqnos.sort();
    assert_eq!(
        seqnos,
        (0..N).collect::<Vec<_>>(),
        "executor seqnos 0..N, each once"
    );
    for (seq, tag, args) in calls.iter().rev() {
        let mut reply = args.clone();
        reply.extend_from_slice(&tag.to_le_bytes());
        writer.write_all(&frame(RESULT, *seq, 0, &reply)).unwrap();
    }
    for h in callers {
        let (i, r) = h.join().unwrap();
        let mut want = i.to_le_bytes().to_vec();
        want.extend_from_slice(&(0x9000 + i).to_le_bytes());
        assert_eq!(r, want, "caller {i} got someone else's result");
    }
    for i in 0..N {
        let mut want = format!("call number {i}").into_bytes();
        want.reverse();
        assert_eq!(results[&(1000 + i)], want);
    }
    c.shutdown(std::net::Shutdown::Write).unwrap();
    session.wait_for_detach();
    assert_eq!(ca.disconnect_error(), None);
    session.shutdown(None);
    session.wait_for_shutdown();
}

/// The dispatch context of the connection under test, for `calling_action`.
static CTX: Mutex<u64> = Mutex::new(0);

/// An allocation action that calls the controller (tag 0x77) and succeeds
/// once the controller answers, as JIT'd platform code may.
unsafe extern "C" fn calling_action(_: *const c_char, _: usize) -> orc_rt_WrapperFunctionBuffer {
    let ctx = *CTX.lock().unwrap();
    let r = orc_rt::simple_remote_epc::jit_dispatch(ctx, 0x77, b"from an action");
    let result: orc_rt::sps::SpsResult = match r.as_slice() {
        Some(b"answer") => Ok(()),
        _ => Err("no answer from the controller".to_string()),
    };
    orc_rt::wrapper_function::serialize_to_buffer(&result).into_raw()
}

/// Reads the executor's call of tag 0x77 and answers it.
fn answer_action_call(c: &mut UnixStream) {
    let (opc, seq, tag, p) = read_frame(c).unwrap();
    assert_eq!((opc, tag, &p[..]), (CALL, 0x77, &b"from an action"[..]));
    c.write_all(&frame(RESULT, seq, 0, b"answer")).unwrap();
}

#[test]
fn memory_manager_calls_whose_actions_call_the_controller_leave_the_reader_free() {
    use orc_rt::sps::orc_types::{
        AllocActionCallPair, FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest,
        WrapperFunctionCall,
    };
    use orc_rt::sps::{deserialize_all, serialize_to_vec, SpsExpected, SpsResult};
    use orc_rt::sps_ci::memory;

    let (ours, mut c) = UnixStream::pair().unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let fd = ours.into_raw_fd();
    // SAFETY: a fresh descriptor handed over to the transport.
    let t = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
    let session = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(2).unwrap()));
    let syms = orc_rt::sps_ci::bootstrap::add_bootstrap_services(&session).unwrap();
    let sym = |n: &str| syms.iter().find(|s| s.name == n).unwrap().addr.0;
    let (instance, reserve, initialize, deinitialize, release) = (
        ExecutorAddr(sym(memory::INSTANCE_NAME)),
        sym(memory::RESERVE_NAME),
        sym(memory::INITIALIZE_NAME),
        sym(memory::DEINITIALIZE_NAME),
        sym(memory::RELEASE_NAME),
    );
    let ca = SimpleRemoteEpcControllerAccess::new(t, syms).unwrap();
    *CTX.lock().unwrap() = ca.dispatch_context().0;
    session.attach(ca.clone()).unwrap();
    assert_eq!(read_frame(&mut c).unwrap().0, 0, "Setup comes first");

    let mut seq = 10;
    let mut call = |c: &mut UnixStream, tag: u64, args: Vec<u8>| {
        seq += 1;
        c.write_all(&frame(CALL, seq, tag, &args)).unwrap();
        seq
    };
    let result = |c: &mut UnixStream, seq: u64| {
        let (opc, s, _, p) = read_frame(c).unwrap();
        assert_eq!((opc, s), (RESULT, seq));
        p
    };
    let s = call(&mut c, reserve, serialize_to_vec(&(instance, 8192u64)));
    let base: SpsExpected<ExecutorAddr> = deserialize_all(&result(&mut c, s)).unwrap();
    let base = base.0.unwrap();
    let action = WrapperFunctionCall {
        fn_addr: ExecutorAddr(addr(calling_action)),
        args: vec![],
    };
    let request = |at: u64, finalize: &WrapperFunctionCall, dealloc: &WrapperFunctionCall| {
        let req = FinalizeRequest {
            segments: vec![SegFinalizeRequest {
                rag: RemoteAllocGroup::new(true, true, false, false),
                addr: ExecutorAddr(base.0 + at),
                size: 64,
                content: vec![7; 64],
            }],
            actions: vec![AllocActionCallPair {
                finalize: finalize.clone(),
                dealloc: dealloc.clone(),
            }],
        };
        serialize_to_vec(&(instance, &req))
    };
    let none = WrapperFunctionCall::default();
    // The finalize action calls the controller: initialize must leave the
    // reader thread free to read the answer, or this would never finish.
    let s = call(&mut c, initialize, request(0, &action, &action));
    answer_action_call(&mut c);
    let key: SpsExpected<ExecutorAddr> = deserialize_all(&result(&mut c, s)).unwrap();
    let key = key.0.unwrap();
    // The same for the dealloc action, run by deinitialize...
    let s = call(
        &mut c,
        deinitialize,
        serialize_to_vec(&(instance, vec![key])),
    );
    answer_action_call(&mut c);
    let r: SpsResult = deserialize_all(&result(&mut c, s)).unwrap();
    assert_eq!(r, Ok(()));
    // ... and by release, for a region initialized without actions of its
    // own beside one with a calling dealloc action.
    let s = call(&mut c, initialize, request(0, &none, &none));
    let r: SpsExpected<ExecutorAddr> = deserialize_all(&result(&mut c, s)).unwrap();
    r.0.unwrap();
    let s = call(&mut c, initialize, request(4096, &none, &action));
    let r: SpsExpected<ExecutorAddr> = deserialize_all(&result(&mut c, s)).unwrap();
    r.0.unwrap();
    let s = call(&mut c, release, serialize_to_vec(&(instance, vec![base])));
    answer_action_call(&mut c);
    let r: SpsResult = deserialize_all(&result(&mut c, s)).unwrap();
    assert_eq!(r, Ok(()));

    c.shutdown(std::net::Shutdown::Write).unwrap();
    session.wait_for_detach();
    assert_eq!(ca.disconnect_error(), None);
    session.shutdown(None);
    session.wait_for_shutdown();
}

#[test]
fn setup_goes_out_before_anything_even_if_the_controller_speaks_first() {
    // A call already waiting when the executor connects: start_after
    // checks that Setup still comes first.
    let (session, _ca, mut c) = start_after(&frame(CALL, 5, addr(reverse_wrapper), b"xyz"));
    let (opc, seq, _, p) = read_frame(&mut c).unwrap();
    assert_eq!((opc, seq, &p[..]), (RESULT, 5, &b"zyx"[..]));
    c.shutdown(std::net::Shutdown::Write).unwrap();
    session.wait_for_detach();
    session.shutdown(None);
    session.wait_for_shutdown();
}
