//! Session: the root object of a JIT'd program.
//!
//! A Session owns the TaskDispatcher, the Services and (once attached) the
//! ControllerAccess. Its lifecycle is one state machine under one mutex:
//! `Running → ShuttingDown → ShutDown` for the Session and
//! `Unattached → Attached → Disconnecting → Detaching → Detached` for the
//! controller connection. Nothing is called out (services, callbacks, the
//! controller) while the mutex is held.
//!
//! Detach happens exactly once, whoever starts it (the user with
//! [`Session::detach`], the controller through
//! [`Session::notify_disconnected`], or shutdown). Services are told with
//! `on_detach` in reverse order of addition, one after the other.
//!
//! Shutdown ([`Session::shutdown`]) runs on a dedicated thread, so it may be
//! requested from anywhere (a task, a Service callback, a completion
//! callback) without deadlock: it stops accepting incoming calls, detaches,
//! waits until every in-flight incoming call has replied and every
//! [`ManagedCodeToken`] is released, calls `on_shutdown` on the Services in
//! reverse order of addition (waiting for each), shuts the TaskDispatcher
//! down (queued tasks are dropped), then runs the completion callbacks.
//! Errors go to the error reporter. Dropping the last `Arc<Session>` shuts
//! down and waits (unless that happens inside one of the Session's own tasks
//! or lifecycle callbacks, where waiting would deadlock).
//!
//! Every Session has a [`Handle`] ([`Session::handle`]), checked by slot
//! and generation, so a stale or bogus reference (the C API's
//! `orc_rt_SessionRef` is this handle) is refused rather than dereferenced.
//!
//! ```
//! use std::sync::Arc;
//! use orc_rt::session::Session;
//! use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
//!
//! let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
//! assert!(Session::from_handle(s.handle()).is_some());
//! s.shutdown_and_wait().unwrap();
//! assert!(s.is_shut_down());
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, Weak};
use std::thread::JoinHandle;

use crate::controller_access::{ControllerAccess, HandlerTag, OnCallControllerCompleteFn};
use crate::handle::{Handle, HandleKind, HandleTable};
use crate::service::Service;
use crate::sps::{SpsDeserialize, SpsSerialize};
use crate::sync::{lock as lock_any, read, wait, write};
use crate::task_dispatcher::{marked_depth, new_marker_id, run_marked, Task, TaskDispatcher};
use crate::wrapper_function::handler::{decode_sps_result, reply_channel, Responder};
use crate::wrapper_function::serialize_to_buffer;
use crate::wrapper_function::IncomingCall;
use crate::{Error, Result, WrapperFunctionBuffer};

/// Receives errors nobody else can return.
pub type ErrorReporterFn = Box<dyn Fn(Error) + Send + Sync + 'static>;

/// Called once when shutdown (or detach) completes.
pub type OnCompleteFn = Box<dyn FnOnce() + Send + 'static>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    ShuttingDown,
    ShutDown,
}

enum Conn {
    /// No controller yet.
    Unattached,
    /// Serving a controller.
    Attached(Arc<dyn ControllerAccess>),
    /// `disconnect` requested; waiting for `notify_disconnected`.
    Disconnecting,
    /// Services are being told (`on_detach`).
    Detaching,
    /// Detach complete.
    Detached,
}

impl Conn {
    fn is_detached_or_detaching(&self) -> bool {
        matches!(self, Conn::Detaching | Conn::Detached)
    }
}

struct State {
    phase: Phase,
    conn: Conn,
    /// The controller last attached, kept to reply to refused calls.
    ca: Option<Arc<dyn ControllerAccess>>,
    services: Vec<Arc<dyn Service>>,
    /// Set when shutdown snapshots the services: no more may be added.
    services_closed: bool,
    /// `shutdown_requested` of the detach round, once it started.
    detach_shutdown_requested: Option<bool>,
    /// In-flight incoming calls plus live [`ManagedCodeToken`]s.
    tokens: usize,
    /// Threads blocked on `drain_cv` waiting for `tokens` to reach 0. The
    /// last token wakes them only when there is one: a notify costs a futex
    /// syscall (and a wake-up of whoever sleeps on the condvar) per call.
    drain_waiters: usize,
    detach_cbs: Vec<OnCompleteFn>,
    shutdown_cbs: Vec<OnCompleteFn>,
    /// The last `Arc<Session>` is gone: the controller can no longer reach
    /// `notify_disconnected`, so the Session completes the detach itself.
    owner_gone: bool,
    /// Calls to the controller still waiting for their result, by number;
    /// shutdown fails those left when the controller has detached.
    outbound: HashMap<u64, OnCallControllerCompleteFn>,
    next_outbound: u64,
    /// Dropping the last `Arc<Session>` waits for shutdown to complete
    /// (cleared when [`Session::shutdown_and_wait_timeout`] gives up).
    wait_on_drop: bool,
}

/// Shared state; kept alive by the Session, its lifecycle threads, and
/// in-flight calls.
pub(crate) struct Inner {
    /// This Session's entry in [`SESSIONS`].
    handle: Handle,
    /// Marks tasks run for this Session ([`run_marked`]).
    task_marker: usize,
    /// Marks the Session's lifecycle threads (detach, shutdown).
    lifecycle_marker: usize,
    dispatcher: Arc<dyn TaskDispatcher>,
    reporter: RwLock<Arc<dyn Fn(Error) + Send + Sync + 'static>>,
    state: Mutex<State>,
    cv: Condvar,
    /// Signalled when `tokens` reaches 0 while `drain_waiters > 0`.
    drain_cv: Condvar,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// The process that created the Session.
    owner_pid: u32,
    /// The fork generation at creation (`None`: forks go unnoticed).
    fork_gen: Option<u64>,
}

/// The root object of a JIT'd program (shared as `Arc<Session>`).
///
/// # Blocking
///
/// **Dropping the last `Arc<Session>` blocks until shutdown has
/// completed**, and shutdown waits for every incoming call to be answered,
/// every [`ManagedCodeToken`] to be released and every Service's
/// `on_shutdown` to complete. A handler that keeps its [`Responder`] (or
/// a native wrapper function that never calls its return function) makes
/// that drop, and [`Session::shutdown_and_wait`], block forever. To bound
/// the wait, call [`Session::shutdown_and_wait_timeout`] first: on timeout
/// it returns an error and the drop no longer waits. The drop does not
/// wait either when it happens inside one of the Session's own tasks or
/// lifecycle callbacks.
///
/// # Fork
///
/// A Session belongs to the process that created it: its dispatcher's
/// worker threads and lifecycle threads exist only there. In a child
/// forked afterwards (without `exec`), every call that would need them
/// (incoming calls, [`Session::call_controller`], [`Session::dispatch`],
/// shutdown, waits, attach, adding a Service) fails at once with
/// [`Error::ForkedChild`], which names both processes, instead of waiting
/// forever; calls that can only report an error send it to the error
/// reporter. Dropping the inherited Session in the child leaks it. Create
/// a new Session in the child if it needs one.
pub struct Session {
    inner: Arc<Inner>,
}

/// Shows the handle, the owning process and, unless the state is locked
/// right now, the lifecycle phase.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Session");
        d.field("handle", &self.inner.handle)
            .field("owner_pid", &self.inner.owner_pid);
        if let Ok(st) = self.inner.state.try_lock() {
            d.field("phase", &st.phase)
                .field("detached", &matches!(st.conn, Conn::Detached));
        }
        d.finish_non_exhaustive()
    }
}

/// Proof that managed code (JIT'd code, or code run for it) is executing:
/// shutdown waits until every token is dropped before it shuts Services
/// down. Get one from [`Session::managed_code_token`].
pub struct ManagedCodeToken {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ManagedCodeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedCodeToken")
            .field("session", &self.inner.handle)
            .finish()
    }
}

impl Drop for ManagedCodeToken {
    fn drop(&mut self) {
        let mut st = self.inner.lock();
        st.tokens -= 1;
        if st.tokens == 0 && st.drain_waiters > 0 {
            self.inner.drain_cv.notify_all();
        }
    }
}

/// Every live Session, by handle.
static SESSIONS: HandleTable<Weak<Session>> = HandleTable::new(HandleKind::Session);

fn catch<R>(what: &str, f: impl FnOnce() -> R) -> std::result::Result<R, Error> {
    crate::error::catch_panic(f).map_err(|p| Error::from_panic(what, p))
}

impl Drop for Inner {
    fn drop(&mut self) {
        SESSIONS.remove(self.handle);
    }
}

impl Inner {
    /// Fails in a child forked after the Session was created, where its
    /// threads do not exist. Checked before taking any lock: one held by a
    /// parent's thread at the fork stays held forever in the child.
    fn check_process(&self) -> Result<()> {
        match self.fork_gen {
            Some(g) if g != crate::sys::fork::generation() => Err(Error::ForkedChild {
                owner_pid: self.owner_pid,
                pid: std::process::id(),
            }),
            _ => Ok(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock_any(&self.state)
    }

    fn wait<'a>(&self, g: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        wait(&self.cv, g)
    }

    pub(crate) fn report_error(&self, err: Error) {
        let r = read(&self.reporter).clone();
        if let Err(p) = catch("error reporter", || r(err)) {
            crate::error::report_unowned(p);
        }
    }

    fn run_callbacks(&self, what: &str, cbs: Vec<OnCompleteFn>) {
        for cb in cbs {
            if let Err(e) = catch(what, cb) {
                self.report_error(e);
            }
        }
    }

    /// Calls one Service notification and blocks until it completes
    /// (lifecycle threads only). A panic or a dropped completion becomes an
    /// error.
    fn call_service(
        &self,
        what: &str,
        f: impl FnOnce(crate::service::OnCompleteFn),
    ) -> std::result::Result<(), Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        catch(what, || {
            f(Box::new(move |r| {
                let _ = tx.send(r);
            }))
        })?;
        rx.recv().unwrap_or_else(|_| {
            Err(Error::msg(format!(
                "{what}: the service dropped its completion callback without calling it"
            )))
        })
    }

    fn spawn_lifecycle(self: &Arc<Self>, name: &str, f: impl FnOnce(&Arc<Inner>) + Send + 'static) {
        let me = self.clone();
        let marker = self.lifecycle_marker;
        // Lifecycle threads run Services' notifications, which may run
        // JIT'd code (deinitializers): they get the stack such code expects.
        let spawned = std::thread::Builder::new()
            .name(name.to_string())
            .stack_size(crate::task_dispatcher::default_stack_size())
            .spawn(move || run_marked(marker, || f(&me)));
        match spawned {
            Ok(h) => lock_any(&self.threads).push(h),
            Err(e) => {
                // Never silently stall the lifecycle: report and fail loudly.
                self.report_error(Error::io(format!("spawning session thread {name}"), e));
                std::process::abort();
            }
        }
    }

    /// Runs the detach round: Services' `on_detach` in reverse order, then
    /// the detach completion callbacks.
    fn run_detach_round(&self, shutdown_requested: bool) {
        let services = self.lock().services.clone();
        for s in services.iter().rev() {
            if let Err(e) = self.call_service("Service::on_detach", |done| {
                s.on_detach(done, shutdown_requested)
            }) {
                self.report_error(e);
            }
        }
        // Completion callbacks run before the state says Detached, so a
        // waiter that wakes (or a later `detach`) sees them done.
        loop {
            let cbs = {
                let mut st = self.lock();
                if st.detach_cbs.is_empty() {
                    st.conn = Conn::Detached;
                    self.cv.notify_all();
                    return;
                }
                std::mem::take(&mut st.detach_cbs)
            };
            self.run_callbacks("detach completion callback", cbs);
        }
    }

    /// The controller is gone: start the detach round (once).
    fn handle_disconnect(self: &Arc<Self>) {
        let sr = {
            let mut st = self.lock();
            match st.conn {
                Conn::Attached(_) | Conn::Disconnecting => {
                    let sr = st.phase != Phase::Running;
                    st.conn = Conn::Detaching;
                    st.detach_shutdown_requested = Some(sr);
                    sr
                }
                _ => return,
            }
        };
        self.spawn_lifecycle("orc-rt-detach", move |me| me.run_detach_round(sr));
    }

    fn detach(self: &Arc<Self>, on_complete: Option<OnCompleteFn>) {
        if let Err(e) = self.check_process() {
            return self.report_error(e);
        }
        let mut st = self.lock();
        match &st.conn {
            Conn::Detached => {
                drop(st);
                if let Some(cb) = on_complete {
                    self.run_callbacks("detach completion callback", vec![cb]);
                }
            }
            Conn::Detaching | Conn::Disconnecting => {
                st.detach_cbs.extend(on_complete);
            }
            Conn::Unattached => {
                st.detach_cbs.extend(on_complete);
                let sr = st.phase != Phase::Running;
                st.conn = Conn::Detaching;
                st.detach_shutdown_requested = Some(sr);
                drop(st);
                self.spawn_lifecycle("orc-rt-detach", move |me| me.run_detach_round(sr));
            }
            Conn::Attached(ca) => {
                let ca = ca.clone();
                st.detach_cbs.extend(on_complete);
                st.conn = Conn::Disconnecting;
                drop(st);
                ca.disconnect();
            }
        }
    }

    fn shutdown(self: &Arc<Self>, on_complete: Option<OnCompleteFn>) {
        if let Err(e) = self.check_process() {
            return self.report_error(e);
        }
        let mut st = self.lock();
        match st.phase {
            Phase::ShutDown => {
                drop(st);
                if let Some(cb) = on_complete {
                    self.run_callbacks("shutdown completion callback", vec![cb]);
                }
            }
            Phase::ShuttingDown => st.shutdown_cbs.extend(on_complete),
            Phase::Running => {
                st.shutdown_cbs.extend(on_complete);
                st.phase = Phase::ShuttingDown;
                drop(st);
                self.spawn_lifecycle("orc-rt-shutdown", |me| me.run_shutdown());
            }
        }
    }

    /// The shutdown sequence (on its own thread).
    fn run_shutdown(&self) {
        // 1. Detach.
        let mut st = self.lock();
        match &st.conn {
            Conn::Unattached => {
                st.conn = Conn::Detaching;
                st.detach_shutdown_requested = Some(true);
                drop(st);
                self.run_detach_round(true);
            }
            Conn::Attached(ca) => {
                let ca = ca.clone();
                st.conn = Conn::Disconnecting;
                drop(st);
                if let Err(e) = catch("ControllerAccess::disconnect", || ca.disconnect()) {
                    self.report_error(e);
                }
            }
            _ => drop(st),
        }
        let mut st = self.lock();
        loop {
            match st.conn {
                Conn::Detached => break,
                Conn::Disconnecting if st.owner_gone => {
                    // Nobody can call notify_disconnected any more.
                    st.conn = Conn::Detaching;
                    st.detach_shutdown_requested = Some(true);
                    drop(st);
                    self.run_detach_round(true);
                    st = self.lock();
                }
                _ => st = self.wait(st),
            }
        }
        // Calls to the controller still unanswered never will be now: fail
        // them, so nobody waits on (or is later called for) this Session.
        let outbound: Vec<_> = st.outbound.drain().map(|(_, f)| f).collect();
        drop(st);
        for f in outbound {
            let msg = "session is shutting down: the controller call was not answered";
            if let Err(e) = catch("controller call completion", || {
                f(WrapperFunctionBuffer::out_of_band_error(msg))
            }) {
                self.report_error(e);
            }
        }
        let mut st = self.lock();
        // 2. Drain in-flight calls and managed code.
        while st.tokens > 0 {
            st.drain_waiters += 1;
            st = wait(&self.drain_cv, st);
            st.drain_waiters -= 1;
        }
        // 3. Services, in reverse order of addition.
        st.services_closed = true;
        let services = st.services.clone();
        drop(st);
        for s in services.iter().rev() {
            if let Err(e) = self.call_service("Service::on_shutdown", |done| s.on_shutdown(done)) {
                self.report_error(e);
            }
        }
        // 4. The dispatcher: queued tasks are dropped.
        if let Err(e) = catch("TaskDispatcher::shutdown", || self.dispatcher.shutdown()) {
            self.report_error(e);
        }
        // 5. Other lifecycle threads have finished their work; join them.
        let me = std::thread::current().id();
        let others: Vec<_> = {
            let mut t = lock_any(&self.threads);
            let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut *t)
                .into_iter()
                .partition(|h| h.thread().id() == me);
            *t = mine;
            others
        };
        for h in others {
            let _ = h.join();
        }
        // 6. Completion callbacks, then ShutDown.
        loop {
            let mut st = self.lock();
            if st.shutdown_cbs.is_empty() {
                // The controller stays referenced (no cycle: it holds a
                // Weak) so late incoming calls still get their refusal.
                st.phase = Phase::ShutDown;
                self.cv.notify_all();
                return;
            }
            let cbs = std::mem::take(&mut st.shutdown_cbs);
            drop(st);
            self.run_callbacks("shutdown completion callback", cbs);
        }
    }

    fn in_own_context(&self) -> bool {
        marked_depth(self.task_marker) > 0 || marked_depth(self.lifecycle_marker) > 0
    }

    fn wait_for_shutdown(&self) -> Result<()> {
        self.check_process()?;
        if self.in_own_context() {
            return Err(Error::msg(
                "wait_for_shutdown called from one of the session's own tasks or lifecycle \
                 callbacks: not waiting, it would deadlock",
            ));
        }
        let mut st = self.lock();
        while st.phase != Phase::ShutDown {
            st = self.wait(st);
        }
        drop(st);
        let me = std::thread::current().id();
        let threads = std::mem::take(&mut *lock_any(&self.threads));
        for h in threads {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
        Ok(())
    }

    fn dispatch(self: &Arc<Self>, task: Task) {
        if let Err(e) = self.check_process() {
            drop(task);
            return self.report_error(e);
        }
        let marker = self.task_marker;
        let weak = Arc::downgrade(self);
        self.dispatcher.dispatch(Box::new(move || {
            if let Err(e) = catch("a session task", || run_marked(marker, task)) {
                match weak.upgrade() {
                    Some(inner) => inner.report_error(e),
                    None => crate::error::report_unowned(e),
                }
            }
        }));
    }
}

impl Session {
    /// Creates a Session whose tasks (incoming calls among them) run on
    /// `dispatcher`. The Session owns the dispatcher's lifecycle: it shuts it
    /// down at the end of its own shutdown.
    pub fn new(dispatcher: Arc<dyn TaskDispatcher>) -> Arc<Session> {
        crate::wrapper_function::native::set_session_reporter(|h, e| {
            match Session::from_handle(h) {
                Some(s) => {
                    s.report_error(e);
                    Ok(())
                }
                None => Err(e),
            }
        });
        let default_reporter: Arc<dyn Fn(Error) + Send + Sync> =
            Arc::new(crate::error::report_session_error);
        Arc::new_cyclic(|outer| Session {
            inner: Arc::new(Inner {
                handle: SESSIONS.insert(outer.clone()),
                task_marker: new_marker_id(),
                lifecycle_marker: new_marker_id(),
                dispatcher,
                reporter: RwLock::new(default_reporter),
                state: Mutex::new(State {
                    phase: Phase::Running,
                    conn: Conn::Unattached,
                    ca: None,
                    services: Vec::new(),
                    services_closed: false,
                    detach_shutdown_requested: None,
                    tokens: 0,
                    drain_waiters: 0,
                    detach_cbs: Vec::new(),
                    shutdown_cbs: Vec::new(),
                    owner_gone: false,
                    outbound: HashMap::new(),
                    next_outbound: 0,
                    wait_on_drop: true,
                }),
                cv: Condvar::new(),
                drain_cv: Condvar::new(),
                threads: Mutex::new(Vec::new()),
                owner_pid: std::process::id(),
                fork_gen: crate::sys::fork::watch(),
            }),
        })
    }

    /// This Session's handle: what C code sees as its `orc_rt_SessionRef`
    /// and what native wrapper functions are called with. Never reused:
    /// once the Session is gone, [`Session::from_handle`] refuses it.
    pub fn handle(&self) -> Handle {
        self.inner.handle
    }

    /// The live Session with handle `h`; `None` for an unknown handle or a
    /// Session that has been dropped (even if a new Session now occupies
    /// the same memory or the same table slot).
    pub fn from_handle(h: Handle) -> Option<Arc<Session>> {
        SESSIONS.get(h)?.upgrade()
    }

    /// Replaces the error reporter (default: log the error in the `Session`
    /// category, see [`crate::log`]). The reporter may be called from any
    /// thread, concurrently.
    pub fn set_error_reporter(&self, reporter: ErrorReporterFn) {
        *write(&self.inner.reporter) = Arc::from(reporter);
    }

    /// Reports an error nobody else can return. A panicking reporter is
    /// caught (and printed).
    pub fn report_error(&self, err: Error) {
        self.inner.report_error(err)
    }

    /// Adds a Service. Services are notified in reverse order of addition.
    /// A Service added after detach gets `on_detach` immediately. Fails once
    /// shutdown has started.
    pub fn add_service(&self, service: Arc<dyn Service>) -> Result<()> {
        self.inner.check_process()?;
        let sr = {
            let mut st = self.inner.lock();
            if st.phase != Phase::Running || st.services_closed {
                return Err(Error::SessionShutDown);
            }
            if !st.conn.is_detached_or_detaching() {
                st.services.push(service);
                return Ok(());
            }
            // Already detached: tell it now. The token keeps shutdown from
            // calling its on_shutdown before this on_detach completes.
            st.services.push(service.clone());
            st.tokens += 1;
            st.detach_shutdown_requested.unwrap_or(false)
        };
        let token = ManagedCodeToken {
            inner: self.inner.clone(),
        };
        let inner = self.inner.clone();
        let r = catch("Service::on_detach", || {
            service.on_detach(
                Box::new(move |r| {
                    if let Err(e) = r {
                        inner.report_error(e);
                    }
                    drop(token);
                }),
                sr,
            )
        });
        if let Err(e) = r {
            self.report_error(e);
        }
        Ok(())
    }

    /// Attaches a controller and calls `ca.connect`. Fails if shutdown has
    /// started or a controller was already attached (or detached: detach is
    /// permanent). Do not race `attach` with `shutdown`.
    pub fn attach(self: &Arc<Self>, ca: Arc<dyn ControllerAccess>) -> Result<()> {
        self.inner.check_process()?;
        {
            let mut st = self.inner.lock();
            if st.phase != Phase::Running {
                return Err(Error::SessionShutDown);
            }
            match st.conn {
                Conn::Unattached => {}
                Conn::Attached(_) | Conn::Disconnecting => {
                    return Err(Error::msg("attach: a controller is already attached"))
                }
                Conn::Detaching | Conn::Detached => {
                    return Err(Error::Detached(
                        "attach: the session has detached; detach is permanent".into(),
                    ))
                }
            }
            st.conn = Conn::Attached(ca.clone());
            st.ca = Some(ca.clone());
        }
        let r = catch("ControllerAccess::connect", || {
            ca.connect(Arc::downgrade(self))
        })
        .and_then(|r| r);
        if let Err(e) = r {
            // The controller never served this Session: back to unattached
            // (or, if shutdown has begun meanwhile, complete its detach).
            let mut st = self.inner.lock();
            st.ca = None;
            match st.conn {
                Conn::Attached(_) => st.conn = Conn::Unattached,
                Conn::Disconnecting => {
                    drop(st);
                    self.inner.handle_disconnect();
                }
                _ => {}
            }
            return Err(e);
        }
        Ok(())
    }

    /// Runs an incoming controller call (called by the ControllerAccess).
    ///
    /// The call runs as a Task on the dispatcher; its result goes to
    /// `ca.send_wrapper_result(call_id, ..)` exactly once. If the Session is
    /// not attached or is shutting down, the reply is an out-of-band error
    /// and nothing runs. A native wrapper function that never calls its
    /// return function keeps the call in flight, and shutdown waits for it
    /// (as upstream: every call must return exactly once).
    pub fn handle_wrapper_call(
        &self,
        call_id: u64,
        call: IncomingCall,
        args: WrapperFunctionBuffer,
    ) {
        self.handle_call(call_id, call, args, false)
    }

    /// Like [`Session::handle_wrapper_call`], but runs the call on the
    /// calling thread (as one of the Session's tasks), saving the hand-off
    /// to a worker thread.
    ///
    /// Only for functions that neither block nor call the controller (the
    /// transport's leaf bootstrap calls): the caller, typically the
    /// transport's reader thread, cannot receive anything while it runs.
    pub fn handle_wrapper_call_inline(
        &self,
        call_id: u64,
        call: IncomingCall,
        args: WrapperFunctionBuffer,
    ) {
        self.handle_call(call_id, call, args, true)
    }

    /// Admits the call, runs it (here or as a task), and replies.
    fn handle_call(
        &self,
        call_id: u64,
        call: IncomingCall,
        args: WrapperFunctionBuffer,
        inline: bool,
    ) {
        let inner = &self.inner;
        if let Err(e) = inner.check_process() {
            // Only try the lock: a parent's thread may have held it at the
            // fork.
            let ca = inner.state.try_lock().ok().and_then(|st| st.ca.clone());
            return match ca {
                Some(ca) => ca.send_wrapper_result(
                    call_id,
                    WrapperFunctionBuffer::out_of_band_error(&e.to_string()),
                ),
                None => inner.report_error(e),
            };
        }
        let admitted = {
            let mut st = inner.lock();
            match (&st.conn, st.phase) {
                (Conn::Attached(ca), Phase::Running) => {
                    let ca = ca.clone();
                    st.tokens += 1;
                    Ok(ca)
                }
                (_, Phase::Running) => Err((
                    st.ca.clone(),
                    Error::Detached("incoming call refused, the controller is not attached".into()),
                )),
                _ => Err((st.ca.clone(), Error::SessionShutDown)),
            }
        };
        let ca = match admitted {
            Ok(ca) => ca,
            Err((Some(ca), e)) => {
                let reply = WrapperFunctionBuffer::out_of_band_error(&e.to_string());
                return ca.send_wrapper_result(call_id, reply);
            }
            Err((None, e)) => {
                return inner.report_error(Error::msg(format!(
                    "incoming call {call_id} refused ({e}) and no controller to reply to"
                )));
            }
        };
        let token = ManagedCodeToken {
            inner: inner.clone(),
        };
        let responder = Responder::named("incoming wrapper function call", move |result| {
            ca.send_wrapper_result(call_id, result);
            drop(token);
        });
        let session = inner.handle;
        let task = move || call.run(session, args, responder);
        if inline {
            run_marked(inner.task_marker, task);
        } else {
            inner.dispatch(Box::new(task));
        }
    }

    /// The controller is gone (called exactly once by the ControllerAccess):
    /// starts the detach round unless one already ran.
    pub fn notify_disconnected(&self) {
        self.inner.handle_disconnect()
    }

    /// Calls the controller handler behind `tag`. `on_complete` gets the
    /// result, or immediately an out-of-band error if the controller is not
    /// attached ("controller is detached: ...") or the Session is shutting
    /// down ("session is shut down").
    pub fn call_controller(
        &self,
        tag: HandlerTag,
        args: WrapperFunctionBuffer,
        on_complete: OnCallControllerCompleteFn,
    ) {
        if let Err(e) = self.inner.check_process() {
            return on_complete(WrapperFunctionBuffer::out_of_band_error(&e.to_string()));
        }
        let admitted = {
            let mut st = self.inner.lock();
            match (&st.conn, st.phase) {
                (Conn::Attached(ca), Phase::Running) => {
                    let ca = ca.clone();
                    let id = st.next_outbound;
                    st.next_outbound = st.next_outbound.wrapping_add(1);
                    st.outbound.insert(id, on_complete);
                    Ok((ca, id))
                }
                (_, Phase::Running) => Err((
                    on_complete,
                    Error::Detached(format!("cannot call controller handler {:#x}", tag.0)),
                )),
                _ => Err((on_complete, Error::SessionShutDown)),
            }
        };
        match admitted {
            Ok((ca, id)) => {
                // The result goes through the Session's table, so that
                // shutdown can fail a call the controller never answers and
                // a late answer is dropped instead of delivered.
                let weak = Arc::downgrade(&self.inner);
                ca.call_controller(
                    tag,
                    args,
                    Box::new(move |result| {
                        let f = weak
                            .upgrade()
                            .and_then(|inner| inner.lock().outbound.remove(&id));
                        if let Some(f) = f {
                            f(result);
                        }
                    }),
                );
            }
            Err((f, e)) => f(WrapperFunctionBuffer::out_of_band_error(&e.to_string())),
        }
    }

    /// Calls the controller handler `tag` with SPS-encoded `args`;
    /// `on_complete` gets the decoded `R` or the error (detached, shut
    /// down, out-of-band, undecodable result). Never blocks.
    pub fn call_controller_sps<A, R>(
        &self,
        tag: HandlerTag,
        args: &A,
        on_complete: impl FnOnce(Result<R>) + Send + 'static,
    ) where
        A: SpsSerialize + ?Sized,
        R: SpsDeserialize + 'static,
    {
        self.call_controller(
            tag,
            serialize_to_buffer(args),
            Box::new(move |b| on_complete(decode_sps_result::<R>(b))),
        )
    }

    /// Blocking form of [`Session::call_controller_sps`]. Do not call it
    /// from a task of the Session's dispatcher if the handler needs that
    /// dispatcher to reply.
    pub fn call_controller_sps_blocking<A, R>(&self, tag: HandlerTag, args: &A) -> Result<R>
    where
        A: SpsSerialize + ?Sized,
        R: SpsDeserialize + 'static,
    {
        let (cb, pending) = reply_channel();
        self.call_controller(tag, serialize_to_buffer(args), cb);
        decode_sps_result::<R>(pending.wait())
    }

    /// Runs `task` on the dispatcher. Tasks still queued when the dispatcher
    /// shuts down (the last step of Session shutdown) are dropped.
    pub fn dispatch(&self, task: Task) {
        self.inner.dispatch(task)
    }

    /// A token that delays shutdown (before Services' `on_shutdown`) while
    /// held; `None` once shutdown has started.
    pub fn managed_code_token(&self) -> Option<ManagedCodeToken> {
        self.inner.check_process().ok()?;
        let mut st = self.inner.lock();
        if st.phase != Phase::Running {
            return None;
        }
        st.tokens += 1;
        Some(ManagedCodeToken {
            inner: self.inner.clone(),
        })
    }

    /// Runs `f` holding a [`ManagedCodeToken`]; `None` (and `f` not run) if
    /// shutdown has started.
    pub fn call_managed_code<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let _t = self.managed_code_token()?;
        Some(f())
    }

    /// Starts detach (disconnecting the controller if attached); the
    /// Services get `on_detach`, then `on_complete` runs. If already
    /// detached, `on_complete` runs now. Never blocks.
    pub fn detach(&self, on_complete: Option<OnCompleteFn>) {
        self.inner.detach(on_complete)
    }

    /// Blocks until the detach round has completed (forever if nobody
    /// detaches).
    ///
    /// From a Service or lifecycle callback of this Session (where it would
    /// deadlock) it reports an error and returns at once.
    pub fn wait_for_detach(&self) {
        if let Err(e) = self.inner.check_process() {
            return self.report_error(e);
        }
        if marked_depth(self.inner.lifecycle_marker) > 0 {
            self.report_error(Error::msg(
                "wait_for_detach called from a session lifecycle callback: not waiting, \
                 it would deadlock",
            ));
            return;
        }
        let mut st = self.inner.lock();
        while !matches!(st.conn, Conn::Detached) {
            st = self.inner.wait(st);
        }
    }

    /// True once the detach round has completed.
    pub fn is_detached(&self) -> bool {
        matches!(self.inner.lock().conn, Conn::Detached)
    }

    /// True once shutdown has completed.
    pub fn is_shut_down(&self) -> bool {
        self.inner.lock().phase == Phase::ShutDown
    }

    /// Starts shutdown (idempotent, any thread, never blocks); `on_complete`
    /// runs when it has finished (now, if it already has).
    pub fn shutdown(&self, on_complete: Option<OnCompleteFn>) {
        self.inner.shutdown(on_complete)
    }

    /// Blocks until shutdown has completed. Called from one of the Session's
    /// own tasks or lifecycle callbacks it would deadlock, so there it
    /// reports an error and returns at once (see [`Session::try_wait_for_shutdown`]).
    pub fn wait_for_shutdown(&self) {
        if let Err(e) = self.inner.wait_for_shutdown() {
            self.report_error(e);
        }
    }

    /// Shuts down on the calling thread and returns when shutdown has
    /// completed: `shutdown(None)` followed by `wait_for_shutdown()`, minus
    /// the lifecycle thread (and its hand-offs) when shutdown has not
    /// started yet. For a host's main thread at exit. From one of the
    /// Session's own tasks or lifecycle callbacks it does nothing and
    /// returns an error (it would deadlock).
    pub fn shutdown_and_wait(&self) -> Result<()> {
        self.inner.check_process()?;
        if self.inner.in_own_context() {
            return self.inner.wait_for_shutdown();
        }
        let run_here = {
            let mut st = self.inner.lock();
            if st.phase == Phase::Running {
                st.phase = Phase::ShuttingDown;
                true
            } else {
                false
            }
        };
        if run_here {
            let inner = &self.inner;
            run_marked(inner.lifecycle_marker, || inner.run_shutdown());
        }
        self.inner.wait_for_shutdown()
    }

    /// Like [`Session::wait_for_shutdown`], returning the error instead of
    /// reporting it.
    pub fn try_wait_for_shutdown(&self) -> Result<()> {
        self.inner.wait_for_shutdown()
    }

    /// False once [`Session::shutdown_and_wait_timeout`] has timed out:
    /// dropping the Session then no longer waits for shutdown.
    #[cfg(feature = "capi")]
    pub(crate) fn waits_on_drop(&self) -> bool {
        self.inner.lock().wait_on_drop
    }

    /// Starts shutdown and waits at most `timeout` for it to complete.
    ///
    /// Returns [`Error::Timeout`] (saying what shutdown is still waiting
    /// for) if it has not completed in time. Shutdown then goes on in the
    /// background, and dropping the last `Arc<Session>` no longer waits
    /// for it: this is how a host bounds the wait that a plain drop (or
    /// [`Session::shutdown_and_wait`]) would make forever when a handler
    /// never replies. From one of the Session's own tasks or lifecycle
    /// callbacks, or in a forked child, it fails at once.
    ///
    /// ```
    /// use orc_rt::controller_access::InProcessController;
    /// use orc_rt::wrapper_function::IncomingCall;
    /// use orc_rt::session::Session;
    /// use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
    /// use orc_rt::wrapper_function::{BytesHandler, Responder, WrapperFunctionBuffer};
    /// use orc_rt::Error;
    /// use std::sync::{mpsc, Arc};
    /// use std::time::Duration;
    ///
    /// let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
    /// let controller = InProcessController::new();
    /// s.attach(controller.clone()).unwrap();
    /// // A handler that hands its responder away, to a channel nobody reads.
    /// let (keep, kept) = mpsc::channel::<Responder>();
    /// let keep = std::sync::Mutex::new(keep);
    /// let h: BytesHandler = Arc::new(move |_, r| keep.lock().unwrap().send(r).unwrap());
    /// controller.call(IncomingCall::handler(h), WrapperFunctionBuffer::from_slice(&[]), |_| {});
    ///
    /// let e = s.shutdown_and_wait_timeout(Duration::from_millis(50)).unwrap_err();
    /// assert!(matches!(e, Error::Timeout(_)), "{e}");
    /// drop(s); // returns at once
    /// drop(kept); // the responder replies (an error); shutdown completes
    /// ```
    pub fn shutdown_and_wait_timeout(&self, timeout: std::time::Duration) -> Result<()> {
        let inner = &self.inner;
        inner.check_process()?;
        if inner.in_own_context() {
            return inner.wait_for_shutdown();
        }
        let deadline = std::time::Instant::now().checked_add(timeout);
        inner.shutdown(None);
        let mut st = inner.lock();
        while st.phase != Phase::ShutDown {
            let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                st.wait_on_drop = false;
                let waiting_for = match (&st.conn, st.tokens) {
                    (Conn::Detached, 0) => {
                        "the services' on_shutdown or the dispatcher's running tasks".to_string()
                    }
                    (Conn::Detached, n) => format!(
                        "{n} incoming call(s) to be answered or managed-code token(s) to be \
                         released"
                    ),
                    _ => "the controller to detach".to_string(),
                };
                return Err(Error::Timeout(format!(
                    "session shutdown did not complete within {timeout:?}: still waiting for \
                     {waiting_for}; it goes on in the background and dropping the session no \
                     longer waits for it"
                )));
            }
            st = match left {
                Some(l) => {
                    inner
                        .cv
                        .wait_timeout(st, l)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => inner.wait(st),
            };
        }
        drop(st);
        inner.wait_for_shutdown()
    }
}

/// Dropping the last `Arc<Session>` shuts the Session down and **blocks
/// until shutdown has completed**, which is forever if an incoming call's
/// handler keeps its [`Responder`] and never replies, a
/// [`ManagedCodeToken`] is never released, or a Service never completes
/// `on_shutdown`. See [`Session`]'s "Blocking" section, and bound the wait
/// with [`Session::shutdown_and_wait_timeout`] before the drop.
///
/// It does not wait when called from one of the Session's own tasks or
/// lifecycle callbacks (that would deadlock), after
/// [`Session::shutdown_and_wait_timeout`] has timed out, or in a child
/// forked after the Session was created, where the Session is leaked
/// untouched (its threads, and whatever they hold, exist only in the
/// parent).
impl Drop for Session {
    fn drop(&mut self) {
        if self.inner.check_process().is_err() {
            // Never released: releasing would join threads that do not
            // exist here.
            std::mem::forget(self.inner.clone());
            return;
        }
        let wait = {
            let mut st = self.inner.lock();
            st.owner_gone = true;
            self.inner.cv.notify_all();
            st.wait_on_drop
        };
        self.inner.shutdown(None);
        if wait && !self.inner.in_own_context() {
            let _ = self.inner.wait_for_shutdown();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::NotificationService;
    use crate::task_dispatcher::ThreadPoolTaskDispatcher;

    type Log = Arc<Mutex<Vec<String>>>;

    fn push(log: &Log, s: &str) {
        lock_any(log).push(s.to_string());
    }

    #[test]
    fn shutdown_and_wait_runs_the_whole_sequence_on_the_caller() {
        let log: Log = Arc::default();
        let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(2).unwrap()));
        let n = NotificationService::new();
        s.add_service(n.clone()).unwrap();
        let l = log.clone();
        n.add_on_detach(move |sr| push(&l, &format!("detach({sr})")));
        let l = log.clone();
        let caller = std::thread::current().id();
        n.add_on_shutdown(move || {
            // Run on the calling thread, marked as a lifecycle callback.
            assert_eq!(std::thread::current().id(), caller);
            push(&l, "shutdown");
        });
        // A token held by another thread: shutdown drains it first.
        let token = s.managed_code_token().unwrap();
        let l = log.clone();
        let h = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(30));
            push(&l, "token dropped");
            drop(token);
        });
        s.shutdown_and_wait().unwrap();
        h.join().unwrap();
        assert!(s.is_shut_down());
        assert_eq!(
            *lock_any(&log),
            ["detach(true)", "token dropped", "shutdown"]
        );
        // Again, and after a regular shutdown: returns at once.
        s.shutdown_and_wait().unwrap();
        let l = log.clone();
        s.shutdown(Some(Box::new(move || push(&l, "late"))));
        assert_eq!(lock_any(&log).last().map(String::as_str), Some("late"));
    }

    /// Records the results it is asked to send, with the sending thread.
    #[derive(Default)]
    struct Recorder {
        sent: Mutex<Vec<(u64, Vec<u8>, std::thread::ThreadId)>>,
        session: Mutex<Option<Weak<Session>>>,
    }

    impl ControllerAccess for Recorder {
        fn connect(&self, session: Weak<Session>) -> Result<()> {
            *lock_any(&self.session) = Some(session);
            Ok(())
        }
        fn disconnect(&self) {
            let s = lock_any(&self.session).take().and_then(|w| w.upgrade());
            if let Some(s) = s {
                s.notify_disconnected();
            }
        }
        fn call_controller(
            &self,
            _tag: HandlerTag,
            _args: WrapperFunctionBuffer,
            on_complete: OnCallControllerCompleteFn,
        ) {
            on_complete(WrapperFunctionBuffer::out_of_band_error("no controller"));
        }
        fn send_wrapper_result(&self, call_id: u64, result: WrapperFunctionBuffer) {
            let bytes = result.as_slice().unwrap_or_default().to_vec();
            lock_any(&self.sent).push((call_id, bytes, std::thread::current().id()));
        }
    }

    unsafe extern "C" fn add_one(
        data: *const std::os::raw::c_char,
        size: usize,
    ) -> crate::wrapper_function::orc_rt_WrapperFunctionBuffer {
        // SAFETY: the Session lends `size` bytes at `data` for the call.
        let bytes = unsafe { std::slice::from_raw_parts(data as *const u8, size) };
        let out: Vec<u8> = bytes.iter().map(|b| b.wrapping_add(1)).collect();
        WrapperFunctionBuffer::from_slice(&out).into_raw()
    }

    #[test]
    fn leaf_calls_run_on_the_caller_and_are_refused_after_shutdown() {
        let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
        let ca = Arc::new(Recorder::default());
        s.attach(ca.clone()).unwrap();
        s.handle_wrapper_call_inline(
            7,
            IncomingCall::Sync(add_one),
            WrapperFunctionBuffer::from_slice(&[1, 2, 3]),
        );
        // Ran (and replied) before returning, on this thread.
        {
            let sent = lock_any(&ca.sent);
            assert_eq!(sent.len(), 1);
            assert_eq!((sent[0].0, &sent[0].1[..]), (7, &[2u8, 3, 4][..]));
            assert_eq!(sent[0].2, std::thread::current().id());
        }
        s.shutdown_and_wait().unwrap();
        s.handle_wrapper_call_inline(
            8,
            IncomingCall::Sync(add_one),
            WrapperFunctionBuffer::from_slice(&[1]),
        );
        let sent = lock_any(&ca.sent);
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].0, 8);
        assert!(
            sent[1].1.is_empty(),
            "refused calls get an out-of-band error"
        );
    }

    #[test]
    fn shutdown_and_wait_timeout_bounds_the_wait_and_the_drop() {
        use std::time::{Duration, Instant};
        let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
        let ca = Arc::new(Recorder::default());
        s.attach(ca.clone()).unwrap();
        // A handler that keeps its responder until told to let go.
        let (keep_tx, keep_rx) = std::sync::mpsc::channel::<Responder>();
        let keep_tx = Mutex::new(keep_tx);
        let h: crate::wrapper_function::BytesHandler =
            Arc::new(move |_, r| lock_any(&keep_tx).send(r).unwrap());
        s.handle_wrapper_call(
            1,
            IncomingCall::handler(h),
            WrapperFunctionBuffer::from_slice(&[]),
        );
        let responder = keep_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let e = s
            .shutdown_and_wait_timeout(Duration::from_millis(50))
            .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Timeout(_)), "{msg}");
        assert!(msg.contains("within 50ms"), "{msg}");
        assert!(msg.contains("1 incoming call(s)"), "{msg}");
        assert!(!s.is_shut_down());
        // The drop no longer waits for the handler.
        let t0 = Instant::now();
        drop(s);
        assert!(t0.elapsed() < Duration::from_secs(5));
        // Once the handler lets go, the call is answered and shutdown
        // completes in the background.
        drop(responder);
        assert_eq!(lock_any(&ca.sent)[0].0, 1);

        // Without a stuck handler it simply shuts down.
        let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
        s.shutdown_and_wait_timeout(Duration::from_secs(30))
            .unwrap();
        assert!(s.is_shut_down());
    }

    #[test]
    fn public_types_debug_print_their_state() {
        let d = Arc::new(ThreadPoolTaskDispatcher::new(2).unwrap());
        assert!(format!("{d:?}").contains("threads: 2"), "{d:?}");
        let s = Session::new(d);
        let t = s.managed_code_token().unwrap();
        let n = NotificationService::new();
        n.add_on_shutdown(|| {});
        let c = crate::controller_access::InProcessController::new();
        for (got, want) in [
            (format!("{s:?}"), "phase: Running"),
            (format!("{t:?}"), "ManagedCodeToken"),
            (format!("{n:?}"), "on_shutdown: 1"),
            (format!("{c:?}"), "connected: false"),
        ] {
            assert!(got.contains(want), "{got}");
        }
        drop(t);
        s.shutdown_and_wait().unwrap();
        assert!(format!("{s:?}").contains("phase: ShutDown"));
    }

    #[test]
    fn shutdown_and_wait_joins_a_shutdown_already_running() {
        let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
        let token = s.managed_code_token().unwrap();
        s.shutdown(None);
        let h = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            drop(token);
        });
        s.shutdown_and_wait().unwrap();
        assert!(s.is_shut_down());
        h.join().unwrap();
    }
}
