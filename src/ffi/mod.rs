//! The C ABI: the only place with `extern "C"`.
//!
//! One file per concept, thin and mechanical: check pointers, convert, call
//! the safe Rust API, convert back. Every body runs inside `ffi_boundary!`.
//! Parameter names follow the C API (PascalCase), hence the lint allowance.
#![allow(non_snake_case)]

pub mod panic;

pub(crate) mod handle;

pub mod controller_access;
pub mod error;
pub mod notification;
pub mod service;
pub mod session;
pub mod simple_remote_epc;
pub mod task_dispatcher;
pub mod version;
pub mod wrapper_function;
