//! `orc-rt-executor`: drop-in replacement for `llvm-jitlink-executor-22`.
//!
//! ```text
//! orc-rt-executor [test-jitloadergdb] filedescs=<infd>,<outfd> [args...]
//! orc-rt-executor [test-jitloadergdb] listen=<host>:<port> [args...]
//! ```
//!
//! Usage errors, messages and exit codes are those of the reference: usage
//! errors print `error: <msg>` and the usage text and exit 1; a protocol or
//! transport error prints `<argv0>: <msg>` and exits 1; a clean end of the
//! session (EOF at a frame boundary, or Hangup) exits 0.

use std::process::exit;
use std::sync::Arc;

use orc_rt::session::Session;
use orc_rt::simple_remote_epc::{self, Transport};
use orc_rt::task_dispatcher::GrowingThreadPoolTaskDispatcher;

orc_rt::gdb_jit_interface!();

/// The reference prints its usage under this fixed name.
const USAGE: &str = "Usage:
  llvm-jitlink-executor [test-jitloadergdb] filedescs=<infd>,<outfd> [args...]
  llvm-jitlink-executor [test-jitloadergdb] listen=<host>:<port> [args...]
";

/// Where the controller is.
#[derive(Debug, PartialEq, Eq)]
enum Endpoint {
    /// Inherited descriptors (may be negative: rejected at run time, with
    /// the reference's message).
    Fds(i64, i64),
    /// TCP listen address; the port is checked at run time.
    Listen(String, i64),
}

/// The parsed command line.
#[derive(Debug, PartialEq, Eq)]
struct Config {
    test_jitloadergdb: bool,
    endpoint: Endpoint,
}

/// Parses an integer the way LLVM's `StringRef::getAsInteger(10, ..)` does:
/// optional `-`, then decimal digits only.
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Leading `test-*` flags; returns `(test_jitloadergdb, index of the
/// transport spec)`.
fn parse_flags(args: &[String]) -> (bool, usize) {
    let mut gdb = false;
    let mut i = 0;
    while i < args.len() && args[i].starts_with("test-") {
        if args[i] == "test-jitloadergdb" {
            gdb = true;
        }
        i += 1;
    }
    (gdb, i)
}

/// Parses the transport spec (arguments after it are ignored). The error
/// is the text after `error: `.
fn parse_endpoint(spec: &str) -> Result<Endpoint, String> {
    let (kind, rest) = spec.split_once('=').unwrap_or((spec, ""));
    match kind {
        "filedescs" => {
            let (in_s, out_s) = rest.split_once(',').unwrap_or((rest, ""));
            let in_fd =
                parse_int(in_s).ok_or_else(|| format!("{in_s} is not a valid file descriptor"))?;
            let out_fd = parse_int(out_s)
                .ok_or_else(|| format!("{out_s} is not a valid file descriptor"))?;
            Ok(Endpoint::Fds(in_fd, out_fd))
        }
        "listen" => {
            let (host, port_s) = rest.split_once(':').unwrap_or((rest, ""));
            let port = parse_int(port_s)
                .ok_or_else(|| format!("port number '{port_s}' is not a valid integer"))?;
            Ok(Endpoint::Listen(host.to_string(), port))
        }
        _ => Err(format!("invalid specifier type \"{kind}\"")),
    }
}

fn usage_error(msg: &str) -> ! {
    eprint!("error: {msg}\n\n{USAGE}");
    exit(1)
}

fn print_last_entry() {
    // SAFETY: the descriptor is this binary's own static; no registration
    // runs concurrently here (before the session starts or after it has
    // shut down), so reading its pointer field cannot race.
    let entry = unsafe { (*__jit_debug_descriptor.0.get()).relevant_entry };
    eprintln!(
        "__jit_debug_descriptor.last_entry = {:#018x}",
        entry as usize
    );
}

/// Opens the transport; the error is printed as `<argv0>: <error>`.
fn open_transport(endpoint: &Endpoint) -> Result<Transport, String> {
    match *endpoint {
        Endpoint::Fds(in_fd, out_fd) => {
            let in_fd = i32::try_from(in_fd)
                .ok()
                .filter(|&fd| fd >= 0)
                .ok_or_else(|| format!("Invalid input file descriptor {in_fd}"))?;
            let out_fd = i32::try_from(out_fd)
                .ok()
                .filter(|&fd| fd >= 0)
                .ok_or_else(|| format!("Invalid output file descriptor {out_fd}"))?;
            // SAFETY: the command line hands these inherited descriptors to
            // the executor; nothing else in this process uses them.
            unsafe { Transport::from_raw_fds(in_fd, out_fd) }.map_err(|e| e.to_string())
        }
        Endpoint::Listen(ref host, port) => {
            let port = u16::try_from(port).map_err(|_| {
                "Error setting up bind address: Servname not supported for ai_socktype".to_string()
            })?;
            Transport::listen_tcp(host, port, |_| {}).map_err(|e| e.to_string())
        }
    }
}

/// Serves one controller; returns whether it ended with an error (already
/// reported as `<argv0>: <message>` by the Session's error reporter).
fn serve(transport: Transport, argv0: &str) -> Result<bool, String> {
    // Calls nest without limit and workers must outlive JIT'd code: see
    // GrowingThreadPoolTaskDispatcher.
    let session = Session::new(Arc::new(GrowingThreadPoolTaskDispatcher::new()));
    let name = argv0.to_string();
    session.set_error_reporter(Box::new(move |e| eprintln!("{name}: {e}")));
    let ca = simple_remote_epc::serve(&session, transport).map_err(|e| e.to_string())?;
    session.wait_for_detach();
    if let Err(e) = session.shutdown_and_wait() {
        session.report_error(e);
    }
    Ok(ca.disconnect_error().is_some())
}

fn main() {
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let argv0 = argv.next().unwrap_or_else(|| "orc-rt-executor".to_string());
    let args: Vec<String> = argv.collect();
    if args.is_empty() {
        usage_error("insufficient arguments");
    }
    let (test_jitloadergdb, spec_index) = parse_flags(&args);
    if test_jitloadergdb {
        print_last_entry();
    }
    let spec = args.get(spec_index).map(String::as_str).unwrap_or("");
    let config = match parse_endpoint(spec) {
        Ok(endpoint) => Config {
            test_jitloadergdb,
            endpoint,
        },
        Err(msg) => usage_error(&msg),
    };
    install_gdb_jit_interface();
    let result = open_transport(&config.endpoint).and_then(|t| serve(t, &argv0));
    if config.test_jitloadergdb {
        print_last_entry();
    }
    match result {
        Ok(false) => exit(0),
        Ok(true) => exit(1),
        Err(msg) => {
            eprintln!("{argv0}: {msg}");
            exit(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn endpoints_and_reference_messages() {
        assert_eq!(parse_endpoint("filedescs=5,9"), Ok(Endpoint::Fds(5, 9)));
        assert_eq!(parse_endpoint("filedescs=-1,4"), Ok(Endpoint::Fds(-1, 4)));
        assert_eq!(
            parse_endpoint("listen=127.0.0.1:4000"),
            Ok(Endpoint::Listen("127.0.0.1".into(), 4000))
        );
        let err = |s: &str| parse_endpoint(s).unwrap_err();
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
    }

    #[test]
    fn test_flags_are_skipped() {
        assert_eq!(
            parse_flags(&args(&["test-jitloadergdb", "filedescs=1,2"])),
            (true, 1)
        );
        assert_eq!(parse_flags(&args(&["test-foo", "x"])), (false, 1));
        assert_eq!(parse_flags(&args(&["test-foo"])), (false, 1));
        assert_eq!(
            parse_flags(&args(&["filedescs=1,2", "test-jitloadergdb"])),
            (false, 0)
        );
    }
}
