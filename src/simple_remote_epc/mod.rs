//! SimpleRemoteEPC: LLVM 22's executor wire protocol, as a
//! [`ControllerAccess`](crate::controller_access::ControllerAccess).
//!
//! The executor sends a Setup frame (triple, page size, bootstrap symbols),
//! then serves the controller's CallWrapper frames by address and answers
//! with Result frames; JIT'd code reaches the controller through the
//! `__llvm_orc_SimpleRemoteEPC_dispatch_fn` bootstrap symbol. Transports are
//! an inherited fd pair or one TCP connection ([`transport`]).
//!
//! ```
//! use orc_rt::session::Session;
//! use orc_rt::simple_remote_epc::frame::read_frame_buffer;
//! use orc_rt::simple_remote_epc::{serve, FrameHeader, Opcode, Transport};
//! use orc_rt::simple_remote_epc::{DISPATCH_FN_SYMBOL, PROCESS_TRIPLE};
//! use orc_rt::sps::orc_types::SimpleRemoteEpcExecutorInfo;
//! use orc_rt::sps::{deserialize_all, serialize_to_vec, SpsExpected};
//! use orc_rt::sps_ci::memory;
//! use orc_rt::task_dispatcher::GrowingThreadPoolTaskDispatcher;
//! use orc_rt::ExecutorAddr;
//! use std::io::Write;
//! use std::os::fd::IntoRawFd;
//! use std::os::unix::net::UnixStream;
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let (executor_end, mut controller) = UnixStream::pair().unwrap();
//! controller
//!     .set_read_timeout(Some(Duration::from_secs(30)))
//!     .unwrap();
//! let fd = executor_end.into_raw_fd();
//! // SAFETY: a fresh descriptor, handed over to the transport.
//! let transport = unsafe { Transport::from_raw_fds(fd, fd) }.unwrap();
//! let session = Session::new(Arc::new(GrowingThreadPoolTaskDispatcher::new()));
//! let connection = serve(&session, transport).unwrap();
//!
//! // The controller's side: Setup comes first.
//! let setup = read_frame_buffer(&mut controller).unwrap().unwrap();
//! assert_eq!(Opcode::from_u64(setup.header.opcode), Some(Opcode::Setup));
//! let info: SimpleRemoteEpcExecutorInfo = deserialize_all(setup.payload.as_slice().unwrap()).unwrap();
//! assert_eq!(info.triple, PROCESS_TRIPLE);
//! let symbol = |name: &str| {
//!     info.bootstrap_symbols
//!         .iter()
//!         .find(|(n, _)| n == name)
//!         .unwrap()
//!         .1
//! };
//! assert!(!symbol(DISPATCH_FN_SYMBOL).is_null());
//!
//! // A call by address: the memory manager's reserve. The Result frame
//! // carries the call's sequence number.
//! let args = serialize_to_vec(&(symbol(memory::INSTANCE_NAME), 4096u64));
//! let reserve = symbol(memory::RESERVE_NAME).value();
//! let call = FrameHeader::new(Opcode::CallWrapper, 1, reserve, args.len());
//! controller.write_all(&call.encode()).unwrap();
//! controller.write_all(&args).unwrap();
//! let result = read_frame_buffer(&mut controller).unwrap().unwrap();
//! assert_eq!(Opcode::from_u64(result.header.opcode), Some(Opcode::Result));
//! assert_eq!(result.header.seqno, 1);
//! let SpsExpected(base) = deserialize_all::<SpsExpected<ExecutorAddr>>(result.payload.as_slice().unwrap()).unwrap();
//! assert!(!base.unwrap().is_null());
//!
//! // The controller closing the connection detaches the Session.
//! drop(controller);
//! session.wait_for_detach();
//! assert_eq!(connection.disconnect_error(), None);
//! session.shutdown_and_wait().unwrap();
//! ```

use std::sync::Arc;

use crate::session::Session;
use crate::sps_ci::bootstrap::add_bootstrap_services_for;

/// Which executor's catalogue of bootstrap symbols a served Session
/// announces (LLVM 22's `llvm-jitlink-executor` or `lli-child-target`).
pub use crate::sps_ci::bootstrap::BootstrapProfile;

/// Puts SIGSEGV and SIGBUS back to their default actions, so that JIT'd
/// code that crashes or overflows its stack dies by the signal, as a native
/// program would, instead of through Rust's stack-overflow handler. An
/// executor calls it first thing in `main`.
pub use crate::sys::stack::restore_default_fault_signals;

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
    serve_profile(session, transport, BootstrapProfile::JitlinkExecutor)
}

/// [`serve`] with the bootstrap catalog of `profile` (e.g. that of
/// `lli-child-target`).
pub fn serve_profile(
    session: &Arc<Session>,
    transport: Transport,
    profile: BootstrapProfile,
) -> crate::Result<Arc<SimpleRemoteEpcControllerAccess>> {
    let symbols = add_bootstrap_services_for(session, profile)?;
    let ca = SimpleRemoteEpcControllerAccess::new(transport, symbols)?;
    session.attach(ca.clone())?;
    Ok(ca)
}
