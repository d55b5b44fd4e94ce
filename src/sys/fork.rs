//! Fork detection: a generation counter that a `pthread_atfork` child
//! handler bumps, so code can tell with one atomic load, no system call,
//! that it runs in a child forked after some point (where the threads
//! started before the fork do not exist).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

/// Runs in the child right after `fork` (only the forking thread exists):
/// one atomic add, which is async-signal-safe.
extern "C" fn in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Starts watching for forks (once per process) and returns the current
/// generation; `None` if the handler could not be registered (the system
/// is out of memory), in which case forks go unnoticed.
pub(crate) fn watch() -> Option<u64> {
    static OK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    REGISTER.call_once(|| {
        // SAFETY: `in_child` is a plain `extern "C" fn` that lives as long
        // as the process and only does an atomic add.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        OK.store(rc == 0, Ordering::Relaxed);
    });
    OK.load(Ordering::Relaxed).then(generation)
}

/// How many forks separate this process from the original one (0 there;
/// counted only once [`watch`] has been called).
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}
