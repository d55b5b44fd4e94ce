//! Poison-tolerant locking, the one helper every module uses.
//!
//! orc-rt catches panics at its boundaries (callbacks, handlers, the C ABI)
//! and keeps running, so a mutex may be poisoned by a panic in code that
//! held it. Every critical section in orc-rt leaves its data consistent at
//! each step (single assignments, pushes, removals), so the poison flag is
//! ignored rather than turned into a second panic.
//!
//! ```
//! use std::sync::Mutex;
//! let m = Mutex::new(1);
//! *orc_rt::sync::lock(&m) += 1;
//! assert_eq!(*orc_rt::sync::lock(&m), 2);
//! ```

use std::sync::{Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks `m`, ignoring poison.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits on `cv` with guard `g`, ignoring poison.
pub fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(g).unwrap_or_else(|p| p.into_inner())
}

/// Read-locks `l`, ignoring poison.
pub fn read<T: ?Sized>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

/// Write-locks `l`, ignoring poison.
pub fn write<T: ?Sized>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}
