//! Handles: slot + generation tables for everything handed out by value and
//! looked up again later (C handles, Session references, native call ids).
//!
//! A [`Handle`] names one entry of one [`HandleTable`]: its slot, the
//! generation of that slot when the entry was made, and the table's kind.
//! Removing an entry bumps its slot's generation, so a stale handle is
//! refused every time, even when a new entry reuses the slot (or a new
//! object lands at the old one's address: handles are not addresses). A
//! handle of another kind (say, a Session handle passed where a dispatcher
//! handle is expected) is refused too.
//!
//! ```
//! use orc_rt::handle::{HandleKind, HandleTable};
//!
//! static NAMES: HandleTable<String> = HandleTable::new(HandleKind::Test);
//!
//! let a = NAMES.insert("first".to_string());
//! assert_eq!(NAMES.get(a).as_deref(), Some("first"));
//! assert_eq!(NAMES.remove(a).as_deref(), Some("first"));
//! // The slot is reused, the stale handle is not accepted for it.
//! let b = NAMES.insert("second".to_string());
//! assert_eq!(NAMES.get(a), None);
//! assert_eq!(NAMES.remove(a), None);
//! assert_eq!(NAMES.get(b).as_deref(), Some("second"));
//! ```

use std::sync::Mutex;

use crate::sync::lock;

/// What a [`HandleTable`] holds; part of every handle, so a handle of one
/// kind is never accepted by a table of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum HandleKind {
    /// Sessions (`orc_rt_SessionRef`).
    Session = 1,
    /// Pending calls of native (asynchronous ABI) wrapper functions.
    NativeCall = 2,
    /// Task dispatchers handed to C.
    TaskDispatcher = 3,
    /// In-process controllers handed to C.
    InProcessController = 4,
    /// Responders of controller-handler calls handed to C.
    ControllerResponder = 5,
    /// Notification services handed to C.
    NotificationService = 6,
    /// Errors handed to C.
    Error = 7,
    /// Completions of Service notifications handed to C.
    ServiceCompletion = 8,
    /// Tasks handed to a TaskDispatcher implemented in C.
    Task = 9,
    /// Sandbox policies handed to C.
    SandboxPolicy = 20,
    /// Tables made by tests and examples.
    Test = 255,
}

/// Bits of a handle holding the slot number plus one (so no handle is 0).
const SLOT_BITS: u32 = 24;
/// Bits holding the kind, above the slot.
const KIND_BITS: u32 = 8;
/// The generation sits above slot and kind.
const GEN_SHIFT: u32 = SLOT_BITS + KIND_BITS;
/// Largest number of live entries per table.
const MAX_SLOTS: usize = (1 << SLOT_BITS) - 1;

/// A reference to an entry of a [`HandleTable`]. Never 0, so it fits a
/// pointer-typed C handle where NULL means "none".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(u64);

impl Handle {
    /// The handle as an integer (for a C handle or a call id).
    pub fn to_raw(self) -> u64 {
        self.0
    }

    /// A handle from an integer given back by C or the wire. Any value is
    /// accepted here; the table decides whether it names a live entry.
    pub fn from_raw(raw: u64) -> Handle {
        Handle(raw)
    }

    fn slot(self) -> Option<usize> {
        let s = (self.0 & ((1 << SLOT_BITS) - 1)) as usize;
        s.checked_sub(1)
    }

    fn kind(self) -> u8 {
        ((self.0 >> SLOT_BITS) & ((1 << KIND_BITS) - 1)) as u8
    }

    fn generation(self) -> u32 {
        (self.0 >> GEN_SHIFT) as u32
    }
}

struct Entry<T> {
    generation: u32,
    value: Option<T>,
}

struct Slots<T> {
    entries: Vec<Entry<T>>,
    free: Vec<usize>,
    live: usize,
}

/// A table of values reached through [`Handle`]s, checked by slot and
/// generation (see the module docs). Thread-safe; usable as a `static`.
pub struct HandleTable<T> {
    kind: HandleKind,
    slots: Mutex<Slots<T>>,
}

impl<T> std::fmt::Debug for HandleTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandleTable").finish_non_exhaustive()
    }
}

impl<T> HandleTable<T> {
    /// An empty table of `kind`.
    pub const fn new(kind: HandleKind) -> Self {
        HandleTable {
            kind,
            slots: Mutex::new(Slots {
                entries: Vec::new(),
                free: Vec::new(),
                live: 0,
            }),
        }
    }

    fn handle(&self, slot: usize, generation: u32) -> Handle {
        Handle(
            (u64::from(generation) << GEN_SHIFT)
                | ((self.kind as u64) << SLOT_BITS)
                | (slot as u64 + 1),
        )
    }

    /// Stores `value` and returns its handle. Panics only if the table
    /// already holds 16 million live entries.
    pub fn insert(&self, value: T) -> Handle {
        let mut s = lock(&self.slots);
        s.live += 1;
        if let Some(slot) = s.free.pop() {
            let e = &mut s.entries[slot];
            e.value = Some(value);
            let g = e.generation;
            return self.handle(slot, g);
        }
        let slot = s.entries.len();
        assert!(slot < MAX_SLOTS, "handle table {:?} is full", self.kind);
        s.entries.push(Entry {
            generation: 0,
            value: Some(value),
        });
        self.handle(slot, 0)
    }

    /// Runs `f` on the live entry `h` names, under the table's lock (keep
    /// `f` short and never call back into this table from it).
    pub fn with<R>(&self, h: Handle, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if h.kind() != self.kind as u8 {
            return None;
        }
        let slot = h.slot()?;
        let mut s = lock(&self.slots);
        let e = s.entries.get_mut(slot)?;
        if e.generation != h.generation() {
            return None;
        }
        e.value.as_mut().map(f)
    }

    /// A clone of the live entry `h` names.
    pub fn get(&self, h: Handle) -> Option<T>
    where
        T: Clone,
    {
        self.with(h, |v| v.clone())
    }

    /// True if `h` names a live entry.
    pub fn contains(&self, h: Handle) -> bool {
        self.with(h, |_| ()).is_some()
    }

    /// Takes the live entry `h` names out of the table; `h` (and every copy
    /// of it) is refused from now on.
    pub fn remove(&self, h: Handle) -> Option<T> {
        if h.kind() != self.kind as u8 {
            return None;
        }
        let slot = h.slot()?;
        let mut s = lock(&self.slots);
        let e = s.entries.get_mut(slot)?;
        if e.generation != h.generation() || e.value.is_none() {
            return None;
        }
        let v = e.value.take();
        // A slot whose generation would wrap is retired rather than reused,
        // so no handle ever comes back to life.
        if e.generation < u32::MAX {
            e.generation += 1;
            s.free.push(slot);
        }
        s.live -= 1;
        v
    }

    /// Removes every live entry for which `pred` holds, returning them.
    pub fn drain_filter(&self, mut pred: impl FnMut(&T) -> bool) -> Vec<T> {
        let mut s = lock(&self.slots);
        let mut out = Vec::new();
        let mut freed = Vec::new();
        for (i, e) in s.entries.iter_mut().enumerate() {
            if e.value.as_ref().is_some_and(&mut pred) {
                out.extend(e.value.take());
                if e.generation < u32::MAX {
                    e.generation += 1;
                    freed.push(i);
                }
            }
        }
        s.live -= out.len();
        s.free.extend(freed);
        out
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        lock(&self.slots).live
    }

    /// True if no entry is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_handles_are_refused_after_reuse() {
        let t = HandleTable::new(HandleKind::Test);
        let a = t.insert(1);
        assert_eq!(t.remove(a), Some(1));
        for i in 0..100 {
            let b = t.insert(i);
            assert_ne!(a, b);
            assert_eq!(t.get(a), None);
            assert_eq!(t.remove(a), None);
            assert_eq!(t.get(b), Some(i));
            assert_eq!(t.remove(b), Some(i));
        }
        assert!(t.is_empty());
    }

    #[test]
    fn handles_of_another_kind_and_garbage_are_refused() {
        let s = HandleTable::new(HandleKind::Session);
        let d = HandleTable::new(HandleKind::TaskDispatcher);
        let hs = s.insert("s");
        let hd = d.insert("d");
        assert_eq!(s.get(hd), None);
        assert_eq!(d.get(hs), None);
        for raw in [0, 1, u64::MAX, hs.to_raw() ^ (1 << 40), hs.to_raw() + 1] {
            assert_eq!(s.get(Handle::from_raw(raw)), None, "{raw:#x}");
        }
        assert_eq!(s.get(Handle::from_raw(hs.to_raw())), Some("s"));
    }

    #[test]
    fn drain_filter_takes_matching_entries() {
        let t = HandleTable::new(HandleKind::Test);
        let hs: Vec<_> = (0..10).map(|i| t.insert(i)).collect();
        let mut odd = t.drain_filter(|v| v % 2 == 1);
        odd.sort();
        assert_eq!(odd, [1, 3, 5, 7, 9]);
        assert_eq!(t.len(), 5);
        assert_eq!(t.get(hs[1]), None);
        assert_eq!(t.get(hs[2]), Some(2));
    }
}
