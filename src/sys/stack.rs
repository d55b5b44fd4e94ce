//! The stack a process's main thread gets: `RLIMIT_STACK`.

/// The soft `RLIMIT_STACK` in bytes; `None` if it is unlimited or cannot
/// be read.
pub fn soft_stack_limit() -> Option<u64> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    let r = unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut rl) };
    if r != 0 || rl.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(rl.rlim_cur)
}

/// Puts SIGSEGV and SIGBUS back to their default action (terminate, with a
/// core dump where enabled).
///
/// A Rust program's runtime installs handlers for them that turn a stack
/// overflow into the message "thread ... has overflowed its stack" and an
/// abort, blaming the runtime. JIT'd code must die as a native program
/// would: by SIGSEGV. An executor calls this first thing in `main`; JIT'd
/// code may still install its own handlers.
pub fn restore_default_fault_signals() {
    for sig in [libc::SIGSEGV, libc::SIGBUS] {
        // SAFETY: SIG_DFL is always a valid disposition for these signals.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
}
