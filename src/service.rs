//! Service: an object owned by the Session and notified when the controller
//! detaches and when the Session shuts down (memory maps, dylib handles,
//! unwind registrations...).
//!
//! A Service is notified twice: `on_detach` when the controller goes away
//! (the Service may keep serving JIT'd code that is still running), then
//! `on_shutdown`, where it releases everything. Each notification completes
//! through a callback, so a Service may finish its work on another thread.
//!
//! ```
//! use orc_rt::service::{OnCompleteFn, Service};
//! use orc_rt::session::Session;
//! use orc_rt::task_dispatcher::InPlaceTaskDispatcher;
//! use std::sync::{Arc, Mutex};
//!
//! /// Logs its notifications; completes shutdown from another thread.
//! struct Recorder {
//!     name: &'static str,
//!     log: Arc<Mutex<Vec<String>>>,
//! }
//!
//! impl Service for Recorder {
//!     fn on_detach(&self, done: OnCompleteFn, shutdown_requested: bool) {
//!         let msg = format!("{} detach {shutdown_requested}", self.name);
//!         self.log.lock().unwrap().push(msg);
//!         done(Ok(()))
//!     }
//!     fn on_shutdown(&self, done: OnCompleteFn) {
//!         let (name, log) = (self.name, self.log.clone());
//!         std::thread::spawn(move || {
//!             log.lock().unwrap().push(format!("{name} shutdown"));
//!             done(Ok(()))
//!         });
//!     }
//! }
//!
//! let log = Arc::new(Mutex::new(Vec::new()));
//! let session = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
//! for name in ["dylibs", "memory"] {
//!     session
//!         .add_service(Arc::new(Recorder {
//!             name,
//!             log: log.clone(),
//!         }))
//!         .unwrap();
//! }
//! session.shutdown_and_wait().unwrap();
//! // Detach, then shutdown, each in reverse order of addition.
//! assert_eq!(
//!     *log.lock().unwrap(),
//!     [
//!         "memory detach true",
//!         "dylibs detach true",
//!         "memory shutdown",
//!         "dylibs shutdown"
//!     ]
//! );
//! // A Session that has shut down takes no more Services.
//! let late = Arc::new(Recorder { name: "late", log });
//! assert!(session.add_service(late).is_err());
//! ```

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
