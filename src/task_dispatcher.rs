//! TaskDispatcher: runs Tasks (incoming controller calls among them).
//!
//! After [`TaskDispatcher::shutdown`] returns, every Task ever dispatched has
//! either run to completion or been dropped; none runs afterwards.

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
