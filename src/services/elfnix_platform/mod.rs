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
//! **Architectures.** The archive is built for the target's architecture,
//! as `liborc_rt_elfnix-x86_64.a` or `liborc_rt_elfnix-aarch64.a`
//! ([`ARCHIVE_NAME`]); other targets have none. Its C stubs
//! (`archive/elfnix_stubs.c`, which also define every tag) are the same on
//! both. Two entry points follow the architecture's conventions, in
//! assembly, one file each per architecture:
//!
//! | entry point | x86-64 | AArch64 |
//! |---|---|---|
//! | thread-locals ([`tls`]) | `___orc_rt_elfnix_tls_get_addr`, for `__tls_get_addr` calls (`elfnix_tls.x86-64.S`) | `___orc_rt_elfnix_tlsdesc_resolver`, the TLS descriptor resolver (`elfnix_tls.aarch64.S`) |
//! | lazy re-entry (`-lazy`, `__orc_rt_reenter`) | `__orc_rt_sysv_reenter` entered by a 5-byte call; saves every GPR and the FXSAVE state (`elfnix_reenter.x86-64.S`) | `__orc_rt_sysv_reenter` entered from JITLink's `stp x29, x30` / `bl` trampoline; saves the AAPCS64 argument registers (`x0`-`x8`, `q0`-`q7`) and the other temporaries a caller may use (`x9`-`x15`, `x18`), pops the trampoline's pair and branches through `x16` (`elfnix_reenter.aarch64.S`) |
//!
//! Both pass the same arguments to the same Rust functions, so everything
//! else here is shared. On AArch64 the platform is tested under qemu
//! (`scripts/cross-platform-cases.sh`): thread-locals from several
//! threads, argument registers live across descriptor calls and lazy
//! calls, C++ static and thread-local objects, `atexit`.
//!
//! One platform per process can be bootstrapped at a time: JIT'd code's
//! `atexit` or thread-local lookup carries no Session, exactly as a process
//! has one loader.

mod archive;
mod c_strings;
mod error;
mod exit;
mod jitdylib;
mod program;
mod program_thread;
pub mod tls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use crate::controller_access::HandlerTag;
use crate::service::{OnCompleteFn, Service};
use crate::session::Session;
use crate::sps::orc_types::ExecutorSymbolDef;
use crate::sps::SpsExpected;
use crate::sync::lock;
use crate::sys::jit_call;
use crate::{ExecutorAddr, ExecutorAddrRange};
use exit::RunOutcome;
use jitdylib::{check_ranges, read_pointers, run_deinit, Phase, State};
use program_thread::ProgramThreadSlot;

pub use archive::{archive_path, ARCHIVE_NAME};
pub use c_strings::{c_args, c_str_arg, to_c_string};
pub use error::PlatformError;
pub use exit::wait_if_program_exiting;
pub use jitdylib::PlatformTags;

/// `RTLD_LAZY`, the mode LLJIT's dlopen wrapper passes.
pub const RTLD_LAZY: i32 = 1;

/// The ELF platform runtime Service of one Session.
pub struct ElfNixPlatform {
    session: Weak<Session>,
    state: Mutex<State>,
    program_thread: ProgramThreadSlot,
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

/// glibc `on_exit` hook, registered at bootstrap: JIT'd code called `exit`
/// (or returned from a `main` that libc runs). The calling thread's
/// `thread_local` destructors have run; the pending deinitialisers run now,
/// newest first. If a program run is waiting for `main`, it answers the
/// controller with the exit status, and this thread waits until the
/// controller has ended the Session, so that llvm-jitlink exits with the
/// program's status, as a native process would ([`exit`]).
extern "C" fn at_process_exit(status: std::os::raw::c_int, _arg: *mut std::os::raw::c_void) {
    let Ok(p) = active() else { return };
    p.run_all_deinitializers();
    let waiter = lock(&p.exit_waiter).take();
    let Some(waiter) = waiter else { return };
    if !exit::answer_run(waiter, status) {
        return;
    }
    drop(p);
    exit::wait_for_session_end();
}

impl ElfNixPlatform {
    /// A platform for `session`'s JIT'd code, inactive until the controller
    /// bootstraps it. Add it to the Session after the memory services, so
    /// that it is told of shutdown before they release JIT'd memory.
    pub fn new(session: &Arc<Session>) -> Arc<Self> {
        let p = Arc::new(ElfNixPlatform {
            session: Arc::downgrade(session),
            state: Mutex::new(State::default()),
            program_thread: ProgramThreadSlot::default(),
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
            st.clear_jitdylibs();
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

    /// `register_jitdylib`.
    pub fn register_jitdylib(&self, name: &str, header: ExecutorAddr) -> Result<(), PlatformError> {
        let mut st = lock(&self.state);
        st.running()?;
        st.add_jitdylib(name, header.value())
    }

    /// `deregister_jitdylib`: runs the JITDylib's pending deinitialisers,
    /// then forgets it.
    pub fn deregister_jitdylib(&self, header: ExecutorAddr) -> Result<(), PlatformError> {
        self.run_deinitializers_of(header.value());
        lock(&self.state).remove_jitdylib(header.value())
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
        lock(&self.state).running()?;
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

    /// `register_init_sections`: ranges of initialiser pointers, in the
    /// order they must run.
    pub fn register_init_sections(
        &self,
        header: ExecutorAddr,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        check_ranges("initializer", ranges)?;
        let mut st = lock(&self.state);
        st.running()?;
        st.add_inits(header.value(), ranges)
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
        lock(&self.state).remove_inits(header.value(), ranges)
    }

    /// `register_fini_sections` (sent by LLVM 23's controller): ranges of
    /// finaliser pointers, in the order they must run.
    pub fn register_fini_sections(
        &self,
        header: ExecutorAddr,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        check_ranges("finalizer", ranges)?;
        let mut st = lock(&self.state);
        st.running()?;
        st.add_finis(header.value(), ranges)
    }

    /// `deregister_fini_sections`.
    pub fn deregister_fini_sections(
        &self,
        header: ExecutorAddr,
        ranges: &[ExecutorAddrRange],
    ) -> Result<(), PlatformError> {
        self.run_deinitializers_of(header.value());
        lock(&self.state).remove_finis(header.value(), ranges)
    }

    /// `create_pthread_key`: a TLS key for a graph. Thread data is keyed by
    /// image ([`tls`]), so the key only has to be distinct.
    pub fn create_pthread_key(&self) -> Result<u64, PlatformError> {
        let mut st = lock(&self.state);
        st.running()?;
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
        st.running()?;
        st.add_atexit(dso, f, arg, with_arg);
        Ok(())
    }

    fn session(&self) -> Result<Arc<Session>, PlatformError> {
        self.session.upgrade().ok_or(PlatformError::NoSession)
    }

    fn tags(&self) -> Result<PlatformTags, PlatformError> {
        Ok(lock(&self.state).running()?.1)
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
            st.running()?;
            st.header_of(path)?
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
        let new_deps = lock(&self.state).link_deps(header, deps)?;
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
            let Some(next) = lock(&self.state).next_inits(header)? else {
                // A REPL statement's output is written when it has run.
                jit_call::flush_after_jit_code();
                return Ok(());
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
        if !lock(&self.state).drop_open(header)? {
            return Ok(());
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
            if let Ok((platform, _)) = st.running() {
                headers.push(platform);
            }
        }
        self.run_deinitializers(&headers, program_end);
        let deps = lock(&self.state).reset_and_unlink(header)?;
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
        let due = lock(&self.state).take_due_finis(headers);
        for (h, range, seq) in due {
            match read_pointers("finalizer", range) {
                Ok(fs) => lock(&self.state).add_finalizers(h, seq, fs),
                Err(e) => crate::error::report_unowned(e.into()),
            }
        }
        loop {
            let next = lock(&self.state).take_newest_deinit(headers, orphans);
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
            lock(&self.state).running(),
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
        let headers = lock(&self.state).headers();
        self.run_deinitializers(&headers, true);
    }

    /// Ends the program thread once its queued jobs are done; its
    /// `thread_local` destructors run as it exits.
    fn end_program_thread(&self) {
        self.program_thread.end();
    }
}

impl Service for ElfNixPlatform {
    fn on_detach(&self, on_complete: OnCompleteFn, shutdown_requested: bool) {
        // The controller is gone: a program inside exit() may end.
        exit::session_ended();
        // Detach alone leaves JIT'd code running; only a shutdown ends it.
        if shutdown_requested {
            self.run_all_deinitializers();
        }
        on_complete(Ok(()))
    }

    fn on_shutdown(&self, on_complete: OnCompleteFn) {
        exit::session_ended();
        self.end_program_thread();
        self.run_all_deinitializers();
        self.forget_everything();
        on_complete(Ok(()))
    }
}
