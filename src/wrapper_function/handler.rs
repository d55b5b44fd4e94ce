//! Handler-side helpers for wrapper functions: a [`Responder`] that replies
//! exactly once, and plain-bytes handler/caller adapters.
//!
//! A handler receives its argument bytes and a [`Responder`]. Replying
//! consumes the responder, so a second reply is impossible by construction;
//! dropping it without replying sends an out-of-band error
//! ("... dropped without a reply") so the caller never waits forever.
//!
//! SPS-typed forms ([`sps_handler`], [`sps_async_handler`], and
//! `Session::call_controller_sps`) take the Rust type as the SPS signature:
//! arguments are an SPS argument tuple such as `(ExecutorAddr, String)`.
//!
//! # Panics
//!
//! A handler that panics answers its call with an out-of-band error
//! carrying the panic message (`panic in SPS wrapper handler: <message>`);
//! so do tasks, callbacks and C entry points, whose panics go to the
//! error reporter. Such a caught panic is not printed to stderr by std's
//! panic hook as well (no message, no backtrace): the first boundary
//! reached installs a process-wide hook that stays silent for panics an
//! orc-rt boundary on the same thread is about to catch and hands every
//! other panic to the hook installed before it. Set
//! `ORC_RT_PRINT_CAUGHT_PANICS=1` to have caught panics printed too (with a
//! backtrace under `RUST_BACKTRACE=1`) while debugging a handler. A hook
//! the program installs later replaces orc-rt's and sees every panic.
//!
//! ```
//! use orc_rt::wrapper_function::{
//!     decode_sps_result, reply_channel, serialize_to_buffer, sps_async_handler, Responder,
//!     SpsResponder,
//! };
//! use orc_rt::WrapperFunctionBuffer;
//!
//! // A responder dropped unanswered still answers, with an error.
//! let (cb, pending) = reply_channel();
//! drop(Responder::named("forgetful handler", cb));
//! let reply = pending.wait();
//! let msg = reply.out_of_band_error_message().unwrap().to_str().unwrap();
//! assert!(msg.starts_with("forgetful handler dropped"), "{msg}");
//!
//! // `uint32_t (uint32_t, uint32_t)`, answered later from another thread.
//! let div = sps_async_handler(|(a, b): (u32, u32), r: SpsResponder<u32>| {
//!     std::thread::spawn(move || match a.checked_div(b) {
//!         Some(q) => r.respond(&q),
//!         None => r.fail(format!("{a} / 0")),
//!     });
//! });
//! let (cb, pending) = reply_channel();
//! div(serialize_to_buffer(&(84u32, 2u32)), Responder::new(cb));
//! assert_eq!(decode_sps_result::<u32>(pending.wait()).unwrap(), 42);
//!
//! let (cb, pending) = reply_channel();
//! div(
//!     serialize_to_buffer(&(1u32, 0u32)),
//!     Responder::named("divide", cb),
//! );
//! let e = decode_sps_result::<u32>(pending.wait()).unwrap_err();
//! assert_eq!(e.to_string(), "wrapper function failed: divide: 1 / 0");
//!
//! // Arguments that do not decode as the handler's type never reach it.
//! let (cb, pending) = reply_channel();
//! div(
//!     WrapperFunctionBuffer::from_slice(&[1, 2, 3]),
//!     Responder::new(cb),
//! );
//! assert!(pending.wait().is_out_of_band_error());
//! ```

use std::fmt::Display;
use std::marker::PhantomData;
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};

use crate::sps::{deserialize_all, SpsDeserialize, SpsSerialize};
use crate::wrapper_function::serialize_to_buffer;

use crate::WrapperFunctionBuffer;

/// The function a [`Responder`] delivers its single result to.
pub type ReplyFn = Box<dyn FnOnce(WrapperFunctionBuffer) + Send + 'static>;

/// Sends the result of one wrapper-function call, exactly once.
///
/// `respond*` consumes the responder. If it is dropped unanswered (a handler
/// forgot, panicked, or its task was dropped at shutdown), the caller
/// receives an out-of-band error naming `what`.
pub struct Responder {
    reply: Option<ReplyTo>,
    what: &'static str,
}

/// Where a [`Responder`]'s result goes.
enum ReplyTo {
    /// A completion function.
    Fn(ReplyFn),
    /// A [`ReplySlot`] a synchronous caller is waiting on (no allocation
    /// per call: the slot is reused).
    Slot(Arc<ReplySlot>),
}

impl ReplyTo {
    fn deliver(self, result: WrapperFunctionBuffer) {
        match self {
            ReplyTo::Fn(f) => f(result),
            ReplyTo::Slot(slot) => slot.fill(result),
        }
    }
}

/// A one-result mailbox that a thread blocks on while a [`Responder`] made
/// by [`Responder::to_slot`] fills it, from the same thread before the
/// wait (the common case: no blocking at all) or from another thread later.
/// Reusable: [`ReplySlot::wait_take`] empties it again.
#[derive(Default)]
pub struct ReplySlot {
    state: Mutex<SlotState>,
    filled: Condvar,
}

#[derive(Default)]
struct SlotState {
    result: Option<WrapperFunctionBuffer>,
    /// A thread is blocked in `wait_take` (only then is a wake-up, which
    /// costs a system call, needed).
    waiting: bool,
}

impl std::fmt::Debug for ReplySlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("ReplySlot")
            .field("filled", &st.result.is_some())
            .field("waiting", &st.waiting)
            .finish()
    }
}

impl ReplySlot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        crate::sync::lock(&self.state)
    }

    fn fill(&self, result: WrapperFunctionBuffer) {
        let mut st = self.lock();
        st.result = Some(result);
        let wake = st.waiting;
        drop(st);
        if wake {
            self.filled.notify_one();
        }
    }

    /// Returns the result, blocking until it has been delivered.
    pub fn wait_take(&self) -> WrapperFunctionBuffer {
        let mut st = self.lock();
        loop {
            if let Some(b) = st.result.take() {
                st.waiting = false;
                return b;
            }
            st.waiting = true;
            st = crate::sync::wait(&self.filled, st);
        }
    }
}

impl Responder {
    /// A responder that hands the result to `reply`.
    pub fn new(reply: impl FnOnce(WrapperFunctionBuffer) + Send + 'static) -> Self {
        Self::named("wrapper function call", reply)
    }

    /// Like [`Responder::new`], naming the call in the automatic
    /// dropped-without-reply error and in [`SpsResponder::fail`] errors.
    pub fn named(
        what: &'static str,
        reply: impl FnOnce(WrapperFunctionBuffer) + Send + 'static,
    ) -> Self {
        Responder {
            reply: Some(ReplyTo::Fn(Box::new(reply))),
            what,
        }
    }

    /// A responder (named as in [`Responder::named`]) that puts the result
    /// in `slot`, for a caller blocked in [`ReplySlot::wait_take`].
    /// Allocates nothing.
    pub fn to_slot(what: &'static str, slot: Arc<ReplySlot>) -> Self {
        Responder {
            reply: Some(ReplyTo::Slot(slot)),
            what,
        }
    }

    /// Sends `result` (bytes or out-of-band error).
    pub fn respond(mut self, result: WrapperFunctionBuffer) {
        if let Some(to) = self.reply.take() {
            to.deliver(result);
        }
    }

    /// Sends a copy of `bytes`.
    pub fn respond_bytes(self, bytes: &[u8]) {
        self.respond(WrapperFunctionBuffer::from_slice(bytes))
    }

    /// Sends an out-of-band error carrying `msg`.
    pub fn respond_error(self, msg: &str) {
        self.respond(WrapperFunctionBuffer::out_of_band_error(msg))
    }

    /// Sends `Ok` bytes or `Err` as an out-of-band error.
    pub fn respond_result(self, r: Result<Vec<u8>, crate::Error>) {
        match r {
            Ok(v) => self.respond_bytes(&v),
            Err(e) => self.respond_error(&e.to_string()),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(to) = self.reply.take() {
            to.deliver(WrapperFunctionBuffer::out_of_band_error(&format!(
                "{} dropped without a reply (handler did not respond, or the session shut down)",
                self.what
            )));
        }
    }
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("answered", &self.reply.is_none())
            .finish()
    }
}

/// An asynchronous plain-bytes handler: argument bytes in, reply through the
/// [`Responder`] now or later, from any thread.
pub type BytesHandler =
    std::sync::Arc<dyn Fn(WrapperFunctionBuffer, Responder) + Send + Sync + 'static>;

/// Wraps a synchronous function of the argument bytes into a
/// [`BytesHandler`]: `Ok(bytes)` is the reply, `Err` becomes an out-of-band
/// error, an out-of-band argument buffer is forwarded as an error, and a
/// panic in `f` becomes an out-of-band error.
pub fn bytes_handler<F>(f: F) -> BytesHandler
where
    F: Fn(&[u8]) -> Result<Vec<u8>, crate::Error> + Send + Sync + 'static,
{
    std::sync::Arc::new(move |args: WrapperFunctionBuffer, r: Responder| {
        let Some(bytes) = args.as_slice() else {
            let msg = args
                .out_of_band_error_message()
                .map(|m| m.to_string_lossy().into_owned())
                .unwrap_or_default();
            r.respond_error(&format!("argument buffer is an out-of-band error: {msg}"));
            return;
        };
        match crate::error::catch_panic(|| f(bytes)) {
            Ok(res) => r.respond_result(res),
            Err(p) => r.respond_error(&crate::Error::from_panic("wrapper handler", p).to_string()),
        }
    })
}

/// A pending result that can be waited for: the blocking counterpart of a
/// completion callback. Create with [`reply_channel`].
pub struct PendingReply {
    rx: mpsc::Receiver<WrapperFunctionBuffer>,
}

impl std::fmt::Debug for PendingReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingReply").finish_non_exhaustive()
    }
}

impl PendingReply {
    /// Blocks until the reply arrives. If the sender vanished without
    /// replying, returns an out-of-band error.
    pub fn wait(self) -> WrapperFunctionBuffer {
        self.rx.recv().unwrap_or_else(|_| {
            WrapperFunctionBuffer::out_of_band_error("reply channel closed without a result")
        })
    }

    /// Waits at most `timeout`; `None` on timeout.
    pub fn wait_timeout(&self, timeout: std::time::Duration) -> Option<WrapperFunctionBuffer> {
        match self.rx.recv_timeout(timeout) {
            Ok(b) => Some(b),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => Some(
                WrapperFunctionBuffer::out_of_band_error("reply channel closed without a result"),
            ),
        }
    }
}

/// A completion callback and the [`PendingReply`] that receives what it is
/// given: pass the callback to an asynchronous call, then `wait`.
pub fn reply_channel() -> (
    Box<dyn FnOnce(WrapperFunctionBuffer) + Send + 'static>,
    PendingReply,
) {
    let (tx, rx) = mpsc::sync_channel(1);
    (
        Box::new(move |b| {
            let _ = tx.send(b);
        }),
        PendingReply { rx },
    )
}

/// Decodes a result buffer as SPS `R`: an out-of-band error becomes
/// [`crate::Error::OutOfBand`], bad bytes a [`ResultDecodeError`] (of
/// [`ErrorKind::Sps`](crate::error::ErrorKind::Sps)) naming `R` and the
/// size received.
pub fn decode_sps_result<R: SpsDeserialize>(
    result: WrapperFunctionBuffer,
) -> Result<R, crate::Error> {
    let result = result.into_result()?;
    let bytes = result.as_slice().unwrap_or(&[]);
    deserialize_all::<R>(bytes).map_err(|source| {
        ResultDecodeError {
            expected: std::any::type_name::<R>(),
            size: bytes.len(),
            source,
        }
        .into()
    })
}

/// A call's result bytes did not decode as the caller's result type: the
/// function answered with a result of another signature (SPS bytes carry
/// no type, so only their decoding can tell).
#[derive(Debug, thiserror::Error)]
#[error(
    "could not deserialize the wrapper function result as `{expected}` from the {size} bytes \
     received (a result of another type?): {source}"
)]
pub struct ResultDecodeError {
    /// The caller's result type (its Rust name).
    pub expected: &'static str,
    /// How many result bytes were received.
    pub size: usize,
    /// What decoding found.
    #[source]
    pub source: crate::sps::SpsError,
}

crate::module_error!(ResultDecodeError, Sps);

/// A [`Responder`] for SPS-typed results: `respond` serializes `R`.
pub struct SpsResponder<R> {
    inner: Responder,
    _r: PhantomData<fn(R)>,
}

impl<R> std::fmt::Debug for SpsResponder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpsResponder")
            .field("result", &std::any::type_name::<R>())
            .field("inner", &self.inner)
            .finish()
    }
}

impl<R: SpsSerialize> SpsResponder<R> {
    /// Wraps a plain responder.
    pub fn new(inner: Responder) -> Self {
        SpsResponder {
            inner,
            _r: PhantomData,
        }
    }

    /// Sends `value`, SPS-serialized.
    pub fn respond(self, value: &R) {
        self.inner.respond(serialize_to_buffer(value))
    }

    /// Sends an out-of-band error instead of a value.
    pub fn respond_error(self, msg: &str) {
        self.inner.respond_error(msg)
    }

    /// Sends an out-of-band error `<call name>: <e>` (the name given to
    /// [`Responder::named`] or [`Responder::to_slot`]), for results whose
    /// SPS type has no error case.
    pub fn fail(self, e: impl Display) {
        let msg = format!("{}: {e}", self.inner.what);
        self.inner.respond_error(&msg)
    }

    /// Sends `Ok` serialized, or `Err` as [`SpsResponder::fail`] does.
    pub fn respond_or_fail<E: Display>(self, r: Result<R, E>) {
        match r {
            Ok(v) => self.respond(&v),
            Err(e) => self.fail(e),
        }
    }
}

/// Why a handler's argument buffer could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    /// The caller sent an out-of-band error instead of arguments.
    #[error("argument buffer is an out-of-band error: {0}")]
    OutOfBand(String),
    /// The bytes are not the handler's SPS argument type: the caller sent
    /// arguments of another signature (SPS bytes carry no type, so only
    /// their decoding can tell).
    #[error(
        "could not deserialize wrapper function arguments as the handler's signature \
         `{expected}` from the {size} bytes received (arguments of another type?): {source}"
    )]
    Sps {
        /// The handler's argument type (its Rust name).
        expected: &'static str,
        /// How many argument bytes were received.
        size: usize,
        /// What decoding found.
        #[source]
        source: crate::sps::SpsError,
    },
}

fn decode_args<A: SpsDeserialize>(args: &WrapperFunctionBuffer) -> Result<A, ArgsError> {
    match args.as_slice() {
        Some(b) => deserialize_all::<A>(b).map_err(|source| ArgsError::Sps {
            expected: std::any::type_name::<A>(),
            size: b.len(),
            source,
        }),
        None => Err(ArgsError::OutOfBand(
            args.out_of_band_error_message()
                .map(|m| m.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )),
    }
}

/// An SPS-typed synchronous handler: decodes the arguments as `A` (an
/// argument tuple such as `(u64, String)`), calls `f`, and replies with the
/// SPS encoding of its `R`. Undecodable arguments and panics become
/// out-of-band errors.
pub fn sps_handler<A, R, F>(f: F) -> BytesHandler
where
    A: SpsDeserialize + 'static,
    R: SpsSerialize + 'static,
    F: Fn(A) -> R + Send + Sync + 'static,
{
    std::sync::Arc::new(move |args: WrapperFunctionBuffer, r: Responder| {
        let a = match decode_args::<A>(&args) {
            Ok(a) => a,
            Err(e) => return r.respond_error(&e.to_string()),
        };
        drop(args);
        match crate::error::catch_panic(|| f(a)) {
            Ok(v) => r.respond(serialize_to_buffer(&v)),
            Err(p) => {
                r.respond_error(&crate::Error::from_panic("SPS wrapper handler", p).to_string())
            }
        }
    })
}

/// An SPS-typed asynchronous handler: `f` gets the decoded arguments and an
/// [`SpsResponder`] to reply with, now or later, from any thread.
pub fn sps_async_handler<A, R, F>(f: F) -> BytesHandler
where
    A: SpsDeserialize + 'static,
    R: SpsSerialize + 'static,
    F: Fn(A, SpsResponder<R>) + Send + Sync + 'static,
{
    std::sync::Arc::new(move |args: WrapperFunctionBuffer, r: Responder| {
        match decode_args::<A>(&args) {
            Ok(a) => f(a, SpsResponder::new(r)),
            Err(e) => r.respond_error(&e.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn capture() -> (Arc<Mutex<Vec<WrapperFunctionBuffer>>>, Responder) {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        (got, Responder::new(move |b| g.lock().unwrap().push(b)))
    }

    #[test]
    fn responds_once() {
        let (got, r) = capture();
        r.respond_bytes(b"hello");
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_slice().unwrap(), b"hello");
    }

    #[test]
    fn dropping_unanswered_sends_an_error() {
        let (got, r) = capture();
        drop(r);
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1);
        let m = got[0]
            .out_of_band_error_message()
            .unwrap()
            .to_str()
            .unwrap();
        assert!(m.contains("dropped without a reply"), "{m}");
    }

    #[test]
    fn bytes_handler_maps_ok_err_and_panic() {
        let h = bytes_handler(|a| match a {
            b"ok" => Ok(b"fine".to_vec()),
            b"panic" => panic!("handler panic (expected in this test)"),
            _ => Err(crate::Error::msg(format!("bad input {a:?}"))),
        });
        for (arg, want) in [
            (&b"ok"[..], Ok(&b"fine"[..])),
            (b"zz", Err("bad input [122, 122]")),
            (b"panic", Err("panic in wrapper handler")),
        ] {
            let (got, r) = capture();
            h(WrapperFunctionBuffer::from_slice(arg), r);
            let got = got.lock().unwrap();
            match want {
                Ok(b) => assert_eq!(got[0].as_slice().unwrap(), b),
                Err(m) => {
                    let e = got[0]
                        .out_of_band_error_message()
                        .unwrap()
                        .to_str()
                        .unwrap();
                    assert!(e.contains(m), "{e}");
                }
            }
        }
        let (got, r) = capture();
        h(WrapperFunctionBuffer::out_of_band_error("upstream"), r);
        let e = got.lock().unwrap()[0]
            .out_of_band_error_message()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(e.contains("upstream"));
    }

    #[test]
    fn undecodable_arguments_name_the_expected_type_and_size() {
        let add = sps_handler(|(a, b): (i32, i32)| a + b);
        let (got, r) = capture();
        add(serialize_to_buffer(&("x".to_string(),)), r);
        let got = got.lock().unwrap();
        let m = got[0]
            .out_of_band_error_message()
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(
            m,
            "could not deserialize wrapper function arguments as the handler's signature \
             `(i32, i32)` from the 9 bytes received (arguments of another type?): 1 trailing \
             bytes after the value"
        );
    }

    #[test]
    fn undecodable_results_name_the_expected_type_and_size() {
        let e = decode_sps_result::<u32>(serialize_to_buffer(&7u64)).unwrap_err();
        assert_eq!(e.kind(), Some(crate::error::ErrorKind::Sps));
        let d = e.downcast_ref::<ResultDecodeError>().unwrap();
        assert_eq!((d.expected, d.size), ("u32", 8));
        assert_eq!(
            e.to_string(),
            "could not deserialize the wrapper function result as `u32` from the 8 bytes \
             received (a result of another type?): 4 trailing bytes after the value"
        );
    }

    #[test]
    fn reply_channel_waits() {
        let (cb, pending) = reply_channel();
        std::thread::spawn(move || cb(WrapperFunctionBuffer::from_slice(b"x")));
        assert_eq!(pending.wait().as_slice().unwrap(), b"x");
        let (cb, pending) = reply_channel();
        drop(cb);
        assert!(pending.wait().is_out_of_band_error());
    }
}
