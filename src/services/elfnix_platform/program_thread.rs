//! The program thread: the one thread that runs a program's code on the
//! controller's behalf (its initialisers, `main`), as a native process's
//! main thread does, so that they all see the same thread-locals. It is
//! started on first use and ended at the end of a program run.

use std::sync::mpsc::{self, Sender};
use std::sync::Mutex;
use std::thread::{JoinHandle, ThreadId};

use super::error::PlatformError;
use super::exit::program_exiting;
use crate::sync::lock;

/// A job for the program thread.
pub(super) type ProgramJob = Box<dyn FnOnce() + Send>;

/// The running program thread.
struct ProgramThread {
    id: ThreadId,
    jobs: Sender<ProgramJob>,
    handle: JoinHandle<()>,
}

/// A platform's program thread, if started.
#[derive(Default)]
pub(super) struct ProgramThreadSlot(Mutex<Option<ProgramThread>>);

impl ProgramThreadSlot {
    /// True when called on the program thread.
    pub(super) fn is_current(&self) -> bool {
        lock(&self.0)
            .as_ref()
            .is_some_and(|t| t.id == std::thread::current().id())
    }

    /// Queues `job` on the program thread, started if needed.
    pub(super) fn post(&self, job: ProgramJob) -> Result<(), PlatformError> {
        let jobs = {
            let mut pt = lock(&self.0);
            if pt.is_none() {
                let (tx, rx) = mpsc::channel::<ProgramJob>();
                let handle = std::thread::Builder::new()
                    .name("main".into())
                    .stack_size(crate::task_dispatcher::default_stack_size())
                    .spawn(move || {
                        while let Ok(job) = rx.recv() {
                            job();
                        }
                    })
                    .map_err(|e| PlatformError::ProgramThread(e.to_string()))?;
                *pt = Some(ProgramThread {
                    id: handle.thread().id(),
                    jobs: tx,
                    handle,
                });
            }
            pt.as_ref().map(|t| t.jobs.clone())
        };
        jobs.and_then(|j| j.send(job).ok())
            .ok_or_else(|| PlatformError::ProgramThread("it has ended".into()))
    }

    /// Ends the program thread once its queued jobs are done; its
    /// `thread_local` destructors run as it exits.
    pub(super) fn end(&self) {
        let t = lock(&self.0).take();
        if let Some(t) = t {
            drop(t.jobs);
            // A thread inside exit() never finishes its job.
            if t.id != std::thread::current().id() && !program_exiting() {
                let _ = t.handle.join();
            }
        }
    }
}
