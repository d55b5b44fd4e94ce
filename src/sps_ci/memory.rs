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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sps::orc_types::{FinalizeRequest, SegFinalizeRequest, WrapperFunctionCall};
    use crate::sps::{deserialize_all, serialize_to_vec};

    #[test]
    fn borrowed_initialize_decoder_matches_the_owned_one() {
        let req = FinalizeRequest {
            segments: vec![
                SegFinalizeRequest {
                    rag: RemoteAllocGroup::new(true, false, true, false),
                    addr: ExecutorAddr(0x1000),
                    size: 0x1000,
                    content: vec![1, 2, 3],
                },
                SegFinalizeRequest {
                    rag: RemoteAllocGroup::new(true, true, false, false),
                    addr: ExecutorAddr(0x2000),
                    size: 0x10,
                    content: vec![],
                },
            ],
            actions: vec![AllocActionCallPair {
                finalize: WrapperFunctionCall {
                    fn_addr: ExecutorAddr(0x55),
                    args: vec![9, 9],
                },
                dealloc: WrapperFunctionCall::default(),
            }],
        };
        let bytes = serialize_to_vec(&(ExecutorAddr(7), &req));
        let (inst, segs, actions) = decode_initialize_args(&bytes).unwrap();
        let (inst2, owned): (ExecutorAddr, FinalizeRequest) = deserialize_all(&bytes).unwrap();
        assert_eq!(inst, inst2);
        assert_eq!(actions, owned.actions);
        assert_eq!(segs.len(), owned.segments.len());
        for (b, o) in segs.iter().zip(&owned.segments) {
            assert_eq!(
                (b.rag, b.addr, b.size, b.content),
                (o.rag, o.addr, o.size, &o.content[..])
            );
        }
        // Every truncation fails, and so does a trailing byte.
        for n in 0..bytes.len() {
            assert!(decode_initialize_args(&bytes[..n]).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            decode_initialize_args(&longer).unwrap_err(),
            SpsError::TrailingBytes(1)
        );
        // A huge segment count is refused before allocating.
        let mut huge = ExecutorAddr(7).0.to_le_bytes().to_vec();
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            decode_initialize_args(&huge),
            Err(SpsError::LengthTooLarge { .. })
        ));
    }
}
