//! The crate-wide error type.
//!
//! Every fallible operation in orc-rt returns [`Error`]. At the C boundary an
//! `Error` becomes an `orc_rt_ErrorRef` (see `ffi::error`) or an out-of-band
//! error in a [`crate::WrapperFunctionBuffer`]; nothing is dropped silently.

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
    /// SPS serialization or deserialization failed.
    #[error("SPS: {0}")]
    Sps(#[from] crate::sps::SpsError),
    /// The Session is shutting down or shut down; the operation was refused.
    #[error("session is shut down")]
    SessionShutDown,
    /// The controller is not attached (never was, or has detached).
    #[error("controller is detached: {0}")]
    Detached(String),
    /// A wrapper function returned an out-of-band error.
    #[error("wrapper function failed: {0}")]
    OutOfBand(String),
    /// Rust code called from a boundary panicked; the panic was caught.
    #[error("panic in {context}: {message}")]
    Panic {
        /// Where the panic was caught.
        context: String,
        /// The panic payload, if it was a string.
        message: String,
    },
    /// Several errors joined, one message per line (like LLVM's joinErrors).
    #[error("{}", JoinedDisplay(.0))]
    Joined(Vec<Error>),
}

struct JoinedDisplay<'a>(&'a [Error]);

impl fmt::Display for JoinedDisplay<'_> {
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

impl Error {
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
        match (a, b) {
            (None, x) | (x, None) => x,
            (Some(Error::Joined(mut v)), Some(e)) => {
                v.push(e);
                Some(Error::Joined(v))
            }
            (Some(a), Some(b)) => Some(Error::Joined(vec![a, b])),
        }
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

/// Reports an error that belongs to no live Session (a stale handle, a
/// return for a Session already destroyed): printed to stderr as
/// `orc-rt: error: <message>`. Everything that has a Session reports
/// through the Session's error reporter instead.
pub fn report_unowned(e: Error) {
    eprintln!("orc-rt: error: {e}");
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
