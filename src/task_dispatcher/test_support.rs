//! Helpers shared by the dispatchers' unit tests.

use super::{Task, TaskDispatcher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Counts runs and drops of a task.
struct Probe {
    ran: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}
impl Drop for Probe {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}
pub(super) fn probe_task(ran: &Arc<AtomicUsize>, dropped: &Arc<AtomicUsize>) -> Task {
    let p = Probe {
        ran: ran.clone(),
        dropped: dropped.clone(),
    };
    Box::new(move || {
        p.ran.fetch_add(1, Ordering::SeqCst);
    })
}

/// Dispatches `n` tasks that block until the returned sender is
/// dropped, and returns once all of them have started. The counter
/// counts those that have finished.
pub(super) fn dispatch_blockers(
    d: &dyn TaskDispatcher,
    n: usize,
) -> (mpsc::Sender<()>, Arc<AtomicUsize>) {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let finished = Arc::new(AtomicUsize::new(0));
    for _ in 0..n {
        let rx = release_rx.clone();
        let started = started_tx.clone();
        let finished = finished.clone();
        d.dispatch(Box::new(move || {
            started.send(()).unwrap();
            let _ = rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(20));
            finished.fetch_add(1, Ordering::SeqCst);
        }));
    }
    for _ in 0..n {
        started_rx.recv().unwrap();
    }
    (release_tx, finished)
}

/// Drops `release` after a moment, on another thread.
pub(super) fn release_later(release: mpsc::Sender<()>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        drop(release);
    })
}

/// A task that shuts its own dispatcher down returns, and so does a
/// second shutdown.
pub(super) fn check_shutdown_from_inside_a_task(d: Arc<dyn TaskDispatcher>) {
    let (tx, rx) = mpsc::channel();
    let d2 = d.clone();
    d.dispatch(Box::new(move || {
        d2.shutdown();
        tx.send(()).unwrap();
    }));
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    d.shutdown();
}

/// A panicking task does not stop the next one from running.
pub(super) fn check_survives_a_panicking_task(d: &dyn TaskDispatcher) {
    d.dispatch(Box::new(|| panic!("task panic (expected in this test)")));
    let (tx, rx) = mpsc::channel();
    d.dispatch(Box::new(move || tx.send(7).unwrap()));
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 7);
}
