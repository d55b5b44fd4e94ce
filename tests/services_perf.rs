//! Perf JIT support: the functions resolve through the dylib manager's
//! process handle, and Start/Impl/End write a well-formed jitdump.

mod common;

use common::*;
use orc_rt::services::perf::{
    CodeLoadRecord, DebugEntry, DebugInfoRecord, RecordBatch, RecordPrefix,
};
use orc_rt::sps::orc_types::{ExecutorSymbolDef, RemoteSymbolLookupSetElement};
use orc_rt::sps::{SpsExpected, SpsResult};
use orc_rt::sps_ci::bootstrap::BootstrapServices;
use orc_rt::sps_ci::{dylib, perf};
use orc_rt::ExecutorAddr;

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_ne_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_ne_bytes(b[o..o + 8].try_into().unwrap())
}

#[test]
fn perf_functions_resolve_and_write_a_jitdump() {
    let dir = std::env::temp_dir().join(format!("orc-rt-perf-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::env::set_var("JITDUMPDIR", &dir);

    // The controller finds the functions through open("") + resolve.
    let s = BootstrapServices::create();
    let inst = s
        .symbols()
        .into_iter()
        .find(|s| s.name == dylib::INSTANCE_NAME)
        .unwrap()
        .addr;
    let h: SpsExpected<ExecutorAddr> = call(dylib::open_wrapper, &(inst, "", 0u64));
    let h = h.0.unwrap();
    let names = [perf::START_NAME, perf::END_NAME, perf::IMPL_NAME];
    let req: Vec<_> = names
        .iter()
        .map(|n| RemoteSymbolLookupSetElement {
            name: n.to_string(),
            required: false,
        })
        .collect();
    let r: SpsExpected<Vec<Option<ExecutorSymbolDef>>> = call(dylib::resolve_wrapper, &(h, req));
    let addrs: Vec<u64> = r.0.unwrap().iter().map(|d| d.unwrap().addr.0).collect();
    assert_eq!(
        addrs,
        [
            fn_addr(perf::perf_start).0,
            fn_addr(perf::perf_end).0,
            fn_addr(perf::perf_impl).0
        ]
    );

    let code = RET42.to_vec();
    let code_addr = code.as_ptr() as u64;
    let batch = RecordBatch {
        code_load_records: vec![CodeLoadRecord {
            prefix: RecordPrefix {
                id: 0,
                total_size: 56 + 5 + RET42.len() as u32,
            },
            pid: 0,
            tid: 0,
            vma: code_addr,
            code_addr,
            code_size: RET42.len() as u64,
            code_index: 1,
            name: b"ret42".to_vec(),
        }],
        debug_info_records: vec![DebugInfoRecord {
            prefix: RecordPrefix {
                id: 2,
                total_size: 32 + 16 + 4,
            },
            code_addr,
            entries: vec![DebugEntry {
                addr: code_addr,
                lineno: 7,
                discrim: 0,
                name: b"a.c".to_vec(),
            }],
        }],
        unwinding_record: Default::default(),
    };

    // Impl before Start is an error.
    let r: SpsResult = call(perf::perf_impl, &(&batch,));
    assert_eq!(r, Err("PerfState not initialized".to_string()));

    let r: SpsResult = call(perf::perf_start, &());
    assert_eq!(r, Ok(()));
    let r: SpsResult = call(perf::perf_impl, &(&batch,));
    assert_eq!(r, Ok(()));
    // A bogus code address fails cleanly.
    let mut bad = batch.clone();
    bad.code_load_records[0].code_addr = 0x10;
    let r: SpsResult = call(perf::perf_impl, &(&bad,));
    assert!(r.unwrap_err().contains("could not read JIT'd code"));
    let r: SpsResult = call(perf::perf_end, &());
    assert_eq!(r, Ok(()));

    // Find and parse the dump.
    let jit = dir.join(".debug").join("jit");
    let sub = std::fs::read_dir(&jit)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let dump = sub.join(format!("jit-{}.dump", std::process::id()));
    let b = std::fs::read(&dump).unwrap();
    assert_eq!(u32_at(&b, 0), 0x4a69_5444, "magic JiTD");
    assert_eq!(u32_at(&b, 4), 1);
    assert_eq!(u32_at(&b, 8), 40);
    // e_machine of the running executable: EM_X86_64 or EM_AARCH64.
    let em = if cfg!(target_arch = "aarch64") {
        183
    } else {
        62
    };
    assert_eq!(u32_at(&b, 12), em, "e_machine");
    assert_eq!(u32_at(&b, 20), std::process::id());
    // Debug info record.
    let mut o = 40;
    assert_eq!(u32_at(&b, o), 2);
    assert_eq!(u64_at(&b, o + 16), code_addr);
    assert_eq!(u64_at(&b, o + 24), 1);
    assert_eq!(u32_at(&b, o + 40), 7);
    assert_eq!(&b[o + 48..o + 52], b"a.c\0");
    o += 52;
    // Code load record with the code bytes.
    assert_eq!(u32_at(&b, o), 0);
    assert_eq!(u32_at(&b, o + 16), std::process::id());
    assert_eq!(u64_at(&b, o + 24), code_addr);
    assert_eq!(u64_at(&b, o + 40), RET42.len() as u64);
    assert_eq!(&b[o + 56..o + 62], b"ret42\0");
    assert_eq!(&b[o + 62..o + 62 + RET42.len()], &RET42);
    o += 62 + RET42.len();
    // Close record, and nothing else (the failed batch wrote nothing).
    assert_eq!(u32_at(&b, o), 3);
    assert_eq!(b.len(), o + 16);
    let _ = std::fs::remove_dir_all(&dir);
    drop(code);
}
