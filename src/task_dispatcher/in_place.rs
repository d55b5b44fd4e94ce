//! [`InPlaceTaskDispatcher`]: runs each task on the dispatching thread.

use super::marker::{marked_depth, new_marker_id, run_marked};
use super::{run_task, Task, TaskDispatcher};
use crate::sync::{lock, wait};
use std::sync::{Condvar, Mutex};

#[derive(Default)]
struct InPlaceState {
    shut_down: bool,
    running: usize,
    /// Threads blocked in `shutdown` waiting for `running` to drop.
    idle_waiters: usize,
}

/// Runs every task immediately on the thread that dispatches it.
///
/// Nested dispatch (a task dispatching another) runs the inner task inline.
/// After shutdown, dispatched tasks are dropped.
pub struct InPlaceTaskDispatcher {
    id: usize,
    state: Mutex<InPlaceState>,
    idle: Condvar,
}

impl std::fmt::Debug for InPlaceTaskDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("InPlaceTaskDispatcher")
            .field("running", &st.running)
            .field("shut_down", &st.shut_down)
            .finish()
    }
}

impl InPlaceTaskDispatcher {
    /// Creates a dispatcher.
    pub fn new() -> Self {
        InPlaceTaskDispatcher {
            id: new_marker_id(),
            state: Mutex::new(InPlaceState::default()),
            idle: Condvar::new(),
        }
    }
}

impl Default for InPlaceTaskDispatcher {
    fn default() -> Self {
        Self::new()
    }
}

impl TaskDispatcher for InPlaceTaskDispatcher {
    fn dispatch(&self, task: Task) {
        {
            let mut st = lock(&self.state);
            if st.shut_down {
                drop(st);
                drop(task);
                return;
            }
            st.running += 1;
        }
        run_marked(self.id, || run_task(task));
        let mut st = lock(&self.state);
        st.running -= 1;
        if st.running == 0 && st.idle_waiters > 0 {
            self.idle.notify_all();
        }
    }

    fn shutdown(&self) {
        let mine = marked_depth(self.id);
        let mut st = lock(&self.state);
        st.shut_down = true;
        while st.running > mine {
            st.idle_waiters += 1;
            st = wait(&self.idle, st);
            st.idle_waiters -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::probe_task;
    use super::*;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    #[test]
    fn in_place_runs_now_and_drops_after_shutdown() {
        let d = InPlaceTaskDispatcher::new();
        let (ran, dropped) = (Arc::default(), Arc::default());
        d.dispatch(probe_task(&ran, &dropped));
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        d.shutdown();
        d.dispatch(probe_task(&ran, &dropped));
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn in_place_shutdown_from_inside_a_task() {
        let d = Arc::new(InPlaceTaskDispatcher::new());
        let d2 = d.clone();
        d.dispatch(Box::new(move || d2.shutdown()));
        let (ran, dropped) = (Arc::default(), Arc::default());
        d.dispatch(probe_task(&ran, &dropped));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    }
}
