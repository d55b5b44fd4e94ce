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
    /// The privileges could not be dropped.
    #[error("sandbox: dropping privileges: {0}")]
    Identity(String),
    /// The namespaces could not be created.
    #[error("sandbox: namespaces: {0}")]
    Namespaces(String),
    /// The namespaces were created but could not be set up in full.
    #[error("sandbox: namespaces created but not set up (refusing to go on): {0}")]
    NamespacesPartial(String),
    /// `apply` was called before in this process.
    #[error(
        "sandbox: already applied to this process (a sandbox is applied once and never lifted)"
    )]
    AlreadyApplied,
    /// Other threads run, and a layer asked for would not confine them.
    #[error(
        "sandbox: {threads} other thread(s) already running, and {layers} would not confine \
         them: apply the sandbox before starting threads"
    )]
    OtherThreads {
        /// How many threads besides the caller.
        threads: usize,
        /// The layers that confine only the calling thread.
        layers: String,
    },
    /// The seccomp filter could not be built or applied.
    #[error("sandbox: seccomp: {0}")]
    Seccomp(String),
}

crate::module_error!(SandboxError, Sandbox);
