//! Program runs: `run_program` and the controller's `dlopen`, `dlupdate`
//! and `dlclose`, each on the platform's program thread, so that a
//! program's initialisers, `main` and deinitialisers see the same
//! thread-locals, as in one native process.

use std::sync::Arc;

use super::exit::RunOutcome;
use super::{ElfNixPlatform, PlatformError, RTLD_LAZY};
use crate::sync::lock;
use crate::ExecutorAddr;

impl ElfNixPlatform {
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
        if self.program_thread.is_current() {
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
        let me = self.clone();
        // The job runs for the caller's controller call: host functions
        // find that call's Session there too.
        let call = crate::wrapper_function::current::current_call();
        self.program_thread.post(Box::new(move || {
            let _call = call.map(crate::wrapper_function::current::enter_call);
            f(&me)
        }))
    }
}
