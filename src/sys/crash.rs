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
//!
//! The same landing pad ends a call that runs too long
//! ([`set_call_timeout`]) or that SIGINT interrupts: a watchdog thread
//! sends the call's thread a real-time signal, whose handler redirects it
//! only while it executes JIT'd code (anonymous memory, not a loaded
//! object), so an interrupt never lands inside libc or orc-rt.

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
    pub sp: u64,
    /// Its frame pointer.
    pub fp: u64,
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
static PREVIOUS: [AtomicUsize; 65] = [const { AtomicUsize::new(0) }; 65];

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
        install(sig, handler)?;
    }
    install(interrupt_signal(), on_interrupt)?;
    install(libc::SIGINT, on_sigint)?;
    refresh_loaded_code();
    start_watchdog();
    ENABLED.store(true, Ordering::Release);
    Ok(())
}

type Handler = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);

/// Installs `h` for `sig` (on the alternate stack), remembering the
/// disposition it replaces.
fn install(sig: c_int, h: Handler) -> io::Result<()> {
    // SAFETY: zeroed sigaction structs are valid; the handler is an
    // `extern "C"` function of the SA_SIGINFO shape that stays alive.
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = h as *const () as usize;
        new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut new.sa_mask);
        let old = Box::into_raw(Box::new(std::mem::zeroed::<libc::sigaction>()));
        if libc::sigaction(sig, &new, old) != 0 {
            return Err(io::Error::last_os_error());
        }
        PREVIOUS[sig as usize].store(old as usize, Ordering::Release);
    }
    Ok(())
}

/// The executable segment that contains `addr` (its object's PT_LOAD
/// with PF_X).
pub(super) fn segment_of(addr: usize) -> Option<(u64, u64)> {
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
        let pc = context_pc(uc);
        let own =
            (OWN_START.load(Ordering::Relaxed)..OWN_END.load(Ordering::Relaxed)).contains(&pc);
        let point = current();
        if !point.is_null() && !own && is_fault(sig, &*info) {
            let p = &mut *point;
            p.signo = sig;
            p.addr = (*info).si_addr() as u64;
            p.pc = pc;
            resume_at_landing(uc, p);
            return;
        }
        chain(sig, info, ctx);
    }
}

/// The interrupted instruction's address in a signal context.
#[cfg(target_arch = "x86_64")]
fn context_pc(uc: &libc::ucontext_t) -> u64 {
    uc.uc_mcontext.gregs[libc::REG_RIP as usize] as u64
}

/// The interrupted instruction's address in a signal context.
#[cfg(target_arch = "aarch64")]
fn context_pc(uc: &libc::ucontext_t) -> u64 {
    uc.uc_mcontext.pc
}

/// Makes the signal context resume at `p`'s landing pad, with the
/// trampoline's stack and frame pointers (the landing pad restores every
/// other callee-saved register from that frame).
#[cfg(target_arch = "x86_64")]
fn resume_at_landing(uc: &mut libc::ucontext_t, p: &RecoveryPoint) {
    let gregs = &mut uc.uc_mcontext.gregs;
    gregs[libc::REG_RSP as usize] = p.sp as i64;
    gregs[libc::REG_RBP as usize] = p.fp as i64;
    gregs[libc::REG_RIP as usize] = p.landing as i64;
}

/// Makes the signal context resume at `p`'s landing pad, with the
/// trampoline's stack and frame pointers (x29; the landing pad restores
/// every other callee-saved register from that frame).
#[cfg(target_arch = "aarch64")]
fn resume_at_landing(uc: &mut libc::ucontext_t, p: &RecoveryPoint) {
    let mc = &mut uc.uc_mcontext;
    mc.sp = p.sp;
    mc.regs[29] = p.fp;
    mc.pc = p.landing;
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

// ---- Interrupting a running call: a time limit and SIGINT ----
//
// A thread inside a call of JIT'd code (not nested in another such call)
// holds a slot here; a thread inside one of orc-rt's own wrapper functions
// (which may be waiting for another thread) never does.
// When a call's time limit passes (the watchdog thread checks every 50 ms)
// or the executor gets SIGINT, the slot is marked and its thread gets
// `interrupt_signal()`; its handler resumes the thread at the recovery
// point as for a fault, unless the thread is in orc-rt's own code (then
// the watchdog, or the next SIGINT, tries again).

/// Why a call was interrupted (in its slot; 0: it was not).
pub const INTERRUPT_TIMEOUT: i32 = -1;
/// Interrupted by SIGINT.
pub const INTERRUPT_SIGINT: i32 = -2;

struct Slot {
    /// `pthread_self()` of the thread in the call; 0: the slot is free.
    thread: AtomicU64,
    /// When the call's time is up (ms since [`START`]); 0: never.
    deadline: AtomicU64,
    /// 0, or [`INTERRUPT_TIMEOUT`] / [`INTERRUPT_SIGINT`].
    why: std::sync::atomic::AtomicI32,
}

const SLOTS: usize = 64;
static CALLS: [Slot; SLOTS] = [const {
    Slot {
        thread: AtomicU64::new(0),
        deadline: AtomicU64::new(0),
        why: std::sync::atomic::AtomicI32::new(0),
    }
}; SLOTS];
/// The time limit of a call, in ms (0: none).
static TIMEOUT_MS: AtomicU64 = AtomicU64::new(0);
static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

thread_local! {
    /// This thread's slot while it runs an outermost call (or SLOTS).
    static SLOT: Cell<usize> = const { Cell::new(SLOTS) };
}

fn now_ms() -> u64 {
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

/// The signal that interrupts a thread: a real-time one, unused by libc.
pub fn interrupt_signal() -> c_int {
    libc::SIGRTMIN() + 5
}

/// Sets the time limit of each call into JIT'd code (`None`: no limit).
/// Enforced once [`enable`] has run.
pub fn set_call_timeout(limit: Option<std::time::Duration>) {
    let ms = limit.map_or(0, |d| d.as_millis().clamp(1, u64::MAX as u128) as u64);
    TIMEOUT_MS.store(ms, Ordering::Relaxed);
}

/// The executable segments of the loaded objects (executable, libc, the
/// C++ runtime...): an interrupt never lands there, only in JIT'd code,
/// which lives in anonymous memory. So JIT'd code blocked in a library
/// call (a `sleep`, a lock) is interrupted only once it is back.
const LOADED_MAX: usize = 256;
static LOADED: [(AtomicU64, AtomicU64); LOADED_MAX] =
    [const { (AtomicU64::new(0), AtomicU64::new(0)) }; LOADED_MAX];
static LOADED_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Re-reads [`LOADED`] from the loader (not from a signal handler).
fn refresh_loaded_code() {
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: the loader passes a valid info; `data` is our Vec.
        let (info, out) = unsafe { (&*info, &mut *(data as *mut Vec<(u64, u64)>)) };
        for i in 0..info.dlpi_phnum as usize {
            // SAFETY: dlpi_phdr holds dlpi_phnum headers.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_X != 0 {
                let start = info.dlpi_addr + ph.p_vaddr;
                out.push((start, start + ph.p_memsz));
            }
        }
        0
    }
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    // SAFETY: `each` only reads the loader's structures during the call.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut ranges as *mut _ as *mut c_void) };
    ranges.truncate(LOADED_MAX);
    // Grow-only publication: entries are written before the count covers
    // them; objects are seldom unloaded, and a stale range only delays an
    // interrupt.
    for (i, (s, e)) in ranges.iter().enumerate() {
        LOADED[i].0.store(*s, Ordering::Relaxed);
        LOADED[i].1.store(*e, Ordering::Release);
    }
    LOADED_COUNT.fetch_max(ranges.len(), Ordering::AcqRel);
}

/// Whether `pc` is in a loaded object's code. Async-signal-safe.
fn in_loaded_code(pc: u64) -> bool {
    let n = LOADED_COUNT.load(Ordering::Acquire).min(LOADED_MAX);
    LOADED[..n]
        .iter()
        .any(|(s, e)| (s.load(Ordering::Relaxed)..e.load(Ordering::Acquire)).contains(&pc))
}

/// Starts the thread that enforces time limits, delivers SIGINT's
/// interrupts again until they land, and keeps [`LOADED`] current.
fn start_watchdog() {
    let _ = std::thread::Builder::new()
        .name("orc-rt-watchdog".into())
        .spawn(|| loop {
            std::thread::sleep(std::time::Duration::from_millis(50));
            refresh_loaded_code();
            let now = now_ms();
            for s in &CALLS {
                let d = s.deadline.load(Ordering::Acquire);
                if d != 0 && now >= d {
                    let _ = s.why.compare_exchange(
                        0,
                        INTERRUPT_TIMEOUT,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                }
            }
            kick_marked();
        });
}

/// Sends the interrupt signal to every thread whose call is marked.
/// Async-signal-safe.
fn kick_marked() {
    for s in &CALLS {
        let t = s.thread.load(Ordering::Acquire);
        if t != 0 && s.why.load(Ordering::Acquire) != 0 {
            // SAFETY: `t` is a live thread: it clears its slot before it
            // leaves the call, and threads running JIT'd calls are pool
            // threads that outlive them.
            unsafe { libc::pthread_kill(t as libc::pthread_t, interrupt_signal()) };
        }
    }
}

/// Whether `pc` is in orc-rt's own code (see [`enable`]).
pub fn is_own_code(pc: u64) -> bool {
    (OWN_START.load(Ordering::Relaxed)..OWN_END.load(Ordering::Relaxed)).contains(&pc)
}

/// Whether the calling thread holds a slot ([`call_started`]).
pub fn in_interruptible_call() -> bool {
    SLOT.try_with(|c| c.get() != SLOTS).unwrap_or(true)
}

/// Marks the calling thread as inside an interruptible call; returns its slot
/// (for [`call_ended`]), or `None` when there is no free slot.
pub fn call_started() -> Option<usize> {
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() } as u64;
    let timeout = TIMEOUT_MS.load(Ordering::Relaxed);
    for (i, s) in CALLS.iter().enumerate() {
        if s.thread
            .compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            s.why.store(0, Ordering::Release);
            let d = if timeout == 0 { 0 } else { now_ms() + timeout };
            s.deadline.store(d, Ordering::Release);
            let _ = SLOT.try_with(|c| c.set(i));
            return Some(i);
        }
    }
    None
}

/// Frees the slot of [`call_started`].
pub fn call_ended(slot: usize) {
    let _ = SLOT.try_with(|c| c.set(SLOTS));
    if let Some(s) = CALLS.get(slot) {
        s.deadline.store(0, Ordering::Release);
        s.why.store(0, Ordering::Release);
        s.thread.store(0, Ordering::Release);
    }
}

/// Handler of [`interrupt_signal`]: resumes the thread at its recovery
/// point if its call is marked and it runs code other than orc-rt's.
extern "C" fn on_interrupt(_sig: c_int, _info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let slot = SLOT.try_with(|c| c.get()).unwrap_or(SLOTS);
    let Some(s) = CALLS.get(slot) else { return };
    let why = s.why.load(Ordering::Acquire);
    let point = current();
    if why == 0 || point.is_null() {
        return;
    }
    // SAFETY: as in `handler`: the kernel's context of this thread, and
    // this thread's active recovery point.
    unsafe {
        let uc = &mut *(ctx as *mut libc::ucontext_t);
        let pc = context_pc(uc);
        if is_own_code(pc) || in_loaded_code(pc) {
            return; // not in JIT'd code: retried later
        }
        let p = &mut *point;
        p.signo = why;
        p.addr = 0;
        p.pc = pc;
        resume_at_landing(uc, p);
    }
    // The call is over: nothing more to interrupt.
    s.deadline.store(0, Ordering::Release);
    s.why.store(0, Ordering::Release);
}

/// SIGINT: interrupts the running calls; with none, does what SIGINT did
/// before (by default, ends the process).
extern "C" fn on_sigint(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let mut any = false;
    for s in &CALLS {
        if s.thread.load(Ordering::Acquire) != 0 {
            let _ =
                s.why
                    .compare_exchange(0, INTERRUPT_SIGINT, Ordering::AcqRel, Ordering::Acquire);
            any = true;
        }
    }
    if !any {
        // SAFETY: forwarded handler arguments.
        unsafe { chain(sig, info, ctx) }
    }
}
