//! A Session used in a child forked after the Session was created fails at
//! once with an error naming both processes, instead of hanging on threads
//! that exist only in the parent.
//!
//! The child only calls orc-rt's API and leaves with `_exit`; its exit
//! status tells the parent which check failed. One test in this file, so
//! no other test thread runs while it forks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use orc_rt::controller_access::InProcessController;
use orc_rt::session::Session;
use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
use orc_rt::wrapper_function::IncomingCall;
use orc_rt::wrapper_function::{serialize_to_buffer, sps_handler};
use orc_rt::{Error, ExecutorAddr};

/// The checks the child runs: `Err(code)` names the first one that failed.
fn in_child(s: Arc<Session>, ctl: &InProcessController, parent: u32) -> Result<(), i32> {
    let me = std::process::id();
    let names_both = |m: &str| {
        m.contains(&format!("process {parent} (the parent)"))
            && m.contains(&format!("this is process {me}"))
    };
    // An incoming call: answered with the error, not run.
    let add = IncomingCall::handler(sps_handler(|(a, b): (i32, i32)| a + b));
    let r = ctl.call_blocking(add, serialize_to_buffer(&(1i32, 2i32)));
    let msg = r
        .out_of_band_error_message()
        .ok_or(10)?
        .to_string_lossy()
        .into_owned();
    if !names_both(&msg) {
        return Err(11);
    }
    // A call to the controller.
    match s.call_controller_sps_blocking::<_, i32>(ExecutorAddr::new(0x10), &(1i32,)) {
        Err(Error::OutOfBand(m)) if names_both(&m) => {}
        _ => return Err(12),
    }
    // Shutdown and waits refuse.
    match s.shutdown_and_wait() {
        Err(e @ Error::ForkedChild { .. }) if names_both(&e.to_string()) => {}
        _ => return Err(13),
    }
    if s.managed_code_token().is_some() {
        return Err(14);
    }
    // A task is dropped (and the error reported), never run.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    s.dispatch(Box::new(move || tx.send(()).unwrap()));
    if rx.recv_timeout(Duration::from_secs(5)).is_ok() {
        return Err(15);
    }
    // Dropping the last reference returns (the Session is leaked).
    drop(s);
    Ok(())
}

#[test]
fn a_forked_child_gets_an_error_instead_of_a_hang() {
    let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(2).unwrap()));
    let ctl = InProcessController::new();
    s.attach(ctl.clone()).unwrap();
    let tag = ExecutorAddr::new(0x10);
    ctl.add_handler(tag, sps_handler(|(x,): (i32,)| x + 1));
    // It works in the parent, which has started every thread it needs.
    assert_eq!(
        s.call_controller_sps_blocking::<_, i32>(tag, &(1i32,))
            .unwrap(),
        2
    );
    let add = IncomingCall::handler(sps_handler(|(a, b): (i32, i32)| a + b));
    let r = ctl.call_blocking(add, serialize_to_buffer(&(1i32, 2i32)));
    assert_eq!(r.as_slice().unwrap(), 3i32.to_le_bytes());

    let parent = std::process::id();
    // SAFETY: the child only calls orc-rt's API (no lock of the test
    // harness) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let s2 = s.clone();
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(s); // the child keeps one reference, dropped by the checks
            in_child(s2, &ctl, parent)
        }))
        .map_or(2, |r| r.err().unwrap_or(0));
        // SAFETY: ends the child without running the parent's exit
        // handlers or destructors.
        unsafe { libc::_exit(code) };
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut status = 0;
    loop {
        // SAFETY: `pid` is our child; `status` is writable.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(r >= 0, "waitpid: {}", std::io::Error::last_os_error());
        if r == pid {
            break;
        }
        if Instant::now() > deadline {
            // SAFETY: `pid` is our child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // SAFETY: as above.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            panic!("the forked child hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "check that failed in the child"
    );
    // The parent's Session is untouched.
    assert_eq!(
        s.call_controller_sps_blocking::<_, i32>(tag, &(5i32,))
            .unwrap(),
        6
    );
    s.shutdown_and_wait().unwrap();
}
