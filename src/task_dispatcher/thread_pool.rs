//! [`ThreadPoolTaskDispatcher`]: a fixed pool of worker threads.

use super::marker::{marked_depth, new_marker_id, run_marked};
use super::stack_size::default_stack_size;
use super::{lock_if_open, run_task, Task, TaskDispatcher};
use crate::sync::{lock, wait};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

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
/// [`GrowingThreadPoolTaskDispatcher`](super::GrowingThreadPoolTaskDispatcher)
/// when that depth is not bounded.
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{
        check_shutdown_from_inside_a_task, check_survives_a_panicking_task, dispatch_blockers,
        probe_task, release_later,
    };
    use super::*;
    use std::sync::atomic::Ordering;

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
        let d = ThreadPoolTaskDispatcher::with_stack_size(0, 64 << 10).unwrap();
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
}
