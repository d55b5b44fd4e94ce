//! Registration of JIT'd `.eh_frame` sections with the unwinder, so C++
//! exceptions can unwind through JIT'd code: the allocation actions
//! `llvm_orc_registerEHFrameAllocAction` / `llvm_orc_deregisterEHFrameAllocAction`.
//!
//! On Linux the unwinder is libgcc, whose `__register_frame` takes a whole
//! zero-terminated section. libgcc aborts the process when asked to
//! deregister a section it does not know, and walks a section until its
//! terminator; so we check that the section is readable and terminated,
//! and keep the set of registered sections to refuse bad deregistrations.
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
//! let r = eh_frame::register(range_of(&UNTERMINATED));
//! assert!(matches!(r, Err(EhFrameError::Malformed { .. })));
//!
//! static EMPTY: [u8; 4] = [0; 4]; // the terminator alone
//! let range = range_of(&EMPTY);
//! eh_frame::register(range).unwrap();
//! let again = eh_frame::register(range);
//! assert!(matches!(again, Err(EhFrameError::AlreadyRegistered(a)) if a == range.start.value()));
//! eh_frame::deregister(range).unwrap();
//! // libgcc would abort on an unknown section: refused here instead.
//! let unknown = eh_frame::deregister(range);
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
    let mut pos = 0usize;
    loop {
        let rest = &sec[pos..];
        if rest.len() < 4 {
            return Err(SectionError::NoTerminator);
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        if len == 0 {
            return Ok(());
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
            Some(t) if t <= rest.len() as u64 => pos += t as usize,
            _ => return Err(SectionError::RecordPastEnd(pos)),
        }
    }
}

/// Registers the `.eh_frame` section in `range` with the unwinder.
pub fn register(range: ExecutorAddrRange) -> Result<(), EhFrameError> {
    let (start, end) = check_range("register", range)?;
    let bytes = mem::read_vec(start, end - start)
        .map_err(|source| EhFrameError::Unreadable { start, source })?;
    check_section(&bytes).map_err(|source| EhFrameError::Malformed { start, source })?;
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
pub fn deregister(range: ExecutorAddrRange) -> Result<(), EhFrameError> {
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
}
