//! The crate-wide error type.
//!
//! Every fallible operation in orc-rt returns [`Error`]. At the C boundary an
//! `Error` becomes an `orc_rt_ErrorRef` (see `ffi::error`) or an out-of-band
//! error in a [`crate::WrapperFunctionBuffer`]; nothing is dropped silently.
//!
//! Each module with failure modes has its own error enum (`MemoryError`,
//! `DylibError`, `DlError`...) and converts it into [`Error::Module`] with
//! its [`ErrorKind`], so `?` works at a module edge without flattening to
//! text: the error keeps the module error (reach it with
//! [`Error::downcast_ref`]), its message (shown as is) and its source
//! chain. This module names none of them: imports point down the layers.
//!
//! ```
//! use orc_rt::sps::{deserialize_all, SpsError};
//! use orc_rt::error::{Error, ErrorKind};
//!
//! // SPS failures convert with `?`.
//! fn decode_u32(bytes: &[u8]) -> orc_rt::Result<u32> {
//!     Ok(deserialize_all::<u32>(bytes)?)
//! }
//! assert_eq!(decode_u32(&[42, 0, 0, 0]).unwrap(), 42);
//! let e = decode_u32(&[42, 0]).unwrap_err();
//! assert_eq!(e.kind(), Some(ErrorKind::Sps));
//! assert_eq!(
//!     e.downcast_ref::<SpsError>(),
//!     Some(&SpsError::UnexpectedEnd { needed: 4, remaining: 2 })
//! );
//! // Shown as the SpsError itself, with no prefix.
//! assert_eq!(e.to_string(), "unexpected end of input: needed 4 more bytes, 2 left");
//!
//! // Failures that happen together are joined, one message per line.
//! let joined = Error::join(Some(Error::msg("first failed")), Some(e)).unwrap();
//! assert_eq!(
//!     joined.to_string(),
//!     "first failed\nunexpected end of input: needed 4 more bytes, 2 left"
//! );
//! assert!(Error::join(None, None).is_none());
//!
//! // A caught panic keeps its message.
//! let payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
//! let e = Error::from_panic("handler", payload);
//! assert_eq!(e.to_string(), "panic in handler: boom");
//! ```

use std::fmt;

/// Result alias used throughout orc-rt.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An orc-rt error. Messages say what failed and with which value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A plain message, the equivalent of LLVM's `StringError`.
    #[error("{0}")]
    Message(String),
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being attempted.
        context: String,
        /// The underlying OS error.
        #[source]
        source: std::io::Error,
    },
    /// The Session is shutting down or shut down; the operation was refused.
    #[error("session is shut down")]
    SessionShutDown,
    /// The controller is not attached (never was, or has detached).
    #[error("controller is detached: {0}")]
    Detached(String),
    /// A Session was used in a child process forked after it was created.
    /// Its threads exist only in the parent, so the child cannot use it;
    /// the call failed at once instead of waiting forever.
    #[error(
        "the session belongs to process {owner_pid} (the parent); this is process {pid}, \
         a child forked after the session was created, where the session's threads do not \
         exist: create a new session in the child"
    )]
    ForkedChild {
        /// The process that created the Session.
        owner_pid: u32,
        /// The (child) process that tried to use it.
        pid: u32,
    },
    /// A bounded wait ran out of time; the message says what was awaited.
    #[error("timed out: {0}")]
    Timeout(String),
    /// A wrapper function returned an out-of-band error.
    #[error("wrapper function failed: {0}")]
    OutOfBand(String),
    /// Rust code called from a boundary panicked; the panic was caught
    /// (and not printed by the panic hook: see
    /// [`wrapper_function::handler`](crate::wrapper_function::handler#panics)).
    #[error("panic in {context}: {message}")]
    Panic {
        /// Where the panic was caught.
        context: String,
        /// The panic payload, if it was a string.
        message: String,
    },
    /// A module of orc-rt failed with its own error type (see
    /// [`ErrorKind`]); shown as that error, whose source chain is kept.
    #[error(transparent)]
    Module(ModuleError),
    /// Several errors joined, one message per line (like LLVM's joinErrors).
    #[error("{}", Lines(.0))]
    Joined(Vec<Error>),
}

/// An error type that can hold several errors of its own kind, like LLVM's
/// `ErrorList` (built by `joinErrors`). [`ErrorList`] uses it to join
/// errors in order, flattening nested lists; [`Lines`] displays the parts.
pub trait Join: Sized {
    /// Wraps two or more errors into one.
    fn joined(errors: Vec<Self>) -> Self;
    /// The parts of a joined error, or the error itself if it is single.
    fn split(self) -> Result<Vec<Self>, Self>;
}

/// Collects errors in order; [`ErrorList::finish`] joins them (one error
/// stays as it is, none is success).
///
/// ```
/// use orc_rt::error::ErrorList;
/// use orc_rt::Error;
/// let mut errs = ErrorList::default();
/// errs.push_result(Err::<(), _>(Error::msg("a")));
/// errs.push(Error::msg("b"));
/// assert_eq!(errs.finish().unwrap_err().to_string(), "a\nb");
/// ```
#[derive(Debug)]
pub struct ErrorList<E>(Vec<E>);

impl<E> Default for ErrorList<E> {
    fn default() -> Self {
        ErrorList(Vec::new())
    }
}

impl<E: Join> ErrorList<E> {
    /// Adds `e` (each part of it, if it is joined).
    pub fn push(&mut self, e: E) {
        match e.split() {
            Ok(parts) => self.0.extend(parts),
            Err(e) => self.0.push(e),
        }
    }

    /// Adds the error of `r`, if any.
    pub fn push_result<T>(&mut self, r: Result<T, E>) {
        if let Err(e) = r {
            self.push(e);
        }
    }

    /// The joined error, or `None` if there was none.
    pub fn into_error(mut self) -> Option<E> {
        match self.0.len() {
            0 => None,
            1 => self.0.pop(),
            _ => Some(E::joined(self.0)),
        }
    }

    /// `Ok` if no error was added, else the joined error.
    pub fn finish(self) -> Result<(), E> {
        self.into_error().map_or(Ok(()), Err)
    }
}

/// Displays errors one message per line (LLVM's `toString` of an
/// `ErrorList`).
#[derive(Debug)]
pub struct Lines<'a, E>(pub &'a [E]);

impl<E: fmt::Display> fmt::Display for Lines<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl Join for Error {
    fn joined(errors: Vec<Self>) -> Self {
        Error::Joined(errors)
    }
    fn split(self) -> Result<Vec<Self>, Self> {
        match self {
            Error::Joined(v) => Ok(v),
            e => Err(e),
        }
    }
}

/// Which module an [`Error::Module`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A memory service (manager, shared-memory mapper, allocation actions).
    Memory,
    /// A memory access for the controller.
    Access,
    /// The dylib manager.
    Dylib,
    /// The dynamic loader.
    Dl,
    /// EH-frame registration.
    EhFrame,
    /// GDB JIT registration.
    GdbJit,
    /// perf jitdump support.
    Perf,
    /// Running a JIT'd entry point.
    RunAs,
    /// SPS serialization or deserialization.
    Sps,
    /// Setting up the sandbox.
    Sandbox,
    /// A service instance address that names no live instance.
    Instance,
    /// Setting up a SimpleRemoteEPC transport.
    Transport,
    /// The SimpleRemoteEPC protocol.
    Protocol,
    /// The ELF platform runtime (initialisers, atexit, TLS, JIT'd dlopen).
    Platform,
}

/// A module's own error with its [`ErrorKind`]: displayed as that error,
/// with that error's source chain.
#[derive(Debug)]
pub struct ModuleError {
    kind: ErrorKind,
    error: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl ModuleError {
    /// Wraps a module's error.
    pub fn new(kind: ErrorKind, error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ModuleError {
            kind,
            error: Box::new(error),
        }
    }

    /// Which module.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for ModuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for ModuleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// Implements `From<$t> for Error` as [`Error::Module`] of kind `$kind`.
/// Each module with its own error type invokes it once, next to the type.
#[macro_export]
#[doc(hidden)]
macro_rules! module_error {
    ($t:ty, $kind:ident) => {
        impl ::std::convert::From<$t> for $crate::Error {
            fn from(e: $t) -> Self {
                $crate::Error::Module($crate::error::ModuleError::new(
                    $crate::error::ErrorKind::$kind,
                    e,
                ))
            }
        }
    };
}

impl Error {
    /// The module an [`Error::Module`] comes from; `None` for the other
    /// variants.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Error::Module(m) => Some(m.kind),
            _ => None,
        }
    }

    /// The module error of an [`Error::Module`], if it is a `T`.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        match self {
            Error::Module(m) => m.error.downcast_ref::<T>(),
            _ => None,
        }
    }

    /// Creates a message error.
    pub fn msg(m: impl Into<String>) -> Self {
        Error::Message(m.into())
    }

    /// Creates an I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Creates an error from a caught panic payload.
    pub fn from_panic(context: &str, payload: Box<dyn std::any::Any + Send>) -> Self {
        Error::Panic {
            context: context.to_string(),
            message: panic_message(&payload),
        }
    }

    /// Joins two optional errors; `None` means success.
    pub fn join(a: Option<Error>, b: Option<Error>) -> Option<Error> {
        let mut errs = ErrorList::default();
        for e in [a, b].into_iter().flatten() {
            errs.push(e);
        }
        errs.into_error()
    }
}

/// Extracts a readable message from a panic payload.
pub fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

thread_local! {
    /// How many [`catch_panic`] calls are on this thread's stack.
    static CATCHING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Installs (once per process) the panic hook behind [`catch_panic`]: it
/// stays silent for a panic that a `catch_panic` on the same thread will
/// catch, and hands every other panic to the hook that was installed
/// before it (by default std's, which prints the message and, with
/// `RUST_BACKTRACE`, a backtrace).
fn install_quiet_hook() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    // Replacing the hook is not allowed while this thread panics (a
    // boundary reached from a destructor during an unwind); a later call
    // installs it.
    if std::thread::panicking() {
        return;
    }
    INSTALL.call_once(|| {
        // Escape hatch for debugging a handler: print caught panics too.
        if std::env::var_os("ORC_RT_PRINT_CAUGHT_PANICS").is_some_and(|v| v != "0") {
            return;
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.try_with(|c| c.get()).unwrap_or(0) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `f` at one of orc-rt's panic boundaries (a handler, a task, a
/// callback, an exported C function), catching a panic. The caller turns the
/// payload into an error (see [`Error::from_panic`]) that carries the panic
/// message, so the panic is not printed to stderr as well: the panic hook
/// is told to stay silent while `f` runs (see [`install_quiet_hook`]).
/// Setting `ORC_RT_PRINT_CAUGHT_PANICS=1` keeps std's output (message and
/// backtrace) for debugging. A panic hook installed by the program after
/// orc-rt's replaces it and sees every panic.
pub(crate) fn catch_panic<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            CATCHING.with(|c| c.set(c.get() - 1));
        }
    }
    install_quiet_hook();
    CATCHING.with(|c| c.set(c.get() + 1));
    let _leave = Leave;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
}

/// Reports an error that belongs to no live Session (a stale handle, a
/// return for a Session already destroyed): logged at the error level in
/// the `General` category ([`crate::log`]; on stderr by default, as
/// `orc-rt: error: <message>`). Everything that has a Session reports
/// through the Session's error reporter instead.
pub fn report_unowned(e: Error) {
    crate::log::emit(
        crate::log::Level::Error,
        crate::log::Category::General,
        format_args!("{e}"),
    );
}

/// The error reporter of a Session whose host set none: logs the error at
/// the error level in the `Session` category ([`crate::log`]; on stderr by
/// default, as `orc-rt: error: <message>`).
pub fn report_session_error(e: Error) {
    crate::log::emit(
        crate::log::Level::Error,
        crate::log::Category::Session,
        format_args!("{e}"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_every_message() {
        let e = Error::join(Some(Error::msg("a")), Some(Error::msg("b")));
        let e = Error::join(e, Some(Error::msg("c"))).unwrap();
        assert_eq!(e.to_string(), "a\nb\nc");
        assert!(Error::join(None, None).is_none());
        assert!(matches!(
            Error::join(None, Some(Error::msg("x"))),
            Some(Error::Message(_))
        ));
    }

    #[test]
    fn error_lists_flatten_joined_errors() {
        let mut errs = ErrorList::default();
        errs.push(Error::Joined(vec![Error::msg("a"), Error::msg("b")]));
        errs.push_result(Err::<(), _>(Error::msg("c")));
        errs.push_result(Ok::<_, Error>(()));
        match errs.finish() {
            Err(Error::Joined(v)) => assert_eq!(v.len(), 3),
            other => panic!("not joined: {other:?}"),
        }
        let mut one = ErrorList::default();
        one.push(Error::msg("only"));
        assert_eq!(one.finish().unwrap_err().to_string(), "only");
        assert!(ErrorList::<Error>::default().finish().is_ok());
    }

    #[test]
    fn module_errors_convert_with_their_message_and_source() {
        /// A module's error, as each module has its own.
        #[derive(Debug, thiserror::Error)]
        enum MemoryError {
            #[error("{context}: {source}")]
            Os {
                context: String,
                #[source]
                source: std::io::Error,
            },
        }
        crate::module_error!(MemoryError, Memory);
        fn reserve() -> Result<()> {
            Err(MemoryError::Os {
                context: "In reserve, could not map 0x1000 bytes".into(),
                source: std::io::Error::from_raw_os_error(libc::ENOMEM),
            })?;
            Ok(())
        }
        let e = reserve().unwrap_err();
        assert_eq!(e.kind(), Some(ErrorKind::Memory));
        assert!(matches!(
            e.downcast_ref::<MemoryError>(),
            Some(MemoryError::Os { .. })
        ));
        assert_eq!(
            e.to_string(),
            "In reserve, could not map 0x1000 bytes: Cannot allocate memory (os error 12)"
        );
        let source = std::error::Error::source(&e).expect("the OS error");
        assert_eq!(
            source
                .downcast_ref::<std::io::Error>()
                .and_then(|e| e.raw_os_error()),
            Some(libc::ENOMEM)
        );
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }

    #[test]
    fn panic_payloads_become_messages() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(
            Error::from_panic("test", p).to_string(),
            "panic in test: boom 1"
        );
    }
}
