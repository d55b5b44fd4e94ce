//! `orc-rt-executor`: drop-in replacement for `llvm-jitlink-executor-22`
//! and for `lli-child-target` (LLVM 22's `lli -remote-mcjit` child).
//!
//! ```text
//! orc-rt-executor [test-jitloadergdb] filedescs=<infd>,<outfd> [args...]
//! orc-rt-executor [test-jitloadergdb] listen=<host>:<port> [args...]
//! orc-rt-executor <input fd> <output fd>          (lli-child-target's form)
//! ```
//!
//! Usage errors, messages and exit codes are those of the reference: usage
//! errors print `error: <msg>` and the usage text and exit 1; a protocol or
//! transport error prints `<argv0>: <msg>` and exits 1; a clean end of the
//! session (EOF at a frame boundary, or Hangup) exits 0. The second form is
//! taken when there are exactly two arguments and neither is a flag
//! (`test-*`) or a `kind=value` spec.

use std::process::exit;
use std::sync::Arc;

use orc_rt::session::Session;
use orc_rt::simple_remote_epc::{
    self, Endpoint, EndpointError, SimpleRemoteEpcError, Transport, TransportError,
};
use orc_rt::sps_ci::bootstrap::BootstrapProfile;
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
fn serve(
    transport: Transport,
    argv0: &str,
    profile: BootstrapProfile,
) -> Result<bool, orc_rt::Error> {
    // Calls nest without limit and workers must outlive JIT'd code: see
    // GrowingThreadPoolTaskDispatcher.
    let session = Session::new(Arc::new(GrowingThreadPoolTaskDispatcher::new()));
    let name = argv0.to_string();
    let child = profile == BootstrapProfile::LliChildTarget;
    session.set_error_reporter(Box::new(move |e| {
        // lli-child-target names every failure of its descriptors so.
        let write_failed = matches!(
            e.downcast_ref::<SimpleRemoteEpcError>(),
            Some(SimpleRemoteEpcError::Write(_))
        );
        if child && write_failed {
            eprintln!("{name}: FD-transport disconnected");
        } else {
            eprintln!("{name}: {e}");
        }
    }));
    let ca = simple_remote_epc::serve_profile(&session, transport, profile)?;
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
    let is_spec = |a: &str| a.starts_with("test-") || a.contains('=');
    match &args[..] {
        [input, output] if !is_spec(input) && !is_spec(output) => {
            lli_child_target(&argv0, input, output)
        }
        // A descriptor number first, but not two arguments: lli-child-target's
        // usage error.
        [first, ..] if first.trim_start_matches(['-', '+']).parse::<u64>().is_ok() => {
            eprintln!("Usage: {argv0} <input fd> <output fd>");
            exit(1)
        }
        _ => {}
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
        .and_then(|t| serve(t, &argv0, BootstrapProfile::JitlinkExecutor));
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

/// `lli-child-target <input fd> <output fd>`: serves `lli -remote-mcjit`
/// with that tool's catalog, messages and exit codes.
fn lli_child_target(argv0: &str, input: &str, output: &str) -> ! {
    let endpoint = Endpoint::lli_child_target(input, output);
    let transport = match endpoint.open() {
        Ok(t) => t,
        // A descriptor that is not open: lli-child-target finds out when
        // its transport fails, and says so in these words.
        Err(EndpointError::Transport(TransportError::BadFd(_)))
        | Err(EndpointError::InvalidOutputFd(_)) => {
            eprintln!("{argv0}: FD-transport disconnected");
            exit(1)
        }
        Err(e) => {
            eprintln!("{argv0}: {e}");
            exit(1)
        }
    };
    match serve(transport, argv0, BootstrapProfile::LliChildTarget) {
        Ok(false) => exit(0),
        Ok(true) => exit(1),
        Err(e) => {
            eprintln!("{argv0}: {e}");
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
