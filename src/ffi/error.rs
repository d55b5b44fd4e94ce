//! C API for errors: `orc_rt_ErrorRef`, NULL meaning success.
//!
//! A non-NULL `orc_rt_ErrorRef` is a handle (`ffi::handle`, Box
//! ownership) to a [`crate::Error`] that C owns. As upstream orc-rt's
//! `orc-rt-c/support/Error.h` says, exactly one consuming operation must be
//! applied to it (`orc_rt_Error_consume`, `orc_rt_Error_toString`,
//! `orc_rt_Error_cantFail`, or a function documented to consume it such as
//! `orc_rt_Session_reportError`); the handle is refused afterwards.
//!
//! ```
//! use orc_rt::ffi::error::{
//!     error_to_ref, orc_rt_Error_consume, orc_rt_Error_freeErrorMessage,
//!     orc_rt_Error_getTypeId, orc_rt_Error_toString, orc_rt_StringError_create,
//!     orc_rt_StringError_getTypeId, take_error,
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
//! assert_eq!(take_error(e).unwrap_err().to_string(), "lost");
//! // The handle is dead now: taking it again is refused, not a crash.
//! assert!(take_error(e).unwrap_err().to_string().contains("invalid or destroyed"));
//! ```

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};

use super::handle::{consume, create, destroy, report, with, Castable, OwnershipBox};
use super::panic::{ffi_boundary, FfiDefault};
use crate::error::report_unowned;
use crate::handle::{HandleKind, HandleTable};
use crate::Error;

/// Opaque error object (see `orc_rt_ErrorRef`).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct orc_rt_OpaqueError {
    _private: [u8; 0],
}

/// Handle to an error. NULL means success; a non-NULL handle must be
/// consumed exactly once (`orc_rt_Error_consume`, `orc_rt_Error_toString`,
/// `orc_rt_Error_cantFail`, or a function that says it consumes it).
#[allow(non_camel_case_types)]
pub type orc_rt_ErrorRef = *mut orc_rt_OpaqueError;

/// Identifies the class of an error (compare with `orc_rt_*_getTypeId`).
#[allow(non_camel_case_types)]
pub type orc_rt_Error_TypeId = *const c_void;

static ERRORS: HandleTable<Error> = HandleTable::new(HandleKind::Error);

impl Castable for orc_rt_OpaqueError {
    type Ownership = OwnershipBox;
    type Value = Error;
    type Store = HandleTable<Error>;
    const NAME: &'static str = "orc_rt_ErrorRef";
    fn store() -> &'static Self::Store {
        &ERRORS
    }
}

static STRING_ERROR_TYPE_ID: u8 = 0;
static PANIC_ERROR_TYPE_ID: u8 = 0;
static OTHER_ERROR_TYPE_ID: u8 = 0;

/// Hands a Rust error to C (the caller of C code owns the handle).
pub fn error_to_ref(e: Error) -> orc_rt_ErrorRef {
    create(e)
}

/// Converts a Rust result into a C handle: NULL for `Ok`.
pub fn result_to_ref(r: crate::Result<()>) -> orc_rt_ErrorRef {
    match r {
        Ok(()) => std::ptr::null_mut(),
        Err(e) => error_to_ref(e),
    }
}

/// Consumes an error handle given by C and returns what it stands for:
/// `Ok` for NULL, the error for a live handle, and an error saying so for a
/// handle that names no live error (consumed already, or forged).
pub fn take_error(e: orc_rt_ErrorRef) -> crate::Result<()> {
    match consume(e) {
        Ok(None) => Ok(()),
        Ok(Some(e)) | Err(e) => Err(e),
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

/// Returns the type id of the failure value `E`, without consuming it.
/// NULL (success) gives NULL.
#[no_mangle]
pub extern "C" fn orc_rt_Error_getTypeId(E: orc_rt_ErrorRef) -> orc_rt_Error_TypeId {
    ffi_boundary!("orc_rt_Error_getTypeId", {
        if E.is_null() {
            return std::ptr::null();
        }
        let id = with(E, |e| match e {
            Error::Message(_) => &STRING_ERROR_TYPE_ID,
            Error::Panic { .. } => &PANIC_ERROR_TYPE_ID,
            _ => &OTHER_ERROR_TYPE_ID,
        });
        match id {
            Ok(id) => id as *const u8 as orc_rt_Error_TypeId,
            Err(bad) => {
                report("orc_rt_Error_getTypeId", bad);
                std::ptr::null()
            }
        }
    })
}

/// Disposes of `E` without handling it (consumes `E`).
#[no_mangle]
pub extern "C" fn orc_rt_Error_consume(E: orc_rt_ErrorRef) {
    ffi_boundary!("orc_rt_Error_consume", {
        destroy(E, "orc_rt_Error_consume");
    })
}

/// Consumes `E`; if it is a failure value, prints its message and aborts
/// the process. Returns normally for NULL. Use only where failure is
/// impossible.
#[no_mangle]
pub extern "C" fn orc_rt_Error_cantFail(E: orc_rt_ErrorRef) {
    ffi_boundary!("orc_rt_Error_cantFail", {
        match consume(E) {
            Ok(None) => {}
            Ok(Some(e)) => {
                report_unowned(Error::msg(format!(
                    "orc_rt_Error_cantFail: fatal: the error was a failure: {e}"
                )));
                std::process::abort();
            }
            Err(bad) => report("orc_rt_Error_cantFail", bad),
        }
    })
}

/// Consumes `E` and returns its message as a new string that the caller
/// frees with `orc_rt_Error_freeErrorMessage`. NULL gives "success"; a
/// refused `E` gives a message saying why it was refused (not NULL).
#[no_mangle]
pub extern "C" fn orc_rt_Error_toString(E: orc_rt_ErrorRef) -> *mut c_char {
    ffi_boundary!("orc_rt_Error_toString", {
        let msg = match consume(E) {
            Ok(None) => "success".to_string(),
            Ok(Some(e)) => e.to_string(),
            Err(bad) => format!("orc_rt_Error_toString: {bad}"),
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
