//! orc-rt: the executor-side runtime of LLVM's ORC JIT, in Rust, with a C ABI.
//!
//! The controller (LLVM's ORC libraries) compiles and links code; the
//! executor, the process that runs it, uses this crate. The C API
//! (`include/orc-rt.h`) is generated from [`ffi`].

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod error;
pub mod executor_addr;
pub mod ffi;
pub mod sps;
pub mod wrapper_function;

pub use error::{Error, Result};
pub use executor_addr::{ExecutorAddr, ExecutorAddrRange};
pub use wrapper_function::WrapperFunctionBuffer;
pub mod bootstrap;
pub mod controller_access;
pub mod dylib;
pub mod eh_frame;
pub mod gdb_jit;
pub mod memory;
pub mod notification;
pub mod perf;
pub mod run_as;
pub mod service;
pub mod session;
pub mod simple_remote_epc;
pub mod sps_ci;
pub mod sys;
pub mod task_dispatcher;
