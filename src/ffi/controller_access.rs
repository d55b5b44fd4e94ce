//! C API for the in-process controller: `orc_rt_InProcessControllerRef`.
//!
//! The in-process controller is the "controller" living in the same
//! process: it registers handlers for tags (reached from the executor side
//! with `orc_rt_Session_callController`) and calls executor wrapper
//! functions, concurrently from any number of threads.
//!
//! ```
//! use orc_rt::ffi::controller_access::{
//!     orc_rt_ControllerResponderRef, orc_rt_ControllerResponder_respond,
//!     orc_rt_InProcessController_addHandler, orc_rt_InProcessController_callWrapperSync,
//!     orc_rt_InProcessController_create, orc_rt_InProcessController_disconnect,
//!     orc_rt_InProcessController_dispose,
//! };
//! use orc_rt::ffi::session::{
//!     orc_rt_Session_attachInProcessController, orc_rt_Session_callController,
//!     orc_rt_Session_create, orc_rt_Session_destroy, orc_rt_Session_waitForDetach,
//! };
//! use orc_rt::ffi::task_dispatcher::orc_rt_InPlaceTaskDispatcher_create;
//! use orc_rt::wrapper_function::{
//!     orc_rt_SessionRef, orc_rt_WrapperFunctionBuffer, orc_rt_WrapperFunctionReturn,
//! };
//! use orc_rt::WrapperFunctionBuffer;
//! use std::os::raw::c_void;
//!
//! /// An executor function with the native ABI: answers "pong".
//! unsafe extern "C" fn ping(
//!     s: orc_rt_SessionRef,
//!     id: u64,
//!     ret: orc_rt_WrapperFunctionReturn,
//!     args: orc_rt_WrapperFunctionBuffer,
//! ) {
//!     // SAFETY: the function owns `args`, and calls `ret` once with its id.
//!     unsafe {
//!         drop(WrapperFunctionBuffer::from_raw(args));
//!         if let Some(ret) = ret {
//!             ret(s, id, WrapperFunctionBuffer::from_slice(b"pong").into_raw())
//!         }
//!     }
//! }
//! /// A controller handler: answers its argument bytes, twice.
//! unsafe extern "C" fn twice(
//!     _: *mut c_void,
//!     args: orc_rt_WrapperFunctionBuffer,
//!     r: orc_rt_ControllerResponderRef,
//! ) {
//!     // SAFETY: the handler owns `args` and `r`, and responds once.
//!     unsafe {
//!         let args = WrapperFunctionBuffer::from_raw(args);
//!         let reply = args.as_slice().unwrap_or_default().repeat(2);
//!         orc_rt_ControllerResponder_respond(
//!             r,
//!             WrapperFunctionBuffer::from_slice(&reply).into_raw(),
//!         )
//!     }
//! }
//! /// Receives a controller result into the `Option` that `ctx` points at.
//! unsafe extern "C" fn store(
//!     _: orc_rt_SessionRef,
//!     r: orc_rt_WrapperFunctionBuffer,
//!     ctx: *mut c_void,
//! ) {
//!     // SAFETY: `ctx` is the live `Option` passed below; the result is ours.
//!     unsafe {
//!         *(ctx as *mut Option<WrapperFunctionBuffer>) = Some(WrapperFunctionBuffer::from_raw(r))
//!     }
//! }
//!
//! // SAFETY: fresh handles, used as documented and released once; buffers are
//! // handed over as the functions say. With an in-place dispatcher every call
//! // below completes before it returns, so `slot` outlives its use.
//! unsafe {
//!     let s = orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create());
//!     let c = orc_rt_InProcessController_create();
//!     let tag = 0x10 as *mut c_void;
//!     orc_rt_InProcessController_addHandler(c, tag, Some(twice), std::ptr::null_mut());
//!     assert!(orc_rt_Session_attachInProcessController(s, c).is_null());
//!
//!     // Controller to executor: a native wrapper function, waited for.
//!     let none = WrapperFunctionBuffer::new().into_raw();
//!     let r = WrapperFunctionBuffer::from_raw(orc_rt_InProcessController_callWrapperSync(
//!         c,
//!         Some(ping),
//!         none,
//!     ));
//!     assert_eq!(r.as_slice(), Some(&b"pong"[..]));
//!
//!     // Executor to controller: a handler, by its tag.
//!     let mut slot: Option<WrapperFunctionBuffer> = None;
//!     let args = WrapperFunctionBuffer::from_slice(b"ab").into_raw();
//!     let ctx = &mut slot as *mut Option<WrapperFunctionBuffer> as *mut c_void;
//!     orc_rt_Session_callController(s, tag, args, Some(store), ctx);
//!     assert_eq!(slot.unwrap().as_slice(), Some(&b"abab"[..]));
//!
//!     // Once the controller has disconnected, calls get an out-of-band error.
//!     orc_rt_InProcessController_disconnect(c);
//!     orc_rt_Session_waitForDetach(s);
//!     let none = WrapperFunctionBuffer::new().into_raw();
//!     let r = WrapperFunctionBuffer::from_raw(orc_rt_InProcessController_callWrapperSync(
//!         c,
//!         Some(ping),
//!         none,
//!     ));
//!     assert!(r.is_out_of_band_error());
//!     orc_rt_InProcessController_dispose(c);
//!     orc_rt_Session_destroy(s);
//! }
//! ```

use std::os::raw::c_void;
use std::sync::Arc;

use super::panic::{ffi_boundary, null_default, FfiDefault};
use super::session::CtxPtr;
use crate::controller_access::{
    InProcessController, IncomingCall, NativeWrapperFunction, SyncWrapperFunction,
};
use crate::ffi::wrapper_function::orc_rt_WrapperFunction;
use crate::wrapper_function::handler::{BytesHandler, Responder};
use crate::wrapper_function::{orc_rt_WrapperFunctionBuffer, WrapperFunctionBuffer};
use crate::ExecutorAddr;

/// Identifies a handler in the controller that the executor can call.
#[allow(non_camel_case_types)]
pub type orc_rt_ControllerHandlerTag = *mut c_void;

/// Opaque in-process controller (see `orc_rt_InProcessControllerRef`).
#[allow(non_camel_case_types)]
pub struct orc_rt_OpaqueInProcessController {
    _private: [u8; 0],
}

/// Handle to an in-process controller: a reference owned by the caller,
/// released with `orc_rt_InProcessController_dispose`. Attaching it to a
/// Session gives the Session its own reference.
#[allow(non_camel_case_types)]
pub type orc_rt_InProcessControllerRef = *mut orc_rt_OpaqueInProcessController;

/// Opaque responder (see `orc_rt_ControllerResponderRef`).
#[allow(non_camel_case_types)]
pub struct orc_rt_OpaqueControllerResponder {
    _private: [u8; 0],
}

/// The reply channel of one controller-handler call. The handler owns it and
/// passes it to `orc_rt_ControllerResponder_respond` exactly once, from any
/// thread, now or later.
#[allow(non_camel_case_types)]
pub type orc_rt_ControllerResponderRef = *mut orc_rt_OpaqueControllerResponder;

/// A controller handler: `F(Ctx, ArgBytes, R)`. Owns `ArgBytes` (dispose of
/// it) and `R` (respond exactly once). Runs on the thread that called
/// `orc_rt_Session_callController`.
#[allow(non_camel_case_types)]
pub type orc_rt_InProcessController_HandlerFn = Option<
    unsafe extern "C" fn(
        Ctx: *mut c_void,
        ArgBytes: orc_rt_WrapperFunctionBuffer,
        R: orc_rt_ControllerResponderRef,
    ),
>;

/// Receives the result of a call to an executor wrapper function; owns
/// `ResultBytes` (a value, or an out-of-band error such as "session is shut
/// down"). Called exactly once per call, on the thread that produced the
/// result (a dispatcher worker, or the caller's thread for refused calls).
#[allow(non_camel_case_types)]
pub type orc_rt_InProcessController_ResultFn =
    Option<unsafe extern "C" fn(Ctx: *mut c_void, ResultBytes: orc_rt_WrapperFunctionBuffer)>;

null_default!(orc_rt_InProcessControllerRef);

/// Borrows the controller behind a handle; `None` for NULL.
///
/// # Safety
/// `c` is NULL or a live handle.
pub(crate) unsafe fn controller_ref<'a>(
    c: orc_rt_InProcessControllerRef,
) -> Option<&'a Arc<InProcessController>> {
    // SAFETY: caller promise: c came from orc_rt_InProcessController_create.
    unsafe { (c as *const Arc<InProcessController>).as_ref() }
}

/// Creates an in-process controller, not yet attached (see
/// `orc_rt_Session_attachInProcessController`). Never fails.
#[no_mangle]
pub extern "C" fn orc_rt_InProcessController_create() -> orc_rt_InProcessControllerRef {
    ffi_boundary!("orc_rt_InProcessController_create", {
        Box::into_raw(Box::new(InProcessController::new())) as orc_rt_InProcessControllerRef
    })
}

/// Releases the caller's reference. NULL is a no-op. Does not disconnect.
///
/// # Safety
/// `C` is NULL or a live handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_InProcessController_dispose(C: orc_rt_InProcessControllerRef) {
    ffi_boundary!("orc_rt_InProcessController_dispose", {
        if !C.is_null() {
            // SAFETY: caller promise: C came from Box::into_raw above.
            drop(unsafe { Box::from_raw(C as *mut Arc<InProcessController>) });
        }
    })
}

/// Registers (or replaces) the handler for tag `T`. NULL `C` or `F` is
/// ignored. Any thread; `Ctx` must be usable from any thread and outlive the
/// controller.
///
/// # Safety
/// `C` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_InProcessController_addHandler(
    C: orc_rt_InProcessControllerRef,
    T: orc_rt_ControllerHandlerTag,
    F: orc_rt_InProcessController_HandlerFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_InProcessController_addHandler", {
        // SAFETY: caller promise on C.
        let (Some(c), Some(f)) = (unsafe { controller_ref(C) }, F) else {
            return;
        };
        let ctx = CtxPtr(Ctx);
        let h: BytesHandler = Arc::new(move |args: WrapperFunctionBuffer, r: Responder| {
            let ctx = &ctx;
            let r = Box::into_raw(Box::new(r)) as orc_rt_ControllerResponderRef;
            // SAFETY: registrant promise on F and Ctx; args and r are handed
            // over as the HandlerFn docs say.
            unsafe { f(ctx.0, args.into_raw(), r) }
        });
        c.add_handler(ExecutorAddr(T as u64), h);
    })
}

/// Sends a handler's reply (consumes `R` and `Result`). NULL `R` only
/// disposes of `Result`. Any thread; does not block.
///
/// # Safety
/// `R` is NULL or a live responder, not used afterwards; `Result` is a valid
/// buffer owned by the caller.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_ControllerResponder_respond(
    R: orc_rt_ControllerResponderRef,
    Result: orc_rt_WrapperFunctionBuffer,
) {
    ffi_boundary!("orc_rt_ControllerResponder_respond", {
        // SAFETY: caller promise: Result is owned by the caller.
        let result = unsafe { WrapperFunctionBuffer::from_raw(Result) };
        if !R.is_null() {
            // SAFETY: caller promise: R came from addHandler, used once.
            let r = *unsafe { Box::from_raw(R as *mut Responder) };
            r.respond(result);
        }
    })
}

fn result_callback(
    f: orc_rt_InProcessController_ResultFn,
    ctx: *mut c_void,
) -> impl FnOnce(WrapperFunctionBuffer) + Send + 'static {
    let ctx = CtxPtr(ctx);
    move |r: WrapperFunctionBuffer| {
        let ctx = ctx;
        match f {
            // SAFETY: caller promise on OnResult/Ctx; the result is handed over.
            Some(f) => unsafe { f(ctx.0, r.into_raw()) },
            None => drop(r),
        }
    }
}

/// Calls native (asynchronous ABI) wrapper function `Fn` with `ArgBytes`
/// (consumed). `OnResult(Ctx, Result)` is called exactly once with the
/// result, or with an out-of-band error if `C` is NULL, `Fn` is NULL, `C` is
/// not attached yet, or the Session is detached or shut down. Any thread,
/// concurrently; does not block (with an in-place dispatcher the call runs
/// before this returns).
///
/// # Safety
/// `C` is NULL or a live handle; `Fn` is NULL or a native wrapper function;
/// `ArgBytes` is a valid buffer owned by the caller.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_InProcessController_callWrapper(
    C: orc_rt_InProcessControllerRef,
    Fn: orc_rt_WrapperFunction,
    ArgBytes: orc_rt_WrapperFunctionBuffer,
    OnResult: orc_rt_InProcessController_ResultFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_InProcessController_callWrapper", {
        // SAFETY: caller promise: ArgBytes is ours.
        let args = unsafe { WrapperFunctionBuffer::from_raw(ArgBytes) };
        let cb = result_callback(OnResult, Ctx);
        // SAFETY: caller promise on C.
        match (unsafe { controller_ref(C) }, Fn) {
            (Some(c), Some(f)) => c.call(IncomingCall::Native(f), args, cb),
            _ => cb(WrapperFunctionBuffer::out_of_band_error(
                "orc_rt_InProcessController_callWrapper: NULL controller or function",
            )),
        }
    })
}

/// Like `orc_rt_InProcessController_callWrapper`, naming the function by its
/// executor address `FnAddr` and calling convention: `SyncAbi` 0 for the
/// native orc-rt ABI, 1 for LLVM 22's synchronous ABI
/// (`CWrapperFunctionBuffer fn(const char *, size_t)`). Address 0 gives an
/// out-of-band error result.
///
/// # Safety
/// As `orc_rt_InProcessController_callWrapper`; a nonzero `FnAddr` must be
/// the address of a function with the named ABI.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_InProcessController_callWrapperAtAddress(
    C: orc_rt_InProcessControllerRef,
    FnAddr: u64,
    SyncAbi: i32,
    ArgBytes: orc_rt_WrapperFunctionBuffer,
    OnResult: orc_rt_InProcessController_ResultFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_InProcessController_callWrapperAtAddress", {
        // SAFETY: caller promise: ArgBytes is ours.
        let args = unsafe { WrapperFunctionBuffer::from_raw(ArgBytes) };
        let cb = result_callback(OnResult, Ctx);
        // SAFETY: caller promise on C.
        let Some(c) = (unsafe { controller_ref(C) }) else {
            return cb(WrapperFunctionBuffer::out_of_band_error(
                "orc_rt_InProcessController_callWrapperAtAddress: NULL controller",
            ));
        };
        if FnAddr == 0 {
            return cb(WrapperFunctionBuffer::out_of_band_error(
                "orc_rt_InProcessController_callWrapperAtAddress: function address 0",
            ));
        }
        let p = FnAddr as usize as *const ();
        let target = if SyncAbi != 0 {
            // SAFETY: caller promise: FnAddr is a synchronous-ABI function.
            IncomingCall::Sync(unsafe { std::mem::transmute::<*const (), SyncWrapperFunction>(p) })
        } else {
            // SAFETY: caller promise: FnAddr is a native-ABI function.
            IncomingCall::Native(unsafe {
                std::mem::transmute::<*const (), NativeWrapperFunction>(p)
            })
        };
        c.call(target, args, cb);
    })
}

/// Calls native wrapper function `Fn` and blocks until its result arrives;
/// the caller owns the returned buffer (an out-of-band error if `C` or `Fn`
/// is NULL, `C` is not attached yet, or the Session is detached or shut
/// down). Any thread except the Session's own thread-pool workers when every
/// worker might block the same way (the call would wait for a worker that
/// never frees up); with an in-place dispatcher the call runs inline.
///
/// # Safety
/// As `orc_rt_InProcessController_callWrapper`.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_InProcessController_callWrapperSync(
    C: orc_rt_InProcessControllerRef,
    Fn: orc_rt_WrapperFunction,
    ArgBytes: orc_rt_WrapperFunctionBuffer,
) -> orc_rt_WrapperFunctionBuffer {
    ffi_boundary!("orc_rt_InProcessController_callWrapperSync", {
        // SAFETY: caller promise: ArgBytes is ours.
        let args = unsafe { WrapperFunctionBuffer::from_raw(ArgBytes) };
        // SAFETY: caller promise on C.
        match (unsafe { controller_ref(C) }, Fn) {
            (Some(c), Some(f)) => c.call_blocking(IncomingCall::Native(f), args).into_raw(),
            _ => WrapperFunctionBuffer::out_of_band_error(
                "orc_rt_InProcessController_callWrapperSync: NULL controller or function",
            )
            .into_raw(),
        }
    })
}

/// Disconnects the controller as if it went away: the Session detaches
/// (Services' on_detach with ShutdownRequested 0). Idempotent; NULL is a
/// no-op. Does not block for the detach to complete.
///
/// # Safety
/// `C` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_InProcessController_disconnect(C: orc_rt_InProcessControllerRef) {
    ffi_boundary!("orc_rt_InProcessController_disconnect", {
        // SAFETY: caller promise on C.
        if let Some(c) = unsafe { controller_ref(C) } {
            c.close();
        }
    })
}
