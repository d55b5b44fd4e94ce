//! An in-process "controller": a [`ControllerAccess`] whose other end lives
//! in the same process.
//!
//! It plays both roles of a controller: it registers handlers for tags
//! (Rust closures, or C functions through the C API) that the executor side
//! reaches with [`Session::call_controller`], and it calls executor wrapper
//! functions by address, concurrently from any number of threads, getting
//! each result through a callback or by blocking. Every call gets exactly one
//! result: the wrapper function's, or an out-of-band error if the Session
//! is detached or shut down.
//!
//! ```
//! use orc_rt::controller_access::InProcessController;
//! use orc_rt::wrapper_function::IncomingCall;
//! use orc_rt::session::Session;
//! use orc_rt::sps::deserialize_all;
//! use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
//! use orc_rt::wrapper_function::{serialize_to_buffer, sps_handler};
//! use std::sync::{mpsc, Arc};
//!
//! let session = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(2).unwrap()));
//! let controller = InProcessController::new();
//! session.attach(controller.clone()).unwrap();
//! assert!(controller.is_connected());
//!
//! // An executor function (here a Rust closure), called and waited for.
//! let greet = IncomingCall::handler(sps_handler(|(name,): (String,)| format!("hello, {name}")));
//! let r = controller.call_blocking(greet.clone(), serialize_to_buffer(&("orc",)));
//! assert_eq!(
//!     deserialize_all::<String>(r.as_slice().unwrap()).unwrap(),
//!     "hello, orc"
//! );
//!
//! // Or called from several threads at once, each result to its callback.
//! let (tx, rx) = mpsc::channel();
//! std::thread::scope(|s| {
//!     for name in ["a", "b", "c"] {
//!         let (c, f, tx) = (&controller, greet.clone(), tx.clone());
//!         s.spawn(move || {
//!             c.call(f, serialize_to_buffer(&(name,)), move |r| {
//!                 tx.send(r).unwrap()
//!             })
//!         });
//!     }
//! });
//! drop(tx);
//! let mut got: Vec<String> = rx
//!     .iter()
//!     .map(|r| deserialize_all(r.as_slice().unwrap()).unwrap())
//!     .collect();
//! got.sort();
//! assert_eq!(got, ["hello, a", "hello, b", "hello, c"]);
//!
//! // Once the Session is shut down, a call still gets exactly one result: an
//! // error.
//! session.shutdown_and_wait().unwrap();
//! let r = controller.call_blocking(greet, serialize_to_buffer(&("late",)));
//! assert!(r.is_out_of_band_error());
//! assert_eq!(controller.pending_calls(), 0);
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use super::{ControllerAccess, HandlerTag, IncomingCall, OnCallControllerCompleteFn};
use crate::session::Session;
use crate::sps::{SpsDeserialize, SpsSerialize};
use crate::sync::{lock, read, write};
use crate::wrapper_function::handler::{reply_channel, BytesHandler, Responder};
use crate::wrapper_function::{decode_sps_result, serialize_to_buffer, TypedCall};
use crate::WrapperFunctionBuffer;

enum Link {
    /// Not connected yet.
    Idle,
    /// Connected to a Session.
    Connected(Weak<Session>),
    /// Disconnected (permanently).
    Closed,
}

/// A controller in the same process (see the module docs).
pub struct InProcessController {
    link: Mutex<Link>,
    handlers: RwLock<HashMap<HandlerTag, BytesHandler>>,
    pending: Mutex<HashMap<u64, OnCallControllerCompleteFn>>,
    next_call_id: AtomicU64,
}

impl std::fmt::Debug for InProcessController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessController")
            .field("connected", &self.is_connected())
            .field("handlers", &read(&self.handlers).len())
            .field("pending_calls", &self.pending_calls())
            .finish()
    }
}

impl InProcessController {
    /// Creates a controller, not yet connected (attach it to a Session with
    /// [`Session::attach`]).
    pub fn new() -> Arc<Self> {
        Arc::new(InProcessController {
            link: Mutex::new(Link::Idle),
            handlers: RwLock::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            next_call_id: AtomicU64::new(0),
        })
    }

    /// Registers (or replaces) the handler for `tag`. The handler runs on
    /// the thread that called [`Session::call_controller`] and may reply
    /// later from any thread.
    pub fn add_handler(&self, tag: HandlerTag, handler: BytesHandler) {
        write(&self.handlers).insert(tag, handler);
    }

    fn session(&self) -> Option<Arc<Session>> {
        match &*lock(&self.link) {
            Link::Connected(w) => w.upgrade(),
            _ => None,
        }
    }

    /// True while connected to a Session.
    pub fn is_connected(&self) -> bool {
        matches!(*lock(&self.link), Link::Connected(_))
    }

    /// Number of executor calls still waiting for their result.
    pub fn pending_calls(&self) -> usize {
        lock(&self.pending).len()
    }

    /// Calls an executor wrapper function; `on_result` gets its result (or
    /// an out-of-band error) exactly once, on the thread that produces it.
    pub fn call(
        &self,
        target: IncomingCall,
        args: WrapperFunctionBuffer,
        on_result: impl FnOnce(WrapperFunctionBuffer) + Send + 'static,
    ) {
        let session = match &*lock(&self.link) {
            Link::Connected(w) => w.upgrade(),
            Link::Idle => {
                return on_result(WrapperFunctionBuffer::out_of_band_error(
                    "in-process controller: not connected to a session",
                ))
            }
            Link::Closed => None,
        };
        let Some(session) = session else {
            return on_result(WrapperFunctionBuffer::out_of_band_error(
                "in-process controller: the session is detached or shut down",
            ));
        };
        let id = self.next_call_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.pending).insert(id, Box::new(on_result));
        session.handle_wrapper_call(id, target, args);
    }

    /// Calls an executor wrapper function and blocks for its result.
    ///
    /// # Blocking
    ///
    /// Waits as long as the call takes, which is **forever** if the
    /// function never replies, or if this is called from one of the
    /// Session's own tasks while no other worker is free to run the call:
    /// a handler that calls `call_blocking` on a Session whose
    /// [`ThreadPoolTaskDispatcher`](crate::task_dispatcher::ThreadPoolTaskDispatcher)
    /// has one worker waits for the very worker it occupies. Use
    /// [`InProcessController::call_blocking_timeout`] to bound the wait, or
    /// a [`GrowingThreadPoolTaskDispatcher`](crate::task_dispatcher::GrowingThreadPoolTaskDispatcher)
    /// for calls that nest.
    pub fn call_blocking(
        &self,
        target: IncomingCall,
        args: WrapperFunctionBuffer,
    ) -> WrapperFunctionBuffer {
        let (cb, pending) = reply_channel();
        self.call(target, args, cb);
        pending.wait()
    }

    /// Calls `f` with `args`, typed by its signature (see [`TypedCall`]);
    /// `on_result` gets the decoded result, or the error (the call failed
    /// or was refused, or the result did not decode as `R`), exactly once.
    pub fn call_typed<A, R>(
        &self,
        f: &TypedCall<A, R>,
        args: &A,
        on_result: impl FnOnce(crate::Result<R>) + Send + 'static,
    ) where
        A: SpsSerialize,
        R: SpsDeserialize + 'static,
    {
        self.call(f.call().clone(), serialize_to_buffer(args), move |b| {
            on_result(decode_sps_result::<R>(b))
        })
    }

    /// Calls `f` with `args` and blocks for its decoded result (see
    /// [`TypedCall`]); blocks as [`InProcessController::call_blocking`]
    /// does.
    pub fn call_typed_blocking<A, R>(&self, f: &TypedCall<A, R>, args: &A) -> crate::Result<R>
    where
        A: SpsSerialize,
        R: SpsDeserialize + 'static,
    {
        decode_sps_result(self.call_blocking(f.call().clone(), serialize_to_buffer(args)))
    }

    /// Like [`InProcessController::call_blocking`], waiting at most
    /// `timeout`: returns [`Error::Timeout`](crate::Error::Timeout) if no
    /// result has arrived by then. The call itself is not cancelled: it
    /// stays pending (counted by [`InProcessController::pending_calls`])
    /// and may still run later; its result is then discarded.
    ///
    /// ```
    /// use orc_rt::controller_access::InProcessController;
    /// use orc_rt::wrapper_function::IncomingCall;
    /// use orc_rt::session::Session;
    /// use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
    /// use orc_rt::wrapper_function::{serialize_to_buffer, sps_handler};
    /// use orc_rt::Error;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
    /// let controller = InProcessController::new();
    /// s.attach(controller.clone()).unwrap();
    /// let double = IncomingCall::handler(sps_handler(|(x,): (u32,)| 2 * x));
    /// let r = controller
    ///     .call_blocking_timeout(double, serialize_to_buffer(&(21u32,)), Duration::from_secs(30))
    ///     .unwrap();
    /// assert_eq!(r.as_slice().unwrap(), 42u32.to_le_bytes());
    /// # s.shutdown_and_wait().unwrap();
    /// ```
    pub fn call_blocking_timeout(
        &self,
        target: IncomingCall,
        args: WrapperFunctionBuffer,
        timeout: std::time::Duration,
    ) -> crate::Result<WrapperFunctionBuffer> {
        let (cb, pending) = reply_channel();
        self.call(target, args, cb);
        pending.wait_timeout(timeout).ok_or_else(|| {
            crate::Error::Timeout(format!(
                "in-process controller: no result within {timeout:?} (the call may be \
                 waiting for a worker thread that the caller itself occupies); it stays \
                 pending and its result will be discarded"
            ))
        })
    }

    /// Disconnects as if the controller went away (same as
    /// [`ControllerAccess::disconnect`]); idempotent.
    pub fn close(&self) {
        self.disconnect()
    }
}

impl ControllerAccess for InProcessController {
    fn connect(&self, session: Weak<Session>) -> crate::Result<()> {
        let mut l = lock(&self.link);
        match *l {
            Link::Idle => {
                *l = Link::Connected(session);
                Ok(())
            }
            // One controller serves one Session: the second attach fails
            // and leaves that Session unattached (it may attach another).
            Link::Connected(_) => Err(crate::Error::msg(
                "attach: this in-process controller is already attached to another Session",
            )),
            Link::Closed => Err(crate::Error::msg(
                "attach: this in-process controller has been closed",
            )),
        }
    }

    fn disconnect(&self) {
        let prev = std::mem::replace(&mut *lock(&self.link), Link::Closed);
        if let Link::Connected(w) = prev {
            if let Some(s) = w.upgrade() {
                s.notify_disconnected();
            }
        }
    }

    fn call_controller(
        &self,
        tag: HandlerTag,
        args: WrapperFunctionBuffer,
        on_complete: OnCallControllerCompleteFn,
    ) {
        if !self.is_connected() {
            return on_complete(WrapperFunctionBuffer::out_of_band_error(
                "controller is detached: in-process controller disconnected",
            ));
        }
        let h = read(&self.handlers).get(&tag).cloned();
        match h {
            Some(h) => h(
                args,
                Responder::named("controller handler call", on_complete),
            ),
            None => on_complete(WrapperFunctionBuffer::out_of_band_error(&format!(
                "in-process controller: no handler registered for tag {:#x}",
                tag.0
            ))),
        }
    }

    fn send_wrapper_result(&self, call_id: u64, result: WrapperFunctionBuffer) {
        let cb = lock(&self.pending).remove(&call_id);
        match cb {
            Some(cb) => cb(result),
            None => {
                let e = crate::Error::msg(format!(
                    "in-process controller: result for unknown call id {call_id}"
                ));
                match self.session() {
                    Some(s) => s.report_error(e),
                    None => crate::error::report_unowned(e),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task_dispatcher::ThreadPoolTaskDispatcher;
    use crate::wrapper_function::sps_handler;
    use std::time::Duration;

    #[test]
    fn typed_calls_check_the_signature_or_say_which_one_failed() {
        let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
        let ctl = InProcessController::new();
        s.attach(ctl.clone()).unwrap();
        let greet = TypedCall::handler(|(n,): (String,)| format!("hello, {n}"));
        let r = ctl.call_typed_blocking(&greet, &("orc".to_string(),));
        assert_eq!(r.unwrap(), "hello, orc");
        let (tx, rx) = std::sync::mpsc::channel();
        let half = TypedCall::async_handler(
            |(x,): (u32,), r: crate::wrapper_function::SpsResponder<u32>| r.respond(&(x / 2)),
        );
        ctl.call_typed(&half, &(84u32,), move |r| tx.send(r).unwrap());
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap(),
            42
        );
        // A signature claimed wrongly is caught when the bytes are decoded.
        let wrong: TypedCall<(u64,), u32> = TypedCall::assume(greet.into_call());
        let e = ctl.call_typed_blocking(&wrong, &(7u64,)).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("`(alloc::string::String,)`"), "{m}");
        assert!(m.contains("from the 8 bytes received"), "{m}");
        assert!(format!("{wrong:?}").contains("(u64,)"));
        s.shutdown_and_wait().unwrap();
    }

    #[test]
    fn a_handler_calling_back_on_a_one_worker_pool_times_out() {
        let s = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(1).unwrap()));
        let ctl = InProcessController::new();
        s.attach(ctl.clone()).unwrap();
        let inner = IncomingCall::handler(sps_handler(|(x,): (u32,)| x + 1));
        // Runs on the only worker and waits for `inner`, queued behind it.
        let c = Arc::downgrade(&ctl);
        let outer = IncomingCall::handler(crate::wrapper_function::bytes_handler(move |a| {
            let c = c.upgrade().unwrap();
            let r = c.call_blocking_timeout(
                inner.clone(),
                WrapperFunctionBuffer::from_slice(a),
                Duration::from_millis(100),
            );
            match r {
                Ok(_) => Ok(b"answered".to_vec()),
                Err(e) => Err(e),
            }
        }));
        let r = ctl
            .call_blocking_timeout(
                outer,
                serialize_to_buffer(&(1u32,)),
                Duration::from_secs(30),
            )
            .unwrap();
        let msg = r.out_of_band_error_message().unwrap().to_str().unwrap();
        assert!(
            msg.starts_with("timed out: in-process controller: no result within 100ms"),
            "{msg}"
        );
        // The inner call ran once the worker was free; nothing is left over.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while ctl.pending_calls() > 0 {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        }
        // And the wait is bounded even for a call that never replies.
        let (keep_tx, keep_rx) = std::sync::mpsc::channel::<Responder>();
        let keep_tx = Mutex::new(keep_tx);
        let silent: BytesHandler = Arc::new(move |_, r| lock(&keep_tx).send(r).unwrap());
        let e = ctl
            .call_blocking_timeout(
                IncomingCall::handler(silent),
                WrapperFunctionBuffer::from_slice(&[]),
                Duration::from_millis(20),
            )
            .unwrap_err();
        assert!(matches!(e, crate::Error::Timeout(_)), "{e}");
        drop(keep_rx);
        s.shutdown_and_wait().unwrap();
    }
}
