//! The Services a Session owns for an LLVM controller: memory, dylibs,
//! EH-frame and debugger registration, perf jitdump, and run-as-main.
//!
//! Each is plain Rust logic, notified by its Session on detach and shutdown;
//! their wire bindings (the bootstrap entry points) live apart in
//! [`crate::sps_ci`].

pub mod dylib;
pub mod eh_frame;
pub mod gdb_jit;
pub mod memory;
pub mod perf;
pub mod run_as;
