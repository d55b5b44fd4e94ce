//! [`GrowingThreadPoolTaskDispatcher`]: a pool that starts a worker
//! whenever every worker is busy, for calls that nest without limit.

use super::marker::{marked_depth, new_marker_id, run_marked};
use super::stack_size::default_stack_size;
use super::{lock_if_open, run_task, Task, TaskDispatcher};
use crate::sync::{lock, wait};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

#[derive(Default)]
struct GrowingState {
    queue: VecDeque<Task>,
    /// Workers blocked waiting for work.
    waiting: usize,
    /// Tasks queued or running.
    unfinished: usize,
    /// Worker threads started (they never exit).
    workers: usize,
    shut_down: bool,
    /// Threads blocked in `shutdown` waiting for `unfinished` to drop.
    idle_waiters: usize,
}

struct GrowingShared {
    id: usize,
    stack_size: usize,
    state: Mutex<GrowingState>,
    work: Condvar,
    idle: Condvar,
}

/// Runs tasks on worker threads that are reused, started on demand (a new
/// one whenever a task arrives and every worker is busy) and never exit.
///
/// This is the dispatcher for an executor serving a controller
/// (`orc-rt-executor`, hosts of `orc_rt_Session_attachSimpleRemoteEPC`):
///
/// * Calls nest without limit (JIT'd code blocked in a call to the
///   controller while the controller calls back in), so the pool cannot be
///   bounded: a bounded pool deadlocks once the nesting is deeper than its
///   size (see [`ThreadPoolTaskDispatcher`](super::ThreadPoolTaskDispatcher)).
/// * Workers never exit, not even at shutdown or when the dispatcher is
///   dropped: a thread that ran JIT'd code may carry thread-local
///   destructors registered by that code (e.g. the ORC runtime's
///   `thread_local` support). Run at thread exit, after the controller has
///   released the code, they would jump into unmapped memory. (LLVM 22's
///   `llvm-jitlink-executor`, which ends a thread after each call, has
///   exactly that race.) An executor process exits right after its
///   session, so the parked workers cost nothing; do not create one of
///   these per short-lived Session in a long-running process.
///
/// No thread is started until the first task arrives. Shutdown drops the
/// tasks still queued (outside the lock) and waits for the running ones
/// (except the calling task, if shutdown is requested from inside one);
/// afterwards every dispatched task is dropped.
pub struct GrowingThreadPoolTaskDispatcher {
    shared: Arc<GrowingShared>,
}

impl std::fmt::Debug for GrowingThreadPoolTaskDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.shared.state);
        f.debug_struct("GrowingThreadPoolTaskDispatcher")
            .field("workers", &st.workers)
            .field("queued", &st.queue.len())
            .field("unfinished", &st.unfinished)
            .field("shut_down", &st.shut_down)
            .finish()
    }
}

impl GrowingThreadPoolTaskDispatcher {
    /// Creates a dispatcher with no worker yet; workers get
    /// [`default_stack_size`]. Never fails: threads are started by
    /// [`TaskDispatcher::dispatch`].
    pub fn new() -> Self {
        Self::with_stack_size(default_stack_size())
    }

    /// Like [`GrowingThreadPoolTaskDispatcher::new`], with worker stacks of
    /// `stack_size` bytes (rounded up to whole pages by the system).
    pub fn with_stack_size(stack_size: usize) -> Self {
        GrowingThreadPoolTaskDispatcher {
            shared: Arc::new(GrowingShared {
                id: new_marker_id(),
                stack_size,
                state: Mutex::new(GrowingState::default()),
                work: Condvar::new(),
                idle: Condvar::new(),
            }),
        }
    }

    /// Number of worker threads started so far (for tests and
    /// diagnostics).
    pub fn workers(&self) -> usize {
        lock(&self.shared.state).workers
    }

    /// Starts workers until `n` exist, ready before the first tasks come
    /// (an executor does this before its controller's first call, so that
    /// call does not wait for a thread to start). Fails if a thread could
    /// not be started; does nothing after shutdown.
    pub fn prestart(&self, n: usize) -> std::io::Result<()> {
        loop {
            let mut st = lock(&self.shared.state);
            if st.workers >= n || st.shut_down {
                return Ok(());
            }
            st.workers += 1;
            let k = st.workers;
            drop(st);
            if let Err(e) = self.spawn_worker(k) {
                lock(&self.shared.state).workers -= 1;
                return Err(e);
            }
        }
    }

    /// Starts worker number `n` (already counted in `workers`).
    fn spawn_worker(&self, n: usize) -> std::io::Result<()> {
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name(format!("orc-rt-worker-{n}"))
            .stack_size(self.shared.stack_size)
            .spawn(move || shared.worker())
            .map(drop)
    }
}

impl Default for GrowingThreadPoolTaskDispatcher {
    fn default() -> Self {
        Self::new()
    }
}

impl GrowingShared {
    fn worker(&self) {
        // The thread's first allocation sets up its allocator arena: do it
        // now, not in the first task.
        drop(std::hint::black_box(vec![0u8; 64]));
        let mut st = lock(&self.state);
        loop {
            if let Some(task) = st.queue.pop_front() {
                drop(st);
                run_marked(self.id, || run_task(task));
                st = lock(&self.state);
                st.unfinished -= 1;
                if st.idle_waiters > 0 {
                    self.idle.notify_all();
                }
                continue;
            }
            st.waiting += 1;
            st = wait(&self.work, st);
            st.waiting -= 1;
        }
    }
}

impl TaskDispatcher for GrowingThreadPoolTaskDispatcher {
    fn dispatch(&self, task: Task) {
        let Some((mut st, task)) = lock_if_open(&self.shared.state, task, |s| s.shut_down) else {
            return;
        };
        st.unfinished += 1;
        st.queue.push_back(task);
        if st.queue.len() <= st.waiting {
            drop(st);
            self.shared.work.notify_one();
            return;
        }
        st.workers += 1;
        let n = st.workers;
        drop(st);
        if let Err(e) = self.spawn_worker(n) {
            lock(&self.shared.state).workers -= 1;
            // The task stays queued: a busy worker takes it when it is
            // free, or shutdown drops it.
            crate::error::report_unowned(crate::Error::io("could not start a worker thread", e));
        }
    }

    fn shutdown(&self) {
        let mine = marked_depth(self.shared.id);
        let dropped = {
            let mut st = lock(&self.shared.state);
            st.shut_down = true;
            let q = std::mem::take(&mut st.queue);
            st.unfinished -= q.len();
            q
        };
        // Destructors of dropped tasks may dispatch (and get dropped) or
        // reply; no lock is held here.
        drop(dropped);
        let mut st = lock(&self.shared.state);
        while st.unfinished > mine {
            st.idle_waiters += 1;
            st = wait(&self.shared.idle, st);
            st.idle_waiters -= 1;
        }
    }
}

impl Drop for GrowingThreadPoolTaskDispatcher {
    /// Shuts down (the workers stay parked; see the type's docs).
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{
        check_shutdown_from_inside_a_task, check_survives_a_panicking_task, dispatch_blockers,
        probe_task, release_later,
    };
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn growing_pool_nested_blocking_tasks_do_not_deadlock() {
        // Each task dispatches the next one and blocks until it has run, as
        // nested controller calls do. A fixed pool of fewer than DEPTH
        // workers would deadlock here.
        const DEPTH: usize = 24;
        fn nest(d: Arc<GrowingThreadPoolTaskDispatcher>, level: usize, done: mpsc::Sender<usize>) {
            if level == DEPTH {
                done.send(level).unwrap();
                return;
            }
            let (tx, rx) = mpsc::channel();
            let d2 = d.clone();
            d.dispatch(Box::new(move || nest(d2, level + 1, tx)));
            let deepest = rx.recv_timeout(Duration::from_secs(20)).unwrap();
            done.send(deepest).unwrap();
        }
        let d = Arc::new(GrowingThreadPoolTaskDispatcher::new());
        assert_eq!(d.workers(), 0);
        let (tx, rx) = mpsc::channel();
        let d2 = d.clone();
        d.dispatch(Box::new(move || nest(d2, 1, tx)));
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), DEPTH);
        assert!(d.workers() >= DEPTH, "{} workers", d.workers());
        d.shutdown();
    }

    #[test]
    fn growing_pool_reuses_idle_workers() {
        let d = GrowingThreadPoolTaskDispatcher::new();
        for _ in 0..20 {
            let (tx, rx) = mpsc::channel();
            d.dispatch(Box::new(move || tx.send(()).unwrap()));
            rx.recv_timeout(Duration::from_secs(10)).unwrap();
            // Let the worker get back to waiting before the next task.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while lock(&d.shared.state).waiting == 0 {
                assert!(std::time::Instant::now() < deadline);
                std::thread::yield_now();
            }
        }
        assert_eq!(d.workers(), 1);
    }

    #[test]
    fn growing_pool_prestarted_workers_take_the_first_tasks() {
        let d = GrowingThreadPoolTaskDispatcher::new();
        d.prestart(2).unwrap();
        assert_eq!(d.workers(), 2);
        d.prestart(1).unwrap();
        assert_eq!(d.workers(), 2, "never fewer, never more than asked");
        // Wait until both are idle, then two blocking tasks start no thread.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while lock(&d.shared.state).waiting < 2 {
            assert!(std::time::Instant::now() < deadline);
            std::thread::yield_now();
        }
        let (release, finished) = dispatch_blockers(&d, 2);
        assert_eq!(d.workers(), 2);
        drop(release);
        d.shutdown();
        assert_eq!(finished.load(Ordering::SeqCst), 2);
        d.prestart(5).unwrap();
        assert_eq!(d.workers(), 2, "nothing starts after shutdown");
    }

    #[test]
    fn growing_pool_shutdown_runs_or_drops_every_task_and_none_after() {
        let d = Arc::new(GrowingThreadPoolTaskDispatcher::new());
        let (ran, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        for _ in 0..100 {
            d.dispatch(probe_task(&ran, &dropped));
        }
        // Two blocked tasks still running when shutdown starts: shutdown
        // waits for them.
        let (release, finished) = dispatch_blockers(&*d, 2);
        for _ in 0..50 {
            d.dispatch(probe_task(&ran, &dropped));
        }
        let t = release_later(release);
        d.shutdown();
        assert_eq!(finished.load(Ordering::SeqCst), 2);
        t.join().unwrap();
        // Every probe task has run or been dropped (each is dropped once,
        // after running or instead of it), and nothing runs afterwards.
        let (r, x) = (ran.load(Ordering::SeqCst), dropped.load(Ordering::SeqCst));
        assert_eq!(x, 150);
        assert!((100..=150).contains(&r), "{r}");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(ran.load(Ordering::SeqCst), r);
        d.dispatch(probe_task(&ran, &dropped));
        assert_eq!(dropped.load(Ordering::SeqCst), 151);
        assert_eq!(ran.load(Ordering::SeqCst), r);
        d.shutdown();
    }

    #[test]
    fn growing_pool_drops_queued_tasks_at_shutdown() {
        // Tasks queued behind a busy worker (no new one could start) are
        // dropped by shutdown, not run.
        let d = GrowingThreadPoolTaskDispatcher::new();
        let (ran, dropped) = (Arc::default(), Arc::default());
        {
            let mut st = lock(&d.shared.state);
            for _ in 0..5 {
                st.unfinished += 1;
                st.queue.push_back(probe_task(&ran, &dropped));
            }
        }
        d.shutdown();
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(dropped.load(Ordering::SeqCst), 5);
        assert_eq!(d.workers(), 0);
    }

    #[test]
    fn growing_pool_shutdown_from_inside_a_task_does_not_deadlock() {
        check_shutdown_from_inside_a_task(Arc::new(GrowingThreadPoolTaskDispatcher::new()));
    }

    #[test]
    fn growing_pool_survives_a_panicking_task() {
        check_survives_a_panicking_task(&GrowingThreadPoolTaskDispatcher::new());
    }
}
