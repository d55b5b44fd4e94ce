//! C API for the Session: `orc_rt_Session_*`.
//!
//! An `orc_rt_SessionRef` is the Session's own core [`Handle`] (native
//! wrapper functions receive it), checked through `ffi::handle` like
//! every other handle. Functions accept any live Session, including one a
//! Rust host made; only Sessions made by `orc_rt_Session_create` are owned
//! by C, in the table here, and `orc_rt_Session_destroy` releases them.
//!
//! ```
//! use orc_rt::ffi::error::orc_rt_StringError_create;
//! use orc_rt::ffi::session::{
//!     orc_rt_Session_create, orc_rt_Session_destroy, orc_rt_Session_dispatch,
//!     orc_rt_Session_reportError, orc_rt_Session_setErrorReporter, orc_rt_Session_shutdown,
//!     orc_rt_Session_waitForShutdown,
//! };
//! use orc_rt::ffi::task_dispatcher::orc_rt_InPlaceTaskDispatcher_create;
//! use std::ffi::CStr;
//! use std::os::raw::{c_char, c_void};
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Mutex;
//!
//! static REPORTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
//! unsafe extern "C" fn report(_: *mut c_void, msg: *const c_char) {
//!     // SAFETY: the message is a C string, valid for the call.
//!     REPORTED
//!         .lock()
//!         .unwrap()
//!         .push(unsafe { CStr::from_ptr(msg) }.to_string_lossy().into());
//! }
//! unsafe extern "C" fn bump(ctx: *mut c_void) {
//!     // SAFETY: every `ctx` below is a pointer to a static counter.
//!     unsafe { &*(ctx as *const AtomicUsize) }.fetch_add(1, Ordering::SeqCst);
//! }
//! static TASKS_RUN: AtomicUsize = AtomicUsize::new(0);
//! static SHUTDOWNS: AtomicUsize = AtomicUsize::new(0);
//! let ctx = |c: &'static AtomicUsize| c as *const AtomicUsize as *mut c_void;
//!
//! // SAFETY: a fresh dispatcher handle, consumed by the Session.
//! let s = unsafe { orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create()) };
//! orc_rt_Session_setErrorReporter(s, Some(report), std::ptr::null_mut());
//! // SAFETY: a fresh error handle, consumed by the call.
//! unsafe { orc_rt_Session_reportError(s, orc_rt_StringError_create(c"disk full".as_ptr())) };
//! assert_eq!(*REPORTED.lock().unwrap(), ["disk full"]);
//!
//! assert!(orc_rt_Session_dispatch(s, Some(bump), None, ctx(&TASKS_RUN)).is_null());
//! assert_eq!(TASKS_RUN.load(Ordering::SeqCst), 1); // in place: already run
//! orc_rt_Session_shutdown(s, Some(bump), ctx(&SHUTDOWNS));
//! assert!(orc_rt_Session_waitForShutdown(s).is_null());
//! assert_eq!(SHUTDOWNS.load(Ordering::SeqCst), 1);
//! // After shutdown a task is not run (and there is no `Dispose` to call).
//! assert!(orc_rt_Session_dispatch(s, Some(bump), None, ctx(&TASKS_RUN)).is_null());
//! assert_eq!(TASKS_RUN.load(Ordering::SeqCst), 1);
//! orc_rt_Session_destroy(s);
//! ```

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::sync::{Arc, Mutex};

use super::controller_access::{
    controller_ref, orc_rt_ControllerHandlerTag, orc_rt_InProcessControllerRef,
};
use super::error::{error_to_ref, orc_rt_ErrorRef, result_to_ref, take_error};
use super::handle::{clone_arc, create, release, report, Castable, CtxPtr, OwnershipArc, Store};
use super::notification::{orc_rt_NotificationServiceRef, service_ref};
use super::panic::{ffi_boundary, null_default, FfiDefault};
use super::service::{orc_rt_ServiceFunctions, CService};
use super::task_dispatcher::{orc_rt_TaskDispatcherRef, take_dispatcher};
use crate::handle::Handle;
use crate::session::Session;
use crate::sync::lock;
use crate::task_dispatcher::{TaskDispatcher, ThreadPoolTaskDispatcher};
use crate::wrapper_function::native::{orc_rt_OpaqueSession, session_handle, session_ref};
use crate::wrapper_function::orc_rt_SessionRef;
use crate::wrapper_function::{orc_rt_WrapperFunctionBuffer, WrapperFunctionBuffer};
use crate::{Error, ExecutorAddr};

/// Receives the result of `orc_rt_Session_callController`: the Session,
/// the result bytes (owned by the callee; an out-of-band error if the
/// controller is detached or the Session shut down) and the context.
#[allow(non_camel_case_types)]
pub type orc_rt_Session_CallControllerReturn = Option<
    unsafe extern "C" fn(
        S: orc_rt_SessionRef,
        ResultBytes: orc_rt_WrapperFunctionBuffer,
        Ctx: *mut c_void,
    ),
>;

/// A completion callback (detach, shutdown) with its context.
#[allow(non_camel_case_types)]
pub type orc_rt_Session_OnCompleteFn = Option<unsafe extern "C" fn(Ctx: *mut c_void)>;

/// An error reporter: gets its context and the error message (valid for the
/// duration of the call only). May be called from any thread, concurrently.
#[allow(non_camel_case_types)]
pub type orc_rt_Session_ErrorReporterFn =
    Option<unsafe extern "C" fn(Ctx: *mut c_void, Msg: *const c_char)>;

/// A task body for `orc_rt_Session_dispatch`.
#[allow(non_camel_case_types)]
pub type orc_rt_Session_TaskFn = Option<unsafe extern "C" fn(Ctx: *mut c_void)>;

null_default!(orc_rt_SessionRef);

/// The Sessions C owns (made by `orc_rt_Session_create`, not destroyed
/// yet), keyed by their core handle. Lookups ([`Store::with`]) accept any
/// live Session: a native wrapper function gets the handle of whichever
/// Session called it, C-owned or not.
pub(crate) struct Sessions {
    owned: Mutex<BTreeMap<Handle, Arc<Session>>>,
}

static SESSIONS: Sessions = Sessions {
    owned: Mutex::new(BTreeMap::new()),
};

impl Store<Arc<Session>> for Sessions {
    fn insert(&self, s: Arc<Session>) -> Handle {
        let h = s.handle();
        lock(&self.owned).insert(h, s);
        h
    }
    fn with<R>(&self, h: Handle, f: impl FnOnce(&mut Arc<Session>) -> R) -> Option<R> {
        let mut s = Session::from_handle(h)?;
        Some(f(&mut s))
    }
    fn remove(&self, h: Handle) -> Option<Arc<Session>> {
        let mut o = lock(&self.owned);
        let s = o.remove(&h);
        if o.is_empty() {
            // Free the nodes so leak checkers see nothing left behind.
            *o = BTreeMap::new();
        }
        s
    }
}

impl Castable for orc_rt_OpaqueSession {
    type Ownership = OwnershipArc;
    type Value = Arc<Session>;
    type Store = Sessions;
    const NAME: &'static str = "orc_rt_SessionRef";
    fn store() -> &'static Self::Store {
        &SESSIONS
    }
    // The core's mapping: the handle native wrapper functions receive.
    fn to_c(h: Handle) -> orc_rt_SessionRef {
        session_ref(h)
    }
    fn from_c(p: orc_rt_SessionRef) -> Handle {
        session_handle(p)
    }
}

/// A new reference to the live Session behind `s`.
pub(crate) fn session(s: orc_rt_SessionRef) -> Result<Arc<Session>, Error> {
    clone_arc(s)
}

fn on_complete(
    f: orc_rt_Session_OnCompleteFn,
    ctx: *mut c_void,
) -> Option<crate::session::OnCompleteFn> {
    let f = f?;
    let ctx = CtxPtr(ctx);
    Some(Box::new(move || {
        let ctx = ctx;
        // SAFETY: registrant promise on F and Ctx (any thread).
        unsafe { f(ctx.0) }
    }))
}

/// Creates a Session running its tasks on dispatcher `D`, which it consumes
/// (NULL: a thread pool with one worker per CPU). The caller owns the
/// result and releases it with `orc_rt_Session_destroy`. Returns NULL (with
/// an error logged, see orc_rt_log_setCallback) if the default thread pool cannot be started.
///
/// A Session belongs to the process that created it: its threads exist
/// only there. In a child forked afterwards (without exec), calls on it
/// fail at once instead of hanging, with an error that names both process
/// ids (an out-of-band error for calls, an `orc_rt_ErrorRef` where the
/// function returns one, the error reporter otherwise), and
/// `orc_rt_Session_destroy` leaks it without waiting. Create a new Session
/// in the child instead.
///
/// # Safety
/// Any value of `D` is accepted (handles are checked).
// (`unsafe` only so that existing Rust callers compile unchanged.)
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Session_create(D: orc_rt_TaskDispatcherRef) -> orc_rt_SessionRef {
    ffi_boundary!("orc_rt_Session_create", {
        let d: Arc<dyn TaskDispatcher> = match take_dispatcher(D) {
            Ok(Some(d)) => d,
            Ok(None) => match ThreadPoolTaskDispatcher::with_default_threads() {
                Ok(p) => Arc::new(p),
                Err(e) => {
                    report("orc_rt_Session_create", e);
                    return std::ptr::null_mut();
                }
            },
            Err(bad) => {
                report("orc_rt_Session_create", bad);
                return std::ptr::null_mut();
            }
        };
        create(Session::new(d))
    })
}

/// Destroys a Session made by `orc_rt_Session_create`: starts shutdown if
/// needed and blocks until it completes, then releases the Session. Called
/// from one of the Session's own tasks or callbacks it does not wait (that
/// would deadlock): shutdown then finishes in the background.
///
/// Shutdown waits for every in-flight incoming call to return and for
/// every Service to complete its notifications, so this blocks forever if a
/// native wrapper function never calls its `Return`, or a Service never
/// completes its `orc_rt_ServiceCompletionRef`: bound that wait with
/// `orc_rt_Session_shutdownAndWaitTimeout` first, after whose timeout this
/// does not wait. Calls to the controller
/// still unanswered are failed before shutdown completes: their `Return`
/// has run (with an out-of-band error) when this returns, and a late reply
/// reaches nothing.
///
/// A Session C does not own (made by a Rust host) is not destroyed; the
/// misuse goes to its error reporter. Any thread.
#[no_mangle]
pub extern "C" fn orc_rt_Session_destroy(S: orc_rt_SessionRef) {
    ffi_boundary!("orc_rt_Session_destroy", {
        match release(S) {
            Ok(Some(s)) => {
                // Wait here even if another thread still holds a reference
                // for a moment (a call racing this one): destroy means "shut
                // down and gone" for the caller. From the Session's own
                // context this returns an error at once, and dropping the
                // Session lets shutdown finish in the background, as it
                // does after orc_rt_Session_shutdownAndWaitTimeout timed
                // out.
                s.shutdown(None);
                if s.waits_on_drop() {
                    let _ = s.try_wait_for_shutdown();
                }
                drop(s);
            }
            Ok(None) => {}
            Err(bad) => match session(S) {
                Ok(live) => live.report_error(Error::msg(format!(
                    "orc_rt_Session_destroy: {S:p} is a Session that C does not own \
                     (not made by orc_rt_Session_create); not destroyed"
                ))),
                Err(_) => report("orc_rt_Session_destroy", bad),
            },
        }
    })
}

/// Sets the error reporter: `F(Ctx, Msg)` for every error the Session
/// cannot return (service failures, panics in callbacks...). NULL `F`
/// restores the default: log it at ORC_RT_LOG_LEVEL_ERROR in
/// orc_rt_log_Category_Session (see orc_rt_log_setCallback; without a log
/// callback, `orc-rt: error: <msg>` on stderr). Any
/// thread; `Ctx` must stay valid until the Session is destroyed or the
/// reporter replaced.
#[no_mangle]
pub extern "C" fn orc_rt_Session_setErrorReporter(
    S: orc_rt_SessionRef,
    F: orc_rt_Session_ErrorReporterFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_Session_setErrorReporter", {
        let s = match session(S) {
            Ok(s) => s,
            Err(bad) => return report("orc_rt_Session_setErrorReporter", bad),
        };
        let ctx = CtxPtr(Ctx);
        match F {
            Some(f) => s.set_error_reporter(Box::new(move |e: Error| {
                let ctx = &ctx;
                let msg = CString::new(e.to_string().replace('\0', " ")).unwrap_or_default();
                // SAFETY: registrant promise on F and Ctx; msg outlives the call.
                unsafe { f(ctx.0, msg.as_ptr()) }
            })),
            None => s.set_error_reporter(Box::new(crate::error::report_session_error)),
        }
    })
}

/// Reports `E` through the Session's error reporter (consumes `E`; NULL
/// reports nothing). If `S` is refused, `E` is logged instead.
/// Any thread.
#[no_mangle]
pub extern "C" fn orc_rt_Session_reportError(S: orc_rt_SessionRef, E: orc_rt_ErrorRef) {
    ffi_boundary!("orc_rt_Session_reportError", {
        let e = take_error(E).err();
        match (session(S), e) {
            (Ok(s), Some(e)) => s.report_error(e),
            (Ok(_), None) => {}
            (Err(bad), None) => report("orc_rt_Session_reportError", bad),
            (Err(bad), Some(e)) => report(
                "orc_rt_Session_reportError",
                Error::msg(format!("{e} (not delivered: {bad})")),
            ),
        }
    })
}

/// Adds a Service implemented in C (see `orc_rt_ServiceFunctions`).
/// Services are notified in reverse order of addition. Returns an error if
/// shutdown has started; on any error `Fns.Destroy` runs at once.
/// Any thread; does not block (a Service added after detach gets its
/// OnDetach call on this thread).
#[no_mangle]
pub extern "C" fn orc_rt_Session_addService(
    S: orc_rt_SessionRef,
    Fns: orc_rt_ServiceFunctions,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_addService", {
        let svc = Arc::new(CService::new(&Fns));
        result_to_ref(session(S).and_then(|s| s.add_service(svc)))
    })
}

/// Adds notification service `N` at this position of the service order
/// (the Session takes its own reference; the caller keeps `N`). Errors as
/// `orc_rt_Session_addService`.
#[no_mangle]
pub extern "C" fn orc_rt_Session_addNotificationService(
    S: orc_rt_SessionRef,
    N: orc_rt_NotificationServiceRef,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_addNotificationService", {
        let r = session(S).and_then(|s| s.add_service(service_ref(N)?));
        result_to_ref(r)
    })
}

/// Attaches in-process controller `C` (the Session takes its own
/// reference). Returns an error if the Session already has a controller or
/// has detached, shutdown has started, or `C` already serves another
/// Session (one controller serves one Session, even after it was
/// disconnected); the Session is then left as it was and may attach
/// another controller. Any thread; do not race it with
/// `orc_rt_Session_shutdown`.
#[no_mangle]
pub extern "C" fn orc_rt_Session_attachInProcessController(
    S: orc_rt_SessionRef,
    C: orc_rt_InProcessControllerRef,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_attachInProcessController", {
        let r = session(S).and_then(|s| s.attach(controller_ref(C)?));
        result_to_ref(r)
    })
}

/// Calls the controller handler identified by `T` with `ArgBytes`
/// (consumed). `Return(S, ResultBytes, ReturnCtx)` is called exactly once,
/// with the `S` given here:
///
/// - with the handler's result, on the thread that answers;
/// - with an out-of-band error at once, on this thread, if the controller
///   is not attached ("controller is detached: ...") or shutdown has
///   started ("session is shut down");
/// - with an out-of-band error ("session is shutting down: ...") during
///   shutdown if the controller has not answered by then. Shutdown does not
///   complete, and `orc_rt_Session_destroy` does not return, before that;
///   an answer that comes later reaches nothing.
///
/// Any thread; never blocks for the reply. NULL `Return` discards the
/// result.
///
/// # Safety
/// `ArgBytes` is a valid buffer owned by the caller; `Return(.., ReturnCtx)`
/// is safe to call once from any thread.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Session_callController(
    S: orc_rt_SessionRef,
    T: orc_rt_ControllerHandlerTag,
    ArgBytes: orc_rt_WrapperFunctionBuffer,
    Return: orc_rt_Session_CallControllerReturn,
    ReturnCtx: *mut c_void,
) {
    ffi_boundary!("orc_rt_Session_callController", {
        // SAFETY: caller promise: ArgBytes is ours.
        let args = unsafe { WrapperFunctionBuffer::from_raw(ArgBytes) };
        // Return gets back the very handle it was called with.
        let h = orc_rt_OpaqueSession::from_c(S);
        let ctx = CtxPtr(ReturnCtx);
        let cb = move |r: WrapperFunctionBuffer| {
            let ctx = ctx;
            match Return {
                // SAFETY: caller promise on Return/ReturnCtx; result handed over.
                Some(f) => unsafe { f(orc_rt_OpaqueSession::to_c(h), r.into_raw(), ctx.0) },
                None => drop(r),
            }
        };
        match session(S) {
            Ok(s) => s.call_controller(ExecutorAddr(T as u64), args, Box::new(cb)),
            Err(bad) => cb(WrapperFunctionBuffer::out_of_band_error(&format!(
                "orc_rt_Session_callController: {bad}"
            ))),
        }
    })
}

/// Runs `Run(Ctx)` as a task on the Session's dispatcher. Exactly one of
/// `Run(Ctx)` or `Dispose(Ctx)` (if not NULL) is called: `Dispose` when the
/// task is dropped unrun (queued at shutdown, or dispatched after it).
/// Returns an error for a NULL `Run`; on any error neither is called and
/// `Ctx` stays the caller's. Any thread.
#[no_mangle]
pub extern "C" fn orc_rt_Session_dispatch(
    S: orc_rt_SessionRef,
    Run: orc_rt_Session_TaskFn,
    Dispose: orc_rt_Session_TaskFn,
    Ctx: *mut c_void,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_dispatch", {
        struct CTask {
            run: Option<unsafe extern "C" fn(*mut c_void)>,
            dispose: Option<unsafe extern "C" fn(*mut c_void)>,
            ctx: CtxPtr,
        }
        impl Drop for CTask {
            fn drop(&mut self) {
                if let (Some(_), Some(d)) = (self.run, self.dispose) {
                    // SAFETY: registrant promise on Dispose/Ctx.
                    unsafe { d(self.ctx.0) }
                }
            }
        }
        let s = match session(S) {
            Ok(s) => s,
            Err(e) => return error_to_ref(e),
        };
        if Run.is_none() {
            return error_to_ref(Error::msg("orc_rt_Session_dispatch: NULL Run"));
        }
        let t = CTask {
            run: Run,
            dispose: Dispose,
            ctx: CtxPtr(Ctx),
        };
        s.dispatch(Box::new(move || {
            let mut t = t;
            if let Some(r) = t.run.take() {
                // SAFETY: registrant promise on Run/Ctx.
                unsafe { r(t.ctx.0) }
            }
        }));
        std::ptr::null_mut()
    })
}

/// Starts detaching from the controller (disconnecting it if attached);
/// Services get OnDetach, then `OnDetach(Ctx)` runs (at once, on this
/// thread, if already detached; NULL for none). Any thread; never blocks.
#[no_mangle]
pub extern "C" fn orc_rt_Session_detach(
    S: orc_rt_SessionRef,
    OnDetach: orc_rt_Session_OnCompleteFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_Session_detach", {
        match session(S) {
            Ok(s) => s.detach(on_complete(OnDetach, Ctx)),
            Err(bad) => report("orc_rt_Session_detach", bad),
        }
    })
}

/// Blocks until the Session has detached: forever if the controller never
/// goes away and nobody detaches or shuts the Session down, or if a
/// Service never completes its OnDetach. Returns at once (reporting an
/// error) when called from one of the Session's own lifecycle callbacks.
#[no_mangle]
pub extern "C" fn orc_rt_Session_waitForDetach(S: orc_rt_SessionRef) {
    ffi_boundary!("orc_rt_Session_waitForDetach", {
        match session(S) {
            Ok(s) => s.wait_for_detach(),
            Err(bad) => report("orc_rt_Session_waitForDetach", bad),
        }
    })
}

/// Starts shutdown (idempotent): detach, wait for in-flight calls, Services'
/// OnShutdown in reverse order of addition, dispatcher shutdown, then
/// `OnShutdown(Ctx)` (at once if already shut down; NULL for none). Any
/// thread, including the Session's own tasks and callbacks; never blocks.
#[no_mangle]
pub extern "C" fn orc_rt_Session_shutdown(
    S: orc_rt_SessionRef,
    OnShutdown: orc_rt_Session_OnCompleteFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_Session_shutdown", {
        match session(S) {
            Ok(s) => s.shutdown(on_complete(OnShutdown, Ctx)),
            Err(bad) => report("orc_rt_Session_shutdown", bad),
        }
    })
}

/// Blocks until shutdown has completed. It does not start shutdown, so it
/// waits forever if shutdown is never requested (`orc_rt_Session_shutdown`,
/// or `orc_rt_Session_destroy` on another thread); and, like
/// `orc_rt_Session_destroy`, forever if a native wrapper function never
/// calls its `Return` or a Service never completes a notification. Returns
/// an error without waiting when called from one of the Session's own
/// tasks or lifecycle callbacks (it would deadlock). Any other thread,
/// several at once.
#[no_mangle]
pub extern "C" fn orc_rt_Session_waitForShutdown(S: orc_rt_SessionRef) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_waitForShutdown", {
        result_to_ref(session(S).and_then(|s| s.try_wait_for_shutdown()))
    })
}

/// Starts shutdown and waits at most `TimeoutMs` milliseconds for it to
/// complete. Returns NULL once it has completed, or an error ("timed out:
/// session shutdown did not complete within ...", saying what it still
/// waits for) if it has not; shutdown then goes on in the background, and
/// `orc_rt_Session_destroy` no longer waits for it. Returns an error at once
/// from one of the Session's own tasks or lifecycle callbacks, for a
/// refused handle, or in a forked child. Any other thread.
#[no_mangle]
pub extern "C" fn orc_rt_Session_shutdownAndWaitTimeout(
    S: orc_rt_SessionRef,
    TimeoutMs: u64,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_shutdownAndWaitTimeout", {
        let timeout = std::time::Duration::from_millis(TimeoutMs);
        result_to_ref(session(S).and_then(|s| s.shutdown_and_wait_timeout(timeout)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::controller_access::{
        orc_rt_InProcessController_callWrapper, orc_rt_InProcessController_create,
        orc_rt_InProcessController_dispose,
    };
    use crate::ffi::error::take_error;
    use crate::wrapper_function::{orc_rt_WrapperFunctionBuffer, orc_rt_WrapperFunctionReturn};
    use crate::WrapperFunctionBuffer;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// The (Session, CallId, Return) of the call `hold` has not answered.
    static HELD: Mutex<Option<(usize, u64, orc_rt_WrapperFunctionReturn)>> = Mutex::new(None);
    static RESULTS: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn hold(
        S: orc_rt_SessionRef,
        CallId: u64,
        Return: orc_rt_WrapperFunctionReturn,
        ArgBytes: orc_rt_WrapperFunctionBuffer,
    ) {
        // SAFETY: the Session hands over the argument buffer.
        drop(unsafe { WrapperFunctionBuffer::from_raw(ArgBytes) });
        *crate::sync::lock(&HELD) = Some((S as usize, CallId, Return));
    }

    unsafe extern "C" fn on_result(_: *mut c_void, R: orc_rt_WrapperFunctionBuffer) {
        // SAFETY: the result is ours.
        drop(unsafe { WrapperFunctionBuffer::from_raw(R) });
        RESULTS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn shutdown_with_a_timeout_then_destroy_does_not_wait() {
        // SAFETY: NULL asks for the default dispatcher.
        let s = unsafe { orc_rt_Session_create(std::ptr::null_mut()) };
        let c = orc_rt_InProcessController_create();
        assert!(orc_rt_Session_attachInProcessController(s, c).is_null());
        let args = WrapperFunctionBuffer::from_slice(b"x").into_raw();
        // SAFETY: a native function, our buffer, a callback safe anywhere.
        unsafe {
            orc_rt_InProcessController_callWrapper(
                c,
                Some(hold),
                args,
                Some(on_result),
                std::ptr::null_mut(),
            )
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while crate::sync::lock(&HELD).is_none() {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let e = take_error(orc_rt_Session_shutdownAndWaitTimeout(s, 50)).unwrap_err();
        let m = e.to_string();
        assert!(
            m.starts_with("timed out: session shutdown did not complete within 50ms"),
            "{m}"
        );
        let t0 = std::time::Instant::now();
        orc_rt_Session_destroy(s);
        assert!(t0.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(RESULTS.load(Ordering::SeqCst), 0);
        // The held call still gets its answer through.
        let (hs, id, ret) = crate::sync::lock(&HELD).take().unwrap();
        let r = WrapperFunctionBuffer::from_slice(b"late").into_raw();
        // SAFETY: the Return of the held call, called once.
        unsafe { ret.unwrap()(hs as orc_rt_SessionRef, id, r) };
        assert_eq!(RESULTS.load(Ordering::SeqCst), 1);
        orc_rt_InProcessController_dispose(c);
    }
}
