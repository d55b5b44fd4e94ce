//! SPS-typed handlers and controller calls through a Session and the
//! in-process controller.

use std::sync::Arc;

use orc_rt::controller_access::InProcessController;
use orc_rt::session::Session;
use orc_rt::sps::SpsExpected;
use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
use orc_rt::wrapper_function::handler::{bytes_handler, sps_async_handler, sps_handler};
use orc_rt::{Error, ExecutorAddr};

fn attached() -> (Arc<Session>, Arc<InProcessController>) {
    let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(2).unwrap()));
    let ca = InProcessController::new();
    s.attach(ca.clone()).unwrap();
    (s, ca)
}

#[test]
fn typed_calls_round_trip_with_llvm_byte_layout() {
    let (s, ca) = attached();
    // The controller side checks the exact SPS bytes of (u64, String).
    ca.add_handler(
        ExecutorAddr(1),
        bytes_handler(|b| {
            let mut want = 5u64.to_le_bytes().to_vec();
            want.extend(2u64.to_le_bytes());
            want.extend(b"ab");
            assert_eq!(b, &want[..]);
            Ok(vec![1]) // SPS bool true
        }),
    );
    let r: bool = s
        .call_controller_sps_blocking(ExecutorAddr(1), &(5u64, "ab"))
        .unwrap();
    assert!(r);

    ca.add_handler(
        ExecutorAddr(2),
        sps_handler(|(a, b): (u32, u32)| -> SpsExpected<u64> {
            SpsExpected(
                a.checked_div(b)
                    .map(u64::from)
                    .ok_or_else(|| format!("{a} / 0")),
            )
        }),
    );
    let r: SpsExpected<u64> = s
        .call_controller_sps_blocking(ExecutorAddr(2), &(7u32, 2u32))
        .unwrap();
    assert_eq!(r.0, Ok(3));
    let r: SpsExpected<u64> = s
        .call_controller_sps_blocking(ExecutorAddr(2), &(7u32, 0u32))
        .unwrap();
    assert_eq!(r.0, Err("7 / 0".to_string()));
    // Wrong argument signature: a clear out-of-band error, not a panic.
    let r: Result<SpsExpected<u64>, Error> =
        s.call_controller_sps_blocking(ExecutorAddr(2), &(7u8,));
    let m = r.unwrap_err().to_string();
    assert!(
        m.contains("could not deserialize wrapper function arguments"),
        "{m}"
    );

    // Asynchronous handler replying from another thread.
    ca.add_handler(
        ExecutorAddr(3),
        sps_async_handler(|(name,): (String,), r| {
            std::thread::spawn(move || r.respond(&format!("hello, {name}")));
        }),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    s.call_controller_sps::<_, String>(ExecutorAddr(3), &("orc",), move |r| tx.send(r).unwrap());
    assert_eq!(rx.recv().unwrap().unwrap(), "hello, orc");

    // Undecodable result on the caller's side.
    let r: Result<String, Error> = s.call_controller_sps_blocking(ExecutorAddr(1), &(5u64, "ab"));
    assert_eq!(
        r.as_ref().err().and_then(Error::kind),
        Some(orc_rt::error::ErrorKind::Sps),
        "{r:?}"
    );

    s.shutdown(None);
    s.wait_for_shutdown();
    let r: Result<bool, Error> = s.call_controller_sps_blocking(ExecutorAddr(1), &(5u64, "ab"));
    assert_eq!(
        r.unwrap_err().to_string(),
        "wrapper function failed: session is shut down"
    );
}
