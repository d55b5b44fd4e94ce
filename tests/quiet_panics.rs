//! A panic caught at one of orc-rt's boundaries becomes an error carrying
//! its message, and std's panic hook does not print it (nor a backtrace)
//! as well; a panic outside them still goes to the previous hook.
//!
//! The checks run in a child process (this test binary run again with
//! `QUIET_PANICS_CHILD=1`) whose stderr the parent reads: the test harness
//! would otherwise capture the hook's output itself.

mod common;

use std::sync::{Arc, Mutex};

use orc_rt::controller_access::InProcessController;
use orc_rt::session::Session;
use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
use orc_rt::wrapper_function::IncomingCall;
use orc_rt::wrapper_function::{serialize_to_buffer, sps_handler};

/// The child's part: panics in a handler and in a task, then one outside
/// orc-rt. Prints what the errors said to stdout.
fn child() {
    let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
    let reported = Arc::new(Mutex::new(Vec::new()));
    let r = reported.clone();
    s.set_error_reporter(Box::new(move |e| r.lock().unwrap().push(e.to_string())));
    let ctl = InProcessController::new();
    s.attach(ctl.clone()).unwrap();

    let boom = IncomingCall::handler(sps_handler(|(x,): (u32,)| -> u32 {
        panic!("handler boom {x}")
    }));
    let reply = ctl.call_blocking(boom, serialize_to_buffer(&(7u32,)));
    let msg = reply.out_of_band_error_message().unwrap().to_str().unwrap();
    println!("handler error: {msg}");

    let (tx, rx) = std::sync::mpsc::channel::<()>();
    s.dispatch(Box::new(move || {
        let _tx = tx;
        panic!("task boom")
    }));
    // The task's sender is dropped once it has panicked.
    let _ = rx.recv();
    s.shutdown_and_wait().unwrap();
    for m in reported.lock().unwrap().iter() {
        println!("reported: {m}");
    }

    // Not at an orc-rt boundary: the previous hook prints it.
    let _ = std::thread::spawn(|| panic!("outside boom")).join();
    println!("child done");
}

/// Runs [`child`] in a fresh process; `ORC_RT_PRINT_CAUGHT_PANICS` set to
/// `print`, or removed. Returns (stdout, stderr) of a successful run.
fn run_child(print: Option<&str>) -> (String, String) {
    let mut cmd = common::self_command();
    cmd.args([
        "--exact",
        "caught_panics_are_errors_and_are_not_printed",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("QUIET_PANICS_CHILD", "1")
    .env("RUST_BACKTRACE", "1");
    match print {
        Some(v) => cmd.env("ORC_RT_PRINT_CAUGHT_PANICS", v),
        None => cmd.env_remove("ORC_RT_PRINT_CAUGHT_PANICS"),
    };
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "child failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("child done"), "{stdout}");
    assert!(
        stdout.contains("handler error: panic in SPS wrapper handler: handler boom 7"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reported: panic in a session task: task boom"),
        "{stdout}"
    );
    (stdout, stderr)
}

#[test]
fn caught_panics_are_errors_and_are_not_printed() {
    if std::env::var_os("QUIET_PANICS_CHILD").is_some() {
        return child();
    }
    let (_, stderr) = run_child(None);
    assert!(!stderr.contains("handler boom"), "{stderr}");
    assert!(!stderr.contains("task boom"), "{stderr}");
    // The hook before orc-rt's still sees panics outside its boundaries,
    // and only those.
    assert!(stderr.contains("outside boom"), "{stderr}");
    assert_eq!(stderr.matches("panicked at").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("stack backtrace").count(), 1, "{stderr}");

    // For debugging, ORC_RT_PRINT_CAUGHT_PANICS=1 prints them all again.
    let (_, stderr) = run_child(Some("1"));
    assert!(stderr.contains("handler boom 7"), "{stderr}");
    assert!(stderr.contains("task boom"), "{stderr}");
    assert_eq!(stderr.matches("panicked at").count(), 3, "{stderr}");
}
