//! libgcc's frame registry: `__register_frame` / `__deregister_frame`.
//!
//! With libgcc (the unwinder Rust's std links on Linux), `__register_frame`
//! takes the start of a whole `.eh_frame` section, which must end with a
//! zero-length terminator entry. The functions are looked up in the
//! process scope (libgcc_s is always loaded in a Rust process), so no
//! declarations leak into the C header.
//!
//! ```
//! use orc_rt::sys::unwind;
//!
//! // The smallest well-formed section: the zero-length terminator alone.
//! static EMPTY_EH_FRAME: [u8; 4] = [0; 4];
//! let begin = EMPTY_EH_FRAME.as_ptr() as u64;
//! // SAFETY: a zero-terminated section in a static (mapped for good),
//! // deregistered exactly once, after its registration.
//! unsafe {
//!     unwind::register_frame(begin).unwrap();
//!     unwind::deregister_frame(begin).unwrap();
//! }
//! ```

use std::io;
use std::os::raw::c_void;
use std::sync::OnceLock;

type FrameFn = unsafe extern "C" fn(*const c_void);

fn lookup(name: &'static str) -> io::Result<FrameFn> {
    static REG: OnceLock<Option<usize>> = OnceLock::new();
    static DEREG: OnceLock<Option<usize>> = OnceLock::new();
    let cell = if name == "__register_frame" {
        &REG
    } else {
        &DEREG
    };
    let addr = cell.get_or_init(|| super::dl::default_symbol(name).map(|a| a as usize));
    match addr {
        // SAFETY: the process symbol of this name is libgcc's
        // `void(const void *)` function.
        Some(a) => Ok(unsafe { std::mem::transmute::<usize, FrameFn>(*a) }),
        None => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{name} function not found"),
        )),
    }
}

/// Registers the `.eh_frame` section starting at `begin`.
///
/// # Safety
/// `begin` must point at a readable, well-formed, zero-terminated
/// `.eh_frame` section that stays mapped until it is deregistered.
pub unsafe fn register_frame(begin: u64) -> io::Result<()> {
    let f = lookup("__register_frame")?;
    // SAFETY: caller promise.
    unsafe { f(begin as *const c_void) };
    Ok(())
}

/// Deregisters a section registered with [`register_frame`].
///
/// # Safety
/// `begin` must have been registered with [`register_frame`] and not
/// deregistered since: libgcc aborts the process otherwise.
pub unsafe fn deregister_frame(begin: u64) -> io::Result<()> {
    let f = lookup("__deregister_frame")?;
    // SAFETY: caller promise.
    unsafe { f(begin as *const c_void) };
    Ok(())
}
