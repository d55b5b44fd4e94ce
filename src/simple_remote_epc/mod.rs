//! SimpleRemoteEPC: LLVM 22's executor wire protocol, as a
//! [`ControllerAccess`](crate::controller_access::ControllerAccess).
//!
//! The executor sends a Setup frame (triple, page size, bootstrap symbols),
//! then serves the controller's CallWrapper frames by address and answers
//! with Result frames; JIT'd code reaches the controller through the
//! `__llvm_orc_SimpleRemoteEPC_dispatch_fn` bootstrap symbol. Transports are
//! an inherited fd pair or one TCP connection ([`transport`]).

mod controller_access;
pub mod frame;
pub mod transport;

pub use controller_access::{
    jit_dispatch, SimpleRemoteEpcControllerAccess, SimpleRemoteEpcError, DISPATCH_CTX_SYMBOL,
    DISPATCH_FN_SYMBOL, PROCESS_TRIPLE,
};
pub use frame::{BufferFrame, FrameError, FrameHeader, Opcode, HEADER_SIZE, MAX_PAYLOAD_SIZE};
pub use transport::{Transport, TransportError};
