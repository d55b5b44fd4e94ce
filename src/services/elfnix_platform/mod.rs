//! The ELF platform runtime: what a native loader and libc do for a
//! program, done for JIT'd ELF code under LLVM's `ELFNixPlatform`.
//!
//! The controller JIT-links orc-rt's platform archive (see
//! [`archive_path`]) into its platform JITDylib. The archive's stubs
//! forward to this Service, through the entry points of
//! [`crate::sps_ci::elfnix_platform`]:
//!
//! * **JITDylibs.** The controller registers every JITDylib by name and by
//!   the address of its `__dso_handle`, its *header*. The header is the
//!   handle JIT'd `dlopen` returns.
//! * **Initialisers.** Each linked object registers its initialiser ranges
//!   (`.init_array`, `.init`, `.ctors`, sorted within the object by the
//!   controller). Opening a JITDylib asks the controller to link everything
//!   it needs (`push_initializers`), then runs the new initialisers of each
//!   JITDylib, dependencies first. Closing it resets them, so a later open
//!   runs them again.
//! * **Deinitialisers.** `__cxa_atexit` and `atexit` handlers, and
//!   finaliser ranges where the controller sends them (LLVM 23), run in
//!   reverse order of registration, as `exit` would: when a JITDylib is
//!   closed, at the end of a program run (the program's JITDylib and the
//!   platform's `atexit` list together), when JIT'd code calls `exit`, and
//!   at the latest when the Session shuts down or the controller tears the
//!   JITDylib down, before its memory goes.
//! * **TLS** ([`tls`]) and **EH frames** (through
//!   [`crate::services::eh_frame`]) of each object.
//!
//! Calls back to the controller go through the Session with the tags the
//! archive defines. JIT'd code runs with no lock held.
//!
//! One platform per process can be bootstrapped at a time: JIT'd code's
//! `atexit` or `__tls_get_addr` carries no Session, exactly as a process
//! has one loader.

mod error;
pub mod tls;

use std::collections::HashMap;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::sync::{Arc, Mutex, Weak};

use crate::controller_access::HandlerTag;
use crate::service::{OnCompleteFn, Service};
use crate::session::Session;
use crate::sps::orc_types::ExecutorSymbolDef;
use crate::sps::SpsExpected;
use crate::sync::lock;
use crate::sys::{jit_call, mem};
use crate::{ExecutorAddr, ExecutorAddrRange};

pub use error::PlatformError;

/// `RTLD_LAZY`, the mode LLJIT's dlopen wrapper passes.
pub const RTLD_LAZY: i32 = 1;

/// The dispatch tags the archive defines (addresses of distinct bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformTags {
    /// `__orc_rt_elfnix_push_initializers_tag`.
    pub push_initializers: HandlerTag,
    /// `__orc_rt_elfnix_symbol_lookup_tag`.
    pub symbol_lookup: HandlerTag,
}

/// A deinitialiser: an `atexit`-style handler, or one finaliser function.
#[derive(Clone, Copy, Debug)]
struct Deinit {
    /// Registration order across the platform.
    seq: u64,
    /// `void f(void *)` (with `arg`) or `void f(void)`.
    f: u64,
    arg: u64,
    with_arg: bool,
}

/// One registered initialiser range and whether it has run since the
/// JITDylib was last closed.
#[derive(Clone, Copy, Debug)]
struct InitRange {
    range: ExecutorAddrRange,
    run: bool,
    /// Registration order (ranges of later objects run later).
    seq: u64,
}

#[derive(Debug)]
struct JitDylib {
    name: String,
    /// dlopen count.
    open_count: usize,
    /// How many opened JITDylibs depend on this one.
    linked_against: usize,
    deps: Vec<u64>,
    inits: Vec<InitRange>,
    /// Finaliser ranges (LLVM 23 sends them), with their registration order.
    finis: Vec<(ExecutorAddrRange, u64)>,
    /// Finaliser ranges whose functions are due when the JITDylib closes.
    finis_due: bool,
    atexits: Vec<Deinit>,
}

impl JitDylib {
    fn referenced(&self) -> bool {
        self.open_count != 0 || self.linked_against != 0
    }
}

#[derive(Debug, Default)]
enum Phase {
    #[default]
    Created,
    Running {
        platform_header: u64,
        tags: PlatformTags,
    },
    ShutDown,
}

#[derive(Debug, Default)]
struct State {
    phase: Phase,
    jds: HashMap<u64, JitDylib>,
    by_name: HashMap<String, u64>,
    next_seq: u64,
    /// `atexit` handlers registered against no known JITDylib.
    orphans: Vec<Deinit>,
    /// EH frames registered through this platform (start addresses).
    eh_frames: Vec<ExecutorAddrRange>,
    /// TLS images registered through this platform.
    tls_images: Vec<ExecutorAddrRange>,
    next_key: u64,
}

impl State {
    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn jd(&mut self, header: u64) -> Result<&mut JitDylib, PlatformError> {
        self.jds
            .get_mut(&header)
            .ok_or(PlatformError::UnknownHeader(header))
    }
}

/// The ELF platform runtime Service of one Session.
pub struct ElfNixPlatform {
    session: Weak<Session>,
    state: Mutex<State>,
    program_thread: Mutex<Option<ProgramThread>>,
    /// The program run waiting for `main`, told if JIT'd code calls `exit`.
    exit_waiter: Mutex<Option<std::sync::mpsc::SyncSender<RunOutcome>>>,
}

impl std::fmt::Debug for ElfNixPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElfNixPlatform").finish_non_exhaustive()
    }
}

/// Every platform of the process, and the one bootstrapped.
static PLATFORMS: Mutex<Vec<Weak<ElfNixPlatform>>> = Mutex::new(Vec::new());
static ACTIVE: Mutex<Weak<ElfNixPlatform>> = Mutex::new(Weak::new());

/// The bootstrapped platform of this process, if any.
pub fn active() -> Result<Arc<ElfNixPlatform>, PlatformError> {
    lock(&ACTIVE)
        .upgrade()
        .ok_or(PlatformError::NotBootstrapped)
}

/// The absolute path of the platform archive that matches this build, if
/// it can be found: installed as `<prefix>/lib/orc-rt/<name>` beside
/// `<prefix>/bin/<exe>`, next to the executable, or where the build wrote it.
pub fn archive_path() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let mut candidates = vec![
        dir.join("..").join("lib").join("orc-rt").join(ARCHIVE_NAME),
        dir.join(ARCHIVE_NAME),
    ];
    if let Some(built) = option_env!("ORC_RT_PLATFORM_ARCHIVE_BUILT") {
        candidates.push(std::path::PathBuf::from(built));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
}

/// File name of the platform archive.
pub const ARCHIVE_NAME: &str = "liborc_rt_elfnix-x86_64.a";

/// Where a JIT'd program's call of `exit` stands, process-wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExitPhase {
    /// No JIT'd code has called `exit`.
    Running,
    /// `exit` is running; its status went to the controller as the
    /// program's result, and the exiting thread waits for the Session to
    /// end before the process does.
    Exiting,
    /// The Session has ended: the exiting thread goes on with `exit`.
    SessionEnded,
}

static EXIT_PHASE: Mutex<ExitPhase> = Mutex::new(ExitPhase::Running);
static EXIT_CHANGED: std::sync::Condvar = std::sync::Condvar::new();

/// Longest an exiting program waits for the controller to end the Session.
const EXIT_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// glibc `on_exit` hook, registered at bootstrap: JIT'd code called `exit`
/// (or returned from a `main` that libc runs). The calling thread's
/// `thread_local` destructors have run; the pending deinitialisers run now,
/// newest first. If a program run is waiting for `main`, it answers the
/// controller with the exit status, and this thread waits (at most
/// [`EXIT_WAIT`]) until the controller has ended the Session, so that
/// llvm-jitlink exits with the program's status, as a native process would.
extern "C" fn at_process_exit(status: std::os::raw::c_int, _arg: *mut std::os::raw::c_void) {
    let Ok(p) = active() else { return };
    p.run_all_deinitializers();
    let waiter = lock(&p.exit_waiter).take();
    let Some(waiter) = waiter else { return };
    *lock(&EXIT_PHASE) = ExitPhase::Exiting;
    if waiter.send(RunOutcome::Exited(status)).is_err() {
        return;
    }
    // What the handlers printed is written out now, not only after the
    // wait: a controller that never ends the Session must not lose it.
    // SAFETY: fflush(NULL) flushes every open stdio stream.
    unsafe { libc::fflush(std::ptr::null_mut()) };
    drop(p);
    let deadline = std::time::Instant::now() + EXIT_WAIT;
    let mut phase = lock(&EXIT_PHASE);
    while *phase == ExitPhase::Exiting {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        phase = EXIT_CHANGED
            .wait_timeout(phase, left)
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
    }
}

/// Called when the Session ends: an exiting program may go on.
fn session_ended() {
    let mut phase = lock(&EXIT_PHASE);
    if *phase == ExitPhase::Exiting {
        *phase = ExitPhase::SessionEnded;
        EXIT_CHANGED.notify_all();
    }
}

/// For the executor's `main` once its Session has ended: if JIT'd code is
/// inside `exit`, never returns (that thread ends the process with the
/// program's status); otherwise returns at once.
pub fn wait_if_program_exiting() {
    if *lock(&EXIT_PHASE) != ExitPhase::Running {
        loop {
            std::thread::park();
        }
    }
}

/// How a program run ended: `main` returned (or the run failed), or JIT'd
/// code called `exit` with a status.
enum RunOutcome {
    Returned(Result<(u64, i64), PlatformError>),
    Exited(std::os::raw::c_int),
}

impl ElfNixPlatform {
    /// A platform for `session`'s JIT'd code, inactive until the controller
    /// bootstraps it. Add it to the Session after the memory services, so
    /// that it is told of shutdown before they release JIT'd memory.
    pub fn new(session: &Arc<Session>) -> Arc<Self> {
        let p = Arc::new(ElfNixPlatform {
            session: Arc::downgrade(session),
            state: Mutex::new(State::default()),
            program_thread: Mutex::new(None),
            exit_waiter: Mutex::new(None),
        });
        let mut all = lock(&PLATFORMS);
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&p));
        p
    }

    /// `platform_bootstrap`: binds the platform to the controller's platform
    /// JITDylib and the archive's tags. The platform of the only Session in
    /// the process that has one is chosen.
    pub fn bootstrap(
        platform_header: ExecutorAddr,
        tags: PlatformTags,
    ) -> Result<(), PlatformError> {
        let p = {
            let mut active = lock(&ACTIVE);
            if let Some(a) = active.upgrade() {
                let h = match lock(&a.state).phase {
                    Phase::Running {
                        platform_header, ..
                    } => platform_header,
                    _ => 0,
                };
                if h != 0 {
                    return Err(PlatformError::AlreadyBootstrapped(h));
                }
            }
            let all = lock(&PLATFORMS);
            let live: Vec<Arc<ElfNixPlatform>> = all
                .iter()
                .filter_map(Weak::upgrade)
                .filter(|p| matches!(lock(&p.state).phase, Phase::Created))
                .collect();
            let [p] = &live[..] else {
                return Err(if live.is_empty() {
                    PlatformError::NotBootstrapped
                } else {
                    PlatformError::OtherPlatformActive
                });
            };
            *active = Arc::downgrade(p);
            p.clone()
        };
        lock(&p.state).phase = Phase::Running {
            platform_header: platform_header.value(),
            tags,
        };
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            if let Err(e) = crate::sys::exit::on_exit(at_process_exit) {
                crate::error::report_unowned(crate::Error::from(PlatformError::ProgramThread(
                    format!("cannot hook exit(): {e}"),
                )));
            }
        });
        Ok(())
    }

    /// `platform_shutdown`: runs every pending deinitialiser and forgets
    /// the platform's state.
    pub fn shutdown(&self) -> Result<(), PlatformError> {
        self.run_all_deinitializers();
        self.forget_everything();
        Ok(())
    }

    fn forget_everything(&self) {
        let (frames, images) = {
            let mut st = lock(&self.state);
            st.phase = Phase::ShutDown;
            st.jds.clear();
            st.by_name.clear();
            (
                std::mem::take(&mut st.eh_frames),
                std::mem::take(&mut st.tls_images),
            )
        };
        for f in frames {
            // SAFETY: the platform is shut down: no JIT'd code of its
            // JITDylibs runs any more.
            let _ = unsafe { crate::services::eh_frame::deregister(f) };
        }
        for i in images {
            let _ = tls::deregister_image(i);
        }
        tls::forget_inferred_images();
        let mut active = lock(&ACTIVE);
        if std::ptr::eq(active.as_ptr(), self) {
            *active = Weak::new();
        }
    }

    fn running(st: &State) -> Result<(u64, PlatformTags), PlatformError> {
        match st.phase {
            Phase::Running {
                platform_header,
                tags,
            } => Ok((platform_header, tags)),
            Phase::Created => Err(PlatformError::NotBootstrapped),
            Phase::ShutDown => Err(PlatformError::ShutDown),
        }
    }

    /// `register_jitdylib`.
    pub fn register_jitdylib(&self, name: &str, header: ExecutorAddr) -> Result<(), PlatformError> {
        let mut st = lock(&self.state);
        Self::running(&st)?;
        let header = header.value();
        if st.jds.contains_key(&header) || st.by_name.contains_key(name) || header == 0 {
            return Err(PlatformError::DuplicateJitDylib {
                header,
                name: name.to_string(),
            });
        }
        st.by_name.insert(name.to_string(), header);
        st.jds.insert(
            header,
            JitDylib {
                name: name.to_string(),
                open_count: 0,
                linked_against: 0,
                deps: Vec::new(),
                inits: Vec::new(),
                finis: Vec::new(),
                finis_due: false,
                atexits: Vec::new(),
            },
        );
        Ok(())
    }

    /// `deregister_jitdylib`: runs the JITDylib's pending deinitialisers,
    /// then forgets it.
    pub fn deregister_jitdylib(&self, header: ExecutorAddr) -> Result<(), PlatformError> {
        self.run_deinitializers_of(header.value());
        let mut st = lock(&self.state);
        let jd = st
            .jds
            .remove(&header.value())
            .ok_or(PlatformError::UnknownHeader(header.value()))?;
        st.by_name.remove(&jd.name);
        Ok(())
    }

    /// `register_object_sections`: the object's `.eh_frame` and TLS image.
    ///
    /// # Safety
    ///
    /// As for [`crate::services::eh_frame::register`], for `eh_frame`.
    pub unsafe fn register_object_sections(
        &self,
        eh_frame: ExecutorAddrRange,
        tls_image: ExecutorAddrRange,
    ) -> Result<(), PlatformError> {
        Self::running(&lock(&self.state))?;
        if !eh_frame.start.is_null() {
            // SAFETY: the caller vouches for the section (this function's
            // contract).
            unsafe { crate::services::eh_frame::register(eh_frame) }?;
            lock(&self.state).eh_frames.push(eh_frame);
        }
        if !tls_image.start.is_null() && !tls_image.is_empty() {
            tls::register_image(tls_image)?;
            lock(&self.state).tls_images.push(tls_image);
        }
        Ok(())
    }

    /// `deregister_object_sections`.
    pub fn deregister_object_sections(
        &self,
        eh_frame: ExecutorAddrRange,
        tls_image: ExecutorAddrRange,
    ) -> Result<(), PlatformError> {
        let mut r = Ok(());
        if !eh_frame.start.is_null() {
            let known = {
                let mut st = lock(&self.state);
                let i = st.eh_frames.iter().position(|f| *f == eh_frame);
                i.map(|i| st.eh_frames.swap_remove(i)).is_some()
            };
            if known {
                // SAFETY: JIT'd platform code deregisters a section when its
                // object is being unloaded, as registration's caller
                // promised it would.
                r = unsafe { crate::services::eh_frame::deregister(eh_frame) }.map_err(Into::into);
            }
        }
        if !tls_image.start.is_null() && !tls_image.is_empty() {
            let known = {
                let mut st = lock(&self.state);
                let i = st.tls_images.iter().position(|f| *f == tls_image);
                i.map(|i| st.tls_images.swap_remove(i)).is_some()
            };
            if known {
                r = r.and(tls::deregister_image(tls_image));
            }
        }
        r
    }

    fn check_ranges(what: &'static str, ranges: &[ExecutorAddrRange]) -> Result<(), PlatformError> {
        for r in ranges {
            let (start, end) = (r.start.value(), r.end.value());
            if end < start || (end > start && (start == 0 || (end - start) % 8 != 0)) {
                return Err(PlatformError::BadRange { what, start, end });
            }
        }
        Ok(())
    }

    /// `register_init_sections`: ranges of initialiser pointers, in the
    /// order they must run.
    pub fn register_init_sections(
        &self,
        header: ExecutorAddr,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        Self::check_ranges("initializer", ranges)?;
        let mut st = lock(&self.state);
        Self::running(&st)?;
        let seq = st.seq();
        let jd = st.jd(header.value())?;
        jd.inits.extend(
            ranges
                .iter()
                .filter(|r| !r.is_empty())
                .map(|&range| InitRange {
                    range,
                    run: false,
                    seq,
                }),
        );
        Ok(())
    }

    /// `deregister_init_sections`: the controller is tearing the object's
    /// code down. The JITDylib's pending deinitialisers run first, while
    /// its memory is still mapped.
    pub fn deregister_init_sections(
        &self,
        header: ExecutorAddr,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        self.run_deinitializers_of(header.value());
        let mut st = lock(&self.state);
        let jd = st.jd(header.value())?;
        jd.inits.retain(|i| !ranges.contains(&i.range));
        Ok(())
    }

    /// `register_fini_sections` (sent by LLVM 23's controller): ranges of
    /// finaliser pointers, in the order they must run.
    pub fn register_fini_sections(
        &self,
        header: ExecutorAddr,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        Self::check_ranges("finalizer", ranges)?;
        let mut st = lock(&self.state);
        Self::running(&st)?;
        let seq = st.seq();
        let jd = st.jd(header.value())?;
        jd.finis
            .extend(ranges.iter().filter(|r| !r.is_empty()).map(|&r| (r, seq)));
        Ok(())
    }

    /// `deregister_fini_sections`.
    pub fn deregister_fini_sections(
        &self,
        header: ExecutorAddr,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        self.run_deinitializers_of(header.value());
        let mut st = lock(&self.state);
        let jd = st.jd(header.value())?;
        jd.finis.retain(|(r, _)| !ranges.contains(r));
        Ok(())
    }

    /// `create_pthread_key`: a TLS key for a graph. Thread data is keyed by
    /// image ([`tls`]), so the key only has to be distinct.
    pub fn create_pthread_key(&self) -> Result<u64, PlatformError> {
        let mut st = lock(&self.state);
        Self::running(&st)?;
        st.next_key += 1;
        Ok(st.next_key)
    }

    /// `__cxa_atexit(f, arg, dso)`: registers `f(arg)` to run when the
    /// JITDylib whose header is `dso` is closed (or at exit).
    pub fn cxa_atexit(&self, f: u64, arg: u64, dso: u64) -> Result<(), PlatformError> {
        self.add_atexit(dso, f, arg, true)
    }

    /// `atexit(f)` from JIT'd code: `dso` is the platform JITDylib's header
    /// (the archive's stub passes it), as for LLVM's runtime.
    pub fn atexit(&self, f: u64, dso: u64) -> Result<(), PlatformError> {
        self.add_atexit(dso, f, 0, false)
    }

    fn add_atexit(&self, dso: u64, f: u64, arg: u64, with_arg: bool) -> Result<(), PlatformError> {
        let mut st = lock(&self.state);
        Self::running(&st)?;
        let seq = st.seq();
        let d = Deinit {
            seq,
            f,
            arg,
            with_arg,
        };
        match st.jds.get_mut(&dso) {
            Some(jd) => jd.atexits.push(d),
            None => st.orphans.push(d),
        }
        Ok(())
    }

    fn session(&self) -> Result<Arc<Session>, PlatformError> {
        self.session.upgrade().ok_or(PlatformError::NoSession)
    }

    fn tags(&self) -> Result<PlatformTags, PlatformError> {
        Ok(Self::running(&lock(&self.state))?.1)
    }

    /// Asks the controller to link what the JITDylib's initialisers need;
    /// returns its map of JITDylib headers to their dependencies' headers.
    fn push_initializers(
        &self,
        header: u64,
    ) -> Result<Vec<(ExecutorAddr, Vec<ExecutorAddr>)>, PlatformError> {
        let tag = self.tags()?.push_initializers;
        let r: SpsExpected<Vec<(ExecutorAddr, Vec<ExecutorAddr>)>> = self
            .session()?
            .call_controller_sps_blocking(tag, &(ExecutorAddr::new(header),))
            .map_err(|e| PlatformError::Controller {
                what: "push_initializers",
                message: e.to_string(),
            })?;
        r.0.map_err(|message| PlatformError::Controller {
            what: "push_initializers",
            message,
        })
    }

    /// Looks a symbol up in one JITDylib through the controller
    /// (exported symbols only).
    pub fn lookup_symbol(&self, header: u64, name: &str) -> Result<u64, PlatformError> {
        let tag = self.tags()?.symbol_lookup;
        let r: SpsExpected<ExecutorAddr> = self
            .session()?
            .call_controller_sps_blocking(tag, &(ExecutorAddr::new(header), name))
            .map_err(|e| PlatformError::Controller {
                what: "symbol lookup",
                message: e.to_string(),
            })?;
        r.0.map(ExecutorAddr::value)
            .map_err(|message| PlatformError::Controller {
                what: "symbol lookup",
                message,
            })
    }

    /// Resolves a lazy call-through stub (`__orc_rt_sysv_reenter`) through
    /// the controller's resolve tag.
    pub fn resolve(&self, tag: HandlerTag, stub: u64) -> Result<u64, PlatformError> {
        let r: SpsExpected<ExecutorSymbolDef> = self
            .session()?
            .call_controller_sps_blocking(tag, &(ExecutorAddr::new(stub),))
            .map_err(|e| PlatformError::Controller {
                what: "resolve",
                message: e.to_string(),
            })?;
        r.0.map(|d| d.addr.value())
            .map_err(|message| PlatformError::Controller {
                what: "resolve",
                message,
            })
    }

    /// JIT'd `dlopen(path, mode)`: the header of the JITDylib named `path`,
    /// initialised (with its dependencies) on its first open.
    pub fn dlopen(&self, path: &str, _mode: i32) -> Result<u64, PlatformError> {
        let header = {
            let st = lock(&self.state);
            Self::running(&st)?;
            *st.by_name
                .get(path)
                .ok_or_else(|| PlatformError::UnknownPath(path.to_string()))?
        };
        self.update(header)?;
        lock(&self.state).jd(header)?.open_count += 1;
        Ok(header)
    }

    /// `dlupdate(handle)`: links and runs the initialisers added since the
    /// JITDylib was opened (clang-repl's incremental inputs).
    pub fn dlupdate(&self, header: u64) -> Result<(), PlatformError> {
        lock(&self.state).jd(header)?;
        self.update(header)
    }

    fn update(&self, header: u64) -> Result<(), PlatformError> {
        let deps = self.push_initializers(header)?;
        let map: HashMap<u64, Vec<u64>> = deps
            .into_iter()
            .map(|(h, d)| (h.value(), d.into_iter().map(ExecutorAddr::value).collect()))
            .collect();
        let mut visited = Vec::new();
        self.initialize(header, &map, &mut visited)
    }

    /// Runs the new initialisers of `header`, dependencies first.
    fn initialize(
        &self,
        header: u64,
        deps: &HashMap<u64, Vec<u64>>,
        visited: &mut Vec<u64>,
    ) -> Result<(), PlatformError> {
        if visited.contains(&header) {
            return Ok(());
        }
        visited.push(header);
        let new_deps = {
            let mut st = lock(&self.state);
            let name = st.jd(header)?.name.clone();
            match deps.get(&header) {
                Some(d) => {
                    for &dep in d {
                        if !st.jds.contains_key(&dep) {
                            return Err(PlatformError::UnknownDependency { dep, name });
                        }
                    }
                    let jd = st.jd(header)?;
                    let old = std::mem::replace(&mut jd.deps, d.clone());
                    for &dep in d {
                        if let Some(j) = st.jds.get_mut(&dep) {
                            j.linked_against += 1;
                        }
                    }
                    for dep in old {
                        if let Some(j) = st.jds.get_mut(&dep) {
                            j.linked_against = j.linked_against.saturating_sub(1);
                        }
                    }
                    d.clone()
                }
                None => Vec::new(),
            }
        };
        for dep in new_deps {
            self.initialize(dep, deps, visited)?;
        }
        self.run_new_inits(header)
    }

    /// Runs the initialisers of `header` that have not run since its last
    /// close, in registration order, with no lock held.
    fn run_new_inits(&self, header: u64) -> Result<(), PlatformError> {
        loop {
            // Initialisers may dlopen or register more: take one range at a time.
            let next = {
                let mut st = lock(&self.state);
                let jd = st.jd(header)?;
                let i = jd
                    .inits
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| !r.run)
                    .min_by_key(|(_, r)| r.seq)
                    .map(|(i, _)| i);
                match i {
                    Some(i) => {
                        jd.inits[i].run = true;
                        jd.finis_due = true;
                        // The ranges of one registration run together, in order.
                        let seq = jd.inits[i].seq;
                        let mut batch = Vec::new();
                        for r in jd.inits.iter_mut().filter(|r| r.seq == seq) {
                            r.run = true;
                            batch.push(r.range);
                        }
                        batch
                    }
                    None => return Ok(()),
                }
            };
            for range in next {
                for f in read_pointers("initializer", range)? {
                    // SAFETY: the controller registered this range as an
                    // initialiser array of JIT'd code (the protocol's trust
                    // model); each entry is a `void(void)` function. A
                    // crash (with crash recovery on) fails the call.
                    unsafe { jit_call::call_void_checked(f as usize) }?;
                }
            }
        }
    }

    /// JIT'd `dlclose(handle)`: on the last close, runs the JITDylib's
    /// deinitialisers and resets its initialisers, then releases its
    /// dependencies.
    pub fn dlclose(&self, header: u64) -> Result<(), PlatformError> {
        self.release(header, false)
    }

    /// Drops one open reference; on the last, [`Self::close`].
    fn release(&self, header: u64, program_end: bool) -> Result<(), PlatformError> {
        {
            let mut st = lock(&self.state);
            let jd = st.jd(header)?;
            if jd.open_count == 0 {
                return Err(PlatformError::NotOpen(jd.name.clone()));
            }
            jd.open_count -= 1;
            if jd.referenced() {
                return Ok(());
            }
        }
        self.close(header, program_end)
    }

    /// Runs the deinitialisers of `header` (and, for the end of a program,
    /// the platform JITDylib's `atexit` list merged in by registration
    /// order), resets its initialisers, and closes unreferenced
    /// dependencies.
    fn close(&self, header: u64, program_end: bool) -> Result<(), PlatformError> {
        let mut headers = vec![header];
        if program_end {
            let st = lock(&self.state);
            if let Ok((platform, _)) = Self::running(&st) {
                headers.push(platform);
            }
        }
        self.run_deinitializers(&headers, program_end);
        let deps = {
            let mut st = lock(&self.state);
            let jd = st.jd(header)?;
            for i in &mut jd.inits {
                i.run = false;
            }
            let deps = std::mem::take(&mut jd.deps);
            let mut to_close = Vec::new();
            for dep in deps {
                if let Some(j) = st.jds.get_mut(&dep) {
                    j.linked_against = j.linked_against.saturating_sub(1);
                    if !j.referenced() && dep != header {
                        to_close.push(dep);
                    }
                }
            }
            to_close
        };
        for dep in deps {
            self.close(dep, false)?;
        }
        Ok(())
    }

    /// Runs the pending deinitialisers of the JITDylibs `headers` (with the
    /// orphans if `orphans`) one at a time, newest first, as `exit` does: a
    /// handler registered while they run is the newest, so it runs next.
    fn run_deinitializers(&self, headers: &[u64], orphans: bool) {
        // Finaliser arrays due now join the handlers, each function with
        // its object's registration order (an array runs in reverse).
        let due: Vec<(u64, ExecutorAddrRange, u64)> = {
            let mut st = lock(&self.state);
            let mut due = Vec::new();
            for h in headers {
                if let Some(jd) = st.jds.get_mut(h) {
                    if std::mem::take(&mut jd.finis_due) {
                        due.extend(jd.finis.iter().map(|&(r, seq)| (*h, r, seq)));
                    }
                }
            }
            due
        };
        for (h, range, seq) in due {
            match read_pointers("finalizer", range) {
                Ok(fs) => {
                    let mut st = lock(&self.state);
                    if let Some(jd) = st.jds.get_mut(&h) {
                        jd.atexits.extend(fs.into_iter().map(|f| Deinit {
                            seq,
                            f,
                            arg: 0,
                            with_arg: false,
                        }));
                    }
                }
                Err(e) => crate::error::report_unowned(e.into()),
            }
        }
        loop {
            let next = {
                let mut st = lock(&self.state);
                // The newest entry: highest sequence number, and among a
                // finaliser array's functions (same number), the last.
                // `None` as the list means the orphans.
                let mut best: Option<(Option<u64>, usize, u64)> = None;
                let mut consider = |list: Option<u64>, l: &[Deinit]| {
                    for (i, d) in l.iter().enumerate() {
                        if best.is_none_or(|(_, _, s)| d.seq >= s) {
                            best = Some((list, i, d.seq));
                        }
                    }
                };
                for h in headers {
                    if let Some(jd) = st.jds.get(h) {
                        consider(Some(*h), &jd.atexits);
                    }
                }
                if orphans {
                    consider(None, &st.orphans);
                }
                best.and_then(|(list, i, _)| match list {
                    Some(h) => st.jds.get_mut(&h).map(|jd| jd.atexits.remove(i)),
                    None => Some(st.orphans.remove(i)),
                })
            };
            match next {
                Some(d) => run_deinit(d),
                None => return,
            }
        }
    }

    /// Runs every pending deinitialiser of `header` (the controller is
    /// tearing it down).
    fn run_deinitializers_of(&self, header: u64) {
        let is_platform = matches!(
            Self::running(&lock(&self.state)),
            Ok((p, _)) if p == header
        );
        if is_platform {
            self.run_all_deinitializers();
        } else {
            self.run_deinitializers(&[header], false);
        }
    }

    /// Runs every pending deinitialiser of every JITDylib, newest first.
    pub fn run_all_deinitializers(&self) {
        let headers: Vec<u64> = lock(&self.state).jds.keys().copied().collect();
        self.run_deinitializers(&headers, true);
    }

    /// `run_program(jd, entry, args)`: on a fresh program thread, dlopen of
    /// `jd` (its initialisers) and `entry(argc, argv)` with `argv` exactly
    /// `args`; then the thread ends (its `thread_local` destructors run, as
    /// at a native `exit`), and the program's deinitialisers run as the
    /// JITDylib closes.
    pub fn run_program(
        self: &Arc<Self>,
        jd: &str,
        entry: &str,
        args: &[Vec<u8>],
    ) -> Result<i64, PlatformError> {
        let (jd, entry, args) = (jd.to_string(), entry.to_string(), args.to_vec());
        let (tx, rx) = std::sync::mpsc::sync_channel::<RunOutcome>(2);
        *lock(&self.exit_waiter) = Some(tx.clone());
        let posted = self.post_to_program_thread(move |p| {
            let run = || -> Result<(u64, i64), PlatformError> {
                let fail = |message: String| PlatformError::RunProgram {
                    jd: jd.clone(),
                    entry: entry.clone(),
                    message,
                };
                let header = p.dlopen(&jd, RTLD_LAZY)?;
                let main = match p.lookup_symbol(header, &entry) {
                    Ok(0) => Err(fail("the entry point's address is null".into())),
                    Ok(a) => Ok(a),
                    Err(e) => Err(e),
                };
                let main = match main {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = p.dlclose(header);
                        return Err(e);
                    }
                };
                // SAFETY: the entry point of a JITDylib the controller
                // registered, looked up by name: JIT'd code the controller
                // linked, on its word.
                let r =
                    unsafe { crate::services::run_as::run_as_main(ExecutorAddr::new(main), &args) }
                        .map_err(|e| fail(e.to_string()))?;
                Ok((header, r))
            };
            let r = run();
            let _ = tx.send(RunOutcome::Returned(r));
        });
        if let Err(e) = posted {
            lock(&self.exit_waiter).take();
            return Err(e);
        }
        let outcome = rx.recv();
        lock(&self.exit_waiter).take();
        match outcome {
            Ok(RunOutcome::Returned(r)) => {
                self.end_program_thread();
                let (header, r) = r?;
                // The end of the program: close the JITDylib (its handlers
                // and the platform's `atexit` list), unless JIT'd code still
                // holds it open.
                self.release(header, true)?;
                Ok(r)
            }
            // JIT'd code called exit(status); its thread runs the rest.
            Ok(RunOutcome::Exited(status)) => Ok(i64::from(status)),
            Err(_) => Err(PlatformError::ProgramThread("it ended during main".into())),
        }
    }

    /// dlopen from the controller (`__orc_rt_jit_dlopen_wrapper`, LLJIT's
    /// initialize): on the program thread, so that every controller-run
    /// initialiser sees the same thread-locals, as in one native process.
    pub fn controller_dlopen(
        self: &Arc<Self>,
        path: &str,
        mode: i32,
    ) -> Result<u64, PlatformError> {
        let path = path.to_string();
        self.on_program_thread(move |p| p.dlopen(&path, mode))?
    }

    /// dlupdate from the controller (clang-repl's later inputs), on the
    /// program thread.
    pub fn controller_dlupdate(self: &Arc<Self>, header: u64) -> Result<(), PlatformError> {
        self.on_program_thread(move |p| p.dlupdate(header))?
    }

    /// dlclose from the controller (`__orc_rt_jit_dlclose_wrapper`, LLJIT's
    /// deinitialize): the end of a program run. On the last close, the
    /// program thread ends (its `thread_local` destructors run), then the
    /// JITDylib's deinitialisers and the platform's `atexit` handlers run.
    pub fn controller_dlclose(self: &Arc<Self>, header: u64) -> Result<(), PlatformError> {
        let last = {
            let mut st = lock(&self.state);
            let jd = st.jd(header)?;
            jd.open_count == 1 && jd.linked_against == 0
        };
        if last {
            self.end_program_thread();
        }
        self.release(header, true)
    }

    /// Runs `f` on the program thread (started if needed; inline when
    /// called from it) and returns its result.
    fn on_program_thread<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Arc<Self>) -> R + Send + 'static,
    ) -> Result<R, PlatformError> {
        let on_it = lock(&self.program_thread)
            .as_ref()
            .is_some_and(|t| t.id == std::thread::current().id());
        if on_it {
            return Ok(f(self));
        }
        let (rtx, rrx) = std::sync::mpsc::sync_channel(1);
        self.post_to_program_thread(move |p| {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(p)));
            let _ = rtx.send(r);
        })?;
        match rrx.recv() {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(_)) => Err(PlatformError::ProgramThread("a job panicked".into())),
            Err(_) => Err(PlatformError::ProgramThread("it ended during a job".into())),
        }
    }

    /// Queues `f` on the program thread, started if needed.
    fn post_to_program_thread(
        self: &Arc<Self>,
        f: impl FnOnce(&Arc<Self>) + Send + 'static,
    ) -> Result<(), PlatformError> {
        let jobs = {
            let mut pt = lock(&self.program_thread);
            if pt.is_none() {
                let (tx, rx) = std::sync::mpsc::channel::<ProgramJob>();
                let handle = std::thread::Builder::new()
                    .name("main".into())
                    .stack_size(crate::task_dispatcher::default_stack_size())
                    .spawn(move || {
                        while let Ok(job) = rx.recv() {
                            job();
                        }
                    })
                    .map_err(|e| PlatformError::ProgramThread(e.to_string()))?;
                *pt = Some(ProgramThread {
                    id: handle.thread().id(),
                    jobs: tx,
                    handle,
                });
            }
            pt.as_ref().map(|t| t.jobs.clone())
        };
        let me = self.clone();
        // The job runs for the caller's controller call: host functions
        // find that call's Session there too.
        let call = crate::wrapper_function::current::current_call();
        let job: ProgramJob = Box::new(move || {
            let _call = call.map(crate::wrapper_function::current::enter_call);
            f(&me)
        });
        jobs.and_then(|j| j.send(job).ok())
            .ok_or_else(|| PlatformError::ProgramThread("it has ended".into()))
    }

    /// Ends the program thread once its queued jobs are done; its
    /// `thread_local` destructors run as it exits.
    fn end_program_thread(&self) {
        let t = lock(&self.program_thread).take();
        if let Some(t) = t {
            drop(t.jobs);
            // A thread inside exit() never finishes its job.
            let exiting = *lock(&EXIT_PHASE) != ExitPhase::Running;
            if t.id != std::thread::current().id() && !exiting {
                let _ = t.handle.join();
            }
        }
    }
}

type ProgramJob = Box<dyn FnOnce() + Send>;

/// The thread that runs the program's code on the controller's behalf:
/// initialisers, `main`, as a native process's main thread does.
struct ProgramThread {
    id: std::thread::ThreadId,
    jobs: std::sync::mpsc::Sender<ProgramJob>,
    handle: std::thread::JoinHandle<()>,
}

/// Reads an array of function pointers; null and `-1` entries (`.ctors`
/// sentinels) are skipped.
fn read_pointers(what: &'static str, range: ExecutorAddrRange) -> Result<Vec<u64>, PlatformError> {
    let (start, end) = (range.start.value(), range.end.value());
    let bytes =
        mem::read_vec(start, end - start).map_err(|source| PlatformError::UnreadableArray {
            what,
            start,
            source,
        })?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .filter(|&f| f != 0 && f != u64::MAX)
        .collect())
}

fn run_deinit(d: Deinit) {
    if d.f == 0 {
        return;
    }
    if d.with_arg {
        // SAFETY: JIT'd code registered `void f(void *)` with this argument
        // through `__cxa_atexit`.
        unsafe { jit_call::call_with_ptr(d.f as usize, d.arg as usize) };
    } else {
        // SAFETY: JIT'd code registered `void f(void)` through `atexit`, or
        // it is a finaliser array entry.
        unsafe { jit_call::call_void(d.f as usize) };
    }
}

/// Converts C strings from JIT'd code.
pub fn c_str_arg(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    mem::read_c_string(p as u64)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The argument vector of `run_program` called from JIT'd code.
pub fn c_args(argc: c_int, argv: *const *const c_char) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    if argv.is_null() {
        return v;
    }
    for i in 0..argc.max(0) as usize {
        let mut p = [0u8; 8];
        if mem::read(argv as u64 + 8 * i as u64, &mut p).is_err() {
            break;
        }
        let s = u64::from_le_bytes(p);
        if s == 0 {
            break;
        }
        match mem::read_c_string(s) {
            Ok(b) => v.push(b),
            Err(_) => break,
        }
    }
    v
}

/// A C string for `dlerror`.
pub fn to_c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

impl Service for ElfNixPlatform {
    fn on_detach(&self, on_complete: OnCompleteFn, shutdown_requested: bool) {
        // The controller is gone: a program inside exit() may end.
        session_ended();
        // Detach alone leaves JIT'd code running; only a shutdown ends it.
        if shutdown_requested {
            self.run_all_deinitializers();
        }
        on_complete(Ok(()))
    }

    fn on_shutdown(&self, on_complete: OnCompleteFn) {
        session_ended();
        self.end_program_thread();
        self.run_all_deinitializers();
        self.forget_everything();
        on_complete(Ok(()))
    }
}
