//! Resource limits (`setrlimit`) and the signals that enforce them.

use std::io;
use std::sync::OnceLock;

/// A resource `setrlimit` limits.
pub type Resource = libc::__rlimit_resource_t;

/// Lowers `resource` to `soft` (and its hard limit to `hard`); never raises
/// a limit above what it already is.
pub fn lower_limit(resource: Resource, soft: u64, hard: u64) -> io::Result<()> {
    let mut cur = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(resource, &mut cur) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let new = libc::rlimit {
        rlim_cur: soft.min(cur.rlim_max),
        rlim_max: hard.min(cur.rlim_max),
    };
    // SAFETY: setrlimit reads one rlimit from the struct we own.
    if unsafe { libc::setrlimit(resource, &new) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Message and exit status of the SIGXCPU handler.
static XCPU_EXIT: OnceLock<(Vec<u8>, i32)> = OnceLock::new();

extern "C" fn on_xcpu(_sig: libc::c_int) {
    // Only async-signal-safe calls: write(2) and _exit(2). The message was
    // stored before the handler was installed; OnceLock::get is a load.
    if let Some((msg, status)) = XCPU_EXIT.get() {
        // SAFETY: writes the bytes of a live, immutable buffer.
        unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
        // SAFETY: _exit has no preconditions.
        unsafe { libc::_exit(*status) };
    }
    // SAFETY: as above.
    unsafe { libc::_exit(128 + libc::SIGXCPU) };
}

/// On SIGXCPU (the soft CPU-time limit), writes `message` to stderr and
/// exits with `status` at once. Set once per process.
pub fn exit_on_cpu_limit(message: String, status: i32) -> io::Result<()> {
    let _ = XCPU_EXIT.set((message.into_bytes(), status));
    // SAFETY: the handler only makes async-signal-safe calls; sigaction is
    // given a zeroed, then filled, struct we own.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_xcpu as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGXCPU, &sa, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Ignores SIGXFSZ, so writing past the file-size limit fails with
/// `EFBIG` (an ordinary error) instead of killing the process.
pub fn ignore_file_size_signal() -> io::Result<()> {
    // SAFETY: SIG_IGN is a valid disposition for SIGXFSZ.
    if unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) } == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Writes `message` to stderr and ends the process with `status` now,
/// without running exit handlers (JIT'd code's `atexit` functions must not
/// run on a watchdog's thread).
pub fn exit_now(message: &str, status: i32) -> ! {
    let m = message.as_bytes();
    // SAFETY: writes the bytes of a live buffer.
    unsafe { libc::write(2, m.as_ptr().cast(), m.len()) };
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(status) }
}
