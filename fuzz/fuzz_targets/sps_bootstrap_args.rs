//! SPS decoding of every argument tuple the bootstrap services accept (and
//! the few results the executor itself decodes), picked by the first input
//! byte.
//!
//! Properties checked on every input:
//! - decoding never panics and never allocates more than the input allows;
//! - a successful decode re-encodes to exactly the input (SPS encodings
//!   are canonical for these types);
//! - `deserialize_prefix` agrees with `deserialize_all`;
//! - the in-place decoders (`decode_initialize_args`,
//!   `decode_buffer_writes`) agree with the owned decoders of the same SPS
//!   types, and the bytes-typed path of `open` agrees with the String one.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orc_rt::services::perf::RecordBatch;
use orc_rt::sps::orc_types::{
    AllocActionCallPair, BufferWrite, ElfPerObjectSectionsToRegister, ExecutorSymbolDef,
    FinalizeRequest, PointerWrite, RemoteSymbolLookup, RemoteSymbolLookupSetElement,
    SharedMemoryFinalizeRequest, SimpleRemoteEpcExecutorInfo, UIntWrite, WrapperFunctionCall,
};
use orc_rt::sps::{
    deserialize_all, deserialize_prefix, serialize_to_vec, SpsDeserialize, SpsExpected, SpsResult,
    SpsSerialize,
};
use orc_rt::sps_ci::{access, memory};
use orc_rt::{ExecutorAddr, ExecutorAddrRange};

/// Decodes `data` as `T`; on success checks the canonical re-encoding and
/// the prefix decoder, and returns the value.
fn roundtrip<T: SpsDeserialize + SpsSerialize>(data: &[u8]) -> Option<T> {
    let all = deserialize_all::<T>(data);
    let prefix = deserialize_prefix::<T>(data);
    match (&all, &prefix) {
        (Ok(_), Ok((_, used))) => assert_eq!(*used, data.len(), "prefix used != all"),
        (Ok(_), Err(e)) => panic!("deserialize_all ok but deserialize_prefix failed: {e}"),
        (Err(_), _) => {}
    }
    if let Ok((v, used)) = &prefix {
        // Whatever prefix was decoded must re-encode to those bytes.
        assert_eq!(
            serialize_to_vec(v),
            &data[..*used],
            "prefix decode is not canonical"
        );
    }
    let v = all.ok()?;
    assert_eq!(v.size(), data.len(), "size() disagrees with the input");
    assert_eq!(serialize_to_vec(&v), data, "re-encoding differs");
    Some(v)
}

/// Argument and result types, in selector order.
const KINDS: u8 = 34;

fuzz_target!(|input: &[u8]| {
    let Some((&sel, data)) = input.split_first() else {
        return;
    };
    match sel % KINDS {
        // SimpleExecutorDylibManager open: (instance, SPSString path, mode);
        // the executor decodes the path as bytes.
        0 => {
            let as_bytes = roundtrip::<(ExecutorAddr, Vec<u8>, u64)>(data);
            if let Some((a, s, m)) = roundtrip::<(ExecutorAddr, String, u64)>(data) {
                assert_eq!(as_bytes, Some((a, s.into_bytes(), m)));
            }
        }
        // SimpleExecutorDylibManager resolve: (handle, RemoteSymbolLookupSet).
        1 => {
            roundtrip::<(ExecutorAddr, Vec<RemoteSymbolLookupSetElement>)>(data);
        }
        // Memory manager and shared-memory mapper reserve: (instance, size).
        2 => {
            roundtrip::<(ExecutorAddr, u64)>(data);
        }
        // Memory manager initialize: (instance, FinalizeRequest), in-place
        // decoder vs owned decoder.
        3 => {
            let owned = roundtrip::<(ExecutorAddr, FinalizeRequest)>(data);
            let inplace = memory::decode_initialize_args(data);
            match (owned, inplace) {
                (Some((inst, req)), Ok((inst2, segs, actions))) => {
                    assert_eq!(inst, inst2);
                    assert_eq!(req.actions, actions);
                    assert_eq!(req.segments.len(), segs.len());
                    for (a, b) in req.segments.iter().zip(&segs) {
                        assert_eq!((a.rag, a.addr, a.size), (b.rag, b.addr, b.size));
                        assert_eq!(&a.content[..], b.content);
                    }
                }
                (None, Err(_)) => {}
                (o, i) => panic!(
                    "initialize decoders disagree: owned ok={} in-place ok={}",
                    o.is_some(),
                    i.is_ok()
                ),
            }
        }
        // deinitialize / release (both services): (instance, [addr]).
        4 => {
            roundtrip::<(ExecutorAddr, Vec<ExecutorAddr>)>(data);
        }
        // Shared-memory initialize: (instance, reservation, request).
        5 => {
            roundtrip::<(ExecutorAddr, ExecutorAddr, SharedMemoryFinalizeRequest)>(data);
        }
        // eh-frame register / deregister alloc actions: (range).
        6 => {
            roundtrip::<(ExecutorAddrRange,)>(data);
        }
        // GDB JIT loader alloc action: (range, auto_register).
        7 => {
            roundtrip::<(ExecutorAddrRange, bool)>(data);
        }
        // run_as_main: (main, [SPSString]); the executor takes bytes.
        8 => {
            let as_bytes = roundtrip::<(ExecutorAddr, Vec<Vec<u8>>)>(data);
            if let Some((a, v)) = roundtrip::<(ExecutorAddr, Vec<String>)>(data) {
                let v: Vec<Vec<u8>> = v.into_iter().map(String::into_bytes).collect();
                assert_eq!(as_bytes, Some((a, v)));
            }
        }
        // run_as_void_function: (fn).
        9 => {
            roundtrip::<(ExecutorAddr,)>(data);
        }
        // run_as_int_function: (fn, int32).
        10 => {
            roundtrip::<(ExecutorAddr, i32)>(data);
        }
        // mem_write_uint{8,16,32,64}s.
        11 => {
            roundtrip::<(Vec<UIntWrite<u8>>,)>(data);
        }
        12 => {
            roundtrip::<(Vec<UIntWrite<u16>>,)>(data);
        }
        13 => {
            roundtrip::<(Vec<UIntWrite<u32>>,)>(data);
        }
        14 => {
            roundtrip::<(Vec<UIntWrite<u64>>,)>(data);
        }
        // mem_write_pointers.
        15 => {
            roundtrip::<(Vec<PointerWrite>,)>(data);
        }
        // mem_write_buffers: in-place decoder vs owned decoder.
        16 => {
            let owned = roundtrip::<(Vec<BufferWrite>,)>(data);
            let inplace = access::decode_buffer_writes(data);
            match (owned, inplace) {
                (Some((ws,)), Ok(refs)) => {
                    assert_eq!(ws.len(), refs.len());
                    for (w, (a, b)) in ws.iter().zip(&refs) {
                        assert_eq!(w.addr, *a);
                        assert_eq!(&w.buffer[..], *b);
                    }
                }
                (None, Err(_)) => {}
                (o, i) => panic!(
                    "buffer-write decoders disagree: owned ok={} in-place ok={}",
                    o.is_some(),
                    i.is_ok()
                ),
            }
        }
        // mem_read_uint*s / pointers / strings: ([addr]).
        17 => {
            roundtrip::<(Vec<ExecutorAddr>,)>(data);
        }
        // mem_read_buffers: ([range]).
        18 => {
            roundtrip::<(Vec<ExecutorAddrRange>,)>(data);
        }
        // llvm_orc_registerJITLoaderPerfImpl: (PerfJITRecordBatch).
        19 => {
            roundtrip::<(RecordBatch,)>(data);
        }
        // perf start / end: () — only the empty input decodes.
        20 => {
            if roundtrip::<()>(data).is_some() {
                assert!(data.is_empty());
            }
        }
        // Allocation-action results the executor decodes: SPSError.
        21 => {
            roundtrip::<SpsResult>(data);
        }
        // Setup payload.
        22 => {
            roundtrip::<SimpleRemoteEpcExecutorInfo>(data);
        }
        // ORC structures on their own.
        23 => {
            roundtrip::<WrapperFunctionCall>(data);
        }
        24 => {
            roundtrip::<Vec<AllocActionCallPair>>(data);
        }
        25 => {
            roundtrip::<ElfPerObjectSectionsToRegister>(data);
        }
        26 => {
            roundtrip::<RemoteSymbolLookup>(data);
        }
        // Results the executor encodes (decoded by controllers and tests).
        27 => {
            roundtrip::<SpsExpected<ExecutorAddr>>(data);
        }
        28 => {
            roundtrip::<SpsExpected<Vec<Option<ExecutorSymbolDef>>>>(data);
        }
        29 => {
            roundtrip::<SpsExpected<(ExecutorAddr, String)>>(data);
        }
        30 => {
            roundtrip::<Vec<Vec<u8>>>(data);
        }
        31 => {
            roundtrip::<i64>(data);
        }
        32 => {
            roundtrip::<(Vec<u8>,)>(data);
        }
        _ => {
            roundtrip::<(FinalizeRequest,)>(data);
        }
    }
});
