//! The dynamic loader: `dlopen`, `dlsym`, `dlclose`, with `dlerror` text.
//!
//! The dylib manager resolves symbols for the controller's linker through
//! these calls; failures carry the loader's own message. Handles are never
//! closed: libraries stay loaded for the life of the process.
//!
//! ```
//! use orc_rt::sys::dl;
//!
//! // The executable's global scope sees libc.
//! let me = dl::open(None, libc::RTLD_NOW).unwrap();
//! let malloc = dl::symbol(me, "malloc").unwrap();
//! assert_eq!(dl::default_symbol("malloc"), Some(malloc));
//! assert_eq!(dl::symbol(me, "orc_rt_doc_no_such_symbol"), None);
//!
//! let err = dl::open(Some(b"/nonexistent/libnothing.so"), libc::RTLD_NOW).unwrap_err();
//! assert!(err.contains("libnothing.so"), "{err}");
//! ```

use std::ffi::{CStr, CString};
use std::os::raw::c_void;

/// A `dlopen` handle. Not closed on drop: libraries opened for JIT'd code
/// stay loaded for the life of the process, as with LLVM's
/// `DynamicLibrary::getPermanentLibrary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlHandle(*mut c_void);

// SAFETY: a dlopen handle is an opaque token; the loader's functions are
// thread-safe.
unsafe impl Send for DlHandle {}
// SAFETY: as above.
unsafe impl Sync for DlHandle {}

/// The text of the last loader error on this thread, if any.
fn last_error() -> Option<String> {
    // SAFETY: dlerror has no preconditions; glibc keeps the message per
    // thread, and we copy it before any other dl* call.
    let p = unsafe { libc::dlerror() };
    if p.is_null() {
        None
    } else {
        // SAFETY: dlerror returns a NUL-terminated string.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// Opens `path` (`None`: the executable's global symbol scope) with
/// `flags` (`RTLD_*`). The error is `dlerror`'s text.
pub fn open(path: Option<&[u8]>, flags: libc::c_int) -> Result<DlHandle, String> {
    let cpath = match path {
        Some(p) => Some(
            CString::new(p)
                .map_err(|_| format!("{}: path contains a NUL byte", String::from_utf8_lossy(p)))?,
        ),
        None => None,
    };
    // Clear any stale error first.
    let _ = last_error();
    let ptr = cpath.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: ptr is NULL or a valid NUL-terminated string. Loading a
    // library runs its constructors: that is the point of the call.
    let h = unsafe { libc::dlopen(ptr, flags) };
    if h.is_null() {
        return Err(last_error().unwrap_or_else(|| "dlopen failed".to_string()));
    }
    Ok(DlHandle(h))
}

/// Looks up `name` in `handle`'s scope; `None` if it is not defined (or is
/// defined as address 0).
pub fn symbol(handle: DlHandle, name: &str) -> Option<u64> {
    let cname = CString::new(name).ok()?;
    // SAFETY: handle came from dlopen and is never closed; cname is valid.
    let p = unsafe { libc::dlsym(handle.0, cname.as_ptr()) };
    if p.is_null() {
        None
    } else {
        Some(p as u64)
    }
}

/// Looks up `name` in the process's default scope (`RTLD_DEFAULT`).
pub fn default_symbol(name: &str) -> Option<u64> {
    let cname = CString::new(name).ok()?;
    // SAFETY: RTLD_DEFAULT is a valid pseudo-handle; cname is valid.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, cname.as_ptr()) };
    if p.is_null() {
        None
    } else {
        Some(p as u64)
    }
}
