//! SimpleRemoteEPC: LLVM 22's executor wire protocol, as a
//! [`ControllerAccess`](crate::controller_access::ControllerAccess).
//!
//! The executor sends a Setup frame (triple, page size, bootstrap symbols),
//! then serves the controller's CallWrapper frames by address and answers
//! with Result frames; JIT'd code reaches the controller through the
//! `__llvm_orc_SimpleRemoteEPC_dispatch_fn` bootstrap symbol. Transports are
//! an inherited fd pair or one TCP connection ([`transport`]).

use std::sync::Arc;

use crate::session::Session;
use crate::sps_ci::bootstrap::add_bootstrap_services;

mod controller_access;
pub mod endpoint;
pub mod frame;
pub mod transport;

pub use controller_access::{
    dispatch_fn_address, jit_dispatch, SimpleRemoteEpcControllerAccess, SimpleRemoteEpcError,
    DISPATCH_CTX_SYMBOL, DISPATCH_FN_SYMBOL, PROCESS_TRIPLE,
};
pub use endpoint::{Endpoint, EndpointError};
pub use frame::{BufferFrame, FrameError, FrameHeader, Opcode, HEADER_SIZE, MAX_PAYLOAD_SIZE};
pub use transport::{Transport, TransportError};

/// Serves an LLVM 22 controller over `transport` for `session`, as
/// `llvm-jitlink-executor` does: adds the bootstrap services (dylib
/// manager, memory managers, memory access, run-as-main...), attaches a
/// [`SimpleRemoteEpcControllerAccess`] announcing their symbols, which
/// sends Setup and serves the controller on a reader thread. Returns at
/// once with the connection; wait for the controller to go away with
/// [`Session::wait_for_detach`].
///
/// Fails if the Session is shutting down or already has a controller.
pub fn serve(
    session: &Arc<Session>,
    transport: Transport,
) -> crate::Result<Arc<SimpleRemoteEpcControllerAccess>> {
    let symbols = add_bootstrap_services(session)?;
    let ca = SimpleRemoteEpcControllerAccess::new(transport, symbols)?;
    session.attach(ca.clone())?;
    Ok(ca)
}
