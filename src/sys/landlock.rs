//! Landlock's version query (`landlock_create_ruleset` with
//! `LANDLOCK_CREATE_RULESET_VERSION`).
//!
//! The `landlock` crate builds and enforces rulesets, but keeps the number
//! the kernel reports to itself; the sandbox needs it to say what a policy
//! can enforce before it changes anything.
//!
//! ```
//! // 0 on a kernel without Landlock (or with Landlock disabled at boot).
//! assert!(orc_rt::sys::landlock::abi_version() >= 0);
//! ```

/// `LANDLOCK_CREATE_RULESET_VERSION` (`<linux/landlock.h>`).
const CREATE_RULESET_VERSION: libc::c_uint = 1;

/// The Landlock ABI version of the running kernel; 0 if the kernel has no
/// Landlock (`ENOSYS`), has it disabled (`EOPNOTSUPP`), or a filter refuses
/// the call.
pub fn abi_version() -> i32 {
    // SAFETY: with a NULL attribute pointer, size 0 and only the VERSION
    // flag, the kernel reads and writes no memory: it returns a number.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    i32::try_from(v).unwrap_or(0).max(0)
}
