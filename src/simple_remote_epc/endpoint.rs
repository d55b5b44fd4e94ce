//! Where the controller is: the executor's transport spec, as LLVM 22's
//! `llvm-jitlink-executor` takes it on its command line
//! (`filedescs=<in>,<out>` or `listen=<host>:<port>`), parsed and opened
//! with the reference's error messages.
//!
//! ```
//! use orc_rt::simple_remote_epc::Endpoint;
//!
//! assert_eq!(Endpoint::parse("filedescs=5,9").unwrap(), Endpoint::Fds(5, 9));
//! assert_eq!(
//!     Endpoint::parse("listen=127.0.0.1:4000").unwrap(),
//!     Endpoint::Listen("127.0.0.1".into(), 4000)
//! );
//! assert_eq!(
//!     Endpoint::parse("filedescs=0x3,4").unwrap_err().to_string(),
//!     "0x3 is not a valid file descriptor"
//! );
//! // A negative descriptor parses (as in the reference) but cannot open.
//! let e = Endpoint::parse("filedescs=-1,4").unwrap().open().err().unwrap();
//! assert_eq!(e.to_string(), "Invalid input file descriptor -1");
//! ```

use super::transport::{Transport, TransportError};

/// A transport spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Inherited descriptors: read from the first, write to the second
    /// (they may be equal). Negative values parse, and are refused by
    /// [`Endpoint::open`] with the reference's message.
    Fds(i64, i64),
    /// Listen on exactly this host and port and serve the first
    /// connection. The port is checked by [`Endpoint::open`].
    Listen(String, i64),
}

/// A spec that does not parse, or an endpoint that cannot be opened.
/// Messages are LLVM 22's executor's.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Not `filedescs=` or `listen=`.
    #[error("invalid specifier type \"{0}\"")]
    BadKind(String),
    /// A descriptor that is not a decimal integer.
    #[error("{0} is not a valid file descriptor")]
    BadFd(String),
    /// A port that is not a decimal integer.
    #[error("port number '{0}' is not a valid integer")]
    BadPort(String),
    /// A negative or too large input descriptor.
    #[error("Invalid input file descriptor {0}")]
    InvalidInputFd(i64),
    /// A negative or too large output descriptor.
    #[error("Invalid output file descriptor {0}")]
    InvalidOutputFd(i64),
    /// A port outside 0..=65535 (getaddrinfo's message, as the reference).
    #[error("Error setting up bind address: Servname not supported for ai_socktype")]
    PortOutOfRange(i64),
    /// The transport could not be set up.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

crate::module_error!(EndpointError, Transport);

/// Parses an integer as LLVM's `StringRef::getAsInteger(10, ..)` does:
/// an optional `-`, then decimal digits only.
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a descriptor as `lli-child-target` does (C++ `istream >> int`):
/// leading white space, an optional sign, then as many decimal digits as
/// there are; no digit gives 0, and a value out of `int`'s range gives the
/// nearest bound.
fn parse_istream_int(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    let mut v: i64 = 0;
    for b in digits[..end].bytes() {
        v = (v * 10 + i64::from(b - b'0')).min(i64::from(i32::MAX) + 1);
    }
    let v = if neg { -v } else { v };
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

impl Endpoint {
    /// The endpoint of `lli-child-target <input fd> <output fd>` (LLVM 22's
    /// `lli -remote-mcjit` child), parsed as that tool does: never fails,
    /// text that is no number reads as descriptor 0.
    ///
    /// ```
    /// use orc_rt::simple_remote_epc::Endpoint;
    /// assert_eq!(Endpoint::lli_child_target("5", "9"), Endpoint::Fds(5, 9));
    /// assert_eq!(Endpoint::lli_child_target("x", " 7y"), Endpoint::Fds(0, 7));
    /// ```
    pub fn lli_child_target(input: &str, output: &str) -> Endpoint {
        Endpoint::Fds(parse_istream_int(input), parse_istream_int(output))
    }

    /// Parses a spec (`filedescs=<in>,<out>` or `listen=<host>:<port>`).
    pub fn parse(spec: &str) -> Result<Endpoint, EndpointError> {
        let (kind, rest) = spec.split_once('=').unwrap_or((spec, ""));
        match kind {
            "filedescs" => {
                let (in_s, out_s) = rest.split_once(',').unwrap_or((rest, ""));
                let in_fd = parse_int(in_s).ok_or_else(|| EndpointError::BadFd(in_s.into()))?;
                let out_fd = parse_int(out_s).ok_or_else(|| EndpointError::BadFd(out_s.into()))?;
                Ok(Endpoint::Fds(in_fd, out_fd))
            }
            "listen" => {
                let (host, port_s) = rest.split_once(':').unwrap_or((rest, ""));
                let port =
                    parse_int(port_s).ok_or_else(|| EndpointError::BadPort(port_s.into()))?;
                Ok(Endpoint::Listen(host.to_string(), port))
            }
            _ => Err(EndpointError::BadKind(kind.to_string())),
        }
    }

    /// Opens the transport: takes over the inherited descriptors, or
    /// listens and accepts one connection (blocking until it comes).
    ///
    /// For [`Endpoint::Fds`] the transport takes ownership of the two
    /// descriptors and closes them when it ends. That is the executor
    /// convention (a controller starts the executor with descriptors meant
    /// for it); name only descriptors the process inherited for this.
    pub fn open(&self) -> Result<Transport, EndpointError> {
        self.open_with(|_| {})
    }

    /// Like [`Endpoint::open`]; for [`Endpoint::Listen`], `on_listening`
    /// gets the bound address once the socket listens (port 0 picks a free
    /// port).
    pub fn open_with(
        &self,
        on_listening: impl FnOnce(std::net::SocketAddr),
    ) -> Result<Transport, EndpointError> {
        match *self {
            Endpoint::Fds(in_fd, out_fd) => {
                let in_raw = i32::try_from(in_fd)
                    .ok()
                    .filter(|&fd| fd >= 0)
                    .ok_or(EndpointError::InvalidInputFd(in_fd))?;
                let out_raw = i32::try_from(out_fd)
                    .ok()
                    .filter(|&fd| fd >= 0)
                    .ok_or(EndpointError::InvalidOutputFd(out_fd))?;
                // SAFETY: the executor convention documented above: these
                // inherited descriptors are handed to the executor, and
                // nothing else in the process uses them. from_raw_fds checks
                // that both are open before taking them.
                Ok(unsafe { Transport::from_raw_fds(in_raw, out_raw) }?)
            }
            Endpoint::Listen(ref host, port) => {
                let port = u16::try_from(port).map_err(|_| EndpointError::PortOutOfRange(port))?;
                Ok(Transport::listen_tcp(host, port, on_listening)?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_reference_messages() {
        assert_eq!(
            Endpoint::parse("filedescs=5,9").unwrap(),
            Endpoint::Fds(5, 9)
        );
        assert_eq!(
            Endpoint::parse("filedescs=-1,4").unwrap(),
            Endpoint::Fds(-1, 4)
        );
        assert_eq!(
            Endpoint::parse("listen=127.0.0.1:4000").unwrap(),
            Endpoint::Listen("127.0.0.1".into(), 4000)
        );
        let err = |s: &str| Endpoint::parse(s).unwrap_err().to_string();
        assert_eq!(err("foo=1"), "invalid specifier type \"foo\"");
        assert_eq!(err(""), "invalid specifier type \"\"");
        assert_eq!(err("--help"), "invalid specifier type \"--help\"");
        assert_eq!(
            err("listen=127.0.0.1"),
            "port number '' is not a valid integer"
        );
        assert_eq!(
            err("listen=a:b:c"),
            "port number 'b:c' is not a valid integer"
        );
        assert_eq!(err("filedescs=3"), " is not a valid file descriptor");
        assert_eq!(err("filedescs"), " is not a valid file descriptor");
        assert_eq!(err("filedescs=3,4,5"), "4,5 is not a valid file descriptor");
        assert_eq!(err("filedescs=0x3,4"), "0x3 is not a valid file descriptor");
        assert_eq!(err("filedescs=+3,4"), "+3 is not a valid file descriptor");
        assert_eq!(Endpoint::lli_child_target("3", "4"), Endpoint::Fds(3, 4));
        assert_eq!(Endpoint::lli_child_target("-1", "+4"), Endpoint::Fds(-1, 4));
        assert_eq!(Endpoint::lli_child_target("", "abc"), Endpoint::Fds(0, 0));
        assert_eq!(
            Endpoint::lli_child_target("99999999999", "-99999999999"),
            Endpoint::Fds(i64::from(i32::MAX), i64::from(i32::MIN))
        );
        let open = |e: Endpoint| e.open().err().unwrap().to_string();
        assert_eq!(
            open(Endpoint::Fds(3, -2)),
            "Invalid output file descriptor -2"
        );
        assert_eq!(
            open(Endpoint::Fds(1 << 40, 1)),
            format!("Invalid input file descriptor {}", 1i64 << 40)
        );
        assert_eq!(
            open(Endpoint::Listen("127.0.0.1".into(), 70000)),
            "Error setting up bind address: Servname not supported for ai_socktype"
        );
    }
}
