//! The Session whose controller call the calling thread is running: set
//! around each incoming call ([`super::IncomingCall::run`]), and carried
//! to threads that do work for the call, so that code called from JIT'd
//! code (host functions, crash reports) knows its Session.

use std::cell::Cell;

use crate::handle::Handle;

thread_local! {
    /// The Session whose controller call this thread is running.
    static CURRENT: Cell<Option<Handle>> = const { Cell::new(None) };
}

/// Marks the calling thread as running a controller call of the Session
/// with handle `h` (host functions find it: `Session::current`) until the guard is dropped (calls nest).
pub(crate) fn enter_call(h: Handle) -> CallGuard {
    let prev = CURRENT.try_with(|c| c.replace(Some(h))).ok().flatten();
    CallGuard { prev }
}

/// The handle of the Session whose controller call this thread runs, to
/// carry to another thread that does work for that call.
pub(crate) fn current_call() -> Option<Handle> {
    CURRENT.try_with(|c| c.get()).ok().flatten()
}

/// Restores the previous current Session ([`enter_call`]).
pub(crate) struct CallGuard {
    prev: Option<Handle>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.prev));
    }
}
