//! In-process call round trip and throughput through a Session.
//!
//! Run with `cargo bench --bench session_bench [-- <calls>]` (default 20000).
//! The controller is the in-process one; calls go controller → Session →
//! ThreadPoolTaskDispatcher → native wrapper function → return trampoline →
//! controller callback. Measured: blocking round trip (p50/p99), throughput
//! with at most 1, 16 and 256 calls in flight (on the native and LLVM 22
//! synchronous ABIs), and executor → controller calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use orc_rt::controller_access::InProcessController;
use orc_rt::session::Session;
use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
use orc_rt::wrapper_function::handler::{bytes_handler, reply_channel};
use orc_rt::wrapper_function::IncomingCall;
use orc_rt::{ExecutorAddr, WrapperFunctionBuffer};

#[path = "../tests/common/mod.rs"]
mod common;
use common::{echo_native, echo_sync};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

/// Runs `n` calls with at most `window` in flight; returns calls/s.
fn throughput(ca: &Arc<InProcessController>, target: IncomingCall, n: usize, window: usize) -> f64 {
    let state = Arc::new((Mutex::new(0usize), Condvar::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let payload = [7u8; 16];
    let t0 = Instant::now();
    for _ in 0..n {
        {
            let (m, cv) = &*state;
            let mut in_flight = m.lock().unwrap();
            while *in_flight >= window {
                in_flight = cv.wait(in_flight).unwrap();
            }
            *in_flight += 1;
        }
        let (state, done) = (state.clone(), done.clone());
        ca.call(
            target.clone(),
            WrapperFunctionBuffer::from_slice(&payload),
            move |r| {
                assert_eq!(r.len(), 16, "unexpected result {r:?}");
                done.fetch_add(1, Ordering::Relaxed);
                let (m, cv) = &*state;
                *m.lock().unwrap() -= 1;
                cv.notify_one();
            },
        );
    }
    let (m, cv) = &*state;
    let mut in_flight = m.lock().unwrap();
    while *in_flight > 0 {
        in_flight = cv.wait(in_flight).unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), n);
    n as f64 / t0.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let workers = std::thread::available_parallelism().map_or(1, |x| x.get());
    let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(workers).unwrap()));
    let ca = InProcessController::new();
    ca.add_handler(ExecutorAddr(1), bytes_handler(|b| Ok(b.to_vec())));
    s.attach(ca.clone()).unwrap();
    println!("session_bench: {n} calls, thread pool of {workers} workers, 16-byte payloads");

    // Warm up.
    throughput(&ca, IncomingCall::Native(echo_native), n / 10 + 1, 16);

    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = ca.call_blocking(
            IncomingCall::Native(echo_native),
            WrapperFunctionBuffer::from_slice(&[1u8; 16]),
        );
        lat.push(t.elapsed());
        assert_eq!(r.len(), 16);
    }
    lat.sort();
    println!(
        "round trip (controller -> executor, native ABI, blocking): p50 {:.2} us, p99 {:.2} us",
        percentile(&lat, 0.5).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6
    );

    for (name, target) in [
        ("native", IncomingCall::Native(echo_native)),
        ("sync  ", IncomingCall::Sync(echo_sync)),
    ] {
        for window in [1, 16, 256] {
            let rate = throughput(&ca, target.clone(), n, window);
            println!(
                "throughput ({name} ABI, {window:>3} in flight): {:>10.0} calls/s",
                rate
            );
        }
    }

    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let (cb, pending) = reply_channel();
        s.call_controller(
            ExecutorAddr(1),
            WrapperFunctionBuffer::from_slice(&[2u8; 16]),
            cb,
        );
        let r = pending.wait();
        lat.push(t.elapsed());
        assert_eq!(r.len(), 16);
    }
    lat.sort();
    println!(
        "round trip (executor -> controller handler, inline): p50 {:.2} us, p99 {:.2} us",
        percentile(&lat, 0.5).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6
    );

    let t = Instant::now();
    s.shutdown(None);
    s.wait_for_shutdown();
    println!("shutdown: {:.2} ms", t.elapsed().as_secs_f64() * 1e3);
}
