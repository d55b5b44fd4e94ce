//! C API for the NotificationService: callbacks run on detach and shutdown,
//! in reverse order of registration (rules in `crate::notification`).
//!
//! A C host registers plain function pointers with a context; the service
//! itself is the Rust [`NotificationService`], added to a Session like any
//! other Service.
//!
//! ```
//! use orc_rt::ffi::notification::{
//!     orc_rt_NotificationService_addOnDetach, orc_rt_NotificationService_addOnShutdown,
//!     orc_rt_NotificationService_create, orc_rt_NotificationService_dispose,
//! };
//! use orc_rt::ffi::session::{
//!     orc_rt_Session_addNotificationService, orc_rt_Session_create, orc_rt_Session_destroy,
//! };
//! use orc_rt::ffi::task_dispatcher::orc_rt_InPlaceTaskDispatcher_create;
//! use std::os::raw::{c_int, c_void};
//! use std::sync::Mutex;
//!
//! static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
//! unsafe extern "C" fn on_detach(ctx: *mut c_void, shutdown_requested: c_int) {
//!     EVENTS
//!         .lock()
//!         .unwrap()
//!         .push(format!("detach {} {shutdown_requested}", ctx as usize));
//! }
//! unsafe extern "C" fn on_shutdown(ctx: *mut c_void) {
//!     EVENTS
//!         .lock()
//!         .unwrap()
//!         .push(format!("shutdown {}", ctx as usize));
//! }
//!
//! // SAFETY: fresh handles, each used as documented and released once; the
//! // contexts are plain numbers, usable from any thread.
//! unsafe {
//!     let s = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
//!     let n = orc_rt_NotificationService_create();
//!     for ctx in [1usize, 2] {
//!         orc_rt_NotificationService_addOnDetach(n, Some(on_detach), ctx as *mut c_void);
//!         orc_rt_NotificationService_addOnShutdown(n, Some(on_shutdown), ctx as *mut c_void);
//!     }
//!     assert!(orc_rt_Session_addNotificationService(s, n).is_null());
//!     orc_rt_NotificationService_dispose(n); // the Session keeps its own reference
//!     orc_rt_Session_destroy(s); // shuts down and waits
//! }
//! assert_eq!(
//!     *EVENTS.lock().unwrap(),
//!     ["detach 2 1", "detach 1 1", "shutdown 2", "shutdown 1"]
//! );
//! ```

use std::os::raw::{c_int, c_void};
use std::sync::Arc;

use super::panic::{ffi_boundary, null_default, FfiDefault};
use super::session::CtxPtr;
use crate::notification::NotificationService;

/// Opaque notification service (see `orc_rt_NotificationServiceRef`).
#[allow(non_camel_case_types)]
pub struct orc_rt_OpaqueNotificationService {
    _private: [u8; 0],
}

/// Handle to a NotificationService: a reference the caller owns and
/// releases with `orc_rt_NotificationService_dispose`. Adding it to a
/// Session gives the Session its own reference.
#[allow(non_camel_case_types)]
pub type orc_rt_NotificationServiceRef = *mut orc_rt_OpaqueNotificationService;

/// A detach callback: gets its context and whether the detach is part of
/// shutdown (1) or not (0).
#[allow(non_camel_case_types)]
pub type orc_rt_NotificationService_OnDetachFn =
    Option<unsafe extern "C" fn(Ctx: *mut c_void, ShutdownRequested: c_int)>;

/// A shutdown callback: gets its context.
#[allow(non_camel_case_types)]
pub type orc_rt_NotificationService_OnShutdownFn = Option<unsafe extern "C" fn(Ctx: *mut c_void)>;

null_default!(orc_rt_NotificationServiceRef);

/// Borrows the service behind a handle; `None` for NULL.
///
/// # Safety
/// `n` is NULL or a live handle.
pub(crate) unsafe fn service_ref<'a>(
    n: orc_rt_NotificationServiceRef,
) -> Option<&'a Arc<NotificationService>> {
    // SAFETY: caller promise: n came from orc_rt_NotificationService_create.
    unsafe { (n as *const Arc<NotificationService>).as_ref() }
}

/// Creates a notification service (no callbacks yet). The caller owns the
/// returned reference. Never fails.
#[no_mangle]
pub extern "C" fn orc_rt_NotificationService_create() -> orc_rt_NotificationServiceRef {
    ffi_boundary!("orc_rt_NotificationService_create", {
        Box::into_raw(Box::new(NotificationService::new())) as orc_rt_NotificationServiceRef
    })
}

/// Releases the caller's reference (a Session it was added to keeps its
/// own). NULL is a no-op.
///
/// # Safety
/// `N` is NULL or a live handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_NotificationService_dispose(N: orc_rt_NotificationServiceRef) {
    ffi_boundary!("orc_rt_NotificationService_dispose", {
        if !N.is_null() {
            // SAFETY: caller promise: N came from Box::into_raw above.
            drop(unsafe { Box::from_raw(N as *mut Arc<NotificationService>) });
        }
    })
}

/// Registers a detach callback `F(Ctx, ShutdownRequested)`. Callbacks run
/// in reverse order of registration on the Session's lifecycle thread; one
/// registered after the detach runs at once on the calling thread. NULL `N`
/// or `F` is ignored. Any thread; `Ctx` must be usable from any thread.
///
/// # Safety
/// `N` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_NotificationService_addOnDetach(
    N: orc_rt_NotificationServiceRef,
    F: orc_rt_NotificationService_OnDetachFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_NotificationService_addOnDetach", {
        // SAFETY: caller promise on N.
        let (Some(n), Some(f)) = (unsafe { service_ref(N) }, F) else {
            return;
        };
        let ctx = CtxPtr(Ctx);
        n.add_on_detach(move |sr| {
            let ctx = ctx;
            // SAFETY: the registrant promised F and Ctx are callable from here.
            unsafe { f(ctx.0, sr as c_int) }
        });
    })
}

/// Registers a shutdown callback `F(Ctx)`; same rules as
/// `orc_rt_NotificationService_addOnDetach`.
///
/// # Safety
/// `N` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_NotificationService_addOnShutdown(
    N: orc_rt_NotificationServiceRef,
    F: orc_rt_NotificationService_OnShutdownFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_NotificationService_addOnShutdown", {
        // SAFETY: caller promise on N.
        let (Some(n), Some(f)) = (unsafe { service_ref(N) }, F) else {
            return;
        };
        let ctx = CtxPtr(Ctx);
        n.add_on_shutdown(move || {
            let ctx = ctx;
            // SAFETY: the registrant promised F and Ctx are callable from here.
            unsafe { f(ctx.0) }
        });
    })
}
