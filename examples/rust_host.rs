//! A Rust host of orc-rt, written against the safe API only (no `unsafe`).
//!
//! ```text
//! cargo run --example rust_host                  # in-process demo
//! cargo run --example rust_host -- filedescs=I,O # serve an LLVM 22 controller
//! cargo run --example rust_host -- listen=127.0.0.1:20000
//! ```
//!
//! Without arguments it creates a Session, adds Services (its own and a
//! notification service), registers wrapper functions as closures (raw
//! bytes, SPS-typed, and one that replies later from another thread),
//! calls them through the in-process controller, synchronously and
//! asynchronously, calls back into the controller through a tag, and shuts
//! down, printing what happens. With a transport spec it is an executor:
//! `llvm-jitlink-22 -oop-executor=target/debug/examples/rust_host prog.o`
//! runs `prog.o` in this process.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use orc_rt::controller_access::InProcessController;
use orc_rt::notification::NotificationService;
use orc_rt::service::{OnCompleteFn, Service};
use orc_rt::session::Session;
use orc_rt::simple_remote_epc::{self, Endpoint};
use orc_rt::sps::deserialize_all;
use orc_rt::task_dispatcher::{GrowingThreadPoolTaskDispatcher, ThreadPoolTaskDispatcher};
use orc_rt::wrapper_function::serialize_to_buffer;
use orc_rt::wrapper_function::{
    bytes_handler, sps_async_handler, sps_handler, IncomingCall, SpsResponder, TypedCall,
};
use orc_rt::{Error, ExecutorAddr, WrapperFunctionBuffer};

/// A Service of our own: counts the calls it served and says goodbye.
struct CallCounter {
    calls: AtomicUsize,
}

impl Service for CallCounter {
    fn on_detach(&self, on_complete: OnCompleteFn, shutdown_requested: bool) {
        println!("service: controller detached (shutdown requested: {shutdown_requested})");
        on_complete(Ok(()));
    }

    fn on_shutdown(&self, on_complete: OnCompleteFn) {
        let n = self.calls.load(Ordering::SeqCst);
        println!("service: shutting down after {n} counted calls");
        on_complete(Ok(()));
    }
}

fn in_process_demo() -> Result<(), Error> {
    let session = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(2)?));

    // Services: notified on detach and shutdown, newest first.
    let counter = Arc::new(CallCounter {
        calls: AtomicUsize::new(0),
    });
    session.add_service(counter.clone())?;
    let notes = NotificationService::new();
    session.add_service(notes.clone())?;
    notes.add_on_detach(|sr| println!("notification: detached (shutdown requested: {sr})"));
    notes.add_on_shutdown(|| println!("notification: shutting down"));

    // The controller, in this process, with one handler the executor side
    // can call through its tag.
    let controller = InProcessController::new();
    let greet_tag = ExecutorAddr(0x6772);
    controller.add_handler(
        greet_tag,
        sps_handler(|(name,): (String,)| format!("hello, {name}")),
    );
    session.attach(controller.clone())?;

    // Wrapper functions as closures.
    let c = counter.clone();
    let reverse = IncomingCall::handler(bytes_handler(move |bytes| {
        c.calls.fetch_add(1, Ordering::SeqCst);
        Ok(bytes.iter().rev().copied().collect())
    }));
    // SPS-typed: a TypedCall binds the signature, so a call with other
    // argument types does not compile.
    let add = TypedCall::handler(|(a, b): (u32, u32)| u64::from(a) + u64::from(b));
    let slow_square = IncomingCall::handler(sps_async_handler(
        |(x,): (u64,), reply: SpsResponder<u64>| {
            // Reply later, from another thread.
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                reply.respond(&(x * x));
            });
        },
    ));
    let weak = Arc::downgrade(&session);
    let greeter = TypedCall::handler(move |(name,): (String,)| -> String {
        // Executor code calling back into the controller through a tag.
        match weak.upgrade() {
            Some(s) => s
                .call_controller_sps_blocking::<_, String>(greet_tag, &(name,))
                .unwrap_or_else(|e| format!("controller call failed: {e}")),
            None => "session gone".to_string(),
        }
    });

    // Synchronous calls through the controller.
    let r = controller.call_blocking(reverse, WrapperFunctionBuffer::from_slice(b"stressed"));
    println!(
        "reverse(\"stressed\") = {:?}",
        String::from_utf8_lossy(r.as_slice().unwrap_or_default())
    );
    let sum = controller.call_typed_blocking(&add, &(40, 2))?;
    println!("add(40, 2) = {sum}");
    let text = controller.call_typed_blocking(&greeter, &("orc-rt".to_string(),))?;
    println!("greeter(\"orc-rt\") = {text:?}");

    // Asynchronous calls: many in flight, results as they come.
    let (tx, rx) = mpsc::channel();
    for x in 1..=4u64 {
        let tx = tx.clone();
        controller.call(slow_square.clone(), serialize_to_buffer(&(x,)), move |r| {
            let v = r
                .into_result()
                .and_then(|b| Ok(deserialize_all::<u64>(b.as_slice().unwrap_or_default())?));
            let _ = tx.send((x, v));
        });
    }
    drop(tx);
    let mut squares: Vec<(u64, u64)> = rx.iter().map(|(x, v)| (x, v.unwrap_or(0))).collect();
    squares.sort();
    println!("slow_square, asynchronously: {squares:?}");

    // Detach, then shut down: the Services hear about both.
    session.detach(None);
    session.wait_for_detach();
    let r = controller.call_blocking(
        IncomingCall::handler(bytes_handler(|b| Ok(b.to_vec()))),
        WrapperFunctionBuffer::from_slice(b"late"),
    );
    println!(
        "a call after detach: {}",
        r.out_of_band_error_message()
            .map(|m| m.to_string_lossy().into_owned())
            .unwrap_or_else(|| "(a value?!)".into())
    );
    session.shutdown_and_wait()?;
    println!("shut down: {}", session.is_shut_down());
    Ok(())
}

/// Serves an LLVM 22 controller (llvm-jitlink, clang-repl) on `spec`.
fn executor(spec: &str) -> Result<bool, Error> {
    let endpoint = Endpoint::parse(spec).map_err(|e| Error::msg(e.to_string()))?;
    let transport = endpoint
        .open_with(|addr| eprintln!("rust_host: listening on {addr}"))
        .map_err(|e| Error::msg(e.to_string()))?;
    let session = Session::new(Arc::new(GrowingThreadPoolTaskDispatcher::new()));
    session.set_error_reporter(Box::new(|e| eprintln!("rust_host: {e}")));
    let connection = simple_remote_epc::serve(&session, transport)?;
    session.wait_for_detach();
    session.shutdown_and_wait()?;
    Ok(connection.disconnect_error().is_none())
}

fn main() {
    let spec = std::env::args().nth(1);
    let ok = match spec {
        None => in_process_demo().map(|()| true),
        Some(spec) => executor(&spec),
    };
    match ok {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("rust_host: {e}");
            std::process::exit(1);
        }
    }
}
