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

use super::handle::CtxPtr;
use super::handle::{
    clone_arc, consume, create, destroy, report, Castable, OwnershipArc, OwnershipBox,
};
use super::panic::{ffi_boundary, null_default, FfiDefault};
use crate::controller_access::InProcessController;
use crate::ffi::wrapper_function::orc_rt_WrapperFunction;
use crate::handle::{HandleKind, HandleTable};
use crate::wrapper_function::handler::{BytesHandler, Responder};
use crate::wrapper_function::{orc_rt_WrapperFunctionBuffer, WrapperFunctionBuffer};
use crate::wrapper_function::{IncomingCall, NativeWrapperFunction, SyncWrapperFunction};
use crate::ExecutorAddr;

/// Identifies a handler in the controller that the executor can call.
#[allow(non_camel_case_types)]
pub type orc_rt_ControllerHandlerTag = *mut c_void;

/// Opaque in-process controller (see `orc_rt_InProcessControllerRef`).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct orc_rt_OpaqueInProcessController {
    _private: [u8; 0],
}

/// Handle to an in-process controller: a counted reference owned by the
/// caller, released with `orc_rt_InProcessController_dispose`. Attaching it
/// to a Session gives the Session its own reference. One controller serves
/// one Session.
#[allow(non_camel_case_types)]
pub type orc_rt_InProcessControllerRef = *mut orc_rt_OpaqueInProcessController;

/// Opaque responder (see `orc_rt_ControllerResponderRef`).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct orc_rt_OpaqueControllerResponder {
    _private: [u8; 0],
}

/// The reply channel of one controller-handler call. The handler owns it and
/// passes it to `orc_rt_ControllerResponder_respond` exactly once, from any
/// thread, now or later (even after the Session is destroyed: the late
/// reply is then dropped).
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

static CONTROLLERS: HandleTable<Arc<InProcessController>> =
    HandleTable::new(HandleKind::InProcessController);

impl Castable for orc_rt_OpaqueInProcessController {
    type Ownership = OwnershipArc;
    type Value = Arc<InProcessController>;
    type Store = HandleTable<Arc<InProcessController>>;
    const NAME: &'static str = "orc_rt_InProcessControllerRef";
    fn store() -> &'static Self::Store {
        &CONTROLLERS
    }
}

static RESPONDERS: HandleTable<Responder> = HandleTable::new(HandleKind::ControllerResponder);

impl Castable for orc_rt_OpaqueControllerResponder {
    type Ownership = OwnershipBox;
    type Value = Responder;
    type Store = HandleTable<Responder>;
    const NAME: &'static str = "orc_rt_ControllerResponderRef";
    fn store() -> &'static Self::Store {
        &RESPONDERS
    }
}

/// A new reference to the controller behind `c`.
pub(crate) fn controller_ref(
    c: orc_rt_InProcessControllerRef,
) -> crate::Result<Arc<InProcessController>> {
    clone_arc(c)
}

/// Creates an in-process controller, not yet attached (see
/// `orc_rt_Session_attachInProcessController`). Never fails.
#[no_mangle]
pub extern "C" fn orc_rt_InProcessController_create() -> orc_rt_InProcessControllerRef {
    ffi_boundary!("orc_rt_InProcessController_create", {
        create(InProcessController::new())
    })
}

/// Releases the caller's reference (an attached Session keeps its own).
/// Does not disconnect.
#[no_mangle]
pub extern "C" fn orc_rt_InProcessController_dispose(C: orc_rt_InProcessControllerRef) {
    ffi_boundary!("orc_rt_InProcessController_dispose", {
        destroy(C, "orc_rt_InProcessController_dispose");
    })
}

/// Registers (or replaces) the handler for tag `T`. A NULL `F` is ignored.
/// Any thread.
///
/// # Safety
/// `F(Ctx, ..)` must be safe to call from any thread, concurrently, for as
/// long as the controller lives.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_InProcessController_addHandler(
    C: orc_rt_InProcessControllerRef,
    T: orc_rt_ControllerHandlerTag,
    F: orc_rt_InProcessController_HandlerFn,
    Ctx: *mut c_void,
) {
    ffi_boundary!("orc_rt_InProcessController_addHandler", {
        let c = match controller_ref(C) {
            Ok(c) => c,
            Err(bad) => return report("orc_rt_InProcessController_addHandler", bad),
        };
        let Some(f) = F else {
            return;
        };
        let ctx = CtxPtr(Ctx);
        let h: BytesHandler = Arc::new(move |args: WrapperFunctionBuffer, r: Responder| {
            let ctx = &ctx;
            let r: orc_rt_ControllerResponderRef = create(r);
            // SAFETY: registrant promise on F and Ctx; args and r are handed
            // over as the HandlerFn docs say.
            unsafe { f(ctx.0, args.into_raw(), r) }
        });
        c.add_handler(ExecutorAddr(T as u64), h);
    })
}

/// Sends a handler's reply (consumes `R` and `Result`). A reply that comes
/// after the call was failed (the Session shut down, or was destroyed) is
/// dropped. Any thread; does not block.
///
/// # Safety
/// `Result` is a valid buffer owned by the caller.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_ControllerResponder_respond(
    R: orc_rt_ControllerResponderRef,
    Result: orc_rt_WrapperFunctionBuffer,
) {
    ffi_boundary!("orc_rt_ControllerResponder_respond", {
        // SAFETY: caller promise: Result is owned by the caller.
        let result = unsafe { WrapperFunctionBuffer::from_raw(Result) };
        match consume(R) {
            Ok(Some(r)) => r.respond(result),
            Ok(None) => {}
            Err(bad) => report("orc_rt_ControllerResponder_respond", bad),
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
/// result, or with an out-of-band error if `Fn` is NULL, `C` is not
/// attached yet, or the Session is detached or shut down. Any thread,
/// concurrently; does not block (with an in-place dispatcher the call runs
/// before this returns).
///
/// # Safety
/// `Fn` is NULL or a native wrapper function; `ArgBytes` is a valid buffer
/// owned by the caller; `OnResult(Ctx, ..)` is safe to call once from any
/// thread.
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
        match (controller_ref(C), Fn) {
            (Ok(c), Some(f)) => c.call(IncomingCall::Native(f), args, cb),
            (Err(bad), _) => cb(WrapperFunctionBuffer::out_of_band_error(&format!(
                "orc_rt_InProcessController_callWrapper: {bad}"
            ))),
            (_, None) => cb(WrapperFunctionBuffer::out_of_band_error(
                "orc_rt_InProcessController_callWrapper: NULL function",
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
        let c = match controller_ref(C) {
            Ok(c) => c,
            Err(bad) => {
                return cb(WrapperFunctionBuffer::out_of_band_error(&format!(
                    "orc_rt_InProcessController_callWrapperAtAddress: {bad}"
                )))
            }
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
/// the caller owns the returned buffer (an out-of-band error if `Fn` is
/// NULL, `C` is not attached yet, or the Session is detached or shut
/// down). Any thread except the Session's own thread-pool workers when every
/// worker might block the same way (the call would wait for a worker that
/// never frees up); with an in-place dispatcher the call runs inline.
/// `orc_rt_InProcessController_callWrapperSyncTimeout` bounds the wait.
///
/// # Safety
/// `Fn` is NULL or a native wrapper function; `ArgBytes` is a valid buffer
/// owned by the caller.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_InProcessController_callWrapperSync(
    C: orc_rt_InProcessControllerRef,
    Fn: orc_rt_WrapperFunction,
    ArgBytes: orc_rt_WrapperFunctionBuffer,
) -> orc_rt_WrapperFunctionBuffer {
    ffi_boundary!("orc_rt_InProcessController_callWrapperSync", {
        // SAFETY: caller promise: ArgBytes is ours.
        let args = unsafe { WrapperFunctionBuffer::from_raw(ArgBytes) };
        let r = match (controller_ref(C), Fn) {
            (Ok(c), Some(f)) => c.call_blocking(IncomingCall::Native(f), args),
            (Err(bad), _) => WrapperFunctionBuffer::out_of_band_error(&format!(
                "orc_rt_InProcessController_callWrapperSync: {bad}"
            )),
            (_, None) => WrapperFunctionBuffer::out_of_band_error(
                "orc_rt_InProcessController_callWrapperSync: NULL function",
            ),
        };
        r.into_raw()
    })
}

/// Like `orc_rt_InProcessController_callWrapperSync`, waiting at most
/// `TimeoutMs` milliseconds: if no result has arrived by then, returns an
/// out-of-band error starting with
/// "orc_rt_InProcessController_callWrapperSyncTimeout: timed out". The call
/// is not cancelled: `Fn` may still run (or finish) later, and its result
/// is then discarded. This bounds the deadlock described at
/// `orc_rt_InProcessController_callWrapperSync` (a wrapper function calling
/// it on a one-worker pool). Any thread; the caller owns the result.
///
/// # Safety
/// As for `orc_rt_InProcessController_callWrapperSync`.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_InProcessController_callWrapperSyncTimeout(
    C: orc_rt_InProcessControllerRef,
    Fn: orc_rt_WrapperFunction,
    ArgBytes: orc_rt_WrapperFunctionBuffer,
    TimeoutMs: u64,
) -> orc_rt_WrapperFunctionBuffer {
    ffi_boundary!("orc_rt_InProcessController_callWrapperSyncTimeout", {
        const NAME: &str = "orc_rt_InProcessController_callWrapperSyncTimeout";
        // SAFETY: caller promise: ArgBytes is ours.
        let args = unsafe { WrapperFunctionBuffer::from_raw(ArgBytes) };
        let timeout = std::time::Duration::from_millis(TimeoutMs);
        let r = match (controller_ref(C), Fn) {
            (Ok(c), Some(f)) => c
                .call_blocking_timeout(IncomingCall::Native(f), args, timeout)
                .unwrap_or_else(|e| {
                    WrapperFunctionBuffer::out_of_band_error(&format!("{NAME}: {e}"))
                }),
            (Err(bad), _) => WrapperFunctionBuffer::out_of_band_error(&format!("{NAME}: {bad}")),
            (_, None) => {
                WrapperFunctionBuffer::out_of_band_error(&format!("{NAME}: NULL function"))
            }
        };
        r.into_raw()
    })
}

/// Disconnects the controller as if it went away: the Session detaches
/// (Services' on_detach with ShutdownRequested 0). Idempotent. Does not
/// block for the detach to complete.
#[no_mangle]
pub extern "C" fn orc_rt_InProcessController_disconnect(C: orc_rt_InProcessControllerRef) {
    ffi_boundary!("orc_rt_InProcessController_disconnect", {
        match controller_ref(C) {
            Ok(c) => c.close(),
            Err(bad) => report("orc_rt_InProcessController_disconnect", bad),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;
    use crate::task_dispatcher::ThreadPoolTaskDispatcher;
    use crate::wrapper_function::orc_rt_SessionRef;
    use std::sync::Mutex;

    /// The controller the wrapper functions below call back into.
    static CTL: Mutex<usize> = Mutex::new(0);

    unsafe extern "C" fn echo(
        S: orc_rt_SessionRef,
        CallId: u64,
        Return: crate::wrapper_function::orc_rt_WrapperFunctionReturn,
        ArgBytes: orc_rt_WrapperFunctionBuffer,
    ) {
        // SAFETY: the Session passes a Return and the arguments it owns.
        unsafe { Return.unwrap()(S, CallId, ArgBytes) }
    }

    /// Calls `echo` through the controller and waits 100 ms for it: on a
    /// one-worker pool it waits for the worker it occupies.
    unsafe extern "C" fn nested(
        S: orc_rt_SessionRef,
        CallId: u64,
        Return: crate::wrapper_function::orc_rt_WrapperFunctionReturn,
        ArgBytes: orc_rt_WrapperFunctionBuffer,
    ) {
        let c = *crate::sync::lock(&CTL) as orc_rt_InProcessControllerRef;
        // SAFETY: a live controller, a native function and our buffer.
        let r = unsafe {
            orc_rt_InProcessController_callWrapperSyncTimeout(c, Some(echo), ArgBytes, 100)
        };
        // SAFETY: as in `echo`.
        unsafe { Return.unwrap()(S, CallId, r) }
    }

    #[test]
    fn sync_call_with_timeout_ends_the_one_worker_deadlock() {
        let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
        let c = orc_rt_InProcessController_create();
        *crate::sync::lock(&CTL) = c as usize;
        s.attach(controller_ref(c).unwrap()).unwrap();
        let call = |f: orc_rt_WrapperFunction, ms| {
            let args = WrapperFunctionBuffer::from_slice(b"hi").into_raw();
            // SAFETY: a live controller, native functions, our buffer.
            let r = unsafe { orc_rt_InProcessController_callWrapperSyncTimeout(c, f, args, ms) };
            // SAFETY: a fresh buffer we own.
            unsafe { WrapperFunctionBuffer::from_raw(r) }
        };
        assert_eq!(call(Some(echo), 30_000).as_slice(), Some(&b"hi"[..]));
        let r = call(Some(nested), 30_000);
        let msg = r.out_of_band_error_message().unwrap().to_str().unwrap();
        assert!(
            msg.starts_with("orc_rt_InProcessController_callWrapperSyncTimeout: timed out: "),
            "{msg}"
        );
        let r = call(None, 10);
        assert!(r.out_of_band_error_message().is_some());
        s.shutdown_and_wait().unwrap();
        orc_rt_InProcessController_dispose(c);
    }
}
