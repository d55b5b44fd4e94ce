//! SPS bindings of [`crate::memory::access`]: the
//! `__llvm_orc_bootstrap_mem_{write,read}_*_wrapper` functions. Writes
//! return `SPSEmpty`; a failed access gives an out-of-band error.

use crate::memory::access;
use crate::sps::orc_types::{PointerWrite, UIntWrite};
use crate::sps::{SpsBytes, SpsDeserialize, SpsError, SpsInputBuffer};
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::{ExecutorAddr, ExecutorAddrRange};

/// `(bootstrap symbol name, entry point)` for every access wrapper.
pub fn symbols() -> Vec<(&'static str, super::SyncWrapperFunction)> {
    vec![
        (
            "__llvm_orc_bootstrap_mem_write_uint8s_wrapper",
            write_uint8s_wrapper as super::SyncWrapperFunction,
        ),
        (
            "__llvm_orc_bootstrap_mem_write_uint16s_wrapper",
            write_uint16s_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_write_uint32s_wrapper",
            write_uint32s_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_write_uint64s_wrapper",
            write_uint64s_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_write_pointers_wrapper",
            write_pointers_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_write_buffers_wrapper",
            write_buffers_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_read_uint8s_wrapper",
            read_uint8s_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_read_uint16s_wrapper",
            read_uint16s_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_read_uint32s_wrapper",
            read_uint32s_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_read_uint64s_wrapper",
            read_uint64s_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_read_pointers_wrapper",
            read_pointers_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_read_buffers_wrapper",
            read_buffers_wrapper,
        ),
        (
            "__llvm_orc_bootstrap_mem_read_strings_wrapper",
            read_strings_wrapper,
        ),
    ]
}

macro_rules! uint_wrappers {
    ($($w:ident, $r:ident: $t:ty);*) => {$(
        sync_wrapper! {
            #[doc = concat!("`SPSEmpty (SPSSequence<SPSMemoryAccessUIntWrite<", stringify!($t), ">>)`.")]
            pub fn $w((Vec<UIntWrite<$t>>,)) -> () =?
                |(ws,)| access::write_uints(&ws).map_err(|e| e.to_string());
        }
        sync_wrapper! {
            #[doc = concat!("`SPSSequence<", stringify!($t), "> (SPSSequence<SPSExecutorAddr>)`.")]
            pub fn $r((Vec<ExecutorAddr>,)) -> Vec<$t> =?
                |(addrs,)| access::read_uints::<$t>(&addrs).map_err(|e| e.to_string());
        }
    )*};
}

uint_wrappers! {
    write_uint8s_wrapper, read_uint8s_wrapper: u8;
    write_uint16s_wrapper, read_uint16s_wrapper: u16;
    write_uint32s_wrapper, read_uint32s_wrapper: u32;
    write_uint64s_wrapper, read_uint64s_wrapper: u64
}

sync_wrapper! {
    /// `SPSEmpty (SPSSequence<SPSMemoryAccessPointerWrite>)`.
    pub fn write_pointers_wrapper((Vec<PointerWrite>,)) -> () =?
        |(ws,)| access::write_pointers(&ws).map_err(|e| e.to_string());
}

/// Decodes `SPSSequence<SPSMemoryAccessBufferWrite>` borrowing each
/// buffer from `bytes` (bulk writes are copied once, to their target).
pub fn decode_buffer_writes(bytes: &[u8]) -> Result<Vec<(ExecutorAddr, &[u8])>, SpsError> {
    let mut input = SpsInputBuffer::new(bytes);
    // address + buffer length.
    let n = input.read_count(8 + 8)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let addr = ExecutorAddr::deserialize(&mut input)?;
        let buf = SpsBytes::deserialize_borrowed(&mut input)?.0;
        out.push((addr, buf));
    }
    if !input.is_empty() {
        return Err(SpsError::TrailingBytes(input.remaining()));
    }
    Ok(out)
}

sync_wrapper! {
    /// `SPSEmpty (SPSSequence<SPSMemoryAccessBufferWrite>)`.
    pub fn write_buffers_wrapper(decode decode_buffer_writes) -> () =?
        |ws| access::write_buffer_refs(&ws).map_err(|e| e.to_string());
}

sync_wrapper! {
    /// `SPSSequence<SPSExecutorAddr> (SPSSequence<SPSExecutorAddr>)`.
    pub fn read_pointers_wrapper((Vec<ExecutorAddr>,)) -> Vec<ExecutorAddr> =?
        |(addrs,)| access::read_pointers(&addrs).map_err(|e| e.to_string());
}

sync_wrapper! {
    /// `SPSSequence<SPSSequence<char>> (SPSSequence<SPSExecutorAddrRange>)`.
    pub fn read_buffers_wrapper((Vec<ExecutorAddrRange>,)) -> Vec<Vec<u8>> =?
        |(ranges,)| access::read_buffers(&ranges).map_err(|e| e.to_string());
}

sync_wrapper! {
    /// `SPSSequence<SPSString> (SPSSequence<SPSExecutorAddr>)`: NUL-terminated
    /// strings, as bytes.
    pub fn read_strings_wrapper((Vec<ExecutorAddr>,)) -> Vec<Vec<u8>> =?
        |(addrs,)| access::read_strings(&addrs).map_err(|e| e.to_string());
}
