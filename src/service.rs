//! Service: an object owned by the Session and notified when the controller
//! detaches and when the Session shuts down (memory maps, dylib handles,
//! unwind registrations...).

use crate::Error;

/// Completion callback of a Service notification; `Err` is reported through
/// the Session's error reporter.
pub type OnCompleteFn = Box<dyn FnOnce(Result<(), Error>) + Send + 'static>;

/// A Service owned by a Session.
///
/// Both operations are asynchronous: the Service calls `on_complete` exactly
/// once, on any thread, possibly after returning.
pub trait Service: Send + Sync {
    /// The controller has detached (or been detached). `shutdown_requested`
    /// says whether the detach is the first phase of Session shutdown.
    fn on_detach(&self, on_complete: OnCompleteFn, shutdown_requested: bool);

    /// The Session is shutting down: release everything. Called once, after
    /// `on_detach`, in reverse order of addition.
    fn on_shutdown(&self, on_complete: OnCompleteFn);
}
