//! SPS bindings of [`SimpleNativeMemoryMap`] (LLVM's
//! `SimpleExecutorMemoryManager` wrappers).
//!
//! Each function takes the manager's instance address first (the
//! `__llvm_orc_SimpleExecutorMemoryManager_Instance` bootstrap symbol) and
//! looks it up in [`INSTANCES`]; failures travel in-band, with LLVM's
//! messages.
//!
//! ```
//! use orc_rt::services::memory::SimpleNativeMemoryMap;
//! use orc_rt::sps::orc_types::{FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest};
//! use orc_rt::sps::{serialize_to_vec, SpsDeserialize, SpsExpected, SpsResult, SpsSerialize};
//! use orc_rt::sps_ci::memory::{
//!     deinitialize_wrapper, initialize_wrapper, release_wrapper, reserve_wrapper, INSTANCES,
//! };
//! use orc_rt::sps_ci::SyncWrapperFunction;
//! use orc_rt::wrapper_function::{decode_sps_result, sync_abi::call_sync};
//! use orc_rt::ExecutorAddr;
//! use std::sync::Arc;
//!
//! /// Calls `f` as a controller does: SPS arguments in, SPS result out.
//! ///
//! /// # Safety
//! /// `f` has LLVM 22's synchronous wrapper ABI.
//! unsafe fn call<A: SpsSerialize, R: SpsDeserialize>(f: SyncWrapperFunction, args: &A) -> R {
//!     // SAFETY: the caller's promise.
//!     decode_sps_result(unsafe { call_sync(f, &serialize_to_vec(args)) }).unwrap()
//! }
//!
//! let manager = Arc::new(SimpleNativeMemoryMap::new());
//! let instance = INSTANCES.register(&manager);
//! // SAFETY (every `call` below): orc-rt's entry points have that ABI.
//! let r: SpsExpected<ExecutorAddr> = unsafe { call(reserve_wrapper, &(instance, 65536u64)) };
//! let base = r.into_result().unwrap();
//! let request = FinalizeRequest {
//!     segments: vec![SegFinalizeRequest {
//!         rag: RemoteAllocGroup::new(true, false, false, false),
//!         addr: base,
//!         size: 4,
//!         content: b"data".to_vec(),
//!     }],
//!     actions: vec![],
//! };
//! let r: SpsExpected<ExecutorAddr> = unsafe { call(initialize_wrapper, &(instance, &request)) };
//! let key = r.into_result().unwrap();
//! let r: SpsResult = unsafe { call(deinitialize_wrapper, &(instance, vec![key])) };
//! assert_eq!(r, Ok(()));
//! let r: SpsResult = unsafe { call(release_wrapper, &(instance, vec![base])) };
//! assert_eq!(r, Ok(()));
//! let r: SpsResult = unsafe { call(release_wrapper, &(instance, vec![base])) };
//! let e = r.unwrap_err();
//! assert!(
//!     e.ends_with("is not part of any reserved address range"),
//!     "{e}"
//! );
//!
//! // A dropped manager's instance address is refused.
//! drop(manager);
//! let r: SpsExpected<ExecutorAddr> = unsafe { call(reserve_wrapper, &(instance, 4096u64)) };
//! let e = r.into_result().unwrap_err();
//! assert!(
//!     e.ends_with("is not a live SimpleExecutorMemoryManager instance"),
//!     "{e}"
//! );
//! ```

use super::InstanceRegistry;
use crate::services::memory::simple_native_memory_map::SegmentRef;
use crate::services::memory::SimpleNativeMemoryMap;
use crate::sps::orc_types::{AllocActionCallPair, RemoteAllocGroup};
use crate::sps::{
    deserialize_all, serialize_to_vec, to_sps_result, SpsBytes, SpsDeserialize, SpsError,
    SpsExpected, SpsFixedSize, SpsInputBuffer, SpsResult,
};
use crate::wrapper_function::handler::SpsResponder;
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

/// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance, uint64 size)`:
/// reserves address space.
pub fn reserve((instance, size): (ExecutorAddr, u64), r: SpsResponder<SpsExpected<ExecutorAddr>>) {
    let result = INSTANCES.with(instance, "reserve", |m| m.reserve(size));
    r.respond(&SpsExpected::from_result(result))
}

/// `SPSExpected<SPSExecutorAddr> (SPSExecutorAddr instance,
/// SPSFinalizeRequest)`: copies segment content, applies protections and
/// runs the finalize actions. Arguments as [`decode_initialize_args`] gives
/// them (content borrowed from the argument bytes).
pub fn initialize(
    (instance, segments, actions): InitializeArgs<'_>,
    r: SpsResponder<SpsExpected<ExecutorAddr>>,
) {
    let result = INSTANCES.with(instance, "initialize", |m| {
        // SAFETY: the actions came from the controller, which LLVM's design
        // trusts to run code in the executor; the wire bindings make that
        // promise for it.
        unsafe { m.initialize_segments(&segments, actions) }
    });
    r.respond(&SpsExpected::from_result(result))
}

/// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr> keys)`:
/// runs the dealloc actions of finalized allocations.
pub fn deinitialize(
    (instance, keys): (ExecutorAddr, Vec<ExecutorAddr>),
    r: SpsResponder<SpsResult>,
) {
    let result = INSTANCES.with(instance, "deinitialize", |m| m.deinitialize(&keys));
    r.respond(&to_sps_result(result))
}

/// `SPSError (SPSExecutorAddr instance, SPSSequence<SPSExecutorAddr> bases)`:
/// deinitializes what is left and returns the reservations.
pub fn release((instance, bases): (ExecutorAddr, Vec<ExecutorAddr>), r: SpsResponder<SpsResult>) {
    let result = INSTANCES.with(instance, "release", |m| m.release(&bases));
    r.respond(&to_sps_result(result))
}

/// Whether an [`initialize`] call with argument bytes `args` runs only
/// finalize actions at addresses `leaf` accepts (address 0, "no action",
/// always is), so that a transport may run it on its reader thread.
/// Arguments that do not decode are answered with an error: that is quick.
pub fn initialize_is_leaf(args: &[u8], leaf: &dyn Fn(ExecutorAddr) -> bool) -> bool {
    decode_initialize_args(args).map_or(true, |(_, _, actions)| {
        actions
            .iter()
            .all(|a| a.finalize.fn_addr.is_null() || leaf(a.finalize.fn_addr))
    })
}

/// [`initialize_is_leaf`] for a [`release`] call: whether every dealloc
/// action it would run now is at an address `leaf` accepts.
pub fn release_is_leaf(args: &[u8], leaf: &dyn Fn(ExecutorAddr) -> bool) -> bool {
    dealloc_is_leaf(args, |m, bases| m.release_actions_all(bases, leaf))
}

/// [`release_is_leaf`] for a [`deinitialize`] call.
pub fn deinitialize_is_leaf(args: &[u8], leaf: &dyn Fn(ExecutorAddr) -> bool) -> bool {
    dealloc_is_leaf(args, |m, keys| m.deinitialize_actions_all(keys, leaf))
}

/// Decodes `(instance, addresses)` and asks `all` of the instance; `true`
/// for arguments that name no live instance or do not decode.
fn dealloc_is_leaf(
    args: &[u8],
    all: impl FnOnce(&SimpleNativeMemoryMap, &[ExecutorAddr]) -> bool,
) -> bool {
    let Ok((instance, addrs)) = deserialize_all::<(ExecutorAddr, Vec<ExecutorAddr>)>(args) else {
        return true;
    };
    INSTANCES.lookup(instance).is_none_or(|m| all(&m, &addrs))
}

sync_wrapper! {
    /// Entry point of [`reserve`].
    pub fn reserve_wrapper = reserve;
}

sync_wrapper! {
    /// Entry point of [`initialize`]; segment content is copied straight
    /// from the argument bytes.
    pub fn initialize_wrapper = initialize, decode decode_initialize_args;
}

sync_wrapper! {
    /// Entry point of [`deinitialize`].
    pub fn deinitialize_wrapper = deinitialize;
}

sync_wrapper! {
    /// Entry point of [`release`].
    pub fn release_wrapper = release;
}

/// In the alloc-group byte of a segment of an `initialize` request: the
/// segment's content was already written to its address by the transport
/// while it read the request (`simple_remote_epc::frame`), and the content
/// field holds the count of bytes written (8 bytes, little-endian). Only the
/// transport sets it; a controller that sends it only skips the copy into
/// memory it could write anyway.
pub const PREWRITTEN_FLAG: u8 = 0x80;

/// The fixed-size start of [`initialize`]'s arguments
/// `(SPSExecutorAddr instance, SPSFinalizeRequest)`: the instance and the
/// count of the segments that follow.
pub type InitializeArgsHead = (ExecutorAddr, u64);

/// The fixed-size start of one `SPSSegFinalizeRequest`: the alloc-group
/// byte (raw: it may carry [`PREWRITTEN_FLAG`]), the address, the size and
/// the length of the content bytes that follow.
pub type SegmentHead = (u8, ExecutorAddr, u64, u64);

/// The encoding of a segment whose content the transport has already
/// written to its address: `head` with [`PREWRITTEN_FLAG`] set, and as
/// content the count of bytes written, as [`decode_initialize_args`] reads
/// it back.
pub fn encode_prewritten_segment(head: SegmentHead, written: u64) -> Vec<u8> {
    let (bits, addr, size, _) = head;
    serialize_to_vec(&(
        bits | PREWRITTEN_FLAG,
        addr,
        size,
        &written.to_le_bytes()[..],
    ))
}

/// Decoded arguments of [`initialize`]: instance, segments (content
/// borrowed from the argument bytes), finalize/dealloc action pairs.
pub type InitializeArgs<'a> = (ExecutorAddr, Vec<SegmentRef<'a>>, Vec<AllocActionCallPair>);

/// Decodes `(SPSExecutorAddr instance, SPSFinalizeRequest)` borrowing each
/// segment's content from `bytes` (the bulk of an `initialize` call).
pub fn decode_initialize_args(bytes: &[u8]) -> Result<InitializeArgs<'_>, SpsError> {
    let mut input = SpsInputBuffer::new(bytes);
    let instance = ExecutorAddr::deserialize(&mut input)?;
    let n = input.read_count(SegmentHead::ENCODED_SIZE)?;
    let mut segments = Vec::with_capacity(n);
    for _ in 0..n {
        let bits = u8::deserialize(&mut input)?;
        let prewritten_marker = bits & PREWRITTEN_FLAG != 0;
        let bits = bits & !PREWRITTEN_FLAG;
        let rag = RemoteAllocGroup::from_bits(bits).ok_or(SpsError::InvalidAllocGroup(bits))?;
        let addr = ExecutorAddr::deserialize(&mut input)?;
        let size = u64::deserialize(&mut input)?;
        let content = SpsBytes::deserialize_borrowed(&mut input)?.0;
        let (content, prewritten) = if prewritten_marker {
            // The content is the 8-byte count of bytes already in place.
            let count: [u8; 8] = content
                .try_into()
                .map_err(|_| SpsError::InvalidAllocGroup(bits | PREWRITTEN_FLAG))?;
            (&content[..0], u64::from_le_bytes(count))
        } else {
            (content, 0)
        };
        segments.push(SegmentRef {
            rag,
            addr,
            size,
            content,
            prewritten,
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
    use crate::wrapper_function::handler::{reply_channel, sps_async_handler, Responder};
    use crate::wrapper_function::sync_abi::serve_async;
    use crate::WrapperFunctionBuffer;
    use std::sync::Arc;

    #[test]
    fn handlers_serve_asynchronous_callers_too() {
        let m = Arc::new(SimpleNativeMemoryMap::new());
        let instance = INSTANCES.register(&m);
        let args = WrapperFunctionBuffer::from_slice(&serialize_to_vec(&(instance, 4096u64)));
        let (cb, pending) = reply_channel();
        serve_async(
            "reserve",
            &args,
            deserialize_all,
            reserve,
            Responder::new(cb),
        );
        let r: SpsExpected<ExecutorAddr> =
            deserialize_all(pending.wait().as_slice().unwrap()).unwrap();
        let base = r.0.unwrap();
        assert_ne!(base, ExecutorAddr(0));
        // The same handler as a Rust in-process controller handler.
        let h = sps_async_handler(release);
        let (cb, pending) = reply_channel();
        h(
            WrapperFunctionBuffer::from_slice(&serialize_to_vec(&(instance, vec![base]))),
            Responder::new(cb),
        );
        let r: SpsResult = deserialize_all(pending.wait().as_slice().unwrap()).unwrap();
        assert_eq!(r, Ok(()));
        let (cb, pending) = reply_channel();
        h(
            WrapperFunctionBuffer::from_slice(&serialize_to_vec(&(instance, vec![base]))),
            Responder::new(cb),
        );
        let r: SpsResult = deserialize_all(pending.wait().as_slice().unwrap()).unwrap();
        assert!(r.is_err(), "a released base is unknown");
        INSTANCES.unregister(instance);
    }

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

    /// An allocation action that succeeds (`SPSError ()`).
    unsafe extern "C" fn ok_action(
        _data: *const std::os::raw::c_char,
        _size: usize,
    ) -> crate::wrapper_function::orc_rt_WrapperFunctionBuffer {
        crate::wrapper_function::serialize_to_buffer(&SpsResult::Ok(())).into_raw()
    }

    /// An allocation action that fails (so its address differs).
    unsafe extern "C" fn other_action(
        _data: *const std::os::raw::c_char,
        _size: usize,
    ) -> crate::wrapper_function::orc_rt_WrapperFunctionBuffer {
        let r: SpsResult = Err("other".to_string());
        crate::wrapper_function::serialize_to_buffer(&r).into_raw()
    }

    #[test]
    fn leaf_tests_accept_only_calls_whose_actions_are_accepted() {
        let m = Arc::new(SimpleNativeMemoryMap::new());
        let instance = INSTANCES.register(&m);
        let ours = ExecutorAddr::from_fn_ptr(ok_action as *const ());
        let other = ExecutorAddr::from_fn_ptr(other_action as *const ());
        let only_ours = |a: ExecutorAddr| a == ours;
        let base = m.reserve(4096).unwrap();
        let call = |f| WrapperFunctionCall {
            fn_addr: f,
            args: vec![],
        };
        let request = |finalize, dealloc| {
            let req = FinalizeRequest {
                segments: vec![SegFinalizeRequest {
                    rag: RemoteAllocGroup::new(true, true, false, false),
                    addr: base,
                    size: 16,
                    content: vec![1],
                }],
                actions: vec![AllocActionCallPair {
                    finalize: call(finalize),
                    dealloc: call(dealloc),
                }],
            };
            serialize_to_vec(&(instance, &req))
        };
        // initialize: decided by its finalize actions ("no action" passes).
        assert!(initialize_is_leaf(&request(ours, other), &only_ours));
        assert!(initialize_is_leaf(
            &request(ExecutorAddr(0), other),
            &only_ours
        ));
        assert!(!initialize_is_leaf(&request(other, ours), &only_ours));
        // Bad arguments are answered quickly with an error.
        assert!(initialize_is_leaf(&[1, 2, 3], &only_ours));

        // deinitialize/release: decided by the dealloc actions they would run.
        let bases = serialize_to_vec(&(instance, vec![base]));
        assert!(release_is_leaf(&bases, &only_ours), "nothing to run yet");
        let init = request(ours, other);
        let (_, segs, actions) = decode_initialize_args(&init).unwrap();
        // SAFETY: no actions.
        let key = unsafe { m.initialize_segments(&segs, actions) }.unwrap();
        let keys = serialize_to_vec(&(instance, vec![key]));
        assert!(!release_is_leaf(&bases, &only_ours));
        assert!(!deinitialize_is_leaf(&keys, &only_ours));
        assert!(release_is_leaf(&bases, &|_| true));
        assert!(deinitialize_is_leaf(&keys, &|_| true));
        // The dealloc action fails, but the region is gone all the same.
        assert!(m.deinitialize(&[key]).is_err());
        assert!(release_is_leaf(&bases, &only_ours));
        assert!(deinitialize_is_leaf(&keys, &only_ours), "no such region");
        // Unknown instances and bad arguments: an error reply, quick.
        let unknown = serialize_to_vec(&(ExecutorAddr(8), vec![base]));
        assert!(release_is_leaf(&unknown, &only_ours));
        assert!(release_is_leaf(&[7], &only_ours));
        m.release(&[base]).unwrap();
        INSTANCES.unregister(instance);
    }
}
