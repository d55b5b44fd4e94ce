//! A JIT'd program's call of `exit`, process-wide.
//!
//! When JIT'd code calls `exit` during a program run, the platform's exit
//! hook answers the run with the exit status, then holds the exiting thread
//! until the controller has ended the Session (at most [`EXIT_WAIT`]), so
//! that the controller exits with the program's status, as a native process
//! would. This module keeps where that stands ([`ExitPhase`]) and the
//! executor's side of the wait ([`wait_if_program_exiting`]).

use std::os::raw::c_int;
use std::sync::mpsc::SyncSender;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::error::PlatformError;
use crate::sync::lock;

/// Where a JIT'd program's call of `exit` stands, process-wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExitPhase {
    /// No JIT'd code has called `exit`.
    Running,
    /// `exit` is running; its status went to the controller as the
    /// program's result, and the exiting thread waits for the Session to
    /// end before the process does.
    Exiting,
    /// The Session has ended: the exiting thread goes on with `exit`.
    SessionEnded,
}

static EXIT_PHASE: Mutex<ExitPhase> = Mutex::new(ExitPhase::Running);
static EXIT_CHANGED: Condvar = Condvar::new();

/// Longest an exiting program waits for the controller to end the Session.
const EXIT_WAIT: Duration = Duration::from_secs(30);

/// How a program run ended: `main` returned (or the run failed), or JIT'd
/// code called `exit` with a status.
pub(super) enum RunOutcome {
    Returned(Result<(u64, i64), PlatformError>),
    Exited(c_int),
}

/// From the exit hook, on the thread inside `exit(status)`, with a program
/// run waiting for `main`: answers the run with the status. False if the
/// run was no longer waiting.
pub(super) fn answer_run(waiter: SyncSender<RunOutcome>, status: c_int) -> bool {
    *lock(&EXIT_PHASE) = ExitPhase::Exiting;
    waiter.send(RunOutcome::Exited(status)).is_ok()
}

/// After [`answer_run`]: writes out what the program printed, then waits
/// (at most [`EXIT_WAIT`]) until the Session has ended.
pub(super) fn wait_for_session_end() {
    // What the handlers printed is written out now, not only after the
    // wait: a controller that never ends the Session must not lose it.
    crate::sys::exit::flush_stdio();
    let deadline = Instant::now() + EXIT_WAIT;
    let mut phase = lock(&EXIT_PHASE);
    while *phase == ExitPhase::Exiting {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        phase = EXIT_CHANGED
            .wait_timeout(phase, left)
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
    }
}

/// Called when the Session ends: an exiting program may go on.
pub(super) fn session_ended() {
    let mut phase = lock(&EXIT_PHASE);
    if *phase == ExitPhase::Exiting {
        *phase = ExitPhase::SessionEnded;
        EXIT_CHANGED.notify_all();
    }
}

/// True once JIT'd code has called `exit` (the exiting thread never
/// finishes what it was doing).
pub(super) fn program_exiting() -> bool {
    *lock(&EXIT_PHASE) != ExitPhase::Running
}

/// For the executor's `main` once its Session has ended: if JIT'd code is
/// inside `exit`, never returns (that thread ends the process with the
/// program's status); otherwise returns at once.
pub fn wait_if_program_exiting() {
    if program_exiting() {
        loop {
            std::thread::park();
        }
    }
}
