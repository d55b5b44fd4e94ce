//! Landlock: the files JIT'd code may touch, and TCP bind/connect.

use super::error::SandboxError;
use super::policy::SandboxPolicy;

/// The Landlock ABI version of the running kernel (0: no Landlock).
pub fn abi_version() -> i32 {
    0
}

/// Why `policy` cannot be fully enforced with ABI `abi`, if it cannot.
pub fn unsupported(_policy: &SandboxPolicy, _abi: i32) -> Option<String> {
    Some("Landlock is not implemented yet".into())
}

/// Applies the filesystem and network rules of `policy`; returns the
/// mechanisms enforced ("filesystem", "network").
pub fn apply(_policy: &SandboxPolicy, _abi: i32) -> Result<Vec<String>, SandboxError> {
    Ok(Vec::new())
}
