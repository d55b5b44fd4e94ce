//! C API for `orc_rt_WrapperFunctionBuffer`, and the native (asynchronous)
//! wrapper-function ABI types.
//!
//! Names and meanings follow upstream orc-rt's
//! `orc-rt-c/support/WrapperFunction.h`; here they are real exported functions
//! rather than static inlines, so hosts that `dlopen` liborc_rt.so can use
//! them too.
//!
//! A buffer is in one of four states: empty, small (up to 8 bytes, inside
//! the struct), large (a `malloc`ed block), or an out-of-band error (size 0
//! and a `malloc`ed message).
//!
//! ```
//! use orc_rt::ffi::wrapper_function::{
//!     orc_rt_CreateWrapperFunctionBufferFromOutOfBandError,
//!     orc_rt_CreateWrapperFunctionBufferFromRange, orc_rt_CreateWrapperFunctionBufferFromString,
//!     orc_rt_DisposeWrapperFunctionBuffer, orc_rt_WrapperFunctionBufferConstData,
//!     orc_rt_WrapperFunctionBufferEmpty, orc_rt_WrapperFunctionBufferGetOutOfBandError,
//!     orc_rt_WrapperFunctionBufferInit, orc_rt_WrapperFunctionBufferSize,
//! };
//! use orc_rt::wrapper_function::orc_rt_WrapperFunctionBuffer;
//! use std::ffi::CStr;
//! use std::mem::size_of;
//!
//! // SAFETY: every buffer is valid, owned here and disposed of once; the
//! // pointers passed in are valid for the sizes given.
//! unsafe {
//!     let mut empty = std::mem::MaybeUninit::<orc_rt_WrapperFunctionBuffer>::uninit();
//!     orc_rt_WrapperFunctionBufferInit(empty.as_mut_ptr());
//!     let mut empty = empty.assume_init();
//!     assert_eq!(orc_rt_WrapperFunctionBufferEmpty(&empty), 1);
//!
//!     let mut small = orc_rt_CreateWrapperFunctionBufferFromRange(b"inline".as_ptr().cast(), 6);
//!     assert_eq!(orc_rt_WrapperFunctionBufferSize(&small), 6);
//!     let start = &small as *const orc_rt_WrapperFunctionBuffer as usize;
//!     let inside = start..start + size_of::<orc_rt_WrapperFunctionBuffer>();
//!     assert!(inside.contains(&(orc_rt_WrapperFunctionBufferConstData(&small) as usize)));
//!
//!     let mut large =
//!         orc_rt_CreateWrapperFunctionBufferFromString(c"more than eight bytes".as_ptr());
//!     assert_eq!(orc_rt_WrapperFunctionBufferSize(&large), 22); // with the NUL
//!     let data = orc_rt_WrapperFunctionBufferConstData(&large);
//!     assert_eq!(CStr::from_ptr(data), c"more than eight bytes");
//!
//!     let mut err =
//!         orc_rt_CreateWrapperFunctionBufferFromOutOfBandError(c"no such symbol".as_ptr());
//!     assert_eq!(orc_rt_WrapperFunctionBufferSize(&err), 0);
//!     assert_eq!(orc_rt_WrapperFunctionBufferEmpty(&err), 0);
//!     assert!(orc_rt_WrapperFunctionBufferConstData(&err).is_null());
//!     let msg = orc_rt_WrapperFunctionBufferGetOutOfBandError(&err);
//!     assert_eq!(CStr::from_ptr(msg), c"no such symbol");
//!
//!     // Disposing frees what a buffer owns and leaves it empty, so disposing
//!     // twice is harmless.
//!     for b in [&mut empty, &mut small, &mut large, &mut err] {
//!         orc_rt_DisposeWrapperFunctionBuffer(b);
//!         assert_eq!(orc_rt_WrapperFunctionBufferEmpty(b), 1);
//!         orc_rt_DisposeWrapperFunctionBuffer(b);
//!     }
//! }
//! ```

use std::ffi::CStr;
use std::os::raw::c_char;

use super::panic::ffi_boundary;
use crate::wrapper_function::{
    dispose_raw, orc_rt_WrapperFunctionBuffer, WrapperFunctionBuffer, INLINE_CAPACITY,
};

pub use crate::wrapper_function::{
    orc_rt_SessionRef, orc_rt_WrapperFunction, orc_rt_WrapperFunctionReturn,
};

/// Resets `*B` to the empty state without freeing anything. NULL is ignored.
///
/// # Safety
/// `B` is NULL or points at writable memory for one buffer.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_WrapperFunctionBufferInit(B: *mut orc_rt_WrapperFunctionBuffer) {
    ffi_boundary!("orc_rt_WrapperFunctionBufferInit", {
        if !B.is_null() {
            // SAFETY: caller promise: B points at writable memory.
            unsafe { B.write(orc_rt_WrapperFunctionBuffer::empty()) };
        }
    })
}

/// Creates a buffer of `Size` zeroed bytes (inline if `Size <= 8`, else
/// `malloc`ed). If the memory cannot be allocated the result is an
/// out-of-band error buffer. The caller owns the result.
#[no_mangle]
pub extern "C" fn orc_rt_WrapperFunctionBufferAllocate(
    Size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    ffi_boundary!("orc_rt_WrapperFunctionBufferAllocate", {
        WrapperFunctionBuffer::allocate(Size).into_raw()
    })
}

/// Creates a buffer holding a copy of `Size` bytes at `Data`. `Data` may be
/// NULL only when `Size` is 0 (otherwise the result is an out-of-band error).
/// The caller owns the result; `Data` stays the caller's.
///
/// # Safety
/// `Data` must point at `Size` readable bytes when `Size > 0`.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_CreateWrapperFunctionBufferFromRange(
    Data: *const c_char,
    Size: usize,
) -> orc_rt_WrapperFunctionBuffer {
    ffi_boundary!("orc_rt_CreateWrapperFunctionBufferFromRange", {
        if Size == 0 {
            return WrapperFunctionBuffer::new().into_raw();
        }
        if Data.is_null() {
            return WrapperFunctionBuffer::out_of_band_error(&format!(
                "orc_rt_CreateWrapperFunctionBufferFromRange: NULL data with size {Size}"
            ))
            .into_raw();
        }
        // SAFETY: caller promise: Data points at Size readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(Data as *const u8, Size) };
        WrapperFunctionBuffer::from_slice(bytes).into_raw()
    })
}

/// Creates a buffer holding a copy of the NUL-terminated string `Source`,
/// terminator included. NULL gives an out-of-band error buffer. The caller
/// owns the result; `Source` stays the caller's.
///
/// # Safety
/// `Source` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_CreateWrapperFunctionBufferFromString(
    Source: *const c_char,
) -> orc_rt_WrapperFunctionBuffer {
    ffi_boundary!("orc_rt_CreateWrapperFunctionBufferFromString", {
        if Source.is_null() {
            return WrapperFunctionBuffer::out_of_band_error(
                "orc_rt_CreateWrapperFunctionBufferFromString: NULL string",
            )
            .into_raw();
        }
        // SAFETY: caller promise: Source is NUL-terminated.
        let s = unsafe { CStr::from_ptr(Source) };
        WrapperFunctionBuffer::from_slice(s.to_bytes_with_nul()).into_raw()
    })
}

/// Creates a buffer in the out-of-band error state carrying a copy of
/// `ErrMsg` (NULL is treated as "unknown error"). The caller owns the result;
/// `ErrMsg` stays the caller's.
///
/// # Safety
/// `ErrMsg` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_CreateWrapperFunctionBufferFromOutOfBandError(
    ErrMsg: *const c_char,
) -> orc_rt_WrapperFunctionBuffer {
    ffi_boundary!("orc_rt_CreateWrapperFunctionBufferFromOutOfBandError", {
        let msg = if ErrMsg.is_null() {
            "unknown error".into()
        } else {
            // SAFETY: caller promise: ErrMsg is NUL-terminated.
            unsafe { CStr::from_ptr(ErrMsg) }.to_string_lossy()
        };
        WrapperFunctionBuffer::out_of_band_error(&msg).into_raw()
    })
}

/// Frees whatever `*B` owns, in any state, and resets it to empty (so a
/// second dispose of the same buffer is a no-op). NULL is ignored.
///
/// # Safety
/// `B` is NULL or points at a valid buffer owned by the caller.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_WrapperFunctionBufferDispose(B: *mut orc_rt_WrapperFunctionBuffer) {
    ffi_boundary!("orc_rt_WrapperFunctionBufferDispose", {
        if !B.is_null() {
            // SAFETY: caller promise: *B is valid and owned by the caller.
            unsafe { dispose_raw(&mut *B) };
        }
    })
}

/// Deprecated: this runtime's own earlier name for
/// `orc_rt_WrapperFunctionBufferDispose` (which is upstream orc-rt's name),
/// kept so existing binaries and sources keep working. No upstream version
/// has this name; upstream's earlier one was
/// `orc_rt_DisposeWrapperFunctionResult`. Same behaviour; use
/// `orc_rt_WrapperFunctionBufferDispose`.
///
/// # Safety
/// As `orc_rt_WrapperFunctionBufferDispose`.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_DisposeWrapperFunctionBuffer(B: *mut orc_rt_WrapperFunctionBuffer) {
    ffi_boundary!("orc_rt_DisposeWrapperFunctionBuffer", {
        // SAFETY: the caller's promise, passed on unchanged.
        unsafe { orc_rt_WrapperFunctionBufferDispose(B) }
    })
}

/// Returns a pointer to the content bytes of `*B` (inline or heap), or NULL
/// if `B` is NULL or holds an out-of-band error. The pointer is valid while
/// `*B` is neither moved nor disposed.
///
/// # Safety
/// `B` is NULL or points at a valid buffer.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_WrapperFunctionBufferData(
    B: *mut orc_rt_WrapperFunctionBuffer,
) -> *mut c_char {
    ffi_boundary!("orc_rt_WrapperFunctionBufferData", {
        // SAFETY: caller promise: B is NULL or valid.
        match unsafe { B.as_mut() } {
            Some(b) => data_ptr(b) as *mut c_char,
            None => std::ptr::null_mut(),
        }
    })
}

/// Const version of `orc_rt_WrapperFunctionBufferData`.
///
/// # Safety
/// `B` is NULL or points at a valid buffer.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_WrapperFunctionBufferConstData(
    B: *const orc_rt_WrapperFunctionBuffer,
) -> *const c_char {
    ffi_boundary!("orc_rt_WrapperFunctionBufferConstData", {
        // SAFETY: caller promise: B is NULL or valid.
        match unsafe { B.as_ref() } {
            Some(b) => data_ptr(b),
            None => std::ptr::null(),
        }
    })
}

fn data_ptr(b: &orc_rt_WrapperFunctionBuffer) -> *const c_char {
    // SAFETY: reading the pointer field of a Copy union is defined.
    let p = unsafe { b.Data.ValuePtr };
    if b.Size == 0 && !p.is_null() {
        std::ptr::null()
    } else if b.Size > INLINE_CAPACITY {
        p
    } else {
        // SAFETY: small state: the inline array is the active field.
        unsafe { b.Data.Value.as_ptr() }
    }
}

/// Returns the number of content bytes in `*B` (0 for NULL, empty and
/// out-of-band error buffers).
///
/// # Safety
/// `B` is NULL or points at a valid buffer.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_WrapperFunctionBufferSize(
    B: *const orc_rt_WrapperFunctionBuffer,
) -> usize {
    ffi_boundary!("orc_rt_WrapperFunctionBufferSize", {
        // SAFETY: caller promise: B is NULL or valid.
        unsafe { B.as_ref() }.map_or(0, |b| b.Size)
    })
}

/// Returns 1 if `*B` is empty (as after `orc_rt_WrapperFunctionBufferInit`),
/// 0 otherwise. NULL counts as empty.
///
/// # Safety
/// `B` is NULL or points at a valid buffer.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_WrapperFunctionBufferEmpty(
    B: *const orc_rt_WrapperFunctionBuffer,
) -> usize {
    ffi_boundary!("orc_rt_WrapperFunctionBufferEmpty", {
        // SAFETY: caller promise: B is NULL or valid; the union read is of a
        // Copy pointer field.
        match unsafe { B.as_ref() } {
            Some(b) => {
                // SAFETY: both union fields are plain data; reading the
                // pointer field copies eight bytes and dereferences nothing.
                let ptr = unsafe { b.Data.ValuePtr };
                (b.Size == 0 && ptr.is_null()) as usize
            }
            None => 1,
        }
    })
}

/// Returns the out-of-band error message of `*B`, or NULL if it holds none.
/// The buffer keeps ownership of the string: copy it before disposing of the
/// buffer.
///
/// # Safety
/// `B` is NULL or points at a valid buffer.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_WrapperFunctionBufferGetOutOfBandError(
    B: *const orc_rt_WrapperFunctionBuffer,
) -> *const c_char {
    ffi_boundary!("orc_rt_WrapperFunctionBufferGetOutOfBandError", {
        // SAFETY: caller promise: B is NULL or valid; Copy union field read.
        match unsafe { B.as_ref() } {
            // SAFETY: both union fields are plain data; reading the pointer
            // field copies eight bytes and dereferences nothing.
            Some(b) if b.Size == 0 => unsafe { b.Data.ValuePtr as *const c_char },
            _ => std::ptr::null(),
        }
    })
}
