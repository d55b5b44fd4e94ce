//! Crash recovery for calls into JIT'd code (opt-in, [`enable`]).
//!
//! Every call into JIT'd code goes through one trampoline
//! ([`super::jit_call`]). With recovery enabled, the trampoline records a
//! recovery point (its stack and frame pointers and the address of its
//! landing pad) in a [`RecoveryPoint`] the calling thread owns. A
//! synchronous fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) is handled
//! on an alternate stack: if the thread is inside such a call and the
//! faulting instruction is not orc-rt's own code, the handler rewrites the
//! interrupted context so that the thread resumes at the landing pad with
//! the trampoline's stack, and the call returns "crashed" with the signal
//! and addresses. No frame is unwound and no Rust code runs on the faulted
//! stack: the JIT'd frames are simply abandoned (as wasmtime does with
//! traps). Any other fault goes to the handler that was installed before
//! (Rust's stack-overflow report, or the default action, which kills the
//! process as natively).

use std::cell::Cell;
use std::io;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The signals a fault in JIT'd code raises.
pub const SIGNALS: [c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGTRAP,
];

/// Where a crashed call resumes, and what crashed it. Written by the
/// trampoline (the first three words, at fixed offsets it relies on) and
/// by the signal handler or the trampoline's personality.
#[repr(C)]
#[derive(Debug, Default)]
pub struct RecoveryPoint {
    /// The trampoline's stack pointer after its prologue.
    pub rsp: u64,
    /// Its frame pointer.
    pub rbp: u64,
    /// Its landing pad.
    pub landing: u64,
    /// The signal, or 0 for an exception.
    pub signo: i32,
    /// The fault address (`si_addr`).
    pub addr: u64,
    /// The faulting instruction.
    pub pc: u64,
    /// For an exception: the `_Unwind_Exception` being raised.
    pub exception: u64,
}

static ENABLED: AtomicBool = AtomicBool::new(false);
/// orc-rt's own executable code (the object holding the trampoline):
/// faults there are never recovered.
static OWN_START: AtomicU64 = AtomicU64::new(0);
static OWN_END: AtomicU64 = AtomicU64::new(0);
/// The handlers installed before ours, by signal (boxed `sigaction`s,
/// leaked: they live as long as the process).
static PREVIOUS: [AtomicUsize; 32] = [const { AtomicUsize::new(0) }; 32];

thread_local! {
    /// The innermost recovery point of this thread's active JIT'd call,
    /// or null. Const-initialised without destructor: a plain TLS read,
    /// fit for a signal handler.
    static CURRENT: Cell<*mut RecoveryPoint> = const { Cell::new(std::ptr::null_mut()) };
    /// This thread has an alternate signal stack.
    static ALT_STACK: Cell<bool> = const { Cell::new(false) };
}

/// Whether recovery is on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The recovery point of this thread's innermost active call.
pub fn current() -> *mut RecoveryPoint {
    CURRENT
        .try_with(|c| c.get())
        .unwrap_or(std::ptr::null_mut())
}

/// Makes `p` the thread's innermost recovery point; returns the previous.
pub fn set_current(p: *mut RecoveryPoint) -> *mut RecoveryPoint {
    CURRENT
        .try_with(|c| c.replace(p))
        .unwrap_or(std::ptr::null_mut())
}

/// Turns recovery on for the process: installs the fault handlers (once).
/// `own_code` is an address inside orc-rt's code (the trampoline), whose
/// executable segment is excluded from recovery.
pub fn enable(own_code: usize) -> io::Result<()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = crate::sync::lock(&LOCK);
    if ENABLED.load(Ordering::Acquire) {
        return Ok(());
    }
    if let Some((s, e)) = segment_of(own_code) {
        OWN_START.store(s, Ordering::Relaxed);
        OWN_END.store(e, Ordering::Relaxed);
    }
    for &sig in &SIGNALS {
        // SAFETY: zeroed sigaction structs are valid; the handler is an
        // `extern "C"` function of the SA_SIGINFO shape that stays alive.
        unsafe {
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = handler as *const () as usize;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut new.sa_mask);
            let old = Box::into_raw(Box::new(std::mem::zeroed::<libc::sigaction>()));
            if libc::sigaction(sig, &new, old) != 0 {
                return Err(io::Error::last_os_error());
            }
            PREVIOUS[sig as usize].store(old as usize, Ordering::Release);
        }
    }
    ENABLED.store(true, Ordering::Release);
    Ok(())
}

/// The executable segment that contains `addr` (its object's PT_LOAD
/// with PF_X).
fn segment_of(addr: usize) -> Option<(u64, u64)> {
    struct Search {
        addr: u64,
        found: Option<(u64, u64)>,
    }
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: the loader passes a valid info; `data` is our Search.
        let (info, search) = unsafe { (&*info, &mut *(data as *mut Search)) };
        for i in 0..info.dlpi_phnum as usize {
            // SAFETY: dlpi_phdr holds dlpi_phnum headers.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_X != 0 {
                let start = info.dlpi_addr + ph.p_vaddr;
                let end = start + ph.p_memsz;
                if (start..end).contains(&search.addr) {
                    search.found = Some((start, end));
                    return 1;
                }
            }
        }
        0
    }
    let mut search = Search {
        addr: addr as u64,
        found: None,
    };
    // SAFETY: `each` only reads the loader's structures during the call.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut search as *mut Search as *mut c_void) };
    search.found
}

/// Gives the calling thread an alternate signal stack if it has none, so
/// that a stack overflow in JIT'd code can be handled. Once per thread;
/// the stack is freed when the thread exits.
pub fn ensure_alt_stack() {
    if ALT_STACK.try_with(|a| a.replace(true)).unwrap_or(true) {
        return;
    }
    struct AltStack(u64, u64);
    impl Drop for AltStack {
        fn drop(&mut self) {
            // SAFETY: disables this thread's alternate stack (ours), then
            // unmaps it; no handler runs on it any more.
            unsafe {
                let ss = libc::stack_t {
                    ss_sp: std::ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                libc::sigaltstack(&ss, std::ptr::null_mut());
                let _ = super::mmap::unmap(self.0, self.1);
            }
        }
    }
    thread_local! {
        static OURS: Cell<Option<AltStack>> = const { Cell::new(None) };
    }
    // SAFETY: queries the current alternate stack.
    let mut old: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sigaltstack(std::ptr::null(), &mut old) } != 0 {
        return;
    }
    if old.ss_flags & libc::SS_DISABLE == 0 {
        return; // Rust's std (or the host) gave the thread one already
    }
    let size = (64 * 1024).max(libc::SIGSTKSZ as u64);
    let Ok(base) = super::mmap::map_anonymous_rw(size) else {
        return;
    };
    let ss = libc::stack_t {
        ss_sp: base as *mut c_void,
        ss_flags: 0,
        ss_size: size as usize,
    };
    // SAFETY: a fresh mapping of `size` bytes, kept until the thread exits.
    if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } == 0 {
        let _ = OURS.try_with(|o| o.set(Some(AltStack(base, size))));
    } else {
        // SAFETY: our mapping, never installed.
        let _ = unsafe { super::mmap::unmap(base, size) };
    }
}

/// The fault handler (see the module docs). Async-signal-safe: reads
/// atomics and a thread-local, writes the recovery point and the context.
extern "C" fn handler(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext for an
    // SA_SIGINFO handler; the recovery point belongs to this thread's
    // active trampoline frame, which outlives the handler.
    unsafe {
        let uc = &mut *(ctx as *mut libc::ucontext_t);
        let gregs = &mut uc.uc_mcontext.gregs;
        let pc = gregs[libc::REG_RIP as usize] as u64;
        let own =
            (OWN_START.load(Ordering::Relaxed)..OWN_END.load(Ordering::Relaxed)).contains(&pc);
        let point = current();
        if !point.is_null() && !own && is_fault(sig, &*info) {
            let p = &mut *point;
            p.signo = sig;
            p.addr = (*info).si_addr() as u64;
            p.pc = pc;
            gregs[libc::REG_RSP as usize] = p.rsp as i64;
            gregs[libc::REG_RBP as usize] = p.rbp as i64;
            gregs[libc::REG_RIP as usize] = p.landing as i64;
            return;
        }
        chain(sig, info, ctx);
    }
}

/// Raised by the faulting instruction itself (not sent by `kill`).
fn is_fault(sig: c_int, info: &libc::siginfo_t) -> bool {
    // si_code > 0: sent by the kernel for a fault; SIGTRAP from int3 has
    // SI_KERNEL (0x80), also positive.
    sig == libc::SIGTRAP || info.si_code > 0
}

/// Passes the signal to the handler installed before ours; with none,
/// restores the default action and raises it again (the process dies by
/// the signal, as natively).
///
/// # Safety
/// Called from the signal handler with its arguments.
unsafe fn chain(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let prev = PREVIOUS[sig as usize].load(Ordering::Acquire) as *const libc::sigaction;
    // SAFETY: a leaked sigaction written before ENABLED was set.
    let prev = unsafe { prev.as_ref() };
    match prev.map(|p| (p.sa_sigaction, p.sa_flags)) {
        Some((h, flags)) if h != libc::SIG_DFL && h != libc::SIG_IGN => {
            if flags & libc::SA_SIGINFO != 0 {
                // SAFETY: the previous handler, of the SA_SIGINFO shape.
                let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                    unsafe { std::mem::transmute(h) };
                f(sig, info, ctx)
            } else {
                // SAFETY: the previous handler, of the plain shape.
                let f: extern "C" fn(c_int) = unsafe { std::mem::transmute(h) };
                f(sig)
            }
        }
        _ => {
            // SAFETY: restores the default action; the signal is raised
            // again once this handler returns (a fault re-executes, a trap
            // gets the pending raise).
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
        }
    }
}

/// The name of a signal, for messages.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        _ => "signal",
    }
}
