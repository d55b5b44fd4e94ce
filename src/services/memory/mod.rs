//! Executor memory for JIT'd code: the memory manager
//! ([`SimpleNativeMemoryMap`], LLVM's `SimpleExecutorMemoryManager`), the
//! shared-memory mapper ([`SharedMemoryMapper`]), allocation actions and raw
//! memory access.
//!
//! Memory is never writable and executable at once: it is mapped
//! read+write, filled, then switched to its final protection (code becomes
//! read+execute). Every address and size from the wire is checked against
//! the ranges this process reserved before any memory is touched.
//!
//! ```
//! use orc_rt::services::memory::access::read_buffers;
//! use orc_rt::services::memory::{MemoryError, SimpleNativeMemoryMap};
//! use orc_rt::sps::orc_types::{FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest};
//! use orc_rt::services::memory::page_size;
//! use orc_rt::{ExecutorAddr, ExecutorAddrRange};
//!
//! let memory = SimpleNativeMemoryMap::new();
//! let base = memory.reserve(page_size()).unwrap();
//! let request = |rag, addr: ExecutorAddr| FinalizeRequest {
//!     segments: vec![SegFinalizeRequest {
//!         rag,
//!         addr,
//!         size: 8,
//!         content: b"code".to_vec(),
//!     }],
//!     actions: vec![],
//! };
//! let rwx = RemoteAllocGroup::new(true, true, true, false);
//! let rx = RemoteAllocGroup::new(true, false, true, false);
//!
//! // Write+execute is refused, and so is memory outside the reservations.
//! // SAFETY (every initialize here): the requests carry no actions.
//! let r = unsafe { memory.initialize(request(rwx, base)) };
//! assert!(matches!(r, Err(MemoryError::WriteAndExec { .. })));
//! let r = unsafe { memory.initialize(request(rx, base + page_size())) };
//! assert!(matches!(r, Err(MemoryError::RangeNotReserved { .. })));
//!
//! // Filled, zero-padded, then made read+execute.
//! let key = unsafe { memory.initialize(request(rx, base)) }.unwrap();
//! let range = ExecutorAddrRange::from_start_and_size(key, 8).unwrap();
//! assert_eq!(read_buffers(&[range]).unwrap(), [b"code\0\0\0\0".to_vec()]);
//! memory.release(&[base]).unwrap();
//! ```

pub mod access;
pub mod actions;
pub mod shared_memory;
pub mod simple_native_memory_map;

pub use shared_memory::SharedMemoryMapper;

/// The size of a memory page, the unit of every reservation and
/// protection.
pub use crate::sys::mmap::page_size;
pub use simple_native_memory_map::SimpleNativeMemoryMap;

use crate::error::{Join, Lines};
use crate::sps::orc_types::RemoteAllocGroup;
use crate::sys::mmap::Prot;

/// Errors of the memory services. Messages follow LLVM 22's where it has
/// one (they reach the controller as text).
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// `initialize` without segments or actions.
    #[error("Finalization request is empty")]
    EmptyRequest,
    /// `initialize` with actions but no segments.
    #[error("Finalization actions attached to empty finalization request")]
    ActionsOnEmptyRequest,
    /// A segment's content is longer than the segment.
    #[error("Segment {addr:#x} content size ({content:#x} bytes) exceeds segment size ({size:#x} bytes)")]
    ContentTooLarge {
        /// Segment address.
        addr: u64,
        /// Content length.
        content: u64,
        /// Segment size.
        size: u64,
    },
    /// A segment asked for write and execute permission together.
    #[error("Segment {addr:#x} requests write and execute permission at once (W^X): refused")]
    WriteAndExec {
        /// Segment address.
        addr: u64,
    },
    /// A segment does not start on a page boundary.
    #[error("Segment {addr:#x} is not page aligned")]
    Unaligned {
        /// Segment address.
        addr: u64,
    },
    /// An address is outside every reservation.
    #[error("{context}, address {addr:#x} is not part of any reserved address range")]
    AddrNotReserved {
        /// Operation ("In deinitialize").
        context: &'static str,
        /// The address.
        addr: u64,
    },
    /// A range is not inside one reservation.
    #[error("{context}, range {start:#x} -- {end:#x} is not part of any reserved address range")]
    RangeNotReserved {
        /// Operation ("In initialize").
        context: &'static str,
        /// Range start.
        start: u64,
        /// Range end (exclusive).
        end: u64,
    },
    /// `release` of a base that is not a reservation.
    #[error("In release, {0:#x} is not part of any reserved address range")]
    ReleaseUnknown(u64),
    /// A new region overlaps an initialized one.
    #[error("{context}, region {start:#x} -- {end:#x} overlaps {which} region {other_start:#x} -- {other_end:#x}")]
    Overlap {
        /// Operation.
        context: &'static str,
        /// New region start.
        start: u64,
        /// New region end.
        end: u64,
        /// "previous" or "following".
        which: &'static str,
        /// Existing region start.
        other_start: u64,
        /// Existing region end.
        other_end: u64,
    },
    /// Two segments of one initialize request share a page.
    #[error("In initialize, segment {start:#x} -- {end:#x} overlaps segment {other_start:#x} -- {other_end:#x} of the same request")]
    SegmentsOverlap {
        /// Page-rounded range of one segment.
        start: u64,
        /// Its end (exclusive).
        end: u64,
        /// Page-rounded range of the segment it overlaps.
        other_start: u64,
        /// Its end (exclusive).
        other_end: u64,
    },
    /// A key that is not the start of an initialized region.
    #[error(
        "{context}, address {addr:#x} does not correspond to the start of any initialized region"
    )]
    NoRegion {
        /// Operation.
        context: &'static str,
        /// The address.
        addr: u64,
    },
    /// The service was shut down.
    #[error("{0}: the memory manager is shut down")]
    ShutDown(&'static str),
    /// A system call failed.
    #[error("{context}: {source}")]
    Os {
        /// What was attempted, with values.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An allocation action failed; the message is the action's own (in
    /// band or out of band), as LLVM 22 reports it.
    #[error("{message}")]
    Action {
        /// Address of the action's wrapper function.
        fn_addr: u64,
        /// What the action reported.
        message: String,
    },
    /// Several errors, one message per line (LLVM's `joinErrors`).
    #[error("{}", Lines(.0))]
    Joined(Vec<MemoryError>),
}

crate::module_error!(MemoryError, Memory);

impl Join for MemoryError {
    fn joined(errors: Vec<Self>) -> Self {
        MemoryError::Joined(errors)
    }
    fn split(self) -> Result<Vec<Self>, Self> {
        match self {
            MemoryError::Joined(v) => Ok(v),
            e => Err(e),
        }
    }
}

/// The protection a segment of group `rag` ends up with; `Err` for
/// write+execute.
pub(crate) fn final_prot(rag: RemoteAllocGroup, addr: u64) -> Result<Prot, MemoryError> {
    if rag.write() && rag.exec() {
        return Err(MemoryError::WriteAndExec { addr });
    }
    Ok(Prot {
        read: rag.read(),
        write: rag.write(),
        exec: rag.exec(),
    })
}
