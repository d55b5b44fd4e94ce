//! TaskDispatcher: runs Tasks (incoming controller calls among them).
//!
//! After [`TaskDispatcher::shutdown`] returns, every Task ever dispatched has
//! either run to completion or been dropped; none runs afterwards. Two
//! dispatchers are provided: [`InPlaceTaskDispatcher`] (runs each task on the
//! dispatching thread) and [`ThreadPoolTaskDispatcher`] (a fixed pool of
//! worker threads). Tasks still queued when shutdown starts are dropped, not
//! run.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

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

/// Runs a task, catching a panic so a worker thread survives it.
fn run_task(task: Task) {
    if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(task)) {
        eprintln!(
            "orc-rt: error: a task panicked: {}",
            crate::error::panic_message(&p)
        );
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
struct InPlaceState {
    shut_down: bool,
    running: usize,
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
        if st.running == 0 {
            self.idle.notify_all();
        }
    }

    fn shutdown(&self) {
        let mine = marked_depth(self.id);
        let mut st = lock(&self.state);
        st.shut_down = true;
        while st.running > mine {
            st = self.idle.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

struct PoolState {
    queue: VecDeque<Task>,
    shut_down: bool,
    running: usize,
}

struct PoolShared {
    id: usize,
    state: Mutex<PoolState>,
    work: Condvar,
    idle: Condvar,
}

/// Runs tasks on a fixed number of worker threads, first in first out.
///
/// Shutdown drops the tasks still queued (outside any lock, so their
/// destructors may dispatch or reply freely), waits for running tasks to
/// finish and joins the workers (except the calling one, if shutdown is
/// requested from inside a task).
pub struct ThreadPoolTaskDispatcher {
    shared: Arc<PoolShared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl ThreadPoolTaskDispatcher {
    /// Creates a pool of `num_threads` workers (at least one).
    pub fn new(num_threads: usize) -> crate::Result<Self> {
        let shared = Arc::new(PoolShared {
            id: new_marker_id(),
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                shut_down: false,
                running: 0,
            }),
            work: Condvar::new(),
            idle: Condvar::new(),
        });
        let pool = ThreadPoolTaskDispatcher {
            shared,
            workers: Mutex::new(Vec::new()),
        };
        for i in 0..num_threads.max(1) {
            let shared = pool.shared.clone();
            let h = std::thread::Builder::new()
                .name(format!("orc-rt-worker-{i}"))
                .spawn(move || worker_loop(&shared))
                .map_err(|e| crate::Error::io(format!("spawning worker thread {i}"), e))?;
            lock(&pool.workers).push(h);
        }
        Ok(pool)
    }

    /// Creates a pool with one worker per available CPU
    /// (`std::thread::available_parallelism`, 1 if unknown).
    pub fn with_default_threads() -> crate::Result<Self> {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Number of tasks waiting in the queue (for tests and diagnostics).
    pub fn queued(&self) -> usize {
        lock(&self.shared.state).queue.len()
    }
}

fn worker_loop(shared: &PoolShared) {
    let mut st = lock(&shared.state);
    loop {
        if let Some(task) = st.queue.pop_front() {
            st.running += 1;
            drop(st);
            run_marked(shared.id, || run_task(task));
            st = lock(&shared.state);
            st.running -= 1;
            if st.running == 0 {
                shared.idle.notify_all();
            }
            continue;
        }
        if st.shut_down {
            return;
        }
        st = shared.work.wait(st).unwrap_or_else(|e| e.into_inner());
    }
}

impl TaskDispatcher for ThreadPoolTaskDispatcher {
    fn dispatch(&self, task: Task) {
        let mut st = lock(&self.shared.state);
        if st.shut_down {
            drop(st);
            drop(task);
            return;
        }
        st.queue.push_back(task);
        drop(st);
        self.shared.work.notify_one();
    }

    fn shutdown(&self) {
        let mine = marked_depth(self.shared.id);
        let dropped = {
            let mut st = lock(&self.shared.state);
            st.shut_down = true;
            std::mem::take(&mut st.queue)
        };
        self.shared.work.notify_all();
        // Destructors of dropped tasks may dispatch (and get dropped) or
        // reply; no lock is held here.
        drop(dropped);
        {
            let mut st = lock(&self.shared.state);
            while st.running > mine || !st.queue.is_empty() {
                let again = std::mem::take(&mut st.queue);
                if !again.is_empty() {
                    drop(st);
                    drop(again);
                    st = lock(&self.shared.state);
                    continue;
                }
                st = self.shared.idle.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        }
        let me = std::thread::current().id();
        let workers = std::mem::take(&mut *lock(&self.workers));
        for h in workers {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
    }
}

impl Drop for ThreadPoolTaskDispatcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;
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
    fn probe_task(ran: &Arc<AtomicUsize>, dropped: &Arc<AtomicUsize>) -> Task {
        let p = Probe {
            ran: ran.clone(),
            dropped: dropped.clone(),
        };
        Box::new(move || {
            p.ran.fetch_add(1, Ordering::SeqCst);
        })
    }

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

    #[test]
    fn pool_runs_everything_then_drops_queued_at_shutdown() {
        let d = ThreadPoolTaskDispatcher::new(2).unwrap();
        let (ran, dropped) = (Arc::default(), Arc::default());
        for _ in 0..100 {
            d.dispatch(probe_task(&ran, &dropped));
        }
        // Block both workers, then queue more: those must be dropped.
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let (started_tx, started_rx) = mpsc::channel::<()>();
        for _ in 0..2 {
            let rx = release_rx.clone();
            let started = started_tx.clone();
            d.dispatch(Box::new(move || {
                started.send(()).unwrap();
                let _ = rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
            }));
        }
        started_rx.recv().unwrap();
        started_rx.recv().unwrap();
        for _ in 0..50 {
            d.dispatch(probe_task(&ran, &dropped));
        }
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(release_tx);
        });
        d.shutdown();
        t.join().unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 100);
        assert_eq!(dropped.load(Ordering::SeqCst), 150);
        d.dispatch(probe_task(&ran, &dropped));
        assert_eq!(dropped.load(Ordering::SeqCst), 151);
        assert_eq!(ran.load(Ordering::SeqCst), 100);
    }

    #[test]
    fn pool_shutdown_from_inside_a_task_does_not_deadlock() {
        let d = Arc::new(ThreadPoolTaskDispatcher::new(3).unwrap());
        let (tx, rx) = mpsc::channel();
        let d2 = d.clone();
        d.dispatch(Box::new(move || {
            d2.shutdown();
            tx.send(()).unwrap();
        }));
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        d.shutdown();
    }

    #[test]
    fn pool_survives_a_panicking_task() {
        let d = ThreadPoolTaskDispatcher::new(1).unwrap();
        d.dispatch(Box::new(|| panic!("task panic (expected in this test)")));
        let (tx, rx) = mpsc::channel();
        d.dispatch(Box::new(move || tx.send(7).unwrap()));
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 7);
    }
}
