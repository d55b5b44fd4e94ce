//! Regression tests from fuzzing (`fuzz/`, `scripts/fuzz.sh`,
//! `tests/FUZZING.md`).
//!
//! - Every crash the fuzzers find gets a test here, with its reproducer.
//! - The committed seed corpora come from real `llvm-jitlink-22` traffic:
//!   every argument/result seed must decode with the type its selector
//!   names and re-encode to the same bytes, and every frame seed must parse
//!   into whole frames, so the seeds (and the decoders) stay in step.

use std::path::{Path, PathBuf};

use orc_rt::services::perf::RecordBatch;
use orc_rt::simple_remote_epc::frame::read_frame_buffer;
use orc_rt::sps::orc_types::{
    AllocActionCallPair, BufferWrite, ExecutorSymbolDef, FinalizeRequest, PointerWrite,
    RemoteSymbolLookupSetElement, SharedMemoryFinalizeRequest, SimpleRemoteEpcExecutorInfo,
    UIntWrite, WrapperFunctionCall,
};
use orc_rt::sps::{
    deserialize_all, serialize_to_vec, SpsDeserialize, SpsExpected, SpsResult, SpsSerialize,
};
use orc_rt::{ExecutorAddr, ExecutorAddrRange};

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no seeds in {}", dir.display());
    v
}

/// Decodes as `T` and re-encodes; the error names the seed.
fn canonical<T: SpsDeserialize + SpsSerialize>(data: &[u8]) -> Result<(), String> {
    let v = deserialize_all::<T>(data).map_err(|e| e.to_string())?;
    if serialize_to_vec(&v) != data {
        return Err("re-encoding differs".into());
    }
    Ok(())
}

/// The selector table of `fuzz/fuzz_targets/sps_bootstrap_args.rs`, for the
/// selectors `fuzz/gen_seeds.py` emits.
fn check_arg_seed(sel: u8, data: &[u8]) -> Result<(), String> {
    match sel {
        0 => canonical::<(ExecutorAddr, Vec<u8>, u64)>(data),
        1 => canonical::<(ExecutorAddr, Vec<RemoteSymbolLookupSetElement>)>(data),
        2 => canonical::<(ExecutorAddr, u64)>(data),
        3 => canonical::<(ExecutorAddr, FinalizeRequest)>(data),
        4 => canonical::<(ExecutorAddr, Vec<ExecutorAddr>)>(data),
        5 => canonical::<(ExecutorAddr, ExecutorAddr, SharedMemoryFinalizeRequest)>(data),
        6 => canonical::<(ExecutorAddrRange,)>(data),
        7 => canonical::<(ExecutorAddrRange, bool)>(data),
        8 => canonical::<(ExecutorAddr, Vec<Vec<u8>>)>(data),
        9 => canonical::<(ExecutorAddr,)>(data),
        10 => canonical::<(ExecutorAddr, i32)>(data),
        11 => canonical::<(Vec<UIntWrite<u8>>,)>(data),
        12 => canonical::<(Vec<UIntWrite<u16>>,)>(data),
        13 => canonical::<(Vec<UIntWrite<u32>>,)>(data),
        14 => canonical::<(Vec<UIntWrite<u64>>,)>(data),
        15 => canonical::<(Vec<PointerWrite>,)>(data),
        16 => canonical::<(Vec<BufferWrite>,)>(data),
        17 => canonical::<(Vec<ExecutorAddr>,)>(data),
        18 => canonical::<(Vec<ExecutorAddrRange>,)>(data),
        19 => canonical::<(RecordBatch,)>(data),
        21 => canonical::<SpsResult>(data),
        22 => canonical::<SimpleRemoteEpcExecutorInfo>(data),
        23 => canonical::<WrapperFunctionCall>(data),
        24 => canonical::<Vec<AllocActionCallPair>>(data),
        27 => canonical::<SpsExpected<ExecutorAddr>>(data),
        28 => canonical::<SpsExpected<Vec<Option<ExecutorSymbolDef>>>>(data),
        29 => canonical::<SpsExpected<(ExecutorAddr, String)>>(data),
        31 => canonical::<i64>(data),
        other => Err(format!("selector {other} is not emitted by gen_seeds.py")),
    }
}

#[test]
fn real_traffic_argument_seeds_decode_canonically() {
    let mut sels = std::collections::BTreeSet::new();
    for (path, bytes) in seeds("sps_bootstrap_args") {
        let (&sel, data) = bytes.split_first().expect("non-empty seed");
        if let Err(e) = check_arg_seed(sel, data) {
            panic!("{} (selector {sel}): {e}", path.display());
        }
        sels.insert(sel);
    }
    // The captures cover the dylib manager, both memory services, the
    // allocation actions, run_as_main, Setup and the results.
    for want in [0, 1, 2, 3, 4, 5, 6, 7, 8, 21, 22, 23, 24, 27, 28, 29, 31] {
        assert!(sels.contains(&want), "no seed for selector {want}");
    }
}

#[test]
fn real_traffic_frame_seeds_parse_into_whole_frames() {
    let mut frames = 0;
    for (path, bytes) in seeds("frame_parse") {
        // Two control bytes (chunk size, interrupt period), then frames.
        // Hand-made protocol cases may end in a refused or cut frame.
        let mut r = &bytes[2..];
        while let Ok(Some(f)) = read_frame_buffer(&mut r) {
            assert_eq!(
                f.header.size,
                32 + f.payload.as_slice().expect("an in-band payload").len() as u64,
                "{}",
                path.display()
            );
            frames += 1;
        }
    }
    assert!(frames > 100, "only {frames} frames in the seeds");
}

mod overlapping_segments {
    //! message_path, crash-3f7894661a54313f0ce8d17318ab5003b003d0e5:
    //! SEGV in `copy_and_zero_fill`. An initialize request whose first
    //! segment (read-only, size 0x102f, so it covers two pages) shares a
    //! page with the next segment: the first segment's page was protected
    //! read-only before the second segment's content was copied into it.
    //! The request must be refused before any memory is touched.

    use std::sync::Arc;

    use orc_rt::services::memory::SimpleNativeMemoryMap;
    use orc_rt::sps::orc_types::{FinalizeRequest, RemoteAllocGroup, SegFinalizeRequest};
    use orc_rt::sps::{deserialize_all, serialize_to_vec, SpsExpected};
    use orc_rt::sps_ci::memory;
    use orc_rt::wrapper_function::sync_abi::call_sync;
    use orc_rt::ExecutorAddr;

    fn seg(rag: u8, addr: u64, size: u64, content: &[u8]) -> SegFinalizeRequest {
        SegFinalizeRequest {
            rag: RemoteAllocGroup::from_bits(rag).unwrap(),
            addr: ExecutorAddr(addr),
            size,
            content: content.to_vec(),
        }
    }

    /// Sends the request through the SPS wrapper, as the controller does.
    fn initialize(m: &Arc<SimpleNativeMemoryMap>, segments: Vec<SegFinalizeRequest>) -> String {
        let inst = memory::INSTANCES.register(m);
        let req = FinalizeRequest {
            segments,
            actions: vec![],
        };
        let args = serialize_to_vec(&(inst, req));
        // SAFETY: initialize_wrapper has the synchronous wrapper ABI.
        let out = unsafe { call_sync(memory::initialize_wrapper, &args) };
        let bytes = out.as_slice().expect("in-band result");
        match deserialize_all::<SpsExpected<ExecutorAddr>>(bytes)
            .unwrap()
            .0
        {
            Ok(a) => panic!("overlapping request accepted at {a:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn read_only_segment_then_writable_segment_on_its_last_page() {
        let m = Arc::new(SimpleNativeMemoryMap::new());
        let base = m.reserve(0x4000).unwrap().0;
        let page = 0x1000;
        let e = initialize(
            &m,
            vec![
                seg(0x1, base, page + 0x2f, &[0xaa; 132]),
                seg(0x3, base + page, page, &[0xbb; 72]),
                seg(0x5, base + 2 * page, page, &[0xcc; 62]),
            ],
        );
        assert!(e.contains("overlaps"), "{e}");
        // Nothing was written or protected: the memory is still usable.
        let again = FinalizeRequest {
            segments: vec![seg(0x3, base, 2 * page, &[1; 16])],
            actions: vec![],
        };
        // SAFETY: no actions.
        assert_eq!(unsafe { m.initialize(again) }.unwrap(), ExecutorAddr(base));
    }

    #[test]
    fn same_page_twice_in_either_order() {
        let m = Arc::new(SimpleNativeMemoryMap::new());
        let base = m.reserve(0x4000).unwrap().0;
        for (a, b) in [(0x3, 0x1), (0x1, 0x3)] {
            let e = initialize(&m, vec![seg(a, base, 0x10, b"x"), seg(b, base, 0x10, b"y")]);
            assert!(e.contains("overlaps"), "{e}");
        }
        // Disjoint pages and empty segments are fine.
        let ok = FinalizeRequest {
            segments: vec![
                seg(0x1, base, 0x1000, b"r"),
                seg(0x3, base + 0x1000, 0, b""),
                seg(0x3, base + 0x1000, 0x1000, b"w"),
            ],
            actions: vec![],
        };
        // SAFETY: no actions.
        assert_eq!(unsafe { m.initialize(ok) }.unwrap(), ExecutorAddr(base));
    }
}
