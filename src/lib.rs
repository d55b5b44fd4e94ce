//! orc-rt: the executor-side runtime of LLVM's ORC JIT, in Rust, with a C ABI.
//!
//! The controller (LLVM's ORC libraries) compiles and links code; the
//! executor, the process that runs it, uses this crate. A Rust project
//! depends on it as an rlib; the C library `liborc_rt.so` / `liborc_rt.a`
//! (`include/orc-rt.h`) and the `orc-rt-executor` binary are built from it
//! by the workspace's `capi` and `executor` members.
//!
//! The folders show the layers, bottom up (an import only points down):
//! - base: [`error`], [`executor_addr`], [`log`](mod@log), and the OS layer
//!   (`sys`, an internal);
//! - [`sps`], the serialization;
//! - the core: [`session`], [`service`], [`notification`],
//!   [`task_dispatcher`], [`controller_access`], [`wrapper_function`];
//! - [`services`]: memory, dylibs, EH frames, the GDB and perf JIT
//!   interfaces, run-as-main;
//! - the wire bindings of the services (`sps_ci`, internal: they act on
//!   the controller's word, which a Rust caller cannot give);
//! - [`simple_remote_epc`]: LLVM 22's transport;
//! - the C ABI (`ffi`, only with the `capi` feature), a leaf that nothing
//!   else imports.
//!
//! `sys`, `handle`, `sync` and `sps_ci` are public only so that the
//! workspace's own crates and tests can reach them; they are hidden from
//! the documentation and are not part of the API.
//!
//! # Example
//!
//! A Rust host needs no `unsafe` and no `ffi` type: a Session, a controller
//! in the same process, and an executor function that is a closure taking
//! and returning SPS-typed values.
//!
//! ```
//! use orc_rt::controller_access::InProcessController;
//! use orc_rt::wrapper_function::IncomingCall;
//! use orc_rt::session::Session;
//! use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
//! use orc_rt::wrapper_function::{decode_sps_result, serialize_to_buffer, sps_handler};
//! use std::sync::Arc;
//!
//! let session = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(2).unwrap()));
//! let controller = InProcessController::new();
//! session.attach(controller.clone()).unwrap();
//!
//! let add = IncomingCall::handler(sps_handler(|(a, b): (u32, u32)| a + b));
//! let r = controller.call_blocking(add, serialize_to_buffer(&(40u32, 2u32)));
//! assert_eq!(decode_sps_result::<u32>(r).unwrap(), 42);
//! session.shutdown_and_wait().unwrap();
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod error;
pub mod executor_addr;
#[doc(hidden)]
pub mod handle;
pub mod log;
#[doc(hidden)]
pub mod sync;
#[doc(hidden)]
pub mod sys;

pub mod sps;

pub mod controller_access;
pub mod host_symbols;
pub mod notification;
pub mod service;
pub mod session;
pub mod task_dispatcher;
pub mod wrapper_function;

pub mod sandbox;
pub mod services;
#[doc(hidden)]
pub mod sps_ci;

pub mod simple_remote_epc;

/// The C ABI (`include/orc-rt.h`), compiled only for the C library (the
/// `capi` feature, which the `orc-rt-capi` member crate turns on).
#[cfg(feature = "capi")]
#[doc(hidden)]
pub mod ffi;

pub use error::{Error, Result};
pub use executor_addr::{ExecutorAddr, ExecutorAddrRange};
pub use wrapper_function::WrapperFunctionBuffer;
