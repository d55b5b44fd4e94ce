//! Operating-system code (POSIX/Linux): memory mapping, shared memory, the
//! dynamic loader, checked memory copies, the unwinder's frame registry,
//! resource limits, the process itself (threads, descriptors, identity,
//! namespaces), Landlock's version query, fork detection, the descriptor
//! I/O of the transport (pipes, `poll`, non-blocking reads, socket
//! writes), and on AArch64 the outline-atomics helpers that JIT'd
//! code built by Clang or GCC calls.
//!
//! Everything here is a thin, documented wrapper over one system facility;
//! the services above it hold the logic. Errors are `std::io::Error`s,
//! except the loader's [`dl::DlError`] (`dlerror` text).
//!
//! ```
//! use orc_rt::sys::{mem, mmap};
//!
//! // Map a page for JIT'd data, fill it through checked copies, unmap it.
//! let page = mmap::page_size();
//! assert!(page.is_power_of_two());
//! let base = mmap::map_anonymous_rw(page).unwrap();
//! // SAFETY: our own fresh mapping.
//! unsafe { mem::write(base, b"orc") }.unwrap();
//! assert_eq!(mem::read_vec(base, 3).unwrap(), b"orc");
//! // SAFETY: the mapping was made above for this example and nothing uses it
//! // afterwards.
//! unsafe { mmap::unmap(base, page) }.unwrap();
//! ```

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!("orc-rt supports Linux on x86-64 and AArch64");

pub mod clock;
pub mod crash;
pub mod dl;
pub mod exit;
pub(crate) mod fork;
pub mod io;
pub mod jit_call;
pub mod landlock;
pub mod mem;
pub mod mmap;
pub mod mount;
#[cfg(target_arch = "aarch64")]
pub(crate) mod outline_atomics;
pub mod pipe;
pub mod poll;
#[cfg(test)]
pub(crate) mod probe;
pub mod process;
pub mod rlimit;
pub mod shm;
pub mod stack;
pub mod unwind;
