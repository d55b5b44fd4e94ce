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
//!
//! Our own options come first and start with `--` (`--help`, `--version`,
//! `--sandbox=SPEC`, `--sandbox-check`, `--platform-archive`); the sandbox is also read from
//! `ORC_RT_SANDBOX`, since controllers start executors with `filedescs=`
//! only. It is applied once the connection is open, before any other
//! thread starts and before any JIT'd code runs.

use std::process::exit;
use std::sync::Arc;

use orc_rt::sandbox::{SandboxPolicy, CPU_LIMIT_EXIT_STATUS, WALL_LIMIT_EXIT_STATUS};
use orc_rt::session::Session;
use orc_rt::simple_remote_epc::{
    self, BootstrapProfile, Endpoint, EndpointError, SimpleRemoteEpcError, Transport,
    TransportError,
};
use orc_rt::task_dispatcher::GrowingThreadPoolTaskDispatcher;

orc_rt::gdb_jit_interface!();

/// The reference prints its usage under this fixed name.
const USAGE: &str = "Usage:
  llvm-jitlink-executor [test-jitloadergdb] filedescs=<infd>,<outfd> [args...]
  llvm-jitlink-executor [test-jitloadergdb] listen=<host>:<port> [args...]
";

/// `--help`: the reference's forms, then ours.
fn help(argv0: &str) -> String {
    format!(
        "orc-rt-executor {version}: the executor of orc-rt, a drop-in for LLVM 22's
llvm-jitlink-executor and lli-child-target.

Usage:
  {argv0} [OPTIONS] [test-jitloadergdb] filedescs=<infd>,<outfd> [args...]
  {argv0} [OPTIONS] [test-jitloadergdb] listen=<host>:<port> [args...]
  {argv0} [OPTIONS] <input fd> <output fd>        (lli-child-target's form)

Options (orc-rt's own; the forms above are the reference's, unchanged):
  --help                 print this text and exit
  --version              print the version and the target it runs JIT'd
                         code for, and exit
  --platform-archive     print the absolute path of orc-rt's ELF platform
                         runtime archive for this executor, to pass as
                         llvm-jitlink's -orc-runtime= or clang-repl's
                         --orc-runtime=, and exit
  --sandbox=SPEC         confine JIT'd code (overrides ORC_RT_SANDBOX)
  --on-crash=MODE        exit (default: a crash in JIT'd code kills the
                         executor, as natively) or recover: a fault or an
                         uncaught C++ exception in JIT'd code run for a
                         controller call fails only that call (overrides
                         ORC_RT_ON_CRASH)
  --sandbox-check[=SPEC] apply SPEC (or ORC_RT_SANDBOX, or untrusted) to this
                         process, print what is enforced and the Landlock ABI,
                         and exit (1 if SPEC requires what cannot be enforced)

Sandbox SPEC: comma-separated items, applied in order:
  untrusted              the profile for strangers' snippets: every mechanism
                         below with its defaults
  none                   no sandbox
  require                refuse to run if a mechanism cannot be enforced
  mem=SIZE fsize=SIZE    address space, file size (bytes; K, M, G suffixes)
  cpu=S wall=S           CPU seconds; wall-clock seconds for the session
  files=N procs=N        open files; processes and threads (RLIMIT_NPROC)
  ro=PATH rw=PATH        extra readable / read-write path (repeatable)
  exec fork net perf     allow execve / new processes / network / perf_event_open
  user=NAME|UID[:GID]    identity a privileged executor drops to (default:
                         a per-session uid); keep-privileges: do not drop
  env=clean|keep         clear the environment or not; inherit-fds: keep
                         inherited descriptors open
  no-fs no-syscalls no-limits no-ns  leave out Landlock files / seccomp /
                         limits / namespaces
  minimal-root           a root holding only the allowed paths (ENOENT for
                         the rest, metadata included; on in untrusted);
                         no-minimal-root keeps the host's tree
  (0 removes a limit). untrusted = mem=4G,cpu=60,wall=600,files=256,
  procs=512,fsize=4G, no core dumps, read-only system files, no network,
  no exec, no new processes, the seccomp deny list, env=clean, inherited
  descriptors closed, new mount/IPC/network namespaces, and as root a
  per-session uid with no capabilities.

Exit status: 0 when the controller ends the session cleanly, 1 on errors;
{cpu} when the sandbox's CPU limit is hit, {wall} when its wall-clock limit
is hit (each with a message on stderr).

Environment:
  ORC_RT_SANDBOX=SPEC    the sandbox (see above)
  ORC_RT_ON_CRASH=MODE   exit or recover (see --on-crash); with recover,
                         SIGINT interrupts the running call
  ORC_RT_CALL_TIMEOUT=S  with recover: a call into JIT'd code running for
                         more than S seconds is interrupted
  ORC_RT_STACK_SIZE=SIZE stack of threads running JIT'd code (default: the
                         soft RLIMIT_STACK, else 8M)
  ORC_RT_LOG=LEVEL       what orc-rt logs on stderr: off, error, warning
                         (default), info, debug or trace
  ORC_RT_TRACE=1         log every protocol message on stderr
",
        version = env!("CARGO_PKG_VERSION"),
        cpu = CPU_LIMIT_EXIT_STATUS,
        wall = WALL_LIMIT_EXIT_STATUS,
    )
}

/// Our leading `--` options.
#[derive(Default)]
struct Options {
    sandbox: Option<String>,
    sandbox_check: Option<Option<String>>,
    on_crash: Option<String>,
}

/// Takes our leading `--` options off `args`. `--help`, `--version` and a
/// bad option end the process here.
fn take_options(argv0: &str, args: &mut Vec<String>) -> Options {
    let mut o = Options::default();
    while let Some(a) = args.first() {
        if a == "--help" {
            print!("{}", help(argv0));
            exit(0);
        } else if a == "--version" {
            println!(
                "orc-rt-executor {}\ntarget: {}",
                env!("CARGO_PKG_VERSION"),
                orc_rt::simple_remote_epc::PROCESS_TRIPLE
            );
            exit(0);
        } else if a == "--platform-archive" {
            match orc_rt::services::elfnix_platform::archive_path() {
                Some(p) => {
                    println!("{}", p.display());
                    exit(0)
                }
                None => {
                    eprintln!(
                        "{argv0}: the ELF platform archive ({}) was not found next to this executable, under ../lib/orc-rt/, or where it was built",
                        orc_rt::services::elfnix_platform::ARCHIVE_NAME
                    );
                    exit(1)
                }
            }
        } else if let Some(spec) = a.strip_prefix("--sandbox=") {
            o.sandbox = Some(spec.to_string());
        } else if a == "--sandbox-check" {
            o.sandbox_check = Some(None);
        } else if let Some(spec) = a.strip_prefix("--sandbox-check=") {
            o.sandbox_check = Some(Some(spec.to_string()));
        } else if let Some(mode) = a.strip_prefix("--on-crash=") {
            o.on_crash = Some(mode.to_string());
        } else if a.starts_with("--sandbox") || a.starts_with("--on-crash") {
            eprintln!("{argv0}: unknown option {a} (see --help)");
            exit(1);
        } else {
            break;
        }
        args.remove(0);
    }
    o
}

/// The sandbox from `--sandbox=` or `ORC_RT_SANDBOX`; a bad spec ends the
/// process.
fn sandbox_policy(argv0: &str, option: Option<&str>) -> SandboxPolicy {
    let env = std::env::var("ORC_RT_SANDBOX").ok();
    let Some(spec) = option.or(env.as_deref()) else {
        return SandboxPolicy::none();
    };
    SandboxPolicy::parse(spec).unwrap_or_else(|e| {
        eprintln!("{argv0}: {e}");
        exit(1)
    })
}

/// `--on-crash=MODE` or `ORC_RT_ON_CRASH=MODE`: `exit` (the default: a
/// crash in JIT'd code kills the process, as natively) or `recover`.
fn on_crash(argv0: &str, option: Option<&str>) {
    let env = std::env::var("ORC_RT_ON_CRASH").ok();
    match option.or(env.as_deref()).unwrap_or("exit") {
        "exit" | "" => {}
        "recover" => {
            if let Err(e) = orc_rt::services::run_as::enable_crash_recovery() {
                eprintln!("{argv0}: cannot enable crash recovery: {e}");
                exit(1)
            }
            if let Ok(s) = std::env::var("ORC_RT_CALL_TIMEOUT") {
                match s.parse::<f64>() {
                    Ok(secs) if secs > 0.0 && secs.is_finite() => {
                        orc_rt::services::run_as::set_call_time_limit(Some(
                            std::time::Duration::from_secs_f64(secs),
                        ))
                    }
                    _ => {
                        eprintln!("{argv0}: bad ORC_RT_CALL_TIMEOUT {s:?} (seconds > 0)");
                        exit(1)
                    }
                }
            }
        }
        other => {
            eprintln!("{argv0}: unknown crash mode {other:?} (exit or recover)");
            exit(1)
        }
    }
}

/// Applies the sandbox (once the connection is open, before any thread
/// starts); what could not be enforced is said on stderr. A failure, or a
/// requirement that cannot be met, ends the process.
fn enter_sandbox(argv0: &str, policy: &SandboxPolicy, transport: &Transport) {
    if policy.is_none() {
        return;
    }
    let mut policy = policy.clone();
    policy.keep_fds = transport.descriptors();
    match policy.apply() {
        Ok(report) if !report.not_enforced.is_empty() => {
            eprintln!("{argv0}: warning: sandbox: {report}");
        }
        Ok(_) => {}
        Err(e) => {
            eprintln!("{argv0}: {e}");
            exit(1)
        }
    }
}

/// `--sandbox-check`: applies the policy to this process, reports, exits.
fn sandbox_check(argv0: &str, spec: Option<&str>) -> ! {
    let mut policy = sandbox_policy(argv0, spec);
    if policy.is_none() {
        policy = SandboxPolicy::untrusted();
    }
    match policy.apply() {
        Ok(report) => {
            println!("sandbox: {report}");
            exit(0)
        }
        Err(e) => {
            eprintln!("{argv0}: {e}");
            exit(1)
        }
    }
}

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
    let dispatcher = Arc::new(GrowingThreadPoolTaskDispatcher::new());
    // One worker starts now, while the controller handles Setup, rather
    // than in its first call that needs one.
    if let Err(e) = dispatcher.prestart(1) {
        eprintln!("{argv0}: could not start a worker thread: {e}");
    }
    let session = Session::new(dispatcher);
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
    // JIT'd code inside exit() ends the process, with its status.
    orc_rt::services::elfnix_platform::wait_if_program_exiting();
    Ok(ca.disconnect_error().is_some())
}

fn main() {
    // JIT'd code that overflows its stack dies by SIGSEGV, as natively.
    orc_rt::simple_remote_epc::restore_default_fault_signals();
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let argv0 = argv.next().unwrap_or_else(|| "orc-rt-executor".to_string());
    let mut args: Vec<String> = argv.collect();
    let options = take_options(&argv0, &mut args);
    if let Some(spec) = options.sandbox_check {
        sandbox_check(&argv0, spec.as_deref());
    }
    let sandbox = sandbox_policy(&argv0, options.sandbox.as_deref());
    on_crash(&argv0, options.on_crash.as_deref());
    if args.is_empty() {
        usage_error("insufficient arguments");
    }
    let is_spec = |a: &str| a.starts_with("test-") || a.contains('=');
    match &args[..] {
        [input, output] if !is_spec(input) && !is_spec(output) => {
            lli_child_target(&argv0, input, output, &sandbox)
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
        .and_then(|t| {
            enter_sandbox(&argv0, &sandbox, &t);
            serve(t, &argv0, BootstrapProfile::JitlinkExecutor)
        });
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
fn lli_child_target(argv0: &str, input: &str, output: &str, sandbox: &SandboxPolicy) -> ! {
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
    enter_sandbox(argv0, sandbox, &transport);
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
