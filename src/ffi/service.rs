//! C API for Services implemented in C: `orc_rt_ServiceFunctions` and the
//! completion handle `orc_rt_ServiceCompletionRef`.
//!
//! The Session treats such a Service like a Rust one: it notifies it on
//! detach and shutdown in reverse order of addition and waits for each
//! completion, which may come from any thread; an error passed to the
//! completion goes to the Session's error reporter.
//!
//! ```
//! use orc_rt::ffi::error::orc_rt_StringError_create;
//! use orc_rt::ffi::service::{
//!     orc_rt_ServiceCompletionRef, orc_rt_ServiceCompletion_complete, orc_rt_ServiceFunctions,
//! };
//! use orc_rt::ffi::session::{
//!     orc_rt_Session_addService, orc_rt_Session_create, orc_rt_Session_destroy,
//!     orc_rt_Session_setErrorReporter,
//! };
//! use orc_rt::ffi::task_dispatcher::orc_rt_InPlaceTaskDispatcher_create;
//! use std::ffi::CStr;
//! use std::os::raw::{c_char, c_int, c_void};
//! use std::sync::Mutex;
//!
//! static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
//!
//! unsafe extern "C" fn on_detach(
//!     _: *mut c_void,
//!     shutdown: c_int,
//!     done: orc_rt_ServiceCompletionRef,
//! ) {
//!     LOG.lock().unwrap().push(format!("detach {shutdown}"));
//!     // SAFETY: `done` is ours, completed once; a NULL error is success.
//!     unsafe { orc_rt_ServiceCompletion_complete(done, std::ptr::null_mut()) }
//! }
//! unsafe extern "C" fn on_shutdown(_: *mut c_void, done: orc_rt_ServiceCompletionRef) {
//!     let done = done as usize;
//!     // Completes later, from another thread, with an error.
//!     std::thread::spawn(move || {
//!         // SAFETY: as above; the error handle is handed over.
//!         unsafe {
//!             let e = orc_rt_StringError_create(c"could not flush the cache".as_ptr());
//!             orc_rt_ServiceCompletion_complete(done as orc_rt_ServiceCompletionRef, e)
//!         }
//!     });
//! }
//! unsafe extern "C" fn destroy(_: *mut c_void) {
//!     LOG.lock().unwrap().push("destroy".to_string());
//! }
//! unsafe extern "C" fn report(_: *mut c_void, msg: *const c_char) {
//!     // SAFETY: the message is a C string, valid for the call.
//!     let msg = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
//!     LOG.lock().unwrap().push(format!("error: {msg}"));
//! }
//!
//! let fns = orc_rt_ServiceFunctions {
//!     Ctx: std::ptr::null_mut(),
//!     OnDetach: Some(on_detach),
//!     OnShutdown: Some(on_shutdown),
//!     Destroy: Some(destroy),
//! };
//! // SAFETY: a fresh dispatcher handle, consumed by the Session.
//! let s = unsafe { orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create()) };
//! orc_rt_Session_setErrorReporter(s, Some(report), std::ptr::null_mut());
//! assert!(orc_rt_Session_addService(s, fns).is_null());
//! orc_rt_Session_destroy(s);
//! assert_eq!(
//!     *LOG.lock().unwrap(),
//!     ["detach 1", "error: could not flush the cache", "destroy"]
//! );
//! ```

use std::os::raw::{c_int, c_void};

use super::error::{orc_rt_ErrorRef, take_error};
use super::handle::CtxPtr;
use super::handle::{consume, create, report, Castable, OwnershipBox};
use super::panic::ffi_boundary;
use crate::handle::{HandleKind, HandleTable};
use crate::service::{OnCompleteFn, Service};
use crate::Error;

/// Opaque completion object (see `orc_rt_ServiceCompletionRef`).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct orc_rt_OpaqueServiceCompletion {
    _private: [u8; 0],
}

/// Completion of one Service notification. The Service owns it and must
/// pass it to `orc_rt_ServiceCompletion_complete` exactly once (from any
/// thread, before or after returning). The Session waits for it.
#[allow(non_camel_case_types)]
pub type orc_rt_ServiceCompletionRef = *mut orc_rt_OpaqueServiceCompletion;

/// A Service implemented in C.
///
/// `OnDetach(Ctx, ShutdownRequested, Done)` is called once when the
/// controller detaches (`ShutdownRequested` is 1 if the detach is part of
/// shutdown); `OnShutdown(Ctx, Done)` once when the Session shuts down,
/// after `OnDetach`. Services are notified in reverse order of addition, on
/// a Session lifecycle thread; each must complete `Done` exactly once. A
/// NULL `OnDetach` / `OnShutdown` completes at once. `Destroy` (may be NULL)
/// is called once when the Session releases the service (when it is
/// destroyed). `Ctx` must be usable from any thread.
#[repr(C)]
#[allow(non_camel_case_types, non_snake_case)]
#[derive(Debug)]
pub struct orc_rt_ServiceFunctions {
    /// Context passed to every function.
    pub Ctx: *mut c_void,
    /// Detach notification (optional).
    pub OnDetach: Option<
        unsafe extern "C" fn(
            Ctx: *mut c_void,
            ShutdownRequested: c_int,
            Done: orc_rt_ServiceCompletionRef,
        ),
    >,
    /// Shutdown notification (optional).
    pub OnShutdown:
        Option<unsafe extern "C" fn(Ctx: *mut c_void, Done: orc_rt_ServiceCompletionRef)>,
    /// Releases `Ctx` (optional).
    pub Destroy: Option<unsafe extern "C" fn(Ctx: *mut c_void)>,
}

/// A C Service adapted to the Rust trait.
pub(crate) struct CService {
    ctx: CtxPtr,
    on_detach: Option<unsafe extern "C" fn(*mut c_void, c_int, orc_rt_ServiceCompletionRef)>,
    on_shutdown: Option<unsafe extern "C" fn(*mut c_void, orc_rt_ServiceCompletionRef)>,
    destroy: Option<unsafe extern "C" fn(*mut c_void)>,
}

impl CService {
    pub(crate) fn new(f: &orc_rt_ServiceFunctions) -> Self {
        CService {
            ctx: CtxPtr(f.Ctx),
            on_detach: f.OnDetach,
            on_shutdown: f.OnShutdown,
            destroy: f.Destroy,
        }
    }
}

static COMPLETIONS: HandleTable<OnCompleteFn> = HandleTable::new(HandleKind::ServiceCompletion);

impl Castable for orc_rt_OpaqueServiceCompletion {
    type Ownership = OwnershipBox;
    type Value = OnCompleteFn;
    type Store = HandleTable<OnCompleteFn>;
    const NAME: &'static str = "orc_rt_ServiceCompletionRef";
    fn store() -> &'static Self::Store {
        &COMPLETIONS
    }
}

fn completion(done: OnCompleteFn) -> orc_rt_ServiceCompletionRef {
    create(done)
}

impl Service for CService {
    fn on_detach(&self, on_complete: OnCompleteFn, shutdown_requested: bool) {
        match self.on_detach {
            // SAFETY: C implementer promise (orc_rt_ServiceFunctions docs).
            Some(f) => unsafe {
                f(
                    self.ctx.0,
                    shutdown_requested as c_int,
                    completion(on_complete),
                )
            },
            None => on_complete(Ok(())),
        }
    }
    fn on_shutdown(&self, on_complete: OnCompleteFn) {
        match self.on_shutdown {
            // SAFETY: C implementer promise (orc_rt_ServiceFunctions docs).
            Some(f) => unsafe { f(self.ctx.0, completion(on_complete)) },
            None => on_complete(Ok(())),
        }
    }
}

impl Drop for CService {
    fn drop(&mut self) {
        if let Some(d) = self.destroy {
            // SAFETY: C implementer promise; called exactly once.
            unsafe { d(self.ctx.0) }
        }
    }
}

/// Completes a Service notification (consumes `Done` and `E`). `E` NULL
/// means success; a failure (a refused `E` counts as one) is passed to the
/// Session's error reporter. Any thread; does not block.
#[no_mangle]
pub extern "C" fn orc_rt_ServiceCompletion_complete(
    Done: orc_rt_ServiceCompletionRef,
    E: orc_rt_ErrorRef,
) {
    ffi_boundary!("orc_rt_ServiceCompletion_complete", {
        let result = take_error(E);
        match consume(Done) {
            Ok(Some(done)) => done(result),
            Ok(None) => {}
            Err(bad) => match result {
                Ok(()) => report("orc_rt_ServiceCompletion_complete", bad),
                Err(e) => report(
                    "orc_rt_ServiceCompletion_complete",
                    Error::msg(format!("{bad}; the error it carried: {e}")),
                ),
            },
        }
    })
}
