//! C API for Services implemented in C: `orc_rt_ServiceFunctions` and the
//! completion handle `orc_rt_ServiceCompletionRef`.

use std::os::raw::{c_int, c_void};

use super::error::{orc_rt_ErrorRef, take_error};
use super::handle::{consume, create, report, Castable, OwnershipBox};
use super::panic::ffi_boundary;
use super::session::CtxPtr;
use crate::handle::{HandleKind, HandleTable};
use crate::service::{OnCompleteFn, Service};
use crate::Error;

/// Opaque completion object (see `orc_rt_ServiceCompletionRef`).
#[allow(non_camel_case_types)]
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
