//! The panic boundary: no Rust panic ever unwinds into C.
//!
//! Every exported function body runs inside `ffi_boundary!`, which catches
//! an unwind and turns it into the function's documented failure value
//! ([`FfiDefault`]): an error handle, an out-of-band error buffer, NULL, 0.
//!
//! ```
//! use orc_rt::ffi::error::{orc_rt_ErrorRef, take_error};
//! use orc_rt::ffi::panic::FfiDefault;
//! use orc_rt::wrapper_function::orc_rt_WrapperFunctionBuffer;
//! use orc_rt::WrapperFunctionBuffer;
//! use std::os::raw::c_char;
//!
//! // What a function returns when its body panicked, by return type.
//! let e = <orc_rt_ErrorRef as FfiDefault>::on_panic("orc_rt_Example", "boom".into());
//! let e = take_error(e).unwrap_err();
//! assert_eq!(e.to_string(), "panic in orc_rt_Example: boom");
//!
//! let b = <orc_rt_WrapperFunctionBuffer as FfiDefault>::on_panic("orc_rt_Example", "boom".into());
//! // SAFETY: a fresh buffer, owned here from now on.
//! let b = unsafe { WrapperFunctionBuffer::from_raw(b) };
//! assert_eq!(
//!     b.out_of_band_error_message(),
//!     Some(c"panic in orc_rt_Example: boom")
//! );
//!
//! // Pointers become NULL and integers 0; the message is logged (orc_rt::log).
//! assert!(<*mut c_char as FfiDefault>::on_panic("orc_rt_Example", "boom".into()).is_null());
//! assert_eq!(
//!     <usize as FfiDefault>::on_panic("orc_rt_Example", "boom".into()),
//!     0
//! );
//! ```

use std::os::raw::{c_char, c_void};

use crate::error::{report_unowned, Error};
use crate::wrapper_function::{orc_rt_WrapperFunctionBuffer, WrapperFunctionBuffer};

/// Prints a panic caught at the boundary of a function that has no error
/// to return it through (an error of no Session).
pub(crate) fn report_panic(fn_name: &str, message: String) {
    report_unowned(Error::Panic {
        context: format!("{fn_name} (caught at the C boundary)"),
        message,
    });
}

/// What an exported function returns when its body panicked.
pub trait FfiDefault {
    /// The failure value, given the panic message.
    fn on_panic(fn_name: &str, message: String) -> Self;
}

impl FfiDefault for () {
    fn on_panic(fn_name: &str, message: String) -> Self {
        report_panic(fn_name, message);
    }
}

/// Implements [`FfiDefault`] as NULL for the given pointer types.
macro_rules! null_default {
    ($($t:ty),*) => {$(
        impl FfiDefault for $t {
            fn on_panic(fn_name: &str, message: String) -> Self {
                $crate::ffi::panic::report_panic(fn_name, message);
                std::ptr::null_mut::<u8>() as $t
            }
        }
    )*};
}
#[allow(unused_imports)]
pub(crate) use null_default;
null_default!(*mut c_char, *const c_char, *const c_void);

macro_rules! zero_default {
    ($($t:ty),*) => {$(
        impl FfiDefault for $t {
            fn on_panic(fn_name: &str, message: String) -> Self {
                $crate::ffi::panic::report_panic(fn_name, message);
                0 as $t
            }
        }
    )*};
}
zero_default!(usize, u64, i64, u32, i32, u8, i8);

impl FfiDefault for orc_rt_WrapperFunctionBuffer {
    fn on_panic(fn_name: &str, message: String) -> Self {
        WrapperFunctionBuffer::out_of_band_error(&format!("panic in {fn_name}: {message}"))
            .into_raw()
    }
}

/// Runs `$body` catching any panic; on panic returns
/// `FfiDefault::on_panic` for the function's return type.
macro_rules! ffi_boundary {
    ($name:literal, $body:block) => {{
        match $crate::error::catch_panic(|| $body) {
            Ok(v) => v,
            Err(p) => {
                $crate::ffi::panic::FfiDefault::on_panic($name, $crate::error::panic_message(&p))
            }
        }
    }};
}
pub(crate) use ffi_boundary;
