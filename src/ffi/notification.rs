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

use super::handle::CtxPtr;
use super::handle::{clone_arc, create, destroy, report, Castable, OwnershipArc};
use super::panic::{ffi_boundary, null_default, FfiDefault};
use crate::handle::{HandleKind, HandleTable};
use crate::notification::NotificationService;

/// Opaque notification service (see `orc_rt_NotificationServiceRef`).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct orc_rt_OpaqueNotificationService {
    _private: [u8; 0],
}

/// Handle to a NotificationService: a counted reference the caller owns and
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

static SERVICES: HandleTable<Arc<NotificationService>> =
    HandleTable::new(HandleKind::NotificationService);

impl Castable for orc_rt_OpaqueNotificationService {
    type Ownership = OwnershipArc;
    type Value = Arc<NotificationService>;
    type Store = HandleTable<Arc<NotificationService>>;
    const NAME: &'static str = "orc_rt_NotificationServiceRef";
    fn store() -> &'static Self::Store {
        &SERVICES
    }
}

/// A new reference to the service behind `n`.
pub(crate) fn service_ref(
    n: orc_rt_NotificationServiceRef,
) -> crate::Result<Arc<NotificationService>> {
    clone_arc(n)
}

/// Creates a notification service (no callbacks yet). The caller owns the
/// returned reference. Never fails.
#[no_mangle]
pub extern "C" fn orc_rt_NotificationService_create() -> orc_rt_NotificationServiceRef {
    ffi_boundary!("orc_rt_NotificationService_create", {
        create(NotificationService::new())
    })
}

/// Releases the caller's reference (a Session it was added to keeps its
/// own; its callbacks still run).
#[no_mangle]
pub extern "C" fn orc_rt_NotificationService_dispose(N: orc_rt_NotificationServiceRef) {
    ffi_boundary!("orc_rt_NotificationService_dispose", {
        destroy(N, "orc_rt_NotificationService_dispose");
    })
}

/// Registers a detach callback `F(Ctx, ShutdownRequested)`. Callbacks run
/// in reverse order of registration on the Session's lifecycle thread; one
/// registered after the detach runs at once on the calling thread. A NULL
/// `F` is ignored. Any thread.
///
/// # Safety
/// `F(Ctx, ..)` must be safe to call once, from any thread, until the
/// service is released.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_NotificationService_addOnDetach(
    N: orc_rt_NotificationServiceRef,
    F: orc_rt_NotificationService_OnDetachFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_NotificationService_addOnDetach", {
        let n = match service_ref(N) {
            Ok(n) => n,
            Err(bad) => return report("orc_rt_NotificationService_addOnDetach", bad),
        };
        let Some(f) = F else {
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
/// As `orc_rt_NotificationService_addOnDetach`.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_NotificationService_addOnShutdown(
    N: orc_rt_NotificationServiceRef,
    F: orc_rt_NotificationService_OnShutdownFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_NotificationService_addOnShutdown", {
        let n = match service_ref(N) {
            Ok(n) => n,
            Err(bad) => return report("orc_rt_NotificationService_addOnShutdown", bad),
        };
        let Some(f) = F else {
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
