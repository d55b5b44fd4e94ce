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
    if let Err(p) = crate::error::catch_panic(task) {
        // Sessions catch their tasks' panics and report them themselves;
        // this is the last resort for tasks dispatched directly.
        crate::error::report_unowned(crate::Error::from_panic("a task", p));
    }
}

use crate::sync::{lock, wait};

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

struct PoolState {
    queue: VecDeque<Task>,
    shut_down: bool,
    running: usize,
    /// Workers blocked waiting for work (notify only when there is one: a
    /// notify is a futex syscall even with nobody waiting).
    waiting: usize,
    /// Threads blocked in `shutdown` waiting for the pool to go idle.
    idle_waiters: usize,
}

/// The default stack of a thread that may run JIT'd code: what the
/// process's main thread would get (8 MiB when that is unlimited or out of
/// range).
const FALLBACK_STACK_SIZE: usize = 8 << 20;
/// Limits of a reasonable stack size.
const MIN_STACK_SIZE: usize = 64 << 10;
const MAX_STACK_SIZE: usize = 1 << 30;

/// Parses a size in bytes with an optional `K`, `M` or `G` suffix
/// (powers of 1024).
fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1 << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<usize>().ok()?.checked_mul(mult)
}

/// The stack size of the threads that run tasks (and so JIT'd code, which
/// expects the stack of a process's main thread):
///
/// 1. `ORC_RT_STACK_SIZE` if set to a size between 64 KiB and 1 GiB
///    (bytes, or with a `K`/`M`/`G` suffix, e.g. `16M`);
/// 2. otherwise the soft `RLIMIT_STACK` (`ulimit -s`), if between 64 KiB
///    and 1 GiB;
/// 3. otherwise 8 MiB.
///
/// Every such thread has a guard page below its stack, so an overflow is a
/// SIGSEGV, as in a native program. Embedders choose another size with
/// [`ThreadPoolTaskDispatcher::with_stack_size`] or
/// [`GrowingThreadPoolTaskDispatcher::with_stack_size`].
pub fn default_stack_size() -> usize {
    let in_range = |n: usize| (MIN_STACK_SIZE..=MAX_STACK_SIZE).contains(&n).then_some(n);
    if let Some(n) = std::env::var("ORC_RT_STACK_SIZE")
        .ok()
        .and_then(|v| parse_size(&v))
        .and_then(in_range)
    {
        return n;
    }
    crate::sys::stack::soft_stack_limit()
        .and_then(|n| usize::try_from(n).ok())
        .and_then(in_range)
        .unwrap_or(FALLBACK_STACK_SIZE)
}

struct PoolShared {
    id: usize,
    state: Mutex<PoolState>,
    work: Condvar,
    idle: Condvar,
}

/// Runs tasks on a fixed number of worker threads, first in first out.
///
/// A fixed size can deadlock when tasks block on other tasks of the same
/// pool: with `n` workers, `n` tasks each waiting for a result that only a
/// queued task would produce never finish. Calls from a controller nest
/// that way (JIT'd code running in an incoming call calls the controller,
/// which calls back into the executor before answering), so a pool serving
/// a controller needs more workers than the deepest nesting; use
/// [`GrowingThreadPoolTaskDispatcher`] when that depth is not bounded.
///
/// Shutdown drops the tasks still queued (outside any lock, so their
/// destructors may dispatch or reply freely), waits for running tasks to
/// finish and joins the workers (except the calling one, if shutdown is
/// requested from inside a task).
pub struct ThreadPoolTaskDispatcher {
    shared: Arc<PoolShared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for ThreadPoolTaskDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let threads = self.num_threads();
        let st = lock(&self.shared.state);
        f.debug_struct("ThreadPoolTaskDispatcher")
            .field("threads", &threads)
            .field("queued", &st.queue.len())
            .field("running", &st.running)
            .field("shut_down", &st.shut_down)
            .finish()
    }
}

impl ThreadPoolTaskDispatcher {
    /// Creates a pool of `num_threads` workers, each with
    /// [`default_stack_size`]. `0` means one worker per available CPU
    /// (`std::thread::available_parallelism`, 1 if unknown), as
    /// `orc_rt_ThreadPoolTaskDispatcher_create(0, ..)` does in C.
    ///
    /// ```
    /// use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
    /// let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    /// assert_eq!(ThreadPoolTaskDispatcher::new(0).unwrap().num_threads(), cpus);
    /// assert_eq!(ThreadPoolTaskDispatcher::new(3).unwrap().num_threads(), 3);
    /// ```
    pub fn new(num_threads: usize) -> crate::Result<Self> {
        Self::with_stack_size(num_threads, default_stack_size())
    }

    /// Creates a pool of `num_threads` workers (`0`: one per available CPU,
    /// as in [`ThreadPoolTaskDispatcher::new`]) whose stacks are
    /// `stack_size` bytes (rounded up to whole pages by the system).
    pub fn with_stack_size(num_threads: usize, stack_size: usize) -> crate::Result<Self> {
        let num_threads = match num_threads {
            0 => available_cpus(),
            n => n,
        };
        let shared = Arc::new(PoolShared {
            id: new_marker_id(),
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                shut_down: false,
                running: 0,
                waiting: 0,
                idle_waiters: 0,
            }),
            work: Condvar::new(),
            idle: Condvar::new(),
        });
        let pool = ThreadPoolTaskDispatcher {
            shared,
            workers: Mutex::new(Vec::new()),
        };
        for i in 0..num_threads {
            let shared = pool.shared.clone();
            let h = std::thread::Builder::new()
                .name(format!("orc-rt-worker-{i}"))
                .stack_size(stack_size)
                .spawn(move || worker_loop(&shared))
                .map_err(|e| crate::Error::io(format!("spawning worker thread {i}"), e))?;
            lock(&pool.workers).push(h);
        }
        Ok(pool)
    }

    /// Creates a pool with one worker per available CPU
    /// (`std::thread::available_parallelism`, 1 if unknown); the same as
    /// `new(0)`.
    pub fn with_default_threads() -> crate::Result<Self> {
        Self::new(0)
    }

    /// Number of worker threads the pool was started with (its workers
    /// are joined at shutdown, after which this is 0).
    pub fn num_threads(&self) -> usize {
        lock(&self.workers).len()
    }

    /// Number of tasks waiting in the queue (for tests and diagnostics).
    pub fn queued(&self) -> usize {
        lock(&self.shared.state).queue.len()
    }
}

/// One per available CPU (1 if that cannot be known).
fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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
            if st.running == 0 && st.idle_waiters > 0 {
                shared.idle.notify_all();
            }
            continue;
        }
        if st.shut_down {
            return;
        }
        st.waiting += 1;
        st = wait(&shared.work, st);
        st.waiting -= 1;
    }
}

impl TaskDispatcher for ThreadPoolTaskDispatcher {
    fn dispatch(&self, task: Task) {
        let Some((mut st, task)) = lock_if_open(&self.shared.state, task, |s| s.shut_down) else {
            return;
        };
        st.queue.push_back(task);
        let wake = st.waiting > 0;
        drop(st);
        if wake {
            self.shared.work.notify_one();
        }
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
                st.idle_waiters += 1;
                st = wait(&self.shared.idle, st);
                st.idle_waiters -= 1;
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
///   size (see [`ThreadPoolTaskDispatcher`]).
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

    /// Dispatches `n` tasks that block until the returned sender is
    /// dropped, and returns once all of them have started. The counter
    /// counts those that have finished.
    fn dispatch_blockers(d: &dyn TaskDispatcher, n: usize) -> (mpsc::Sender<()>, Arc<AtomicUsize>) {
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
    fn release_later(release: mpsc::Sender<()>) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(release);
        })
    }

    /// A task that shuts its own dispatcher down returns, and so does a
    /// second shutdown.
    fn check_shutdown_from_inside_a_task(d: Arc<dyn TaskDispatcher>) {
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
    fn check_survives_a_panicking_task(d: &dyn TaskDispatcher) {
        d.dispatch(Box::new(|| panic!("task panic (expected in this test)")));
        let (tx, rx) = mpsc::channel();
        d.dispatch(Box::new(move || tx.send(7).unwrap()));
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 7);
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
        let (release, _) = dispatch_blockers(&d, 2);
        for _ in 0..50 {
            d.dispatch(probe_task(&ran, &dropped));
        }
        let t = release_later(release);
        d.shutdown();
        t.join().unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 100);
        assert_eq!(dropped.load(Ordering::SeqCst), 150);
        d.dispatch(probe_task(&ran, &dropped));
        assert_eq!(dropped.load(Ordering::SeqCst), 151);
        assert_eq!(ran.load(Ordering::SeqCst), 100);
    }

    #[test]
    fn pool_of_zero_threads_has_one_per_cpu() {
        let cpus = available_cpus();
        let d = ThreadPoolTaskDispatcher::new(0).unwrap();
        assert_eq!(d.num_threads(), cpus);
        // All of them really run tasks at once.
        let (release, _) = dispatch_blockers(&d, cpus);
        drop(release);
        d.shutdown();
        assert_eq!(d.num_threads(), 0);
        let d = ThreadPoolTaskDispatcher::with_stack_size(0, MIN_STACK_SIZE).unwrap();
        assert_eq!(d.num_threads(), cpus);
        assert_eq!(ThreadPoolTaskDispatcher::new(1).unwrap().num_threads(), 1);
    }

    #[test]
    fn pool_shutdown_from_inside_a_task_does_not_deadlock() {
        check_shutdown_from_inside_a_task(Arc::new(ThreadPoolTaskDispatcher::new(3).unwrap()));
    }

    #[test]
    fn pool_survives_a_panicking_task() {
        check_survives_a_panicking_task(&ThreadPoolTaskDispatcher::new(1).unwrap());
    }

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
