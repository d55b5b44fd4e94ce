//! The executor's memory manager (LLVM's `SimpleExecutorMemoryManager`):
//! reserve address space, initialize (fill, protect, run finalize
//! actions), deinitialize (run dealloc actions) and release (unmap).
//!
//! A *slab* is one reservation; a *region* is the range one `initialize`
//! covered inside a slab, keyed by its lowest segment address. Regions
//! keep their dealloc actions until `deinitialize`, `release` or Session
//! shutdown, which is how JIT'd static destructors run.
//!
//! ```
//! use orc_rt::services::memory::{MemoryError, SimpleNativeMemoryMap};
//! use orc_rt::sps::orc_types::{
//!     AllocActionCallPair, FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest,
//!     WrapperFunctionCall,
//! };
//! use orc_rt::sps::{deserialize_all, SpsResult};
//! use orc_rt::wrapper_function::{orc_rt_WrapperFunctionBuffer, serialize_to_buffer};
//! use orc_rt::wrapper_function::sync_abi::arg_bytes;
//! use orc_rt::ExecutorAddr;
//! use std::os::raw::c_char;
//! use std::sync::Mutex;
//!
//! static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
//!
//! /// An allocation action, `SPSError (SPSString)`: logs its argument.
//! unsafe extern "C" fn log(data: *const c_char, size: usize) -> orc_rt_WrapperFunctionBuffer {
//!     // SAFETY: the caller lends `size` bytes at `data` for the call.
//!     let args = unsafe { arg_bytes(data, size) }.unwrap_or_default();
//!     let r: SpsResult = deserialize_all::<(String,)>(args)
//!         .map(|(msg,)| LOG.lock().unwrap().push(msg))
//!         .map_err(|e| e.to_string());
//!     serialize_to_buffer(&r).into_raw()
//! }
//! let call = |msg: &str| {
//!     WrapperFunctionCall::with_args(ExecutorAddr::from_fn_ptr(log as *const ()), &(msg,))
//! };
//!
//! let memory = SimpleNativeMemoryMap::new();
//! let base = memory.reserve(1 << 16).unwrap();
//! let request = FinalizeRequest {
//!     segments: vec![SegFinalizeRequest {
//!         rag: RemoteAllocGroup::new(true, false, false, false),
//!         addr: base,
//!         size: 100,
//!         content: b"constant data".to_vec(),
//!     }],
//!     actions: vec![AllocActionCallPair {
//!         finalize: call("constructors"),
//!         dealloc: call("destructors"),
//!     }],
//! };
//! // SAFETY (both calls): the actions are `log`, a function with the
//! // synchronous wrapper ABI.
//! let key = unsafe { memory.initialize(request.clone()) }.unwrap();
//! assert_eq!(key, base);
//! assert_eq!(*LOG.lock().unwrap(), ["constructors"]);
//! // A region is initialized once.
//! let again = unsafe { memory.initialize(request) };
//! assert!(matches!(again, Err(MemoryError::Overlap { .. })));
//!
//! // Deinitialize runs the dealloc actions; the memory stays reserved.
//! memory.deinitialize(&[key]).unwrap();
//! assert_eq!(*LOG.lock().unwrap(), ["constructors", "destructors"]);
//! assert!(matches!(
//!     memory.deinitialize(&[key]),
//!     Err(MemoryError::NoRegion { .. })
//! ));
//!
//! memory.release(&[base]).unwrap();
//! assert!(memory.reservations().is_empty());
//! assert!(matches!(
//!     memory.release(&[base]),
//!     Err(MemoryError::ReleaseUnknown(_))
//! ));
//! ```

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

use super::actions::{run_dealloc_actions, run_finalize_actions};
use super::{final_prot, MemoryError};
use crate::error::ErrorList;
use crate::service::{OnCompleteFn, Service};
use crate::sps::orc_types::{
    AllocActionCallPair, FinalizeRequest, RemoteAllocGroup, WrapperFunctionCall,
};
use crate::sync::{lock, wait};
use crate::sys::mmap;
use crate::ExecutorAddr;

/// One segment of an `initialize` request, with borrowed content.
#[derive(Debug, Clone, Copy)]
pub struct SegmentRef<'a> {
    /// Final protections.
    pub rag: RemoteAllocGroup,
    /// Target address.
    pub addr: ExecutorAddr,
    /// Segment size (content plus zero fill).
    pub size: u64,
    /// Initial content.
    pub content: &'a [u8],
    /// Bytes at `addr` that the transport already wrote while reading the
    /// request (then `content` is empty): only the zero fill after them is
    /// left to do.
    pub prewritten: u64,
}

struct BorrowedRequest<'s, 'a> {
    segments: &'s [SegmentRef<'a>],
    actions: Vec<AllocActionCallPair>,
}

struct Region {
    /// Region size in bytes (page-rounded end minus start).
    size: u64,
    dealloc_actions: Vec<WrapperFunctionCall>,
}

struct Slab {
    size: u64,
    /// Initializations copying into the slab right now (without the lock).
    busy: usize,
    /// A reset to read+write failed somewhere in the slab: initialize must
    /// make segments writable explicitly before copying.
    needs_rw_reset: bool,
    /// Initialized regions by start address.
    regions: BTreeMap<u64, Region>,
}

#[derive(Default)]
struct State {
    slabs: BTreeMap<u64, Slab>,
    shut_down: bool,
    /// Threads waiting on `idle` (so that an initialize wakes nobody, and
    /// makes no system call, when none waits).
    idle_waiters: usize,
}

impl State {
    /// The slab containing `[start, end)` entirely.
    fn slab_for_range(&mut self, start: u64, end: u64) -> Option<(u64, &mut Slab)> {
        let (&base, slab) = self.slabs.range_mut(..=start).next_back()?;
        (end <= base + slab.size && start >= base).then_some((base, slab))
    }
}

/// The memory manager service. All methods are thread-safe; none holds its
/// lock while calling JIT'd code (allocation actions).
#[derive(Default)]
pub struct SimpleNativeMemoryMap {
    state: Mutex<State>,
    /// Signalled when a slab's `busy` count drops.
    idle: Condvar,
}

impl std::fmt::Debug for SimpleNativeMemoryMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimpleNativeMemoryMap")
            .finish_non_exhaustive()
    }
}

impl SimpleNativeMemoryMap {
    /// A manager with no reservations.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reserves `size` bytes (rounded up to whole pages) of read+write
    /// memory and returns the base.
    pub fn reserve(&self, size: u64) -> Result<ExecutorAddr, MemoryError> {
        let os = |source| MemoryError::Os {
            context: format!("In reserve, could not map {size:#x} bytes"),
            source,
        };
        let len = mmap::round_up_to_page(size).ok_or_else(|| {
            os(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "size overflows",
            ))
        })?;
        if lock(&self.state).shut_down {
            return Err(MemoryError::ShutDown("In reserve"));
        }
        let base = mmap::map_anonymous_rw(len).map_err(os)?;
        let mut st = lock(&self.state);
        if st.shut_down {
            drop(st);
            // SAFETY: the mapping was just made and never handed out.
            let _ = unsafe { mmap::unmap(base, len) };
            return Err(MemoryError::ShutDown("In reserve"));
        }
        st.slabs.insert(
            base,
            Slab {
                size: len,
                busy: 0,
                needs_rw_reset: false,
                regions: BTreeMap::new(),
            },
        );
        Ok(ExecutorAddr(base))
    }

    /// Copies each segment's content in, zero-fills the rest, applies the
    /// segment's final protection, then runs the finalize actions in order.
    /// Returns the lowest segment address, the key for
    /// [`SimpleNativeMemoryMap::deinitialize`].
    ///
    /// # Safety
    ///
    /// The finalize actions run now and their dealloc halves later (at
    /// deinitialize, release or shutdown): the caller promises that each
    /// action's address is a function with the synchronous wrapper ABI (for
    /// the wire bindings: actions the controller sent, on its word).
    pub unsafe fn initialize(&self, req: FinalizeRequest) -> Result<ExecutorAddr, MemoryError> {
        let segments: Vec<SegmentRef<'_>> = req
            .segments
            .iter()
            .map(|s| SegmentRef {
                rag: s.rag,
                addr: s.addr,
                size: s.size,
                content: &s.content,
                prewritten: 0,
            })
            .collect();
        // SAFETY: the caller vouches for the actions (this function's
        // contract).
        unsafe { self.initialize_segments(&segments, req.actions) }
    }

    /// [`SimpleNativeMemoryMap::initialize`] with borrowed segment content
    /// (decoded in place from the argument bytes, without a copy).
    ///
    /// # Safety
    ///
    /// The finalize actions run now and their dealloc halves later (at
    /// deinitialize, release or shutdown): the caller promises that each
    /// action's address is a function with the synchronous wrapper ABI (for
    /// the wire bindings: actions the controller sent, on its word).
    pub unsafe fn initialize_segments(
        &self,
        segments: &[SegmentRef<'_>],
        actions: Vec<AllocActionCallPair>,
    ) -> Result<ExecutorAddr, MemoryError> {
        let req = BorrowedRequest { segments, actions };
        if req.segments.is_empty() {
            return Err(if req.actions.is_empty() {
                MemoryError::EmptyRequest
            } else {
                MemoryError::ActionsOnEmptyRequest
            });
        }
        // In steps: check every segment before touching memory; claim the
        // region in its slab; write and protect each segment without the
        // lock; release the claim (undoing a failed write); then run the
        // finalize actions and keep their dealloc actions.
        let plan = plan_segments(req.segments)?;
        let (base, needs_rw) = self.claim_region(&plan)?;
        let (done, failure) = write_segments(req.segments, &plan, needs_rw);
        self.end_writing(base, &plan, &done, failure.is_some());
        if let Some(e) = failure {
            return Err(e);
        }
        // SAFETY: the caller vouches for the actions (this function's
        // contract).
        unsafe { self.run_actions_of(&plan, req.actions) }
    }

    /// Claims `plan`'s region in the slab that holds it, under the lock,
    /// and marks the slab busy, so that `release` does not unmap it while
    /// the segments are written without the lock (copies can be large).
    /// Returns the slab's base, and whether segments must be made
    /// read+write before they are written.
    fn claim_region(&self, plan: &SegmentPlan) -> Result<(u64, bool), MemoryError> {
        let (start, end) = (plan.start, plan.end);
        let mut st = lock(&self.state);
        if st.shut_down {
            return Err(MemoryError::ShutDown(INITIALIZE_CTX));
        }
        let (base, slab) =
            st.slab_for_range(start, end.max(start + 1))
                .ok_or(MemoryError::RangeNotReserved {
                    context: INITIALIZE_CTX,
                    start,
                    end,
                })?;
        check_overlap(slab, start, end)?;
        slab.regions.insert(
            start,
            Region {
                size: end - start,
                dealloc_actions: Vec::new(),
            },
        );
        slab.busy += 1;
        // Memory outside initialized regions is read+write (reserve maps
        // it so, and every path that ends a region resets it), so the
        // extra mprotect to RW is only needed after a failed reset.
        Ok((base, slab.needs_rw_reset))
    }

    /// Ends the claim of [`SimpleNativeMemoryMap::claim_region`]: the slab
    /// is no longer busy, and after a failed write the region is forgotten
    /// and the segments written so far (`done`) are read+write again.
    fn end_writing(&self, base: u64, plan: &SegmentPlan, done: &[(u64, u64)], failed: bool) {
        let mut st = lock(&self.state);
        if let Some(slab) = st.slabs.get_mut(&base) {
            slab.busy -= 1;
            if failed {
                slab.regions.remove(&plan.start);
                if !reset_to_rw(done) {
                    slab.needs_rw_reset = true;
                }
            }
        }
        if st.idle_waiters > 0 {
            self.idle.notify_all();
        }
    }

    /// Runs the finalize actions of the written region of `plan` and keeps
    /// their dealloc actions with it; returns its key. If an action fails,
    /// the region is forgotten and made read+write again; if the region
    /// was released while the actions ran, their dealloc actions run now.
    ///
    /// # Safety
    ///
    /// As for [`SimpleNativeMemoryMap::initialize`], for `actions`.
    unsafe fn run_actions_of(
        &self,
        plan: &SegmentPlan,
        actions: Vec<AllocActionCallPair>,
    ) -> Result<ExecutorAddr, MemoryError> {
        let (start, end) = (plan.start, plan.end);
        // SAFETY: the caller vouches for the actions (this function's
        // contract).
        match unsafe { run_finalize_actions(actions) } {
            Ok(deallocs) => {
                let mut st = lock(&self.state);
                match st
                    .slab_for_range(start, end.max(start + 1))
                    .and_then(|(_, s)| s.regions.get_mut(&start))
                {
                    Some(region) => {
                        region.dealloc_actions = deallocs;
                        Ok(ExecutorAddr(start))
                    }
                    None => {
                        // Released while the actions ran: undo them now.
                        drop(st);
                        // SAFETY: as above.
                        unsafe { run_dealloc_actions(deallocs) }?;
                        Err(MemoryError::RangeNotReserved {
                            context: INITIALIZE_CTX,
                            start,
                            end,
                        })
                    }
                }
            }
            Err(e) => {
                let mut st = lock(&self.state);
                if let Some((_, slab)) = st.slab_for_range(start, end.max(start + 1)) {
                    slab.regions.remove(&start);
                    let ranges: Vec<_> = plan.segments.iter().map(|&(a, l, _)| (a, l)).collect();
                    if !reset_to_rw(&ranges) {
                        slab.needs_rw_reset = true;
                    }
                }
                Err(e)
            }
        }
    }

    /// For each key, last first: forgets the region and runs its dealloc
    /// actions in reverse. The memory stays reserved (and becomes read+write
    /// again, ready for reuse). Errors are joined; every key is processed.
    pub fn deinitialize(&self, keys: &[ExecutorAddr]) -> Result<(), MemoryError> {
        const CTX: &str = "In deinitialize";
        let mut errs = ErrorList::default();
        for key in keys.iter().rev() {
            let k = key.0;
            let region = {
                let mut st = lock(&self.state);
                let Some((_, slab)) = st.slab_for_range(k, k.saturating_add(1)) else {
                    errs.push(MemoryError::AddrNotReserved {
                        context: CTX,
                        addr: k,
                    });
                    continue;
                };
                match slab.regions.remove(&k) {
                    Some(r) => r,
                    None => {
                        errs.push(MemoryError::NoRegion {
                            context: CTX,
                            addr: k,
                        });
                        continue;
                    }
                }
            };
            // SAFETY: dealloc actions that came with an initialize, whose
            // caller vouched for them (initialize's contract).
            errs.push_result(unsafe { run_dealloc_actions(region.dealloc_actions) });
            let mut st = lock(&self.state);
            if region.size > 0 {
                if let Some((_, slab)) = st.slab_for_range(k, k + region.size) {
                    if !reset_to_rw(&[(k, region.size)]) {
                        slab.needs_rw_reset = true;
                    }
                }
            }
        }
        errs.finish()
    }

    /// For each base, last first: runs the dealloc actions of every region
    /// of that reservation (in reverse), then unmaps it. Unknown bases give
    /// an error; the others are still released.
    pub fn release(&self, bases: &[ExecutorAddr]) -> Result<(), MemoryError> {
        let mut errs = ErrorList::default();
        for base in bases.iter().rev() {
            let b = base.0;
            let removed = {
                let mut st = lock(&self.state);
                // Wait for initializations still copying into this slab.
                while st.slabs.get(&b).is_some_and(|s| s.busy > 0) {
                    st.idle_waiters += 1;
                    st = wait(&self.idle, st);
                    st.idle_waiters -= 1;
                }
                st.slabs.remove(&b)
            };
            let Some(slab) = removed else {
                errs.push(MemoryError::ReleaseUnknown(b));
                continue;
            };
            let deallocs: Vec<_> = slab
                .regions
                .into_values()
                .flat_map(|r| r.dealloc_actions)
                .collect();
            // SAFETY: dealloc actions that came with an initialize, whose
            // caller vouched for them (initialize's contract).
            errs.push_result(unsafe { run_dealloc_actions(deallocs) });
            // SAFETY: the slab was mapped by reserve and is no longer known
            // to the manager, so nothing here touches it again.
            if let Err(source) = unsafe { mmap::unmap(b, slab.size) } {
                errs.push(MemoryError::Os {
                    context: format!(
                        "In release, could not unmap {b:#x} ({:#x} bytes)",
                        slab.size
                    ),
                    source,
                });
            }
        }
        errs.finish()
    }

    /// Whether every dealloc action that [`SimpleNativeMemoryMap::release`]
    /// of `bases` would run, were it called now, is at an address `ok`
    /// accepts (address 0, "no action", always is). Unknown bases run none.
    pub fn release_actions_all(
        &self,
        bases: &[ExecutorAddr],
        ok: impl Fn(ExecutorAddr) -> bool,
    ) -> bool {
        let st = lock(&self.state);
        bases.iter().all(|b| {
            st.slabs.get(&b.0).is_none_or(|slab| {
                slab.regions
                    .values()
                    .all(|r| actions_all(&r.dealloc_actions, &ok))
            })
        })
    }

    /// [`SimpleNativeMemoryMap::release_actions_all`] for
    /// [`SimpleNativeMemoryMap::deinitialize`] of `keys`.
    pub fn deinitialize_actions_all(
        &self,
        keys: &[ExecutorAddr],
        ok: impl Fn(ExecutorAddr) -> bool,
    ) -> bool {
        let mut st = lock(&self.state);
        keys.iter().all(|k| {
            st.slab_for_range(k.0, k.0.saturating_add(1))
                .and_then(|(_, slab)| slab.regions.get(&k.0))
                .is_none_or(|r| actions_all(&r.dealloc_actions, &ok))
        })
    }

    /// Releases every remaining reservation (running dealloc actions) and
    /// refuses new reservations.
    pub fn shutdown(&self) -> Result<(), MemoryError> {
        let bases: Vec<ExecutorAddr> = {
            let mut st = lock(&self.state);
            st.shut_down = true;
            st.slabs.keys().map(|&b| ExecutorAddr(b)).collect()
        };
        self.release(&bases)
    }

    /// Reserved ranges `(base, size)` (for tests and diagnostics).
    pub fn reservations(&self) -> Vec<(ExecutorAddr, u64)> {
        lock(&self.state)
            .slabs
            .iter()
            .map(|(&b, s)| (ExecutorAddr(b), s.size))
            .collect()
    }
}

/// Whether every call in `calls` is "no action" or at an address `ok`
/// accepts.
fn actions_all(calls: &[WrapperFunctionCall], ok: &impl Fn(ExecutorAddr) -> bool) -> bool {
    calls.iter().all(|c| c.fn_addr.is_null() || ok(c.fn_addr))
}

/// Context of `initialize`'s error messages.
const INITIALIZE_CTX: &str = "In initialize";

/// The checked layout of an `initialize` request: for each segment, its
/// address, its length rounded up to whole pages, and its final
/// protection; and the region `[start, end)` they span.
struct SegmentPlan {
    start: u64,
    end: u64,
    segments: Vec<(u64, u64, mmap::Prot)>,
}

/// Checks the segments of a non-empty request before any memory is
/// touched: each content fits its segment, each protection is one we
/// grant, each address is page-aligned and its range does not overflow,
/// and no two segments share a page.
fn plan_segments(segments: &[SegmentRef<'_>]) -> Result<SegmentPlan, MemoryError> {
    let page = mmap::page_size();
    let mut start = u64::MAX;
    let mut end = 0u64;
    let mut plan = Vec::with_capacity(segments.len());
    for seg in segments {
        let addr = seg.addr.0;
        let content = (seg.content.len() as u64).saturating_add(seg.prewritten);
        if content > seg.size {
            return Err(MemoryError::ContentTooLarge {
                addr,
                content,
                size: seg.size,
            });
        }
        let prot = final_prot(seg.rag, addr)?;
        if addr % page != 0 {
            return Err(MemoryError::Unaligned { addr });
        }
        let seg_end = addr
            .checked_add(seg.size)
            .and_then(mmap::round_up_to_page)
            .ok_or(MemoryError::RangeNotReserved {
                context: INITIALIZE_CTX,
                start: addr,
                end: u64::MAX,
            })?;
        start = start.min(addr);
        end = end.max(seg_end);
        plan.push((addr, seg_end - addr, prot));
    }
    check_segments_disjoint(&plan)?;
    if end <= start {
        // Only empty segments: a zero-sized region still needs a key.
        end = start;
    }
    Ok(SegmentPlan {
        start,
        end,
        segments: plan,
    })
}

/// Segments must not share a page: copying a later segment's content
/// would write into a page an earlier one already protected.
fn check_segments_disjoint(plan: &[(u64, u64, mmap::Prot)]) -> Result<(), MemoryError> {
    let mut spans: Vec<(u64, u64)> = plan
        .iter()
        .filter(|&&(_, len, _)| len > 0)
        .map(|&(addr, len, _)| (addr, addr + len))
        .collect();
    spans.sort_unstable();
    if let Some(w) = spans.windows(2).find(|w| w[1].0 < w[0].1) {
        return Err(MemoryError::SegmentsOverlap {
            start: w[1].0,
            end: w[1].1,
            other_start: w[0].0,
            other_end: w[0].1,
        });
    }
    Ok(())
}

/// Writes and protects each non-empty segment of a claimed region, in
/// order, stopping at the first failure. Returns the ranges it touched
/// (the failed one included) and the failure.
fn write_segments(
    segments: &[SegmentRef<'_>],
    plan: &SegmentPlan,
    needs_rw: bool,
) -> (Vec<(u64, u64)>, Option<MemoryError>) {
    let mut done: Vec<(u64, u64)> = Vec::new();
    for (seg, &(addr, len, prot)) in segments.iter().zip(&plan.segments) {
        if len == 0 {
            continue;
        }
        // SAFETY: [addr, addr + len) lies inside a slab this manager
        // mapped for JIT'd code (checked by claim_region), kept mapped by
        // its busy count, and holds no Rust object.
        let r = unsafe { write_segment(seg, addr, len, prot, needs_rw) };
        done.push((addr, len));
        if let Err(source) = r {
            let failure = MemoryError::Os {
                context: format!(
                    "{INITIALIZE_CTX}, could not protect segment {addr:#x} ({len:#x} bytes)"
                ),
                source,
            };
            return (done, Some(failure));
        }
        if prot.exec {
            mmap::invalidate_instruction_cache(addr, len);
        }
    }
    (done, None)
}

/// Makes `[addr, addr + len)` read+write if `needs_rw`, copies `seg`'s
/// content in after its prewritten bytes, zero-fills the rest, and applies
/// the final protection `prot`.
///
/// # Safety
/// `[addr, addr + len)` is mapped memory of this manager, holding no Rust
/// object, that nothing else writes or unmaps during the call; `len` is
/// `seg.size` rounded up to whole pages.
unsafe fn write_segment(
    seg: &SegmentRef<'_>,
    addr: u64,
    len: u64,
    prot: mmap::Prot,
    needs_rw: bool,
) -> std::io::Result<()> {
    if needs_rw {
        // SAFETY: the caller's promise.
        unsafe { mmap::protect(addr, len, mmap::read_write()) }?;
    }
    // All of what follows the prewritten bytes is about to be written: a
    // large range fills faster on huge pages.
    mmap::advise_huge_pages(addr + seg.prewritten, seg.size - seg.prewritten);
    // SAFETY: the caller's promise; the range is writable now.
    // (Prewritten bytes are in place: fill after them.)
    unsafe {
        mmap::copy_and_zero_fill(
            addr + seg.prewritten,
            seg.content,
            (seg.size - seg.prewritten - seg.content.len() as u64) as usize,
        )
    };
    if prot == mmap::read_write() {
        return Ok(());
    }
    // SAFETY: the caller's promise.
    unsafe { mmap::protect(addr, len, prot) }
}

fn check_overlap(slab: &Slab, start: u64, end: u64) -> Result<(), MemoryError> {
    let overlap = |which, (&s, r): (&u64, &Region)| MemoryError::Overlap {
        context: "In initialize",
        start,
        end,
        which,
        other_start: s,
        other_end: s + r.size,
    };
    if let Some((&s, r)) = slab.regions.range(..=start).next_back() {
        if s == start || s + r.size > start {
            return Err(overlap("previous", (&s, r)));
        }
    }
    if let Some((&s, r)) = slab.regions.range(start.saturating_add(1)..).next() {
        if s < end {
            return Err(overlap("following", (&s, r)));
        }
    }
    Ok(())
}

/// Makes ranges read+write (not executable) again after a failed or
/// undone initialization; false if an `mprotect` failed.
fn reset_to_rw(ranges: &[(u64, u64)]) -> bool {
    let mut ok = true;
    for &(addr, len) in ranges {
        if len > 0 {
            // SAFETY: callers pass ranges inside a live slab of ours.
            ok &= unsafe { mmap::protect(addr, len, mmap::read_write()) }.is_ok();
        }
    }
    ok
}

impl Service for SimpleNativeMemoryMap {
    /// Detach keeps every mapping: JIT'd code keeps running without a
    /// controller.
    fn on_detach(&self, on_complete: OnCompleteFn, _shutdown_requested: bool) {
        on_complete(Ok(()))
    }

    /// Shutdown releases every reservation, running dealloc actions (JIT'd
    /// static destructors among them).
    fn on_shutdown(&self, on_complete: OnCompleteFn) {
        on_complete(self.shutdown().map_err(Into::into))
    }
}

impl Drop for SimpleNativeMemoryMap {
    fn drop(&mut self) {
        // Normally shutdown already released everything. A manager dropped
        // without shutdown unmaps its slabs without running actions: code
        // in them must not run again anyway.
        let st = lock(&self.state);
        for (&b, s) in &st.slabs {
            // SAFETY: our own mappings, unreachable after drop.
            let _ = unsafe { mmap::unmap(b, s.size) };
        }
    }
}

/// Initialization calls [`mmap::invalidate_instruction_cache`] for the code
/// it wrote (an emulator would not notice if it did not, so the calls are
/// recorded and checked).
#[cfg(test)]
mod instruction_cache_tests {
    use super::SimpleNativeMemoryMap;
    use crate::sps::orc_types::{FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest};
    use crate::sys::mmap::{page_size, recorded_invalidation};
    use crate::ExecutorAddr;

    fn rx() -> RemoteAllocGroup {
        RemoteAllocGroup::new(true, false, true, false)
    }

    #[test]
    fn initialize_invalidates_each_code_segment() {
        let page = page_size();
        let memory = SimpleNativeMemoryMap::new();
        let base = memory.reserve(2 * page).unwrap();
        let req = FinalizeRequest {
            segments: vec![
                SegFinalizeRequest {
                    rag: RemoteAllocGroup::new(true, true, false, false),
                    addr: base,
                    size: 16,
                    content: vec![1; 16],
                },
                SegFinalizeRequest {
                    rag: rx(),
                    addr: ExecutorAddr(base.0 + page),
                    size: 32,
                    content: vec![0xd5; 32],
                },
            ],
            actions: vec![],
        };
        assert!(!recorded_invalidation(base.0 + page, 32));
        // SAFETY: no actions run.
        unsafe { memory.initialize(req) }.unwrap();
        assert!(recorded_invalidation(base.0 + page, 32));
        memory.release(&[base]).unwrap();
    }
}
