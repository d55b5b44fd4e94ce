//! C API for the sandbox: `orc_rt_SandboxPolicy_*`.
//!
//! A C host confines the JIT'd code it runs as `orc-rt-executor` does:
//! create a policy from a spec (the form of `ORC_RT_SANDBOX`), then apply
//! it once, from the thread that starts every other thread, before
//! starting them and before running JIT'd code.
//!
//! ```no_run
//! use orc_rt::ffi::sandbox::{
//!     orc_rt_SandboxPolicy_apply, orc_rt_SandboxPolicy_create, orc_rt_SandboxPolicy_dispose,
//! };
//! let mut p = std::ptr::null_mut();
//! // SAFETY: a valid spec string and out-parameter.
//! let e = unsafe { orc_rt_SandboxPolicy_create(c"untrusted,cpu=10".as_ptr(), &mut p) };
//! assert!(e.is_null());
//! // Confines this process for good: not run as a doctest.
//! // SAFETY: NULL asks for no report.
//! assert!(unsafe { orc_rt_SandboxPolicy_apply(p, std::ptr::null_mut()) }.is_null());
//! orc_rt_SandboxPolicy_dispose(p);
//! ```

use std::ffi::{CStr, CString};
use std::os::raw::c_char;

use super::error::{error_to_ref, orc_rt_ErrorRef};
use super::handle::{create, destroy, with, Castable, OwnershipBox};
use super::panic::{ffi_boundary, null_default, FfiDefault};
use crate::handle::{HandleKind, HandleTable};
use crate::sandbox::SandboxPolicy;
use crate::Error;

/// Opaque sandbox policy (see `orc_rt_SandboxPolicyRef`).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct orc_rt_OpaqueSandboxPolicy {
    _private: [u8; 0],
}

/// Handle to a sandbox policy, owned by the caller and released with
/// `orc_rt_SandboxPolicy_dispose`.
#[allow(non_camel_case_types)]
pub type orc_rt_SandboxPolicyRef = *mut orc_rt_OpaqueSandboxPolicy;

null_default!(orc_rt_SandboxPolicyRef);

static POLICIES: HandleTable<SandboxPolicy> = HandleTable::new(HandleKind::SandboxPolicy);

impl Castable for orc_rt_OpaqueSandboxPolicy {
    type Ownership = OwnershipBox;
    type Value = SandboxPolicy;
    type Store = HandleTable<SandboxPolicy>;
    const NAME: &'static str = "orc_rt_SandboxPolicyRef";
    fn store() -> &'static Self::Store {
        &POLICIES
    }
}

/// Parses `Spec` (comma-separated items: `untrusted`, `none`, `require`,
/// `mem=SIZE`, `fsize=SIZE`, `cpu=S`, `wall=S`, `files=N`, `procs=N`,
/// `ro=PATH`, `rw=PATH`, `exec`, `fork`, `net`, `perf`, `user=NAME`,
/// `keep-privileges`, `env=clean`, `env=keep`, `inherit-fds`, `no-fs`,
/// `no-syscalls`, `no-limits`, `no-ns`, `minimal-root`; see the README's
/// sandbox section)
/// into a new
/// policy stored in `*Result` (owned by the caller). Returns an error (and
/// stores NULL) for a bad spec, a NULL `Spec` or a NULL `Result`. Any
/// thread.
///
/// # Safety
/// `Spec` is NULL or a NUL-terminated string; `Result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_SandboxPolicy_create(
    Spec: *const c_char,
    Result: *mut orc_rt_SandboxPolicyRef,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_SandboxPolicy_create", {
        if Result.is_null() {
            return error_to_ref(Error::msg("orc_rt_SandboxPolicy_create: Result is NULL"));
        }
        // SAFETY: caller promise: Result is writable.
        unsafe { Result.write(std::ptr::null_mut()) };
        if Spec.is_null() {
            return error_to_ref(Error::msg("orc_rt_SandboxPolicy_create: Spec is NULL"));
        }
        // SAFETY: caller promise: Spec is NUL-terminated.
        let spec = unsafe { CStr::from_ptr(Spec) }.to_string_lossy();
        match SandboxPolicy::parse(&spec) {
            Ok(p) => {
                // SAFETY: as above.
                unsafe { Result.write(create(p)) };
                std::ptr::null_mut()
            }
            Err(e) => error_to_ref(e.into()),
        }
    })
}

/// Confines this process with policy `P` from now on (see the README's
/// sandbox section for the layers). Call it once, before starting other
/// threads (Sessions start threads) and before running JIT'd code. With
/// other threads running it confines them all or returns an error saying
/// other threads run (then nothing was applied); a second call returns
/// an "already applied" error. With `wall=` or namespaces (as in
/// `untrusted`) it forks: the calling process becomes the supervisor,
/// which never returns from this call and exits as the child does; the
/// child returns and goes on confined. `P` stays the caller's.
///
/// If `Report` is not NULL, `*Report` receives a description of each
/// layer applied, with the Landlock ABI found and each layer that could
/// not be applied and why (free it with `orc_rt_Error_freeErrorMessage`).
/// Returns an error if `P` is invalid, a layer could not be set up, or the
/// policy says `require` and a layer cannot be applied.
///
/// # Safety
/// `Report` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn orc_rt_SandboxPolicy_apply(
    P: orc_rt_SandboxPolicyRef,
    Report: *mut *mut c_char,
) -> orc_rt_ErrorRef {
    ffi_boundary!("orc_rt_SandboxPolicy_apply", {
        if !Report.is_null() {
            // SAFETY: caller promise: Report is writable.
            unsafe { Report.write(std::ptr::null_mut()) };
        }
        let policy = match with(P, |p| p.clone()) {
            Ok(p) => p,
            Err(e) => return error_to_ref(e),
        };
        match policy.apply() {
            Ok(report) => {
                if !Report.is_null() {
                    let text =
                        CString::new(report.to_string().replace('\0', " ")).unwrap_or_default();
                    // SAFETY: as above; freed by orc_rt_Error_freeErrorMessage.
                    unsafe { Report.write(text.into_raw()) };
                }
                std::ptr::null_mut()
            }
            Err(e) => error_to_ref(e.into()),
        }
    })
}

/// Releases policy `P` (NULL is a no-op; a sandbox already applied stays).
#[no_mangle]
pub extern "C" fn orc_rt_SandboxPolicy_dispose(P: orc_rt_SandboxPolicyRef) {
    ffi_boundary!("orc_rt_SandboxPolicy_dispose", {
        destroy(P, "orc_rt_SandboxPolicy_dispose");
    })
}
