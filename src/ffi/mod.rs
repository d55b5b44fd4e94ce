//! The C ABI: the only place that defines the C API's exported functions
//! (`orc_rt_*`, declared in `include/orc-rt.h`).
//!
//! Other modules use `extern "C"` too, for what is not the C API: wrapper
//! functions and allocation actions on LLVM 22's synchronous ABI whose
//! addresses go to the controller (`sps_ci`, `services`), the functions the
//! ELF platform archive, JIT'd code and debuggers call
//! (`__jit_debug_register_code`), the Session's return trampoline, and the
//! declarations of libc and unwinder functions under `sys/`.
//!
//! One file per concept, thin and mechanical: check pointers, convert, call
//! the safe Rust API, convert back. Every body runs inside `ffi_boundary!`.
//! Parameter names follow the C API (PascalCase), hence the lint allowance.
//!
//! ```
//! use orc_rt::ffi::error::{orc_rt_Error_freeErrorMessage, orc_rt_Error_toString};
//! use orc_rt::ffi::session::{
//!     orc_rt_Session_create, orc_rt_Session_destroy, orc_rt_Session_shutdown,
//!     orc_rt_Session_waitForShutdown,
//! };
//! use orc_rt::ffi::task_dispatcher::orc_rt_InPlaceTaskDispatcher_create;
//! use std::ffi::CStr;
//!
//! // SAFETY: a fresh dispatcher handle, consumed by the Session.
//! let s = unsafe { orc_rt_Session_create(orc_rt_InPlaceTaskDispatcher_create()) };
//! orc_rt_Session_shutdown(s, None, std::ptr::null_mut());
//! assert!(orc_rt_Session_waitForShutdown(s).is_null()); // NULL: success
//! orc_rt_Session_destroy(s);
//!
//! // A destroyed (or bogus) handle gives an error, never a crash.
//! let e = orc_rt_Session_waitForShutdown(s);
//! assert!(!e.is_null());
//! // SAFETY: `e` is a live error handle, consumed by `toString`; the message
//! // is freed once.
//! unsafe {
//!     let msg = orc_rt_Error_toString(e);
//!     assert!(CStr::from_ptr(msg)
//!         .to_str()
//!         .unwrap()
//!         .contains("invalid or destroyed"));
//!     orc_rt_Error_freeErrorMessage(msg);
//! }
//! ```
#![allow(non_snake_case)]

pub mod panic;
pub mod sandbox;

pub(crate) mod handle;

pub mod controller_access;
pub mod error;
pub mod host_symbols;
pub mod log;
pub mod notification;
pub mod service;
pub mod session;
pub mod simple_remote_epc;
pub mod task_dispatcher;
pub mod version;
pub mod wrapper_function;
