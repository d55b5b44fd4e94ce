//! Wrapper functions: the calling conventions between controller and
//! executor.
//!
//! A wrapper function takes SPS-serialized argument bytes and produces
//! SPS-serialized result bytes in a [`WrapperFunctionBuffer`]. This module
//! owns every convention: LLVM 22's synchronous ABI ([`sync_abi`]), orc-rt's
//! native asynchronous ABI ([`native`], with the C types cbindgen emits),
//! Rust closures ([`handler`]), and [`IncomingCall`], which runs any of them.
//!
//! ```
//! use orc_rt::wrapper_function::{sps_handler, reply_channel, IncomingCall, Responder};
//! use orc_rt::sps::deserialize_all;
//! use orc_rt::wrapper_function::serialize_to_buffer;
//! use orc_rt::wrapper_function::Handle;
//!
//! // An SPS-typed closure: (u32, u32) -> u64.
//! let add = IncomingCall::handler(sps_handler(|(a, b): (u32, u32)| u64::from(a) + u64::from(b)));
//! let (cb, pending) = reply_channel();
//! add.run(Handle::from_raw(0), serialize_to_buffer(&(40u32, 2u32)), Responder::new(cb));
//! let sum: u64 = deserialize_all(pending.wait().as_slice().unwrap()).unwrap();
//! assert_eq!(sum, 42);
//! ```

mod buffer;
mod call;
pub(crate) mod current;
pub mod handler;
pub mod native;
pub mod sync_abi;

pub use buffer::{
    dispose_raw, orc_rt_WrapperFunctionBuffer, orc_rt_WrapperFunctionBufferDataUnion,
    serialize_to_buffer, WrapperFunctionBuffer, INLINE_CAPACITY,
};
pub use call::{native_fn_at, sync_fn_at, IncomingCall, TypedCall};
pub use handler::{
    bytes_handler, decode_sps_result, reply_channel, sps_async_handler, sps_handler, BytesHandler,
    PendingReply, ReplySlot, Responder, ResultDecodeError, SpsResponder,
};
pub use native::{
    orc_rt_SessionRef, orc_rt_WrapperFunction, orc_rt_WrapperFunctionReturn, NativeWrapperFunction,
};
pub use sync_abi::SyncWrapperFunction;

/// The opaque handle values wrapper functions receive: a Session's
/// reference and a call id are both a `Handle` (checked by table slot and
/// generation, never dereferenced).
pub use crate::handle::Handle;
