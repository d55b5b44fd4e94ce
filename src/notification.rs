//! NotificationService: plain callbacks run when the Session detaches or
//! shuts down.
//!
//! A NotificationService is an ordinary [`Service`]: it takes the position
//! in the Session's service order at which it was added (services are
//! notified in reverse order of addition), and several can be added at
//! different positions. Within one NotificationService the rules are:
//!
//! 1. Callbacks run in **reverse order of registration** (last registered,
//!    first run), like destructors, so something registered later (which may
//!    depend on something registered earlier) is torn down first.
//! 2. Detach callbacks run when the Session notifies the service of detach
//!    (they receive `shutdown_requested`); shutdown callbacks when it is
//!    notified of shutdown. Each callback runs at most once.
//! 3. A callback registered while the service is running that kind of
//!    callbacks (e.g. from inside one) runs in the same round, before the
//!    callbacks registered earlier than it.
//! 4. A callback registered after its event has already been processed runs
//!    immediately, on the registering thread (a detach callback then gets the
//!    `shutdown_requested` value of the detach that happened).
//! 5. A panicking callback is caught; the remaining callbacks still run, and
//!    the panic is reported as the service's error (the Session passes it to
//!    its error reporter).
//!
//! ```
//! use orc_rt::notification::NotificationService;
//! use orc_rt::session::Session;
//! use orc_rt::task_dispatcher::InPlaceTaskDispatcher;
//! use std::sync::{Arc, Mutex};
//!
//! let session = Session::new(Arc::new(InPlaceTaskDispatcher::new()));
//! let notes = NotificationService::new();
//! session.add_service(notes.clone()).unwrap();
//!
//! let log = Arc::new(Mutex::new(Vec::new()));
//! for name in ["first", "second"] {
//!     let l = log.clone();
//!     notes.add_on_detach(move |shutdown| {
//!         l.lock().unwrap().push(format!("detach {name} {shutdown}"))
//!     });
//!     let l = log.clone();
//!     notes.add_on_shutdown(move || l.lock().unwrap().push(format!("shutdown {name}")));
//! }
//! assert_eq!(notes.pending(), (2, 2));
//!
//! session.shutdown_and_wait().unwrap();
//! assert_eq!(
//!     *log.lock().unwrap(),
//!     [
//!         "detach second true",
//!         "detach first true",
//!         "shutdown second",
//!         "shutdown first"
//!     ]
//! );
//!
//! // Registered after the event: runs at once, on this thread.
//! let l = log.clone();
//! notes.add_on_shutdown(move || l.lock().unwrap().push("late".to_string()));
//! assert_eq!(log.lock().unwrap().last().unwrap(), "late");
//! assert_eq!(notes.pending(), (0, 0));
//! ```

use std::sync::{Arc, Mutex};

use crate::service::{OnCompleteFn, Service};
use crate::Error;

/// A detach callback; gets `shutdown_requested`.
pub type OnDetachCallback = Box<dyn FnOnce(bool) + Send + 'static>;
/// A shutdown callback.
pub type OnShutdownCallback = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct State {
    on_detach: Vec<OnDetachCallback>,
    on_shutdown: Vec<OnShutdownCallback>,
    /// `Some(shutdown_requested)` once the detach round has finished.
    detached: Option<bool>,
    shut_down: bool,
}

/// Runs registered callbacks on detach and shutdown (see the module docs for
/// the ordering rules).
#[derive(Default)]
pub struct NotificationService {
    state: Mutex<State>,
}

impl std::fmt::Debug for NotificationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("NotificationService")
            .field("on_detach", &st.on_detach.len())
            .field("on_shutdown", &st.on_shutdown.len())
            .field("detached", &st.detached.is_some())
            .field("shut_down", &st.shut_down)
            .finish()
    }
}

use crate::sync::lock;

fn catch(what: &str, f: impl FnOnce()) -> Option<Error> {
    crate::error::catch_panic(f)
        .err()
        .map(|p| Error::from_panic(what, p))
}

impl NotificationService {
    /// Creates an empty service (share it as `Arc` and add it to a Session).
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Registers a detach callback (rules in the module docs).
    pub fn add_on_detach(&self, f: impl FnOnce(bool) + Send + 'static) {
        let mut st = lock(&self.state);
        match st.detached {
            None => st.on_detach.push(Box::new(f)),
            Some(shutdown_requested) => {
                drop(st);
                if let Some(e) = catch("detach notification callback", || f(shutdown_requested)) {
                    crate::error::report_unowned(e);
                }
            }
        }
    }

    /// Registers a shutdown callback (rules in the module docs).
    pub fn add_on_shutdown(&self, f: impl FnOnce() + Send + 'static) {
        let mut st = lock(&self.state);
        if !st.shut_down {
            st.on_shutdown.push(Box::new(f));
            return;
        }
        drop(st);
        if let Some(e) = catch("shutdown notification callback", f) {
            crate::error::report_unowned(e);
        }
    }

    /// Number of callbacks waiting (detach, shutdown).
    pub fn pending(&self) -> (usize, usize) {
        let st = lock(&self.state);
        (st.on_detach.len(), st.on_shutdown.len())
    }

    fn run_detach(&self, shutdown_requested: bool) -> Option<Error> {
        let mut err = None;
        loop {
            let mut st = lock(&self.state);
            let Some(f) = st.on_detach.pop() else {
                st.detached = Some(shutdown_requested);
                return err;
            };
            drop(st);
            err = Error::join(
                err,
                catch("detach notification callback", || f(shutdown_requested)),
            );
        }
    }

    fn run_shutdown(&self) -> Option<Error> {
        let mut err = None;
        loop {
            let mut st = lock(&self.state);
            let Some(f) = st.on_shutdown.pop() else {
                st.shut_down = true;
                if st.detached.is_none() {
                    st.detached = Some(true);
                }
                return err;
            };
            drop(st);
            err = Error::join(err, catch("shutdown notification callback", f));
        }
    }
}

impl Service for NotificationService {
    fn on_detach(&self, on_complete: OnCompleteFn, shutdown_requested: bool) {
        match self.run_detach(shutdown_requested) {
            None => on_complete(Ok(())),
            Some(e) => on_complete(Err(e)),
        }
    }

    fn on_shutdown(&self, on_complete: OnCompleteFn) {
        // Detach callbacks never outlive the service's shutdown.
        let e1 = if lock(&self.state).detached.is_none() {
            self.run_detach(true)
        } else {
            None
        };
        match Error::join(e1, self.run_shutdown()) {
            None => on_complete(Ok(())),
            Some(e) => on_complete(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Arc<Mutex<Vec<String>>> {
        Arc::default()
    }

    #[test]
    fn reverse_registration_order_and_nested_registration() {
        let n = NotificationService::new();
        let l = log();
        for i in 0..3 {
            let l2 = l.clone();
            let n2 = n.clone();
            n.add_on_detach(move |sr| {
                l2.lock().unwrap().push(format!("d{i}:{sr}"));
                if i == 1 {
                    let l3 = l2.clone();
                    n2.add_on_detach(move |_| l3.lock().unwrap().push("nested".into()));
                }
            });
        }
        let (tx, rx) = std::sync::mpsc::channel();
        n.on_detach(Box::new(move |r| tx.send(r.is_ok()).unwrap()), false);
        assert!(rx.recv().unwrap());
        assert_eq!(
            *l.lock().unwrap(),
            ["d2:false", "d1:false", "nested", "d0:false"]
        );
        // After the event: runs immediately with the recorded flag.
        let l2 = l.clone();
        n.add_on_detach(move |sr| l2.lock().unwrap().push(format!("late:{sr}")));
        assert_eq!(l.lock().unwrap().last().unwrap(), "late:false");
    }

    #[test]
    fn panics_are_reported_and_others_still_run() {
        let n = NotificationService::new();
        let l = log();
        let l2 = l.clone();
        n.add_on_shutdown(move || l2.lock().unwrap().push("a".into()));
        n.add_on_shutdown(|| panic!("callback panic (expected in this test)"));
        let l2 = l.clone();
        n.add_on_shutdown(move || l2.lock().unwrap().push("c".into()));
        let (tx, rx) = std::sync::mpsc::channel();
        n.on_shutdown(Box::new(move |r| tx.send(r).unwrap()));
        let e = rx.recv().unwrap().unwrap_err();
        assert!(e.to_string().contains("callback panic"), "{e}");
        assert_eq!(*l.lock().unwrap(), ["c", "a"]);
    }
}
