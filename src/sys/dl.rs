//! The dynamic loader: `dlopen` and `dlsym` through `libloading`, with
//! `dlerror`'s text as the error message.
//!
//! Libraries are never closed: a [`DlHandle`] is the raw handle of a
//! [`Library`] given up with [`Library::into_raw`], so no drop can
//! `dlclose` a library JIT'd code may still call into.
//!
//! ```
//! use orc_rt::sys::dl::{self, DlError};
//!
//! // The executable's global scope sees libc.
//! let me = dl::process();
//! let malloc = dl::symbol(me, "malloc").unwrap();
//! assert_eq!(dl::default_symbol("malloc"), Some(malloc));
//! assert_eq!(dl::symbol(me, "orc_rt_doc_no_such_symbol"), None);
//!
//! let err = dl::open(b"/nonexistent/libnothing.so", libc::RTLD_NOW).unwrap_err();
//! assert!(matches!(err, DlError::Open(_)));
//! assert!(err.to_string().contains("libnothing.so"), "{err}");
//! // A path with a NUL never reaches `dlopen`.
//! let err = dl::open(b"lib\0evil.so", libc::RTLD_NOW).unwrap_err();
//! assert!(matches!(err, DlError::NulInPath(_)), "{err}");
//! ```

use std::ffi::{CStr, CString, OsStr};
use std::mem::ManuallyDrop;
use std::os::raw::c_void;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use libloading::os::unix::Library;

/// Errors of the dynamic loader.
#[derive(Debug, thiserror::Error)]
pub enum DlError {
    /// The path cannot be passed to `dlopen`.
    #[error("{}: path contains a NUL byte", String::from_utf8_lossy(.0))]
    NulInPath(Vec<u8>),
    /// `dlopen` failed; the message is `dlerror`'s text (it names the
    /// path), exactly as the reference executor reports it.
    #[error(transparent)]
    Open(#[from] libloading::Error),
}

crate::module_error!(DlError, Dl);

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

impl DlHandle {
    /// Keeps `lib` loaded for good and returns its handle.
    fn keep(lib: Library) -> Self {
        DlHandle(lib.into_raw())
    }
}

/// Opens the library at `path` with `flags` (`RTLD_*`). The error is
/// `dlerror`'s text.
pub fn open(path: &[u8], flags: libc::c_int) -> Result<DlHandle, DlError> {
    // libloading would accept one trailing NUL; a path from the wire with
    // any NUL is refused as a whole.
    if path.contains(&0) {
        return Err(DlError::NulInPath(path.to_vec()));
    }
    // SAFETY: loading a library runs its constructors: that is the point
    // of the call (the controller asked for this library, for JIT'd code).
    let lib = unsafe { Library::open(Some(OsStr::from_bytes(path)), flags) }?;
    Ok(DlHandle::keep(lib))
}

/// A handle for the executable's global symbol scope (`dlopen(NULL)`):
/// the program, its dependencies and every library opened with
/// `RTLD_GLOBAL`.
pub fn process() -> DlHandle {
    DlHandle::keep(Library::this())
}

/// Looks up `name` in `handle`'s scope; `None` if it is not defined, and
/// also if it is defined with value NULL: the controller's protocol has no
/// way to tell the two apart (LLVM's executor checks the address for
/// NULL), so such a symbol counts as missing, as it always has here.
pub fn symbol(handle: DlHandle, name: &str) -> Option<u64> {
    // libloading would cut a name at a trailing NUL: refuse any NUL.
    if name.contains('\0') {
        return None;
    }
    // SAFETY: the handle came from `Library::into_raw` and is never
    // closed; ManuallyDrop keeps this temporary Library from closing it.
    let lib = ManuallyDrop::new(unsafe { Library::from_raw(handle.0) });
    // SAFETY: the symbol is taken as a plain address, never called or
    // dereferenced here. libloading's `get` tells "not found" (an error
    // from dlerror) from "defined as NULL" (a null pointer); both give
    // `None`.
    let sym = unsafe { lib.get::<*mut c_void>(name.as_bytes()) }.ok()?;
    let p = sym.into_raw();
    (!p.is_null()).then_some(p as u64)
}

/// Looks up `name` in the process's default scope (`RTLD_DEFAULT`): the
/// global scope, then the local scope of liborc_rt itself (its own
/// dependencies, such as libgcc_s, even when a host loaded it
/// `RTLD_LOCAL`).
///
/// This one call is made directly: libloading has no `RTLD_DEFAULT`
/// pseudo-handle (`Library::from_raw` requires a real `dlopen` handle), and
/// [`process`]'s handle searches only the global scope.
pub fn default_symbol(name: &str) -> Option<u64> {
    let cname = CString::new(name).ok()?;
    // SAFETY: RTLD_DEFAULT is a valid pseudo-handle for dlsym; cname is a
    // valid NUL-terminated string.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, cname.as_ptr()) };
    (!p.is_null()).then_some(p as u64)
}

/// The file of the loaded object (the executable or a shared library) that
/// contains address `addr`, as the loader recorded its name (`dladdr`'s
/// `dli_fname`: absolute for libraries found by path or the cache, possibly
/// relative or `argv[0]` for the executable). `None` if no loaded object
/// contains `addr`.
pub fn object_containing(addr: usize) -> Option<PathBuf> {
    // SAFETY: Dl_info is plain old data; all-zero is a valid value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only inspects `addr` (never dereferences it) and
    // fills the struct we own.
    if unsafe { libc::dladdr(addr as *const c_void, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated string owned by the loader,
    // valid while the object stays loaded; we copy it at once.
    let name = unsafe { CStr::from_ptr(info.dli_fname) };
    let name = OsStr::from_bytes(name.to_bytes());
    (!name.is_empty()).then(|| PathBuf::from(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_scope_finds_libc_and_misses_unknown_names() {
        let h = process();
        assert!(symbol(h, "malloc").is_some());
        assert!(symbol(h, "orc_rt_no_such_symbol_anywhere").is_none());
        assert!(symbol(h, "malloc\0").is_none());
        assert!(default_symbol("malloc").is_some());
        assert!(default_symbol("orc_rt_no_such_symbol_anywhere").is_none());
    }

    #[test]
    fn process_scope_sees_libraries_opened_global_later() {
        // std::terminate(): in libstdc++, which a Rust test does not link.
        let name = "_ZSt9terminatev";
        let h = process();
        open(b"libstdc++.so.6", libc::RTLD_LAZY | libc::RTLD_GLOBAL).unwrap();
        assert!(symbol(h, name).is_some());
        assert_eq!(symbol(process(), name), symbol(h, name));
    }

    #[test]
    fn open_reports_dlerror_text_and_nul_paths() {
        let e = open(b"/nonexistent/libnothing.so", libc::RTLD_LAZY).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/nonexistent/libnothing.so: cannot open shared object file: No such file or directory"
        );
        let e = open(b"libm.so.6\0", libc::RTLD_LAZY).unwrap_err();
        assert!(matches!(e, DlError::NulInPath(_)));
        assert_eq!(e.to_string(), "libm.so.6\u{0}: path contains a NUL byte");
        let h = open(b"libm.so.6", libc::RTLD_LAZY).unwrap();
        assert!(symbol(h, "cos").is_some());
    }

    #[test]
    fn object_containing_names_the_library_of_an_address() {
        // getpid: from libc in every build (sanitizers interpose malloc
        // in the executable itself).
        let getpid = default_symbol("getpid").unwrap() as usize;
        let libc_path = object_containing(getpid).unwrap();
        assert!(
            libc_path.to_string_lossy().contains("libc.so"),
            "{}",
            libc_path.display()
        );
        assert_eq!(object_containing(0), None);
    }
}
