//! C API for host symbols ([`crate::host_symbols`]): names a Session
//! defines for the code it JIT-links, and the Session's context pointer,
//! through which host functions and native wrapper functions reach the
//! host's state without globals.
//!
//! ```
//! use orc_rt::ffi::host_symbols::{
//!     orc_rt_Session_current, orc_rt_Session_defineSymbol, orc_rt_Session_getContext,
//!     orc_rt_Session_setContext,
//! };
//! use orc_rt::ffi::session::{orc_rt_Session_create, orc_rt_Session_destroy};
//! use orc_rt::ffi::task_dispatcher::orc_rt_InPlaceTaskDispatcher_create;
//! use std::os::raw::c_void;
//!
//! extern "C" fn host_add(a: i32, b: i32) -> i32 {
//!     a + b
//! }
//! // SAFETY: a fresh dispatcher handle, consumed by the Session.
//! let s = unsafe { orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create()) };
//! let addr = host_add as extern "C" fn(i32, i32) -> i32 as usize as u64;
//! // SAFETY: a NUL-terminated name and a function's address.
//! assert!(unsafe { orc_rt_Session_defineSymbol(s, c"host_add".as_ptr(), addr) }.is_null());
//! // SAFETY: as above; a NULL name is refused.
//! assert!(!unsafe { orc_rt_Session_defineSymbol(s, std::ptr::null(), addr) }.is_null());
//! let mut state = 7;
//! orc_rt_Session_setContext(s, &mut state as *mut i32 as *mut c_void);
//! assert_eq!(orc_rt_Session_getContext(s), &mut state as *mut i32 as *mut c_void);
//! assert!(orc_rt_Session_current().is_null()); // not inside a controller call
//! orc_rt_Session_destroy(s);
//! # // (the refused call's error is leaked here; a C caller consumes it)
//! ```

use std::ffi::CStr;
use std::os::raw::{c_char, c_void};
use std::sync::Arc;

use super::error::{error_to_ref, orc_rt_ErrorRef, result_to_ref};
use super::panic::{ffi_boundary, null_default, FfiDefault};
use super::session::session;
use crate::session::Session;
use crate::wrapper_function::native::session_ref;
use crate::wrapper_function::orc_rt_SessionRef;
use crate::{Error, ExecutorAddr};

null_default!(*mut c_void);

/// A context set through [`orc_rt_Session_setContext`]: a C pointer, kept
/// as an address (C owns what it points at).
#[derive(Debug, Clone, Copy)]
struct CContext(usize);

/// Defines `Name` as address `Addr` (a host function, cast to an integer:
/// `(uint64_t)(uintptr_t)&host_add`, or data) for the code Session `S`
/// JIT-links: the controller's lookups of `Name` in the executor's process
/// (llvm-jitlink's and clang-repl's process symbols) find it before
/// anything else. Redefining a name replaces it. Returns an error for a
/// NULL or refused `S`, a NULL or empty `Name`, or address 0. Any thread;
/// does not block.
///
/// # Safety
/// `Name` is NULL or a NUL-terminated string (copied). JIT'd code that
/// links against `Name` uses `Addr` as its declaration says, for as long
/// as it runs: the caller vouches that `Addr` is valid for that.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Session_defineSymbol(
    S: orc_rt_SessionRef,
    Name: *const c_char,
    Addr: u64,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_Session_defineSymbol", {
        if Name.is_null() {
            return error_to_ref(Error::msg("orc_rt_Session_defineSymbol: Name is NULL"));
        }
        // SAFETY: caller promise: Name is NUL-terminated.
        let name = unsafe { CStr::from_ptr(Name) }.to_string_lossy();
        if Addr == 0 {
            return error_to_ref(Error::msg(format!(
                "orc_rt_Session_defineSymbol: address 0 for {name:?}"
            )));
        }
        // SAFETY: the caller's promise about Addr.
        result_to_ref(
            session(S).and_then(|s| unsafe { s.define_symbol(&name, ExecutorAddr(Addr)) }),
        )
    })
}

/// Sets Session `S`'s context pointer to `Ctx` (NULL clears it), replacing
/// any context set before, from C or Rust. The Session never dereferences
/// or frees it: C owns what it points at and keeps it valid while host
/// functions may use it. A refused `S` is reported to stderr. Any thread.
#[no_mangle]
pub extern "C" fn orc_rt_Session_setContext(S: orc_rt_SessionRef, Ctx: *mut c_void) {
    ffi_boundary!("orc_rt_Session_setContext", {
        match session(S) {
            Ok(s) => s.set_context(Arc::new(CContext(Ctx as usize))),
            Err(e) => super::handle::report("orc_rt_Session_setContext", e),
        }
    })
}

/// Session `S`'s context pointer (set by `orc_rt_Session_setContext`);
/// NULL if none was set, if the context was set from Rust, or if `S` is
/// NULL or refused. Any thread; does not block. A native wrapper function
/// gets its Session as `S`; a host function called by JIT'd code gets it
/// from `orc_rt_Session_current()`.
#[no_mangle]
pub extern "C" fn orc_rt_Session_getContext(S: orc_rt_SessionRef) -> *mut c_void {
    ffi_boundary!("orc_rt_Session_getContext", {
        session(S)
            .ok()
            .and_then(|s| s.context::<CContext>())
            .map_or(std::ptr::null_mut(), |c| c.0 as *mut c_void)
    })
}

/// The Session whose controller call the calling thread is running (JIT'd
/// `main`, a function run by the controller, a wrapper function or an
/// allocation action, and everything they call, host functions among
/// them); NULL on any other thread, e.g. one JIT'd code started itself.
/// The handle is borrowed: valid while that call runs, never destroyed
/// by the caller.
#[no_mangle]
pub extern "C" fn orc_rt_Session_current() -> orc_rt_SessionRef {
    ffi_boundary!("orc_rt_Session_current", {
        Session::current().map_or(std::ptr::null_mut(), |s| session_ref(s.handle()))
    })
}
