//! C API for the runtime version: `orc_rt_getVersion`.
//!
//! The header's `ORC_RT_VERSION_*` macros say which version a host was
//! compiled against; `orc_rt_getVersion` says which library it loaded.
//! Both come from the Cargo package version at build time (build.rs writes
//! the macros, this file reads the same numbers with `env!`), so they never
//! disagree for one build.

use std::ffi::CStr;
use std::os::raw::c_char;

use super::panic::ffi_boundary;

/// The package version as a C string ("MAJOR.MINOR.PATCH").
const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("CARGO_PKG_VERSION contains a NUL byte"),
    };

/// A decimal version component, parsed at compile time.
const fn component(s: &str) -> u32 {
    let b = s.as_bytes();
    assert!(!b.is_empty(), "empty version component");
    let mut n: u32 = 0;
    let mut i = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "version component is not a number");
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

const MAJOR: u32 = component(env!("CARGO_PKG_VERSION_MAJOR"));
const MINOR: u32 = component(env!("CARGO_PKG_VERSION_MINOR"));
const PATCH: u32 = component(env!("CARGO_PKG_VERSION_PATCH"));

/// Returns the version of the loaded library as a static NUL-terminated
/// string, "MAJOR.MINOR.PATCH" (never freed, valid for the life of the
/// process), and stores its three parts in `*Major`, `*Minor`, `*Patch`
/// (each may be NULL). Compare with the `ORC_RT_VERSION_*` macros, the
/// version of the header the host was compiled against: a host that
/// `dlopen`s liborc_rt.so can check it loaded what it expects (the same
/// major version; while the major version is 0, the same minor version).
/// Any thread; never fails.
///
/// # Safety
/// Each out-parameter is NULL or points at writable memory for a `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_getVersion(
    Major: *mut u32,
    Minor: *mut u32,
    Patch: *mut u32,
) -> *const c_char {
    ffi_boundary!("orc_rt_getVersion", {
        for (out, v) in [(Major, MAJOR), (Minor, MINOR), (Patch, PATCH)] {
            if !out.is_null() {
                // SAFETY: caller promise: a non-NULL out-parameter is writable.
                unsafe { out.write(v) };
            }
        }
        VERSION.as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_string_and_parts_agree() {
        let (mut a, mut b, mut c) = (u32::MAX, u32::MAX, u32::MAX);
        // SAFETY: valid out-parameters; the result is a static C string.
        let s = unsafe { CStr::from_ptr(orc_rt_getVersion(&mut a, &mut b, &mut c)) };
        assert_eq!(s.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert!(s.to_str().unwrap().starts_with(&format!("{a}.{b}.{c}")));
        // NULL out-parameters are skipped.
        // SAFETY: NULL is allowed for each out-parameter.
        let p = unsafe {
            orc_rt_getVersion(
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        // The same static string (compared by content: constants may be
        // duplicated across codegen units, e.g. under AddressSanitizer).
        // SAFETY: a static NUL-terminated string.
        assert_eq!(unsafe { CStr::from_ptr(p) }, s);
    }
}
