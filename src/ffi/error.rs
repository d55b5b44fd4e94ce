//! C API for errors: `orc_rt_ErrorRef`, NULL meaning success.
//!
//! A non-NULL `orc_rt_ErrorRef` owns a boxed [`crate::Error`]. Exactly one of
//! `orc_rt_Error_consume`, `orc_rt_Error_toString` or `orc_rt_Error_cantFail`
//! must be applied to it, and the handle is dead afterwards. Names follow
//! upstream orc-rt's `orc-rt-c/support/Error.h`.
//!
//! ```
//! use orc_rt::ffi::error::{
//!     error_from_ref, error_to_ref, orc_rt_Error_consume, orc_rt_Error_freeErrorMessage,
//!     orc_rt_Error_getTypeId, orc_rt_Error_toString, orc_rt_StringError_create,
//!     orc_rt_StringError_getTypeId,
//! };
//! use std::ffi::CStr;
//!
//! // SAFETY: every error handle is consumed exactly once, and every message
//! // freed once with `orc_rt_Error_freeErrorMessage`.
//! unsafe {
//!     let e = orc_rt_StringError_create(c"could not open libfoo.so".as_ptr());
//!     assert_eq!(orc_rt_Error_getTypeId(e), orc_rt_StringError_getTypeId());
//!     let msg = orc_rt_Error_toString(e); // consumes `e`
//!     assert_eq!(CStr::from_ptr(msg), c"could not open libfoo.so");
//!     orc_rt_Error_freeErrorMessage(msg);
//!
//!     // NULL means success.
//!     assert!(orc_rt_Error_getTypeId(std::ptr::null_mut()).is_null());
//!     let msg = orc_rt_Error_toString(std::ptr::null_mut());
//!     assert_eq!(CStr::from_ptr(msg), c"success");
//!     orc_rt_Error_freeErrorMessage(msg);
//!     orc_rt_Error_consume(orc_rt_StringError_create(std::ptr::null()));
//! }
//!
//! // Rust code hands errors over as boxed handles, and takes them back.
//! let e = error_to_ref(orc_rt::Error::msg("lost"));
//! // SAFETY: a fresh handle, taken back once.
//! assert_eq!(unsafe { error_from_ref(e) }.unwrap().to_string(), "lost");
//! ```

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};

use super::panic::{ffi_boundary, FfiDefault};
use crate::Error;

/// Opaque error object (see `orc_rt_ErrorRef`).
#[allow(non_camel_case_types)]
pub struct orc_rt_OpaqueError {
    _private: [u8; 0],
}

/// Handle to an error. NULL means success; a non-NULL handle must be
/// consumed exactly once (`orc_rt_Error_consume`, `orc_rt_Error_toString`).
#[allow(non_camel_case_types)]
pub type orc_rt_ErrorRef = *mut orc_rt_OpaqueError;

/// Identifies the class of an error (compare with `orc_rt_*_getTypeId`).
#[allow(non_camel_case_types)]
pub type orc_rt_Error_TypeId = *const c_void;

static STRING_ERROR_TYPE_ID: u8 = 0;
static PANIC_ERROR_TYPE_ID: u8 = 0;
static OTHER_ERROR_TYPE_ID: u8 = 0;

/// Boxes a Rust error into a C handle (the caller of C code owns it).
pub fn error_to_ref(e: Error) -> orc_rt_ErrorRef {
    Box::into_raw(Box::new(e)) as orc_rt_ErrorRef
}

/// Converts a Rust result into a C handle: NULL for `Ok`.
pub fn result_to_ref(r: crate::Result<()>) -> orc_rt_ErrorRef {
    match r {
        Ok(()) => std::ptr::null_mut(),
        Err(e) => error_to_ref(e),
    }
}

/// Takes back ownership of an error handle; `None` for NULL (success).
///
/// # Safety
/// `e` is NULL or a live handle from [`error_to_ref`], not used afterwards.
pub unsafe fn error_from_ref(e: orc_rt_ErrorRef) -> Option<Error> {
    if e.is_null() {
        None
    } else {
        // SAFETY: caller promise: e came from Box::into_raw in error_to_ref.
        Some(*unsafe { Box::from_raw(e as *mut Error) })
    }
}

impl FfiDefault for orc_rt_ErrorRef {
    fn on_panic(fn_name: &str, message: String) -> Self {
        error_to_ref(Error::Panic {
            context: fn_name.to_string(),
            message,
        })
    }
}

/// Returns the type id of the failure value `E` (NULL for a NULL `E`).
/// Does not consume `E`.
///
/// # Safety
/// `E` is NULL or a live error handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Error_getTypeId(E: orc_rt_ErrorRef) -> orc_rt_Error_TypeId {
    ffi_boundary!("orc_rt_Error_getTypeId", {
        if E.is_null() {
            return std::ptr::null();
        }
        // SAFETY: caller promise: E is a live handle (a boxed Error).
        let e = unsafe { &*(E as *const Error) };
        let id: &u8 = match e {
            Error::Message(_) => &STRING_ERROR_TYPE_ID,
            Error::Panic { .. } => &PANIC_ERROR_TYPE_ID,
            _ => &OTHER_ERROR_TYPE_ID,
        };
        id as *const u8 as orc_rt_Error_TypeId
    })
}

/// Disposes of `E` without handling it. NULL is a no-op. `E` is dead
/// afterwards.
///
/// # Safety
/// `E` is NULL or a live error handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Error_consume(E: orc_rt_ErrorRef) {
    ffi_boundary!("orc_rt_Error_consume", {
        // SAFETY: caller promise: E is NULL or live and not used again.
        drop(unsafe { error_from_ref(E) });
    })
}

/// Aborts the process with the error's message if `E` is a failure value;
/// returns normally for NULL. Use only where failure is impossible.
///
/// # Safety
/// `E` is NULL or a live error handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Error_cantFail(E: orc_rt_ErrorRef) {
    ffi_boundary!("orc_rt_Error_cantFail", {
        // SAFETY: caller promise: E is NULL or live and not used again.
        if let Some(e) = unsafe { error_from_ref(E) } {
            eprintln!("orc-rt: fatal error in orc_rt_Error_cantFail: {e}");
            std::process::abort();
        }
    })
}

/// Consumes `E` and returns its message as a new string that the caller
/// frees with `orc_rt_Error_freeErrorMessage`. NULL gives the string
/// "success".
///
/// # Safety
/// `E` is NULL or a live error handle.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Error_toString(E: orc_rt_ErrorRef) -> *mut c_char {
    ffi_boundary!("orc_rt_Error_toString", {
        // SAFETY: caller promise: E is NULL or live and not used again.
        let msg = match unsafe { error_from_ref(E) } {
            Some(e) => e.to_string(),
            None => "success".to_string(),
        };
        CString::new(msg.replace('\0', " "))
            .expect("interior NULs replaced")
            .into_raw()
    })
}

/// Frees a message returned by `orc_rt_Error_toString`. NULL is a no-op.
///
/// # Safety
/// `ErrMsg` is NULL or a string from `orc_rt_Error_toString`, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Error_freeErrorMessage(ErrMsg: *mut c_char) {
    ffi_boundary!("orc_rt_Error_freeErrorMessage", {
        if !ErrMsg.is_null() {
            // SAFETY: caller promise: ErrMsg came from CString::into_raw.
            drop(unsafe { CString::from_raw(ErrMsg) });
        }
    })
}

/// Returns the type id of string errors (those made by
/// `orc_rt_StringError_create`).
#[no_mangle]
pub extern "C" fn orc_rt_StringError_getTypeId() -> orc_rt_Error_TypeId {
    ffi_boundary!("orc_rt_StringError_getTypeId", {
        &STRING_ERROR_TYPE_ID as *const u8 as orc_rt_Error_TypeId
    })
}

/// Creates a string error carrying a copy of `ErrMsg` (NULL gives
/// "unknown error"). The caller owns the returned handle.
///
/// # Safety
/// `ErrMsg` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_StringError_create(ErrMsg: *const c_char) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_StringError_create", {
        let msg = if ErrMsg.is_null() {
            "unknown error".to_string()
        } else {
            // SAFETY: caller promise: ErrMsg is NUL-terminated.
            unsafe { CStr::from_ptr(ErrMsg) }
                .to_string_lossy()
                .into_owned()
        };
        error_to_ref(Error::Message(msg))
    })
}
