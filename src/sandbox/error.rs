//! Errors of the sandbox.

/// Why a policy could not be parsed or applied.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A spec item that is not understood.
    #[error("sandbox: invalid setting {0:?} (see orc-rt-executor --help)")]
    BadSetting(String),
    /// A mechanism could not be enforced and the policy requires it.
    #[error("sandbox: required, but {0}")]
    Required(String),
    /// A system call that sets up the sandbox failed.
    #[error("sandbox: {what}: {source}")]
    Os {
        /// What was being set up.
        what: &'static str,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The Landlock ruleset could not be built or applied.
    #[error("sandbox: Landlock: {0}")]
    Landlock(String),
    /// The seccomp filter could not be built or applied.
    #[error("sandbox: seccomp: {0}")]
    Seccomp(String),
}

crate::module_error!(SandboxError, Sandbox);
