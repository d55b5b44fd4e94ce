//! The shared-memory mapper (LLVM's `ExecutorSharedMemoryMapperService`,
//! used by `llvm-jitlink -use-memmgr=shared`).
//!
//! `reserve` creates a POSIX shared memory object named
//! `/jitlink_<pid>_<32 random hex digits>` (nobody can guess it, so no
//! other process finds it without being told) with mode 0600 (its owner
//! only) and maps it with no access. The controller opens the
//! same name and writes segment content through its own mapping; the
//! executor only sets protections (`initialize`) and runs allocation
//! actions. Both processes must therefore share `/dev/shm`. The executor
//! never unlinks the name (the controller does, once it has mapped it).
//!
//! ```
//! use orc_rt::services::memory::access::read_uints;
//! use orc_rt::services::memory::{MemoryError, SharedMemoryMapper};
//! use orc_rt::sps::orc_types::{
//!     RemoteAllocGroup, SharedMemoryFinalizeRequest, SharedMemorySegFinalizeRequest,
//! };
//! use orc_rt::services::memory::page_size;
//! use orc_rt::ExecutorAddr;
//!
//! let mapper = SharedMemoryMapper::new();
//! let (base, name) = mapper.reserve(2 * page_size()).unwrap();
//! let prefix = format!("/jitlink_{}_", std::process::id());
//! assert!(name.starts_with(&prefix) && name.len() == prefix.len() + 32);
//! // (The controller now opens `name` and writes the segments' content.)
//!
//! let request = |addr: ExecutorAddr| SharedMemoryFinalizeRequest {
//!     segments: vec![SharedMemorySegFinalizeRequest {
//!         rag: RemoteAllocGroup::new(true, false, false, false),
//!         addr,
//!         size: 8,
//!     }],
//!     actions: vec![],
//! };
//! // SAFETY (both calls): the requests carry no actions.
//! let r = unsafe { mapper.initialize(base, request(base + 1)) };
//! assert!(matches!(r, Err(MemoryError::Unaligned { .. })));
//! let key = unsafe { mapper.initialize(base, request(base)) }.unwrap();
//! assert_eq!(read_uints::<u64>(&[key]).unwrap(), [0]); // readable now
//! mapper.deinitialize(&[key]).unwrap();
//! mapper.release(&[base]).unwrap();
//! // Unlinking the name is the controller's job, once it has mapped it.
//! # orc_rt::sys::shm::unlink(&name).unwrap();
//! ```

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::actions::{run_dealloc_actions, run_finalize_actions};
use super::{final_prot, MemoryError};
use crate::error::ErrorList;
use crate::service::{OnCompleteFn, Service};
use crate::sps::orc_types::{SharedMemoryFinalizeRequest, WrapperFunctionCall};
use crate::sync::lock;
use crate::sys::{mmap, shm};
use crate::ExecutorAddr;

struct Reservation {
    size: u64,
    /// Initialized allocations: key (lowest segment address) to dealloc
    /// actions, in initialization order.
    allocations: Vec<(u64, Vec<WrapperFunctionCall>)>,
}

#[derive(Default)]
struct State {
    reservations: BTreeMap<u64, Reservation>,
    shut_down: bool,
}

/// The shared-memory mapper service.
#[derive(Default)]
pub struct SharedMemoryMapper {
    state: Mutex<State>,
}

impl std::fmt::Debug for SharedMemoryMapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemoryMapper").finish_non_exhaustive()
    }
}

impl SharedMemoryMapper {
    /// A mapper with no reservations.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates and maps a shared memory object of `size` bytes; returns its
    /// address here and its name.
    pub fn reserve(&self, size: u64) -> Result<(ExecutorAddr, String), MemoryError> {
        if lock(&self.state).shut_down {
            return Err(MemoryError::ShutDown("In reserve"));
        }
        let prefix = format!("/jitlink_{}_", std::process::id());
        let name = shm::random_name(&prefix).map_err(|source| MemoryError::Os {
            context: format!("In reserve, could not draw a random name for {size:#x} bytes"),
            source,
        })?;
        let os = |source| MemoryError::Os {
            context: format!(
                "In reserve, could not create shared memory {name} of {size:#x} bytes"
            ),
            source,
        };
        if size == 0 {
            return Err(os(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "size is 0",
            )));
        }
        let rounded = mmap::round_up_to_page(size).ok_or_else(|| {
            os(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "size overflows",
            ))
        })?;
        let base = shm::create_and_map(&name, size).map_err(os)?;
        lock(&self.state).reservations.insert(
            base,
            Reservation {
                size: rounded,
                allocations: Vec::new(),
            },
        );
        Ok((ExecutorAddr(base), name))
    }

    /// Applies each segment's protection inside `reservation` (the content
    /// is already there), then runs the finalize actions. Returns the
    /// lowest segment address as the allocation's key.
    ///
    /// # Safety
    ///
    /// The finalize actions run now and their dealloc halves later (at
    /// deinitialize, release or shutdown): the caller promises that each
    /// action's address is a function with the synchronous wrapper ABI (for
    /// the wire bindings: actions the controller sent, on its word).
    pub unsafe fn initialize(
        &self,
        reservation: ExecutorAddr,
        req: SharedMemoryFinalizeRequest,
    ) -> Result<ExecutorAddr, MemoryError> {
        const CTX: &str = "In initialize";
        let page = mmap::page_size();
        if req.segments.is_empty() {
            return Err(if req.actions.is_empty() {
                MemoryError::EmptyRequest
            } else {
                MemoryError::ActionsOnEmptyRequest
            });
        }
        let mut key = u64::MAX;
        {
            let st = lock(&self.state);
            if st.shut_down {
                return Err(MemoryError::ShutDown(CTX));
            }
            let base = reservation.0;
            let res = st
                .reservations
                .get(&base)
                .ok_or(MemoryError::AddrNotReserved {
                    context: CTX,
                    addr: base,
                })?;
            let mut plan = Vec::with_capacity(req.segments.len());
            for seg in &req.segments {
                let addr = seg.addr.0;
                let prot = final_prot(seg.rag, addr)?;
                if addr % page != 0 {
                    return Err(MemoryError::Unaligned { addr });
                }
                let end = addr.checked_add(seg.size).and_then(mmap::round_up_to_page);
                match end {
                    Some(end) if addr >= base && end <= base + res.size => {
                        plan.push((addr, end - addr, prot))
                    }
                    _ => {
                        return Err(MemoryError::RangeNotReserved {
                            context: CTX,
                            start: addr,
                            end: addr.saturating_add(seg.size),
                        })
                    }
                }
                key = key.min(addr);
            }
            if res.allocations.iter().any(|(k, _)| *k == key) {
                return Err(MemoryError::Overlap {
                    context: CTX,
                    start: key,
                    end: key,
                    which: "previous",
                    other_start: key,
                    other_end: key,
                });
            }
            for (addr, len, prot) in plan {
                if len == 0 {
                    continue;
                }
                // SAFETY: inside a reservation this mapper mapped for JIT'd
                // code (checked above); the lock keeps it mapped.
                unsafe { mmap::protect(addr, len, prot) }.map_err(|source| MemoryError::Os {
                    context: format!("{CTX}, could not protect segment {addr:#x} ({len:#x} bytes)"),
                    source,
                })?;
                if prot.exec {
                    mmap::invalidate_instruction_cache(addr, len);
                }
            }
        }
        // SAFETY: the caller vouches for the actions (this function's
        // contract).
        let deallocs = unsafe { run_finalize_actions(req.actions) }?;
        let mut st = lock(&self.state);
        match st.reservations.get_mut(&reservation.0) {
            Some(res) => {
                res.allocations.push((key, deallocs));
                Ok(ExecutorAddr(key))
            }
            None => {
                drop(st);
                // SAFETY: as above.
                unsafe { run_dealloc_actions(deallocs) }?;
                Err(MemoryError::AddrNotReserved {
                    context: CTX,
                    addr: reservation.0,
                })
            }
        }
    }

    /// For each key, last first: runs the allocation's dealloc actions (in
    /// reverse) and forgets it.
    pub fn deinitialize(&self, keys: &[ExecutorAddr]) -> Result<(), MemoryError> {
        let mut errs = ErrorList::default();
        for key in keys.iter().rev() {
            let found = {
                let mut st = lock(&self.state);
                st.reservations.values_mut().find_map(|r| {
                    let i = r.allocations.iter().position(|(k, _)| *k == key.0)?;
                    Some(r.allocations.remove(i).1)
                })
            };
            match found {
                // SAFETY: dealloc actions that came with an initialize,
                // whose caller vouched for them (initialize's contract).
                Some(deallocs) => errs.push_result(unsafe { run_dealloc_actions(deallocs) }),
                None => errs.push(MemoryError::NoRegion {
                    context: "In deinitialize",
                    addr: key.0,
                }),
            }
        }
        errs.finish()
    }

    /// For each reservation: deinitializes what is left (last first), then
    /// unmaps it.
    pub fn release(&self, bases: &[ExecutorAddr]) -> Result<(), MemoryError> {
        let mut errs = ErrorList::default();
        for base in bases {
            let Some(res) = lock(&self.state).reservations.remove(&base.0) else {
                errs.push(MemoryError::ReleaseUnknown(base.0));
                continue;
            };
            for (_, deallocs) in res.allocations.into_iter().rev() {
                // SAFETY: dealloc actions that came with an initialize,
                // whose caller vouched for them (initialize's contract).
                errs.push_result(unsafe { run_dealloc_actions(deallocs) });
            }
            // SAFETY: our mapping, no longer known to the mapper.
            if let Err(source) = unsafe { mmap::unmap(base.0, res.size) } {
                errs.push(MemoryError::Os {
                    context: format!("In release, could not unmap {:#x}", base.0),
                    source,
                });
            }
        }
        errs.finish()
    }

    /// Releases every reservation and refuses new ones.
    pub fn shutdown(&self) -> Result<(), MemoryError> {
        let bases: Vec<ExecutorAddr> = {
            let mut st = lock(&self.state);
            st.shut_down = true;
            st.reservations.keys().map(|&b| ExecutorAddr(b)).collect()
        };
        self.release(&bases)
    }
}

impl Service for SharedMemoryMapper {
    /// Detach keeps the mappings: JIT'd code keeps running.
    fn on_detach(&self, on_complete: OnCompleteFn, _shutdown_requested: bool) {
        on_complete(Ok(()))
    }

    /// Shutdown releases every reservation, running dealloc actions.
    fn on_shutdown(&self, on_complete: OnCompleteFn) {
        on_complete(self.shutdown().map_err(Into::into))
    }
}

impl Drop for SharedMemoryMapper {
    fn drop(&mut self) {
        let st = lock(&self.state);
        for (&b, r) in &st.reservations {
            // SAFETY: our own mappings, unreachable after drop.
            let _ = unsafe { mmap::unmap(b, r.size) };
        }
    }
}

/// Finalization calls [`mmap::invalidate_instruction_cache`] for each code
/// segment (recorded in test builds and checked).
#[cfg(test)]
mod instruction_cache_tests {
    use super::SharedMemoryMapper;
    use crate::sps::orc_types::{
        RemoteAllocGroup, SharedMemoryFinalizeRequest, SharedMemorySegFinalizeRequest,
    };
    use crate::sys::mmap::{page_size, recorded_invalidation};

    fn rx() -> RemoteAllocGroup {
        RemoteAllocGroup::new(true, false, true, false)
    }

    #[test]
    fn shared_memory_finalize_invalidates_each_code_segment() {
        let page = page_size();
        let mapper = SharedMemoryMapper::new();
        // The controller writes the code through its own mapping of the
        // shared memory; the executor only finalizes it.
        let (base, _name) = mapper.reserve(page).unwrap();
        let req = SharedMemoryFinalizeRequest {
            segments: vec![SharedMemorySegFinalizeRequest {
                rag: rx(),
                addr: base,
                size: page,
            }],
            actions: vec![],
        };
        // SAFETY: no actions run.
        unsafe { mapper.initialize(base, req) }.unwrap();
        assert!(recorded_invalidation(base.0, page));
        mapper.release(&[base]).unwrap();
    }
}
