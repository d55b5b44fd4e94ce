//! Session lifecycle tests: service and callback ordering, detach, shutdown
//! from anywhere, dropped tasks, several sessions, in-process calls.

use std::os::raw::c_char;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orc_rt::controller_access::InProcessController;
use orc_rt::handle::Handle;
use orc_rt::notification::NotificationService;
use orc_rt::service::{OnCompleteFn, Service};
use orc_rt::session::Session;
use orc_rt::task_dispatcher::{InPlaceTaskDispatcher, TaskDispatcher, ThreadPoolTaskDispatcher};
use orc_rt::wrapper_function::handler::{bytes_handler, reply_channel};
use orc_rt::wrapper_function::orc_rt_WrapperFunctionBuffer;
use orc_rt::wrapper_function::IncomingCall;
use orc_rt::wrapper_function::{orc_rt_SessionRef, orc_rt_WrapperFunctionReturn};
use orc_rt::{Error, ExecutorAddr, WrapperFunctionBuffer};

mod common;
use common::echo_native;

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, s: impl Into<String>) {
    log.lock().unwrap().push(s.into());
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// Records its notifications; completes on another thread to prove the
/// Session waits for asynchronous completion.
struct MockService {
    name: String,
    log: Log,
    fail_shutdown: bool,
}

impl MockService {
    fn new(name: &str, log: &Log) -> Arc<Self> {
        Arc::new(MockService {
            name: name.into(),
            log: log.clone(),
            fail_shutdown: false,
        })
    }
}

impl Service for MockService {
    fn on_detach(&self, on_complete: OnCompleteFn, shutdown_requested: bool) {
        let (log, name) = (self.log.clone(), self.name.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            push(&log, format!("{name}.detach({shutdown_requested})"));
            on_complete(Ok(()));
        });
    }
    fn on_shutdown(&self, on_complete: OnCompleteFn) {
        push(&self.log, format!("{}.shutdown", self.name));
        if self.fail_shutdown {
            on_complete(Err(Error::msg(format!(
                "{} failed to shut down",
                self.name
            ))));
        } else {
            on_complete(Ok(()));
        }
    }
}

fn pool(n: usize) -> Arc<dyn TaskDispatcher> {
    Arc::new(ThreadPoolTaskDispatcher::new(n).unwrap())
}

fn capture_errors(s: &Session) -> Log {
    let errs: Log = Arc::default();
    let e2 = errs.clone();
    s.set_error_reporter(Box::new(move |e| push(&e2, e.to_string())));
    errs
}

#[test]
fn shutdown_detaches_then_shuts_services_down_in_reverse_order() {
    let log: Log = Arc::default();
    let s = Session::new(pool(2));
    let n1 = NotificationService::new();
    let n2 = NotificationService::new();
    s.add_service(MockService::new("A", &log)).unwrap();
    s.add_service(n1.clone()).unwrap();
    s.add_service(MockService::new("B", &log)).unwrap();
    s.add_service(n2.clone()).unwrap();
    for (n, tag) in [(&n1, "n1"), (&n2, "n2")] {
        for i in 0..2 {
            let l = log.clone();
            n.add_on_detach(move |sr| push(&l, format!("{tag}.d{i}({sr})")));
            let l = log.clone();
            n.add_on_shutdown(move || push(&l, format!("{tag}.s{i}")));
        }
    }
    let l = log.clone();
    s.shutdown(Some(Box::new(move || push(&l, "done1"))));
    let l = log.clone();
    s.shutdown(Some(Box::new(move || push(&l, "done2"))));
    s.wait_for_shutdown();
    let l = log.clone();
    s.shutdown(Some(Box::new(move || push(&l, "late"))));
    assert_eq!(
        entries(&log),
        [
            "n2.d1(true)",
            "n2.d0(true)",
            "B.detach(true)",
            "n1.d1(true)",
            "n1.d0(true)",
            "A.detach(true)",
            "n2.s1",
            "n2.s0",
            "B.shutdown",
            "n1.s1",
            "n1.s0",
            "A.shutdown",
            "done1",
            "done2",
            "late",
        ]
    );
    assert!(s.is_shut_down());
    assert!(s.add_service(MockService::new("C", &log)).is_err());
}

#[test]
fn detach_then_shutdown_notifies_each_phase_once() {
    let log: Log = Arc::default();
    let s = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
    s.add_service(MockService::new("A", &log)).unwrap();
    s.add_service(MockService::new("B", &log)).unwrap();
    let ca = InProcessController::new();
    s.attach(ca.clone()).unwrap();
    assert!(ca.is_connected());
    let l = log.clone();
    s.detach(Some(Box::new(move || push(&l, "detached"))));
    s.wait_for_detach();
    assert!(!ca.is_connected());
    // Detach is permanent and happens once.
    let l = log.clone();
    s.detach(Some(Box::new(move || push(&l, "detached-again"))));
    assert!(s.attach(InProcessController::new()).is_err());
    // A service added after detach is told at once.
    s.add_service(MockService::new("C", &log)).unwrap();
    s.shutdown(None);
    s.wait_for_shutdown();
    assert_eq!(
        entries(&log),
        [
            "B.detach(false)",
            "A.detach(false)",
            "detached",
            "detached-again",
            "C.detach(false)",
            "C.shutdown",
            "B.shutdown",
            "A.shutdown",
        ]
    );
}

#[test]
fn controller_side_disconnect_detaches_without_shutdown() {
    let log: Log = Arc::default();
    let s = Session::new(pool(1));
    s.add_service(MockService::new("A", &log)).unwrap();
    let ca = InProcessController::new();
    s.attach(ca.clone()).unwrap();
    ca.close();
    s.wait_for_detach();
    assert_eq!(entries(&log), ["A.detach(false)"]);
    assert!(!s.is_shut_down());
    let (cb, r) = reply_channel();
    s.call_controller(ExecutorAddr(1), WrapperFunctionBuffer::new(), cb);
    let m = r
        .wait()
        .out_of_band_error_message()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(m.contains("controller is detached"), "{m}");
    drop(s); // last Arc: shuts down and waits
    assert_eq!(entries(&log), ["A.detach(false)", "A.shutdown"]);
}

#[test]
fn service_errors_and_panics_are_reported_and_shutdown_continues() {
    struct Panicky;
    impl Service for Panicky {
        fn on_detach(&self, _c: OnCompleteFn, _sr: bool) {
            panic!("detach panic (expected in this test)");
        }
        fn on_shutdown(&self, c: OnCompleteFn) {
            drop(c); // never completes: must be an error, not a hang
        }
    }
    let log: Log = Arc::default();
    let s = Session::new(pool(1));
    let errs = capture_errors(&s);
    s.add_service(MockService::new("A", &log)).unwrap();
    s.add_service(Arc::new(Panicky)).unwrap();
    s.add_service(Arc::new(MockService {
        name: "B".into(),
        log: log.clone(),
        fail_shutdown: true,
    }))
    .unwrap();
    s.shutdown(None);
    s.wait_for_shutdown();
    assert_eq!(
        entries(&log),
        [
            "B.detach(true)",
            "A.detach(true)",
            "B.shutdown",
            "A.shutdown"
        ]
    );
    let errs = entries(&errs);
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].contains("detach panic"));
    assert!(errs[1].contains("B failed to shut down"));
    assert!(errs[2].contains("dropped its completion callback"));
}

#[test]
fn shutdown_requested_from_a_task_and_a_service_callback() {
    for in_place in [false, true] {
        let d: Arc<dyn TaskDispatcher> = if in_place {
            Arc::new(InPlaceTaskDispatcher::new())
        } else {
            pool(2)
        };
        let s = Session::new(d);
        let errs = capture_errors(&s);
        let n = NotificationService::new();
        s.add_service(n.clone()).unwrap();
        let (tx, rx) = mpsc::channel();
        let weak = Arc::downgrade(&s);
        n.add_on_detach(move |_| {
            // Shutdown and detach from inside a Service callback.
            let s = weak.upgrade().unwrap();
            s.shutdown(None);
            s.detach(None);
        });
        let s2 = s.clone();
        s.dispatch(Box::new(move || {
            s2.shutdown(Some(Box::new(move || tx.send("done").unwrap())));
            // Waiting here would deadlock: refused with an error.
            assert!(s2.try_wait_for_shutdown().is_err());
            s2.wait_for_shutdown();
        }));
        assert_eq!(rx.recv_timeout(Duration::from_secs(20)).unwrap(), "done");
        s.wait_for_shutdown();
        assert_eq!(entries(&errs).len(), 1, "{:?}", entries(&errs));
        assert!(entries(&errs)[0].contains("would deadlock"));
    }
}

#[test]
fn dropping_the_last_session_inside_its_own_task_does_not_deadlock() {
    let s = Session::new(pool(1));
    let (tx, rx) = mpsc::channel();
    let s2 = s.clone();
    s.dispatch(Box::new(move || {
        let s2 = s2;
        std::thread::sleep(Duration::from_millis(20));
        drop(s2); // the last Arc, most likely
        tx.send(()).unwrap();
    }));
    drop(s);
    rx.recv_timeout(Duration::from_secs(20)).unwrap();
}

struct Probe {
    dropped: Arc<AtomicUsize>,
    release: Option<mpsc::Sender<()>>,
}
impl Drop for Probe {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
        if let Some(r) = self.release.take() {
            let _ = r.send(());
        }
    }
}

#[test]
fn tasks_queued_at_shutdown_are_dropped_not_leaked() {
    let s = Session::new(pool(1));
    let (ran, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    // Blocks the only worker until the first queued task is dropped.
    s.dispatch(Box::new(move || {
        started_tx.send(()).unwrap();
        release_rx.recv_timeout(Duration::from_secs(20)).unwrap();
    }));
    started_rx.recv().unwrap();
    for i in 0..100 {
        let p = Probe {
            dropped: dropped.clone(),
            release: (i == 0).then(|| release_tx.clone()),
        };
        let ran = ran.clone();
        s.dispatch(Box::new(move || {
            let _p = p;
            ran.fetch_add(1, Ordering::SeqCst);
        }));
    }
    s.shutdown(None);
    s.wait_for_shutdown();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(dropped.load(Ordering::SeqCst), 100);
    // After shutdown nothing runs; the task is dropped at once.
    let p = Probe {
        dropped: dropped.clone(),
        release: None,
    };
    s.dispatch(Box::new(move || drop(p)));
    assert_eq!(dropped.load(Ordering::SeqCst), 101);
}

#[test]
fn several_sessions_at_once() {
    let log: Log = Arc::default();
    let sessions: Vec<_> = (0..4)
        .map(|i| {
            let s = Session::new(pool(1));
            s.add_service(MockService::new(&format!("S{i}"), &log))
                .unwrap();
            let ca = InProcessController::new();
            s.attach(ca.clone()).unwrap();
            (s, ca)
        })
        .collect();
    for (i, (_, ca)) in sessions.iter().enumerate() {
        let r = ca.call_blocking(
            IncomingCall::Sync(add_one_sync),
            WrapperFunctionBuffer::from_slice(&[i as u8; 3]),
        );
        assert_eq!(r.as_slice().unwrap(), &[i as u8 + 1; 3]);
    }
    // Shut down the odd ones; the even ones keep working.
    for (s, _) in sessions.iter().skip(1).step_by(2) {
        s.shutdown(None);
        s.wait_for_shutdown();
    }
    for (i, (_, ca)) in sessions.iter().enumerate() {
        let r = ca.call_blocking(
            IncomingCall::Native(echo_native),
            WrapperFunctionBuffer::from_slice(b"hello world!"),
        );
        if i % 2 == 0 {
            assert_eq!(r.as_slice().unwrap(), b"hello world!");
        } else {
            assert!(r.is_out_of_band_error());
        }
    }
    drop(sessions);
    let mut l = entries(&log);
    l.sort();
    assert_eq!(l.len(), 8);
}

unsafe extern "C" fn add_one_sync(
    data: *const c_char,
    size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    // SAFETY: the Session lends `size` bytes at `data` for the call.
    let bytes = unsafe { std::slice::from_raw_parts(data as *const u8, size) };
    let out: Vec<u8> = bytes.iter().map(|b| b.wrapping_add(1)).collect();
    WrapperFunctionBuffer::from_slice(&out).into_raw()
}

/// Native ABI: replies later from another thread.
unsafe extern "C" fn deferred_native(
    s: orc_rt_SessionRef,
    call_id: u64,
    ret: orc_rt_WrapperFunctionReturn,
    args: orc_rt_WrapperFunctionBuffer,
) {
    let s = s as usize;
    // SAFETY: args ownership passes to us.
    let args = unsafe { WrapperFunctionBuffer::from_raw(args) };
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2));
        let mut v = args.as_slice().unwrap().to_vec();
        v.reverse();
        let out = WrapperFunctionBuffer::from_slice(&v).into_raw();
        // SAFETY: `ret` is the Session's trampoline, called exactly once.
        unsafe { ret.unwrap()(s as orc_rt_SessionRef, call_id, out) }
    });
}

#[test]
fn in_process_calls_both_abis_and_controller_handlers() {
    let s = Session::new(pool(2));
    let ca = InProcessController::new();
    ca.add_handler(
        ExecutorAddr(0x10),
        bytes_handler(|a| Ok(a.iter().rev().copied().collect())),
    );
    // Call before attach: immediate detached error.
    let (cb, r) = reply_channel();
    s.call_controller(
        ExecutorAddr(0x10),
        WrapperFunctionBuffer::from_slice(b"abc"),
        cb,
    );
    assert!(r.wait().is_out_of_band_error());
    s.attach(ca.clone()).unwrap();
    let (cb, r) = reply_channel();
    s.call_controller(
        ExecutorAddr(0x10),
        WrapperFunctionBuffer::from_slice(b"abc"),
        cb,
    );
    assert_eq!(r.wait().as_slice().unwrap(), b"cba");
    let (cb, r) = reply_channel();
    s.call_controller(ExecutorAddr(0x99), WrapperFunctionBuffer::new(), cb);
    let m = r
        .wait()
        .out_of_band_error_message()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(m.contains("no handler registered for tag 0x99"), "{m}");

    let r = ca.call_blocking(
        IncomingCall::Native(deferred_native),
        WrapperFunctionBuffer::from_slice(b"0123456789"),
    );
    assert_eq!(r.as_slice().unwrap(), b"9876543210");
    let r = ca.call_blocking(
        IncomingCall::Sync(add_one_sync),
        WrapperFunctionBuffer::from_slice(b"abc"),
    );
    assert_eq!(r.as_slice().unwrap(), b"bcd");

    // Shutdown waits for the in-flight deferred call.
    let (cb, r) = reply_channel();
    ca.call(
        IncomingCall::Native(deferred_native),
        WrapperFunctionBuffer::from_slice(b"xy"),
        cb,
    );
    s.shutdown(None);
    s.wait_for_shutdown();
    assert_eq!(
        r.wait_timeout(Duration::ZERO).unwrap().as_slice().unwrap(),
        b"yx"
    );
    let r = ca.call_blocking(
        IncomingCall::Native(echo_native),
        WrapperFunctionBuffer::from_slice(b"zz"),
    );
    assert!(r.is_out_of_band_error());
    let (cb, r) = reply_channel();
    s.call_controller(ExecutorAddr(0x10), WrapperFunctionBuffer::new(), cb);
    let m = r
        .wait()
        .out_of_band_error_message()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(m, "session is shut down");
    assert_eq!(ca.pending_calls(), 0);
}

#[test]
fn session_handles_round_trip_and_stale_handles_are_refused() {
    let s = Session::new(pool(1));
    let h = s.handle();
    assert!(Arc::ptr_eq(&Session::from_handle(h).unwrap(), &s));
    assert!(Session::from_handle(Handle::from_raw(0)).is_none());
    assert!(Session::from_handle(Handle::from_raw(8)).is_none());
    drop(s);
    assert!(Session::from_handle(h).is_none());
    // New Sessions reuse the slot (and often the memory): the old handle
    // stays refused.
    for _ in 0..50 {
        let n = Session::new(pool(1));
        assert_ne!(n.handle(), h);
        assert!(Session::from_handle(h).is_none());
    }
}

/// Refuses every connect.
struct RefusingCa;

impl orc_rt::controller_access::ControllerAccess for RefusingCa {
    fn connect(&self, _session: std::sync::Weak<Session>) -> orc_rt::Result<()> {
        Err(Error::msg("refused for the test"))
    }
    fn disconnect(&self) {
        panic!("never connected, never disconnected");
    }
    fn call_controller(
        &self,
        _tag: ExecutorAddr,
        _args: WrapperFunctionBuffer,
        _on_complete: orc_rt::controller_access::OnCallControllerCompleteFn,
    ) {
        panic!("never connected");
    }
    fn send_wrapper_result(&self, _call_id: u64, _result: WrapperFunctionBuffer) {}
}

#[test]
fn a_refused_connect_fails_attach_and_leaves_the_session_unattached() {
    let s = Session::new(pool(1));
    let e = s.attach(Arc::new(RefusingCa)).unwrap_err();
    assert_eq!(e.to_string(), "refused for the test");
    assert!(!s.is_detached());
    // Still attachable.
    let ca = InProcessController::new();
    s.attach(ca.clone()).unwrap();
    assert!(ca.is_connected());
    // The same in-process controller cannot serve a second Session.
    let s2 = Session::new(pool(1));
    let e = s2.attach(ca.clone()).unwrap_err();
    assert!(e.to_string().contains("already attached"), "{e}");
    assert!(!s2.is_detached());
    s2.attach(InProcessController::new()).unwrap();
    s.shutdown_and_wait().unwrap();
    s2.shutdown_and_wait().unwrap();
}

#[test]
fn managed_code_tokens_delay_service_shutdown() {
    let log: Log = Arc::default();
    let s = Session::new(pool(1));
    s.add_service(MockService::new("A", &log)).unwrap();
    let tok = s.managed_code_token().unwrap();
    s.shutdown(None);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(entries(&log), ["A.detach(true)"]);
    assert!(s.managed_code_token().is_none());
    assert_eq!(s.call_managed_code(|| 1), None);
    push(&log, "token released");
    drop(tok);
    s.wait_for_shutdown();
    assert_eq!(
        entries(&log),
        ["A.detach(true)", "token released", "A.shutdown"]
    );
}

#[test]
fn dropping_an_attached_session_detaches_and_shuts_down() {
    let log: Log = Arc::default();
    let s = Session::new(pool(2));
    s.add_service(MockService::new("A", &log)).unwrap();
    let ca = InProcessController::new();
    s.attach(ca.clone()).unwrap();
    let r = ca.call_blocking(
        IncomingCall::Native(echo_native),
        WrapperFunctionBuffer::from_slice(b"x"),
    );
    assert_eq!(r.as_slice().unwrap(), b"x");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        drop(s); // the controller cannot reach the Session any more
        tx.send(()).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("dropping the session hung");
    assert_eq!(entries(&log), ["A.detach(true)", "A.shutdown"]);
    assert!(!ca.is_connected());
    let r = ca.call_blocking(
        IncomingCall::Native(echo_native),
        WrapperFunctionBuffer::from_slice(b"x"),
    );
    assert!(r.is_out_of_band_error());
}

#[test]
fn wait_for_detach_inside_a_service_callback_is_refused() {
    let s = Session::new(pool(1));
    let errs = capture_errors(&s);
    let n = NotificationService::new();
    s.add_service(n.clone()).unwrap();
    let weak = Arc::downgrade(&s);
    n.add_on_detach(move |_| weak.upgrade().unwrap().wait_for_detach());
    s.detach(None);
    s.wait_for_detach();
    s.shutdown(None);
    s.wait_for_shutdown();
    let e = entries(&errs);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("would deadlock"));
}

/// A controller whose disconnection is reported later from another thread,
/// or (if `fail_connect`) whose connection fails inside `connect`.
struct MockCa {
    session: Mutex<std::sync::Weak<Session>>,
    fail_connect: bool,
    disconnects: AtomicUsize,
}

impl orc_rt::controller_access::ControllerAccess for MockCa {
    fn connect(&self, session: std::sync::Weak<Session>) -> orc_rt::Result<()> {
        if self.fail_connect {
            session.upgrade().unwrap().notify_disconnected();
        }
        *self.session.lock().unwrap() = session;
        Ok(())
    }
    fn disconnect(&self) {
        self.disconnects.fetch_add(1, Ordering::SeqCst);
        let w = self.session.lock().unwrap().clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            if let Some(s) = w.upgrade() {
                s.notify_disconnected();
            }
        });
    }
    fn call_controller(
        &self,
        _tag: ExecutorAddr,
        args: WrapperFunctionBuffer,
        on_complete: orc_rt::controller_access::OnCallControllerCompleteFn,
    ) {
        on_complete(args)
    }
    fn send_wrapper_result(&self, _call_id: u64, _result: WrapperFunctionBuffer) {}
}

fn mock_ca(fail_connect: bool) -> Arc<MockCa> {
    Arc::new(MockCa {
        session: Mutex::new(std::sync::Weak::new()),
        fail_connect,
        disconnects: AtomicUsize::new(0),
    })
}

#[test]
fn shutdown_waits_for_an_asynchronous_disconnect() {
    let log: Log = Arc::default();
    let s = Session::new(pool(1));
    s.add_service(MockService::new("A", &log)).unwrap();
    let ca = mock_ca(false);
    s.attach(ca.clone()).unwrap();
    let (cb, r) = reply_channel();
    s.call_controller(
        ExecutorAddr(5),
        WrapperFunctionBuffer::from_slice(b"hi"),
        cb,
    );
    assert_eq!(r.wait().as_slice().unwrap(), b"hi");
    s.shutdown(None);
    s.detach(None); // joins the shutdown's detach; no second disconnect
    s.wait_for_shutdown();
    assert_eq!(entries(&log), ["A.detach(true)", "A.shutdown"]);
    assert_eq!(ca.disconnects.load(Ordering::SeqCst), 1);
}

#[test]
fn a_failed_connect_detaches_at_once() {
    let log: Log = Arc::default();
    let s = Session::new(pool(1));
    s.add_service(MockService::new("A", &log)).unwrap();
    let ca = mock_ca(true);
    s.attach(ca.clone()).unwrap();
    s.wait_for_detach();
    assert_eq!(entries(&log), ["A.detach(false)"]);
    let (cb, r) = reply_channel();
    s.call_controller(
        ExecutorAddr(5),
        WrapperFunctionBuffer::from_slice(b"hi"),
        cb,
    );
    assert!(r.wait().is_out_of_band_error());
    drop(s);
    assert_eq!(entries(&log), ["A.detach(false)", "A.shutdown"]);
    assert_eq!(ca.disconnects.load(Ordering::SeqCst), 0);
}
