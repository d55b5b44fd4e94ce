//! Thread markers: which dispatchers' and sessions' tasks are running on
//! the current thread, so code further down the stack (a shutdown, a
//! blocking call) can tell it is inside one of their tasks.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT_MARKER_ID: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// Ids of the dispatchers / sessions whose tasks are running on this
    /// thread, innermost last (in-place dispatch nests).
    static RUNNING_MARKERS: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// A fresh id for [`run_marked`] / [`marked_depth`].
pub(crate) fn new_marker_id() -> usize {
    NEXT_MARKER_ID.fetch_add(1, Ordering::Relaxed)
}

/// Runs `f` with `id` recorded as "running on this thread", so code further
/// down the stack can tell it is inside a task of that dispatcher/session.
pub(crate) fn run_marked<R>(id: usize, f: impl FnOnce() -> R) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            RUNNING_MARKERS.with(|m| {
                m.borrow_mut().pop();
            });
        }
    }
    RUNNING_MARKERS.with(|m| m.borrow_mut().push(id));
    let _pop = Pop;
    f()
}

/// How many tasks marked with `id` are on this thread's stack.
pub(crate) fn marked_depth(id: usize) -> usize {
    RUNNING_MARKERS.with(|m| m.borrow().iter().filter(|&&x| x == id).count())
}
