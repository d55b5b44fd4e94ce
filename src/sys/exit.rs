//! Process exit hooks: glibc's `on_exit`, whose handlers learn the status
//! `exit` was called with.
//!
//! ```
//! use orc_rt::sys::exit;
//! extern "C" fn hook(_status: std::os::raw::c_int, _arg: *mut std::os::raw::c_void) {}
//! exit::on_exit(hook).unwrap();
//! ```

use std::io;
use std::os::raw::{c_int, c_void};

/// A handler: `(status, arg)`.
pub type ExitHook = extern "C" fn(c_int, *mut c_void);

extern "C" {
    #[link_name = "on_exit"]
    fn libc_on_exit(f: ExitHook, arg: *mut c_void) -> c_int;
}

/// Registers `f` to run when the process calls `exit` (with its status),
/// among the `atexit` handlers, newest first.
pub fn on_exit(f: ExitHook) -> io::Result<()> {
    // SAFETY: glibc's on_exit stores the function pointer (a plain
    // `extern "C"` fn, valid for the process's life) and a NULL argument.
    if unsafe { libc_on_exit(f, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::other("on_exit failed"));
    }
    Ok(())
}

/// Writes out every C stdio stream's buffer (`fflush(NULL)`), e.g. what
/// JIT'd code printed before the process ends.
pub fn flush_stdio() {
    // SAFETY: fflush(NULL) flushes every open stdio stream; it takes no
    // pointer of ours.
    unsafe { libc::fflush(std::ptr::null_mut()) };
}
