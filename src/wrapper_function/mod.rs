//! Wrapper functions: the calling convention between controller and executor.
//!
//! A wrapper function takes SPS-serialized argument bytes and produces
//! SPS-serialized result bytes in a [`WrapperFunctionBuffer`].

mod buffer;
pub mod handler;
pub mod sync_abi;

pub use buffer::{
    dispose_raw, orc_rt_WrapperFunctionBuffer, orc_rt_WrapperFunctionBufferDataUnion,
    WrapperFunctionBuffer, INLINE_CAPACITY,
};
