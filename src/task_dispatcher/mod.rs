//! TaskDispatcher: runs Tasks (incoming controller calls among them).
//!
//! After [`TaskDispatcher::shutdown`] returns, every Task ever dispatched has
//! either run to completion or been dropped; none runs afterwards. Three
//! dispatchers are provided: [`InPlaceTaskDispatcher`] (runs each task on the
//! dispatching thread), [`ThreadPoolTaskDispatcher`] (a fixed pool of worker
//! threads) and [`GrowingThreadPoolTaskDispatcher`] (a pool that grows
//! whenever every worker is busy, for executors serving a controller whose
//! calls nest). Tasks still queued when shutdown starts are dropped, not
//! run.
//!
//! ```
//! use orc_rt::task_dispatcher::{
//!     InPlaceTaskDispatcher, TaskDispatcher, ThreadPoolTaskDispatcher,
//! };
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::{mpsc, Arc};
//!
//! // Two workers run the tasks, off the dispatching thread.
//! let pool = ThreadPoolTaskDispatcher::new(2).unwrap();
//! let (tx, rx) = mpsc::channel();
//! for i in 0..4 {
//!     let tx = tx.clone();
//!     pool.dispatch(Box::new(move || {
//!         tx.send((i, std::thread::current().id())).unwrap()
//!     }));
//! }
//! let mut done: Vec<_> = rx.iter().take(4).collect();
//! assert!(done.iter().all(|(_, t)| *t != std::thread::current().id()));
//! done.sort_by_key(|(i, _)| *i);
//! assert_eq!(
//!     done.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
//!     [0, 1, 2, 3]
//! );
//!
//! // After shutdown a task is dropped unrun, releasing what it owns.
//! pool.shutdown();
//! let (tx, rx) = mpsc::channel::<()>();
//! pool.dispatch(Box::new(move || tx.send(()).unwrap()));
//! assert!(rx.recv().is_err()); // the sender was dropped, never used
//!
//! // In place: the task has run when `dispatch` returns.
//! let inline = InPlaceTaskDispatcher::new();
//! let ran = Arc::new(AtomicBool::new(false));
//! let r = ran.clone();
//! inline.dispatch(Box::new(move || r.store(true, Ordering::SeqCst)));
//! assert!(ran.load(Ordering::SeqCst));
//! inline.shutdown();
//! ```

mod growing;
mod in_place;
mod marker;
mod stack_size;
#[cfg(test)]
mod test_support;
mod thread_pool;

pub use growing::GrowingThreadPoolTaskDispatcher;
pub use in_place::InPlaceTaskDispatcher;
pub(crate) use marker::{marked_depth, new_marker_id, run_marked};
pub use stack_size::default_stack_size;
pub use thread_pool::ThreadPoolTaskDispatcher;

use crate::sync::lock;
use std::sync::{Mutex, MutexGuard};

/// A unit of work. Dropping a Task without running it is how a dispatcher
/// "destroys" it (its captured state is released, e.g. a call's responder
/// then produces a "session shut down" result).
pub type Task = Box<dyn FnOnce() + Send + 'static>;

/// Runs Tasks.
pub trait TaskDispatcher: Send + Sync {
    /// Runs `task` now or later. After shutdown has started, the task is
    /// dropped without running.
    fn dispatch(&self, task: Task);

    /// Stops accepting tasks and waits until every dispatched task has run or
    /// been dropped. Idempotent. Must not deadlock when called from inside a
    /// task (the calling task is then the only one not waited for).
    fn shutdown(&self);
}

/// Runs a task, catching a panic so a worker thread survives it.
fn run_task(task: Task) {
    if let Err(p) = crate::error::catch_panic(task) {
        // Sessions catch their tasks' panics and report them themselves;
        // this is the last resort for tasks dispatched directly.
        crate::error::report_unowned(crate::Error::from_panic("a task", p));
    }
}

/// Locks `state` to queue `task`; if `shut_down(state)`, drops the task
/// instead (after unlocking: its destructor may dispatch or reply) and
/// returns `None`.
fn lock_if_open<S>(
    state: &Mutex<S>,
    task: Task,
    shut_down: fn(&S) -> bool,
) -> Option<(MutexGuard<'_, S>, Task)> {
    let st = lock(state);
    if shut_down(&st) {
        drop(st);
        drop(task);
        return None;
    }
    Some((st, task))
}
