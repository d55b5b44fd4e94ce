//! Errors of the ELF platform runtime.

/// Errors of the ELF platform runtime.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// No platform is bootstrapped in this process.
    #[error("the ELF platform runtime is not bootstrapped")]
    NotBootstrapped,
    /// `platform_bootstrap` was called twice.
    #[error("the ELF platform runtime is already bootstrapped (platform JITDylib header {0:#x})")]
    AlreadyBootstrapped(u64),
    /// Another Session's platform is active in this process.
    #[error("another Session's ELF platform runtime is active in this process")]
    OtherPlatformActive,
    /// The platform has shut down.
    #[error("the ELF platform runtime is shut down")]
    ShutDown,
    /// The Session is gone, so the controller cannot be called.
    #[error("the Session of the ELF platform runtime is gone")]
    NoSession,
    /// A header or name registered twice.
    #[error("duplicate JITDylib registration for header {header:#x} (name = {name})")]
    DuplicateJitDylib {
        /// The header.
        header: u64,
        /// The name.
        name: String,
    },
    /// A header that names no registered JITDylib.
    #[error("no registered JITDylib for header {0:#x}")]
    UnknownHeader(u64),
    /// A path that names no registered JITDylib.
    #[error("no registered JITDylib for path {0}")]
    UnknownPath(String),
    /// dlclose of a JITDylib that is not open.
    #[error("dlclose of JITDylib {0}, which is not open")]
    NotOpen(String),
    /// The controller's dependency map names an unregistered header.
    #[error("unrecognized dependency header {dep:#x} while initializing {name}")]
    UnknownDependency {
        /// The dependency's header.
        dep: u64,
        /// The JITDylib being initialised.
        name: String,
    },
    /// An initialiser or finaliser range is malformed.
    #[error("invalid {what} range {start:#x} -- {end:#x}")]
    BadRange {
        /// "initializer" or "finalizer".
        what: &'static str,
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
    /// An initialiser or finaliser array could not be read.
    #[error("could not read the {what} array at {start:#x}: {source}")]
    UnreadableArray {
        /// "initializer" or "finalizer".
        what: &'static str,
        /// Start.
        start: u64,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A TLS image range is empty, reversed, null or too big.
    #[error("invalid TLS image range {start:#x} -- {end:#x}")]
    BadTlsImage {
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
    /// A TLS image overlaps one already registered.
    #[error("TLS image {start:#x} -- {end:#x} overlaps the image at {other:#x}")]
    OverlappingTlsImage {
        /// Start.
        start: u64,
        /// End.
        end: u64,
        /// Start of the other image.
        other: u64,
    },
    /// Deregistration of a TLS image that is not registered.
    #[error("no TLS image {start:#x} -- {end:#x} is registered")]
    UnknownTlsImage {
        /// Start.
        start: u64,
        /// End.
        end: u64,
    },
    /// A thread-local address outside every registered image.
    #[error("no thread-local data section contains {0:#x}")]
    NoTlsImage(u64),
    /// A thread's copy of an image could not be allocated.
    #[error("could not allocate {0} bytes of thread-local data")]
    TlsAllocation(u64),
    /// A TLS image could not be read.
    #[error("could not read the TLS image at {start:#x}: {source}")]
    UnreadableTlsImage {
        /// Start.
        start: u64,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A call to the controller failed.
    #[error("{what} failed: {message}")]
    Controller {
        /// The call.
        what: &'static str,
        /// The controller's (or the transport's) error.
        message: String,
    },
    /// The program's entry point could not be run.
    #[error("could not run {entry} in {jd}: {message}")]
    RunProgram {
        /// JITDylib name.
        jd: String,
        /// Entry symbol.
        entry: String,
        /// Why.
        message: String,
    },
    /// The program thread could not run a job.
    #[error("the program thread: {0}")]
    ProgramThread(String),
    /// Registering an EH frame failed.
    #[error(transparent)]
    EhFrame(#[from] crate::services::eh_frame::EhFrameError),
    /// JIT'd code crashed, and crash recovery ended its call.
    #[error(transparent)]
    Crashed(#[from] crate::sys::jit_call::JitCrash),
}

crate::module_error!(PlatformError, Platform);
