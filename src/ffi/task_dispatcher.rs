//! C API for TaskDispatchers: `orc_rt_TaskDispatcherRef` (in-place, fixed
//! thread pool, growing thread pool, or a C implementation given as function
//! pointers) and `orc_rt_TaskRef`.
//!
//! A dispatcher handle (Box ownership, see `ffi::handle`) is owned by
//! the caller until it is passed to `orc_rt_Session_create`, which consumes
//! it. A task handle is owned by the C dispatcher it was given to until
//! `orc_rt_Task_run` or `orc_rt_Task_dispose` consumes it.
//!
//! ```
//! use orc_rt::ffi::session::{
//!     orc_rt_Session_create, orc_rt_Session_destroy, orc_rt_Session_dispatch,
//! };
//! use orc_rt::ffi::task_dispatcher::{
//!     orc_rt_TaskDispatcherFunctions, orc_rt_TaskDispatcher_createCustom, orc_rt_TaskRef,
//!     orc_rt_Task_dispose, orc_rt_Task_run,
//! };
//! use std::os::raw::c_void;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Mutex;
//!
//! /// A C dispatcher that queues tasks until the host runs them.
//! static QUEUE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
//! unsafe extern "C" fn dispatch(_: *mut c_void, t: orc_rt_TaskRef) {
//!     QUEUE.lock().unwrap().push(t as usize);
//! }
//! unsafe extern "C" fn shutdown(_: *mut c_void) {
//!     // Tasks still queued are dropped, not run.
//!     let queued = std::mem::take(&mut *QUEUE.lock().unwrap());
//!     for t in queued {
//!         // SAFETY: each queued task is live and released exactly once.
//!         unsafe { orc_rt_Task_dispose(t as orc_rt_TaskRef) }
//!     }
//! }
//!
//! static RAN: AtomicUsize = AtomicUsize::new(0);
//! static DROPPED: AtomicUsize = AtomicUsize::new(0);
//! unsafe extern "C" fn run(_: *mut c_void) {
//!     RAN.fetch_add(1, Ordering::SeqCst);
//! }
//! unsafe extern "C" fn dispose(_: *mut c_void) {
//!     DROPPED.fetch_add(1, Ordering::SeqCst);
//! }
//!
//! let fns = |dispatch_fn| orc_rt_TaskDispatcherFunctions {
//!     Ctx: std::ptr::null_mut(),
//!     Dispatch: dispatch_fn,
//!     Shutdown: Some(shutdown),
//!     Destroy: None,
//! };
//! // Dispatch and Shutdown are required.
//! assert!(orc_rt_TaskDispatcher_createCustom(fns(None)).is_null());
//! let d = orc_rt_TaskDispatcher_createCustom(fns(Some(dispatch)));
//! // SAFETY: a fresh dispatcher handle, consumed by the Session.
//! let s = unsafe { orc_rt_Session_create(d) };
//! for _ in 0..2 {
//!     assert!(
//!         orc_rt_Session_dispatch(s, Some(run), Some(dispose), std::ptr::null_mut()).is_null()
//!     );
//! }
//! // The host runs one task...
//! let t = QUEUE.lock().unwrap().pop().unwrap();
//! // SAFETY: a live task from the queue, consumed here.
//! unsafe { orc_rt_Task_run(t as orc_rt_TaskRef) };
//! // ... and shutdown drops the other: each task gets exactly one of Run or
//! // Dispose.
//! orc_rt_Session_destroy(s);
//! assert_eq!(
//!     (RAN.load(Ordering::SeqCst), DROPPED.load(Ordering::SeqCst)),
//!     (1, 1)
//! );
//! ```

use std::os::raw::c_void;
use std::sync::Arc;

use super::error::{error_to_ref, orc_rt_ErrorRef};
use super::handle::{consume, create, destroy, report, Castable, OwnershipBox};
use super::panic::{ffi_boundary, null_default, FfiDefault};
use crate::handle::{HandleKind, HandleTable};
use crate::task_dispatcher::{
    default_stack_size, GrowingThreadPoolTaskDispatcher, InPlaceTaskDispatcher, Task,
    TaskDispatcher, ThreadPoolTaskDispatcher,
};
use crate::Error;

/// Opaque TaskDispatcher object (see `orc_rt_TaskDispatcherRef`).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct orc_rt_OpaqueTaskDispatcher {
    _private: [u8; 0],
}

/// Handle to a TaskDispatcher. Owned by the caller until consumed by
/// `orc_rt_Session_create` (or released with `orc_rt_TaskDispatcher_dispose`).
#[allow(non_camel_case_types)]
pub type orc_rt_TaskDispatcherRef = *mut orc_rt_OpaqueTaskDispatcher;

/// Opaque task object (see `orc_rt_TaskRef`).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct orc_rt_OpaqueTask {
    _private: [u8; 0],
}

/// Handle to one task handed to a C dispatcher. The dispatcher owns it and
/// must pass it to exactly one of `orc_rt_Task_run` or `orc_rt_Task_dispose`.
#[allow(non_camel_case_types)]
pub type orc_rt_TaskRef = *mut orc_rt_OpaqueTask;

/// A TaskDispatcher implemented in C.
///
/// `Dispatch(Ctx, T)` takes ownership of `T` and must eventually run it
/// (`orc_rt_Task_run`) or drop it (`orc_rt_Task_dispose`), on any thread.
/// `Shutdown(Ctx)` must stop accepting tasks (dispose those dispatched
/// later), run or dispose every queued task and wait for running ones; it is
/// called once by the Session, on the Session's shutdown thread. `Destroy`
/// (may be NULL) is called once when the dispatcher is released. All three
/// may be called from any thread; `Ctx` must allow that.
#[repr(C)]
#[allow(non_camel_case_types, non_snake_case)]
#[derive(Debug)]
pub struct orc_rt_TaskDispatcherFunctions {
    /// Context passed to every function.
    pub Ctx: *mut c_void,
    /// Runs or queues a task (required).
    pub Dispatch: Option<unsafe extern "C" fn(Ctx: *mut c_void, T: orc_rt_TaskRef)>,
    /// Shuts the dispatcher down (required).
    pub Shutdown: Option<unsafe extern "C" fn(Ctx: *mut c_void)>,
    /// Releases `Ctx` (optional).
    pub Destroy: Option<unsafe extern "C" fn(Ctx: *mut c_void)>,
}

struct CDispatcher {
    ctx: *mut c_void,
    dispatch: unsafe extern "C" fn(*mut c_void, orc_rt_TaskRef),
    shutdown: unsafe extern "C" fn(*mut c_void),
    destroy: Option<unsafe extern "C" fn(*mut c_void)>,
}

// SAFETY: the C implementer promises (documented on
// orc_rt_TaskDispatcherFunctions) that Ctx and the functions may be used from
// any thread.
unsafe impl Send for CDispatcher {}
// SAFETY: as above.
unsafe impl Sync for CDispatcher {}

static DISPATCHERS: HandleTable<Arc<dyn TaskDispatcher>> =
    HandleTable::new(HandleKind::TaskDispatcher);

impl Castable for orc_rt_OpaqueTaskDispatcher {
    type Ownership = OwnershipBox;
    type Value = Arc<dyn TaskDispatcher>;
    type Store = HandleTable<Arc<dyn TaskDispatcher>>;
    const NAME: &'static str = "orc_rt_TaskDispatcherRef";
    fn store() -> &'static Self::Store {
        &DISPATCHERS
    }
}

static TASKS: HandleTable<Task> = HandleTable::new(HandleKind::Task);

impl Castable for orc_rt_OpaqueTask {
    type Ownership = OwnershipBox;
    type Value = Task;
    type Store = HandleTable<Task>;
    const NAME: &'static str = "orc_rt_TaskRef";
    fn store() -> &'static Self::Store {
        &TASKS
    }
}

impl TaskDispatcher for CDispatcher {
    fn dispatch(&self, task: Task) {
        let t: orc_rt_TaskRef = create(task);
        // SAFETY: C implementer promise; `t` is a fresh owned task handle.
        unsafe { (self.dispatch)(self.ctx, t) }
    }
    fn shutdown(&self) {
        // SAFETY: C implementer promise.
        unsafe { (self.shutdown)(self.ctx) }
    }
}

impl Drop for CDispatcher {
    fn drop(&mut self) {
        if let Some(d) = self.destroy {
            // SAFETY: C implementer promise; called exactly once.
            unsafe { d(self.ctx) }
        }
    }
}

null_default!(orc_rt_TaskDispatcherRef);

fn to_ref(d: Arc<dyn TaskDispatcher>) -> orc_rt_TaskDispatcherRef {
    create(d)
}

/// Takes a dispatcher out of C's hands: `Ok(None)` for NULL, an error for
/// a handle that names no live dispatcher.
pub(crate) fn take_dispatcher(
    d: orc_rt_TaskDispatcherRef,
) -> crate::Result<Option<Arc<dyn TaskDispatcher>>> {
    consume(d)
}

/// Creates a dispatcher that runs each task at once on the dispatching
/// thread. The caller owns the result. Never fails.
#[no_mangle]
pub extern "C" fn orc_rt_InPlaceTaskDispatcher_create() -> orc_rt_TaskDispatcherRef {
    ffi_boundary!("orc_rt_InPlaceTaskDispatcher_create", {
        to_ref(Arc::new(InPlaceTaskDispatcher::new()))
    })
}

/// Creates a thread-pool dispatcher with `NumThreads` workers (0 means one
/// per available CPU, as `ThreadPoolTaskDispatcher::new(0)` in Rust) and
/// stores it in `*Result` (owned by the caller).
/// Returns an error (and stores NULL) if `Result` is NULL or a worker thread
/// cannot be started.
///
/// A fixed pool deadlocks when more tasks block on other tasks than it has
/// workers, which is what nested controller calls do (JIT'd code calling
/// the controller, which calls back in before answering). To serve a
/// controller (`orc_rt_Session_attachSimpleRemoteEPC`), use
/// `orc_rt_GrowingThreadPoolTaskDispatcher_create` instead.
///
/// # Safety
/// `Result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_ThreadPoolTaskDispatcher_create(
    NumThreads: usize,
    Result: *mut orc_rt_TaskDispatcherRef,
) -> orc_rt_ErrorRef {
    // SAFETY: forwarded caller promise on Result.
    unsafe { orc_rt_ThreadPoolTaskDispatcher_createWithStackSize(NumThreads, 0, Result) }
}

/// Like `orc_rt_ThreadPoolTaskDispatcher_create`, with worker stacks of
/// `StackSize` bytes (0: the default, what a process's main thread gets:
/// `ORC_RT_STACK_SIZE` if set, else the soft `RLIMIT_STACK`, else 8 MiB).
/// JIT'd code run by the workers expects a main thread's stack; each stack
/// has a guard page, so an overflow is a SIGSEGV.
///
/// # Safety
/// `Result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_ThreadPoolTaskDispatcher_createWithStackSize(
    NumThreads: usize,
    StackSize: usize,
    Result: *mut orc_rt_TaskDispatcherRef,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_ThreadPoolTaskDispatcher_createWithStackSize", {
        if Result.is_null() {
            return error_to_ref(Error::msg(
                "orc_rt_ThreadPoolTaskDispatcher_create: Result is NULL",
            ));
        }
        // SAFETY: caller promise: Result is writable.
        unsafe { Result.write(std::ptr::null_mut()) };
        let stack = if StackSize == 0 {
            default_stack_size()
        } else {
            StackSize
        };
        let pool = ThreadPoolTaskDispatcher::with_stack_size(NumThreads, stack);
        match pool {
            Ok(p) => {
                // SAFETY: as above.
                unsafe { Result.write(to_ref(Arc::new(p))) };
                std::ptr::null_mut()
            }
            Err(e) => error_to_ref(e),
        }
    })
}

/// Creates a dispatcher whose worker threads are started on demand (one more
/// whenever a task arrives and every worker is busy), reused, and never
/// exit. The caller owns the result. Never fails (no thread starts until
/// the first task; if one cannot be started later, the task waits for a
/// busy worker and an error is logged).
///
/// This is the dispatcher for hosts of `orc_rt_Session_attachSimpleRemoteEPC`
/// (it is what `orc-rt-executor` uses): controller calls nest without limit,
/// so a bounded pool can deadlock; and a thread that ran JIT'd code may hold
/// thread-local destructors of that code, which would crash if the thread
/// exited after the code was released, so workers stay parked until the
/// process exits, even after the dispatcher is shut down or disposed. Do
/// not create one per short-lived Session in a long-running process.
///
/// Shutdown (by the Session, or `orc_rt_TaskDispatcher_dispose`) drops the
/// queued tasks and waits for the running ones. Any thread may call this.
#[no_mangle]
pub extern "C" fn orc_rt_GrowingThreadPoolTaskDispatcher_create() -> orc_rt_TaskDispatcherRef {
    ffi_boundary!("orc_rt_GrowingThreadPoolTaskDispatcher_create", {
        to_ref(Arc::new(GrowingThreadPoolTaskDispatcher::new()))
    })
}

/// Like `orc_rt_GrowingThreadPoolTaskDispatcher_create`, with worker stacks
/// of `StackSize` bytes (0: the default, see
/// `orc_rt_ThreadPoolTaskDispatcher_createWithStackSize`). Any thread.
#[no_mangle]
pub extern "C" fn orc_rt_GrowingThreadPoolTaskDispatcher_createWithStackSize(
    StackSize: usize,
) -> orc_rt_TaskDispatcherRef {
    ffi_boundary!(
        "orc_rt_GrowingThreadPoolTaskDispatcher_createWithStackSize",
        {
            let d = if StackSize == 0 {
                GrowingThreadPoolTaskDispatcher::new()
            } else {
                GrowingThreadPoolTaskDispatcher::with_stack_size(StackSize)
            };
            to_ref(Arc::new(d))
        }
    )
}

/// Creates a dispatcher from C functions (see
/// `orc_rt_TaskDispatcherFunctions`). Returns NULL if `Dispatch` or
/// `Shutdown` is NULL. The caller owns the result; `Destroy(Ctx)` runs when
/// the dispatcher is released.
#[no_mangle]
pub extern "C" fn orc_rt_TaskDispatcher_createCustom(
    Fns: orc_rt_TaskDispatcherFunctions,
) -> orc_rt_TaskDispatcherRef {
    ffi_boundary!("orc_rt_TaskDispatcher_createCustom", {
        let (Some(dispatch), Some(shutdown)) = (Fns.Dispatch, Fns.Shutdown) else {
            report(
                "orc_rt_TaskDispatcher_createCustom",
                Error::msg("Dispatch and Shutdown are required"),
            );
            return std::ptr::null_mut();
        };
        to_ref(Arc::new(CDispatcher {
            ctx: Fns.Ctx,
            dispatch,
            shutdown,
            destroy: Fns.Destroy,
        }))
    })
}

/// Releases a dispatcher that was not passed to `orc_rt_Session_create`
/// (shutting it down if it is a thread pool). Blocks until a fixed thread
/// pool's workers have exited, or a growing pool's running tasks have
/// finished (its workers stay parked).
#[no_mangle]
pub extern "C" fn orc_rt_TaskDispatcher_dispose(D: orc_rt_TaskDispatcherRef) {
    ffi_boundary!("orc_rt_TaskDispatcher_dispose", {
        destroy(D, "orc_rt_TaskDispatcher_dispose");
    })
}

/// Runs task `T` and releases it (consumes `T`). Call from any thread; a
/// panic inside the task is caught and printed.
///
/// # Safety
/// Any value of `T` is accepted (handles are checked).
// (`unsafe` only so that existing Rust callers compile unchanged.)
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Task_run(T: orc_rt_TaskRef) {
    ffi_boundary!("orc_rt_Task_run", {
        match consume(T) {
            Ok(Some(task)) => task(),
            Ok(None) => {}
            Err(bad) => report("orc_rt_Task_run", bad),
        }
    })
}

/// Releases task `T` without running it (consumes `T`): whatever it
/// captured is released; an incoming call it carried is answered with an
/// out-of-band error. Any thread.
///
/// # Safety
/// Any value of `T` is accepted (handles are checked).
// (`unsafe` only so that existing Rust callers compile unchanged.)
#[no_mangle]
pub unsafe extern "C" fn orc_rt_Task_dispose(T: orc_rt_TaskRef) {
    ffi_boundary!("orc_rt_Task_dispose", {
        destroy(T, "orc_rt_Task_dispose");
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// How many tasks of `d` run at once: dispatches `probe` tasks that
    /// each block until released, and counts those that start.
    fn concurrent_workers(d: &dyn TaskDispatcher, probe: usize) -> usize {
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
        for _ in 0..probe {
            let (tx, rx) = (started_tx.clone(), release_rx.clone());
            d.dispatch(Box::new(move || {
                tx.send(()).unwrap();
                let _ = crate::sync::lock(&rx).recv_timeout(Duration::from_secs(10));
            }));
        }
        let mut n = 0;
        // The first start may take a while on a loaded machine; once the
        // pool is saturated, nothing more starts.
        let mut wait = Duration::from_secs(10);
        while started_rx.recv_timeout(wait).is_ok() {
            n += 1;
            wait = Duration::from_millis(300);
        }
        drop(release_tx);
        n
    }

    #[test]
    fn zero_threads_means_one_per_cpu_as_in_rust() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        for n in [0, 1] {
            let mut d = std::ptr::null_mut();
            // SAFETY: `d` is writable.
            let e = unsafe { orc_rt_ThreadPoolTaskDispatcher_create(n, &mut d) };
            assert!(e.is_null());
            let d = take_dispatcher(d).unwrap().unwrap();
            let want = if n == 0 { cpus } else { n };
            assert_eq!(concurrent_workers(&*d, cpus + 1), want, "NumThreads {n}");
            assert_eq!(
                ThreadPoolTaskDispatcher::new(n).unwrap().num_threads(),
                want
            );
            d.shutdown();
        }
    }
}
