//! SPS bindings of [`SimpleNativeMemoryMap`] (LLVM's
//! `SimpleExecutorMemoryManager` wrappers).

use std::sync::Arc;

use super::InstanceRegistry;
use crate::memory::simple_native_memory_map::SegmentRef;
use crate::memory::SimpleNativeMemoryMap;
use crate::sps::orc_types::{AllocActionCallPair, RemoteAllocGroup};
use crate::sps::{SpsBytes, SpsDeserialize, SpsError, SpsExpected, SpsInputBuffer, SpsResult};
use crate::wrapper_function::sync_abi::sync_wrapper;
use crate::ExecutorAddr;

/// Bootstrap symbol of the instance address.
pub const INSTANCE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_Instance";
/// Bootstrap symbol of [`reserve_wrapper`].
pub const RESERVE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_reserve_wrapper";
/// Bootstrap symbol of [`initialize_wrapper`].
pub const INITIALIZE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_initialize_wrapper";
/// Bootstrap symbol of [`deinitialize_wrapper`].
pub const DEINITIALIZE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_deinitialize_wrapper";
/// Bootstrap symbol of [`release_wrapper`].
pub const RELEASE_NAME: &str = "__llvm_orc_SimpleExecutorMemoryManager_release_wrapper";

/// Live memory managers by instance address.
pub static INSTANCES: InstanceRegistry<SimpleNativeMemoryMap> =
    InstanceRegistry::new("SimpleExecutorMemoryManager");

fn get(instance: ExecutorAddr, ctx: &str) -> Result<Arc<SimpleNativeMemoryMap>, String> {
    INSTANCES
        .lookup(instance)
        .map_err(|e| format!("In {ctx}, {e}"))
}

sync_wrapper! {
    /// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance, uint64 size)`.
    pub fn reserve_wrapper((ExecutorAddr, u64)) -> SpsExpected<ExecutorAddr> =
        |(instance, size)| SpsExpected(get(instance, "reserve")
            .and_then(|m| m.reserve(size).map_err(|e| e.to_string())));
}

sync_wrapper! {
    /// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance, SPSFinalizeRequest)`.
    /// Segment content is copied straight from the argument bytes.
    pub fn initialize_wrapper(decode decode_initialize_args) -> SpsExpected<ExecutorAddr> =
        |(instance, segments, actions)| SpsExpected(get(instance, "initialize")
            .and_then(|m| m.initialize_segments(&segments, actions).map_err(|e| e.to_string())));
}

sync_wrapper! {
    /// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr> keys)`.
    pub fn deinitialize_wrapper((ExecutorAddr, Vec<ExecutorAddr>)) -> SpsResult =
        |(instance, keys)| get(instance, "deinitialize")
            .and_then(|m| m.deinitialize(&keys).map_err(|e| e.to_string()));
}

sync_wrapper! {
    /// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr> bases)`.
    pub fn release_wrapper((ExecutorAddr, Vec<ExecutorAddr>)) -> SpsResult =
        |(instance, bases)| get(instance, "release")
            .and_then(|m| m.release(&bases).map_err(|e| e.to_string()));
}

/// Decodes `(SPSExecutorAddr instance, SPSFinalizeRequest)` borrowing each
/// segment's content from `bytes` (the bulk of an `initialize` call).
pub fn decode_initialize_args(
    bytes: &[u8],
) -> Result<(ExecutorAddr, Vec<SegmentRef<'_>>, Vec<AllocActionCallPair>), SpsError> {
    let mut input = SpsInputBuffer::new(bytes);
    let instance = ExecutorAddr::deserialize(&mut input)?;
    // rag + addr + size + content length.
    let n = input.read_count(1 + 8 + 8 + 8)?;
    let mut segments = Vec::with_capacity(n);
    for _ in 0..n {
        let rag = RemoteAllocGroup::deserialize(&mut input)?;
        let addr = ExecutorAddr::deserialize(&mut input)?;
        let size = u64::deserialize(&mut input)?;
        let content = SpsBytes::deserialize_borrowed(&mut input)?.0;
        segments.push(SegmentRef {
            rag,
            addr,
            size,
            content,
        });
    }
    let actions = Vec::<AllocActionCallPair>::deserialize(&mut input)?;
    if !input.is_empty() {
        return Err(SpsError::TrailingBytes(input.remaining()));
    }
    Ok((instance, segments, actions))
}
