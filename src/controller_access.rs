//! ControllerAccess: bidirectional RPC with the controller.
//!
//! The controller calls executor wrapper functions *by address*; the executor
//! calls the controller only through *tags* (addresses the controller
//! associated with handlers). A ControllerAccess may disconnect, or be
//! disconnected, before the Session ends.
//!
//! [`InProcessController`] is a ControllerAccess whose controller lives in
//! the same process (tests, benchmarks, hosts that JIT in-process).
//!
//! ```
//! use orc_rt::controller_access::InProcessController;
//! use orc_rt::session::Session;
//! use orc_rt::task_dispatcher::ThreadPoolTaskDispatcher;
//! use orc_rt::wrapper_function::sps_handler;
//! use orc_rt::{Error, ExecutorAddr};
//! use std::sync::Arc;
//!
//! let session = Session::new(Arc::new(ThreadPoolTaskDispatcher::new(2).unwrap()));
//! let tag = ExecutorAddr::new(0x10);
//!
//! // No controller yet: a call fails at once, with an out-of-band error.
//! let r = session.call_controller_sps_blocking::<_, u64>(tag, &(20u64,));
//! assert!(matches!(r, Err(Error::OutOfBand(m)) if m.contains("controller is detached")));
//!
//! // The controller associates a handler with the tag; the executor calls it
//! // by that tag.
//! let controller = InProcessController::new();
//! controller.add_handler(tag, sps_handler(|(x,): (u64,)| 2 * x + 2));
//! session.attach(controller.clone()).unwrap();
//! let r = session.call_controller_sps_blocking::<_, u64>(tag, &(20u64,));
//! assert_eq!(r.unwrap(), 42);
//!
//! // The controller may go away before the Session ends.
//! controller.close();
//! session.wait_for_detach();
//! let r = session.call_controller_sps_blocking::<_, u64>(tag, &(20u64,));
//! assert!(r.is_err());
//! session.shutdown_and_wait().unwrap();
//! ```

use std::sync::Weak;

use crate::session::Session;
use crate::ExecutorAddr;
use crate::{Result, WrapperFunctionBuffer};

use crate::wrapper_function::IncomingCall;

/// A tag identifying a handler in the controller.
pub type HandlerTag = ExecutorAddr;

/// Completion of a call to the controller: the result bytes, or an
/// out-of-band error buffer (e.g. "controller is detached").
pub type OnCallControllerCompleteFn = Box<dyn FnOnce(WrapperFunctionBuffer) + Send + 'static>;

/// Connection to a controller, attached to one Session.
///
/// The Session calls `connect` once when it is ready for incoming calls and
/// `disconnect` at most once. Whoever initiates disconnection, the
/// implementation calls [`Session::notify_disconnected`] exactly once, and
/// tolerates `disconnect` after or concurrently with a controller-initiated
/// disconnection.
pub trait ControllerAccess: Send + Sync {
    /// Starts serving the controller. Incoming calls are delivered with
    /// [`Session::handle_wrapper_call`]. Returns an error, and serves
    /// nothing, if this ControllerAccess cannot serve `session` (for
    /// example because it already serves another Session); the Session then
    /// stays unattached. If the connection fails after it was established,
    /// the implementation calls `notify_disconnected`.
    fn connect(&self, session: Weak<Session>) -> Result<()>;

    /// Requests disconnection; `notify_disconnected` follows (now or later).
    fn disconnect(&self);

    /// Calls the controller handler behind `tag`. `on_complete` gets the
    /// result, or an out-of-band error if the controller is or becomes
    /// unreachable; it is called exactly once and never blocks the caller
    /// of `call_controller` for the reply.
    fn call_controller(
        &self,
        tag: HandlerTag,
        args: WrapperFunctionBuffer,
        on_complete: OnCallControllerCompleteFn,
    );

    /// Sends the result of the controller's call `call_id`.
    fn send_wrapper_result(&self, call_id: u64, result: WrapperFunctionBuffer);
}

pub mod in_process;
pub use in_process::InProcessController;
