//! Running JIT'd entry points for the controller: `main`-style, `void()`
//! and `int(int)` functions (the `run_as_*` bootstrap wrappers).
//!
//! Each function jumps to an address, so each is an `unsafe fn`: its caller
//! vouches that the address holds a function of the right signature. The
//! wire bindings call them on the controller's word (it is trusted to run
//! code in this process); only address 0 is refused, since calling it
//! would crash.
//!
//! ```
//! use orc_rt::services::run_as;
//! use orc_rt::ExecutorAddr;
//! use std::ffi::CStr;
//! use std::os::raw::{c_char, c_int};
//!
//! /// Stands for a JIT'd `main`: returns the length of its last argument.
//! extern "C" fn jit_main(argc: c_int, argv: *const *const c_char) -> c_int {
//!     // SAFETY: `run_as_main` passes `argc` C strings followed by NULL.
//!     let last = unsafe { CStr::from_ptr(*argv.add(argc as usize - 1)) };
//!     last.to_bytes().len() as c_int
//! }
//! extern "C" fn negate(x: c_int) -> c_int {
//!     -x
//! }
//!
//! let main = ExecutorAddr::from_fn_ptr(jit_main as *const ());
//! // No program name is prepended; an argument is cut at its first NUL.
//! let args = [b"a".to_vec(), b"four\0ignored".to_vec()];
//! // SAFETY: `main` is `jit_main`, of C `main`'s signature.
//! assert_eq!(unsafe { run_as::run_as_main(main, &args) }, Ok(4));
//! let negate = ExecutorAddr::from_fn_ptr(negate as *const ());
//! // SAFETY: `negate` is an `int(int)` function.
//! assert_eq!(unsafe { run_as::run_as_int_function(negate, 7) }, Ok(-7));
//! // SAFETY: address 0 is refused before any call.
//! assert!(unsafe { run_as::run_as_void_function(ExecutorAddr::new(0)) }.is_err());
//! ```

use std::ffi::CString;
use std::os::raw::{c_char, c_int};

use crate::sys::jit_call;
use crate::ExecutorAddr;

/// How a call into JIT'd code crashed (with crash recovery on).
pub use crate::sys::jit_call::JitCrash;

/// Why a JIT'd function was not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunAsError {
    /// The address is 0 (the reference executor would jump there).
    #[error("cannot run a function at address 0x0")]
    NullAddress,
    /// The address does not fit in a pointer.
    #[error("invalid function address {0:#x}")]
    BadAddress(u64),
    /// More arguments than a C `int` can count.
    #[error("too many arguments: {0}")]
    TooManyArguments(usize),
    /// The function crashed or threw, and crash recovery
    /// ([`enable_crash_recovery`]) ended the call.
    #[error(transparent)]
    Crashed(#[from] jit_call::JitCrash),
}

/// Turns on crash recovery for the process (opt-in; off by default): a
/// synchronous fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) or an
/// uncaught C++ exception in JIT'd code run through this module (or the
/// ELF platform's calls into JIT'd code) ends only that call, with
/// [`RunAsError::Crashed`] naming the signal and addresses or the
/// exception's type, and the process goes on. Faults anywhere else
/// (orc-rt's own code, threads JIT'd code started) are handled as before.
///
/// The JIT'd program's state stays as the crash left it: memory it
/// corrupted stays corrupted, and a lock it held (inside `malloc`, say)
/// stays held, so later calls may deadlock. The frames of the crashed call
/// are abandoned, not unwound: no destructor of theirs runs.
///
/// With recovery on, SIGINT to the process interrupts the calls into
/// JIT'd code that are running ([`JitCrash::Interrupted`]); with none
/// running it does what it did before (by default, ends the process).
pub fn enable_crash_recovery() -> std::io::Result<()> {
    jit_call::enable_recovery()
}

/// Sets a time limit on each call into JIT'd code (`None`: none, the
/// default): a call still running when it passes is interrupted like a
/// crash ([`JitCrash::Interrupted`]). Takes effect with
/// [`enable_crash_recovery`]. An interrupt that lands while JIT'd code
/// holds a lock (inside `malloc`, say) leaves it held.
pub fn set_call_time_limit(limit: Option<std::time::Duration>) {
    crate::sys::crash::set_call_timeout(limit)
}

crate::module_error!(RunAsError, RunAs);

/// Refuses a null function address (the reference would jump to 0).
fn non_null(f: ExecutorAddr) -> Result<usize, RunAsError> {
    if f.0 == 0 {
        Err(RunAsError::NullAddress)
    } else {
        usize::try_from(f.0).map_err(|_| RunAsError::BadAddress(f.0))
    }
}

/// Calls `int main(int argc, char **argv)` at `main` with `argv = args +
/// [NULL]` and `argc = args.len()`: no program name is prepended. Each
/// argument is cut at its first NUL byte (C strings cannot hold one). The
/// result is sign-extended.
///
/// # Safety
///
/// This runs code at an address: the caller promises it is a function with
/// this signature that may be called now (for the wire bindings: JIT'd code
/// the controller asked to run, on its word).
pub unsafe fn run_as_main(main: ExecutorAddr, args: &[Vec<u8>]) -> Result<i64, RunAsError> {
    let f = non_null(main)?;
    let argc = c_int::try_from(args.len()).map_err(|_| RunAsError::TooManyArguments(args.len()))?;
    let cstrs: Vec<CString> = args
        .iter()
        .map(|a| {
            let end = a.iter().position(|&b| b == 0).unwrap_or(a.len());
            // No NUL left in a[..end], so this cannot fail.
            CString::new(&a[..end]).unwrap_or_default()
        })
        .collect();
    let mut argv: Vec<*mut c_char> = cstrs.iter().map(|c| c.as_ptr() as *mut c_char).collect();
    argv.push(std::ptr::null_mut());
    // SAFETY: the caller vouches for `main` (this function's contract);
    // argv holds argc live C strings and a NULL.
    let r = unsafe { jit_call::call_main_checked(f, argc, argv.as_mut_ptr()) };
    drop(cstrs);
    let status = r?;
    // What main printed is written before its status goes back: a
    // controller that exits on the status (llvm-jitlink does, without
    // waiting for the executor) leaves no output behind in stdio buffers
    // of a process still shutting down. Not after a crash: a stdio lock
    // may still be held.
    jit_call::flush_after_jit_code();
    Ok(i64::from(status))
}

/// Calls `void fn(void)` at `f`; returns 0.
///
/// # Safety
///
/// This runs code at an address: the caller promises it is a function with
/// this signature that may be called now (for the wire bindings: JIT'd code
/// the controller asked to run, on its word).
pub unsafe fn run_as_void_function(f: ExecutorAddr) -> Result<i32, RunAsError> {
    let f = non_null(f)?;
    // SAFETY: the caller vouches for `f` (this function's contract).
    unsafe { jit_call::call_void_checked(f) }?;
    jit_call::flush_after_jit_code();
    Ok(0)
}

/// Calls `int fn(int)` at `f` with `arg`.
///
/// # Safety
///
/// This runs code at an address: the caller promises it is a function with
/// this signature that may be called now (for the wire bindings: JIT'd code
/// the controller asked to run, on its word).
pub unsafe fn run_as_int_function(f: ExecutorAddr, arg: i32) -> Result<i32, RunAsError> {
    let f = non_null(f)?;
    // SAFETY: the caller vouches for `f` (this function's contract).
    let r = unsafe { jit_call::call_int_checked(f, arg) }?;
    jit_call::flush_after_jit_code();
    Ok(r)
}
