//! C API for the Session: `orc_rt_Session_*`.
//!
//! A Session made with `orc_rt_Session_create` is owned by the caller until
//! `orc_rt_Session_destroy`; its `orc_rt_SessionRef` is valid until then.
//! Every function checks `S` against the registry of live Sessions: NULL or
//! a stale handle gives an error (or, for functions without a result, a
//! message on stderr), never a crash. Do not race `orc_rt_Session_destroy`
//! with other calls on the same Session.
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

use std::collections::HashMap;
use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::sync::{Arc, Mutex, OnceLock};

use super::controller_access::{
    controller_ref, orc_rt_ControllerHandlerTag, orc_rt_InProcessControllerRef,
};
use super::error::{error_from_ref, error_to_ref, orc_rt_ErrorRef, result_to_ref};
use super::notification::{orc_rt_NotificationServiceRef, service_ref};
use super::panic::{ffi_boundary, null_default, FfiDefault};
use super::service::{orc_rt_ServiceFunctions, CService};
use super::task_dispatcher::{orc_rt_TaskDispatcherRef, take_dispatcher};
use crate::session::Session;
use crate::task_dispatcher::{TaskDispatcher, ThreadPoolTaskDispatcher};
use crate::wrapper_function::native::{session_handle, session_ref};
use crate::wrapper_function::orc_rt_SessionRef;
use crate::wrapper_function::{orc_rt_WrapperFunctionBuffer, WrapperFunctionBuffer};
use crate::{Error, ExecutorAddr};

/// A C context pointer carried into callbacks that may run on other
/// threads.
#[derive(Clone, Copy)]
pub(crate) struct CtxPtr(pub(crate) *mut c_void);

// SAFETY: every C function taking a `Ctx` documents that it must be usable
// from any thread; the pointer itself is never dereferenced by Rust.
unsafe impl Send for CtxPtr {}
// SAFETY: as above.
unsafe impl Sync for CtxPtr {}

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

fn owned() -> &'static Mutex<HashMap<usize, Arc<Session>>> {
    static O: OnceLock<Mutex<HashMap<usize, Arc<Session>>>> = OnceLock::new();
    O.get_or_init(|| Mutex::new(HashMap::new()))
}

fn session(s: orc_rt_SessionRef) -> Result<Arc<Session>, Error> {
    Session::from_handle(session_handle(s))
        .ok_or_else(|| Error::msg(format!("invalid or destroyed orc_rt_SessionRef {s:p}")))
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
/// a message on stderr) if the default thread pool cannot be started.
///
/// # Safety
/// `D` is NULL or a live dispatcher handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Session_create(D: orc_rt_TaskDispatcherRef) -> orc_rt_SessionRef {
    ffi_boundary!("orc_rt_Session_create", {
        // SAFETY: caller promise on D.
        let d: Arc<dyn TaskDispatcher> = match unsafe { take_dispatcher(D) } {
            Some(d) => d,
            None => match ThreadPoolTaskDispatcher::with_default_threads() {
                Ok(p) => Arc::new(p),
                Err(e) => {
                    eprintln!("orc-rt: error: orc_rt_Session_create: {e}");
                    return std::ptr::null_mut();
                }
            },
        };
        let s = Session::new(d);
        let r = session_ref(s.handle());
        owned()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(r as usize, s);
        r
    })
}

/// Destroys a Session made by `orc_rt_Session_create`: shuts it down if
/// needed and blocks until shutdown completes (unless called from one of
/// the Session's own tasks or callbacks, where it returns without waiting
/// and shutdown finishes in the background). NULL is a no-op; an unknown
/// handle is reported on stderr. `S` is invalid afterwards.
#[no_mangle]
pub extern "C" fn orc_rt_Session_destroy(S: orc_rt_SessionRef) {
    ffi_boundary!("orc_rt_Session_destroy", {
        if S.is_null() {
            return;
        }
        let s = {
            let mut o = owned().lock().unwrap_or_else(|e| e.into_inner());
            let s = o.remove(&(S as usize));
            if o.is_empty() {
                // Free the table so leak checkers see nothing left behind.
                *o = HashMap::new();
            }
            s
        };
        match s {
            Some(s) => drop(s),
            None => eprintln!("orc-rt: error: orc_rt_Session_destroy: unknown session {S:p}"),
        }
    })
}

/// Sets the error reporter: `F(Ctx, Msg)` for every error the Session
/// cannot return (service failures, panics in callbacks...). NULL `F`
/// restores the default (print `orc-rt: error: <msg>` to stderr). Any
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
            Err(e) => return eprintln!("orc-rt: error: orc_rt_Session_setErrorReporter: {e}"),
        };
        let ctx = CtxPtr(Ctx);
        match F {
            Some(f) => s.set_error_reporter(Box::new(move |e: Error| {
                let ctx = &ctx;
                let msg = CString::new(e.to_string().replace('\0', " ")).unwrap_or_default();
                // SAFETY: registrant promise on F and Ctx; msg outlives the call.
                unsafe { f(ctx.0, msg.as_ptr()) }
            })),
            None => s.set_error_reporter(Box::new(|e| eprintln!("orc-rt: error: {e}"))),
        }
    })
}

/// Reports `E` through the Session's error reporter (consumes `E`; NULL
/// is a no-op). Any thread.
///
/// # Safety
/// `E` is NULL or a live error handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Session_reportError(S: orc_rt_SessionRef, E: orc_rt_ErrorRef) {
    ffi_boundary!("orc_rt_Session_reportError", {
        // SAFETY: caller promise on E.
        let Some(e) = (unsafe { error_from_ref(E) }) else {
            return;
        };
        match session(S) {
            Ok(s) => s.report_error(e),
            Err(bad) => eprintln!("orc-rt: error: {e} ({bad})"),
        }
    })
}

/// Adds a Service implemented in C (see `orc_rt_ServiceFunctions`).
/// Services are notified in reverse order of addition. Returns an error if
/// `S` is invalid or shutdown has started; `Fns.Destroy` then runs at once.
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
/// `orc_rt_Session_addService`, and for NULL `N`.
///
/// # Safety
/// `N` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Session_addNotificationService(
    S: orc_rt_SessionRef,
    N: orc_rt_NotificationServiceRef,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_addNotificationService", {
        // SAFETY: caller promise on N.
        let Some(n) = (unsafe { service_ref(N) }) else {
            return error_to_ref(Error::msg(
                "orc_rt_Session_addNotificationService: NULL service",
            ));
        };
        result_to_ref(session(S).and_then(|s| s.add_service(n.clone())))
    })
}

/// Attaches in-process controller `C` (the Session takes its own
/// reference). Fails if `S` or `C` is invalid, a controller was already
/// attached, the Session has detached, or shutdown has started. Any thread;
/// do not race it with `orc_rt_Session_shutdown`.
///
/// # Safety
/// `C` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Session_attachInProcessController(
    S: orc_rt_SessionRef,
    C: orc_rt_InProcessControllerRef,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_attachInProcessController", {
        // SAFETY: caller promise on C.
        let Some(c) = (unsafe { controller_ref(C) }) else {
            return error_to_ref(Error::msg(
                "orc_rt_Session_attachInProcessController: NULL controller",
            ));
        };
        result_to_ref(session(S).and_then(|s| s.attach(c.clone())))
    })
}

/// Calls the controller handler identified by `T` with `ArgBytes`
/// (consumed). `Return(S, ResultBytes, ReturnCtx)` is called exactly once:
/// with the handler's result, or with an out-of-band error ("controller is
/// detached: ...", "session is shut down", invalid `S`) immediately on this
/// thread. Any thread; never blocks for the reply. NULL `Return` discards
/// the result.
///
/// # Safety
/// `ArgBytes` is a valid buffer owned by the caller; `Return`/`ReturnCtx`
/// may be called from any thread.
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
        let (sref, ctx) = (CtxPtr(S as *mut c_void), CtxPtr(ReturnCtx));
        let cb = move |r: WrapperFunctionBuffer| {
            let (sref, ctx) = (sref, ctx);
            match Return {
                // SAFETY: caller promise on Return/ReturnCtx; result handed over.
                Some(f) => unsafe { f(sref.0 as orc_rt_SessionRef, r.into_raw(), ctx.0) },
                None => drop(r),
            }
        };
        match session(S) {
            Ok(s) => s.call_controller(ExecutorAddr(T as u64), args, Box::new(cb)),
            Err(e) => cb(WrapperFunctionBuffer::out_of_band_error(&e.to_string())),
        }
    })
}

/// Runs `Run(Ctx)` as a task on the Session's dispatcher. Exactly one of
/// `Run(Ctx)` or `Dispose(Ctx)` (if not NULL) is called: `Dispose` when the
/// task is dropped unrun (queued at shutdown, or dispatched after it).
/// Returns an error only for an invalid `S` or NULL `Run`; then neither is
/// called and `Ctx` stays the caller's. Any thread.
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
/// For an invalid `S` nothing is called (a message goes to stderr).
#[no_mangle]
pub extern "C" fn orc_rt_Session_detach(
    S: orc_rt_SessionRef,
    OnDetach: orc_rt_Session_OnCompleteFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_Session_detach", {
        match session(S) {
            Ok(s) => s.detach(on_complete(OnDetach, Ctx)),
            Err(e) => eprintln!("orc-rt: error: orc_rt_Session_detach: {e}"),
        }
    })
}

/// Blocks until the Session has detached (forever if nobody detaches or
/// shuts down). Returns at once for an invalid `S`.
#[no_mangle]
pub extern "C" fn orc_rt_Session_waitForDetach(S: orc_rt_SessionRef) {
    ffi_boundary!("orc_rt_Session_waitForDetach", {
        match session(S) {
            Ok(s) => s.wait_for_detach(),
            Err(e) => eprintln!("orc-rt: error: orc_rt_Session_waitForDetach: {e}"),
        }
    })
}

/// Starts shutdown (idempotent): detach, wait for in-flight calls, Services'
/// OnShutdown in reverse order of addition, dispatcher shutdown, then
/// `OnShutdown(Ctx)` (at once if already shut down; NULL for none). Any
/// thread, including the Session's own tasks and callbacks; never blocks.
/// For an invalid `S` nothing is called (a message goes to stderr).
#[no_mangle]
pub extern "C" fn orc_rt_Session_shutdown(
    S: orc_rt_SessionRef,
    OnShutdown: orc_rt_Session_OnCompleteFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_Session_shutdown", {
        match session(S) {
            Ok(s) => s.shutdown(on_complete(OnShutdown, Ctx)),
            Err(e) => eprintln!("orc-rt: error: orc_rt_Session_shutdown: {e}"),
        }
    })
}

/// Blocks until shutdown has completed (start it with
/// `orc_rt_Session_shutdown`). Returns an error without waiting for an
/// invalid `S` or when called from one of the Session's own tasks or
/// lifecycle callbacks (it would deadlock).
#[no_mangle]
pub extern "C" fn orc_rt_Session_waitForShutdown(S: orc_rt_SessionRef) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_waitForShutdown", {
        result_to_ref(session(S).and_then(|s| s.try_wait_for_shutdown()))
    })
}
