//! orc-rt: the executor-side runtime of LLVM's ORC JIT, in Rust, with a C ABI.
//!
//! The controller (LLVM's ORC libraries) compiles and links code; the
//! executor, the process that runs it, uses this crate. The C API
//! (`include/orc-rt.h`) is generated from [`ffi`].
//!
//! The folders show the layers, bottom up (an import only points down):
//! - base: [`error`], [`executor_addr`], [`log`](mod@log), [`sys`];
//! - [`sps`], the serialization;
//! - the core: [`session`], [`service`], [`notification`],
//!   [`task_dispatcher`], [`controller_access`], [`wrapper_function`];
//! - [`services`]: memory, dylibs, EH frames, the GDB and perf JIT
//!   interfaces, run-as-main;
//! - [`sps_ci`]: the wire bindings of the services;
//! - [`simple_remote_epc`]: LLVM 22's transport;
//! - [`ffi`]: the C ABI, a leaf that nothing else imports.
//!
//! # Example
//!
//! A Rust host needs no `unsafe` and no `ffi` type: a Session, a controller
//! in the same process, and an executor function that is a closure taking
//! and returning SPS-typed values.
//!
//! ```
//! use orc_rt::controller_access::{InProcessController, IncomingCall};
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
pub mod handle;
pub mod log;
pub mod sync;
pub mod sys;

pub mod sps;

pub mod controller_access;
pub mod notification;
pub mod service;
pub mod session;
pub mod task_dispatcher;
pub mod wrapper_function;

pub mod sandbox;
pub mod services;
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
