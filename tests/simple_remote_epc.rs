//! SimpleRemoteEPC controller access against a fake controller on a
//! socketpair: Setup bytes, executor→controller dispatch (including out of
//! order results), EOF, Hangup and malformed frames. No Session is attached
//! here (see `simple_remote_epc_session.rs` for calls by address).

use std::io::{Read, Write};
use std::os::fd::IntoRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use orc_rt::controller_access::ControllerAccess;
use orc_rt::simple_remote_epc::{
    jit_dispatch, SimpleRemoteEpcControllerAccess, Transport, DISPATCH_CTX_SYMBOL,
    DISPATCH_FN_SYMBOL, PROCESS_TRIPLE,
};
use orc_rt::sps::orc_types::SimpleRemoteEpcExecutorInfo;
use orc_rt::sps_ci::bootstrap::BootstrapSymbol;
use orc_rt::ExecutorAddr;

const SETUP: u64 = 0;
const HANGUP: u64 = 1;
const RESULT: u64 = 2;
const CALL: u64 = 3;

struct Fake {
    sock: UnixStream,
    ca: Arc<SimpleRemoteEpcControllerAccess>,
}

fn header(size: u64, opc: u64, seq: u64, tag: u64) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [size, opc, seq, tag] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v
}

fn frame(opc: u64, seq: u64, tag: u64, payload: &[u8]) -> Vec<u8> {
    let mut v = header(32 + payload.len() as u64, opc, seq, tag);
    v.extend_from_slice(payload);
    v
}

impl Fake {
    /// Starts a connection with two extra bootstrap symbols and no Session.
    fn start() -> Fake {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let fd = ours.into_raw_fd();
        // SAFETY: fd is a fresh socket handed over to the transport.
        let t = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
        let ca = SimpleRemoteEpcControllerAccess::new(
            t,
            vec![
                BootstrapSymbol::new("sym_a", ExecutorAddr(0x1000)),
                BootstrapSymbol::new("sym_b", ExecutorAddr(0x2000)),
            ],
        )
        .unwrap();
        ca.connect(Weak::new()).unwrap();
        theirs
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Fake { sock: theirs, ca }
    }

    fn read_frame(&mut self) -> Option<(u64, u64, u64, Vec<u8>)> {
        let mut h = [0u8; 32];
        let mut got = 0;
        while got < 32 {
            let n = self.sock.read(&mut h[got..]).unwrap();
            if n == 0 {
                assert_eq!(got, 0, "EOF inside a header");
                return None;
            }
            got += n;
        }
        let f = |i: usize| u64::from_le_bytes(h[i * 8..i * 8 + 8].try_into().unwrap());
        let mut payload = vec![0u8; (f(0) - 32) as usize];
        self.sock.read_exact(&mut payload).unwrap();
        Some((f(1), f(2), f(3), payload))
    }

    fn read_setup(&mut self) -> SimpleRemoteEpcExecutorInfo {
        let (opc, seq, tag, payload) = self.read_frame().unwrap();
        assert_eq!((opc, seq, tag), (SETUP, 0, 0));
        orc_rt::sps::deserialize_all(&payload).unwrap()
    }

    fn send(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).unwrap();
    }

    fn wait_end(&self) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.ca.is_disconnected() {
            assert!(Instant::now() < deadline, "connection did not end");
            thread::sleep(Duration::from_millis(5));
        }
        self.ca.disconnect_error()
    }

    fn ctx(&self) -> u64 {
        self.ca.dispatch_context().0
    }
}

/// The triple LLVM 22's own executor announces on this architecture.
#[cfg(target_arch = "x86_64")]
const REFERENCE_TRIPLE: &str = "x86_64-pc-linux-gnu";
/// The triple LLVM 22's own executor announces on this architecture.
#[cfg(target_arch = "aarch64")]
const REFERENCE_TRIPLE: &str = "aarch64-unknown-linux-gnu";

#[test]
fn setup_announces_triple_page_size_and_symbols() {
    let mut f = Fake::start();
    let info = f.read_setup();
    assert_eq!(info.triple, PROCESS_TRIPLE);
    assert_eq!(info.triple, REFERENCE_TRIPLE);
    assert_eq!(info.page_size, 4096);
    assert!(info.bootstrap_map.is_empty());
    let names: Vec<&str> = info
        .bootstrap_symbols
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names.len(), 4);
    for n in ["sym_a", "sym_b", DISPATCH_CTX_SYMBOL, DISPATCH_FN_SYMBOL] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let ctx = info
        .bootstrap_symbols
        .iter()
        .find(|(n, _)| n == DISPATCH_CTX_SYMBOL)
        .unwrap()
        .1;
    assert_eq!(ctx, f.ca.dispatch_context());
    drop(f.sock.shutdown(std::net::Shutdown::Write));
    assert_eq!(f.wait_end(), None);
}

#[test]
fn setup_bytes_start_like_the_reference() {
    // As the reference executor's Setup starts: triple, page size 4096,
    // empty bootstrap map, then the symbol count.
    let mut f = Fake::start();
    let (_, _, _, payload) = f.read_frame().unwrap();
    let mut want = Vec::new();
    want.extend_from_slice(&(REFERENCE_TRIPLE.len() as u64).to_le_bytes());
    want.extend_from_slice(REFERENCE_TRIPLE.as_bytes());
    want.extend_from_slice(&4096u64.to_le_bytes());
    want.extend_from_slice(&0u64.to_le_bytes());
    want.extend_from_slice(&4u64.to_le_bytes());
    assert_eq!(&payload[..want.len()], &want[..]);
}

#[test]
fn duplicate_bootstrap_names_are_rejected() {
    let (ours, _theirs) = UnixStream::pair().unwrap();
    let fd = ours.into_raw_fd();
    // SAFETY: fd is handed over.
    let t = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
    let e = SimpleRemoteEpcControllerAccess::new(
        t,
        vec![BootstrapSymbol::new(DISPATCH_FN_SYMBOL, ExecutorAddr(1))],
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains(DISPATCH_FN_SYMBOL), "{e}");
}

#[test]
fn dispatch_round_trip_and_out_of_order_results() {
    let mut f = Fake::start();
    f.read_setup();
    let ctx = f.ctx();
    let t1 = thread::spawn(move || jit_dispatch(ctx, 0xaaaa, b"first call"));
    let (opc, seq1, tag1, args1) = f.read_frame().unwrap();
    assert_eq!((opc, tag1, &args1[..]), (CALL, 0xaaaa, &b"first call"[..]));
    assert_eq!(seq1, 0, "the executor numbers its calls from 0");
    let t2 = thread::spawn(move || jit_dispatch(ctx, 0xbbbb, b"second"));
    let (_, seq2, tag2, _) = f.read_frame().unwrap();
    assert_eq!((seq2, tag2), (1, 0xbbbb));
    // Answer the second call first.
    f.send(&frame(RESULT, seq2, 0, b"result two, long enough"));
    let r2 = t2.join().unwrap();
    assert_eq!(r2.as_slice().unwrap(), b"result two, long enough");
    f.send(&frame(RESULT, seq1, 0, b"r1"));
    let r1 = t1.join().unwrap();
    assert_eq!(r1.as_slice().unwrap(), b"r1");
    drop(f.sock.shutdown(std::net::Shutdown::Write));
    assert_eq!(f.wait_end(), None);
}

#[test]
fn pending_dispatch_fails_with_disconnecting_and_later_ones_are_refused() {
    let mut f = Fake::start();
    f.read_setup();
    let ctx = f.ctx();
    let t = thread::spawn(move || jit_dispatch(ctx, 0x10, b"x"));
    f.read_frame().unwrap();
    f.sock.shutdown(std::net::Shutdown::Write).unwrap();
    let r = t.join().unwrap();
    assert_eq!(
        r.out_of_band_error_message().unwrap().to_str().unwrap(),
        "disconnecting"
    );
    assert_eq!(f.wait_end(), None);
    let r = jit_dispatch(ctx, 0x10, b"x");
    assert_eq!(
        r.out_of_band_error_message().unwrap().to_str().unwrap(),
        "jit_dispatch not available (EPC server shut down)"
    );
    // The executor closed its side too.
    assert!(f.read_frame().is_none());
}

#[test]
fn dispatch_with_a_bogus_context_is_an_error() {
    let r = jit_dispatch(0xdead_beef, 0x10, b"x");
    let m = r
        .out_of_band_error_message()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(m.contains("0xdeadbeef"), "{m}");
}

#[test]
fn hangup_ends_cleanly_whatever_the_payload() {
    for payload in [&b"\x00"[..], &b""[..], &b"\x01\x03\0\0\0\0\0\0\0bye"[..]] {
        let mut f = Fake::start();
        f.read_setup();
        f.send(&frame(HANGUP, 0, 0, payload));
        assert_eq!(f.wait_end(), None);
        assert!(f.read_frame().is_none());
    }
}

fn expect_error(bytes: &[u8], close: bool, want: &str) {
    let mut f = Fake::start();
    f.read_setup();
    f.send(bytes);
    if close {
        f.sock.shutdown(std::net::Shutdown::Write).unwrap();
    }
    assert_eq!(f.wait_end().as_deref(), Some(want), "input {bytes:02x?}");
    assert!(f.read_frame().is_none());
}

#[test]
fn bad_frames_end_the_connection_with_llvm_messages() {
    expect_error(
        &header(16, CALL, 1, 0x1234),
        false,
        "Message size too small",
    );
    expect_error(
        &header(32, CALL, 1, 0x1234)[..12],
        true,
        "Unexpected end-of-file",
    );
    let mut partial = header(132, CALL, 1, 0x1234);
    partial.extend_from_slice(&[0u8; 10]);
    expect_error(&partial, true, "Unexpected end-of-file");
    expect_error(&frame(4, 0, 0, b""), false, "Unexpected opcode");
    expect_error(&frame(SETUP, 0, 0, b""), false, "Unexpected Setup opcode");
    expect_error(
        &frame(RESULT, 99, 0, b""),
        false,
        "No call for sequence number 99",
    );
    expect_error(
        &frame(RESULT, 0, 0x1234, b"\0"),
        false,
        "No call for sequence number 0",
    );
}

#[test]
fn absurd_sizes_do_not_allocate() {
    // 2^62: over the limit, rejected from the header alone.
    let mut f = Fake::start();
    f.read_setup();
    f.send(&header(1 << 62, CALL, 1, 0x1234));
    let e = f.wait_end().unwrap();
    assert!(e.contains("exceeds the limit"), "{e}");
    // 3 GiB announced (under the limit), 10 bytes sent: the reader waits
    // for data instead of allocating 3 GiB, then reports the truncation.
    let mut partial = header(3 << 30, CALL, 1, 0x1234);
    partial.extend_from_slice(&[0u8; 10]);
    expect_error(&partial, true, "Unexpected end-of-file");
}

#[test]
fn local_disconnect_wakes_the_reader_and_closes_the_stream() {
    let mut f = Fake::start();
    f.read_setup();
    thread::sleep(Duration::from_millis(20));
    f.ca.disconnect();
    f.ca.disconnect(); // idempotent
    assert_eq!(f.wait_end(), None);
    assert!(f.read_frame().is_none());
}

#[test]
fn tcp_listen_serves_one_controller() {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = thread::spawn(move || {
        let t = Transport::listen_tcp("127.0.0.1", 0, |a| tx.send(a).unwrap()).unwrap();
        let ca = SimpleRemoteEpcControllerAccess::new(t, Vec::new()).unwrap();
        ca.connect(Weak::new()).unwrap();
        ca.wait_disconnected();
        ca.disconnect_error()
    });
    let addr = rx.recv().unwrap();
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    let mut h32 = [0u8; 32];
    c.read_exact(&mut h32).unwrap();
    assert_eq!(&h32[8..16], &[0u8; 8], "first frame is Setup");
    c.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(h.join().unwrap(), None);
}
