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
//! assert_eq!(
//!     eh_frame::register(range),
//!     Err(EhFrameError::AlreadyRegistered(range.start.value()))
//! );
//! eh_frame::deregister(range).unwrap();
//! // libgcc would abort on an unknown section: refused here instead.
//! assert_eq!(
//!     eh_frame::deregister(range),
//!     Err(EhFrameError::NotRegistered(range.start.value()))
//! );
//! ```

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::sys::{mem, unwind};
use crate::ExecutorAddrRange;

/// Errors of EH-frame registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    #[error("could not register eh-frame at {start:#x}: {msg}")]
    Unreadable {
        /// Start.
        start: u64,
        /// Why.
        msg: String,
    },
    /// A record runs past the end, or there is no terminator.
    #[error("could not register eh-frame at {start:#x}: malformed section ({msg})")]
    Malformed {
        /// Start.
        start: u64,
        /// Why.
        msg: String,
    },
    /// Already registered.
    #[error("could not register eh-frame at {0:#x}: already registered")]
    AlreadyRegistered(u64),
    /// The unwinder's functions are missing.
    #[error("could not {op} eh-frame at {start:#x}: {msg}")]
    Unwinder {
        /// "register" or "deregister".
        op: &'static str,
        /// Start.
        start: u64,
        /// Why.
        msg: String,
    },
    /// Not registered (libgcc would abort).
    #[error("could not deregister eh-frame at {0:#x}: not registered")]
    NotRegistered(u64),
}

/// Sections registered through this module, by start address.
static REGISTERED: Mutex<BTreeSet<u64>> = Mutex::new(BTreeSet::new());

fn registered() -> std::sync::MutexGuard<'static, BTreeSet<u64>> {
    REGISTERED.lock().unwrap_or_else(|p| p.into_inner())
}

fn check_range(op: &'static str, r: ExecutorAddrRange) -> Result<(u64, u64), EhFrameError> {
    let (start, end) = (r.start.0, r.end.0);
    if start == 0 || end < start.saturating_add(4) {
        return Err(EhFrameError::BadRange { op, start, end });
    }
    Ok((start, end))
}

/// Walks the CFI records of `sec`; `Ok` if a zero terminator is reached
/// with every record inside the section.
pub fn check_section(sec: &[u8]) -> Result<(), String> {
    let mut pos = 0usize;
    loop {
        let rest = &sec[pos..];
        if rest.len() < 4 {
            return Err("no zero-length terminator".to_string());
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        if len == 0 {
            return Ok(());
        }
        let total = if len == 0xffff_ffff {
            if rest.len() < 12 {
                return Err(format!("truncated 64-bit record header at offset {pos:#x}"));
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&rest[4..12]);
            u64::from_le_bytes(b).checked_add(12)
        } else {
            Some(u64::from(len) + 4)
        };
        match total {
            Some(t) if t <= rest.len() as u64 => pos += t as usize,
            _ => return Err(format!("record at offset {pos:#x} runs past the end")),
        }
    }
}

/// Registers the `.eh_frame` section in `range` with the unwinder.
pub fn register(range: ExecutorAddrRange) -> Result<(), EhFrameError> {
    let (start, end) = check_range("register", range)?;
    let bytes = mem::read_vec(start, end - start).map_err(|e| EhFrameError::Unreadable {
        start,
        msg: e.to_string(),
    })?;
    check_section(&bytes).map_err(|msg| EhFrameError::Malformed { start, msg })?;
    let mut reg = registered();
    if !reg.insert(start) {
        return Err(EhFrameError::AlreadyRegistered(start));
    }
    // SAFETY: the section is readable and zero-terminated (checked above),
    // and the memory manager keeps it mapped until its dealloc action
    // (deregister) runs. The lock serializes our register/deregister calls.
    unsafe { unwind::register_frame(start) }.map_err(|e| {
        reg.remove(&start);
        EhFrameError::Unwinder {
            op: "register",
            start,
            msg: e.to_string(),
        }
    })
}

/// Deregisters a section registered with [`register`].
pub fn deregister(range: ExecutorAddrRange) -> Result<(), EhFrameError> {
    let (start, _) = check_range("deregister", range)?;
    let mut reg = registered();
    if !reg.remove(&start) {
        return Err(EhFrameError::NotRegistered(start));
    }
    // SAFETY: `start` was registered by `register` and not deregistered
    // since (it was in the set).
    unsafe { unwind::deregister_frame(start) }.map_err(|e| EhFrameError::Unwinder {
        op: "deregister",
        start,
        msg: e.to_string(),
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
        assert!(check_section(&s[..8]).is_err());
        assert!(check_section(&[9, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(check_section(&[0xff, 0xff, 0xff, 0xff, 1]).is_err());
    }
}
