//! Operating-system code (POSIX/Linux): memory mapping, shared memory, the
//! dynamic loader, checked memory copies and the unwinder's frame registry.
//!
//! Everything here is a thin, documented wrapper over one system facility;
//! the services above it hold the logic. Errors are `std::io::Error`s,
//! except the loader's [`dl::DlError`] (`dlerror` text).

pub mod clock;
pub mod dl;
pub mod jit_call;
pub mod mem;
pub mod mmap;
pub mod shm;
pub mod stack;
pub mod unwind;
