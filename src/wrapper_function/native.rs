//! orc-rt's native (asynchronous) wrapper-function ABI.
//!
//! A native wrapper function is `void(orc_rt_SessionRef S, uint64_t CallId,
//! orc_rt_WrapperFunctionReturn Return, orc_rt_WrapperFunctionBuffer
//! ArgBytes)`: it owns its arguments and calls `Return(S, CallId, Result)`
//! exactly once, now or later, from any thread. This module holds the C
//! types cbindgen emits for it, the table of pending calls, and the return
//! path ([`native_return`]).
//!
//! A call id is a [`Handle`] into the pending-call table: the first return
//! takes the entry, so a second return with the same id is refused and
//! reported (never delivered twice), even if the id's slot has been reused
//! by a new call since.
//!
//! ```
//! use orc_rt::wrapper_function::Handle;
//! use orc_rt::wrapper_function::native::{session_handle, session_ref};
//! use orc_rt::wrapper_function::{
//!     orc_rt_SessionRef, orc_rt_WrapperFunctionBuffer, orc_rt_WrapperFunctionReturn,
//!     reply_channel, IncomingCall, Responder,
//! };
//! use orc_rt::WrapperFunctionBuffer;
//!
//! /// A native wrapper function as a C host writes one: it returns its
//! /// argument bytes reversed, later, from another thread.
//! unsafe extern "C" fn reverse(
//!     s: orc_rt_SessionRef,
//!     call_id: u64,
//!     ret: orc_rt_WrapperFunctionReturn,
//!     args: orc_rt_WrapperFunctionBuffer,
//! ) {
//!     // SAFETY: the function owns its argument buffer (the ABI's rule).
//!     let args = unsafe { WrapperFunctionBuffer::from_raw(args) };
//!     let (Some(ret), s) = (ret, s as usize) else {
//!         return;
//!     };
//!     std::thread::spawn(move || {
//!         let mut v = args.as_slice().unwrap_or_default().to_vec();
//!         v.reverse();
//!         let result = WrapperFunctionBuffer::from_slice(&v).into_raw();
//!         // SAFETY: the return function this call was given, called once
//!         // with its call id; the result buffer is handed over.
//!         unsafe { ret(s as orc_rt_SessionRef, call_id, result) }
//!     });
//! }
//!
//! let (cb, pending) = reply_channel();
//! let args = WrapperFunctionBuffer::from_slice(b"abc");
//! IncomingCall::Native(reverse).run(Handle::from_raw(0), args, Responder::new(cb));
//! assert_eq!(pending.wait().as_slice(), Some(&b"cba"[..]));
//!
//! // The `orc_rt_SessionRef` C code sees is the Session's handle.
//! let h = Handle::from_raw(0x1234);
//! assert_eq!(session_handle(session_ref(h)), h);
//! ```

#![allow(non_snake_case)] // C parameter names, as in the header.

use crate::error::{report_unowned, Error};
use crate::handle::{Handle, HandleKind, HandleTable};
use crate::wrapper_function::handler::Responder;
use crate::wrapper_function::{orc_rt_WrapperFunctionBuffer, WrapperFunctionBuffer};

/// Opaque Session object (see `orc_rt_SessionRef`).
#[allow(non_camel_case_types)]
pub struct orc_rt_OpaqueSession {
    _private: [u8; 0],
}

impl std::fmt::Debug for orc_rt_OpaqueSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("orc_rt_OpaqueSession")
            .finish_non_exhaustive()
    }
}

/// Handle to an orc-rt Session, the root object of a JIT'd program.
#[allow(non_camel_case_types)]
pub type orc_rt_SessionRef = *mut orc_rt_OpaqueSession;

/// Asynchronous return function for a native orc-rt wrapper function.
///
/// Called exactly once per call with the call's `CallId` and the result
/// buffer, whose ownership passes to the callee. May be called from any
/// thread, before or after the wrapper function itself returns. A second
/// return for the same call is reported through the Session's error
/// reporter and its buffer freed.
#[allow(non_camel_case_types)]
pub type orc_rt_WrapperFunctionReturn = Option<
    unsafe extern "C" fn(
        S: orc_rt_SessionRef,
        CallId: u64,
        ResultBytes: orc_rt_WrapperFunctionBuffer,
    ),
>;

/// Native (asynchronous) orc-rt wrapper function.
///
/// Argument order is the seed design's: session, call id, return function,
/// argument bytes (upstream HEAD has since moved the call id last). The
/// function owns `ArgBytes` and must dispose of it; it must call `Return`
/// exactly once with `CallId`, now or later, from any thread.
#[allow(non_camel_case_types)]
pub type orc_rt_WrapperFunction = Option<
    unsafe extern "C" fn(
        S: orc_rt_SessionRef,
        CallId: u64,
        Return: orc_rt_WrapperFunctionReturn,
        ArgBytes: orc_rt_WrapperFunctionBuffer,
    ),
>;

/// A native wrapper function known to be non-NULL.
pub type NativeWrapperFunction = unsafe extern "C" fn(
    session: orc_rt_SessionRef,
    call_id: u64,
    return_fn: orc_rt_WrapperFunctionReturn,
    arg_bytes: orc_rt_WrapperFunctionBuffer,
);

/// The `orc_rt_SessionRef` C code sees for the Session with handle `h`.
pub fn session_ref(h: Handle) -> orc_rt_SessionRef {
    h.to_raw() as usize as orc_rt_SessionRef
}

/// The Session handle behind an `orc_rt_SessionRef` (checked only when it
/// is looked up).
pub fn session_handle(s: orc_rt_SessionRef) -> Handle {
    Handle::from_raw(s as usize as u64)
}

struct Pending {
    session: Handle,
    responder: Responder,
}

static PENDING: HandleTable<Pending> = HandleTable::new(HandleKind::NativeCall);

/// Calls native wrapper function `f` for the Session with handle `session`;
/// its result goes to `responder` when `f` returns through
/// [`native_return`]. A result that never comes keeps `responder` (and what
/// it holds, such as the Session's in-flight count) alive.
///
/// # Safety
/// `f` must have orc-rt's native wrapper ABI (the caller vouches for the
/// address).
pub(crate) unsafe fn call_native(
    f: NativeWrapperFunction,
    session: Handle,
    args: WrapperFunctionBuffer,
    responder: Responder,
) {
    let id = PENDING.insert(Pending { session, responder });
    // SAFETY: caller promise on `f`; the argument buffer's ownership passes
    // to the callee as the ABI says; `native_return` is a valid return fn.
    unsafe {
        f(
            session_ref(session),
            id.to_raw(),
            Some(native_return),
            args.into_raw(),
        )
    }
}

/// Reports an error through the Session with a handle; gives the error
/// back if that Session is gone.
type SessionReporter = fn(Handle, Error) -> Result<(), Error>;

static REPORTER: std::sync::OnceLock<SessionReporter> = std::sync::OnceLock::new();

/// Lets the Session layer route errors of the return path to a Session's
/// error reporter (set once, by [`crate::session`]).
pub(crate) fn set_session_reporter(r: SessionReporter) {
    let _ = REPORTER.set(r);
}

/// Reports `e` through the error reporter of the Session with handle
/// `session`, or (if it is gone) as an error of no Session.
pub(crate) fn report_to_session(session: Handle, e: Error) {
    let e = match REPORTER.get() {
        Some(r) => match r(session, e) {
            Ok(()) => return,
            Err(e) => e,
        },
        None => e,
    };
    report_unowned(e);
}

/// The `orc_rt_WrapperFunctionReturn` given to every native wrapper
/// function: delivers `ResultBytes` (owned) to pending call `CallId` of
/// Session `S`. A second return, an unknown id, or an id of another
/// Session is reported and the buffer freed.
///
/// # Safety
/// `ResultBytes` must be a valid buffer owned by the caller.
pub unsafe extern "C" fn native_return(
    S: orc_rt_SessionRef,
    CallId: u64,
    ResultBytes: orc_rt_WrapperFunctionBuffer,
) {
    let r = crate::error::catch_panic(|| {
        // SAFETY: caller promise: ResultBytes is valid and now ours.
        let result = unsafe { WrapperFunctionBuffer::from_raw(ResultBytes) };
        let session = session_handle(S);
        let id = Handle::from_raw(CallId);
        let mine = PENDING.with(id, |p| p.session == session).unwrap_or(false);
        match mine.then(|| PENDING.remove(id)).flatten() {
            Some(p) => p.responder.respond(result),
            None => report_to_session(
                session,
                Error::msg(format!(
                    "wrapper function return for unknown call id {CallId:#x} of session {S:p} \
                     (returned twice, or never called)"
                )),
            ),
        }
    });
    if let Err(p) = r {
        report_unowned(Error::from_panic("orc_rt_WrapperFunctionReturn", p));
    }
}
