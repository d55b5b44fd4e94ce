//! Registration of JIT'd `.eh_frame` sections with the unwinder, so C++
//! exceptions can unwind through JIT'd code: the allocation actions
//! `llvm_orc_registerEHFrameAllocAction` / `llvm_orc_deregisterEHFrameAllocAction`.
//!
//! On Linux the unwinder is libgcc, whose `__register_frame` takes a whole
//! zero-terminated section. libgcc aborts the process when asked to
//! deregister a section it does not know, and walks a section until its
//! terminator; so we check that the section is readable and terminated,
//! close the alignment gaps LLVM 22's JITLink can leave between records
//! ([`plan_repairs`]), and keep the set of registered sections to refuse
//! bad deregistrations.
//!
//! ```
//! use orc_rt::services::eh_frame::{self, EhFrameError};
//! use orc_rt::{ExecutorAddr, ExecutorAddrRange};
//!
//! fn range_of(bytes: &'static [u8]) -> ExecutorAddrRange {
//!     let start = ExecutorAddr::from_ptr(bytes.as_ptr());
//!     ExecutorAddrRange::from_start_and_size(start, bytes.len() as u64).unwrap()
//! }
//!
//! // Length-prefixed records, then a zero length.
//! assert!(eh_frame::check_section(&[4, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0]).is_ok());
//! static UNTERMINATED: [u8; 8] = [4, 0, 0, 0, 1, 2, 3, 4];
//! // SAFETY (every call here): the sections are statics that describe no
//! // code, so the unwinder never follows them into anything.
//! let r = unsafe { eh_frame::register(range_of(&UNTERMINATED)) };
//! assert!(matches!(r, Err(EhFrameError::Malformed { .. })));
//!
//! static EMPTY: [u8; 4] = [0; 4]; // the terminator alone
//! let range = range_of(&EMPTY);
//! unsafe { eh_frame::register(range) }.unwrap();
//! let again = unsafe { eh_frame::register(range) };
//! assert!(matches!(again, Err(EhFrameError::AlreadyRegistered(a)) if a == range.start.value()));
//! unsafe { eh_frame::deregister(range) }.unwrap();
//! // libgcc would abort on an unknown section: refused here instead.
//! let unknown = unsafe { eh_frame::deregister(range) };
//! assert!(matches!(unknown, Err(EhFrameError::NotRegistered(a)) if a == range.start.value()));
//! ```

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::sync::lock;
use crate::sys::{mem, unwind};
use crate::ExecutorAddrRange;

/// What is wrong with an `.eh_frame` section ([`check_section`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectionError {
    /// The records end without a zero-length terminator.
    #[error("no zero-length terminator")]
    NoTerminator,
    /// A 64-bit record's length field is cut off.
    #[error("truncated 64-bit record header at offset {0:#x}")]
    TruncatedHeader(usize),
    /// A record's length goes beyond the section.
    #[error("record at offset {0:#x} runs past the end")]
    RecordPastEnd(usize),
    /// A section known only by its start does not begin with a CIE (or
    /// the terminator), so it is not taken for one ([`section_at`]).
    #[error("no CIE at the start")]
    NoLeadingCie,
}

/// Errors of EH-frame registration.
#[derive(Debug, thiserror::Error)]
pub enum EhFrameError {
    /// The range is empty, reversed or null.
    #[error("could not {op} eh-frame: invalid range {start:#x} -- {end:#x}")]
    BadRange {
        /// "register" or "deregister".
        op: &'static str,
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
    /// The section could not be read.
    #[error("could not register eh-frame at {start:#x}: {source}")]
    Unreadable {
        /// Start.
        start: u64,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A record runs past the end, or there is no terminator.
    #[error("could not register eh-frame at {start:#x}: malformed section ({source})")]
    Malformed {
        /// Start.
        start: u64,
        /// What is wrong.
        #[source]
        source: SectionError,
    },
    /// Already registered.
    #[error("could not register eh-frame at {0:#x}: already registered")]
    AlreadyRegistered(u64),
    /// The unwinder's functions are missing.
    #[error("could not {op} eh-frame at {start:#x}: {source}")]
    Unwinder {
        /// "register" or "deregister".
        op: &'static str,
        /// Start.
        start: u64,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not registered (libgcc would abort).
    #[error("could not deregister eh-frame at {0:#x}: not registered")]
    NotRegistered(u64),
}

crate::module_error!(EhFrameError, EhFrame);

/// Sections registered through this module, by start address.
static REGISTERED: Mutex<BTreeSet<u64>> = Mutex::new(BTreeSet::new());

fn check_range(op: &'static str, r: ExecutorAddrRange) -> Result<(u64, u64), EhFrameError> {
    let (start, end) = (r.start.0, r.end.0);
    if start == 0 || end < start.saturating_add(4) {
        return Err(EhFrameError::BadRange { op, start, end });
    }
    Ok((start, end))
}

/// Walks the CFI records of `sec`; `Ok` if a zero terminator is reached
/// with every record inside the section.
pub fn check_section(sec: &[u8]) -> Result<(), SectionError> {
    plan_repairs(sec).map(drop)
}

/// A gap between two records of a section: `len` bytes at `at`, after the
/// record that starts at `record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Offset of the record before the gap.
    pub record: usize,
    /// Offset of the gap.
    pub at: usize,
    /// Its size (4, 8 or 12 bytes).
    pub len: usize,
}

fn u32_at(sec: &[u8], p: usize) -> Option<u32> {
    sec.get(p..p.checked_add(4)?)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether a well-formed CIE, or an FDE whose CIE is one of `cies`, starts
/// at `p` (32-bit lengths only): the test that tells a gap from a record.
fn strict_record(sec: &[u8], p: usize, cies: &[usize]) -> bool {
    let (Some(len), Some(id)) = (u32_at(sec, p), u32_at(sec, p + 4)) else {
        return false;
    };
    // Records are padded to a multiple of 4 bytes.
    if len < 8 || len % 4 != 0 || p + 4 + len as usize > sec.len() {
        return false;
    }
    if id == 0 {
        matches!(sec.get(p + 8), Some(1) | Some(3))
    } else {
        (p + 4)
            .checked_sub(id as usize)
            .is_some_and(|c| cies.contains(&c))
    }
}

/// Whether what follows the record at `p` (taken as one) also reads as
/// one: a zero word (the terminator, or a zeroed gap), a record, or a gap
/// of 4, 8 or 12 bytes then a record. Garbage in a gap can look like a
/// record by itself (a small length, then the next record's length read
/// as a CIE pointer that happens to land on a CIE); it rarely also lands
/// where a record starts.
fn followed_well(sec: &[u8], p: usize, cies: &[usize]) -> bool {
    let Some(len) = u32_at(sec, p) else {
        return false;
    };
    let mut known = cies.to_vec();
    if u32_at(sec, p + 4) == Some(0) {
        known.push(p);
    }
    let q = p + 4 + len as usize;
    u32_at(sec, q) == Some(0)
        || [0, 4, 8, 12]
            .into_iter()
            .any(|g| strict_record(sec, q + g, &known))
}

/// Walks the length-prefixed records of an `.eh_frame` section to its
/// zero terminator, and returns the gaps found between records.
///
/// JITLink (LLVM 22) lays an object's `.eh_frame` blocks out one by one,
/// each at its alignment. Where it dropped a record whose size was not a
/// multiple of 8, the next record starts 4 bytes later, and those bytes
/// hold whatever was in the controller's buffer. The unwinder, which walks
/// records by their lengths, then reads garbage as a length (and unwinding
/// through any later function fails), or stops early at a zero. A gap is
/// recognised when the bytes at a record boundary do not start a record
/// but a well-formed CIE or FDE starts 4, 8 or 12 bytes later.
pub fn plan_repairs(sec: &[u8]) -> Result<Vec<Gap>, SectionError> {
    walk(sec, true).map(|(gaps, _)| gaps)
}

/// The walk of [`plan_repairs`]; also returns the section's length (up to
/// and including its terminator). With `known_end`, `sec` is the whole
/// section, so a gap just before a terminator in its last 4 bytes is
/// recognised; without, `sec` is only a window that starts at the section.
fn walk(sec: &[u8], known_end: bool) -> Result<(Vec<Gap>, usize), SectionError> {
    let mut gaps = Vec::new();
    let mut cies = Vec::new();
    let mut prev: Option<usize> = None;
    let mut pos = 0usize;
    loop {
        let rest = &sec[pos..];
        if rest.len() < 4 {
            return Err(SectionError::NoTerminator);
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let plausible = |p: usize| strict_record(sec, p, &cies) && followed_well(sec, p, &cies);
        if !plausible(pos) {
            if let Some(record) = prev {
                let gap = [4, 8, 12].into_iter().find(|&g| {
                    plausible(pos + g)
                        || (known_end
                            && pos + g + 4 == sec.len()
                            && u32_at(sec, pos + g) == Some(0))
                });
                if let Some(g) = gap {
                    gaps.push(Gap {
                        record,
                        at: pos,
                        len: g,
                    });
                    pos += g;
                    continue;
                }
            }
        }
        if len == 0 {
            return Ok((gaps, pos + 4));
        }
        let total = if len == 0xffff_ffff {
            if rest.len() < 12 {
                return Err(SectionError::TruncatedHeader(pos));
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&rest[4..12]);
            u64::from_le_bytes(b).checked_add(12)
        } else {
            Some(u64::from(len) + 4)
        };
        match total {
            Some(t) if t <= rest.len() as u64 => {
                if u32_at(sec, pos + 4) == Some(0) {
                    cies.push(pos);
                }
                prev = Some(pos);
                pos += t as usize;
            }
            _ => return Err(SectionError::RecordPastEnd(pos)),
        }
    }
}

/// Closes each gap of the section at `start` (whose bytes are `sec`): the
/// record before it grows over it, and the gap's bytes become zeros, which
/// the unwinder reads as `DW_CFA_nop` padding.
fn apply_repairs(start: u64, sec: &[u8], gaps: &[Gap]) -> Result<(), EhFrameError> {
    for g in gaps {
        let old = u32_at(sec, g.record).unwrap_or(0);
        let mut patch = vec![0u8; g.at + g.len - g.record];
        patch[..4].copy_from_slice(&(old + g.len as u32).to_le_bytes());
        patch[4..g.at - g.record].copy_from_slice(&sec[g.record + 4..g.at]);
        // SAFETY: the section is JIT'd memory that the memory manager keeps
        // mapped until the deregistration; the unwinder does not know it yet.
        unsafe { crate::sys::mmap::patch(start + g.record as u64, &patch) }
            .map_err(|source| EhFrameError::Unreadable { start, source })?;
    }
    Ok(())
}

/// Largest section [`section_at`] looks for a terminator in.
pub const MAX_SECTION_AT: u64 = 64 << 20;

/// Appends to `out` the bytes of `[start + out.len(), start + want)`, page
/// by page, up to the first page that cannot be read; `true` if all of
/// them could be.
fn extend_readable(out: &mut Vec<u8>, start: u64, want: u64) -> bool {
    let page = crate::sys::mmap::page_size();
    let Some(end) = start.checked_add(want) else {
        return false;
    };
    let mut at = start + out.len() as u64;
    while at < end {
        let next = (at / page + 1).saturating_mul(page).min(end);
        let old = out.len();
        out.resize(old + (next - at) as usize, 0);
        if mem::read(at, &mut out[old..]).is_err() {
            out.truncate(old);
            return false;
        }
        at = next;
    }
    true
}

/// The extent of the `.eh_frame` section that starts at `start`, for
/// callers that pass only a start, as `__register_frame` does (LLVM's own
/// ORC runtime in compiler-rt calls it so).
///
/// The records are walked from `start` to the zero-length terminator,
/// across the gaps [`plan_repairs`] knows (JITLink places the terminator
/// right after the last record, with no gap before it). Reads are checked,
/// so an unmapped start or a walk that runs into unmapped memory is an
/// error rather than a crash; the section must begin with a CIE (or be the
/// terminator alone) and end within [`MAX_SECTION_AT`] bytes.
pub fn section_at(start: u64) -> Result<ExecutorAddrRange, EhFrameError> {
    check_range("register", range_at(start))?;
    let mut bytes = Vec::new();
    let mut window = 64 * 1024;
    loop {
        let complete = extend_readable(&mut bytes, start, window);
        let malformed = |source| EhFrameError::Malformed { start, source };
        match walk(&bytes, false) {
            Ok((_, len)) => {
                if len > 4 && !strict_record(&bytes, 0, &[]) {
                    return Err(malformed(SectionError::NoLeadingCie));
                }
                return ExecutorAddrRange::from_start_and_size(
                    crate::ExecutorAddr(start),
                    len as u64,
                )
                .ok_or(EhFrameError::BadRange {
                    op: "register",
                    start,
                    end: start.wrapping_add(len as u64),
                });
            }
            // The window may have cut the section: look further.
            Err(_) if complete && window < MAX_SECTION_AT => window *= 2,
            Err(e) if bytes.len() < 4 => {
                return Err(EhFrameError::Unreadable {
                    start,
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("address {start:#x} is not accessible ({e})"),
                    ),
                })
            }
            Err(e) => return Err(malformed(e)),
        }
    }
}

/// The smallest range at `start` that [`check_range`] can accept.
fn range_at(start: u64) -> ExecutorAddrRange {
    ExecutorAddrRange {
        start: crate::ExecutorAddr(start),
        end: crate::ExecutorAddr(start.saturating_add(4)),
    }
}

/// [`register`] for a section known only by its start ([`section_at`]).
///
/// # Safety
///
/// As for [`register`]: the caller promises that `start` begins the
/// `.eh_frame` section of loaded code that stays mapped until
/// [`deregister_at`].
pub unsafe fn register_at(start: u64) -> Result<(), EhFrameError> {
    let range = section_at(start)?;
    // SAFETY: the caller's promise, for the extent found above.
    unsafe { register(range) }
}

/// [`deregister`] for a section registered with [`register_at`] (or
/// [`register`]), by its start.
///
/// # Safety
///
/// As for [`deregister`].
pub unsafe fn deregister_at(start: u64) -> Result<(), EhFrameError> {
    // SAFETY: the caller's promise.
    unsafe { deregister(range_at(start)) }
}

/// Registers the `.eh_frame` section in `range` with the unwinder.
///
/// # Safety
///
/// The unwinder trusts registered frames: it walks them during every throw
/// and follows the code addresses they describe. The caller promises that
/// `range` is an `.eh_frame` section of loaded code that stays mapped until
/// [`deregister`] (for the wire bindings: a section the controller linked,
/// on its word). The gaps this function repairs are patched in place.
pub unsafe fn register(range: ExecutorAddrRange) -> Result<(), EhFrameError> {
    let (start, end) = check_range("register", range)?;
    let bytes = mem::read_vec(start, end - start)
        .map_err(|source| EhFrameError::Unreadable { start, source })?;
    let repairs =
        plan_repairs(&bytes).map_err(|source| EhFrameError::Malformed { start, source })?;
    apply_repairs(start, &bytes, &repairs)?;
    let mut reg = lock(&REGISTERED);
    if !reg.insert(start) {
        return Err(EhFrameError::AlreadyRegistered(start));
    }
    // SAFETY: the section is readable and zero-terminated (checked above),
    // and the memory manager keeps it mapped until its dealloc action
    // (deregister) runs. The lock serializes our register/deregister calls.
    unsafe { unwind::register_frame(start) }.map_err(|source| {
        reg.remove(&start);
        EhFrameError::Unwinder {
            op: "register",
            start,
            source,
        }
    })
}

/// Deregisters a section registered with [`register`].
///
/// # Safety
///
/// The caller promises that no frame of the section's code is being
/// unwound and none will be: the unwinder forgets the section.
pub unsafe fn deregister(range: ExecutorAddrRange) -> Result<(), EhFrameError> {
    let (start, _) = check_range("deregister", range)?;
    let mut reg = lock(&REGISTERED);
    if !reg.remove(&start) {
        return Err(EhFrameError::NotRegistered(start));
    }
    // SAFETY: `start` was registered by `register` and not deregistered
    // since (it was in the set).
    unsafe { unwind::deregister_frame(start) }.map_err(|source| EhFrameError::Unwinder {
        op: "deregister",
        start,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_walk() {
        assert!(check_section(&[0, 0, 0, 0]).is_ok());
        // One 8-byte record then the terminator.
        let mut s = vec![4, 0, 0, 0, 1, 2, 3, 4];
        s.extend_from_slice(&[0, 0, 0, 0]);
        assert!(check_section(&s).is_ok());
        assert_eq!(check_section(&s[..8]), Err(SectionError::NoTerminator));
        assert_eq!(
            check_section(&[9, 0, 0, 0, 0, 0, 0, 0]),
            Err(SectionError::RecordPastEnd(0))
        );
        assert_eq!(
            check_section(&[0xff, 0xff, 0xff, 0xff, 1]),
            Err(SectionError::TruncatedHeader(0))
        );
        assert_eq!(
            SectionError::RecordPastEnd(8).to_string(),
            "record at offset 0x8 runs past the end"
        );
    }

    /// A CIE, an FDE, a 4-byte gap of garbage (as JITLink leaves it), an FDE
    /// and the terminator.
    fn gapped(gap: [u8; 4]) -> Vec<u8> {
        let mut s = Vec::new();
        // CIE: length 12, id 0, version 1, "zR", then padding.
        s.extend_from_slice(&[12, 0, 0, 0, 0, 0, 0, 0, 1, b'z', b'R', 0, 0, 0, 0, 0]);
        // FDE at 16: length 12, CIE pointer 20 (back to offset 0).
        s.extend_from_slice(&[12, 0, 0, 0, 20, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        s.extend_from_slice(&gap);
        // FDE at 36: CIE pointer 40.
        s.extend_from_slice(&[12, 0, 0, 0, 40, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        s.extend_from_slice(&[0, 0, 0, 0]);
        s
    }

    #[test]
    fn gaps_between_records_are_found() {
        let want = vec![Gap {
            record: 16,
            at: 32,
            len: 4,
        }];
        // Garbage that reads as a huge length, and zeros that would end
        // the walk early.
        assert_eq!(
            plan_repairs(&gapped([0x00, 0xf0, 0xff, 0xff])),
            Ok(want.clone())
        );
        assert_eq!(plan_repairs(&gapped([0, 0, 0, 0])), Ok(want));
        // No gap: nothing to repair.
        let mut s = gapped([0; 4]);
        s.drain(32..36);
        assert_eq!(plan_repairs(&s), Ok(vec![]));
    }

    /// `bytes` at the start of a fresh page followed by an unmapped one;
    /// returns the start (unmapped with [`unmap_two`]).
    fn on_last_page(bytes: &[u8]) -> u64 {
        let page = crate::sys::mmap::page_size();
        let base = crate::sys::mmap::map_anonymous_rw(2 * page).unwrap();
        // SAFETY: our own fresh mapping; the second page is given back.
        unsafe {
            crate::sys::mmap::unmap(base + page, page).unwrap();
            crate::sys::mem::write(base + page - bytes.len() as u64, bytes).unwrap();
            // Read-only, like a finalized segment (and out of the set of
            // writable mappings other tests look at).
            crate::sys::mmap::protect(
                base,
                page,
                crate::sys::mmap::Prot {
                    read: true,
                    write: false,
                    exec: false,
                },
            )
            .unwrap();
        }
        base + page - bytes.len() as u64
    }

    fn unmap_page_of(addr: u64) {
        let page = crate::sys::mmap::page_size();
        // SAFETY: the page `on_last_page` mapped, no longer used.
        unsafe { crate::sys::mmap::unmap(addr / page * page, page).unwrap() };
    }

    #[test]
    fn a_section_is_found_from_its_start_alone() {
        // Followed by bytes that are not part of it.
        let mut s = gapped([0x00, 0xf0, 0xff, 0xff]);
        let len = s.len() as u64;
        s.extend_from_slice(&[12, 0, 0, 0, 0, 0, 0, 0, 1, b'z', b'R', 0]);
        let start = on_last_page(&s);
        assert_eq!(section_at(start).unwrap().size(), len);
        unmap_page_of(start);
    }

    #[test]
    fn garbage_given_as_a_start_is_refused_without_a_crash() {
        assert!(matches!(section_at(0), Err(EhFrameError::BadRange { .. })));
        // Unmapped memory.
        let start = on_last_page(&[0; 4]) + 4;
        assert!(
            matches!(section_at(start), Err(EhFrameError::Unreadable { .. })),
            "{:?}",
            section_at(start)
        );
        // A length that runs into the unmapped page, never terminated.
        let start = on_last_page(&[12, 0, 0, 0, 0, 0, 0, 0, 1, b'z', b'R', 0, 0xff, 0, 0, 0]);
        let r = section_at(start);
        assert!(matches!(r, Err(EhFrameError::Malformed { .. })), "{r:?}");
        unmap_page_of(start);
        // Terminated records that do not start with a CIE.
        let start = on_last_page(&[4, 0, 0, 0, 9, 9, 9, 9, 0, 0, 0, 0]);
        let r = section_at(start);
        assert!(
            matches!(
                r,
                Err(EhFrameError::Malformed {
                    source: SectionError::NoLeadingCie,
                    ..
                })
            ),
            "{r:?}"
        );
        // SAFETY: a refused start is never handed to the unwinder.
        assert!(unsafe { register_at(start) }.is_err());
        unmap_page_of(start);
    }

    /// A section of eh_cross_*.cpp at -O2 as JITLink laid it out, where
    /// the 4 garbage bytes at 0x18 (0x19) and the next CIE's length read
    /// as an FDE whose CIE pointer lands on the CIE at 0.
    #[test]
    fn garbage_that_reads_as_an_fde_is_still_a_gap() {
        let s = [
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7a, 0x52, 0x00, 0x01, 0x78,
            0x10, 0x01, 0x1b, 0x0c, 0x07, 0x08, 0x90, 0x01, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00,
            0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7a, 0x50, 0x4c, 0x52, 0x00,
            0x01, 0x78, 0x10, 0x07, 0x9b, 0x99, 0x2f, 0x00, 0x00, 0x1b, 0x1b, 0x0c, 0x07, 0x08,
            0x90, 0x01, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x1c, 0x0f,
            0x00, 0x00, 0x53, 0x00, 0x00, 0x00, 0x04, 0x13, 0xff, 0xff, 0xff, 0x41, 0x0e, 0x10,
            0x42, 0x0e, 0x18, 0x41, 0x0e, 0x20, 0x83, 0x04, 0x8e, 0x03, 0x86, 0x02, 0x70, 0x0e,
            0x18, 0x42, 0x0e, 0x10, 0x41, 0x0e, 0x08, 0x41, 0x0e, 0x20, 0x1c, 0x00, 0x00, 0x00,
            0x54, 0x00, 0x00, 0x00, 0x4c, 0x0f, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x04, 0xef,
            0xfe, 0xff, 0xff, 0x41, 0x0e, 0x10, 0x83, 0x02, 0x4d, 0x0e, 0x08, 0x41, 0x0e, 0x10,
            0x20, 0x00, 0x00, 0x00, 0x74, 0x00, 0x00, 0x00, 0x6c, 0x0f, 0x00, 0x00, 0x37, 0x00,
            0x00, 0x00, 0x04, 0xef, 0xfe, 0xff, 0xff, 0x41, 0x0e, 0x10, 0x83, 0x02, 0x52, 0x0e,
            0x08, 0x41, 0x0e, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let want = vec![Gap {
            record: 0,
            at: 0x18,
            len: 4,
        }];
        assert_eq!(plan_repairs(&s), Ok(want));
    }

    #[test]
    fn a_gapped_section_is_repaired_and_registered() {
        let mut s = gapped([0x00, 0xf0, 0xff, 0xff]);
        let start = crate::sys::mmap::map_anonymous_rw(4096).unwrap();
        // SAFETY: our own fresh mapping.
        unsafe { crate::sys::mem::write(start, &s) }.unwrap();
        // SAFETY: our own fresh mapping, read-only like a finalized segment.
        unsafe {
            crate::sys::mmap::protect(
                start,
                4096,
                crate::sys::mmap::Prot {
                    read: true,
                    write: false,
                    exec: false,
                },
            )
            .unwrap();
        }
        let range =
            ExecutorAddrRange::from_start_and_size(crate::ExecutorAddr::new(start), s.len() as u64)
                .unwrap();
        // SAFETY: a section of our own mapping, kept until deregistered.
        unsafe { register(range) }.unwrap();
        // The FDE before the gap now covers it, with zero (nop) padding.
        s[16] = 16;
        s[32..36].copy_from_slice(&[0; 4]);
        assert_eq!(crate::sys::mem::read_vec(start, s.len() as u64).unwrap(), s);
        assert_eq!(plan_repairs(&s), Ok(vec![]));
        // SAFETY: nothing unwinds through this section's (absent) code.
        unsafe { deregister(range) }.unwrap();
        // SAFETY: our mapping, no longer registered.
        unsafe { crate::sys::mmap::unmap(start, 4096).unwrap() };
    }
}
