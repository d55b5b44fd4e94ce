//! The Services a Session owns for an LLVM controller: memory, dylibs,
//! EH-frame and debugger registration, perf jitdump, and run-as-main.
//!
//! Each is plain Rust logic, notified by its Session on detach and shutdown;
//! their wire bindings (the bootstrap entry points) live apart in
//! [`crate::sps_ci`].
//!
//! ```
//! use orc_rt::services::dylib::{self, DylibManager};
//! use orc_rt::services::memory::SimpleNativeMemoryMap;
//! use orc_rt::session::Session;
//! use orc_rt::task_dispatcher::InPlaceTaskDispatcher;
//! use std::sync::Arc;
//!
//! let session = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
//! let dylibs = Arc::new(DylibManager::new());
//! let memory = Arc::new(SimpleNativeMemoryMap::new());
//! session.add_service(dylibs.clone()).unwrap();
//! session.add_service(memory.clone()).unwrap();
//!
//! let process = dylibs.open(b"", 0).unwrap();
//! let slab = memory.reserve(1 << 16).unwrap();
//! assert_eq!(memory.reservations(), [(slab, 1 << 16)]);
//!
//! // Shutting the Session down releases what each service holds.
//! session.shutdown_and_wait().unwrap();
//! assert!(memory.reservations().is_empty());
//! assert!(dylib::resolve(process, &[]).is_err());
//! ```

pub mod dylib;
pub mod eh_frame;
pub mod elfnix_platform;
pub mod gdb_jit;
pub mod memory;
pub mod perf;
pub mod run_as;
