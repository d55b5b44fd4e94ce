//! SPS bindings of [`crate::services::memory::access`]: the
//! `__llvm_orc_bootstrap_mem_{write,read}_*_wrapper` functions. Writes
//! return `SPSEmpty`; a failed access gives an out-of-band error.
//!
//! ```
//! use orc_rt::services::memory::SimpleNativeMemoryMap;
//! use orc_rt::sps::orc_types::UIntWrite;
//! use orc_rt::sps::{deserialize_all, serialize_to_vec};
//! use orc_rt::sps_ci::access::{read_uint32s_wrapper, symbols, write_uint32s_wrapper};
//! use orc_rt::wrapper_function::sync_abi::call_sync;
//! use orc_rt::ExecutorAddr;
//!
//! assert_eq!(symbols().len(), 13);
//! let memory = SimpleNativeMemoryMap::new();
//! let base = memory.reserve(4096).unwrap();
//! let writes = vec![
//!     UIntWrite {
//!         addr: base,
//!         value: 7u32,
//!     },
//!     UIntWrite {
//!         addr: base + 4,
//!         value: 9,
//!     },
//! ];
//! // SAFETY (every call below): the entry points have the synchronous ABI.
//! let r = unsafe { call_sync(write_uint32s_wrapper, &serialize_to_vec(&(writes,))) };
//! assert_eq!(r.as_slice(), Some(&[][..])); // SPSEmpty
//! let addrs = vec![base + 4, base];
//! let r = unsafe { call_sync(read_uint32s_wrapper, &serialize_to_vec(&(addrs,))) };
//! assert_eq!(
//!     deserialize_all::<Vec<u32>>(r.as_slice().unwrap()).unwrap(),
//!     [9, 7]
//! );
//!
//! let bad = vec![ExecutorAddr::new(0)];
//! let r = unsafe { call_sync(read_uint32s_wrapper, &serialize_to_vec(&(bad,))) };
//! assert!(r.is_out_of_band_error());
//! memory.release(&[base]).unwrap();
//! ```

use crate::services::memory::access;
use crate::sps::orc_types::{PointerWrite, UIntWrite};
use crate::sps::{SpsBytes, SpsDeserialize, SpsError, SpsFixedSize, SpsInputBuffer, SpsSerialize};
use crate::wrapper_function::handler::SpsResponder;
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::{ExecutorAddr, ExecutorAddrRange};

/// Bootstrap symbol of [`write_buffers_wrapper`] (bulk writes).
pub const WRITE_BUFFERS_NAME: &str = "__llvm_orc_bootstrap_mem_write_buffers_wrapper";

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
        (WRITE_BUFFERS_NAME, write_buffers_wrapper),
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

/// `SPSEmpty (SPSSequence<SPSMemoryAccessUIntWrite<T>>)`: writes the
/// integers.
pub fn write_uints<T: access::AccessScalar>((ws,): (Vec<UIntWrite<T>>,), r: SpsResponder<()>) {
    // SAFETY: the controller owns the executor's memory by LLVM's design:
    // these wrappers are its memory-access service, and it names JIT'd
    // memory. This is the promise the wire bindings make for it.
    r.respond_or_fail(unsafe { access::write_uints(&ws) })
}

/// `SPSSequence<T> (SPSSequence<SPSExecutorAddr>)`: reads the integers.
pub fn read_uints<T: access::AccessScalar + SpsSerialize>(
    (addrs,): (Vec<ExecutorAddr>,),
    r: SpsResponder<Vec<T>>,
) {
    r.respond_or_fail(access::read_uints::<T>(&addrs))
}

macro_rules! uint_wrappers {
    ($($w:ident, $r:ident: $t:ty);*) => {$(
        sync_wrapper! {
            #[doc = concat!("Entry point of [`write_uints`] for `", stringify!($t), "`.")]
            pub fn $w = write_uints::<$t>;
        }
        sync_wrapper! {
            #[doc = concat!("Entry point of [`read_uints`] for `", stringify!($t), "`.")]
            pub fn $r = read_uints::<$t>;
        }
    )*};
}

uint_wrappers! {
    write_uint8s_wrapper, read_uint8s_wrapper: u8;
    write_uint16s_wrapper, read_uint16s_wrapper: u16;
    write_uint32s_wrapper, read_uint32s_wrapper: u32;
    write_uint64s_wrapper, read_uint64s_wrapper: u64
}

/// `SPSEmpty (SPSSequence<SPSMemoryAccessPointerWrite>)`.
pub fn write_pointers((ws,): (Vec<PointerWrite>,), r: SpsResponder<()>) {
    // SAFETY: the controller owns the executor's memory by LLVM's design:
    // these wrappers are its memory-access service, and it names JIT'd
    // memory. This is the promise the wire bindings make for it.
    r.respond_or_fail(unsafe { access::write_pointers(&ws) })
}

/// The fixed-size start of one `SPSMemoryAccessBufferWrite`: the address
/// and the length of the bytes that follow.
pub type BufferWriteHead = (ExecutorAddr, u64);

/// Decodes `SPSSequence<SPSMemoryAccessBufferWrite>` borrowing each
/// buffer from `bytes` (bulk writes are copied once, to their target).
pub fn decode_buffer_writes(bytes: &[u8]) -> Result<Vec<(ExecutorAddr, &[u8])>, SpsError> {
    let mut input = SpsInputBuffer::new(bytes);
    let n = input.read_count(BufferWriteHead::ENCODED_SIZE)?;
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

/// `SPSEmpty (SPSSequence<SPSMemoryAccessBufferWrite>)`, with the buffers
/// as [`decode_buffer_writes`] gives them.
pub fn write_buffers(ws: Vec<(ExecutorAddr, &[u8])>, r: SpsResponder<()>) {
    // SAFETY: the controller owns the executor's memory by LLVM's design:
    // these wrappers are its memory-access service, and it names JIT'd
    // memory. This is the promise the wire bindings make for it.
    r.respond_or_fail(unsafe { access::write_buffer_refs(&ws) })
}

/// `SPSSequence<SPSExecutorAddr> (SPSSequence<SPSExecutorAddr>)`.
pub fn read_pointers((addrs,): (Vec<ExecutorAddr>,), r: SpsResponder<Vec<ExecutorAddr>>) {
    r.respond_or_fail(access::read_pointers(&addrs))
}

/// `SPSSequence<SPSSequence<char>> (SPSSequence<SPSExecutorAddrRange>)`.
pub fn read_buffers((ranges,): (Vec<ExecutorAddrRange>,), r: SpsResponder<Vec<Vec<u8>>>) {
    r.respond_or_fail(access::read_buffers(&ranges))
}

/// `SPSSequence<SPSString> (SPSSequence<SPSExecutorAddr>)`: NUL-terminated
/// strings, as bytes.
pub fn read_strings((addrs,): (Vec<ExecutorAddr>,), r: SpsResponder<Vec<Vec<u8>>>) {
    r.respond_or_fail(access::read_strings(&addrs))
}

sync_wrapper! {
    /// Entry point of [`write_pointers`].
    pub fn write_pointers_wrapper = write_pointers;
}

sync_wrapper! {
    /// Entry point of [`write_buffers`].
    pub fn write_buffers_wrapper = write_buffers, decode decode_buffer_writes;
}

sync_wrapper! {
    /// Entry point of [`read_pointers`].
    pub fn read_pointers_wrapper = read_pointers;
}

sync_wrapper! {
    /// Entry point of [`read_buffers`].
    pub fn read_buffers_wrapper = read_buffers;
}

sync_wrapper! {
    /// Entry point of [`read_strings`].
    pub fn read_strings_wrapper = read_strings;
}
