//! An executor that offers host functions to the code it runs, written
//! against the safe API only (no `unsafe`).
//!
//! ```text
//! cargo build --example host_functions
//! clang-22 -c examples/host_functions_jit.c -o prog.o
//! llvm-jitlink-22 -oop-executor=target/debug/examples/host_functions prog.o
//! ```
//!
//! The Session defines `int host_add(int, int)` and
//! `void host_log(const char *)` (which prints its argument and a newline),
//! so a JIT'd `main` that calls `host_log("...")` and returns
//! `host_add(40, 2)` prints the line and exits 42. The host functions
//! reach the host's state through the Session's context, not globals; the
//! count of calls they saw is printed to stderr when the controller goes.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use orc_rt::host_symbols::JitCStr;
use orc_rt::session::Session;
use orc_rt::simple_remote_epc::{self, Endpoint};
use orc_rt::task_dispatcher::GrowingThreadPoolTaskDispatcher;
use orc_rt::Error;

/// The host's state, reached from the host functions.
#[derive(Default)]
struct HostState {
    calls: AtomicUsize,
}

/// Counts a call in the state of the Session that runs the caller.
fn count_call() {
    if let Some(state) = Session::current().and_then(|s| s.context::<HostState>()) {
        state.calls.fetch_add(1, Ordering::Relaxed);
    }
}

extern "C" fn host_add(a: i32, b: i32) -> i32 {
    count_call();
    a.wrapping_add(b)
}

extern "C" fn host_log(msg: JitCStr) {
    count_call();
    println!("{}", msg.to_string_lossy());
}

fn run(spec: &str) -> Result<bool, Error> {
    let endpoint = Endpoint::parse(spec).map_err(|e| Error::msg(e.to_string()))?;
    let transport = endpoint
        .open_with(|addr| eprintln!("host_functions: listening on {addr}"))
        .map_err(|e| Error::msg(e.to_string()))?;
    let session = Session::new(Arc::new(GrowingThreadPoolTaskDispatcher::new()));
    session.set_error_reporter(Box::new(|e| eprintln!("host_functions: {e}")));

    let state = Arc::new(HostState::default());
    session.set_context(state.clone());
    session.define_function("host_add", host_add as extern "C" fn(_, _) -> _)?;
    session.define_function("host_log", host_log as extern "C" fn(_))?;

    let connection = simple_remote_epc::serve(&session, transport)?;
    session.wait_for_detach();
    session.shutdown_and_wait()?;
    eprintln!(
        "host_functions: {} host function calls",
        state.calls.load(Ordering::Relaxed)
    );
    Ok(connection.disconnect_error().is_none())
}

fn main() {
    // llvm-jitlink passes `filedescs=I,O` (after any `test-*` flags).
    let spec = std::env::args().skip(1).find(|a| !a.starts_with("test-"));
    let Some(spec) = spec else {
        eprintln!("usage: host_functions filedescs=<in>,<out> | listen=<host>:<port>");
        std::process::exit(1);
    };
    match run(&spec) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("host_functions: {e}");
            std::process::exit(1);
        }
    }
}
