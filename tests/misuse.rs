//! Misuse from the Rust side: every kind of Rust callback that panics
//! (Service, notification callback, completion callback, error reporter,
//! controller handler, task, result callback) is caught where it enters the
//! runtime and reported, never unwinding into the Session's threads or
//! across the C ABI; calls on a shut-down Session are refused; a Service that
//! completes late is waited for; the C entry points take NULL from Rust too.
//!
//! Panics here are deliberate: the `orc-rt: error: panic in ...` lines on
//! stderr ("expected in this test") are part of a passing run. The panic
//! hook itself prints none of them (see `tests/quiet_panics.rs`).

use std::ffi::CStr;
use std::os::raw::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orc_rt::controller_access::InProcessController;
use orc_rt::ffi;
use orc_rt::notification::NotificationService;
use orc_rt::service::{OnCompleteFn, Service};
use orc_rt::session::Session;
use orc_rt::task_dispatcher::{InPlaceTaskDispatcher, TaskDispatcher, ThreadPoolTaskDispatcher};
use orc_rt::wrapper_function::handler::{bytes_handler, reply_channel, BytesHandler, Responder};
use orc_rt::wrapper_function::orc_rt_WrapperFunctionBuffer;
use orc_rt::{Error, ExecutorAddr, WrapperFunctionBuffer};

type Log = Arc<Mutex<Vec<String>>>;

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn capture_errors(s: &Session) -> Log {
    let errs: Log = Arc::default();
    let e2 = errs.clone();
    s.set_error_reporter(Box::new(move |e| e2.lock().unwrap().push(e.to_string())));
    errs
}

fn pool(n: usize) -> Arc<dyn TaskDispatcher> {
    Arc::new(ThreadPoolTaskDispatcher::new(n).unwrap())
}

fn oob_message(b: &WrapperFunctionBuffer) -> Option<String> {
    b.out_of_band_error_message()
        .map(|m| m.to_string_lossy().into_owned())
}

/// Runs `f` on a thread and fails the test if it has not finished within
/// `secs` (instead of hanging the suite).
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("{what} did not finish within {secs} s"))
}

/// A Service that panics in the notifications selected by its flags.
struct Panicky {
    detach: bool,
    shutdown: bool,
    calls: Arc<AtomicUsize>,
}

impl Service for Panicky {
    fn on_detach(&self, c: OnCompleteFn, _sr: bool) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.detach {
            panic!("on_detach panic (expected in this test)");
        }
        c(Ok(()));
    }
    fn on_shutdown(&self, c: OnCompleteFn) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.shutdown {
            panic!("on_shutdown panic (expected in this test)");
        }
        c(Ok(()));
    }
}

#[test]
fn panicking_services_are_reported_and_others_still_run() {
    let s = Session::new(pool(1));
    let errs = capture_errors(&s);
    let calls = Arc::new(AtomicUsize::new(0));
    let good = Arc::new(AtomicUsize::new(0));
    s.add_service(Arc::new(Panicky {
        detach: false,
        shutdown: false,
        calls: good.clone(),
    }))
    .unwrap();
    s.add_service(Arc::new(Panicky {
        detach: true,
        shutdown: true,
        calls: calls.clone(),
    }))
    .unwrap();
    s.shutdown(None);
    s.wait_for_shutdown();
    assert!(s.is_shut_down());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        good.load(Ordering::SeqCst),
        2,
        "the other service was skipped"
    );
    let errs = entries(&errs);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].contains("panic in Service::on_detach") && errs[0].contains("on_detach panic"));
    assert!(errs[1].contains("panic in Service::on_shutdown"));
}

#[test]
fn a_service_added_after_detach_that_panics_is_reported() {
    let s = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
    let errs = capture_errors(&s);
    s.detach(None);
    s.wait_for_detach();
    // on_detach runs at once, on this thread: the panic must not reach us.
    s.add_service(Arc::new(Panicky {
        detach: true,
        shutdown: false,
        calls: Arc::default(),
    }))
    .unwrap();
    let e = entries(&errs);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("on_detach panic"), "{e:?}");
    s.shutdown(None);
    within(10, "shutdown", move || s.wait_for_shutdown());
}

#[test]
fn panicking_completion_callbacks_and_notifications_are_reported() {
    let s = Session::new(pool(1));
    let errs = capture_errors(&s);
    let n = NotificationService::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let r2 = ran.clone();
    n.add_on_detach(move |_| {
        r2.fetch_add(1, Ordering::SeqCst);
    });
    n.add_on_detach(|_| panic!("notification panic (expected in this test)"));
    n.add_on_shutdown(|| panic!("shutdown notification panic (expected in this test)"));
    s.add_service(n).unwrap();
    let (tx, rx) = mpsc::channel();
    s.detach(Some(Box::new(|| {
        panic!("detach completion panic (expected in this test)")
    })));
    s.wait_for_detach();
    s.shutdown(Some(Box::new(|| {
        panic!("shutdown completion panic (expected in this test)")
    })));
    s.shutdown(Some(Box::new(move || tx.send(()).unwrap())));
    rx.recv_timeout(Duration::from_secs(10))
        .expect("later completion callbacks still run");
    s.wait_for_shutdown();
    assert_eq!(
        ran.load(Ordering::SeqCst),
        1,
        "the other callback was skipped"
    );
    let e = entries(&errs).join("\n");
    for want in [
        "notification panic",
        "shutdown notification panic",
        "detach completion panic",
        "shutdown completion panic",
    ] {
        assert!(e.contains(want), "{want} not reported in:\n{e}");
    }
}

#[test]
fn a_panicking_error_reporter_is_caught() {
    let s = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    s.set_error_reporter(Box::new(move |_| {
        c2.fetch_add(1, Ordering::SeqCst);
        panic!("reporter panic (expected in this test)");
    }));
    s.report_error(Error::msg("first"));
    s.report_error(Error::msg("second"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // The lifecycle still works with a broken reporter.
    s.add_service(Arc::new(Panicky {
        detach: true,
        shutdown: true,
        calls: Arc::default(),
    }))
    .unwrap();
    s.shutdown(None);
    within(10, "shutdown", move || s.wait_for_shutdown());
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn panicking_tasks_do_not_kill_the_dispatcher() {
    for d in [
        pool(1),
        Arc::new(InPlaceTaskDispatcher::new()) as Arc<dyn TaskDispatcher>,
    ] {
        let s = Session::new(d);
        s.dispatch(Box::new(|| panic!("task panic (expected in this test)")));
        let (tx, rx) = mpsc::channel();
        s.dispatch(Box::new(move || tx.send(()).unwrap()));
        rx.recv_timeout(Duration::from_secs(10))
            .expect("a task after the panicking one runs");
        s.shutdown(None);
        within(10, "shutdown", move || s.wait_for_shutdown());
    }
}

#[test]
fn panicking_controller_handlers_answer_with_an_error() {
    let s = Session::new(pool(2));
    let c = InProcessController::new();
    s.attach(c.clone()).unwrap();
    // Wrapped with bytes_handler: the panic becomes the reply.
    c.add_handler(
        ExecutorAddr(1),
        bytes_handler(|_| panic!("handler panic (expected in this test)")),
    );
    // A raw handler: panics before replying (Responder dropped unanswered).
    let raw: BytesHandler = Arc::new(|_args: WrapperFunctionBuffer, _r: Responder| {
        panic!("raw handler panic (expected in this test)")
    });
    c.add_handler(ExecutorAddr(2), raw);

    let (cb, pending) = reply_channel();
    s.call_controller(ExecutorAddr(1), WrapperFunctionBuffer::from_slice(b"x"), cb);
    let m = oob_message(&pending.wait()).expect("an error reply");
    assert!(m.contains("handler panic"), "{m}");

    // Through the Rust API on the caller's own thread, the raw handler's
    // panic reaches the caller (it is that caller's code path); the
    // Responder still answers once, with an error.
    let (cb, pending) = reply_channel();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.call_controller(ExecutorAddr(2), WrapperFunctionBuffer::from_slice(b"z"), cb)
    }));
    assert!(unwound.is_err());
    let m = oob_message(&pending.wait()).expect("an error reply");
    assert!(m.contains("dropped without a reply"), "{m}");

    // Through the C entry point the raw handler's panic stops at the
    // boundary; the caller still gets exactly one (error) result.
    struct Got(Mutex<Vec<String>>);
    unsafe extern "C" fn ret(
        _s: ffi::wrapper_function::orc_rt_SessionRef,
        r: orc_rt_WrapperFunctionBuffer,
        ctx: *mut c_void,
    ) {
        // SAFETY: r is ours (callback contract); ctx is the &Got below.
        let r = unsafe { WrapperFunctionBuffer::from_raw(r) };
        // SAFETY: ctx is the &Got below, alive until the call returns.
        let got = unsafe { &*(ctx as *const Got) };
        got.0
            .lock()
            .unwrap()
            .push(oob_message(&r).unwrap_or_else(|| "(value)".into()));
    }
    let got = Got(Mutex::new(Vec::new()));
    // SAFETY: valid buffer handed over; ret/ctx are valid for the call.
    unsafe {
        ffi::session::orc_rt_Session_callController(
            orc_rt::wrapper_function::native::session_ref(s.handle()),
            2 as *mut c_void,
            WrapperFunctionBuffer::from_slice(b"y").into_raw(),
            Some(ret),
            &got as *const Got as *mut c_void,
        )
    };
    let g = got.0.lock().unwrap().clone();
    assert_eq!(g.len(), 1, "{g:?}");
    assert!(g[0].contains("dropped without a reply"), "{g:?}");

    s.shutdown(None);
    within(10, "shutdown", move || s.wait_for_shutdown());
}

#[test]
fn a_panicking_result_callback_does_not_wedge_shutdown() {
    unsafe extern "C" fn echo(
        s: ffi::wrapper_function::orc_rt_SessionRef,
        id: u64,
        ret: ffi::wrapper_function::orc_rt_WrapperFunctionReturn,
        args: orc_rt_WrapperFunctionBuffer,
    ) {
        // SAFETY: the Session passes a valid return function.
        unsafe { ret.unwrap()(s, id, args) }
    }
    let s = Session::new(pool(1));
    let c = InProcessController::new();
    s.attach(c.clone()).unwrap();
    c.call(
        orc_rt::wrapper_function::IncomingCall::Native(echo),
        WrapperFunctionBuffer::from_slice(b"abc"),
        |_r| panic!("result callback panic (expected in this test)"),
    );
    // The call's in-flight token must be released despite the panic, or
    // shutdown would wait for it forever.
    s.shutdown(None);
    within(
        10,
        "shutdown after a panicking result callback",
        move || s.wait_for_shutdown(),
    );
}

#[test]
fn a_panicking_task_run_through_the_c_dispatcher_api_stays_inside() {
    // A C-style custom dispatcher (written in Rust) that queues TaskRefs;
    // the test runs them with orc_rt_Task_run.
    static QUEUE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    unsafe extern "C" fn dispatch(_ctx: *mut c_void, t: ffi::task_dispatcher::orc_rt_TaskRef) {
        QUEUE.lock().unwrap().push(t as usize);
    }
    unsafe extern "C" fn shutdown(_ctx: *mut c_void) {
        let ts = std::mem::take(&mut *QUEUE.lock().unwrap());
        for t in ts {
            // SAFETY: a live task handle we own.
            unsafe { ffi::task_dispatcher::orc_rt_Task_dispose(t as _) };
        }
    }
    let d = ffi::task_dispatcher::orc_rt_TaskDispatcher_createCustom(
        ffi::task_dispatcher::orc_rt_TaskDispatcherFunctions {
            Ctx: std::ptr::null_mut(),
            Dispatch: Some(dispatch),
            Shutdown: Some(shutdown),
            Destroy: None,
        },
    );
    assert!(!d.is_null());
    // SAFETY: d is a fresh dispatcher handle, consumed here.
    let sref = unsafe { ffi::session::orc_rt_Session_create(d) };
    let s = Session::from_handle(orc_rt::wrapper_function::native::session_handle(sref))
        .expect("live session");
    let ran = Arc::new(AtomicUsize::new(0));
    s.dispatch(Box::new(|| panic!("task panic (expected in this test)")));
    let r2 = ran.clone();
    s.dispatch(Box::new(move || {
        r2.fetch_add(1, Ordering::SeqCst);
    }));
    let ts = std::mem::take(&mut *QUEUE.lock().unwrap());
    assert_eq!(ts.len(), 2);
    for t in ts {
        // SAFETY: live task handles we own; the panic must stay inside.
        unsafe { ffi::task_dispatcher::orc_rt_Task_run(t as _) };
    }
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    drop(s);
    let sref = sref as usize;
    within(10, "orc_rt_Session_destroy", move || {
        ffi::session::orc_rt_Session_destroy(sref as _)
    });
}

#[test]
fn calls_on_a_shut_down_session_are_refused() {
    let s = Session::new(pool(1));
    let c = InProcessController::new();
    s.attach(c.clone()).unwrap();
    s.shutdown(None);
    s.wait_for_shutdown();

    assert!(matches!(
        s.add_service(Arc::new(Panicky {
            detach: false,
            shutdown: false,
            calls: Arc::default()
        })),
        Err(Error::SessionShutDown)
    ));
    assert!(s.attach(InProcessController::new()).is_err());
    assert!(s.managed_code_token().is_none());
    assert!(s.call_managed_code(|| ()).is_none());
    let (cb, pending) = reply_channel();
    s.call_controller(ExecutorAddr(1), WrapperFunctionBuffer::new(), cb);
    let m = oob_message(&pending.wait()).expect("an error");
    assert!(m.contains("shut down"), "{m}");
    // A task dispatched now is dropped, not run (its captures are released).
    struct Flag(Arc<AtomicUsize>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicUsize::new(0));
    let f = Flag(dropped.clone());
    let ran = Arc::new(AtomicUsize::new(0));
    let r2 = ran.clone();
    s.dispatch(Box::new(move || {
        let _f = f;
        r2.fetch_add(1, Ordering::SeqCst);
    }));
    assert_eq!(
        (ran.load(Ordering::SeqCst), dropped.load(Ordering::SeqCst)),
        (0, 1)
    );
    // Completion callbacks run at once.
    let hits = Arc::new(AtomicUsize::new(0));
    let (h1, h2) = (hits.clone(), hits.clone());
    s.detach(Some(Box::new(move || {
        h1.fetch_add(1, Ordering::SeqCst);
    })));
    s.shutdown(Some(Box::new(move || {
        h2.fetch_add(1, Ordering::SeqCst);
    })));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // The controller's calls get an error result.
    let r = c.call_blocking(
        orc_rt::wrapper_function::IncomingCall::Sync(never_called),
        WrapperFunctionBuffer::new(),
    );
    assert!(oob_message(&r).is_some());
}

unsafe extern "C" fn never_called(
    _d: *const std::os::raw::c_char,
    _n: usize,
) -> orc_rt_WrapperFunctionBuffer {
    panic!("must not be called on a shut-down session")
}

#[test]
fn a_service_that_completes_late_is_waited_for() {
    // The Session cannot tell "late" from "never": it waits. This checks it
    // really waits (no timeout skips the Service) and goes on once the
    // completion arrives, from another thread.
    struct Late(Arc<Mutex<Option<OnCompleteFn>>>);
    impl Service for Late {
        fn on_detach(&self, c: OnCompleteFn, _sr: bool) {
            c(Ok(()))
        }
        fn on_shutdown(&self, c: OnCompleteFn) {
            *self.0.lock().unwrap() = Some(c);
        }
    }
    let held = Arc::new(Mutex::new(None));
    let s = Session::new(pool(1));
    s.add_service(Arc::new(Late(held.clone()))).unwrap();
    s.shutdown(None);
    let s2 = s.clone();
    let waiter = std::thread::spawn(move || s2.wait_for_shutdown());
    let mut done = None;
    for _ in 0..1000 {
        if let Some(c) = held.lock().unwrap().take() {
            done = Some(c);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let done = done.expect("on_shutdown was called");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!s.is_shut_down(), "shutdown did not wait for the Service");
    assert!(!waiter.is_finished());
    done(Ok(()));
    within(10, "shutdown after the late completion", move || {
        waiter.join().unwrap()
    });
    assert!(s.is_shut_down());
}

#[test]
fn one_controller_attached_to_two_sessions() {
    // Misuse: the second attach's connect fails (the controller already
    // serves a Session), so the second Session is notified of the
    // disconnection at once and detaches; the first stays attached, and
    // both shut down.
    let c = InProcessController::new();
    let a = Session::new(pool(1));
    let b = Session::new(pool(1));
    a.attach(c.clone()).unwrap();
    let attached_twice = b.attach(c.clone());
    if attached_twice.is_ok() {
        b.shutdown(None);
        let b2 = b.clone();
        within(5, "shutdown of the second session", move || {
            b2.wait_for_shutdown()
        });
    }
    assert!(
        !a.is_detached(),
        "the first session was detached by the second"
    );
    a.shutdown(None);
    within(5, "shutdown of the first session", move || {
        a.wait_for_shutdown()
    });
}

#[test]
fn c_entry_points_take_null_from_rust() {
    use ffi::controller_access::*;
    use ffi::error::*;
    use ffi::notification::*;
    use ffi::session::*;
    use ffi::wrapper_function::*;
    let null_s: orc_rt_SessionRef = std::ptr::null_mut();
    // SAFETY: every pointer argument is NULL or valid, as the API allows.
    unsafe {
        let e = orc_rt_Session_waitForShutdown(null_s);
        assert!(!e.is_null());
        let m = orc_rt_Error_toString(e);
        assert!(CStr::from_ptr(m).to_str().unwrap().contains("invalid"));
        orc_rt_Error_freeErrorMessage(m);
        let e = orc_rt_Session_addNotificationService(null_s, std::ptr::null_mut());
        assert!(!e.is_null());
        orc_rt_Error_consume(e);
        let e = orc_rt_Session_attachInProcessController(null_s, std::ptr::null_mut());
        assert!(!e.is_null());
        orc_rt_Error_consume(e);
        orc_rt_Session_destroy(null_s);
        orc_rt_NotificationService_dispose(std::ptr::null_mut());
        orc_rt_InProcessController_dispose(std::ptr::null_mut());
        let mut r = orc_rt_InProcessController_callWrapperSync(
            std::ptr::null_mut(),
            None,
            WrapperFunctionBuffer::from_slice(&[7; 64]).into_raw(),
        );
        assert!(!orc_rt_WrapperFunctionBufferGetOutOfBandError(&r).is_null());
        orc_rt_DisposeWrapperFunctionBuffer(&mut r);
        orc_rt_DisposeWrapperFunctionBuffer(&mut r); // second dispose: no-op
        assert_eq!(orc_rt_WrapperFunctionBufferEmpty(&r), 1);
    }
}
