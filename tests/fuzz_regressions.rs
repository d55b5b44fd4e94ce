//! Regression tests from fuzzing (`fuzz/`, `scripts/fuzz.sh`,
//! `tests/FUZZING.md`).
//!
//! - Every crash the fuzzers find gets a test here, with its reproducer.
//! - The committed seed corpora come from real `llvm-jitlink-22` traffic:
//!   every argument/result seed must decode with the type its selector
//!   names and re-encode to the same bytes, and every frame seed must parse
//!   into whole frames, so the seeds (and the decoders) stay in step.

use std::path::{Path, PathBuf};

use orc_rt::perf::RecordBatch;
use orc_rt::simple_remote_epc::frame::read_frame;
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
        while let Ok(Some(f)) = read_frame(&mut r) {
            assert_eq!(
                f.header.size,
                32 + f.payload.len() as u64,
                "{}",
                path.display()
            );
            frames += 1;
        }
    }
    assert!(frames > 100, "only {frames} frames in the seeds");
}
