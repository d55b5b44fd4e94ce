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
use orc_rt::simple_remote_epc::{self, Endpoint, Transport};
use orc_rt::task_dispatcher::GrowingThreadPoolTaskDispatcher;

orc_rt::gdb_jit_interface!();

/// The reference prints its usage under this fixed name.
const USAGE: &str = "Usage:
  llvm-jitlink-executor [test-jitloadergdb] filedescs=<infd>,<outfd> [args...]
  llvm-jitlink-executor [test-jitloadergdb] listen=<host>:<port> [args...]
";

/// The parsed command line.
#[derive(Debug, PartialEq, Eq)]
struct Config {
    test_jitloadergdb: bool,
    endpoint: Endpoint,
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

/// Serves one controller; returns whether it ended with an error (already
/// reported as `<argv0>: <message>` by the Session's error reporter).
fn serve(transport: Transport, argv0: &str) -> Result<bool, orc_rt::Error> {
    // Calls nest without limit and workers must outlive JIT'd code: see
    // GrowingThreadPoolTaskDispatcher.
    let session = Session::new(Arc::new(GrowingThreadPoolTaskDispatcher::new()));
    let name = argv0.to_string();
    session.set_error_reporter(Box::new(move |e| eprintln!("{name}: {e}")));
    let ca = simple_remote_epc::serve(&session, transport)?;
    session.wait_for_detach();
    if let Err(e) = session.shutdown_and_wait() {
        session.report_error(e);
    }
    Ok(ca.disconnect_error().is_some())
}

fn main() {
    // JIT'd code that overflows its stack dies by SIGSEGV, as natively.
    orc_rt::sys::stack::restore_default_fault_signals();
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
    let config = match Endpoint::parse(spec) {
        Ok(endpoint) => Config {
            test_jitloadergdb,
            endpoint,
        },
        Err(e) => usage_error(&e.to_string()),
    };
    install_gdb_jit_interface();
    let result = config
        .endpoint
        .open()
        .map_err(orc_rt::Error::from)
        .and_then(|t| serve(t, &argv0));
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
