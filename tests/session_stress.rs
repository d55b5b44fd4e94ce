//! Stress: several threads make thousands of concurrent calls through the
//! in-process controller on the thread pool while shutdown starts midway.
//! Every call must get exactly one result (a value or a clear "shut down" /
//! "detached" error), in bounded time, with nothing left pending.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use orc_rt::controller_access::InProcessController;
use orc_rt::session::Session;
use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
use orc_rt::wrapper_function::IncomingCall;
use orc_rt::WrapperFunctionBuffer;

mod common;
use common::{echo_native, echo_sync};

#[test]
fn concurrent_calls_while_shutting_down_each_get_one_result() {
    const THREADS: usize = 4;
    const CALLS: usize = 3000;
    let start = Instant::now();
    let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(2).unwrap()));
    let ca = InProcessController::new();
    s.attach(ca.clone()).unwrap();
    let ok = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(AtomicUsize::new(0));
    let issued = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    // Threads 0 and 1 pause halfway until shutdown has started (so some
    // calls are surely refused); threads 2 and 3 race with it freely.
    let started = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut threads = Vec::new();
    for t in 0..THREADS {
        let started = started.clone();
        let (ca, ok, refused, results, issued, barrier, done_tx) = (
            ca.clone(),
            ok.clone(),
            refused.clone(),
            results.clone(),
            issued.clone(),
            barrier.clone(),
            done_tx.clone(),
        );
        threads.push(std::thread::spawn(move || {
            barrier.wait();
            for i in 0..CALLS {
                if t < 2 && i == CALLS / 2 {
                    let (m, cv) = &*started;
                    let mut g = m.lock().unwrap();
                    while !*g {
                        g = cv.wait(g).unwrap();
                    }
                }
                let payload = format!("t{t}-call{i}-payload");
                let target = if i % 2 == 0 {
                    IncomingCall::Native(echo_native)
                } else {
                    IncomingCall::Sync(echo_sync)
                };
                let (ok, refused, results, done_tx) = (
                    ok.clone(),
                    refused.clone(),
                    results.clone(),
                    done_tx.clone(),
                );
                let expect = payload.clone();
                issued.fetch_add(1, Ordering::SeqCst);
                ca.call(
                    target,
                    WrapperFunctionBuffer::from_slice(payload.as_bytes()),
                    move |r| {
                        results.fetch_add(1, Ordering::SeqCst);
                        match r.out_of_band_error_message() {
                            None => {
                                assert_eq!(r.as_slice().unwrap(), expect.as_bytes());
                                ok.fetch_add(1, Ordering::SeqCst);
                            }
                            Some(m) => {
                                let m = m.to_string_lossy();
                                assert!(
                                    m.contains("shut down") || m.contains("detached"),
                                    "unexpected error: {m}"
                                );
                                refused.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        drop(done_tx);
                    },
                );
            }
        }));
    }
    drop(done_tx);
    barrier.wait();
    // Start shutdown midway.
    while issued.load(Ordering::SeqCst) < THREADS * CALLS / 2 {
        std::thread::yield_now();
    }
    s.shutdown(None);
    {
        let (m, cv) = &*started;
        *m.lock().unwrap() = true;
        cv.notify_all();
    }
    for t in threads {
        t.join().unwrap();
    }
    s.wait_for_shutdown();
    // Every result callback has run and dropped its sender.
    assert!(done_rx.recv_timeout(Duration::from_secs(30)).is_err());
    let total = THREADS * CALLS;
    assert_eq!(results.load(Ordering::SeqCst), total);
    assert_eq!(
        ok.load(Ordering::SeqCst) + refused.load(Ordering::SeqCst),
        total
    );
    // Threads 0 and 1: first halves before shutdown, second halves after.
    assert!(ok.load(Ordering::SeqCst) >= CALLS);
    assert!(refused.load(Ordering::SeqCst) >= CALLS);
    assert_eq!(ca.pending_calls(), 0);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    eprintln!(
        "stress: {} ok, {} refused in {:?}",
        ok.load(Ordering::SeqCst),
        refused.load(Ordering::SeqCst),
        start.elapsed()
    );
}
