//! SPS encode/decode throughput for typical bootstrap argument types.
//!
//! Run with `cargo bench --bench sps_bench [-- <iterations>]`. The same
//! values are measured on LLVM 22's C++ implementation by
//! `sps_diff bench <iterations>` (tests/sps_diff/sps_diff.cpp; build it with
//! `-O2` and the flags of `llvm-config-22 --cxxflags --ldflags --libs
//! orcshared support`).

use std::hint::black_box;
use std::time::Instant;

use orc_rt::sps::orc_types::{
    jit_symbol_flags, AllocActionCallPair, ExecutorSymbolDef, FinalizeRequest, RemoteAllocGroup,
    RemoteSymbolLookupSetElement, SegFinalizeRequest, WrapperFunctionCall,
};
use orc_rt::sps::{deserialize_all, SpsDeserialize, SpsExpected, SpsSerialize};
use orc_rt::wrapper_function::serialize_to_buffer;
use orc_rt::ExecutorAddr;

/// Best (lowest) time per operation over 5 rounds, in seconds; the best
/// round is the least disturbed by other processes.
fn best_of(iters: usize, mut f: impl FnMut()) -> f64 {
    let per_round = (iters / 5).max(1);
    (0..5)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..per_round {
                f();
            }
            t0.elapsed().as_secs_f64() / per_round as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn bench<T: SpsSerialize + SpsDeserialize>(name: &str, v: &T, iters: usize) {
    let enc = serialize_to_buffer(v);
    let bytes = enc.as_slice().expect("encoded").to_vec();
    let te = best_of(iters, || {
        black_box(serialize_to_buffer(black_box(v)));
    });
    let td = best_of(iters, || {
        let d: T = deserialize_all(black_box(&bytes)).expect("decodes");
        black_box(d);
    });
    let n = bytes.len() as f64;
    println!(
        "{name} bytes={} encode_ns={:.1} decode_ns={:.1} encode_MBps={:.1} decode_MBps={:.1}",
        bytes.len(),
        te * 1e9,
        td * 1e9,
        n / te / 1e6,
        n / td / 1e6
    );
}

fn main() {
    let iters: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);

    let code: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    let data = vec![0u8; 1024];
    let range_args = vec![1u8; 16];
    let wfc = |a: u64| WrapperFunctionCall {
        fn_addr: ExecutorAddr(a),
        args: range_args.clone(),
    };
    let fr = FinalizeRequest {
        segments: (0..3u64)
            .map(|i| SegFinalizeRequest {
                rag: RemoteAllocGroup::new(true, false, true, false),
                addr: ExecutorAddr(0x7f00_0000_0000 + i * 0x1000),
                size: 0x1000,
                content: if i == 2 { data.clone() } else { code.clone() },
            })
            .collect(),
        actions: (0..2)
            .map(|_| AllocActionCallPair {
                finalize: wfc(0x56_0000_1000),
                dealloc: wfc(0x56_0000_2000),
            })
            .collect(),
    };
    bench(
        "finalize_request_3seg",
        &(ExecutorAddr(0x56_0000_0000), fr),
        iters,
    );

    let syms: Vec<_> = (0..64)
        .map(|i| RemoteSymbolLookupSetElement {
            name: format!("symbol_name_{i}"),
            required: i % 2 == 0,
        })
        .collect();
    bench("lookup_set_64", &(ExecutorAddr(0x1234), syms), iters);

    let lr = SpsExpected::ok(
        (0..64u64)
            .map(|i| {
                Some(ExecutorSymbolDef {
                    addr: ExecutorAddr(0x7f00_0000_0000 + i),
                    flags: jit_symbol_flags::EXPORTED,
                    target_flags: 0,
                })
            })
            .collect::<Vec<_>>(),
    );
    bench("lookup_result_64", &lr, iters);

    bench("bytes_1MiB", &vec![b'x'; 1 << 20], (iters / 1000).max(10));
}
