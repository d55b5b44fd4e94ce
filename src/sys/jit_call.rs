//! Calling JIT'd code at an address, with the C signatures the protocol
//! defines. Each function is `unsafe`: the address must be code with that
//! signature, which only the controller (trusted to run code in this
//! process) can promise.
//!
//! ```
//! use orc_rt::sys::jit_call;
//! use std::os::raw::{c_char, c_int};
//!
//! extern "C" fn twice(x: c_int) -> c_int {
//!     x * 2
//! }
//! extern "C" fn argc_if_terminated(argc: c_int, argv: *mut *mut c_char) -> c_int {
//!     // SAFETY: callers of `call_main` pass `argc` strings followed by NULL.
//!     let last = unsafe { *argv.add(argc as usize) };
//!     if last.is_null() {
//!         argc
//!     } else {
//!         -1
//!     }
//! }
//!
//! let mut argv = [c"prog".as_ptr() as *mut c_char, std::ptr::null_mut()];
//! // SAFETY: each address is a function with exactly the signature it is
//! // called with, and `argv` holds one C string and NULL.
//! unsafe {
//!     assert_eq!(jit_call::call_int(twice as usize, 21), 42);
//!     assert_eq!(
//!         jit_call::call_main(argc_if_terminated as usize, 1, argv.as_mut_ptr()),
//!         1
//!     );
//! }
//! ```

use std::os::raw::{c_char, c_int};

/// Calls `int main(int, char **)` at `addr`.
///
/// # Safety
/// `addr` is a function with that signature; `argv` holds `argc` valid C
/// strings followed by NULL, alive for the call.
pub unsafe fn call_main(addr: usize, argc: c_int, argv: *mut *mut c_char) -> c_int {
    // SAFETY: caller promise on the signature.
    let f: extern "C" fn(c_int, *mut *mut c_char) -> c_int = unsafe { std::mem::transmute(addr) };
    f(argc, argv)
}

/// Calls `void f(void)` at `addr`.
///
/// # Safety
/// `addr` is a function with that signature.
pub unsafe fn call_void(addr: usize) {
    // SAFETY: caller promise on the signature.
    let f: extern "C" fn() = unsafe { std::mem::transmute(addr) };
    f()
}

/// Calls `int f(int)` at `addr`.
///
/// # Safety
/// `addr` is a function with that signature.
pub unsafe fn call_int(addr: usize, arg: c_int) -> c_int {
    // SAFETY: caller promise on the signature.
    let f: extern "C" fn(c_int) -> c_int = unsafe { std::mem::transmute(addr) };
    f(arg)
}

/// Calls `void f(void *)` at `addr` with `arg`.
///
/// # Safety
/// `addr` is a function with that signature that accepts `arg`.
pub unsafe fn call_with_ptr(addr: usize, arg: usize) {
    // SAFETY: caller promise on the signature.
    let f: extern "C" fn(*mut std::os::raw::c_void) = unsafe { std::mem::transmute(addr) };
    f(arg as *mut std::os::raw::c_void)
}
